//! Recurring expenses: a rule ("rent, 950.00, Housing, on the 1st of each month") makes an
//! expense on each of its days in the family's time zone, and until then shows as upcoming
//! in the month's budget lines.
//!
//! Each day is made once, cluster-wide: the job runs under the `recurring` lock, and the
//! store makes a day only while the rule still stands at it (moving it on in the same
//! transaction), with a unique (rule, day) index beneath. A rule remembers the last day it
//! made (`last_on`), so a change to it applies to the days after that one only.

use crate::auth::FamilyMember;
use crate::domain;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{FamilyRecord, NewExpenseRecord, RuleRecord};
use app::model::{parse_day, Expense, Month, NewRecurringRule, RecurringPatch, RecurringRule};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

/// How often every server looks for due days (one of them makes them).
const PERIOD: Duration = Duration::from_secs(15);
/// Due rules handled per pass; the next pass takes the rest.
const BATCH: i64 = 500;
/// How far back a rule may start: what it makes at once stays a year at most.
const MAX_DAYS_BACK: i64 = 366;
/// How far ahead a rule may start or end.
const MAX_DAYS_AHEAD: i64 = 3660;

pub fn view(r: &RuleRecord) -> RecurringRule {
    RecurringRule {
        id: r.id,
        category_id: r.category_id,
        amount_minor: r.amount_minor,
        note: r.note.clone(),
        every: r.every,
        starts_on: r.starts_on.to_string(),
        ends_on: r.ends_on.map(|d| d.to_string()),
        next_on: r.next_on.map(|d| d.to_string()),
        created_by: r.created_by,
    }
}

/// The next day the rule makes an expense on: its first day after the last one made (from
/// its first day when none was), `None` once past its end.
pub fn next_on(r: &RuleRecord) -> Option<NaiveDate> {
    let from = r
        .last_on
        .and_then(|d| d.succ_opt())
        .map_or(r.starts_on, |d| d.max(r.starts_on));
    let day = r.every.on_or_after(r.starts_on, from);
    r.ends_on.is_none_or(|end| day <= end).then_some(day)
}

/// What each category's rules will still add in `month`: their days from the next one to
/// make until the month's end.
pub fn upcoming(rules: &[RuleRecord], month: Month) -> HashMap<Uuid, i64> {
    let mut by_category: HashMap<Uuid, i64> = HashMap::new();
    for r in rules {
        let add = (r.every).upcoming(r.starts_on, r.ends_on, r.next_on, r.amount_minor, month);
        let sum = by_category.entry(r.category_id).or_default();
        *sum = sum.saturating_add(add);
    }
    by_category
}

fn day(field: &'static str, s: &str, today: NaiveDate) -> ApiResult<NaiveDate> {
    let day =
        parse_day(s).ok_or_else(|| ApiError::invalid(field, "use a real day as YYYY-MM-DD"))?;
    let days = (day - today).num_days();
    if !(-MAX_DAYS_BACK..=MAX_DAYS_AHEAD).contains(&days) {
        return Err(ApiError::invalid(
            field,
            "use a day from a year back to ten years ahead",
        ));
    }
    Ok(day)
}

/// Checks the rule's fields together and sets its next day.
fn settle(mut r: RuleRecord) -> ApiResult<RuleRecord> {
    r.amount_minor = domain::amount(r.amount_minor)?;
    if r.ends_on.is_some_and(|end| end < r.starts_on) {
        return Err(ApiError::invalid("ends_on", "must not be before starts_on"));
    }
    r.next_on = next_on(&r);
    Ok(r)
}

pub async fn list(state: &AppState, member: &FamilyMember) -> ApiResult<Vec<RecurringRule>> {
    let rules = state.store.rules(member.family.id).await?;
    Ok(rules.iter().map(view).collect())
}

pub async fn create(
    state: &AppState,
    member: &FamilyMember,
    req: NewRecurringRule,
) -> ApiResult<(RecurringRule, bool)> {
    let today = member.today();
    let now = crate::clock::now_ms();
    // A replay of a rule this family made already (the client's id) answers that rule.
    if let Some(id) = req.id {
        let rules = state.store.rules(member.family.id).await?;
        if let Some(made) = rules.iter().find(|r| r.id == id) {
            return Ok((view(made), false));
        }
    }
    let rule = settle(RuleRecord {
        id: req.id.unwrap_or_else(Uuid::new_v4),
        family_id: member.family.id,
        category_id: req.category_id,
        amount_minor: req.amount_minor,
        note: super::budget::note(req.note)?,
        every: req.every,
        starts_on: day("starts_on", &req.starts_on, today)?,
        ends_on: req
            .ends_on
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(|e| day("ends_on", e, today))
            .transpose()?,
        next_on: None,
        last_on: None,
        created_by: member.user.id,
        created_at_ms: now,
        updated_at_ms: now,
    })?;
    state.store.create_rule(&rule).await?;
    after_change(state, member, &rule).await;
    Ok((view(&rule), true))
}

pub async fn update(
    state: &AppState,
    member: &FamilyMember,
    id: Uuid,
    patch: RecurringPatch,
) -> ApiResult<RecurringRule> {
    let today = member.today();
    let mut rule = (state.store.rules(member.family.id).await?)
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(ApiError::NotFound)?;
    if let Some(c) = patch.category_id {
        rule.category_id = c;
    }
    if let Some(a) = patch.amount_minor {
        rule.amount_minor = a;
    }
    if let Some(n) = patch.note {
        rule.note = super::budget::note(Some(n))?;
    }
    if let Some(e) = patch.every {
        rule.every = e;
    }
    if let Some(s) = patch.starts_on.as_deref() {
        rule.starts_on = day("starts_on", s, today)?;
    }
    match patch.ends_on.as_deref() {
        None => {}
        Some("") => rule.ends_on = None,
        Some(e) => rule.ends_on = Some(day("ends_on", e, today)?),
    }
    rule.updated_at_ms = crate::clock::now_ms();
    let rule = settle(rule)?;
    state.store.update_rule(&rule).await?;
    after_change(state, member, &rule).await;
    Ok(view(&rule))
}

pub async fn delete(state: &AppState, member: &FamilyMember, id: Uuid) -> ApiResult<()> {
    state.store.delete_rule(member.family.id, id).await?;
    let current = super::changed(state, &member.family).await;
    super::events::budget(state, member, None, None, current).await;
    Ok(())
}

/// A rule changed: the month's upcoming amounts change for everyone (`budget_update`), and
/// a day already due is made now rather than at the next pass.
async fn after_change(state: &AppState, member: &FamilyMember, rule: &RuleRecord) {
    let current = super::changed(state, &member.family).await;
    super::events::budget(state, member, None, Some(rule.category_id), current).await;
    if rule.next_on.is_some_and(|d| d <= member.today()) {
        let state = state.clone();
        tokio::spawn(async move { make_due(&state).await });
    }
}

/// Every server runs this; one at a time makes the due days.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let job = tracing::info_span!("job", otel.name = "recurring expenses");
        tracing::Instrument::instrument(make_due(&state), job).await;
    }
}

/// Makes every due day of every family's rules (under the lock); returns how many expenses
/// it made.
pub async fn make_due(state: &AppState) -> usize {
    let Some(guard) = state
        .locks
        .try_acquire("recurring", Duration::from_secs(60))
        .await
    else {
        return 0;
    };
    // Today somewhere on Earth is at most tomorrow in UTC; each family's own today decides.
    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let made = match state.store.due_rules(until, BATCH).await {
        Ok(rules) => make_rules(state, rules).await,
        Err(e) => {
            tracing::warn!(error = %e, "recurring expenses skipped");
            0
        }
    };
    state.locks.release(&guard).await;
    made
}

async fn make_rules(state: &AppState, rules: Vec<RuleRecord>) -> usize {
    let mut by_family: HashMap<Uuid, Vec<RuleRecord>> = HashMap::new();
    for r in rules {
        by_family.entry(r.family_id).or_default().push(r);
    }
    let mut made = 0;
    for (family_id, rules) in by_family {
        let family = match state.store.family(family_id).await {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "recurring expenses skipped");
                return made;
            }
        };
        made += make_family(state, &family, rules).await;
    }
    made
}

/// Makes the family's due days, then announces them as any new expense is announced (by
/// the rule's author).
async fn make_family(state: &AppState, family: &FamilyRecord, rules: Vec<RuleRecord>) -> usize {
    let today = crate::clock::today(family);
    let mut made = Vec::new();
    for mut rule in rules {
        while let Some(day) = rule.next_on.filter(|d| *d <= today) {
            let mut after = rule.clone();
            after.last_on = Some(day);
            let next = next_on(&after);
            let expense = NewExpenseRecord {
                id: Uuid::new_v4(),
                family_id: family.id,
                category_id: rule.category_id,
                amount_minor: rule.amount_minor,
                note: rule.note.clone(),
                spent_on: day,
                created_by: rule.created_by,
                now_ms: crate::clock::now_ms(),
                body_hash: format!("recurring|{}|{day}", rule.id),
            };
            match state.store.make_occurrence(&rule, &expense, next).await {
                Ok(Some(e)) => made.push((rule.created_by, e)),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, rule = %rule.id, "recurring expense not made");
                    break;
                }
            }
            rule = RuleRecord {
                next_on: next,
                ..after
            };
        }
    }
    if made.is_empty() {
        return 0;
    }
    let current = super::changed(state, family).await;
    // Announced together per author, as an import is: one budget update, not one per day.
    let mut by_author: Vec<(Uuid, Vec<Expense>)> = Vec::new();
    for (author, expense) in &made {
        match by_author.iter_mut().find(|(a, _)| a == author) {
            Some((_, list)) => list.push(expense.clone()),
            None => by_author.push((*author, vec![expense.clone()])),
        }
    }
    for (author, expenses) in by_author {
        let Ok(Some(user)) = state.store.user_by_id(author).await else {
            continue;
        };
        let role = user.role.unwrap_or(app::model::Role::Member);
        let member = FamilyMember::new(user, family.clone(), role);
        super::events::created(state, &member, &expenses, current.clone()).await;
    }
    made.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Every;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn day() -> impl Strategy<Value = NaiveDate> {
        (0i64..3000)
            .prop_map(|n| NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(n))
    }

    proptest! {
        /// A rule's days are ordered, within the period asked and the rule's own, and fall
        /// on its weekday, its day of the month (or the month's last day) or its date.
        #[test]
        fn a_rule_s_days_follow_its_schedule(
            every in prop_oneof![Just(Every::Week), Just(Every::Month), Just(Every::Year)],
            starts in day(),
            from in day(),
            span in 0i64..800,
            end in proptest::option::of(day()),
        ) {
            let to = from + chrono::Duration::days(span);
            let days = every.days_between(starts, end, from, to);
            for pair in days.windows(2) {
                prop_assert!(pair[0] < pair[1]);
            }
            for d in &days {
                prop_assert!(*d >= starts && *d >= from && *d <= to);
                prop_assert!(end.is_none_or(|e| *d <= e));
                let last = Month::of(*d).days();
                match every {
                    Every::Week => prop_assert_eq!((*d - starts).num_days() % 7, 0),
                    Every::Month => prop_assert_eq!(d.day(), starts.day().min(last)),
                    Every::Year => {
                        prop_assert_eq!(d.month(), starts.month());
                        prop_assert_eq!(d.day(), starts.day().min(last));
                    }
                }
            }
            // Nothing is skipped: the next day after each one is the following day.
            if let Some(first) = days.first() {
                prop_assert_eq!(*first, every.on_or_after(starts, from));
            }
        }

        /// Moving a rule on never makes a day twice and never skips one: the days made one by
        /// one (as the job does) are the days of the period.
        #[test]
        fn making_day_by_day_gives_each_day_once(
            every in prop_oneof![Just(Every::Week), Just(Every::Month), Just(Every::Year)],
            starts in day(),
            span in 0i64..900,
        ) {
            let today = starts + chrono::Duration::days(span);
            let mut rule = RuleRecord {
                id: Uuid::nil(),
                family_id: Uuid::nil(),
                category_id: Uuid::nil(),
                amount_minor: 1,
                note: None,
                every,
                starts_on: starts,
                ends_on: None,
                next_on: None,
                last_on: None,
                created_by: Uuid::nil(),
                created_at_ms: 0,
                updated_at_ms: 0,
            };
            rule.next_on = next_on(&rule);
            let mut made = Vec::new();
            while let Some(d) = rule.next_on.filter(|d| *d <= today) {
                made.push(d);
                rule.last_on = Some(d);
                rule.next_on = next_on(&rule);
            }
            prop_assert_eq!(made, every.days_between(starts, None, starts, today));
        }
    }
}
