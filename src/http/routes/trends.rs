//! `GET /api/trends`: each category's spending over the last months (`service::trends`).

use super::MonthQuery;
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::service::trends;
use crate::state::AppState;
use app::model::{ErrorBody, Trends};
use axum::extract::State;
use axum::Json;

#[utoipa::path(get, path = "/api/trends", tag = "budget",
    params(("months" = Option<usize>, Query, description = "How many months up to the current one (1-24, default 6)", minimum = 1, maximum = 24)),
    responses(
        (status = 200, description = "Oldest month first, the current month last; every category with one amount per month", body = Trends),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "months out of range", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
) -> ApiResult<Json<Trends>> {
    let count = trends::months(query.only(&[&["months"]])?.get("months"))?;
    Ok(Json(trends::trends(&state, &member.family, count).await?))
}
