//! `/api/challenges`: savings challenges and the family's achievements.

use super::parse_id;
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::http::json::ApiJson;
use crate::service::challenges;
use crate::state::AppState;
use app::model::{Challenge, Challenges, ErrorBody, NewChallenge};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/challenges", tag = "challenges",
    responses((status = 200, description = "The family's latest challenges with progress, and its achievements", body = Challenges)))]
pub async fn list(
    State(state): State<AppState>,
    member: FamilyMember,
) -> ApiResult<Json<Challenges>> {
    Ok(Json(challenges::list(&state, &member).await?))
}

#[utoipa::path(post, path = "/api/challenges", tag = "challenges", request_body = NewChallenge,
    responses(
        (status = 201, description = "Created; the family gets a game_invite", body = Challenge),
        (status = 404, description = "No such category in this family", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    member: FamilyMember,
    ApiJson(req): ApiJson<NewChallenge>,
) -> ApiResult<(StatusCode, Json<Challenge>)> {
    Ok((
        StatusCode::CREATED,
        Json(challenges::create(&state, &member, req).await?),
    ))
}

#[utoipa::path(post, path = "/api/challenges/{id}/accept", tag = "challenges",
    params(("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Challenge id")),
    responses(
        (status = 200, description = "Joined (again is harmless); the family gets a game_update", body = Challenge),
        (status = 404, description = "No such challenge in this family", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
) -> ApiResult<Json<Challenge>> {
    Ok(Json(
        challenges::accept(&state, &member, parse_id(&id)?).await?,
    ))
}
