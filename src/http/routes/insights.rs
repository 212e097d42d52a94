//! `/api/insights`: costly, so rate limited per family (10 a minute, token bucket shared by
//! every server through Redis) before the response cache.

use super::MonthQuery;
use crate::auth::FamilyMember;
use crate::error::{ApiError, ApiResult};
use crate::redis::rate_limit::Quota;
use crate::service::insights;
use crate::state::AppState;
use app::model::{ErrorBody, Insights};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;

pub const QUOTA: Quota = Quota {
    capacity: 10,
    period: Duration::from_secs(60),
};

#[utoipa::path(get, path = "/api/insights", tag = "budget",
    params(("month" = Option<String>, Query, pattern = r"^(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])$", description = "YYYY-MM; the family's current month by default")),
    responses(
        (status = 200, description = "Forecasts, categories at risk, unusual expenses", body = Insights),
        (status = 422, description = "A bad month", body = ErrorBody),
        (status = 429, description = "More than 10 a minute for this family; see Retry-After", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
) -> ApiResult<Json<Insights>> {
    Ok(Json(
        insights::insights(&state, &member, query.month()?).await?,
    ))
}

/// Takes a token from the family's bucket and adds the `RateLimit-*` headers; a bad month
/// is refused first, without spending a token (and never answered 429 for being bad).
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let member = match crate::http::member::family_member(&state, request.headers()).await {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let month = <MonthQuery as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    .and_then(|query| query.only(&[&["month"]])?.month());
    if let Err(e) = month {
        return e.into_response();
    }
    let request = Request::from_parts(parts, body);
    let decision = state
        .limiter
        .take(&format!("insights:{{f:{}}}", member.family.id), QUOTA)
        .await;
    if !decision.allowed {
        return ApiError::RateLimited {
            retry_after_s: decision.reset_s.max(1),
            limit: decision.limit,
        }
        .into_response();
    }
    let mut response = next.run(request).await;
    crate::redis::rate_limit::set_headers(
        response.headers_mut(),
        decision.limit,
        decision.remaining,
        decision.reset_s,
        false,
    );
    response
}
