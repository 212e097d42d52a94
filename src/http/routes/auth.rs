//! `/api/auth/*` and `/api/me`.

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::http::json::ApiJson;
use crate::service::accounts;
use crate::state::AppState;
use app::model::{ErrorBody, LoginRequest, Me, RegisterRequest, UserEnvelope};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

#[utoipa::path(post, path = "/api/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in (sets the session cookie)", body = UserEnvelope),
        (status = 409, description = "Email taken", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<impl IntoResponse> {
    let (user, session) = accounts::register(&state, req).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::SET_COOKIE,
            auth::session_cookie(&session.id, &headers),
        )],
        Json(UserEnvelope { user }),
    ))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in with a new session id", body = UserEnvelope),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 422, description = "A field is missing or of the wrong type", body = ErrorBody),
        (status = 429, description = "Too many failures; see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<crate::http::net::Remote>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<impl IntoResponse> {
    let previous = auth::session_id(&headers);
    let client =
        crate::http::net::client_ip(remote.addr.ip(), &headers, &state.settings.trusted_proxies);
    let (user, session) = accounts::login(&state, req, &client.to_string(), previous).await?;
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(&session.id, &headers),
        )],
        Json(UserEnvelope { user }),
    ))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts",
    responses((status = 204, description = "Signed out; the session is gone")))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    if let Some(id) = auth::session_id(&headers) {
        state.members.invalidate(&id);
        state.sessions.delete(&id).await;
    }
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::clear_cookie())],
    )
}

#[utoipa::path(get, path = "/api/me", tag = "accounts",
    responses(
        (status = 200, description = "The signed-in user and their family", body = Me),
        (status = 401, description = "Not signed in", body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, current: CurrentUser) -> ApiResult<Json<Me>> {
    Ok(Json(accounts::me(&state, &current).await?))
}

/// Answers 404 in the contract's shape for any unknown `/api` path.
pub async fn unknown_api_route() -> ApiError {
    ApiError::NotFound
}
