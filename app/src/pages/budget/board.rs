//! The budget page's state, shared by its parts (the ledger, the live connection, the
//! outbox's drain, the expense form's draft, the filters, the charts' choices), with the
//! page's lifetime.

use super::parts::in_parts_chunk;
use crate::api::{self, ApiFailure};
use crate::components::one_at_a_time;
use crate::live::ledger::Ledger;
use crate::live::socket::LiveSocket;
use crate::model::*;
use crate::money::format_money;
use crate::offline::outbox;
use crate::ws::{BudgetAlert, BudgetUpdate, Event, EventKind, ExpenseEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::LazyViewError;
use std::time::Duration;
use uuid::Uuid;

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
    pub(super) retry: RwSignal<u32>,
    pub live: LiveSocket,
    pub(super) draining: StoredValue<(bool, bool)>,
    /// What is typed into the expense form, kept for the page's lifetime: moving to another
    /// month builds the form again, and the typing must survive it.
    pub(super) draft: Draft,
    /// The member whose expenses the list shows (everyone's when `None`), kept across months.
    pub who: RwSignal<Option<Uuid>>,
    /// What is searched for in every month's notes (the month's list shows when empty).
    pub search: RwSignal<String>,
    /// The category the pace chart shows (all when `None`) and the last six months once
    /// loaded (`trends`); here, with the page's lifetime, as the view of a month that is
    /// being replaced may still read them.
    pub pace_of: RwSignal<Option<Uuid>>,
    pub history: RwSignal<Option<Trends>>,
    /// The six months the server rendered the page with (its `data-trends`), read while the
    /// server's copy is still there, for the charts' chunk to parse (`trends`).
    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub rendered_trends: StoredValue<Option<String>>,
}

/// The expense form's fields.
#[derive(Clone, Copy)]
pub(super) struct Draft {
    pub(super) category: RwSignal<String>,
    pub(super) amount: RwSignal<String>,
    pub(super) note: RwSignal<String>,
    pub(super) day: RwSignal<String>,
}

impl Draft {
    pub(super) fn new() -> Self {
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
    pub(super) fn refresh(&self) {
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
    pub(super) fn after_change(&self) {
        if !self.live.is_connected() {
            self.refresh();
        }
    }

    pub(super) fn category_name(&self, id: Uuid) -> String {
        self.ledger.with_untracked(|l| {
            l.budget
                .as_ref()
                .and_then(|b| b.lines.iter().find(|x| x.category_id == id))
                .map(|x| x.category_name.clone())
                .unwrap_or_else(|| "a category".into())
        })
    }

    pub(super) fn money(&self, amount: i64) -> String {
        self.ledger.with_untracked(|l| match &l.budget {
            Some(b) => format_money(amount, b.minor_units, &b.currency),
            None => amount.to_string(),
        })
    }

    /// A budget event of the family channel.
    pub(super) fn apply(&self, event: &Event) {
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
    pub(super) fn drain(&self) {
        let board = *self;
        one_at_a_time(self.draining, move || async move {
            if let Err(error) = sending(board, Sending::Drain).await {
                leptos::logging::warn!("the outbox could not be loaded: {error}");
            }
        });
    }

    /// An expense typed on this device (shown already by the ledger): kept in the outbox,
    /// then sent; sent directly where the browser cannot keep it (no IndexedDB).
    pub(super) fn send(&self, expense: NewExpense, error: RwSignal<Option<String>>) {
        let board = *self;
        spawn_local(async move {
            let id = expense.id.unwrap_or_default();
            if let Err(e) = sending(board, Sending::New(expense, error)).await {
                board.ledger.update(|l| {
                    l.refused(id);
                });
                error.set(Some(format!(
                    "Not saved: the app's code could not be loaded ({e})."
                )));
            }
        });
    }

    async fn keep_and_send(self, expense: NewExpense, error: RwSignal<Option<String>>) {
        if outbox::put_expense(&expense).await {
            self.drain();
            return;
        }
        let id = expense.id.unwrap_or_default();
        match api::add_expense(expense).await {
            Ok(saved) => {
                self.ledger.update(|l| {
                    l.saved(saved);
                });
                self.after_change();
            }
            Err(e) => {
                self.ledger.update(|l| {
                    l.refused(id);
                });
                error.set(Some(e.message()));
            }
        }
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
                    crate::offline::pwa::request_sync();
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
    pub(super) fn settle_later(&self, id: Uuid) {
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

/// What the outbox's chunk does for the page.
pub(super) enum Sending {
    /// Sends what waits (`Board::drain`).
    Drain,
    /// Keeps and sends a new expense (`Board::send`).
    New(NewExpense, RwSignal<Option<String>>),
}

in_parts_chunk! {
    /// The outbox's work, from the page's parts chunk (`parts::in_parts_chunk`): reading and
    /// writing IndexedDB and sending what waits. The page starts a drain right after
    /// hydration, so the chunk is there by the time anyone submits the form (and the service
    /// worker keeps it for offline use).
    pub(super) async fn sending(board: Board, work: Sending) -> Result<(), LazyViewError> {
        match work {
            Sending::Drain => board.drain_once().await,
            Sending::New(expense, error) => board.keep_and_send(expense, error).await,
        }
        Ok(())
    }
}

/// Whether the browser may show notifications: `None` where it has none.
pub(super) fn notification_permission() -> Option<String> {
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
pub(super) fn take_page(
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

/// What a load of the budget page gives: the page (or why not) and the ledger's mark when the
/// load began (see [`Ledger::load_after`]).
pub(super) type Loaded = (Result<BudgetPage, ApiFailure>, u64);

/// The budget page's data as its resource holds it. On the server and for a load in the
/// browser it is read already; the browser hydrating a server page gets it as the server
/// wrote it (`Display`): whether it is a page or a failure, the mark, and the JSON, read a
/// task after hydration's (reading it is serde code the hydration task need not run, nor the
/// browser compile then).
#[derive(Clone, Debug)]
pub(super) enum PageData {
    Read(std::sync::Arc<Loaded>),
    Written { ok: bool, mark: u64, json: String },
}

impl std::fmt::Display for PageData {
    /// `ok <mark> <page JSON>` or `err <mark> <failure JSON>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageData::Read(loaded) => {
                let (result, mark) = &**loaded;
                let written = match result {
                    Ok(page) => serde_json::to_string(page).map(|json| ("ok", json)),
                    Err(failure) => serde_json::to_string(failure).map(|json| ("err", json)),
                };
                // (Never fails: these types write as JSON; if one did, the browser is told so.)
                let (kind, json) = written.unwrap_or_else(|e| {
                    let failure = ApiFailure::new(500, "internal", format!("unwritable: {e}"));
                    ("err", serde_json::to_string(&failure).unwrap_or_default())
                });
                write!(f, "{kind} {mark} {json}")
            }
            PageData::Written { ok, mark, json } => {
                write!(f, "{} {mark} {json}", if *ok { "ok" } else { "err" })
            }
        }
    }
}

impl std::str::FromStr for PageData {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ' ');
        let ok = match parts.next() {
            Some("ok") => true,
            Some("err") => false,
            _ => return Err("the page's data: neither ok nor err".into()),
        };
        let mark = parts
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or("the page's data: no mark")?;
        let json = parts.next().ok_or("the page's data: no JSON")?.to_string();
        Ok(PageData::Written { ok, mark, json })
    }
}

impl PageData {
    /// Whether it is a page (not a failure), without reading it.
    pub fn is_page(&self) -> bool {
        match self {
            PageData::Read(loaded) => loaded.0.is_ok(),
            PageData::Written { ok, .. } => *ok,
        }
    }

    /// The page or the failure, read (JSON that does not read is a failure to say).
    pub fn read(&self) -> Loaded {
        match self {
            PageData::Read(loaded) => (**loaded).clone(),
            PageData::Written { ok, mark, json } => {
                let unreadable = |e: serde_json::Error| {
                    ApiFailure::new(
                        0,
                        "unreadable",
                        format!("the page's data could not be read: {e}"),
                    )
                };
                let result = if *ok {
                    serde_json::from_str(json).map_err(unreadable)
                } else {
                    serde_json::from_str(json).map_err(unreadable).and_then(Err)
                };
                (result, *mark)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn page() -> BudgetPage {
        let food = Category {
            id: uuid::Uuid::from_u128(1),
            name: "Food with spaces".into(),
            color: "#000000".into(),
        };
        let lines = vec![BudgetLine::compute(&food, Some(10_000), 2_500)];
        BudgetPage {
            budget: Budget {
                month: "2026-12".into(),
                today: "2026-12-06".into(),
                currency: "EUR".into(),
                minor_units: 2,
                totals: Totals::of(&lines),
                lines,
                members: vec![],
            },
            expenses: vec![],
            load: None,
            position: None,
            trends: None,
        }
    }

    /// Written by the server, read by the browser: the same page (or failure) and mark, and
    /// whether it is a page is known before the JSON is read.
    #[test]
    fn page_data_reads_back_what_the_server_wrote() {
        let failure = ApiFailure::new(404, "not_found", "no such month");
        for (loaded, is_page) in [((Ok(page()), 7), true), ((Err(failure), 0), false)] {
            let written = PageData::Read(Arc::new(loaded.clone())).to_string();
            let read: PageData = written.parse().unwrap();
            assert!(matches!(read, PageData::Written { .. }));
            assert_eq!(read.is_page(), is_page);
            assert_eq!(read.read(), loaded);
            assert_eq!(read.to_string(), written);
        }
    }

    #[test]
    fn page_data_that_does_not_read_says_so() {
        for bad in ["", "maybe 1 {}", "ok", "ok x {}", "ok 1"] {
            assert!(bad.parse::<PageData>().is_err(), "{bad:?}");
        }
        let unreadable: PageData = "ok 3 {\"budget\":".parse().unwrap();
        assert!(unreadable.is_page());
        let (result, mark) = unreadable.read();
        assert_eq!(mark, 3);
        let failure = result.unwrap_err();
        assert_eq!(
            (failure.status, failure.body.error.code.as_str()),
            (0, "unreadable")
        );
    }
}
