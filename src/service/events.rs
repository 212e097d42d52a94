//! The realtime side of a committed change: the events the family's devices receive, and the
//! budget alerts, each raised once per category, level and month on all servers (the database
//! decides which server raises it).

use crate::auth::FamilyMember;
use crate::state::AppState;
use app::model::{Budget, BudgetLine, Expense, Month};
use app::ws::{Actor, BudgetAlert, BudgetUpdate, EventKind, ExpenseEvent};
use uuid::Uuid;

fn actor(member: &FamilyMember) -> Actor {
    Actor {
        user_id: member.user.id,
        display_name: member.user.display_name.clone(),
    }
}

/// The alert level a line has reached: 100 at or over its limit, 80 from 80 %.
pub fn level(line: &BudgetLine) -> Option<u8> {
    match line.percent_used? {
        p if p >= 100 => Some(100),
        p if p >= 80 => Some(80),
        _ => None,
    }
}

/// An expense was created, changed or deleted; `current` is the current month's budget when
/// the change already computed it.
pub async fn expense(
    state: &AppState,
    member: &FamilyMember,
    kind: EventKind,
    expense: &Expense,
    current: Option<Budget>,
) {
    let data = ExpenseEvent {
        expense: expense.clone(),
        by: actor(member),
    };
    state.hub.family_event(member.family.id, kind, &data).await;
    let month = app::model::parse_day(&expense.spent_on).map(Month::of);
    budget(state, member, month, Some(expense.category_id), current).await;
    super::challenges::after_expense(state, &member.family).await;
}

/// One `kind` event per expense, in order.
async fn each(state: &AppState, member: &FamilyMember, kind: EventKind, expenses: &[Expense]) {
    for expense in expenses {
        let data = ExpenseEvent {
            expense: expense.clone(),
            by: actor(member),
        };
        state.hub.family_event(member.family.id, kind, &data).await;
    }
}

/// Expenses were created together (an import, a recurring rule's due days): each as
/// `expense_created`, then the current month's lines once, with any alert one of their
/// categories reached, then the challenges' progress once.
pub async fn created(
    state: &AppState,
    member: &FamilyMember,
    saved: &[Expense],
    current: Option<Budget>,
) {
    each(state, member, EventKind::ExpenseCreated, saved).await;
    if let Some(b) = budget(state, member, None, None, current).await {
        for line in b
            .lines
            .iter()
            .filter(|l| saved.iter().any(|e| e.category_id == l.category_id))
        {
            raise_alerts(state, member, &b.month, line).await;
        }
    }
    super::challenges::after_expense(state, &member.family).await;
}

/// A category was deleted, its expenses moved to `target` (`moved`, as they are now): each
/// moved expense as `expense_updated`, then the month's lines without the category (and any
/// alert the target reached), then the challenges' progress.
pub async fn category_deleted(
    state: &AppState,
    member: &FamilyMember,
    moved: &[Expense],
    target: Option<Uuid>,
    current: Option<Budget>,
) {
    each(state, member, EventKind::ExpenseUpdated, moved).await;
    budget(state, member, None, target, current).await;
    if !moved.is_empty() {
        super::challenges::after_expense(state, &member.family).await;
    }
}

/// The month's budget changed (an expense or a limit): `budget_update`, then any new alert
/// of the changed category. `current` (the current month's budget, when already computed) is
/// used when it is the month asked for. Returns the month's budget.
pub async fn budget(
    state: &AppState,
    member: &FamilyMember,
    month: Option<Month>,
    category: Option<Uuid>,
    current: Option<Budget>,
) -> Option<Budget> {
    let known = current.filter(|c| month.is_none_or(|m| m.to_string() == c.month));
    let b = match known {
        Some(b) => b,
        None => super::budget::budget(state, &member.family, month)
            .await
            .ok()?,
    };
    let line = category.and_then(|c| b.lines.iter().find(|l| l.category_id == c).cloned());
    let update = BudgetUpdate {
        month: b.month.clone(),
        line: line.clone(),
        lines: b.lines.clone(),
        totals: b.totals.clone(),
        by: actor(member),
    };
    state
        .hub
        .family_event(member.family.id, EventKind::BudgetUpdate, &update)
        .await;
    if let Some(line) = line {
        raise_alerts(state, member, &b.month, &line).await;
    }
    Some(b)
}

/// Raises the alerts `line` has reached, each the first time for its month and level.
async fn raise_alerts(state: &AppState, member: &FamilyMember, month: &str, line: &BudgetLine) {
    let Some(reached) = level(line) else { return };
    // 100 % implies 80 %: raise the lower level too, so each fires once whatever the jumps.
    for level in [80u8, 100].into_iter().filter(|l| *l <= reached) {
        let first = state
            .store
            .raise_alert(
                member.family.id,
                line.category_id,
                month,
                level,
                crate::clock::now_ms(),
            )
            .await
            .unwrap_or(false);
        if first {
            let alert = BudgetAlert {
                month: month.to_string(),
                category_id: line.category_id,
                category_name: line.category_name.clone(),
                level,
                percent_used: line.percent_used.unwrap_or(0),
                spent_minor: line.spent_minor,
                limit_minor: line.limit_minor.unwrap_or(0),
            };
            state
                .hub
                .family_event(member.family.id, EventKind::BudgetAlert, &alert)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Category;

    #[test]
    fn levels_start_at_80_and_100_percent() {
        let c = Category {
            id: Uuid::nil(),
            name: "Food".into(),
            color: "#000000".into(),
        };
        let at = |spent| level(&BudgetLine::compute(&c, Some(1000), spent));
        assert_eq!(at(799), None);
        assert_eq!(at(800), Some(80));
        assert_eq!(at(999), Some(80));
        assert_eq!(at(1000), Some(100));
        assert_eq!(at(5000), Some(100));
        assert_eq!(level(&BudgetLine::compute(&c, None, 5000)), None);
    }
}
