//! The parts of the app the browser loads as WebAssembly chunks of their own, when it needs
//! them: every page but the budget (lazy routes); on the budget page the family panel
//! (presence and chat), the challenges card, the "Who spent" breakdown, the charts, the
//! recurring bills, the import and the search of every month's notes, which mount after hydration anyway; and what
//! starts after hydration in a task of its own: the live connection's loop (and, before it, the
//! budget page's handling of its events, `budget::budget_events`), the installable app's side
//! (service worker, update and install offers) and the page-load report. The rest of the
//! budget page, a family's first page, is in the main module.
//!
//! Each part has a loader, an `async fn` that split builds (feature `split`, `cargo leptos build
//! --split`) mark `#[lazy]`: its first call fetches the chunk. On the server and in the Trunk
//! build, which does not split, it is an ordinary `async fn`. The server adds no preload hint
//! for a page's chunk: like the main module, it is fetched when the browser is idle (see
//! `Hydration` in `lib.rs`). The service worker precaches every chunk with the rest of the
//! build, so they load offline too; a chunk that cannot be fetched all the same shows a note
//! with a retry instead of a broken page.

use crate::budget::{ExpenseSearch, MemberBreakdown};
use crate::challenges::{ChallengesCard, Games};
use crate::family_live::{Family, FamilyPanel};
use crate::import::ImportCard;
use crate::recurring::RecurringCard;
use crate::socket::LiveSocket;
use crate::trends::TrendsCard;
use crate::waiting::Writes;
use crate::{pages, performance};
use leptos::prelude::*;
use leptos::LazyViewError;
use leptos_router::LazyRoute;

/// What a part is when its chunk did not arrive.
fn not_loaded(error: LazyViewError) -> AnyView {
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

#[cfg_attr(feature = "split", leptos::lazy(search, fallible))]
async fn load_search(digits: u8) -> Result<AnyView, LazyViewError> {
    Ok(view! { <ExpenseSearch digits /> }.into_any())
}

#[cfg_attr(feature = "split", leptos::lazy(month_cards, fallible))]
async fn load_month_cards(digits: u8) -> Result<AnyView, LazyViewError> {
    let writes = Writes::new(expect_context());
    Ok(view! {
        <MemberBreakdown digits />
        <TrendsCard digits />
        <RecurringCard digits writes />
        <ImportCard digits writes />
    }
    .into_any())
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

/// A part from its chunk, `loading` until it is there.
fn part_or(
    load: impl std::future::Future<Output = Result<AnyView, LazyViewError>> + Send + 'static,
    loading: fn() -> AnyView,
) -> impl IntoView {
    view! {
        <Suspense fallback=loading>
            {Suspend::new(async move { load.await.unwrap_or_else(not_loaded) })}
        </Suspense>
    }
}

/// The budget page's family panel, from its chunk.
#[component]
pub(crate) fn LazyFamilyPanel(people: Family, live: LiveSocket) -> impl IntoView {
    part_or(load_family_panel(people, live), family_panel_loading)
}

/// The budget page's challenges card, from its chunk.
#[component]
pub(crate) fn LazyChallengesCard(games: Games) -> impl IntoView {
    part_or(load_challenges(games), || ().into_any())
}

/// The budget page's search of every month's notes, from its chunk.
#[component]
pub(crate) fn LazyExpenseSearch(digits: u8) -> impl IntoView {
    part_or(load_search(digits), || ().into_any())
}

/// The budget page's "Who spent" breakdown, pace chart, six-month bars, recurring bills and
/// import, from their chunk
/// (one part: each lazy part costs the main module its own loading code).
#[component]
pub(crate) fn LazyMonthCards(digits: u8) -> impl IntoView {
    part_or(load_month_cards(digits), || ().into_any())
}

/// The live connection's loop (`socket.rs`), from its chunk; `Err` when the chunk did not
/// arrive.
#[cfg(not(feature = "ssr"))]
#[cfg_attr(feature = "split", leptos::lazy(live_socket, fallible))]
pub(crate) async fn run_socket(
    socket: crate::socket::LiveSocket,
    channels: Vec<(String, crate::live::Start)>,
    rx: futures::channel::mpsc::UnboundedReceiver<crate::ws::ClientFrame>,
    wake: futures::channel::mpsc::UnboundedReceiver<()>,
    on: std::rc::Rc<dyn Fn(crate::socket::Incoming)>,
) -> Result<(), LazyViewError> {
    crate::socket::run(socket, channels, rx, wake, on).await;
    Ok(())
}

/// Starts the installable app's side of the page (`pwa.rs`) from its chunk.
#[cfg(not(feature = "ssr"))]
pub(crate) fn start_pwa(update_ready: RwSignal<bool>, installable: RwSignal<bool>) {
    start_part("the installable app", load_pwa(update_ready, installable));
}

#[cfg(not(feature = "ssr"))]
#[cfg_attr(feature = "split", leptos::lazy(pwa, fallible))]
async fn load_pwa(
    update_ready: RwSignal<bool>,
    installable: RwSignal<bool>,
) -> Result<(), LazyViewError> {
    crate::pwa::start(update_ready, installable);
    Ok(())
}

/// Starts the page-load report (`vitals.rs`) from its chunk: `wasm_ms` is when the WebAssembly
/// began to run and `hydrate_ms` how long hydration took.
#[cfg(not(feature = "ssr"))]
pub fn start_vitals(wasm_ms: f64, hydrate_ms: f64) {
    start_part("the page-load report", load_vitals(wasm_ms, hydrate_ms));
}

#[cfg(not(feature = "ssr"))]
#[cfg_attr(feature = "split", leptos::lazy(vitals, fallible))]
async fn load_vitals(wasm_ms: f64, hydrate_ms: f64) -> Result<(), LazyViewError> {
    crate::vitals::start(wasm_ms, hydrate_ms);
    Ok(())
}

/// Starts `part` in a task of its own under the current owner; a chunk that did not arrive is
/// logged (the page works without it).
#[cfg(not(feature = "ssr"))]
pub(crate) fn start_part(
    name: &'static str,
    part: impl std::future::Future<Output = Result<(), LazyViewError>> + 'static,
) {
    leptos::task::spawn_local(async move {
        if let Err(error) = part.await {
            leptos::logging::warn!("{name} could not be loaded: {error}");
        }
    });
}
