//! `/healthz` (the process lives) and `/readyz` (it can serve: the database answers).

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::time::Duration;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub db: &'static str,
    pub redis: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready (or degraded)", body = Readiness),
        (status = 503, description = "The database is down", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let db_up = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let redis = match state.cache.redis() {
        None => "disabled",
        Some(link) if link.is_up() => "up",
        Some(_) => "down",
    };
    let status = if !db_up || redis == "down" {
        "degraded"
    } else {
        "ok"
    };
    let code = if db_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Readiness {
            status,
            db: if db_up { "up" } else { "down" },
            redis,
        }),
    )
}
