//! What is around every page: the header (who is signed in, signing out) and the pages, each
//! a WebAssembly chunk of its own in a split build (every page but the budget, which is the
//! main module's).

use crate::api;
use crate::components::{later, not_loaded, part_or, MeResource};
use crate::pages::{performance, simple};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::LazyViewError;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// The header: the server's copy is on screen at once; the live one (links, who is signed in,
/// signing out) takes over a task after hydration (`later`), so hydrating the page is shorter.
#[component]
pub fn Header(me: MeResource) -> impl IntoView {
    view! { <header class="topbar">{later(move || view! { <TopBar me /> }.into_any())}</header> }
}

#[component]
fn TopBar(me: MeResource) -> impl IntoView {
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
                    crate::offline::pwa::forget_user().await;
                    me.refetch();
                    navigate("/login", Default::default());
                }
                Err(e) => leptos::logging::warn!("sign out failed: {e}"),
            }
            signing_out.set(false);
        });
    };
    view! {
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
    }
}

/// A page from its chunk: `$load` the loader (in chunk `$chunk` of a split build), `$view`
/// the route's view; `preload_page` fetches the chunk before the page hydrates.
///
/// The view is the page at once when its chunk is there (always on the server; in the browser
/// once loaded, and `preload_page` loads it before the page hydrates, so the page hydrates
/// like any other, in the same task), or the page once its chunk arrives (a link followed to
/// a page not opened before). No page hydrates asynchronously, so the build leaves out
/// Leptos's `lazy` feature (its asynchronous hydration path in every type-erased view).
macro_rules! page {
    ($view:ident, $load:ident, $chunk:ident, $page:path) => {
        #[doc = concat!("The route of `", stringify!($page), "`, from chunk `", stringify!($chunk), "`.")]
        pub fn $view() -> AnyView {
            now_or_later($load())
        }

        #[cfg_attr(feature = "split", leptos::lazy($chunk, fallible))]
        async fn $load() -> Result<AnyView, LazyViewError> {
            Ok($page().into_any())
        }
    };
}

page!(home, load_home, home, simple::Home);

/// The two sign-in pages, one chunk and one loader.
#[derive(Clone, Copy)]
enum SignIn {
    Login,
    Register,
}

/// The route of `simple::LoginPage`, from chunk `sign_in`.
pub fn login() -> AnyView {
    now_or_later(load_sign_in(SignIn::Login))
}

/// The route of `simple::RegisterPage`, from chunk `sign_in`.
pub fn register() -> AnyView {
    now_or_later(load_sign_in(SignIn::Register))
}

#[cfg_attr(feature = "split", leptos::lazy(sign_in, fallible))]
async fn load_sign_in(page: SignIn) -> Result<AnyView, LazyViewError> {
    Ok(match page {
        SignIn::Login => simple::LoginPage().into_any(),
        SignIn::Register => simple::RegisterPage().into_any(),
    })
}

page!(family, load_family, family, simple::FamilyPage);
page!(offline, load_offline, offline, simple::OfflinePage);
page!(
    performance,
    load_performance,
    performance,
    performance::PerformancePage
);

/// A page whose loader is ready (its chunk is there) at once, else once the chunk arrives.
fn now_or_later(
    load: impl std::future::Future<Output = Result<AnyView, LazyViewError>> + Send + 'static,
) -> AnyView {
    use futures::FutureExt;
    let mut load = Box::pin(load);
    match (&mut load).now_or_never() {
        Some(page) => page.unwrap_or_else(not_loaded),
        None => part_or(load, || {
            view! { <p class="muted">"Loading…"</p> }.into_any()
        })
        .into_any(),
    }
}

/// Fetches the chunk of the page the browser is on, so that the page hydrates at once with
/// its code there (see `page!`); a chunk that does not arrive is logged, and the page shows
/// what `not_loaded` says. The budget page (the main module's) needs none. Each loader keeps
/// its own mark of being loaded, so two pages in one chunk share one loader.
#[cfg(feature = "split")]
pub async fn preload_page() {
    let path = window().location().pathname().unwrap_or_default();
    let loaded = match path.as_str() {
        "/" => __preload_load_home().await,
        "/login" | "/register" => __preload_load_sign_in().await,
        "/family" => __preload_load_family().await,
        "/offline" => __preload_load_offline().await,
        "/admin/performance" => __preload_load_performance().await,
        _ => Ok(()),
    };
    if let Err(error) = loaded {
        leptos::logging::warn!("the page's code could not be loaded: {error}");
    }
}
