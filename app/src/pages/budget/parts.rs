//! The budget page's parts that mount after hydration, each from a WebAssembly chunk of its
//! own in a split build: the family panel (presence and chat), the challenges card, the
//! search of every month's notes, and the sections around the form (the status, the
//! categories, the month's cards: "Who spent", the charts, the recurring bills and the
//! import; and the expenses) together in one chunk, since each lazy part costs the main
//! module its own loading code. On the server and in the Trunk build, which do not
//! split, each loader is an ordinary `async fn`.

use super::challenges::{ChallengesCard, Games};
use super::family_panel::{Family, FamilyPanel};
use super::import::ImportCard;
use super::recurring::RecurringCard;
use super::search::ExpenseSearch;
use super::sections::{CategoriesCard, ExpensesCard, Status};
use super::trends::TrendsCard;
use super::waiting::Writes;
use super::who_spent::MemberBreakdown;
use crate::components::part_or;
use crate::live::socket::LiveSocket;
use leptos::prelude::*;
use leptos::LazyViewError;

#[cfg_attr(feature = "split", leptos::lazy(family_panel, fallible))]
async fn load_family_panel(people: Family, live: LiveSocket) -> Result<AnyView, LazyViewError> {
    Ok(view! { <FamilyPanel people live /> }.into_any())
}

#[cfg_attr(feature = "split", leptos::lazy(search, fallible))]
async fn load_search(digits: u8) -> Result<AnyView, LazyViewError> {
    Ok(view! { <ExpenseSearch digits /> }.into_any())
}

/// The budget page's sections around its form, all in one chunk (`sections`): each lazy part
/// costs the main module its own loading code, and one chunk is one fetch.
#[derive(Clone, Copy)]
pub(crate) enum Section {
    Status,
    Categories,
    /// The month's cards: "Who spent", the charts, the recurring bills and the import.
    MonthCards,
    Expenses,
}

#[cfg_attr(feature = "split", leptos::lazy(sections, fallible))]
pub(crate) async fn load_section(section: Section) -> Result<AnyView, LazyViewError> {
    Ok(match section {
        Section::Status => view! { <Status /> }.into_any(),
        Section::Categories => view! { <CategoriesCard /> }.into_any(),
        Section::MonthCards => {
            // In the month's currency digits, as loaded by the time the cards are built.
            let board = expect_context::<super::board::Board>();
            let digits = board.digits();
            let writes = Writes::new(board);
            view! {
                <MemberBreakdown digits />
                <TrendsCard digits />
                <RecurringCard digits writes />
                <ImportCard digits writes />
            }
            .into_any()
        }
        Section::Expenses => view! { <ExpensesCard /> }.into_any(),
    })
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
