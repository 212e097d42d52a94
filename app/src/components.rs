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

/// Yields to the browser: what follows runs in a task of its own, after what is queued (at
/// once on the server). The parts' loaders start with it, so that when their chunk arrives
/// each part's setup runs in a task of its own rather than all of them in the one task that
/// wakes every loader waiting for the chunk.
pub async fn next_task() {
    #[cfg(not(feature = "ssr"))]
    sendable(gloo_timers::future::TimeoutFuture::new(0)).await;
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
/// hydrate (on `/budget`, the sections; `later` is the same for the main module's parts). The
/// server renders it inside a `<div class="deferred">` (`display: contents`, so the wrapper
/// does not change the layout).
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
    deferred(Box::pin(load), None)
}

/// A part from a chunk whose data the browser loads (on `/budget`, the family panel and the
/// challenges): the server renders `placeholder` in its place, and the page, hydrating, takes
/// over only the wrapper; the part replaces the placeholder once its chunk is there, in a task
/// of its own, as `deferred_part` does. After hydration it is `part_or` with that placeholder.
pub fn placeholder_part(
    load: impl Future<Output = Result<AnyView, LazyViewError>> + Send + 'static,
    placeholder: fn() -> AnyView,
) -> AnyView {
    deferred(Box::pin(load), Some(placeholder))
}

/// A part's loading, boxed: every deferred part shares one copy of the code that swaps it in
/// (each type of future would otherwise have its own, in the main module).
type PartLoad = std::pin::Pin<Box<dyn Future<Output = Result<AnyView, LazyViewError>> + Send>>;

fn deferred(load: PartLoad, placeholder: Option<fn() -> AnyView>) -> AnyView {
    #[cfg(not(feature = "ssr"))]
    {
        if let Some(sc) = Owner::current_shared_context().filter(|sc| sc.during_hydration()) {
            // Without a placeholder, the server's `<Suspense>` (`part_or`) took the next
            // serialized-data id here; taking it too keeps the ids of the resources that
            // follow (the budget's data after the header's part) the ones the server gave them.
            if placeholder.is_none() {
                let _ = Owner::next_serialized_data_id(&*sc);
            }
            return swap_in_when_loaded(load);
        }
    }
    #[cfg(feature = "ssr")]
    if let Some(placeholder) = placeholder {
        drop(load);
        return view! { <div class="deferred">{placeholder()}</div> }.into_any();
    }
    let loading = placeholder.unwrap_or(|| ().into_any());
    view! { <div class="deferred">{part_or(load, loading)}</div> }.into_any()
}

/// Whether the browser is hydrating the server's page (never on the server).
pub fn hydrating() -> bool {
    #[cfg(not(feature = "ssr"))]
    return Owner::current_shared_context().is_some_and(|sc| sc.during_hydration());
    #[cfg(feature = "ssr")]
    false
}

/// A part of the main module's own that the page's first task need not hydrate (the budget's
/// form, the header): `deferred_part` without a chunk. The server's copy stays on
/// screen until the live copy, built in a task of its own, takes over (with anything typed
/// into it meanwhile).
pub fn later(part: impl FnOnce() -> AnyView + Send + 'static) -> AnyView {
    deferred(Box::pin(async move { Ok(part()) }), None)
}

/// The browser's side of `deferred_part` while hydrating: an empty wrapper now (the server's
/// copy stays in it), the live part once its chunk is there.
#[cfg(not(feature = "ssr"))]
fn swap_in_when_loaded(load: PartLoad) -> AnyView {
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
        // Fetching a chunk starts in a task after hydration's (a chunk's loader fetches the
        // shared files it needs at once: tens of requests started).
        next_task().await;
        let part = load.await.unwrap_or_else(not_loaded);
        // A task of its own even when the chunk was there already (a build without chunks).
        next_task().await;
        // Gone already (the page moved on before the chunk came): nothing to do.
        let Some(Some(wrapper)) = slot.try_get_untracked() else {
            return;
        };
        let swap = move || {
            // What someone typed into the server's copy, and where the caret was, carry over.
            let typed = Typed::read(&wrapper);
            let mut state = part.build();
            wrapper.set_inner_html("");
            state.mount(&wrapper, None);
            typed.restore(&wrapper);
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

/// The fields of a part's server copy (each by its name and which of that name it is: its
/// value), and the focused one with its selection: read before the live copy replaces it,
/// written into the live copy after, so nothing typed before the swap is lost and the caret
/// stays where it was. (A file chosen cannot be carried over: file fields are left out.)
#[cfg(not(feature = "ssr"))]
struct Typed {
    fields: Vec<(FieldKey, String)>,
    focused: Option<(FieldKey, Option<(u32, u32)>)>,
}

/// A field's name, and which field of that name it is in its part (0 for the first).
#[cfg(not(feature = "ssr"))]
type FieldKey = (String, usize);

#[cfg(not(feature = "ssr"))]
impl Typed {
    fn read(wrapper: &web_sys::Element) -> Self {
        use wasm_bindgen::JsCast;
        let named = named_fields(wrapper);
        let fields = named
            .iter()
            .filter_map(|(key, el)| Some((key.clone(), js_string(el, "value")?)))
            .collect();
        let focused = document()
            .active_element()
            .and_then(|active| named.into_iter().find(|(_, el)| *el == active))
            .map(|(key, el)| {
                let selection = el.dyn_ref::<web_sys::HtmlInputElement>().and_then(|input| {
                    Some((input.selection_start().ok()??, input.selection_end().ok()??))
                });
                (key, selection)
            });
        Typed { fields, focused }
    }

    /// Gives each field of the live copy its typed value (announced with `input` and
    /// `change`, as typing does, so the page's signals follow), then the focus back.
    fn restore(self, wrapper: &web_sys::Element) {
        use wasm_bindgen::JsCast;
        let live = named_fields(wrapper);
        for (key, value) in self.fields {
            let Some((_, el)) = live.iter().find(|(k, _)| *k == key) else {
                continue;
            };
            if js_string(el, "value").as_deref() == Some(value.as_str()) {
                continue;
            }
            let _ = js_sys::Reflect::set(el, &"value".into(), &value.into());
            for kind in ["input", "change"] {
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                if let Ok(event) = web_sys::Event::new_with_event_init_dict(kind, &init) {
                    let _ = el.dispatch_event(&event);
                }
            }
        }
        let Some((key, selection)) = self.focused else {
            return;
        };
        let Some((_, el)) = live.iter().find(|(k, _)| *k == key) else {
            return;
        };
        if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
        let Some(((start, end), input)) =
            selection.zip(el.clone().dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let _ = input.set_selection_range(start, end);
        // Again once the page's signals have written the typed values back into the fields
        // (which puts the caret at the end), unless someone typed meanwhile.
        let value = input.value();
        let _ = set_timeout(
            move || {
                if input.value() == value && document().active_element().as_ref() == Some(&input) {
                    let _ = input.set_selection_range(start, end);
                }
            },
            std::time::Duration::ZERO,
        );
    }
}

/// The named form fields inside `root` but file fields, in document order, each with its key.
#[cfg(not(feature = "ssr"))]
fn named_fields(root: &web_sys::Element) -> Vec<(FieldKey, web_sys::Element)> {
    use wasm_bindgen::JsCast;
    let selector = "input[name]:not([type=file]), select[name], textarea[name]";
    let Ok(list) = root.query_selector_all(selector) else {
        return Vec::new();
    };
    let mut seen: Vec<String> = Vec::new();
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
        .filter_map(|el| {
            let name = el.get_attribute("name")?;
            let nth = seen.iter().filter(|n| **n == name).count();
            seen.push(name.clone());
            Some(((name, nth), el))
        })
        .collect()
}

/// A string property of a DOM object.
#[cfg(not(feature = "ssr"))]
fn js_string(el: &web_sys::Element, property: &str) -> Option<String> {
    js_sys::Reflect::get(el, &property.into()).ok()?.as_string()
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
