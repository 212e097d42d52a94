//! What is around every page: the header (who is signed in, signing out) and the pages as
//! lazy routes, each a WebAssembly chunk of its own in a split build (every page but the
//! budget, which is the main module's).

use crate::api;
use crate::components::{not_loaded, MeResource};
use crate::pages::{performance, simple};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::LazyViewError;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use leptos_router::LazyRoute;

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
                    if let Err(e) = crate::offline::idb::clear().await {
                        leptos::logging::warn!("hearth: outbox not cleared: {e:?}");
                    }
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

/// A page as a lazy route: `$route` for the router, `$load` its loader in chunk `$chunk`.
macro_rules! lazy_page {
    ($route:ident, $load:ident, $chunk:ident, $page:path) => {
        #[doc = concat!("The route of `", stringify!($page), "`, loaded from chunk `", stringify!($chunk), "`.")]
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView {
                $load().await.unwrap_or_else(not_loaded)
            }
        }

        #[cfg_attr(feature = "split", leptos::lazy($chunk, fallible))]
        async fn $load() -> Result<AnyView, LazyViewError> {
            Ok($page().into_any())
        }
    };
}

lazy_page!(HomeRoute, load_home, home, simple::Home);
lazy_page!(LoginRoute, load_login, sign_in, simple::LoginPage);
lazy_page!(RegisterRoute, load_register, sign_in, simple::RegisterPage);
lazy_page!(FamilyRoute, load_family, family, simple::FamilyPage);
lazy_page!(OfflineRoute, load_offline, offline, simple::OfflinePage);
lazy_page!(
    PerformanceRoute,
    load_performance,
    performance,
    performance::PerformancePage
);
