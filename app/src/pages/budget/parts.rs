//! The budget page's parts that mount after hydration, from one WebAssembly chunk in a split
//! build (`in_parts_chunk`): the sections around the form (the status, the categories, the
//! month's cards: "Who spent", the charts, the recurring bills and the import; and the
//! expenses with the search of every month's notes), the family panel (presence and chat)
//! and the challenges card, with the live events' handler and the outbox's work. On the
//! server and in the Trunk build, which do not split, each loader is an ordinary `async fn`.

use super::challenges::{ChallengesCard, Games};
use super::family_panel::{Family, FamilyPanel};
use super::import::ImportCard;
use super::recurring::RecurringCard;
use super::sections::{CategoriesCard, ExpensesCard, Status};
use super::trends::TrendsCard;
use super::waiting::Writes;
use super::who_spent::MemberBreakdown;
use crate::components::next_task;
use crate::live::socket::LiveSocket;
use leptos::prelude::*;
use leptos::LazyViewError;

/// Puts an `async fn` into the budget page's parts chunk (`budget_parts`) in a split build.
/// Every part the page needs right after hydration (the sections, the family panel, the
/// challenges, the live events' handler, the outbox's work) comes from this one chunk: as
/// chunks of their own they shared much of their code, and the split build gives each set of
/// chunks that shares code a further chunk, so the page fetched and instantiated 96 files
/// after hydration, each a task's worth of main-thread work (29 now; BENCHMARKS.md). One
/// macro, since `leptos::lazy` tells chunks apart by name and by where it is written.
macro_rules! in_parts_chunk {
    ($($item:tt)*) => {
        #[cfg_attr(feature = "split", leptos::lazy(budget_parts, fallible))]
        $($item)*
    };
}
pub(crate) use in_parts_chunk;

in_parts_chunk! {
    pub(crate) async fn load_family_panel(
        people: Family,
        live: LiveSocket,
    ) -> Result<AnyView, LazyViewError> {
        next_task().await;
        Ok(view! { <FamilyPanel people live /> }.into_any())
    }
}

/// The budget page's sections around its form.
#[derive(Clone, Copy)]
pub(crate) enum Section {
    Status,
    Categories,
    /// The month's spending: "Who spent" and the charts.
    Spending,
    /// The recurring bills and the import (their changes wait together when offline).
    Bills,
    Expenses,
}

in_parts_chunk! {
    pub(crate) async fn load_section(section: Section) -> Result<AnyView, LazyViewError> {
        // Each section's components (their resources, listeners) set up in a task of their own.
        next_task().await;
        Ok(match section {
            Section::Status => view! { <Status /> }.into_any(),
            Section::Categories => view! { <CategoriesCard /> }.into_any(),
            Section::Spending => {
                // In the month's currency digits, as loaded by the time the cards are built.
                let digits = expect_context::<super::board::Board>().digits();
                view! {
                    <MemberBreakdown digits />
                    <TrendsCard digits />
                }
                .into_any()
            }
            Section::Bills => {
                let board = expect_context::<super::board::Board>();
                let digits = board.digits();
                let writes = Writes::new(board);
                view! {
                    <RecurringCard digits writes />
                    <ImportCard digits writes />
                }
                .into_any()
            }
            Section::Expenses => view! { <ExpensesCard /> }.into_any(),
        })
    }
}

in_parts_chunk! {
    pub(crate) async fn load_challenges(games: Games) -> Result<AnyView, LazyViewError> {
        next_task().await;
        Ok(view! { <ChallengesCard games /> }.into_any())
    }
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
