//! `/budget`: the live budget tracker. The page renders on the server with the month's data,
//! hydrates, opens the family's WebSocket and from then on changes in place: anyone's expense
//! or limit, on any server, updates the lines, bars and totals; own expenses show at once and
//! are reconciled with the server's answer (or rolled back); expenses entered without a
//! network wait in IndexedDB and go out once it is back.

mod board;
mod challenges;
mod family_panel;
mod import;
mod parts;
mod recurring;
mod search;
mod sections;
mod trends;
mod waiting;
mod who_spent;

use crate::api;
use crate::components::{
    deferred_part, hydrating, in_own_task, later, placeholder_part, sendable, use_me, ErrorNote,
};
use crate::live::ledger::{Ledger, Start};
use crate::live::socket::{Incoming, LiveSocket};
use crate::model::*;
use crate::money::{field_amount, format_minor};
use crate::pages::simple::{failure_view, signed_out_redirect};
use crate::ws::{Channel, EventKind};
use board::{take_page, Board, Draft, PageData};
use challenges::Games;
use family_panel::Family;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::LazyViewError;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_query_map;
use parts::{
    family_panel_loading, in_parts_chunk, load_challenges, load_family_panel, load_section, Section,
};
use std::rc::Rc;
use std::sync::Arc;
use uuid::Uuid;

#[component]
pub fn BudgetPage() -> impl IntoView {
    let me = use_me();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(Me { family: Some(family), user })) => {
                        view! { <Tracker family user /> }.into_any()
                    }
                    Ok(Some(_)) => view! { <Redirect path="/family" /> }.into_any(),
                    Ok(None) => signed_out_redirect(),
                    Err(e) => failure_view(&e),
                }
            })}
        </Suspense>
    }
}

in_parts_chunk! {
    /// What the budget page does with its connection's events, from the page's parts chunk,
    /// fetched with the connection's loop: the events' types and what applies them are not
    /// needed before the connection opens.
    async fn budget_events(
        board: Board,
        people: Family,
        games: Games,
    ) -> Result<Rc<dyn Fn(Incoming)>, LazyViewError> {
        let handler: Rc<dyn Fn(Incoming)> = Rc::new(live_handler(board, people, games));
        Ok(handler)
    }
}

/// What the page does with what its connection receives.
fn live_handler(board: Board, people: Family, games: Games) -> impl Fn(Incoming) + 'static {
    move |incoming| match incoming {
        Incoming::Event(event) => match event.kind {
            EventKind::Presence | EventKind::Chat | EventKind::Typing | EventKind::MemberUpdate => {
                people.apply(&event)
            }
            EventKind::GameInvite | EventKind::GameUpdate | EventKind::Achievement => {
                games.apply(&event, &board)
            }
            EventKind::Notification => {
                // Alerts for admins (the performance monitor's rules), wherever they are.
                if let Ok(n) = serde_json::from_value::<crate::stats::AlertNotice>(event.data) {
                    board.show_toast(format!("Hearth alert: {}", n.message));
                }
            }
            _ => board.apply(&event),
        },
        Incoming::Ack { id, offset } => people.acked(&id, offset),
        Incoming::Connected => {
            people.refresh();
            games.refresh();
            board.drain();
        }
        Incoming::Reload => {
            board.refresh();
            people.refresh();
            games.refresh();
        }
    }
}

#[component]
fn Tracker(family: MyFamily, user: User) -> impl IntoView {
    let query = use_query_map();
    let ledger = RwSignal::new(Ledger::default());
    let board = Board {
        me: user.id,
        ledger,
        shown: Memo::new(move |_| ledger.with(|l| l.shown())),
        category_choices: Signal::derive(move || ledger.with(Ledger::categories)),
        load: RwSignal::new(None),
        toast: RwSignal::new(None),
        notice: RwSignal::new(None),
        retry: RwSignal::new(0),
        live: LiveSocket::new(),
        draining: StoredValue::new((false, false)),
        draft: Draft::new(),
        who: RwSignal::new(None),
        search: RwSignal::new(String::new()),
        pace_of: RwSignal::new(None),
        history: RwSignal::new(None),
        rendered_trends: StoredValue::new(rendered_trends()),
    };
    // Each load knows where the ledger stood in the live events when it began, so the events
    // that arrive while it is under way are applied again on top of its (maybe older) data.
    let data = Resource::new_str(
        move || (query.read().get("month"), board.retry.get()),
        move |(month, _)| {
            let mark = ledger.with_untracked(Ledger::mark);
            sendable(
                async move { PageData::Read(Arc::new((api::load_budget_page(month).await, mark))) },
            )
        },
    );
    let people = Family::new(user.clone(), family.id);
    let games = Games::new();
    provide_context(board);

    // The connection starts once the first data is there, from the family channel's
    // position the data was read at (server rendering): what was published between the
    // rendering and the subscription is replayed, never missed. (Data the browser loaded
    // comes without a position: it is loaded again once subscribed.) Set once, so the effect
    // runs (and the connection lives) for the page's lifetime.
    let first_load = RwSignal::new(None::<Start>);
    let go_live = move |start: Start| {
        if first_load.with_untracked(Option::is_none) {
            first_load.set(Some(start));
        }
    };
    let channels = move |family_start| {
        vec![
            (Channel::Family(family.id).name(), family_start),
            (Channel::User(user.id).name(), Start::Live),
        ]
    };
    Effect::new(move |_| {
        if let Some(start) = first_load.get() {
            // In a task of its own: loading the connection's chunks starts tens of fetches.
            in_own_task(move || {
                board.live.start_loading(
                    channels(start),
                    Box::pin(budget_events(board, people, games)),
                )
            });
        }
    });
    // Expenses left in the outbox by an earlier visit go out now (or once online).
    in_own_task(move || board.drain());
    let online = window_online_listener(board);
    view! {
        <div class="tracker">
            <Transition fallback=|| view! { <p class="muted">"Loading the budget…"</p> }>
                {move || Suspend::new(async move {
                    let data = data.await;
                    // The page while hydrating: the data goes into the ledger a task later
                    // (read then: nothing hydrated shows it, and the parts that do take over
                    // after that task, with `later` and `deferred_part`).
                    if data.is_page() && hydrating() {
                        in_own_task(move || match data.read() {
                            (Ok(page), mark) => use_page(board, go_live, page, mark),
                            (Err(e), _) => {
                                board.notice.set(Some(e.message()));
                                board.retry.update(|n| *n += 1);
                            }
                        });
                        return view! { <BudgetBody /> }.into_any();
                    }
                    match data.read() {
                        (Ok(page), mark) => {
                            use_page(board, go_live, page, mark);
                            view! { <BudgetBody /> }.into_any()
                        }
                        (Err(e), _) => {
                            // Live all the same: once subscribed, the data is loaded again.
                            go_live(Start::Unknown);
                            failure_view(&e)
                        }
                    }
                })}
            </Transition>
            // Their data loads after hydration anyway: the server sends the family panel's
            // placeholder, and each part takes over from its chunk in a task of its own.
            <div class="side">
                {placeholder_part(load_family_panel(people, board.live), family_panel_loading)}
                {placeholder_part(load_challenges(games), || ().into_any())}
            </div>
            {online}
        </div>
    }
    .into_any()
}

/// A page's data, shown: the connection goes live from where it was read, the six-month bars
/// (the server's) are kept, and the ledger takes it.
fn use_page(board: Board, go_live: impl Fn(Start), page: BudgetPage, mark: u64) {
    go_live(page.position.clone().map_or(Start::Unknown, Start::At));
    // The server renders the six-month bars from the page's own data.
    if page.trends.is_some() {
        let _ = board.history.try_set(page.trends.clone());
    }
    take_page(board.ledger, board.load, page, mark);
}

/// The server's page's six-month data (`data-trends`), when hydrating one.
fn rendered_trends() -> Option<String> {
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .query_selector("[data-trends]")
            .ok()
            .flatten()?
            .get_attribute("data-trends")
    }
    #[cfg(feature = "ssr")]
    None
}

/// Drains the outbox when the browser comes back online.
fn window_online_listener(board: Board) -> impl IntoView {
    #[cfg(not(feature = "ssr"))]
    {
        let handle = window_event_listener_untyped("online", move |_| board.drain());
        on_cleanup(move || handle.remove());
    }
    #[cfg(feature = "ssr")]
    let _ = board;
}

#[component]
fn BudgetBody() -> impl IntoView {
    let board = expect_context::<Board>();
    // Hydrating the page takes over nothing that shows the ledger: the month's links, the
    // form and the sections each take over from the server's copy in a task of their own
    // (the form and the links with `later`, the rest from chunks with `deferred_part`); the
    // first load holds only what typing an expense needs.
    view! {
        <section class="budget">
            <header class="budget-head">
                <h1>"Budget"</h1>
                {later(|| view! { <MonthLinks /> }.into_any())}
            </header>
            {deferred_part(load_section(Section::Status))}
            <ErrorNote error=board.notice />
            {later(|| view! { <ExpenseForm /> }.into_any())}
            {deferred_part(load_section(Section::Categories))}
            {deferred_part(load_section(Section::Spending))}
            {deferred_part(load_section(Section::Bills))}
            {deferred_part(load_section(Section::Expenses))}
        </section>
    }
    .into_any()
}

/// The month shown, with links to the one before and the one after.
#[component]
fn MonthLinks() -> impl IntoView {
    let shown = expect_context::<Board>().shown;
    let month = move || shown.with(|b| b.as_ref().and_then(|b| Month::parse(&b.month).ok()));
    move || {
        month().map(|m| {
            view! {
                <nav class="months" aria-label="Month">
                    <A href=format!("/budget?month={}", m.prev()) attr:aria-label="Previous month">"‹"</A>
                    <span class="month" data-testid="month">{m.label()}</span>
                    <A href=format!("/budget?month={}", m.next()) attr:aria-label="Next month">"›"</A>
                </nav>
            }
        })
    }
}

/// The form for a new expense, in the month's currency, dated today by default.
#[component]
fn ExpenseForm() -> impl IntoView {
    let board = expect_context::<Board>();
    let categories = board.category_choices;
    let digits = board.digits();
    let currency = board.currency();
    let today = board
        .shown
        .with_untracked(|b| b.as_ref().map(|b| b.today.clone()).unwrap_or_default());
    let Draft {
        category,
        amount,
        note,
        day,
    } = board.draft;
    if category.with_untracked(String::is_empty) {
        if let Some(first) = categories.with_untracked(|c| c.first().map(|c| c.0.to_string())) {
            category.set(first);
        }
    }
    if day.with_untracked(String::is_empty) {
        day.set(today);
    }
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(amount_minor) = field_amount(&amount.get_untracked(), digits, "amount", true)
            .map_err(|m| error.set(Some(m)))
        else {
            return;
        };
        let Ok(category_id) = Uuid::parse_str(&category.get_untracked()) else {
            error.set(Some("category: choose one".into()));
            return;
        };
        let note_text = note.get_untracked().trim().to_string();
        let body = NewExpense {
            id: Some(Uuid::new_v4()),
            category_id,
            amount_minor,
            note: (!note_text.is_empty()).then_some(note_text),
            spent_on: Some(day.get_untracked()),
        };
        // Shown at once; kept in the outbox first, so nothing is lost if the tab closes.
        error.set(None);
        board.notice.set(None);
        board.ledger.update(|l| l.add(body.clone()));
        amount.set(String::new());
        note.set(String::new());
        board.send(body, error);
    };
    let no_categories = move || categories.with(|c| c.is_empty());
    view! {
        <section class="card">
            <h2>"Add an expense"</h2>
            <form class="expense-form" on:submit=on_submit data-testid="expense-form">
                <label>
                    "Category"
                    <select name="category_id" required bind:value=category>
                        <For each=move || categories.get() key=|c| c.clone() let((id, name))>
                            <option value=id.to_string()>{name}</option>
                        </For>
                    </select>
                </label>
                <label>
                    {format!("Amount ({currency})")}
                    <input type="text" inputmode="decimal" name="amount" required placeholder=format_minor(0, digits) autocomplete="off" bind:value=amount />
                </label>
                <label>"Note" <input type="text" name="note" maxlength="500" bind:value=note /></label>
                <label>"Date" <input type="date" name="spent_on" required bind:value=day /></label>
                <button type="submit" disabled=no_categories>"Add expense"</button>
                <ErrorNote error />
            </form>
        </section>
    }
    .into_any()
}
