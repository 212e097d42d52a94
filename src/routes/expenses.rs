//! `/api/expenses`.

use super::{parse_id, MonthQuery};
use crate::auth::FamilyMember;
use crate::error::{ApiError, ApiResult};
use crate::json::ApiJson;
use crate::service::budget;
use crate::state::AppState;
use app::model::{ErrorBody, Expense, ExpensePatch, Expenses, NewExpense};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/expenses", tag = "budget",
    params(
        ("month" = Option<String>, Query, description = "YYYY-MM; the family's current month by default"),
        ("category_id" = Option<String>, Query, description = "Only this category"),
        ("member_id" = Option<String>, Query, description = "Only what this member logged")),
    responses(
        (status = 200, description = "The month's expenses, newest day first", body = Expenses),
        (status = 422, description = "Bad month or category id", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
) -> ApiResult<Json<Expenses>> {
    let month = query.month()?;
    let id = |field: &'static str| {
        query
            .get(field)
            .map(|c| uuid::Uuid::parse_str(c).map_err(|_| ApiError::invalid(field, "not an id")))
            .transpose()
    };
    let (category, by) = (id("category_id")?, id("member_id")?);
    Ok(Json(Expenses {
        expenses: budget::expenses(&state, &member.family, month, category, by).await?,
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
    params(("id" = String, Path, description = "Expense id")),
    responses(
        (status = 200, description = "Updated; version rose by one", body = Expense),
        (status = 404, description = "No such expense (or category) in this family", body = ErrorBody),
        (status = 409, description = "Stale version; the body holds the current `expense`", body = ErrorBody)))]
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
    params(("id" = String, Path, description = "Expense id")),
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
