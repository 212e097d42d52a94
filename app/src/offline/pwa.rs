//! The installable app in the page: registers the service worker (`/sw.js`), offers "a new
//! version is ready — reload" when a deploy installed a waiting worker (the click lets it take
//! over and reloads), offers "Install Hearth" where the browser fires `beforeinstallprompt`,
//! asks for a Background Sync of the outbox, and forgets the user's cached pages and answers
//! on sign-out.

use leptos::prelude::*;

/// The update offer and the install button, shown where they apply.
#[component]
pub fn PwaBar() -> impl IntoView {
    let update_ready = RwSignal::new(false);
    let installable = RwSignal::new(false);
    // After hydration, once, in a task of its own (nothing on the server).
    #[cfg(not(feature = "ssr"))]
    crate::components::in_own_task(move || start_pwa(update_ready, installable));
    let reload = move |_| {
        #[cfg(not(feature = "ssr"))]
        ask(Ask::Update);
    };
    let install = move |_| {
        #[cfg(not(feature = "ssr"))]
        ask(Ask::Install(installable));
    };
    view! {
        <Show when=move || update_ready.get()>
            <div class="pwa-bar" role="status" data-testid="update-ready">
                <span>"A new version of Hearth is ready."</span>
                <button type="button" on:click=reload>"Reload"</button>
            </div>
        </Show>
        <Show when=move || installable.get()>
            <div class="pwa-bar install">
                <button
                    type="button"
                    data-testid="install-button"
                    title="Use Hearth like an app, from your home screen"
                    on:click=install
                >
                    "Install Hearth"
                </button>
            </div>
        </Show>
    }
    .into_any()
}

/// Asks the service worker to send the outbox when the network is back (Background Sync),
/// where the browser has it; the page drains it too, and the client ids make either safe.
pub fn request_sync() {
    #[cfg(not(feature = "ssr"))]
    ask(Ask::Sync);
}

/// Forgets what this browser keeps of the user (on sign-out): the outbox, the cached pages
/// and API answers.
pub async fn forget_user() {
    #[cfg(not(feature = "ssr"))]
    if let Err(error) = in_chunk(Ask::ForgetUser).await {
        leptos::logging::warn!("the installable app could not be loaded: {error}");
    }
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use js_sys::{Function, Reflect};
    use leptos::prelude::*;
    use std::cell::RefCell;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

    thread_local! {
        static INSTALL_EVENT: RefCell<Option<JsValue>> = const { RefCell::new(None) };
        static REGISTRATION: RefCell<Option<ServiceWorkerRegistration>> = const { RefCell::new(None) };
        /// Set by "Reload": only then does a new controller reload the page (the first
        /// worker also takes control, by `clients.claim()`, and must not reload anything).
        static UPDATING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn has_workers() -> bool {
        Reflect::has(&window().navigator(), &"serviceWorker".into()).unwrap_or(false)
    }

    pub fn start(update_ready: RwSignal<bool>, installable: RwSignal<bool>) {
        let on_prompt = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
            // Kept for the button instead of the browser's own banner.
            event.prevent_default();
            INSTALL_EVENT.with(|e| *e.borrow_mut() = Some(event.into()));
            installable.set(true);
        });
        let _ = window().add_event_listener_with_callback(
            "beforeinstallprompt",
            on_prompt.as_ref().unchecked_ref(),
        );
        on_prompt.forget();
        let on_installed = Closure::<dyn Fn()>::new(move || installable.set(false));
        let _ = window().add_event_listener_with_callback(
            "appinstalled",
            on_installed.as_ref().unchecked_ref(),
        );
        on_installed.forget();

        if !has_workers() {
            return;
        }
        let container = window().navigator().service_worker();
        // The waiting worker took over (after "Reload"): load the page from it.
        let on_change = Closure::<dyn Fn()>::new(|| {
            if UPDATING.with(|u| u.get()) {
                let _ = window().location().reload();
            }
        });
        container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
        on_change.forget();
        leptos::task::spawn_local(async move {
            // (A browser that blocks workers may answer without a registration: no offline
            // use then, and nothing else changes.)
            let registration = match JsFuture::from(container.register("/sw.js"))
                .await
                .and_then(|r| r.dyn_into::<ServiceWorkerRegistration>())
            {
                Ok(r) => r,
                Err(e) => {
                    leptos::logging::warn!("hearth: no service worker: {e:?}");
                    return;
                }
            };
            REGISTRATION.with(|r| *r.borrow_mut() = Some(registration.clone()));
            watch(&registration, update_ready);
        });
    }

    /// An update is ready when a new worker waits while another controls the page.
    fn watch(registration: &ServiceWorkerRegistration, update_ready: RwSignal<bool>) {
        let controlled = || window().navigator().service_worker().controller().is_some();
        if registration.waiting().is_some() && controlled() {
            update_ready.set(true);
        }
        let follow = move |worker: ServiceWorker| {
            let watched = worker.clone();
            let on_state = Closure::<dyn Fn()>::new(move || {
                if watched.state() == ServiceWorkerState::Installed && controlled() {
                    update_ready.set(true);
                }
            });
            worker.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        };
        // One may be installing already (the browser checks for updates as the page loads).
        if let Some(worker) = registration.installing() {
            follow(worker);
        }
        let reg = registration.clone();
        let on_found = Closure::<dyn Fn()>::new(move || {
            if let Some(worker) = reg.installing() {
                follow(worker);
            }
        });
        registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
        on_found.forget();
    }

    fn message(kind: &str) -> JsValue {
        let msg = js_sys::Object::new();
        let _ = Reflect::set(&msg, &"type".into(), &kind.into());
        msg.into()
    }

    pub fn apply_update() {
        let waiting: Option<ServiceWorker> =
            REGISTRATION.with(|r| r.borrow().as_ref().and_then(|r| r.waiting()));
        match waiting {
            Some(worker) => {
                UPDATING.with(|u| u.set(true));
                let _ = worker.post_message(&message("skip-waiting"));
            }
            None => {
                let _ = window().location().reload();
            }
        }
    }

    pub fn prompt_install(installable: RwSignal<bool>) {
        let Some(event) = INSTALL_EVENT.with(|e| e.borrow_mut().take()) else {
            return;
        };
        if let Ok(prompt) = Reflect::get(&event, &"prompt".into()) {
            if let Ok(prompt) = prompt.dyn_into::<Function>() {
                let _ = prompt.call0(&event);
            }
        }
        // The event can be used once; the browser fires a new one if it may ask again.
        installable.set(false);
    }

    pub fn request_sync() {
        let Some(registration) = REGISTRATION.with(|r| r.borrow().clone()) else {
            return;
        };
        let Ok(sync) = Reflect::get(&registration, &"sync".into()) else {
            return;
        };
        if sync.is_undefined() {
            return;
        }
        if let Ok(register) = Reflect::get(&sync, &"register".into()) {
            if let Ok(register) = register.dyn_into::<Function>() {
                if let Ok(promise) = register.call1(&sync, &"hearth-outbox".into()) {
                    if let Ok(promise) = promise.dyn_into::<js_sys::Promise>() {
                        leptos::task::spawn_local(async move {
                            if let Err(e) = JsFuture::from(promise).await {
                                leptos::logging::warn!("hearth: no background sync: {e:?}");
                            }
                        });
                    }
                }
            }
        }
    }

    pub async fn forget_user() {
        if let Ok(caches) = window().caches() {
            for name in ["hearth-pages", "hearth-api"] {
                let _ = JsFuture::from(caches.delete(name)).await;
            }
        }
        if has_workers() {
            if let Some(worker) = window().navigator().service_worker().controller() {
                let _ = worker.post_message(&message("sign-out"));
            }
        }
    }
}

/// Starts the installable app's side of the page (`start`) from its chunk.
#[cfg(not(feature = "ssr"))]
pub(crate) fn start_pwa(update_ready: RwSignal<bool>, installable: RwSignal<bool>) {
    ask(Ask::Start(update_ready, installable));
}

/// What the page asks of the installable app's side, all of it in one chunk (`pwa`), which
/// the page fetches after hydration (`Ask::Start`).
#[cfg(not(feature = "ssr"))]
enum Ask {
    Start(RwSignal<bool>, RwSignal<bool>),
    Update,
    Install(RwSignal<bool>),
    Sync,
    ForgetUser,
}

/// Does `what` once the chunk is there, in a task of its own.
#[cfg(not(feature = "ssr"))]
fn ask(what: Ask) {
    crate::components::start_part("the installable app", in_chunk(what));
}

#[cfg(not(feature = "ssr"))]
#[cfg_attr(feature = "split", leptos::lazy(pwa, fallible))]
async fn in_chunk(what: Ask) -> Result<(), leptos::LazyViewError> {
    match what {
        Ask::Start(update_ready, installable) => browser::start(update_ready, installable),
        Ask::Update => browser::apply_update(),
        Ask::Install(installable) => browser::prompt_install(installable),
        Ask::Sync => browser::request_sync(),
        Ask::ForgetUser => {
            if let Err(e) = crate::offline::idb::clear().await {
                leptos::logging::warn!("hearth: outbox not cleared: {e:?}");
            }
            browser::forget_user().await;
        }
    }
    Ok(())
}
