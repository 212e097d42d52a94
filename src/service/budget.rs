//! The budget: categories, monthly limits (a limit holds from its month on until another is
//! set), expenses with client-id idempotency and optimistic versions, and budget lines.
//! Months and days are the family's, in its time zone.

use crate::auth::FamilyMember;
use crate::clock::{now_ms, today};
use crate::domain::{self, text};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{ExpenseChanges, FamilyRecord, Inserted, NewExpenseRecord};
use app::model::{
    parse_day, Budget, BudgetLine, BudgetPage, Category, CategoryPatch, Expense, ExpensePatch,
    Month, NewCategory, NewExpense,
};
use app::ws::EventKind;
use chrono::NaiveDate;
use std::collections::HashMap;
use uuid::Uuid;

fn month_or_current(family: &FamilyRecord, month: Option<Month>) -> Month {
    month.unwrap_or_else(|| Month::of(today(family)))
}

pub fn parse_month(s: &str) -> ApiResult<Month> {
    Month::parse(s).map_err(|e| ApiError::invalid("month", e.to_string()))
}

fn parse_spent_on(s: &str) -> ApiResult<NaiveDate> {
    parse_day(s).ok_or_else(|| ApiError::invalid("spent_on", "use a real day as YYYY-MM-DD"))
}

pub(crate) fn note(n: Option<String>) -> ApiResult<Option<String>> {
    match n.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > 500 => {
            Err(ApiError::invalid("note", "use at most 500 characters"))
        }
        Some(t) if t.chars().any(|c| c.is_control() && c != '\n') => Err(ApiError::invalid(
            "note",
            "must not contain control characters",
        )),
        Some(t) => Ok(Some(t.to_string())),
    }
}

pub async fn categories(state: &AppState, member: &FamilyMember) -> ApiResult<Vec<Category>> {
    Ok(state.store.categories(member.family.id).await?)
}

pub async fn create_category(
    state: &AppState,
    member: &FamilyMember,
    req: NewCategory,
) -> ApiResult<Category> {
    let name = text("name", &req.name, 40)?;
    let color = match req.color {
        Some(c) => domain::color(&c)?,
        None => {
            let used = state.store.categories(member.family.id).await?.len();
            super::families::PALETTE[used % super::families::PALETTE.len()].to_string()
        }
    };
    let category = Category {
        id: Uuid::new_v4(),
        name,
        color,
    };
    state
        .store
        .create_category(member.family.id, &category)
        .await?;
    super::changed(state, &member.family).await;
    Ok(category)
}

async fn category(state: &AppState, member: &FamilyMember, id: Uuid) -> ApiResult<Category> {
    state
        .store
        .categories(member.family.id)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound)
}

pub async fn update_category(
    state: &AppState,
    member: &FamilyMember,
    id: Uuid,
    patch: CategoryPatch,
) -> ApiResult<Category> {
    let mut category = category(state, member, id).await?;
    if let Some(name) = patch.name {
        category.name = text("name", &name, 40)?;
    }
    if let Some(color) = patch.color {
        category.color = domain::color(&color)?;
    }
    state
        .store
        .update_category(member.family.id, &category)
        .await?;
    super::changed(state, &member.family).await;
    Ok(category)
}

/// Deletes a category; one that expenses or challenges name needs `move_to`, another
/// category of the family that takes them (see `Store::delete_category`).
pub async fn delete_category(
    state: &AppState,
    member: &FamilyMember,
    id: Uuid,
    move_to: Option<Uuid>,
) -> ApiResult<()> {
    let family = member.family.id;
    let moved = (state.store)
        .delete_category(family, id, move_to, now_ms())
        .await?;
    let current = super::changed(state, &member.family).await;
    super::events::category_deleted(state, member, &moved, move_to, current).await;
    Ok(())
}

pub async fn budget(
    state: &AppState,
    family: &FamilyRecord,
    month: Option<Month>,
) -> ApiResult<Budget> {
    let month = month_or_current(family, month);
    let month_text = month.to_string();
    let (from, until) = (month.first_day(), month.next().first_day());
    let (categories, limits, spent, members, rules) = tokio::try_join!(
        state.store.categories(family.id),
        state.store.limits_until(family.id, &month_text),
        state.store.spent_by_category(family.id, from, until),
        state.store.spent_by_member(family.id, from, until),
        state.store.rules(family.id),
    )?;
    let upcoming = super::recurring::upcoming(&rules, month);
    // Limits come ordered by month, so the last one seen per category is the one in force.
    let limit_of: HashMap<Uuid, i64> = limits
        .into_iter()
        .map(|l| (l.category_id, l.limit_minor))
        .collect();
    let spent_of: HashMap<Uuid, i64> = spent.into_iter().collect();
    let lines = categories
        .iter()
        .map(|c| BudgetLine {
            upcoming_minor: upcoming.get(&c.id).copied().unwrap_or(0),
            ..BudgetLine::compute(
                c,
                limit_of.get(&c.id).copied(),
                spent_of.get(&c.id).copied().unwrap_or(0),
            )
        })
        .collect();
    let view = super::families::family_view(family);
    Ok(Budget::from_lines(
        month,
        today(family),
        view.currency,
        view.minor_units,
        lines,
        members,
    ))
}

pub async fn set_limit(
    state: &AppState,
    member: &FamilyMember,
    month: Month,
    category_id: Uuid,
    limit_minor: i64,
) -> ApiResult<BudgetLine> {
    let limit_minor = domain::limit(limit_minor)?;
    state
        .store
        .set_limit(
            member.family.id,
            category_id,
            &month.to_string(),
            limit_minor,
        )
        .await?;
    let current = super::changed(state, &member.family).await;
    let month_budget =
        super::events::budget(state, member, Some(month), Some(category_id), current).await;
    let month_budget = match month_budget {
        Some(b) => b,
        None => budget(state, &member.family, Some(month)).await?,
    };
    month_budget
        .lines
        .into_iter()
        .find(|l| l.category_id == category_id)
        .ok_or(ApiError::NotFound)
}

pub async fn expenses(
    state: &AppState,
    family: &FamilyRecord,
    month: Option<Month>,
    category: Option<Uuid>,
    member: Option<Uuid>,
) -> ApiResult<Vec<Expense>> {
    let month = month_or_current(family, month);
    Ok(state
        .store
        .expenses(
            family.id,
            month.first_day(),
            month.next().first_day(),
            category,
            member,
        )
        .await?)
}

/// Adds an expense; `Ok((expense, false))` when the same id and body were sent before.
pub async fn add_expense(
    state: &AppState,
    member: &FamilyMember,
    req: NewExpense,
) -> ApiResult<(Expense, bool)> {
    let amount_minor = domain::amount(req.amount_minor)?;
    let note = note(req.note)?;
    let spent_on = match req.spent_on.as_deref() {
        Some(day) => parse_spent_on(day)?,
        None => today(&member.family),
    };
    // What the client said, so a replay with the same id is recognised as the same request.
    let body_hash = format!(
        "{}|{}|{}|{}",
        req.category_id,
        amount_minor,
        note.as_deref().unwrap_or(""),
        req.spent_on.as_deref().unwrap_or("")
    );
    let record = NewExpenseRecord {
        id: req.id.unwrap_or_else(Uuid::new_v4),
        family_id: member.family.id,
        category_id: req.category_id,
        amount_minor,
        note,
        spent_on,
        created_by: member.user.id,
        now_ms: now_ms(),
        body_hash,
    };
    match state.store.insert_expense(&record).await? {
        Inserted::Created(e) => {
            let current = super::changed(state, &member.family).await;
            super::events::expense(state, member, EventKind::ExpenseCreated, &e, current).await;
            Ok((e, true))
        }
        Inserted::Existing(e) => Ok((e, false)),
    }
}

pub async fn update_expense(
    state: &AppState,
    member: &FamilyMember,
    id: Uuid,
    patch: ExpensePatch,
) -> ApiResult<Expense> {
    let changes = ExpenseChanges {
        category_id: patch.category_id,
        amount_minor: patch.amount_minor.map(domain::amount).transpose()?,
        note: patch.note.map(|n| note(Some(n))).transpose()?,
        spent_on: patch.spent_on.as_deref().map(parse_spent_on).transpose()?,
    };
    let expense = state
        .store
        .update_expense(member.family.id, id, patch.version, &changes, now_ms())
        .await?;
    let current = super::changed(state, &member.family).await;
    super::events::expense(state, member, EventKind::ExpenseUpdated, &expense, current).await;
    Ok(expense)
}

pub async fn delete_expense(
    state: &AppState,
    member: &FamilyMember,
    id: Uuid,
) -> ApiResult<Expense> {
    let expense = state.store.delete_expense(member.family.id, id).await?;
    let current = super::changed(state, &member.family).await;
    super::events::expense(state, member, EventKind::ExpenseDeleted, &expense, current).await;
    Ok(expense)
}

/// What `/budget` renders: the month's budget and its expenses, and the last six months' bars.
pub async fn page(
    state: &AppState,
    member: &FamilyMember,
    month: Option<Month>,
) -> ApiResult<BudgetPage> {
    let month = month_or_current(&member.family, month);
    let (budget, expenses, trends) = tokio::try_join!(
        budget(state, &member.family, Some(month)),
        expenses(state, &member.family, Some(month), None, None),
        super::trends::trends(state, &member.family, 6),
    )?;
    Ok(BudgetPage {
        budget,
        expenses,
        load: None,
        position: None,
        trends: Some(trends),
    })
}
