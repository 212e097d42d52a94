//! `/budget`: the live budget tracker. The page renders on the server with the month's data,
//! hydrates, opens the family's WebSocket and from then on changes in place: anyone's expense
//! or limit, on any server, updates the lines, bars and totals; own expenses show at once and
//! are reconciled with the server's answer (or rolled back); expenses entered without a
//! network wait in IndexedDB and go out once it is back.

use crate::api;
use crate::challenges::Games;
use crate::chunks::{
    family_panel_loading, LazyChallengesCard, LazyExpenseSearch, LazyFamilyPanel, LazyMonthCards,
};
use crate::components::{
    in_own_task, one_at_a_time, sendable, show_if, use_me, Deferred, ErrorNote,
};
use crate::family_live::Family;
use crate::live::{Ledger, Row, Start};
use crate::model::*;
use crate::money::{field_amount, format_minor, format_money};
use crate::outbox;
use crate::pages::{failure_view, signed_out_redirect};
use crate::socket::{Incoming, LiveSocket};
use crate::ws::{BudgetAlert, BudgetUpdate, Channel, Event, EventKind, ExpenseEvent};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::LazyViewError;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::use_query_map;
use std::rc::Rc;
use std::time::Duration;
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

/// What the page shows, shared by its parts.
#[derive(Clone, Copy)]
pub(crate) struct Board {
    pub me: Uuid,
    pub ledger: RwSignal<Ledger>,
    /// What the ledger shows (`Ledger::shown`) and the categories to choose from. Derived
    /// here, with the page's lifetime, not in the view: while the next month (or a reload)
    /// loads, the view on screen stays live under a `Transition`, and the load updates the
    /// ledger before that view is replaced, so its effects run once more. Values made by
    /// that view are disposed by then; reading one panicked the WebAssembly.
    pub shown: Memo<Option<Budget>>,
    pub category_choices: Signal<Vec<(Uuid, String)>>,
    pub load: RwSignal<Option<LoadInfo>>,
    pub toast: RwSignal<Option<(u32, String)>>,
    /// A change of this device that did not go through.
    pub notice: RwSignal<Option<String>>,
    /// Asks the page's data again from scratch: only while nothing is shown (the first load
    /// failed); otherwise [`Board::refresh`] updates what is shown in place.
    retry: RwSignal<u32>,
    pub live: LiveSocket,
    draining: StoredValue<(bool, bool)>,
    /// What is typed into the expense form, kept for the page's lifetime: moving to another
    /// month builds the form again, and the typing must survive it.
    draft: Draft,
    /// The member whose expenses the list shows (everyone's when `None`), kept across months.
    pub who: RwSignal<Option<Uuid>>,
    /// What is searched for in every month's notes (the month's list shows when empty).
    pub search: RwSignal<String>,
    /// The category the pace chart shows (all when `None`) and the last six months once
    /// loaded (`trends.rs`); here, with the page's lifetime, as the view of a month that is
    /// being replaced may still read them.
    pub pace_of: RwSignal<Option<Uuid>>,
    pub history: RwSignal<Option<Trends>>,
    /// The six months the server rendered the page with (its `data-trends`), read while the
    /// server's copy is still there, for the charts' chunk to parse (`trends.rs`).
    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub rendered_trends: StoredValue<Option<String>>,
}

/// The expense form's fields.
#[derive(Clone, Copy)]
struct Draft {
    category: RwSignal<String>,
    amount: RwSignal<String>,
    note: RwSignal<String>,
    day: RwSignal<String>,
}

impl Draft {
    fn new() -> Self {
        Self {
            category: RwSignal::new(String::new()),
            amount: RwSignal::new(String::new()),
            note: RwSignal::new(String::new()),
            day: RwSignal::new(String::new()),
        }
    }
}

impl Board {
    /// The currency's minor-unit digits of the month shown.
    pub fn digits(&self) -> u8 {
        self.ledger
            .with(|l| l.budget.as_ref().map_or(2, |b| b.minor_units))
    }

    pub fn currency(&self) -> String {
        self.ledger
            .with(|l| l.budget.as_ref().map(|b| b.currency.clone()))
            .unwrap_or_default()
    }

    pub fn show_toast(&self, text: String) {
        let id = self
            .toast
            .with_untracked(|t| t.as_ref().map_or(0, |t| t.0 + 1));
        self.toast.set(Some((id, text)));
        let toast = self.toast;
        let _ = set_timeout(
            move || {
                if toast.with_untracked(|t| t.as_ref().map(|t| t.0)) == Some(id) {
                    let _ = toast.try_set(None);
                }
            },
            Duration::from_secs(5),
        );
    }

    /// Loads the month shown again over HTTP (a missed event, or a change whose event
    /// cannot come) and brings the ledger up to it, the live events that arrive meanwhile
    /// applied again on top. The view stays as it is: what is being typed or edited survives.
    fn refresh(&self) {
        if self.ledger.with_untracked(|l| l.budget.is_none()) {
            self.retry.update(|n| *n += 1);
        } else {
            #[cfg(not(feature = "ssr"))]
            {
                let (ledger, load, notice) = (self.ledger, self.load, self.notice);
                let month = ledger.with_untracked(|l| l.budget.as_ref().map(|b| b.month.clone()));
                let mark = ledger.with_untracked(Ledger::mark);
                spawn_local(async move {
                    match api::load_budget_page(month).await {
                        Ok(page) => take_page(ledger, load, page, mark),
                        Err(e) => {
                            let _ = notice.try_set(Some(format!(
                                "Could not load the budget again: {}",
                                e.message()
                            )));
                        }
                    }
                });
            }
        }
    }

    /// After an own change: the live event updates everyone, this device included; without
    /// a connection the data is loaded again.
    fn after_change(&self) {
        if !self.live.is_connected() {
            self.refresh();
        }
    }

    fn category_name(&self, id: Uuid) -> String {
        self.ledger.with_untracked(|l| {
            l.budget
                .as_ref()
                .and_then(|b| b.lines.iter().find(|x| x.category_id == id))
                .map(|x| x.category_name.clone())
                .unwrap_or_else(|| "a category".into())
        })
    }

    fn money(&self, amount: i64) -> String {
        self.ledger.with_untracked(|l| match &l.budget {
            Some(b) => format_money(amount, b.minor_units, &b.currency),
            None => amount.to_string(),
        })
    }

    /// A budget event of the family channel.
    fn apply(&self, event: &Event) {
        match event.kind {
            EventKind::ExpenseCreated | EventKind::ExpenseUpdated | EventKind::ExpenseDeleted => {
                let Ok(e) = serde_json::from_value::<ExpenseEvent>(event.data.clone()) else {
                    return;
                };
                if e.by.user_id != self.me {
                    let verb = match event.kind {
                        EventKind::ExpenseCreated => "added",
                        EventKind::ExpenseUpdated => "changed",
                        _ => "removed",
                    };
                    self.show_toast(format!(
                        "{} {verb} {} in {}",
                        e.by.display_name,
                        self.money(e.expense.amount_minor),
                        self.category_name(e.expense.category_id)
                    ));
                }
            }
            EventKind::BudgetUpdate => {
                if let Ok(u) = serde_json::from_value::<BudgetUpdate>(event.data.clone()) {
                    if u.by.user_id != self.me && u.line.is_some() {
                        // Limits: an expense has its own toast already.
                        let own_toast = self.toast.with_untracked(|t| t.is_some());
                        if !own_toast {
                            self.show_toast(format!("{} updated the budget", u.by.display_name));
                        }
                    }
                }
            }
            EventKind::BudgetAlert => {
                if let Ok(a) = serde_json::from_value::<BudgetAlert>(event.data.clone()) {
                    notify(&a);
                }
            }
            _ => {}
        }
        self.ledger.update(|l| l.event(event));
    }

    /// Sends what waits in the outbox, oldest first; one drain at a time (a second request
    /// while draining runs it again afterwards).
    fn drain(&self) {
        let board = *self;
        one_at_a_time(self.draining, move || board.drain_once());
    }

    async fn drain_once(self) {
        for expense in outbox::expenses().await {
            let Some(id) = expense.id else { continue };
            self.ledger.update(|l| l.add(expense.clone()));
            match api::add_expense(expense.clone()).await {
                Ok(saved) => {
                    outbox::remove(id).await;
                    let awaits = self.ledger.try_update(|l| l.saved(saved)).unwrap_or(false);
                    if awaits {
                        self.settle_later(id);
                    }
                }
                Err(e) if e.status == 0 => {
                    self.ledger.update(|l| l.waiting(id));
                    // No network: the rest waits too, and the service worker sends it all
                    // when the network is back, even if this page is closed by then.
                    crate::pwa::request_sync();
                    return;
                }
                Err(e) => {
                    outbox::remove(id).await;
                    self.ledger.update(|l| {
                        l.refused(id);
                    });
                    self.notice.set(Some(format!(
                        "An expense of {} was not saved: {}",
                        self.money(expense.amount_minor),
                        e.message()
                    )));
                }
            }
        }
    }

    /// The server saved an own expense but its live update has not come: if it still has not
    /// in a moment (no connection), the budget is loaded again.
    fn settle_later(&self, id: Uuid) {
        let board = *self;
        let _ = set_timeout(
            move || {
                let waiting = board
                    .ledger
                    .try_with_untracked(|l| {
                        l.pending
                            .iter()
                            .any(|p| p.expense.id == Some(id) && p.saved)
                    })
                    .unwrap_or(false);
                if waiting {
                    board.refresh();
                }
            },
            Duration::from_millis(1500),
        );
    }
}

/// Whether the browser may show notifications: `None` where it has none.
fn notification_permission() -> Option<String> {
    #[cfg(not(feature = "ssr"))]
    {
        let window = web_sys::window()?;
        if !js_sys::Reflect::has(&window, &"Notification".into()).unwrap_or(false) {
            return None;
        }
        Some(
            match web_sys::Notification::permission() {
                web_sys::NotificationPermission::Granted => "granted",
                web_sys::NotificationPermission::Denied => "denied",
                _ => "default",
            }
            .to_string(),
        )
    }
    #[cfg(feature = "ssr")]
    None
}

/// Shows a budget alert as a browser notification, when the user allowed them.
fn notify(alert: &BudgetAlert) {
    #[cfg(not(feature = "ssr"))]
    if notification_permission().as_deref() == Some("granted") {
        let options = web_sys::NotificationOptions::new();
        let body = if alert.level >= 100 {
            format!(
                "{} is over its limit ({}%).",
                alert.category_name, alert.percent_used
            )
        } else {
            format!(
                "{} has used {}% of its limit.",
                alert.category_name, alert.percent_used
            )
        };
        options.set_body(&body);
        options.set_tag(&format!(
            "{}-{}-{}",
            alert.category_id, alert.month, alert.level
        ));
        let _ = web_sys::Notification::new_with_options("Hearth budget alert", &options);
    }
    #[cfg(feature = "ssr")]
    let _ = alert;
}

/// The page's data, from a load begun at `mark` (see [`Ledger::load_after`]), into the ledger.
fn take_page(
    ledger: RwSignal<Ledger>,
    load: RwSignal<Option<LoadInfo>>,
    page: BudgetPage,
    mark: u64,
) {
    let BudgetPage {
        budget,
        expenses,
        load: info,
        ..
    } = page;
    let _ = ledger.try_update(|l| l.load_after(budget, expenses, mark));
    let _ = load.try_set(info);
}

/// What the budget page does with its connection's events, from a chunk of its own
/// (`live_events`) fetched just before the connection's loop: the events' types and what
/// applies them are not needed before the connection opens.
#[cfg_attr(feature = "split", leptos::lazy(live_events, fallible))]
async fn budget_events(
    board: Board,
    people: Family,
    games: Games,
) -> Result<Rc<dyn Fn(Incoming)>, LazyViewError> {
    let handler: Rc<dyn Fn(Incoming)> = Rc::new(live_handler(board, people, games));
    Ok(handler)
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
    let data = Resource::new(
        move || (query.read().get("month"), board.retry.get()),
        move |(month, _)| {
            let mark = ledger.with_untracked(Ledger::mark);
            sendable(async move { (api::load_budget_page(month).await, mark) })
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
            untrack(|| {
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
    // The family panel and the challenges load their data after hydration anyway: mounting
    // each one task later splits the page's hydration into shorter tasks (the browser can
    // paint and answer input between them).
    let side_ready = RwSignal::new(0u8);
    Effect::new(move |_| {
        set_timeout(
            move || {
                side_ready.set(1);
                let _ = set_timeout(move || side_ready.set(2), Duration::ZERO);
            },
            Duration::ZERO,
        )
    });

    view! {
        <div class="tracker">
            <Transition fallback=|| view! { <p class="muted">"Loading the budget…"</p> }>
                {move || Suspend::new(async move {
                    let (page, mark) = data.await;
                    match page {
                        Ok(page) => {
                            go_live(page.position.clone().map_or(Start::Unknown, Start::At));
                            // The server renders the six-month bars from the page's own data.
                            if page.trends.is_some() {
                                let _ = board.history.try_set(page.trends.clone());
                            }
                            take_page(board.ledger, board.load, page, mark);
                            view! { <BudgetBody /> }.into_any()
                        }
                        Err(e) => {
                            // Live all the same: once subscribed, the data is loaded again.
                            go_live(Start::Unknown);
                            failure_view(&e)
                        }
                    }
                })}
            </Transition>
            <div class="side">
                <Show
                    when=move || { side_ready.get() >= 1 }
                    fallback=family_panel_loading
                >
                    <LazyFamilyPanel people live=board.live />
                </Show>
                <Show when=move || { side_ready.get() >= 2 }>
                    <LazyChallengesCard games />
                </Show>
            </div>
            {online}
        </div>
    }
    .into_any()
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

/// "Last message at 14:03:07", in the browser's time zone.
fn last_message(ms: f64) -> String {
    #[cfg(not(feature = "ssr"))]
    {
        let at = js_sys::Date::new(&ms.into());
        format!(
            "Last message at {}",
            String::from(at.to_locale_time_string("default"))
        )
    }
    #[cfg(feature = "ssr")]
    {
        let _ = ms;
        String::new()
    }
}

#[component]
fn LiveBar() -> impl IntoView {
    let board = expect_context::<Board>();
    let live = board.live;
    let permission = RwSignal::new(None::<String>);
    Effect::new(move |_| permission.set(notification_permission()));
    let ask = move |_| {
        #[cfg(not(feature = "ssr"))]
        if let Ok(promise) = web_sys::Notification::request_permission() {
            spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                permission.set(notification_permission());
            });
        }
    };
    view! {
        <div class="livebar" aria-label="Connection">
            <span
                class=move || format!("status {}", live.status().as_str())
                title=move || live.last_message_ms.get().map(last_message).unwrap_or_default()
            >
                <span class="dot" aria-hidden="true"></span>
                <span data-testid="connection-status">{move || live.status().as_str()}</span>
            </span>
            <span class="metric" title="Round trip of the last heartbeat">
                "latency "
                <span data-testid="latency-ms">
                    {move || live.latency_ms.get().map(|ms| ms.to_string()).unwrap_or_else(|| "–".into())}
                </span>
                " ms"
            </span>
            <span class="metric" title="Where the last budget load came from, and the server's time for it">
                "data "
                <span data-testid="cache-indicator">
                    {move || board.load.get().map(|l| l.cache).unwrap_or_else(|| "–".into())}
                </span>
                {move || {
                    board
                        .load
                        .get()
                        .and_then(|l| l.server_ms)
                        .map(|ms| format!(" · {ms:.1} ms"))
                }}
            </span>
            <Show when=move || permission.get().as_deref() == Some("default")>
                <button type="button" class="link" on:click=ask>"Turn on alert notifications"</button>
            </Show>
        </div>
    }
    .into_any()
}

#[component]
fn BudgetBody() -> impl IntoView {
    let board = expect_context::<Board>();
    let shown = board.shown;
    let month = move || shown.with(|b| b.as_ref().and_then(|b| Month::parse(&b.month).ok()));
    let digits = move || board.digits();
    let currency = move || board.currency();
    let money = move |amount: i64| format_money(amount, digits(), &currency());
    let totals = move || {
        shown
            .with(|b| b.as_ref().map(|b| b.totals.clone()))
            .unwrap_or(Totals {
                limit_minor: 0,
                spent_minor: 0,
                remaining_minor: 0,
            })
    };
    let alerts = move || {
        shown.with(|b| {
            b.as_ref()
                .map(|b| {
                    b.lines
                        .iter()
                        .filter(|l| l.alert != Alert::Ok)
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let categories = board.category_choices;
    let who = board.who;
    let today = shown.with_untracked(|b| b.as_ref().map(|b| b.today.clone()).unwrap_or_default());
    view! {
        <section class="budget">
            <header class="budget-head">
                <h1>"Budget"</h1>
                {move || month()
                    .map(|m| {
                        view! {
                            <nav class="months" aria-label="Month">
                                <A href=format!("/budget?month={}", m.prev()) attr:aria-label="Previous month">"‹"</A>
                                <span class="month" data-testid="month">{m.label()}</span>
                                <A href=format!("/budget?month={}", m.next()) attr:aria-label="Next month">"›"</A>
                            </nav>
                        }
                    })}
            </header>
            <LiveBar />
            <div class="toast-area" aria-live="polite">
                {move || board.toast.get().map(|(_, text)| view! { <p class="update-toast" data-testid="update-toast">{text}</p> })}
            </div>
            // One line is always there, so the first alert replaces it instead of pushing
            // the page down.
            {show_if(
                move || !alerts().is_empty(),
                move || view! {
                    <div class="alert-banner" data-testid="alert-banner" role="status">
                        {move || alerts()
                            .into_iter()
                            .map(|l| {
                                let text = match l.alert {
                                    Alert::Exceeded => format!("⛔ {} is over its limit", l.category_name),
                                    _ => format!("⚠️ {} has used {}% of its limit", l.category_name, l.percent_used.unwrap_or(0)),
                                };
                                view! { <p>{text}</p> }
                            })
                            .collect_view()}
                    </div>
                },
                || view! { <p class="alerts-clear">"✓ Every category is within its limit"</p> },
            )}
            <ErrorNote error=board.notice />
            <div class="totals card" data-testid="budget-total" data-spent-minor=move || totals().spent_minor>
                <div>
                    <span class="label">"Spent"</span>
                    <strong class="spent">{move || money(totals().spent_minor)}</strong>
                </div>
                <div>
                    <span class="label">"Limits"</span>
                    <strong>{move || money(totals().limit_minor)}</strong>
                </div>
                <div>
                    <span class="label">"Left"</span>
                    <strong class=move || if totals().remaining_minor < 0 { "neg" } else { "" }>
                        {move || money(totals().remaining_minor)}
                    </strong>
                </div>
            </div>
            <ExpenseForm categories digits=digits() today currency=currency() />
            // The categories and the expenses are below the fold on a phone: they take over
            // from the server's copy a task after the rest of the page (see `Deferred`).
            <Deferred>
                <section class="card">
                    <h2>"Categories"</h2>
                    {show_if(
                        move || !categories.with(|c| c.is_empty()),
                        move || view! {
                            <ul class="lines">
                                <For
                                    each=move || shown.with(|b| b.as_ref().map(|b| b.lines.clone()).unwrap_or_default())
                                    key=|l| (l.category_id, l.spent_minor, l.limit_minor, l.category_name.clone())
                                    let(line)
                                >
                                    <LineRow line month=shown.with_untracked(|b| b.as_ref().map(|b| b.month.clone()).unwrap_or_default()) digits=digits() currency=currency() />
                                </For>
                            </ul>
                        },
                        || view! { <p class="empty">"No categories yet. Add one below."</p> },
                    )}
                    <NewCategoryForm />
                </section>
            </Deferred>
            <Deferred>
                <LazyMonthCards digits=digits() />
            </Deferred>
            <Deferred>
                <section class="card">
                    <h2>"Expenses"</h2>
                    <LazyExpenseSearch digits=digits() />
                    {show_if(
                        move || board.search.with(|q| q.trim().is_empty()) && board.ledger.with(|l| !l.rows().is_empty()),
                        move || view! {
                            <ul class="expenses" data-testid="expense-list">
                                <For
                                    each=move || {
                                        let who = who.get();
                                        board.ledger.with(|l| l.rows()).into_iter().filter(|row| match (who, row) {
                                            (None, _) => true,
                                            (Some(m), Row::Saved(e)) => e.created_by == m,
                                            (Some(m), Row::Pending(_)) => m == board.me,
                                        }).collect::<Vec<_>>()
                                    }
                                    key=|row| match row {
                                        Row::Saved(e) => (e.id, e.version, 0u8),
                                        Row::Pending(p) => (p.expense.id.unwrap_or_default(), 0, 1 + u8::from(p.offline)),
                                    }
                                    let(row)
                                >
                                    {match row {
                                        Row::Saved(expense) => view! { <ExpenseRow expense categories digits=digits() /> }.into_any(),
                                        Row::Pending(p) => {
                                            let name = categories.with_untracked(|c| {
                                                c.iter().find(|c| c.0 == p.expense.category_id).map(|c| c.1.clone()).unwrap_or_default()
                                            });
                                            let state = if p.offline { "waiting for the network" } else { "saving…" };
                                            view! {
                                                <li class="expense pending" data-testid="expense" data-pending="true">
                                                    <span class="what">
                                                        {format!(
                                                            "{} · {}{}",
                                                            p.expense.spent_on.clone().unwrap_or_default(),
                                                            name,
                                                            p.expense.note.as_ref().map(|n| format!(" · {n}")).unwrap_or_default()
                                                        )}
                                                    </span>
                                                    <span class=format!("who c{}", board.ledger.with_untracked(|l| l.member_colour(board.me))) data-testid="expense-member">"You"</span>
                                                    <span class="amount">{format_minor(p.expense.amount_minor, digits())}</span>
                                                    <span class="state">{state}</span>
                                                </li>
                                            }
                                                .into_any()
                                        }
                                    }}
                                </For>
                            </ul>
                        },
                        move || show_if(
                            move || board.search.with(|q| q.trim().is_empty()),
                            || view! { <p class="empty">"No expenses this month yet."</p> },
                            || (),
                        ),
                    )}
                    {move || month().map(|m| {
                        // (`Month::last_day` inline: calling it here put 393 B more into the
                        // first load, over the guard.)
                        let last = m.next().first_day().pred_opt().unwrap_or(m.first_day());
                        let year = m.year();
                        view! {
                            <p class="export">
                                "Download as CSV: "
                                <a href=format!("/api/export.csv?from={}&to={last}", m.first_day()) download data-testid="export-link">"this month"</a>
                                " · "
                                <a href=format!("/api/export.csv?from={year}-01-01&to={year}-12-31") download data-testid="export-year-link">{format!("all of {year}")}</a>
                            </p>
                        }
                    })}
                </section>
            </Deferred>
        </section>
    }
    .into_any()
}

/// Who spent what this month: each member's amount and share of the month's spending, live
/// with the list (its own expenses on their way included).
#[component]
pub(crate) fn MemberBreakdown(digits: u8) -> impl IntoView {
    let board = expect_context::<Board>();
    let me = board.me;
    let members = move || board.ledger.with(|l| l.spent_by_member(me));
    view! {
        <section class="card" data-testid="member-breakdown">
            <h2>"Who spent"</h2>
            <ul class="spenders">
                {move || {
                    let members = members();
                    let total = members.iter().map(|m| m.spent_minor).fold(0i64, i64::saturating_add);
                    members
                        .into_iter()
                        .map(|m| {
                            let share = m.share_of(total);
                            let colour = format!("who c{}", board.ledger.with_untracked(|l| l.member_colour(m.user_id)));
                            view! {
                                <li data-member=m.display_name.clone() data-spent-minor=m.spent_minor>
                                    <span class=colour>{m.display_name.clone()}</span>
                                    <span class="amount">{format_minor(m.spent_minor, digits)}</span>
                                    <span class="share">{format!("{share}%")}</span>
                                    <meter min="0" max="100" value=share aria-label=format!("{}'s share", m.display_name)>{format!("{share}%")}</meter>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}

/// The expense list's tools: the "Who" filter and the search of every month's notes (with
/// the filter's member): what is typed is sent a moment after the typing stops; results come
/// a page at a time, newest first.
#[component]
pub(crate) fn ExpenseSearch(digits: u8) -> impl IntoView {
    let board = expect_context::<Board>();
    let text = board.search;
    let found = RwSignal::new(Vec::<Expense>::new());
    let next = RwSignal::new(None::<String>);
    let state = RwSignal::new("");
    let error = RwSignal::new(None::<String>);
    let asked = StoredValue::new(0u32);
    // The filters beside the text: a category and an amount range, as typed.
    let category = RwSignal::new(None::<Uuid>);
    let min = RwSignal::new(String::new());
    let max = RwSignal::new(String::new());
    let run = move |more: bool| {
        asked.update_value(|n| *n += 1);
        let ticket = asked.get_value();
        let amount = |typed: RwSignal<String>, field: &str| {
            let typed = typed.get_untracked();
            (!typed.trim().is_empty())
                .then(|| crate::money::field_amount(&typed, digits, field, false))
                .transpose()
        };
        let (min_minor, max_minor) = match (amount(min, "from"), amount(max, "to")) {
            (Ok(a), Ok(b)) => {
                error.set(None);
                (a, b)
            }
            (Err(m), _) | (_, Err(m)) => {
                error.set(Some(m));
                return;
            }
        };
        let query = api::Search {
            text: text.get_untracked(),
            member: board.who.get_untracked(),
            category: category.get_untracked(),
            min_minor,
            max_minor,
        };
        if query.text.trim().is_empty()
            && query.category.is_none()
            && min_minor.is_none()
            && max_minor.is_none()
        {
            found.set(Vec::new());
            next.set(None);
            state.set("");
            return;
        }
        let cursor = if more { next.get_untracked() } else { None };
        state.set("searching");
        spawn_local(async move {
            // Wait for the typing to stop: a newer keystroke makes this search moot.
            #[cfg(not(feature = "ssr"))]
            if !more {
                gloo_timers::future::TimeoutFuture::new(300).await;
                if asked.try_get_value() != Some(ticket) {
                    return;
                }
            }
            let page = api::search_expenses(&query, cursor.as_deref()).await;
            if asked.try_get_value() != Some(ticket) {
                return;
            }
            match page {
                Ok(page) => {
                    error.set(None);
                    if more {
                        found.update(|f| f.extend(page.expenses));
                    } else {
                        found.set(page.expenses);
                    }
                    next.set(page.next_cursor);
                    state.set("done");
                }
                Err(e) => {
                    error.set(Some(e.message()));
                    state.set("");
                }
            }
        });
    };
    let category_name = move |id: Uuid| {
        board
            .category_choices
            .with_untracked(|c| c.iter().find(|c| c.0 == id).map(|c| c.1.clone()))
            .unwrap_or_default()
    };
    // (`try_`: the month's view that made these may be on its way out while this reruns.)
    let typed = |s: RwSignal<String>| s.try_with(|t| !t.trim().is_empty()) == Some(true);
    let filtered = move || category.try_get().flatten().is_some() || typed(min) || typed(max);
    let asking = move || filtered() || !text.with(|t| t.trim().is_empty());
    let changed = Callback::new(move |_| run(false));
    view! {
        <div class="search">
            <MemberFilter who=board.who picked=changed />
            {id_filter(("Category", "search-category", "Any"), category, board.category_choices, changed)}
            {search_field(("search-input", "Search the notes of every month", "Search every month's notes…", "200"), text, changed)}
            {search_field(("search-min", "Amount from", "From", "20"), min, changed)}
            {search_field(("search-max", "Amount to", "To", "20"), max, changed)}
            <ErrorNote error />
            {move || (state.get() == "searching" && found.with(Vec::is_empty)).then(|| view! { <p class="muted">"Searching…"</p> })}
            {move || (state.get() == "done" && found.with(Vec::is_empty)).then(|| view! {
                <p class="empty">{match text.get_untracked().trim() {
                    "" => "No expense in any month matches these filters.".to_string(),
                    t => format!("No expense in any month matches “{t}”."),
                }}</p>
            })}
            {move || (!found.with(Vec::is_empty) && asking()).then(|| view! {
                {(filtered() && text.with(|t| t.trim().is_empty())).then(|| view! { <h3>"Found in every month"</h3> })}
                <ul class="expenses" data-testid="search-results">
                    {found
                        .get()
                        .into_iter()
                        .map(|e| {
                            let colour = format!("who c{}", board.ledger.with_untracked(|l| l.member_colour(e.created_by)));
                            view! {
                                <li class="expense" data-testid="search-result">
                                    <span class="what">
                                        {format!("{} · {}{}", e.spent_on, category_name(e.category_id), e.note.as_ref().map(|n| format!(" · {n}")).unwrap_or_default())}
                                    </span>
                                    <span class=colour>{e.created_by_name.clone()}</span>
                                    <span class="amount">{format_minor(e.amount_minor, digits)}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                {move || next.with(Option::is_some).then(|| view! {
                    <button type="button" class="link" on:click=move |_| run(true)>"More results"</button>
                })}
            })}
        </div>
    }
}

/// Narrows the expense list to one member (shown when the family has more than one).
#[component]
fn MemberFilter(who: RwSignal<Option<Uuid>>, picked: Callback<()>) -> impl IntoView {
    let board = expect_context::<Board>();
    let me = board.me;
    let members = Signal::derive(move || {
        board.ledger.with(|l| {
            l.spent_by_member(me)
                .into_iter()
                .map(|m| (m.user_id, m.display_name))
                .collect::<Vec<_>>()
        })
    });
    show_if(
        // (`try_`: this reruns with the ledger, also while the month's view that made
        // `members` is being replaced.)
        move || members.try_with(|m| m.len() > 1) == Some(true),
        move || id_filter(("Who", "member-filter", "Everyone"), who, members, picked),
        || (),
    )
}

/// A search field (`words`: test id, label, placeholder, most characters) typed into
/// `value`; `changed` runs after each keystroke. One function for the three fields.
fn search_field(
    words: (&'static str, &'static str, &'static str, &'static str),
    value: RwSignal<String>,
    changed: Callback<()>,
) -> impl IntoView {
    view! {
        <input
            type="search"
            data-testid=words.0
            aria-label=words.1
            placeholder=words.2
            maxlength=words.3
            prop:value=move || value.get()
            on:input=move |ev| {
                value.set(event_target_value(&ev));
                changed.run(());
            }
        />
    }
}

/// A choice of one of `choices` (or none: `words.2`) into `chosen`, labelled `words.0` with
/// the test id `words.1`; `picked` runs after each choice. One function for every such
/// filter, so the browser's code holds its rendering once.
fn id_filter(
    words: (&'static str, &'static str, &'static str),
    chosen: RwSignal<Option<Uuid>>,
    choices: Signal<Vec<(Uuid, String)>>,
    picked: Callback<()>,
) -> impl IntoView {
    let on_change = move |ev: leptos::ev::Event| {
        chosen.set(Uuid::parse_str(&event_target_value(&ev)).ok());
        picked.run(());
    };
    view! {
        <label class="filter">
            {words.0}
            <select data-testid=words.1 on:change=on_change>
                <option value="" selected=move || chosen.try_get().flatten().is_none()>{words.2}</option>
                {move || choices
                    .try_get()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(id, name)| view! { <option value=id.to_string() selected=move || chosen.try_get().flatten() == Some(id)>{name}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

#[component]
fn LineRow(line: BudgetLine, month: String, digits: u8, currency: String) -> impl IntoView {
    let board = expect_context::<Board>();
    let editing = RwSignal::new(false);
    let limit_text = RwSignal::new(
        line.limit_minor
            .map(|l| format_minor(l, digits))
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let category_id = line.category_id;
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(limit_minor) = field_amount(&limit_text.get_untracked(), digits, "limit", false)
            .map_err(|m| error.set(Some(m)))
        else {
            return;
        };
        let month = month.clone();
        spawn_local(async move {
            match api::set_limit(month, category_id, SetLimit { limit_minor }).await {
                Ok(line) => {
                    error.set(None);
                    editing.set(false);
                    board.ledger.update(|l| l.line(line));
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let pct = line.percent_used.unwrap_or(0).clamp(0, 100);
    let status = match line.alert {
        Alert::Ok => "",
        Alert::Warning => " · nearly there",
        Alert::Exceeded => " · over the limit",
    };
    let summary = match line.limit_minor {
        Some(limit) => format!(
            "{} of {} {}{}",
            format_minor(line.spent_minor, digits),
            format_minor(limit, digits),
            currency,
            status
        ),
        None => format!(
            "{} {} · no limit",
            format_minor(line.spent_minor, digits),
            currency
        ),
    };
    view! {
        <li class=format!("line {}", line.alert.as_str()) data-testid="budget-line" data-category=line.category_name.clone() data-alert=line.alert.as_str()>
            <div class="line-head">
                <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><circle cx="5" cy="5" r="5" fill=line.color.clone() /></svg>
                <span class="name">{line.category_name.clone()}</span>
                <span class="amount">{summary}</span>
            </div>
            <progress max="100" value=pct aria-label=format!("{} used", line.category_name)>{format!("{pct}%")}</progress>
            <Show
                when=move || editing.get()
                fallback=move || view! {
                    <button type="button" class="link" on:click=move |_| editing.set(true)>
                        {if line.limit_minor.is_some() { "Change limit" } else { "Set limit" }}
                    </button>
                }
            >
                <form class="inline" on:submit=on_save.clone()>
                    <label>
                        "Monthly limit"
                        <input type="text" inputmode="decimal" name="limit" required bind:value=limit_text />
                    </label>
                    <button type="submit">"Save"</button>
                    <button type="button" class="link" on:click=move |_| editing.set(false)>"Cancel"</button>
                </form>
            </Show>
            <ErrorNote error />
            <DeleteCategory category_id name=line.category_name.clone() />
        </li>
    }
    .into_any()
}

/// Deleting a category: asked once, then done at once when nothing names it; when expenses
/// or challenges do, the server says how many and the person picks the category that takes
/// them (`?move_to=`), or keeps the category.
#[component]
fn DeleteCategory(category_id: Uuid, name: String) -> impl IntoView {
    let board = expect_context::<Board>();
    let asking = RwSignal::new(false);
    let in_use = RwSignal::new(None::<String>);
    let target = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let others = Signal::derive(move || {
        board
            .category_choices
            .get()
            .into_iter()
            .filter(|(id, _)| *id != category_id)
            .collect::<Vec<_>>()
    });
    let delete = move |move_to: Option<Uuid>| {
        pending.set(true);
        spawn_local(async move {
            match api::delete_category(category_id, move_to).await {
                Ok(()) => {
                    asking.set(false);
                    in_use.set(None);
                    error.set(None);
                    board.refresh();
                }
                Err(e) if e.code() == "category_in_use" => {
                    if target.with_untracked(String::is_empty) {
                        if let Some((first, _)) = others.get_untracked().first() {
                            target.set(first.to_string());
                        }
                    }
                    in_use.set(Some(e.message()));
                }
                Err(e) => error.set(Some(e.message())),
            }
            pending.set(false);
        });
    };
    let cancel = move |_| {
        asking.set(false);
        in_use.set(None);
        error.set(None);
    };
    let on_move = move |ev: SubmitEvent| {
        ev.prevent_default();
        match Uuid::parse_str(&target.get_untracked()) {
            Ok(to) => delete(Some(to)),
            Err(_) => error.set(Some("Choose the category that takes them.".into())),
        }
    };
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="link" on:click=move |_| asking.set(true)>"Delete category"</button>
            }
        >
            {
                let name = name.clone();
                move || match in_use.get() {
                    None => view! {
                        <p class="inline" data-testid="delete-category">
                            {format!("Delete {name}? ")}
                            <button type="button" disabled=move || pending.get() on:click=move |_| delete(None)>"Delete"</button>
                            <button type="button" class="link" on:click=cancel>"Cancel"</button>
                        </p>
                    }
                    .into_any(),
                    Some(message) => view! {
                        <form class="inline" on:submit=on_move data-testid="move-category-form">
                            <p role="status">{message}</p>
                            <Show
                                when=move || !others.with(Vec::is_empty)
                                fallback=|| view! { <p>"Add another category to move them to first."</p> }
                            >
                                <label>
                                    "Move them to"
                                    <select name="move_to" bind:value=target>
                                        <For each=move || others.get() key=|(id, _)| *id let((id, other))>
                                            <option value=id.to_string()>{other}</option>
                                        </For>
                                    </select>
                                </label>
                                <button type="submit" disabled=move || pending.get()>"Move and delete"</button>
                            </Show>
                            <button type="button" class="link" on:click=cancel>"Keep it"</button>
                        </form>
                    }
                    .into_any(),
                }
            }
        </Show>
        <ErrorNote error />
    }
}

#[component]
fn NewCategoryForm() -> impl IntoView {
    let board = expect_context::<Board>();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = NewCategory {
            name: name.get_untracked().trim().to_string(),
            color: None,
        };
        spawn_local(async move {
            match api::create_category(body).await {
                Ok(_) => {
                    name.set(String::new());
                    error.set(None);
                    board.refresh();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    view! {
        <form class="inline" on:submit=on_submit data-testid="category-form">
            <label>"New category" <input type="text" name="category" required maxlength="40" bind:value=name /></label>
            <button type="submit">"Add"</button>
            <ErrorNote error />
        </form>
    }
}

#[component]
fn ExpenseForm(
    categories: Signal<Vec<(Uuid, String)>>,
    digits: u8,
    today: String,
    currency: String,
) -> impl IntoView {
    let board = expect_context::<Board>();
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
        spawn_local(async move {
            if outbox::put_expense(&body).await {
                board.drain();
            } else {
                // No IndexedDB (private mode, old browser): send it directly.
                let id = body.id.unwrap_or_default();
                match api::add_expense(body).await {
                    Ok(saved) => {
                        board.ledger.update(|l| {
                            l.saved(saved);
                        });
                        board.after_change();
                    }
                    Err(e) => {
                        board.ledger.update(|l| {
                            l.refused(id);
                        });
                        error.set(Some(e.message()));
                    }
                }
            }
        });
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

#[component]
fn ExpenseRow(
    expense: Expense,
    categories: Signal<Vec<(Uuid, String)>>,
    digits: u8,
) -> impl IntoView {
    let board = expect_context::<Board>();
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let amount = RwSignal::new(format_minor(expense.amount_minor, digits));
    let note = RwSignal::new(expense.note.clone().unwrap_or_default());
    let day = RwSignal::new(expense.spent_on.clone());
    let category = RwSignal::new(expense.category_id.to_string());
    let category_name = categories.with_untracked(|c| {
        c.iter()
            .find(|c| c.0 == expense.category_id)
            .map(|c| c.1.clone())
            .unwrap_or_default()
    });
    let id = expense.id;
    let version = expense.version;
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(amount_minor) = field_amount(&amount.get_untracked(), digits, "amount", false)
            .map_err(|m| error.set(Some(m)))
        else {
            return;
        };
        let body = ExpensePatch {
            version,
            category_id: Uuid::parse_str(&category.get_untracked()).ok(),
            amount_minor: Some(amount_minor),
            note: Some(note.get_untracked().trim().to_string()),
            spent_on: Some(day.get_untracked()),
        };
        spawn_local(async move {
            match api::update_expense(id, body).await {
                Ok(saved) => {
                    board
                        .ledger
                        .update(|l| l.expense_event(EventKind::ExpenseUpdated, saved));
                    board.after_change();
                }
                Err(e) if e.status == 409 => {
                    error.set(Some(
                        "Someone changed this expense meanwhile; here is their version.".into(),
                    ));
                    board.refresh();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let deleted = expense.clone();
    let on_delete = move |_| {
        let deleted = deleted.clone();
        spawn_local(async move {
            match api::delete_expense(id).await {
                Ok(()) => {
                    board
                        .ledger
                        .update(|l| l.expense_event(EventKind::ExpenseDeleted, deleted));
                    board.after_change();
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let who = expense.created_by_name.clone();
    let who_class = format!(
        "who c{}",
        board
            .ledger
            .with_untracked(|l| l.member_colour(expense.created_by))
    );
    let label = format!(
        "{} · {}{}",
        expense.spent_on,
        category_name,
        expense
            .note
            .as_ref()
            .map(|n| format!(" · {n}"))
            .unwrap_or_default()
    );
    view! {
        <li class="expense" data-testid="expense">
            <Show
                when=move || editing.get()
                fallback={
                    let label = label.clone();
                    let on_delete = on_delete.clone();
                    let who = who.clone();
                    let who_class = who_class.clone();
                    move || view! {
                        <span class="what">{label.clone()}</span>
                        <span class=who_class.clone() data-testid="expense-member">{who.clone()}</span>
                        <span class="amount">{format_minor(expense.amount_minor, digits)}</span>
                        <span class="actions">
                            <button type="button" class="link" on:click=move |_| editing.set(true)>"Edit"</button>
                            <button type="button" class="link danger" on:click=on_delete.clone()>"Delete"</button>
                        </span>
                    }
                }
            >
                <form class="inline edit" on:submit=on_save>
                    <label>
                        "Category"
                        <select bind:value=category>
                            {categories
                                .get_untracked()
                                .into_iter()
                                .map(|(cid, name)| view! { <option value=cid.to_string()>{name}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label>"Amount" <input type="text" inputmode="decimal" required bind:value=amount /></label>
                    <label>"Note" <input type="text" maxlength="500" bind:value=note /></label>
                    <label>"Date" <input type="date" required bind:value=day /></label>
                    <button type="submit">"Save"</button>
                    <button type="button" class="link" on:click=move |_| editing.set(false)>"Cancel"</button>
                </form>
            </Show>
            <ErrorNote error />
        </li>
    }
    .into_any()
}
