//! The browser's WebSocket client logic, without the browser: reconnect backoff, the outbox
//! of frames waiting for a connection, and where each channel stands for recovery. The
//! browser side (gloo-net, signals) drives these; they are plain data, so they are tested
//! here without a socket.

use crate::model::{Budget, BudgetLine, Category, Expense, MemberSpent, NewExpense, Totals};
use crate::ws::{BudgetUpdate, ClientFrame, Control, Event, EventKind, ExpenseEvent, Position};
use std::collections::{HashMap, HashSet, VecDeque};

/// Full-jitter exponential backoff: the n-th retry waits a random time in
/// `[0, min(MAX, BASE · 2ⁿ)]`; a successful connection resets it.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub const BASE_MS: f64 = 500.0;
    pub const MAX_MS: f64 = 30_000.0;

    /// The delay before the next attempt, given a uniform random number in `[0, 1)`.
    pub fn next_delay_ms(&mut self, random: f64) -> u32 {
        let ceiling = (Self::BASE_MS * 2f64.powi(self.attempt.min(16) as i32)).min(Self::MAX_MS);
        self.attempt = self.attempt.saturating_add(1);
        (random.clamp(0.0, 1.0) * ceiling) as u32
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// After the server closed with `code`, may the client reconnect? Never after 4403.
pub fn may_reconnect(code: u16) -> bool {
    code != crate::ws::close::FORBIDDEN
}

/// Frames sent while disconnected, kept in order until the connection is back.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    waiting: VecDeque<ClientFrame>,
}

impl Outbox {
    pub fn push(&mut self, frame: ClientFrame) {
        // A typing indicator is only worth its latest state.
        if let ClientFrame::Typing { channel, .. } = &frame {
            self.waiting
                .retain(|f| !matches!(f, ClientFrame::Typing { channel: c, .. } if c == channel));
        }
        self.waiting.push_back(frame);
    }

    /// Everything waiting, oldest first, leaving the outbox empty.
    pub fn drain(&mut self) -> Vec<ClientFrame> {
        self.waiting.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// What to do with a frame from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A new event: apply it.
    Apply,
    /// Seen before (a replay after recovery): ignore it.
    Duplicate,
    /// Something was missed, or the server lost the history: reload over HTTP.
    Reload,
}

/// Where a page's data stands in a channel when its connection starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// Only what happens from now on matters.
    Live,
    /// The data is as of this position (read just before it): the first subscription
    /// resumes from there, so what was published in between is replayed.
    At(Position),
    /// The data was read at a position nobody knows (the browser loaded it): once
    /// subscribed, it is loaded again.
    Unknown,
}

/// Where the client stands in each channel, to resubscribe with `since` after a reconnect.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    at: HashMap<String, Position>,
    /// Channels whose first `subscribed` asks the page to reload ([`Start::Unknown`]).
    unknown: HashSet<String>,
}

impl Positions {
    /// Positions for channels as the page starts them.
    pub fn new(starts: &[(String, Start)]) -> Self {
        let mut p = Self::default();
        for (channel, start) in starts {
            match start {
                Start::Live => {}
                Start::At(position) => {
                    p.at.insert(channel.clone(), position.clone());
                }
                Start::Unknown => {
                    p.unknown.insert(channel.clone());
                }
            }
        }
        p
    }

    /// The `since` to send when subscribing to `channel` again.
    pub fn since(&self, channel: &str) -> Option<Position> {
        self.at.get(channel).cloned()
    }

    /// A `subscribed` answer: recovered, the replay follows; not recovered, reload.
    pub fn subscribed(&mut self, control: &Control) -> Step {
        let Control::Subscribed {
            channel,
            epoch,
            offset,
            recovered,
            ..
        } = control
        else {
            return Step::Apply;
        };
        let unknown_age = self.unknown.remove(channel);
        let had = self.at.contains_key(channel);
        if !recovered {
            self.at.insert(
                channel.clone(),
                Position {
                    epoch: epoch.clone(),
                    offset: *offset,
                },
            );
            // A fresh start needs nothing; a failed recovery, or data of an unknown age, must
            // be loaded over HTTP again.
            return if had || unknown_age {
                Step::Reload
            } else {
                Step::Apply
            };
        }
        Step::Apply
    }

    /// A channel event: in order, a duplicate, or a sign that something was missed.
    pub fn event(&mut self, event: &Event) -> Step {
        let (Some(epoch), Some(offset)) = (&event.epoch, event.offset) else {
            return Step::Apply; // relayed events (typing, presence) carry no position
        };
        match self.at.get_mut(&event.channel) {
            None => {
                self.at.insert(
                    event.channel.clone(),
                    Position {
                        epoch: epoch.clone(),
                        offset,
                    },
                );
                Step::Apply
            }
            Some(p) if &p.epoch != epoch => {
                *p = Position {
                    epoch: epoch.clone(),
                    offset,
                };
                Step::Reload
            }
            Some(p) if offset <= p.offset => Step::Duplicate,
            Some(p) if offset == p.offset + 1 => {
                p.offset = offset;
                Step::Apply
            }
            Some(p) => {
                p.offset = offset;
                Step::Reload
            }
        }
    }
}

/// An expense entered on this device that the server's budget does not show yet.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingExpense {
    /// Always with its client id (`id`), so a resend is idempotent.
    pub expense: NewExpense,
    /// The network failed: it waits in the outbox (IndexedDB) for the connection.
    pub offline: bool,
    /// The server saved it (HTTP answer).
    pub saved: bool,
    /// Its `expense_created` arrived, so the next `budget_update` counts it.
    pub seen: bool,
}

impl PendingExpense {
    pub fn new(expense: NewExpense) -> Self {
        Self {
            expense,
            offline: false,
            saved: false,
            seen: false,
        }
    }

    fn month(&self, today: &str) -> String {
        let day = self.expense.spent_on.as_deref().unwrap_or(today);
        day.get(..7).unwrap_or_default().to_string()
    }
}

/// A row of the expense list: saved on the server, or still on its way.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    Saved(Expense),
    Pending(PendingExpense),
}

/// The month shown on `/budget`: the server's budget and expenses as last loaded or
/// received live, and this device's own expenses on their way (optimistic), added to the
/// figures until the server's numbers include them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    pub budget: Option<Budget>,
    pub expenses: Vec<Expense>,
    pub pending: Vec<PendingExpense>,
    /// The budget events applied lately, numbered: data whose request began before some of
    /// them may predate them, so they are applied again on top of it.
    recent: VecDeque<(u64, Change)>,
    applied: u64,
}

/// A budget event as the ledger applies it, read from the event's JSON once: the events are
/// read where they arrive (the live connection's chunk), so the ledger's loads, in the main
/// module, re-apply them without the JSON reader for them.
#[derive(Clone, Debug, PartialEq)]
enum Change {
    Expense(EventKind, Expense),
    Budget(BudgetUpdate),
}

impl Change {
    fn of(event: &Event) -> Option<Self> {
        match event.kind {
            EventKind::ExpenseCreated | EventKind::ExpenseUpdated | EventKind::ExpenseDeleted => {
                serde_json::from_value::<ExpenseEvent>(event.data.clone())
                    .ok()
                    .map(|e| Change::Expense(event.kind, e.expense))
            }
            EventKind::BudgetUpdate => serde_json::from_value::<BudgetUpdate>(event.data.clone())
                .ok()
                .map(Change::Budget),
            _ => None,
        }
    }
}

/// How many applied events a ledger keeps for loads that were under way meanwhile.
const RECENT_EVENTS: usize = 256;

fn month_of(day: &str) -> &str {
    day.get(..7).unwrap_or_default()
}

impl Ledger {
    fn month(&self) -> Option<&str> {
        self.budget.as_ref().map(|b| b.month.as_str())
    }

    /// A fresh load over HTTP: it holds every expense the server had saved.
    pub fn load(&mut self, budget: Budget, expenses: Vec<Expense>) {
        self.pending.retain(|p| {
            !p.saved && !p.seen && !expenses.iter().any(|e| Some(e.id) == p.expense.id)
        });
        self.budget = Some(budget);
        self.expenses = expenses;
    }

    /// Where the ledger stands in the events it applied: a load begun now passes this to
    /// [`Ledger::load_after`].
    pub fn mark(&self) -> u64 {
        self.applied
    }

    /// Data from a request begun at `mark`: loaded, then the events applied since are
    /// applied again (the data may be older than they are; applying one twice changes
    /// nothing, since expenses are replaced by id and a `budget_update` carries the figures).
    pub fn load_after(&mut self, budget: Budget, expenses: Vec<Expense>, mark: u64) {
        self.load(budget, expenses);
        let later: Vec<Change> = self
            .recent
            .iter()
            .filter(|(n, _)| *n > mark)
            .map(|(_, c)| c.clone())
            .collect();
        for change in later {
            self.absorb(change);
        }
    }

    /// How many budget events this page applied: a change of it means the family changed
    /// something (a recurring rule's change, for one, arrives as a `budget_update`).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// A budget event of the family channel (`expense_*`, `budget_update`), kept read (a
    /// `Change`) for the loads under way.
    pub fn event(&mut self, event: &Event) {
        self.applied += 1;
        let Some(change) = Change::of(event) else {
            return;
        };
        if self.recent.len() == RECENT_EVENTS {
            self.recent.pop_front();
        }
        self.recent.push_back((self.applied, change.clone()));
        self.absorb(change);
    }

    fn absorb(&mut self, change: Change) {
        match change {
            Change::Expense(kind, expense) => self.expense_event(kind, expense),
            Change::Budget(update) => self.budget_update(&update),
        }
    }

    /// This device entered an expense (or found it in the outbox). One the server's
    /// expenses hold already is counted in its budget: it is not added again (a page loaded
    /// while its first sending was under way finds it saved and still in the outbox).
    pub fn add(&mut self, expense: NewExpense) {
        let known = self.pending.iter().any(|p| p.expense.id == expense.id)
            || self.expenses.iter().any(|e| Some(e.id) == expense.id);
        if !known {
            self.pending.push(PendingExpense::new(expense));
        }
    }

    /// The family's categories (id, name), in the budget's order.
    pub fn categories(&self) -> Vec<(uuid::Uuid, String)> {
        self.budget
            .as_ref()
            .map(|b| {
                b.lines
                    .iter()
                    .map(|x| (x.category_id, x.category_name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pending_mut(&mut self, id: uuid::Uuid) -> Option<&mut PendingExpense> {
        self.pending.iter_mut().find(|p| p.expense.id == Some(id))
    }

    /// The network failed: the expense waits for the connection.
    pub fn waiting(&mut self, id: uuid::Uuid) {
        if let Some(p) = self.pending_mut(id) {
            p.offline = true;
        }
    }

    /// The server refused the expense: it is rolled back.
    pub fn refused(&mut self, id: uuid::Uuid) -> Option<PendingExpense> {
        let at = self.pending.iter().position(|p| p.expense.id == Some(id))?;
        Some(self.pending.remove(at))
    }

    /// The server saved the expense. True while the budget still waits for its
    /// `budget_update` (the caller reloads if that never comes).
    pub fn saved(&mut self, expense: Expense) -> bool {
        let shown = self.month() == Some(month_of(&expense.spent_on));
        let id = expense.id;
        if shown {
            self.upsert(expense);
        }
        match self.pending_mut(id) {
            Some(p) if shown => {
                p.saved = true;
                p.offline = false;
                true
            }
            Some(_) => {
                self.refused(id);
                false
            }
            None => false,
        }
    }

    fn upsert(&mut self, expense: Expense) {
        match self.expenses.iter_mut().find(|e| e.id == expense.id) {
            Some(e) if e.version <= expense.version => *e = expense,
            Some(_) => {}
            None => self.expenses.push(expense),
        }
        // Newest day first, then newest entry, as the API lists them.
        self.expenses.sort_by(|a, b| {
            b.spent_on
                .cmp(&a.spent_on)
                .then_with(|| b.created_at.cmp(&a.created_at))
        });
    }

    /// `expense_created`, `expense_updated` or `expense_deleted` from anyone.
    pub fn expense_event(&mut self, kind: EventKind, expense: Expense) {
        if let Some(p) = self.pending_mut(expense.id) {
            p.seen = true;
        }
        if self.month() != Some(month_of(&expense.spent_on)) {
            // Moved out of the month shown, or another month's.
            self.expenses.retain(|e| e.id != expense.id);
            return;
        }
        match kind {
            EventKind::ExpenseDeleted => self.expenses.retain(|e| e.id != expense.id),
            _ => self.upsert(expense),
        }
    }

    /// `budget_update`: the month's figures as the server has them now.
    pub fn budget_update(&mut self, update: &BudgetUpdate) {
        let Some(budget) = self.budget.as_mut() else {
            return;
        };
        if budget.month != update.month {
            return;
        }
        budget.lines = update.lines.clone();
        budget.totals = update.totals.clone();
        self.pending.retain(|p| !p.seen);
    }

    /// A limit changed (this device's own answer).
    pub fn line(&mut self, line: BudgetLine) {
        if let Some(budget) = self.budget.as_mut() {
            if let Some(l) = budget
                .lines
                .iter_mut()
                .find(|l| l.category_id == line.category_id)
            {
                *l = line;
            }
            budget.totals = Totals::of(&budget.lines);
        }
    }

    /// The budget as shown: the server's, plus what is still on its way.
    pub fn shown(&self) -> Option<Budget> {
        let mut budget = self.budget.clone()?;
        let mut changed = false;
        for p in &self.pending {
            if p.month(&budget.today) != budget.month {
                continue;
            }
            if let Some(line) = budget
                .lines
                .iter_mut()
                .find(|l| l.category_id == p.expense.category_id)
            {
                let category = Category {
                    id: line.category_id,
                    name: line.category_name.clone(),
                    color: line.color.clone(),
                };
                let spent = line.spent_minor.saturating_add(p.expense.amount_minor);
                *line = BudgetLine::compute(&category, line.limit_minor, spent);
                changed = true;
            }
        }
        if changed {
            budget.totals = Totals::of(&budget.lines);
        }
        Some(budget)
    }

    /// The expense list as shown: what is on its way first, then what the server saved.
    pub fn rows(&self) -> Vec<Row> {
        let today = self.budget.as_ref().map(|b| b.today.as_str()).unwrap_or("");
        let month = self.month().unwrap_or("");
        self.pending
            .iter()
            .filter(|p| p.month(today) == month)
            .filter(|p| !self.expenses.iter().any(|e| Some(e.id) == p.expense.id))
            .cloned()
            .map(Row::Pending)
            .chain(self.expenses.iter().cloned().map(Row::Saved))
            .collect()
    }

    /// A member's colour, 0–7: their place in the family (the order they joined), so the
    /// first eight members never share one.
    pub fn member_colour(&self, member: uuid::Uuid) -> usize {
        let place = self
            .budget
            .as_ref()
            .and_then(|b| b.members.iter().position(|m| m.user_id == member));
        place.unwrap_or_else(|| member.as_u128() as usize) % 8
    }

    /// Who spent what of the month shown, as the list shows it: the family's members in the
    /// order they joined (from the budget, so those who spent nothing are there too), then
    /// anyone else the list names; `me` for this device's expenses on their way.
    pub fn spent_by_member(&self, me: uuid::Uuid) -> Vec<MemberSpent> {
        let mut members: Vec<MemberSpent> = self
            .budget
            .as_ref()
            .map(|b| b.members.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|m| MemberSpent {
                spent_minor: 0,
                ..m
            })
            .collect();
        for row in self.rows() {
            let (who, name, amount) = match &row {
                Row::Saved(e) => (e.created_by, e.created_by_name.as_str(), e.amount_minor),
                Row::Pending(p) => (me, "", p.expense.amount_minor),
            };
            match members.iter_mut().find(|m| m.user_id == who) {
                Some(m) => m.spent_minor = m.spent_minor.saturating_add(amount),
                None => members.push(MemberSpent {
                    user_id: who,
                    display_name: name.to_string(),
                    spent_minor: amount,
                }),
            }
        }
        members
    }
}

/// A chat message as the chat shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatLine {
    pub client_id: String,
    pub user_id: uuid::Uuid,
    pub display_name: String,
    pub text: String,
    /// Its place in the family channel, once stored.
    pub offset: Option<u64>,
    /// Stored by the server (acked, or received from it).
    pub delivered: bool,
}

impl From<crate::model::ChatMessage> for ChatLine {
    fn from(m: crate::model::ChatMessage) -> Self {
        ChatLine {
            client_id: m.client_id,
            user_id: m.user_id,
            display_name: m.display_name,
            text: m.text,
            offset: m.offset,
            delivered: true,
        }
    }
}

/// The family chat: history, live messages and own messages on their way, each once, in
/// channel order (own unsent ones last).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatLog {
    pub lines: Vec<ChatLine>,
}

impl ChatLog {
    /// How many messages the page keeps.
    pub const KEEP: usize = 200;

    /// A message from the server (history or a `chat` event).
    pub fn received(&mut self, line: ChatLine) {
        match self
            .lines
            .iter_mut()
            .find(|l| l.client_id == line.client_id)
        {
            Some(l) => *l = line,
            None => self.lines.push(line),
        }
        self.order();
    }

    /// An own message, sent (or waiting in the outbox).
    pub fn sending(&mut self, line: ChatLine) {
        if !self.lines.iter().any(|l| l.client_id == line.client_id) {
            self.lines.push(line);
        }
        self.order();
    }

    /// The server stored an own message.
    pub fn acked(&mut self, client_id: &str, offset: u64) {
        if let Some(l) = self.lines.iter_mut().find(|l| l.client_id == client_id) {
            l.delivered = true;
            l.offset = Some(offset);
        }
        self.order();
    }

    fn order(&mut self) {
        self.lines.sort_by_key(|l| l.offset.unwrap_or(u64::MAX));
        let excess = self.lines.len().saturating_sub(Self::KEEP);
        self.lines.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::EventKind;

    #[test]
    fn backoff_grows_to_thirty_seconds_with_full_jitter_and_resets() {
        let mut b = Backoff::default();
        let ceilings: Vec<u32> = (0..10).map(|_| b.next_delay_ms(0.999_999)).collect();
        assert_eq!(ceilings[0], 499);
        assert_eq!(ceilings[1], 999);
        assert_eq!(ceilings[2], 1999);
        assert!(ceilings[7..].iter().all(|&c| c == 29_999));
        assert_eq!(b.next_delay_ms(0.0), 0, "full jitter reaches zero");
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert_eq!(b.next_delay_ms(0.5), 250);
        assert!(!may_reconnect(4403));
        assert!(may_reconnect(4001) && may_reconnect(4008) && may_reconnect(1006));
    }

    #[test]
    fn the_outbox_keeps_order_and_only_the_last_typing_state() {
        let mut o = Outbox::default();
        let chat = |id: &str| ClientFrame::Chat {
            id: id.into(),
            channel: "family:x".into(),
            text: "hi".into(),
        };
        let typing = |on| ClientFrame::Typing {
            channel: "family:x".into(),
            on,
        };
        o.push(chat("1"));
        o.push(typing(true));
        o.push(chat("2"));
        o.push(typing(false));
        assert_eq!(o.len(), 3);
        assert_eq!(o.drain(), vec![chat("1"), chat("2"), typing(false)]);
        assert!(o.is_empty());
    }

    fn event(epoch: &str, offset: u64) -> Event {
        Event {
            kind: EventKind::BudgetUpdate,
            channel: "family:x".into(),
            epoch: Some(epoch.into()),
            offset: Some(offset),
            ts: 0,
            data: serde_json::Value::Null,
        }
    }

    #[test]
    fn positions_apply_in_order_skip_replays_and_ask_to_reload_on_gaps() {
        let mut p = Positions::default();
        assert_eq!(p.event(&event("e", 4)), Step::Apply);
        assert_eq!(p.event(&event("e", 5)), Step::Apply);
        assert_eq!(p.event(&event("e", 5)), Step::Duplicate);
        assert_eq!(p.since("family:x").unwrap().offset, 5);
        assert_eq!(p.event(&event("e", 7)), Step::Reload, "6 was missed");
        assert_eq!(p.event(&event("f", 1)), Step::Reload, "a new epoch");
        let failed = Control::Subscribed {
            id: "s".into(),
            channel: "family:x".into(),
            epoch: "g".into(),
            offset: 9,
            recovered: false,
        };
        assert_eq!(p.subscribed(&failed), Step::Reload);
        assert_eq!(p.since("family:x").unwrap().epoch, "g");
        let mut fresh = Positions::default();
        assert_eq!(
            fresh.subscribed(&failed),
            Step::Apply,
            "a first subscription"
        );
    }

    #[test]
    fn a_page_resumes_from_the_position_its_data_was_read_at() {
        let at = Position {
            epoch: "e".into(),
            offset: 3,
        };
        let subscribed = |recovered| Control::Subscribed {
            id: "s".into(),
            channel: "family:x".into(),
            epoch: "e".into(),
            offset: 5,
            recovered,
        };
        // Data read at offset 3: the first subscription asks from 3 and takes the replay.
        let mut p = Positions::new(&[("family:x".into(), Start::At(at.clone()))]);
        assert_eq!(p.since("family:x"), Some(at.clone()));
        assert_eq!(p.subscribed(&subscribed(true)), Step::Apply);
        assert_eq!(p.event(&event("e", 4)), Step::Apply);
        assert_eq!(p.event(&event("e", 5)), Step::Apply);
        // The history no longer holds 4: the data is read again.
        let mut p = Positions::new(&[
            ("family:x".into(), Start::At(at)),
            ("user:y".into(), Start::Live),
        ]);
        assert_eq!(p.since("user:y"), None);
        assert_eq!(p.subscribed(&subscribed(false)), Step::Reload);
        assert_eq!(p.event(&event("e", 6)), Step::Apply);
        assert_eq!(p.since("family:x").unwrap().offset, 6);
        // Data of unknown age: loaded again once subscribed, then only on trouble.
        let mut p = Positions::new(&[("family:x".into(), Start::Unknown)]);
        assert_eq!(p.since("family:x"), None);
        assert_eq!(p.subscribed(&subscribed(false)), Step::Reload);
        assert_eq!(p.event(&event("e", 6)), Step::Apply);
    }

    fn budget_with(spent: i64) -> Budget {
        let food = Category {
            id: uuid::Uuid::from_u128(1),
            name: "Food".into(),
            color: "#000000".into(),
        };
        let lines = vec![BudgetLine::compute(&food, Some(10_000), spent)];
        Budget {
            month: "2026-11".into(),
            today: "2026-11-26".into(),
            currency: "EUR".into(),
            minor_units: 2,
            totals: Totals::of(&lines),
            lines,
            members: vec![],
        }
    }

    fn new_expense(id: u128, amount: i64, day: &str) -> NewExpense {
        NewExpense {
            id: Some(uuid::Uuid::from_u128(id)),
            category_id: uuid::Uuid::from_u128(1),
            amount_minor: amount,
            note: None,
            spent_on: Some(day.into()),
        }
    }

    fn saved(e: &NewExpense) -> Expense {
        Expense {
            id: e.id.unwrap(),
            category_id: e.category_id,
            amount_minor: e.amount_minor,
            note: None,
            spent_on: e.spent_on.clone().unwrap(),
            created_by: uuid::Uuid::nil(),
            created_by_name: String::new(),
            created_at: "2026-11-26T10:00:00Z".into(),
            updated_at: "2026-11-26T10:00:00Z".into(),
            version: 1,
            recurring_id: None,
        }
    }

    #[test]
    fn spending_per_member_lists_everyone_and_counts_the_list() {
        let (ana, ben, cleo) = (
            uuid::Uuid::from_u128(10),
            uuid::Uuid::from_u128(11),
            uuid::Uuid::from_u128(12),
        );
        let member = |id, name: &str| MemberSpent {
            user_id: id,
            display_name: name.into(),
            spent_minor: 999,
        };
        let mut budget = budget_with(0);
        budget.members = vec![member(ana, "Ana"), member(ben, "Ben")];
        let by = |who, name: &str, id, amount| Expense {
            created_by: who,
            created_by_name: name.into(),
            ..saved(&new_expense(id, amount, "2026-11-02"))
        };
        let ledger = Ledger {
            budget: Some(budget),
            expenses: vec![
                by(ana, "Ana", 1, 100),
                by(ana, "Ana", 2, 250),
                by(cleo, "Cleo", 3, 5),
            ],
            pending: vec![PendingExpense::new(new_expense(4, 40, "2026-11-03"))],
            ..Ledger::default()
        };
        let spent = ledger.spent_by_member(ben);
        let got: Vec<_> = spent
            .iter()
            .map(|m| (m.display_name.as_str(), m.spent_minor))
            .collect();
        // The budget's figures are replaced by the list's (live and optimistic); Cleo, who
        // left the roster, still shows with the name her expense carries.
        assert_eq!(got, vec![("Ana", 350), ("Ben", 40), ("Cleo", 5)]);
        assert_eq!(spent[0].share_of(395), 88);
        assert_eq!(spent[1].share_of(0), 0);
    }

    fn update(b: &Budget) -> BudgetUpdate {
        BudgetUpdate {
            month: b.month.clone(),
            line: None,
            lines: b.lines.clone(),
            totals: b.totals.clone(),
            by: crate::ws::Actor {
                user_id: uuid::Uuid::nil(),
                display_name: "Ann".into(),
            },
        }
    }

    #[test]
    fn an_own_expense_shows_at_once_and_is_counted_once_when_the_server_confirms_it() {
        let mut l = Ledger::default();
        l.load(budget_with(7_000), vec![]);
        let e = new_expense(9, 1_500, "2026-11-20");
        l.add(e.clone());
        let shown = l.shown().unwrap();
        assert_eq!(shown.totals.spent_minor, 8_500);
        assert_eq!(shown.lines[0].alert, crate::model::Alert::Warning);
        assert!(matches!(l.rows()[..], [Row::Pending(_)]));

        // The events (created, then the budget) may come before the HTTP answer.
        l.expense_event(EventKind::ExpenseCreated, saved(&e));
        assert_eq!(l.shown().unwrap().totals.spent_minor, 8_500);
        assert!(matches!(l.rows()[..], [Row::Saved(_)]), "one row, not two");
        l.budget_update(&update(&budget_with(8_500)));
        assert_eq!(l.shown().unwrap().totals.spent_minor, 8_500, "not twice");
        assert!(!l.saved(saved(&e)), "nothing left to wait for");
        assert_eq!(l.rows().len(), 1);

        // Without the socket, the answer comes first and a reload settles it.
        let e2 = new_expense(10, 100, "2026-11-21");
        l.add(e2.clone());
        assert!(l.saved(saved(&e2)));
        assert_eq!(l.shown().unwrap().totals.spent_minor, 8_600);
        l.load(budget_with(8_600), l.expenses.clone());
        assert_eq!(l.shown().unwrap().totals.spent_minor, 8_600);
        assert!(l.pending.is_empty());
    }

    fn family_event(kind: EventKind, data: serde_json::Value) -> Event {
        Event {
            kind,
            channel: "family:x".into(),
            epoch: None,
            offset: None,
            ts: 0,
            data,
        }
    }

    #[test]
    fn a_load_that_began_before_live_events_is_not_left_older_than_them() {
        let mut l = Ledger::default();
        l.load(budget_with(7_000), vec![]);
        let before = l.mark();
        // While a reload is under way, another member's expense arrives live.
        let e = saved(&new_expense(9, 1_500, "2026-11-20"));
        let by = serde_json::json!({"user_id": uuid::Uuid::nil(), "display_name": "Max"});
        l.event(&family_event(
            EventKind::ExpenseCreated,
            serde_json::json!({"expense": e, "by": by}),
        ));
        l.event(&family_event(
            EventKind::BudgetUpdate,
            serde_json::to_value(update(&budget_with(8_500))).unwrap(),
        ));
        assert_eq!(l.shown().unwrap().totals.spent_minor, 8_500);
        // The reload's data was read before that expense: the events apply again on top.
        l.load_after(budget_with(7_000), vec![], before);
        assert_eq!(l.shown().unwrap().totals.spent_minor, 8_500);
        assert_eq!(l.expenses.len(), 1);
        // A load begun after them takes its data as it is.
        let after = l.mark();
        l.load_after(budget_with(9_000), vec![], after);
        assert_eq!(l.shown().unwrap().totals.spent_minor, 9_000);
        assert!(l.expenses.is_empty());
    }

    #[test]
    fn an_outbox_expense_the_loaded_page_holds_already_is_not_counted_twice() {
        // The page was reloaded while the expense was being sent: the server saved it (the
        // load shows it) but the outbox still holds it, and the page sends it again.
        let e = new_expense(7, 1_234, "2026-11-26");
        let mut l = Ledger::default();
        l.load(budget_with(1_234), vec![saved(&e)]);
        l.add(e.clone());
        assert_eq!(l.shown().unwrap().totals.spent_minor, 1_234);
        assert!(l.pending.is_empty());
        assert!(
            !l.saved(saved(&e)),
            "the idempotent answer leaves nothing to wait for"
        );
        assert_eq!(l.rows().len(), 1);
        assert_eq!(
            l.categories(),
            vec![(uuid::Uuid::from_u128(1), "Food".into())]
        );
    }

    #[test]
    fn a_refused_expense_rolls_back_and_an_offline_one_stays_until_sent() {
        let mut l = Ledger::default();
        l.load(budget_with(0), vec![]);
        let bad = new_expense(1, 500, "2026-11-02");
        let offline = new_expense(2, 300, "2026-11-03");
        let other_month = new_expense(3, 999, "2026-10-30");
        l.add(bad.clone());
        l.add(offline.clone());
        l.add(offline.clone());
        l.add(other_month.clone());
        assert_eq!(l.pending.len(), 3, "the same client id is added once");
        assert_eq!(
            l.shown().unwrap().totals.spent_minor,
            800,
            "October's not here"
        );
        assert!(l.refused(bad.id.unwrap()).is_some());
        l.waiting(offline.id.unwrap());
        assert_eq!(l.shown().unwrap().totals.spent_minor, 300);
        // A reload while offline keeps what is waiting.
        l.load(budget_with(0), vec![]);
        assert_eq!(l.shown().unwrap().totals.spent_minor, 300);
        assert!(matches!(&l.rows()[..], [Row::Pending(p)] if p.offline));
        assert!(
            !l.saved(saved(&other_month)),
            "another month's: nothing to wait for"
        );
        assert_eq!(l.pending.len(), 1);
    }

    #[test]
    fn the_chat_shows_each_message_once_in_order_with_its_delivery() {
        let line = |id: &str, offset: Option<u64>, delivered| ChatLine {
            client_id: id.into(),
            user_id: uuid::Uuid::nil(),
            display_name: "Ann".into(),
            text: id.into(),
            offset,
            delivered,
        };
        let mut chat = ChatLog::default();
        chat.received(line("b", Some(2), true));
        chat.received(line("a", Some(1), true));
        chat.sending(line("mine", None, false));
        chat.received(line("c", Some(3), true));
        let ids = |c: &ChatLog| {
            c.lines
                .iter()
                .map(|l| l.client_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&chat), ["a", "b", "c", "mine"]);
        assert!(!chat.lines[3].delivered);
        chat.acked("mine", 4);
        chat.received(line("mine", Some(4), true));
        chat.received(line("a", Some(1), true));
        assert_eq!(ids(&chat), ["a", "b", "c", "mine"]);
        assert!(chat.lines[3].delivered);
        for i in 0..ChatLog::KEEP {
            chat.received(line(&format!("n{i}"), Some(10 + i as u64), true));
        }
        assert_eq!(chat.lines.len(), ChatLog::KEEP);
        assert_eq!(chat.lines[0].client_id, "n0", "the oldest go first");
    }
}
