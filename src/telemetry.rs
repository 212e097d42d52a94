//! Logging: a tracing subscriber (filter from `RUST_LOG`) and request spans keyed on the
//! matched route template, so logs group by route rather than by id.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::{Instrument as _, Level};
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // A second init (tests start many servers in one process) is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// Runs the request inside a `request` span keyed on the route template (so logs group by
/// route, not by id) and logs its status and latency, when INFO is enabled for this module.
/// When it is not, the request runs with no span at all: nothing is paid for logs nobody reads.
///
/// Either way the request is counted and timed for `/metrics`.
pub async fn traced(
    metrics: &crate::prometheus::RequestMetrics,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("fallback")
        .to_string();
    let method = request.method().clone();
    let started = std::time::Instant::now();
    if !tracing::enabled!(Level::INFO) {
        let response = next.run(request).await;
        let seconds = started.elapsed().as_secs_f64();
        metrics.record(&method, &route, response.status().as_u16(), seconds);
        return response;
    }
    let span = tracing::info_span!("request", method = %method, route = %route);
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    metrics.record(&method, &route, status, seconds);
    let latency_ms = seconds * 1000.0;
    span.in_scope(|| {
        if response.status().is_server_error() {
            tracing::error!(status, latency_ms, "failed");
        } else {
            tracing::info!(status, latency_ms, "answered");
        }
    });
    response
}
