//! Recurring bills on `/budget`: the family's rules ("rent, 950.00, Housing, on the 1st of
//! each month"), what they will still add this month, and a form to add or change one. The
//! server makes each expense on its day; a change to a rule reaches every device as a
//! `budget_update`, on which the list is read again; what the rules will still add this
//! month is computed here from them, as the server computes `upcoming_minor`. Made while
//! Hearth cannot be reached, a change waits in the outbox and is listed until it is sent
//! (`waiting`). Loaded with the import from the page's parts chunk after hydration
//! (`parts::load_section(Section::Bills)`).

use super::board::Board;
use super::waiting::{send_or_keep, WaitingList, Writes};
use crate::api;
use crate::components::ErrorNote;
use crate::model::{
    month_name, parse_day, weekday_name, Every, Month, NewRecurringRule, RecurringPatch,
    RecurringRule,
};
use crate::money::{field_amount, format_minor, format_money};
use crate::offline::Waiting;
use chrono::Datelike;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use uuid::Uuid;

/// "every month on the 31st (the last day in shorter months)", "every week on Monday",
/// "every year on 3 March".
pub fn schedule(every: Every, starts_on: &str) -> String {
    let Some(day) = parse_day(starts_on) else {
        return format!("every {}", every.as_str());
    };
    match every {
        Every::Week => format!("every week on {}", weekday_name(day)),
        Every::Month => {
            let n = day.day();
            let suffix = match (n % 10, n) {
                (_, 11..=13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            };
            let short = if n > 28 {
                " (the last day in shorter months)"
            } else {
                ""
            };
            format!("every month on the {n}{suffix}{short}")
        }
        Every::Year => format!("every year on {} {}", day.day(), month_name(day.month())),
    }
}

/// The rule being changed, and the form's fields.
#[derive(Clone, Copy)]
struct Form {
    editing: RwSignal<Option<Uuid>>,
    category: RwSignal<String>,
    amount: RwSignal<String>,
    note: RwSignal<String>,
    every: RwSignal<String>,
    starts_on: RwSignal<String>,
    ends_on: RwSignal<String>,
}

impl Form {
    fn new() -> Self {
        Form {
            editing: RwSignal::new(None),
            category: RwSignal::new(String::new()),
            amount: RwSignal::new(String::new()),
            note: RwSignal::new(String::new()),
            every: RwSignal::new("month".into()),
            starts_on: RwSignal::new(String::new()),
            ends_on: RwSignal::new(String::new()),
        }
    }

    fn edit(&self, rule: &RecurringRule, digits: u8) {
        self.editing.set(Some(rule.id));
        self.category.set(rule.category_id.to_string());
        self.amount.set(format_minor(rule.amount_minor, digits));
        self.note.set(rule.note.clone().unwrap_or_default());
        self.every.set(rule.every.as_str().into());
        self.starts_on.set(rule.starts_on.clone());
        self.ends_on.set(rule.ends_on.clone().unwrap_or_default());
    }

    /// Empties the form (also after an answer that came once the month's view was gone).
    fn clear(&self) {
        self.editing.try_set(None);
        self.amount.try_set(String::new());
        self.note.try_set(String::new());
        self.ends_on.try_set(String::new());
    }
}

/// The recurring bills card.
#[component]
pub(crate) fn RecurringCard(digits: u8, writes: Writes) -> impl IntoView {
    let board = expect_context::<Board>();
    let rules = RwSignal::new(None::<Vec<RecurringRule>>);
    let error = RwSignal::new(None::<String>);
    let form = Form::new();
    let load = move || {
        #[cfg(not(feature = "ssr"))]
        leptos::task::spawn_local(async move {
            match api::load_recurring().await {
                Ok(r) => {
                    rules.try_set(Some(r.rules));
                    error.try_set(None);
                }
                Err(e) => {
                    error.try_set(Some(e.message()));
                }
            }
        });
    };
    // Read again after each budget event (a rule changed on any device sends one) and after
    // a change kept while Hearth could not be reached was sent.
    Effect::new(move |seen: Option<(u64, u32)>| {
        let now = (board.ledger.with(|l| l.applied()), writes.sent.get());
        if seen != Some(now) {
            load();
        }
        now
    });
    let name_of = move |id: Uuid| {
        board
            .category_choices
            .with(|c| c.iter().find(|c| c.0 == id).map(|c| c.1.clone()))
            .unwrap_or_default()
    };
    let money = move |amount: i64| format_money(amount, digits, &board.currency());
    // What the bills will still add in the month shown, per category (as the server's
    // `upcoming_minor`, from the same rules).
    let upcoming = move || {
        let month = board
            .shown
            .with(|b| b.as_ref().and_then(|b| Month::parse(&b.month).ok()));
        let mut sums: Vec<(Uuid, i64)> = Vec::new();
        if let (Some(month), Some(list)) = (month, rules.try_get().flatten()) {
            for r in &list {
                let (Some(starts), ends) = (
                    parse_day(&r.starts_on),
                    r.ends_on.as_deref().and_then(parse_day),
                ) else {
                    continue;
                };
                let next = r.next_on.as_deref().and_then(parse_day);
                let add = r.every.upcoming(starts, ends, next, r.amount_minor, month);
                match sums.iter_mut().find(|s| s.0 == r.category_id) {
                    Some(s) => s.1 = s.1.saturating_add(add),
                    None if add > 0 => sums.push((r.category_id, add)),
                    None => {}
                }
            }
        }
        sums.into_iter()
            .map(|(id, v)| (name_of(id), v))
            .collect::<Vec<_>>()
    };
    let remove = move |id: Uuid, what: String| {
        let pending = RwSignal::new(false);
        let kept = Waiting::json(
            "DELETE",
            format!("/api/recurring/{id}"),
            None::<&()>,
            format!("Delete the bill \u{201c}{what}\u{201d}"),
        );
        send_or_keep(
            writes,
            pending,
            error,
            api::delete_rule(id),
            kept,
            move |_| {
                rules.try_update(|r| {
                    if let Some(r) = r {
                        r.retain(|x| x.id != id);
                    }
                });
            },
        );
    };
    view! {
        <section class="card recurring">
            <h2>"Recurring bills"</h2>
            {move || {
                let soon = upcoming();
                (!soon.is_empty()).then(|| {
                    let total: i64 = soon.iter().map(|s| s.1).sum();
                    let parts = soon
                        .iter()
                        .map(|(name, v)| format!("{name} {}", money(*v)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    view! {
                        <p class="upcoming" data-testid="upcoming">
                            {format!("Still to come this month: {} ({parts})", money(total))}
                        </p>
                    }
                })
            }}
            {move || match rules.try_get().flatten() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! {
                    <p class="empty" data-testid="recurring-list">
                        "No recurring bills yet: add rent, subscriptions and the like once, and they are logged on their day."
                    </p>
                }
                .into_any(),
                Some(list) => view! {
                    <ul class="rules" data-testid="recurring-list">
                        {list
                            .into_iter()
                            .map(|rule| {
                                let what = rule.note.clone().unwrap_or_else(|| name_of(rule.category_id));
                                let when = schedule(rule.every, &rule.starts_on);
                                let next = match (&rule.next_on, &rule.ends_on) {
                                    (Some(n), Some(e)) => format!("next on {n}, until {e}"),
                                    (Some(n), None) => format!("next on {n}"),
                                    (None, _) => "ended".to_string(),
                                };
                                let id = rule.id;
                                let editing = rule.clone();
                                let named = what.clone();
                                view! {
                                    <li class="rule" data-testid="recurring-rule">
                                        <span class="what">{format!("{what} · {}", name_of(rule.category_id))}</span>
                                        <span class="amount">{money(rule.amount_minor)}</span>
                                        <span class="when">{format!("{when} · {next}")}</span>
                                        <button type="button" class="link" on:click=move |_| form.edit(&editing, digits)>
                                            "Change"
                                        </button>
                                        <button type="button" class="link" on:click=move |_| remove(id, named.clone())>
                                            "Delete"
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any(),
            }}
            <ErrorNote error />
            <WaitingList writes imports=false />
            <RuleForm form digits rules writes />
        </section>
    }
}

#[component]
fn RuleForm(
    form: Form,
    digits: u8,
    rules: RwSignal<Option<Vec<RecurringRule>>>,
    writes: Writes,
) -> impl IntoView {
    let board = expect_context::<Board>();
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let categories = move || board.category_choices.get();
    Effect::new(move |_| {
        if form.category.try_with_untracked(String::is_empty) == Some(true) {
            if let Some((id, _)) = categories().first() {
                form.category.try_set(id.to_string());
            }
        }
        if form.starts_on.try_with_untracked(String::is_empty) == Some(true) {
            if let Some(today) = board.shown.with(|b| b.as_ref().map(|b| b.today.clone())) {
                form.starts_on.try_set(today);
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(category_id) = Uuid::parse_str(&form.category.get_untracked()) else {
            error.set(Some("category: choose one".into()));
            return;
        };
        let amount = field_amount(&form.amount.get_untracked(), digits, "amount", true);
        let Ok(amount_minor) = amount.map_err(|m| error.set(Some(m))) else {
            return;
        };
        let every = Every::parse(&form.every.get_untracked()).unwrap_or(Every::Month);
        let note = form.note.get_untracked();
        let starts_on = form.starts_on.get_untracked();
        let ends_on = form.ends_on.get_untracked();
        // Saved, or kept to be sent once Hearth can be reached (listed as waiting).
        let done = move |saved: Option<crate::model::RuleEnvelope>| {
            if let Some(saved) = saved {
                rules.try_update(|r| {
                    let list = r.get_or_insert_with(Vec::new);
                    match list.iter_mut().find(|x| x.id == saved.rule.id) {
                        Some(x) => *x = saved.rule,
                        None => list.push(saved.rule),
                    }
                });
            }
            form.clear();
        };
        let what = if note.trim().is_empty() {
            board
                .category_choices
                .with_untracked(|c| c.iter().find(|c| c.0 == category_id).map(|c| c.1.clone()))
                .unwrap_or_default()
        } else {
            note.trim().to_string()
        };
        match form.editing.get_untracked() {
            Some(id) => {
                let patch = RecurringPatch {
                    category_id: Some(category_id),
                    amount_minor: Some(amount_minor),
                    note: Some(note),
                    every: Some(every),
                    starts_on: Some(starts_on),
                    ends_on: Some(ends_on),
                };
                let kept = Waiting::json(
                    "PATCH",
                    format!("/api/recurring/{id}"),
                    Some(&patch),
                    format!("Change the bill \u{201c}{what}\u{201d}"),
                );
                send_or_keep(
                    writes,
                    pending,
                    error,
                    api::update_rule(id, patch),
                    kept,
                    done,
                );
            }
            None => {
                let rule = NewRecurringRule {
                    id: Some(Uuid::new_v4()),
                    category_id,
                    amount_minor,
                    note: Some(note).filter(|n| !n.trim().is_empty()),
                    every,
                    starts_on,
                    ends_on: Some(ends_on).filter(|e| !e.is_empty()),
                };
                let kept = Waiting::json(
                    "POST",
                    "/api/recurring".into(),
                    Some(&rule),
                    format!("Add the bill \u{201c}{what}\u{201d}"),
                );
                send_or_keep(writes, pending, error, api::create_rule(rule), kept, done);
            }
        }
    };
    let editing = move || form.editing.get().is_some();
    view! {
        <form class="rule-form" on:submit=on_submit data-testid="recurring-form">
            <h3>{move || if editing() { "Change the bill (from its next day on)" } else { "Add a recurring bill" }}</h3>
            <label>
                "What"
                <input type="text" name="rule_note" maxlength="500" placeholder="Rent" autocomplete="off" bind:value=form.note />
            </label>
            <label>
                "Category"
                <select name="rule_category" bind:value=form.category>
                    <For each=categories key=|c| c.clone() let((id, name))>
                        <option value=id.to_string()>{name}</option>
                    </For>
                </select>
            </label>
            <label>
                {move || format!("Amount ({})", board.currency())}
                <input type="text" inputmode="decimal" name="rule_amount" required autocomplete="off" bind:value=form.amount />
            </label>
            <label>
                "Repeats"
                <select name="rule_every" bind:value=form.every>
                    <option value="week">"every week"</option>
                    <option value="month">"every month"</option>
                    <option value="year">"every year"</option>
                </select>
            </label>
            <label>
                "First day"
                <input type="date" name="rule_starts" required bind:value=form.starts_on />
            </label>
            <label>
                "Last day (optional)"
                <input type="date" name="rule_ends" bind:value=form.ends_on />
            </label>
            <button type="submit" disabled=move || pending.get()>
                {move || if editing() { "Save the bill" } else { "Add the bill" }}
            </button>
            {move || editing().then(|| view! {
                <button type="button" class="link" on:click=move |_| form.clear()>"Cancel"</button>
            })}
            <ErrorNote error />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_as_a_person_says_them() {
        assert_eq!(
            schedule(Every::Month, "2026-03-01"),
            "every month on the 1st"
        );
        assert_eq!(
            schedule(Every::Month, "2026-03-22"),
            "every month on the 22nd"
        );
        assert_eq!(
            schedule(Every::Month, "2026-03-12"),
            "every month on the 12th"
        );
        assert_eq!(
            schedule(Every::Month, "2026-03-31"),
            "every month on the 31st (the last day in shorter months)"
        );
        assert_eq!(schedule(Every::Week, "2026-12-07"), "every week on Monday");
        assert_eq!(schedule(Every::Year, "2026-03-03"), "every year on 3 March");
    }
}
