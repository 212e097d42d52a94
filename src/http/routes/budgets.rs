//! `/api/budgets`.

use super::{parse_id, MonthQuery};
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::http::json::ApiJson;
use crate::service::budget;
use crate::state::AppState;
use app::model::{Budget, BudgetLine, ErrorBody, SetLimit};
use axum::extract::{Path, State};
use axum::Json;

#[utoipa::path(get, path = "/api/budgets", tag = "budget",
    params(("month" = Option<String>, Query, pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", description = "YYYY-MM; the family's current month by default")),
    responses(
        (status = 200, description = "Budget lines and totals", body = Budget),
        (status = 422, description = "Bad month", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
) -> ApiResult<Json<Budget>> {
    let month = query.only(&[&["month"]])?.month()?;
    Ok(Json(budget::budget(&state, &member.family, month).await?))
}

#[utoipa::path(put, path = "/api/budgets/{month}/{category_id}", tag = "budget", request_body = SetLimit,
    params(("month" = String, Path, pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", description = "YYYY-MM"), ("category_id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Category id")),
    responses(
        (status = 200, description = "The line with its new limit", body = BudgetLine),
        (status = 404, description = "No such category in this family", body = ErrorBody),
        (status = 422, description = "Bad month or limit", body = ErrorBody)))]
pub async fn set_limit(
    State(state): State<AppState>,
    member: FamilyMember,
    Path((month, category_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetLimit>,
) -> ApiResult<Json<BudgetLine>> {
    let month = budget::parse_month(&month)?;
    let category_id = parse_id(&category_id)?;
    Ok(Json(
        budget::set_limit(&state, &member, month, category_id, req.limit_minor).await?,
    ))
}
