//! `/api/admin/*`: statistics and cache actions, for admins (`ADMIN_EMAILS`) only.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::json::ApiJson;
use crate::state::AppState;
use app::model::ErrorBody;
use app::stats::{AdminStats, CacheClear, Cleared, Vitals};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;

/// A signed-in admin.
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if state.settings.is_admin(&current.user.email) {
            Ok(Admin(current))
        } else {
            Err(not_admin())
        }
    }
}

pub fn not_admin() -> ApiError {
    ApiError::Forbidden("forbidden", "Only admins may do this.".into())
}

#[utoipa::path(get, path = "/api/admin/stats", tag = "admin",
    responses(
        (status = 200, description = "Measured figures and the health score", body = AdminStats),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
pub async fn stats(State(state): State<AppState>, _admin: Admin) -> Json<AdminStats> {
    Json(crate::service::admin::collect(&state).await)
}

#[utoipa::path(post, path = "/api/admin/cache/clear", tag = "admin", request_body = CacheClear,
    responses(
        (status = 200, description = "Cleared", body = Cleared),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Not a tag", body = ErrorBody)))]
pub async fn clear_cache(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(req): ApiJson<CacheClear>,
) -> ApiResult<Json<Cleared>> {
    let tag = match req.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => {
            let id = t
                .strip_prefix("family:")
                .and_then(|id| uuid::Uuid::parse_str(id).ok())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "tag",
                        "use family:<id>, or leave it out to clear everything",
                    )
                })?;
            Some(crate::cache::family_tag(id))
        }
    };
    Ok(Json(Cleared {
        cleared: state.cache.clear(tag.as_deref()).await,
    }))
}

/// A browser's page-load figures (`navigator.sendBeacon`). Anyone may report, signed in or
/// not (the sign-in page is measured too); a report only moves the percentiles of its page's
/// last 200, and figures no browser could measure are refused.
#[utoipa::path(post, path = "/api/vitals", tag = "admin", request_body = Vitals,
    responses(
        (status = 204, description = "Filed"),
        (status = 422, description = "A figure out of range", body = ErrorBody)))]
pub async fn vitals(
    State(state): State<AppState>,
    ApiJson(report): ApiJson<Vitals>,
) -> ApiResult<axum::http::StatusCode> {
    report
        .check()
        .map_err(|field| ApiError::invalid(field, "not a figure a browser measures"))?;
    state.monitor.report(&report);
    Ok(axum::http::StatusCode::NO_CONTENT)
}
