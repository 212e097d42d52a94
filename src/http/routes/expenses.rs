//! `/api/expenses`.

use super::{parse_id, MonthQuery};
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::http::json::ApiJson;
use crate::service::{budget, search};
use crate::state::AppState;
use app::model::{ErrorBody, Expense, ExpensePatch, Expenses, NewExpense};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/expenses", tag = "budget",
    params(
        ("month" = Option<String>, Query, pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", description = "YYYY-MM; the family's current month by default"),
        ("category_id" = Option<String>, Query, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Only this category"),
        ("member_id" = Option<String>, Query, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Only what this member logged"),
        ("q" = Option<String>, Query, max_length = 200, description = "Search: text in the note, any case (at most 200 characters)"),
        ("from" = Option<String>, Query, format = Date, description = "Search: first day, YYYY-MM-DD (instead of month)"),
        ("to" = Option<String>, Query, format = Date, description = "Search: last day, YYYY-MM-DD, included"),
        ("min_minor" = Option<i64>, Query, description = "Search: at least this amount", minimum = 0),
        ("max_minor" = Option<i64>, Query, description = "Search: at most this amount", minimum = 0),
        ("limit" = Option<i64>, Query, description = "Search: a page of at most this many (1-200, default 100)", minimum = 1, maximum = 200),
        ("cursor" = Option<String>, Query, description = "Search: the next page, from next_cursor")),
    responses(
        (status = 200, description = "Newest day first: the whole month, or with a search parameter a page of what it finds (next_cursor for the next)", body = Expenses),
        (status = 422, description = "A bad parameter (named in the error)", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
) -> ApiResult<Json<Expenses>> {
    let query = query.only(&[&["month"], &search::PARAMETERS, &search::IDS])?;
    let month = query.month()?;
    let found = search::parse(|k| query.get(k).map(String::from), month)?;
    if search::PARAMETERS.iter().any(|p| query.get(p).is_some()) {
        let (expenses, next_cursor) = search::page(&state, &member.family, found).await?;
        return Ok(Json(Expenses {
            expenses,
            next_cursor,
        }));
    }
    Ok(Json(Expenses {
        expenses: budget::expenses(&state, &member.family, month, found.category, found.member)
            .await?,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/expenses", tag = "budget", request_body = NewExpense,
    responses(
        (status = 201, description = "Created", body = Expense),
        (status = 200, description = "The same id and body again: the existing expense", body = Expense),
        (status = 404, description = "No such category in this family", body = ErrorBody),
        (status = 409, description = "The id was used with another body", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    member: FamilyMember,
    ApiJson(req): ApiJson<NewExpense>,
) -> ApiResult<(StatusCode, Json<Expense>)> {
    let (expense, created) = budget::add_expense(&state, &member, req).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(expense)))
}

#[utoipa::path(patch, path = "/api/expenses/{id}", tag = "budget", request_body = ExpensePatch,
    params(("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Expense id")),
    responses(
        (status = 200, description = "Updated; version rose by one", body = Expense),
        (status = 404, description = "No such expense (or category) in this family", body = ErrorBody),
        (status = 409, description = "Stale version; the body holds the current `expense`", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ExpensePatch>,
) -> ApiResult<Json<Expense>> {
    Ok(Json(
        budget::update_expense(&state, &member, parse_id(&id)?, patch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/expenses/{id}", tag = "budget",
    params(("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Expense id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such expense in this family", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    budget::delete_expense(&state, &member, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
