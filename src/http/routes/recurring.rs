//! `/api/recurring`: the family's recurring expenses (`service::recurring`).

use super::parse_id;
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::http::json::ApiJson;
use crate::service::recurring;
use crate::state::AppState;
use app::model::{ErrorBody, NewRecurringRule, RecurringPatch, RecurringRules, RuleEnvelope};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/recurring", tag = "budget",
    responses(
        (status = 200, description = "The family's rules, oldest first", body = RecurringRules),
        (status = 401, description = "Not signed in", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    member: FamilyMember,
) -> ApiResult<Json<RecurringRules>> {
    let rules = recurring::list(&state, &member).await?;
    Ok(Json(RecurringRules { rules }))
}

#[utoipa::path(post, path = "/api/recurring", tag = "budget", request_body = NewRecurringRule,
    responses(
        (status = 201, description = "Created; a day already due is made within a minute", body = RuleEnvelope),
        (status = 200, description = "A rule of this family already has the client's id: that rule", body = RuleEnvelope),
        (status = 404, description = "No such category in this family", body = ErrorBody),
        (status = 409, description = "The client's id is taken (`duplicate_id`)", body = ErrorBody),
        (status = 422, description = "A field is invalid (named in the error)", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    member: FamilyMember,
    ApiJson(req): ApiJson<NewRecurringRule>,
) -> ApiResult<(StatusCode, Json<RuleEnvelope>)> {
    let (rule, created) = recurring::create(&state, &member, req).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(RuleEnvelope { rule })))
}

#[utoipa::path(patch, path = "/api/recurring/{id}", tag = "budget", request_body = RecurringPatch,
    params(("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Rule id")),
    responses(
        (status = 200, description = "Updated: the days after the last one made follow it", body = RuleEnvelope),
        (status = 404, description = "No such rule (or category) in this family", body = ErrorBody),
        (status = 422, description = "A field is invalid (named in the error)", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<RecurringPatch>,
) -> ApiResult<Json<RuleEnvelope>> {
    let rule = recurring::update(&state, &member, parse_id(&id)?, patch).await?;
    Ok(Json(RuleEnvelope { rule }))
}

#[utoipa::path(delete, path = "/api/recurring/{id}", tag = "budget",
    params(("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Rule id")),
    responses(
        (status = 204, description = "Deleted; the expenses it made stay"),
        (status = 404, description = "No such rule in this family", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    recurring::delete(&state, &member, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
