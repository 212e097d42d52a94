//! `/api/categories`.

use super::{parse_id, MonthQuery};
use crate::auth::FamilyMember;
use crate::error::{ApiError, ApiResult};
use crate::http::json::ApiJson;
use crate::service::budget;
use crate::state::AppState;
use app::model::{Categories, Category, CategoryPatch, ErrorBody, NewCategory};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/categories", tag = "budget",
    responses((status = 200, description = "The family's categories", body = Categories)))]
pub async fn list(
    State(state): State<AppState>,
    member: FamilyMember,
) -> ApiResult<Json<Categories>> {
    Ok(Json(Categories {
        categories: budget::categories(&state, &member).await?,
    }))
}

#[utoipa::path(post, path = "/api/categories", tag = "budget", request_body = NewCategory,
    responses(
        (status = 201, description = "Created", body = Category),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    member: FamilyMember,
    ApiJson(req): ApiJson<NewCategory>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    Ok((
        StatusCode::CREATED,
        Json(budget::create_category(&state, &member, req).await?),
    ))
}

#[utoipa::path(patch, path = "/api/categories/{id}", tag = "budget", request_body = CategoryPatch,
    params(("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Category id")),
    responses(
        (status = 200, description = "Updated", body = Category),
        (status = 404, description = "No such category in this family", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<CategoryPatch>,
) -> ApiResult<Json<Category>> {
    Ok(Json(
        budget::update_category(&state, &member, parse_id(&id)?, patch).await?,
    ))
}

#[utoipa::path(delete, path = "/api/categories/{id}", tag = "budget",
    params(
        ("id" = String, Path, format = Uuid, pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", description = "Category id"),
        ("move_to" = Option<uuid::Uuid>, Query,
            description = "Another category of the family that takes this one's expenses, \
                           challenges and (for months it has none) limits")),
    responses(
        (status = 204, description = "Deleted (its expenses moved to `move_to` first)"),
        (status = 404, description = "No such category in this family", body = ErrorBody),
        (status = 409, description = "`category_in_use`: expenses or challenges name it and no \
                                      `move_to` was given; the message says how many",
            body = ErrorBody),
        (status = 422, description = "`move_to` is not another category of the family",
            body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    member: FamilyMember,
    Path(id): Path<String>,
    query: MonthQuery,
) -> ApiResult<StatusCode> {
    let move_to = query
        .only(&[&["move_to"]])?
        .get("move_to")
        .map(|v| {
            uuid::Uuid::parse_str(v)
                .map_err(|_| ApiError::invalid("move_to", "name another category of the family"))
        })
        .transpose()?;
    budget::delete_category(&state, &member, parse_id(&id)?, move_to).await?;
    Ok(StatusCode::NO_CONTENT)
}
