//! `/api/families` and `/api/family`.

use crate::auth::{CurrentUser, FamilyMember};
use crate::error::ApiResult;
use crate::http::json::ApiJson;
use crate::service::families;
use crate::state::AppState;
use app::model::{
    CreateFamilyRequest, ErrorBody, FamilyCreated, FamilyEnvelope, FamilyView, JoinFamilyRequest,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(post, path = "/api/families", tag = "families", request_body = CreateFamilyRequest,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = FamilyCreated),
        (status = 409, description = "Already in a family", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(req): ApiJson<CreateFamilyRequest>,
) -> ApiResult<(StatusCode, Json<FamilyCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(families::create(&state, &current, req).await?),
    ))
}

#[utoipa::path(post, path = "/api/families/join", tag = "families", request_body = JoinFamilyRequest,
    responses(
        (status = 200, description = "Joined as a member", body = FamilyEnvelope),
        (status = 404, description = "No family has this code", body = ErrorBody),
        (status = 409, description = "Already in a family", body = ErrorBody),
        (status = 422, description = "A field is missing or of the wrong type", body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(req): ApiJson<JoinFamilyRequest>,
) -> ApiResult<Json<FamilyEnvelope>> {
    Ok(Json(FamilyEnvelope {
        family: families::join(&state, &current, req).await?,
    }))
}

#[utoipa::path(get, path = "/api/family", tag = "families",
    responses(
        (status = 200, description = "The family, its members, and for the owner the invite code", body = FamilyView),
        (status = 403, description = "Not in a family", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    member: FamilyMember,
) -> ApiResult<Json<FamilyView>> {
    Ok(Json(families::view(&state, &member).await?))
}

#[utoipa::path(get, path = "/api/chat", tag = "families",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "1 to 200 (default 50)")),
    responses(
        (status = 200, description = "The family's latest chat messages, oldest first", body = app::model::ChatHistory),
        (status = 422, description = "Bad limit", body = ErrorBody)))]
pub async fn chat(
    State(state): State<AppState>,
    member: FamilyMember,
    query: super::MonthQuery,
) -> ApiResult<Json<app::model::ChatHistory>> {
    let limit = match query.only(&[&["limit"]])?.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=200).contains(l))
            .ok_or_else(|| crate::error::ApiError::invalid("limit", "a number from 1 to 200"))?,
    };
    Ok(Json(app::model::ChatHistory {
        messages: families::chat_history(&state, &member, limit).await?,
    }))
}
