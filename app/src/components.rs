//! Pieces shared by the pages: the signed-in user as a resource, the header, error notes.

use crate::api::{self, ApiFailure};
use crate::model::Me;
use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::LazyViewError;
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

/// A part of a page from a chunk (`load`), for the parts the page's first task need not
/// hydrate (on `/budget`, all but the form). The server renders it inside a
/// `<div class="deferred">` (`display: contents`, so the wrapper does not change the layout).
/// While the page hydrates, the browser takes over only that wrapper and leaves the server's
/// copy on screen; once the chunk is there, in a task of its own, it builds the live part and
/// swaps it in within that same task, so nothing flickers or moves. The first load thus needs
/// no code of the part, and its hydration (with the compiling of the WebAssembly it runs for
/// the first time) is split into shorter tasks, the browser painting and answering input
/// between them. After hydration (client-side navigation, the Trunk build) the part shows
/// once its chunk is there, as `part_or` does anywhere else.
pub fn deferred_part(
    load: impl Future<Output = Result<AnyView, LazyViewError>> + Send + 'static,
) -> AnyView {
    #[cfg(not(feature = "ssr"))]
    {
        let hydrating = Owner::current_shared_context().is_some_and(|sc| sc.during_hydration());
        if hydrating {
            return swap_in_when_loaded(load);
        }
    }
    view! { <div class="deferred">{part_or(load, || ().into_any())}</div> }.into_any()
}

/// The browser's side of `deferred_part` while hydrating: an empty wrapper now (the server's
/// copy stays in it), the live part once its chunk is there.
#[cfg(not(feature = "ssr"))]
fn swap_in_when_loaded(
    load: impl Future<Output = Result<AnyView, LazyViewError>> + 'static,
) -> AnyView {
    use leptos::reactive::computed::ScopedFuture;
    use std::cell::RefCell;
    use std::rc::Rc;

    let slot = NodeRef::<leptos::html::Div>::new();
    let mounted = Rc::new(RefCell::new(None));
    let keep = mounted.clone();
    let owner = Owner::current();
    let pending = Swapping::begin();
    // The part's components run under the page's owner (they read its context).
    spawn_local(ScopedFuture::new_untracked(async move {
        let _pending = pending;
        let part = load.await.unwrap_or_else(not_loaded);
        // A task of its own even when the chunk was there already (a build without chunks).
        gloo_timers::future::TimeoutFuture::new(0).await;
        // Gone already (the page moved on before the chunk came): nothing to do.
        let Some(Some(wrapper)) = slot.try_get_untracked() else {
            return;
        };
        let swap = move || {
            let mut state = part.build();
            wrapper.set_inner_html("");
            state.mount(&wrapper, None);
            state
        };
        let state = match owner {
            Some(owner) => owner.with(swap),
            None => swap(),
        };
        *keep.borrow_mut() = Some(state);
    }));
    let mounted = send_wrapper::SendWrapper::new(mounted);
    on_cleanup(move || {
        if let Some(mut state) = mounted.borrow_mut().take() {
            state.unmount();
        }
    });
    view! { <div class="deferred" node_ref=slot></div> }.into_any()
}

/// How many parts `deferred_part` is swapping in, and what runs once none is left.
#[cfg(not(feature = "ssr"))]
type SwapsLeft = (usize, Vec<Box<dyn FnOnce()>>);

#[cfg(not(feature = "ssr"))]
thread_local! {
    static SWAPPING: std::cell::RefCell<SwapsLeft> = const { std::cell::RefCell::new((0, Vec::new())) };
}

/// One part being swapped in, until dropped (swapped in, failed, or its page gone).
#[cfg(not(feature = "ssr"))]
struct Swapping;

#[cfg(not(feature = "ssr"))]
impl Swapping {
    fn begin() -> Self {
        SWAPPING.with(|s| s.borrow_mut().0 += 1);
        Swapping
    }
}

#[cfg(not(feature = "ssr"))]
impl Drop for Swapping {
    fn drop(&mut self) {
        let waiting = SWAPPING.with(|s| {
            let mut s = s.borrow_mut();
            s.0 -= 1;
            if s.0 == 0 {
                std::mem::take(&mut s.1)
            } else {
                Vec::new()
            }
        });
        waiting.into_iter().for_each(|f| f());
    }
}

/// Runs `f` once every part hydration left to its chunk (`deferred_part`) is swapped in: at
/// once when none is pending. The page is marked hydrated then, so a click on any part
/// reaches the live copy.
#[cfg(not(feature = "ssr"))]
pub fn when_parts_in(f: impl FnOnce() + 'static) {
    let now = SWAPPING.with(|s| {
        let mut s = s.borrow_mut();
        if s.0 == 0 {
            return Some(f);
        }
        s.1.push(Box::new(f));
        None
    });
    if let Some(f) = now {
        f();
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

/// What a part is when its chunk did not arrive.
pub fn not_loaded(error: LazyViewError) -> AnyView {
    leptos::logging::warn!("a part of the app could not be loaded: {error}");
    view! {
        <section class="card" role="alert" data-testid="chunk-error">
            <p>"This part of Hearth could not be loaded. Check the connection, then try again."</p>
            <button type="button" on:click=|_| reload()>"Try again"</button>
        </section>
    }
    .into_any()
}

/// Loads the page again (with its chunks).
fn reload() {
    #[cfg(not(feature = "ssr"))]
    let _ = window().location().reload();
}

/// A part from its chunk, `loading` until it is there.
pub fn part_or(
    load: impl std::future::Future<Output = Result<AnyView, LazyViewError>> + Send + 'static,
    loading: fn() -> AnyView,
) -> impl IntoView {
    view! {
        <Suspense fallback=loading>
            {Suspend::new(async move { load.await.unwrap_or_else(not_loaded) })}
        </Suspense>
    }
}

/// Starts `part` in a task of its own under the current owner; a chunk that did not arrive is
/// logged (the page works without it).
#[cfg(not(feature = "ssr"))]
pub fn start_part(
    name: &'static str,
    part: impl std::future::Future<Output = Result<(), LazyViewError>> + 'static,
) {
    leptos::task::spawn_local(async move {
        if let Err(error) = part.await {
            leptos::logging::warn!("{name} could not be loaded: {error}");
        }
    });
}
