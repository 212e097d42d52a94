//! `GET /api/export.csv`: the family's expenses over a period as CSV (`service::export`).

use super::MonthQuery;
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::service::export;
use crate::state::AppState;
use app::model::ErrorBody;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

#[utoipa::path(get, path = "/api/export.csv", tag = "budget",
    params(
        ("from" = Option<String>, Query, format = Date, description = "First day, YYYY-MM-DD (with `to`); the current month by default"),
        ("to" = Option<String>, Query, format = Date, description = "Last day, YYYY-MM-DD, included (with `from`)")),
    responses(
        (status = 200, description = "Header row date,category,amount,currency,note,member; one row per expense, oldest first",
            content_type = "text/csv", body = String),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Bad or missing day, or a period over ten years", body = ErrorBody)))]
pub async fn csv(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
) -> ApiResult<Response> {
    let today = crate::clock::today(&member.family);
    let query = query.only(&[&["from", "to"]])?;
    let (from, to) = export::period(query.get("from"), query.get("to"), today)?;
    let body = export::csv(&state, &member, from, to).await?;
    let disposition = format!("attachment; filename=\"hearth-{from}-to-{to}.csv\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
