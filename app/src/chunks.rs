//! The parts of the app the browser loads as WebAssembly chunks of their own, when it needs
//! them: every page but the budget (lazy routes), and on the budget page the family panel
//! (presence and chat) and the challenges card, which mount after hydration anyway. The budget
//! page, a family's first page, is all in the main module.
//!
//! Each part has a loader, an `async fn` that split builds (feature `split`, `cargo leptos build
//! --split`) mark `#[lazy]`: its first call fetches the chunk. On the server and in the Trunk
//! build, which does not split, it is an ordinary `async fn`. The server adds no preload hint
//! for a page's chunk: like the main module, it is fetched when the browser is idle (see
//! `Hydration` in `lib.rs`). The service worker precaches every chunk with the rest of the
//! build, so they load offline too; a chunk that cannot be fetched all the same shows a note
//! with a retry instead of a broken page.

use crate::challenges::{ChallengesCard, Games};
use crate::family_live::{Family, FamilyPanel};
use crate::socket::LiveSocket;
use crate::{pages, performance};
use leptos::prelude::*;
use leptos::LazyViewError;
use leptos_router::LazyRoute;

/// What a part is when its chunk did not arrive.
fn not_loaded(error: LazyViewError) -> AnyView {
    leptos::logging::warn!("a part of the app could not be loaded: {error}");
    view! {
        <section class="card" role="alert" data-testid="chunk-error">
            <p>
                "This part of Hearth could not be loaded. Check the connection, then "
                <a href="" on:click=|_| reload()>"try again"</a>
                "."
            </p>
        </section>
    }
    .into_any()
}

/// Loads the page again (the link's own target is the page itself, for a browser without the
/// app).
fn reload() {
    #[cfg(not(feature = "ssr"))]
    let _ = window().location().reload();
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

lazy_page!(HomeRoute, load_home, home, pages::Home);
lazy_page!(LoginRoute, load_login, sign_in, pages::LoginPage);
lazy_page!(RegisterRoute, load_register, sign_in, pages::RegisterPage);
lazy_page!(FamilyRoute, load_family, family, pages::FamilyPage);
lazy_page!(OfflineRoute, load_offline, offline, pages::OfflinePage);
lazy_page!(
    PerformanceRoute,
    load_performance,
    performance,
    performance::PerformancePage
);

#[cfg_attr(feature = "split", leptos::lazy(family_panel, fallible))]
async fn load_family_panel(people: Family, live: LiveSocket) -> Result<AnyView, LazyViewError> {
    Ok(view! { <FamilyPanel people live /> }.into_any())
}

#[cfg_attr(feature = "split", leptos::lazy(challenges, fallible))]
async fn load_challenges(games: Games) -> Result<AnyView, LazyViewError> {
    Ok(view! { <ChallengesCard games /> }.into_any())
}

/// The family panel's place while its chunk and data load.
pub(crate) fn family_panel_loading() -> AnyView {
    view! {
        <section class="card family-panel" aria-busy="true">
            <h2>"Family"</h2>
            <p class="muted">"Loading…"</p>
        </section>
    }
    .into_any()
}

/// The budget page's family panel, from its chunk.
#[component]
pub(crate) fn LazyFamilyPanel(people: Family, live: LiveSocket) -> impl IntoView {
    view! {
        <Suspense fallback=family_panel_loading>
            {Suspend::new(async move {
                load_family_panel(people, live).await.unwrap_or_else(not_loaded)
            })}
        </Suspense>
    }
}

/// The budget page's challenges card, from its chunk.
#[component]
pub(crate) fn LazyChallengesCard(games: Games) -> impl IntoView {
    view! {
        <Suspense>
            {Suspend::new(async move { load_challenges(games).await.unwrap_or_else(not_loaded) })}
        </Suspense>
    }
}
