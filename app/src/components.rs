//! Pieces shared by the pages: the signed-in user as a resource, the header, error notes.

use crate::api::{self, ApiFailure};
use crate::model::Me;
use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use std::future::Future;

/// Who is signed in, loaded once per page load and refetched after sign-in and sign-out.
pub type MeResource = Resource<Result<Option<Me>, ApiFailure>>;

pub fn provide_me() -> MeResource {
    let me: MeResource = Resource::new(|| (), |_| sendable(api::load_me()));
    provide_context(me);
    me
}

pub fn use_me() -> MeResource {
    expect_context::<MeResource>()
}

/// Resources need `Send` futures; browser futures (gloo-net) are single-threaded, and the
/// browser has one thread, so they are wrapped.
#[cfg(not(feature = "ssr"))]
pub fn sendable<F: Future + 'static>(f: F) -> impl Future<Output = F::Output> + Send + 'static {
    send_wrapper::SendWrapper::new(f)
}

#[cfg(feature = "ssr")]
pub fn sendable<F: Future + Send + 'static>(
    f: F,
) -> impl Future<Output = F::Output> + Send + 'static {
    f
}

/// Runs `f` in a task of its own after the current one, under the current reactive owner.
/// For the work hydration does not need to finish first (the socket, the outbox, the service
/// worker, the page-load report): each piece runs, and has its WebAssembly compiled (browsers
/// compile a function when it first runs), in a task of its own instead of lengthening the
/// hydration task, so the browser can paint and answer input between them. On the server
/// it does nothing: such work belongs to the browser.
pub fn in_own_task(f: impl FnOnce() + 'static) {
    #[cfg(not(feature = "ssr"))]
    {
        let owner = Owner::current();
        let _ = set_timeout(
            move || match owner {
                Some(owner) => owner.with(f),
                None => f(),
            },
            std::time::Duration::ZERO,
        );
    }
    #[cfg(feature = "ssr")]
    drop(f);
}

/// `<Show>` for the parts of a view that a `Suspend` replaces (the budget's body, on another
/// month): Leptos 0.9's `<Show>` turns its condition into a signal of the view's owner and may
/// still read it after a new month's body took that owner away (a panic). Here the condition
/// is a reference-counted memo the view holds itself; like `<Show>`, the view is rebuilt only
/// when the condition changes.
pub fn show_if<V, F>(
    when: impl Fn() -> bool + Send + Sync + 'static,
    then: impl Fn() -> V + Send + Sync + 'static,
    otherwise: impl Fn() -> F + Send + Sync + 'static,
) -> impl IntoView
where
    V: IntoView + 'static,
    F: IntoView + 'static,
{
    let when = ArcMemo::new(move |_| when());
    move || {
        if when.get() {
            Either::Left(then())
        } else {
            Either::Right(otherwise())
        }
    }
}

/// Content below the fold whose hydration can wait one task. The server renders it inside a
/// `<div class="deferred">` (`display: contents`, so the wrapper does not change the layout);
/// while the page hydrates, the browser takes over only that wrapper and leaves the server's
/// copy on screen, then, in a task of its own (`in_own_task`), builds the live content and
/// swaps it in within that same task, so nothing flickers or moves. Hydration work (and the
/// compiling of the WebAssembly it runs for the first time) is thus split into shorter tasks,
/// and the browser can paint and answer input between them. After hydration (client-side
/// navigation, the Trunk build) the content is built at once, as anywhere else.
#[component]
pub fn Deferred(children: ChildrenFn) -> impl IntoView {
    #[cfg(not(feature = "ssr"))]
    {
        let hydrating = Owner::current_shared_context().is_some_and(|sc| sc.during_hydration());
        if hydrating {
            return later(children);
        }
    }
    view! { <div class="deferred">{children()}</div> }.into_any()
}

/// The browser's side of `Deferred` while hydrating: an empty wrapper now, the content a task
/// later.
#[cfg(not(feature = "ssr"))]
fn later(children: ChildrenFn) -> AnyView {
    use std::cell::RefCell;
    use std::rc::Rc;

    let slot = NodeRef::<leptos::html::Div>::new();
    let mounted = Rc::new(RefCell::new(None));
    let keep = mounted.clone();
    in_own_task(move || {
        // Gone already (the page moved on before this task ran): nothing to do.
        let Some(Some(wrapper)) = slot.try_get_untracked() else {
            return;
        };
        let mut state = children().build();
        wrapper.set_inner_html("");
        state.mount(&wrapper, None);
        *keep.borrow_mut() = Some(state);
    });
    let mounted = send_wrapper::SendWrapper::new(mounted);
    on_cleanup(move || {
        if let Some(mut state) = mounted.borrow_mut().take() {
            state.unmount();
        }
    });
    view! { <div class="deferred" node_ref=slot></div> }.into_any()
}

#[component]
pub fn Header(me: MeResource) -> impl IntoView {
    let navigate = use_navigate();
    let signing_out = RwSignal::new(false);
    let sign_out = move |_| {
        let navigate = navigate.clone();
        signing_out.set(true);
        spawn_local(async move {
            // Signing out locally even when the network is gone would leave the cookie alive on
            // the server, so the failure is shown instead.
            match api::logout().await {
                Ok(()) => {
                    // Nothing of this user stays in the browser after sign-out.
                    #[cfg(not(feature = "ssr"))]
                    if let Err(e) = crate::idb::clear().await {
                        leptos::logging::warn!("hearth: outbox not cleared: {e:?}");
                    }
                    crate::pwa::forget_user().await;
                    me.refetch();
                    navigate("/login", Default::default());
                }
                Err(e) => leptos::logging::warn!("sign out failed: {e}"),
            }
            signing_out.set(false);
        });
    };
    view! {
        <header class="topbar">
            <a class="skip" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">
                // The logo as the site's own SVG: an emoji shows as an empty box where no
                // emoji font is installed.
                <img class="logo" src="/favicon.svg" alt="" width="22" height="22" />
                " Hearth"
            </A>
            <Transition fallback=|| ()>
                {move || {
                    let sign_out = sign_out.clone();
                    Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => {
                            let family_label = me
                                .family
                                .as_ref()
                                .map(|f| f.name.clone())
                                .unwrap_or_else(|| "Family".into());
                            view! {
                                <nav aria-label="Main">
                                    <A href="/budget">"Budget"</A>
                                    <A href="/family">{family_label}</A>
                                    {me.user.is_admin.then(|| view! { <A href="/admin/performance">"Performance"</A> })}
                                    <span class="who">{me.user.display_name.clone()}</span>
                                    <button
                                        class="link"
                                        type="button"
                                        on:click=sign_out.clone()
                                        disabled=move || signing_out.get()
                                    >
                                        "Sign out"
                                    </button>
                                </nav>
                            }
                                .into_any()
                        }
                        _ => {
                            view! {
                                <nav aria-label="Main">
                                    <A href="/login">"Sign in"</A>
                                    <A href="/register">"Create account"</A>
                                </nav>
                            }
                                .into_any()
                        }
                    }
                })
                }}
            </Transition>
        </header>
    }
}

/// A form's error line, announced to screen readers.
#[component]
pub fn ErrorNote(error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <p class="error" role="alert" aria-live="polite">
            {move || error.get()}
        </p>
    }
}

/// Sends a form's request from the browser: marks it pending, then runs `done` with the
/// answer or shows the error; the pending mark is cleared either way.
/// Runs `pass` in a task unless one is under way (`state`: under way, asked again); a call
/// meanwhile makes the one under way run once more when it ends, so nothing asked is missed
/// and two passes never overlap.
pub fn one_at_a_time<F: Future<Output = ()> + 'static>(
    state: StoredValue<(bool, bool)>,
    pass: impl Fn() -> F + 'static,
) {
    let (busy, _) = state.get_value();
    if busy {
        state.set_value((true, true));
        return;
    }
    state.set_value((true, false));
    spawn_local(async move {
        loop {
            pass().await;
            let (_, again) = state.try_get_value().unwrap_or((false, false));
            if !again {
                break;
            }
            state.set_value((true, false));
        }
        let _ = state.try_set_value((false, false));
    });
}

pub fn submit<T: 'static>(
    pending: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    request: impl Future<Output = api::ApiResult<T>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    pending.set(true);
    error.set(None);
    spawn_local(async move {
        match request.await {
            Ok(value) => done(value),
            Err(e) => error.set(Some(e.message())),
        }
        pending.set(false);
    });
}
