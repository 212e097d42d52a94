//! `GET /metrics`: the Prometheus text format of `monitor::prometheus`'s recorder, with the
//! cache, hub and process figures read from the same counters as `/api/admin/stats` at scrape
//! time. Guarded by `METRICS_TOKEN` when set; 404 when performance monitoring is off.

use crate::monitor::prometheus::handle;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.settings.metrics_token else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.as_bytes(), token.expose().as_bytes()))
}

/// Sets the scrape-time gauges of this server from the admin statistics' sources.
async fn gauges(state: &AppState) {
    let node = state.node_id.clone();
    let db_up = crate::service::admin::db_up(state).await;
    let stats = crate::service::admin::collect_with(state, db_up).await;
    let set = |name: &'static str, value: f64| {
        metrics::gauge!(name, "node" => node.clone()).set(value);
    };
    set("hearth_cache_hits", stats.cache.hits as f64);
    set("hearth_cache_misses", stats.cache.misses as f64);
    set("hearth_cache_hit_rate", stats.cache.hit_rate);
    set("hearth_ws_connections", stats.realtime.connections as f64);
    set("hearth_ws_users_online", stats.realtime.users_online as f64);
    set(
        "hearth_redis_up",
        f64::from(u8::from(stats.redis.status == "up")),
    );
    set("hearth_uptime_seconds", stats.system.uptime_s as f64);
    set("hearth_health_score", f64::from(stats.system.health_score));
    if let Some(rss) = stats.system.rss_bytes {
        set("hearth_rss_bytes", rss as f64);
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.settings.performance_monitoring {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !authorized(&state, &headers) {
        return crate::error::ApiError::Unauthenticated.into_response();
    }
    let Some(handle) = handle() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    gauges(&state).await;
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
