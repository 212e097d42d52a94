//! The JSON API's routes, one file per resource, and its OpenAPI description.

pub mod admin;
pub mod auth;
pub mod budgets;
pub mod categories;
pub mod challenges;
pub mod expenses;
pub mod export;
pub mod families;
pub mod health;
pub mod import;
pub mod insights;
pub mod recurring;
pub mod trends;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app::model::Month;
use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use std::collections::HashMap;
use utoipa::OpenApi;
use uuid::Uuid;

/// A path id: anything that is not a UUID cannot name a row, so it is simply not found.
pub fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::NotFound)
}

/// The query string as text pairs; fields are parsed by the handler, which names them.
pub struct MonthQuery(HashMap<String, String>);

/// Query parameters of free text, where an empty value means the parameter is not there (a
/// search box left empty). Any other parameter given empty (`?month=`) is refused by its
/// parser as the bad value it is, as the OpenAPI document's types say.
const FREE_TEXT: [&str; 2] = ["q", "cursor"];

impl MonthQuery {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !(v.is_empty() && FREE_TEXT.contains(&key)))
    }

    /// Every pair of the query (a key given twice: its last value).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn month(&self) -> ApiResult<Option<Month>> {
        self.get("month")
            .map(crate::service::budget::parse_month)
            .transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MonthQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Malformed("The query string could not be read.".into()))?;
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        Ok(MonthQuery(pairs))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth",
        description = "The JSON API of Hearth, a self-hosted realtime family budget."
    ),
    paths(
        auth::register,
        auth::login,
        auth::logout,
        auth::me,
        families::create,
        families::join,
        families::show,
        families::chat,
        categories::list,
        categories::create,
        categories::update,
        categories::delete,
        budgets::show,
        budgets::set_limit,
        expenses::list,
        expenses::create,
        expenses::update,
        expenses::delete,
        export::csv,
        import::upload,
        trends::show,
        recurring::list,
        recurring::create,
        recurring::update,
        recurring::delete,
        insights::show,
        challenges::list,
        challenges::create,
        challenges::accept,
        admin::stats,
        admin::clear_cache,
        admin::vitals,
        health::healthz,
        health::readyz,
        openapi,
    ),
    modifiers(&BodyErrors)
)]
pub struct ApiDoc;

/// Every operation that reads a JSON body may answer 400 (the bytes are not JSON) and 413
/// (over the body limit): said once here rather than on each route.
struct BodyErrors;

impl utoipa::Modify for BodyErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder};
        let error = |text: &str| {
            let content = utoipa::openapi::content::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build();
            RefOr::T(
                ResponseBuilder::new()
                    .description(text)
                    .content("application/json", content)
                    .build(),
            )
        };
        for item in doc.paths.paths.values_mut() {
            let operations = [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut()];
            for op in operations.into_iter().flatten() {
                let json_body = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                if json_body {
                    let responses = &mut op.responses.responses;
                    responses
                        .entry("400".into())
                        .or_insert_with(|| error("`malformed`: the body is not JSON"));
                    responses
                        .entry("413".into())
                        .or_insert_with(|| error("`too_large`: the body is over 64 KiB"));
                }
            }
        }
    }
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "This description")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The family-scoped reads, served through the response cache; insights are rate limited
/// outside the cache, so every request counts against the family's quota.
fn cached(state: &AppState) -> Router<AppState> {
    use crate::cache::paths;
    use crate::http::response_cache::cached;
    let insights = Router::new()
        .route("/api/insights", cached(state, insights::show))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            insights::limit,
        ));
    Router::new()
        .route(paths::CATEGORIES, cached(state, categories::list))
        .route(paths::BUDGETS, cached(state, budgets::show))
        .route(paths::EXPENSES, cached(state, expenses::list))
        .merge(insights)
}

/// The API. Only the routes that read a body get the body limit and request decompression;
/// the cached reads, the hot path, go without those layers.
pub fn api(state: &AppState) -> Router<AppState> {
    let with_bodies = Router::new()
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/families", post(families::create))
        .route("/api/families/join", post(families::join))
        .route("/api/family", get(families::show))
        .route("/api/chat", get(families::chat))
        .route(
            "/api/challenges",
            get(challenges::list).post(challenges::create),
        )
        .route("/api/challenges/{id}/accept", post(challenges::accept))
        .route("/api/categories", post(categories::create))
        .route(
            "/api/categories/{id}",
            patch(categories::update).delete(categories::delete),
        )
        .route(
            "/api/budgets/{month}/{category_id}",
            put(budgets::set_limit),
        )
        .route("/api/expenses", post(expenses::create))
        .route(
            "/api/expenses/{id}",
            patch(expenses::update).delete(expenses::delete),
        )
        .route("/api/export.csv", get(export::csv))
        .route("/api/trends", get(trends::show))
        .route(
            "/api/recurring",
            get(recurring::list).post(recurring::create),
        )
        .route(
            "/api/recurring/{id}",
            patch(recurring::update).delete(recurring::delete),
        )
        .route("/api/openapi.json", get(openapi))
        .route("/api/admin/stats", get(admin::stats))
        .route("/api/admin/cache/clear", post(admin::clear_cache))
        .route("/api/vitals", post(admin::vitals))
        .route("/api/{*rest}", axum::routing::any(auth::unknown_api_route))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::http::json::MAX_BODY_BYTES,
        ))
        .layer(tower_http::decompression::RequestDecompressionLayer::new());
    // Files are bigger than JSON bodies.
    let files = Router::new()
        .route("/api/import", post(import::upload))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::service::import::MAX_BYTES,
        ))
        .layer(tower_http::decompression::RequestDecompressionLayer::new());
    Router::new()
        .merge(cached(state))
        .merge(files)
        .merge(with_bodies)
        .route("/ws", get(crate::http::socket::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(crate::http::metrics::scrape))
        .route("/readyz", get(health::readyz))
}
