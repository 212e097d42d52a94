//! `GET /metrics`: Prometheus text format (metrics + metrics-exporter-prometheus). Requests
//! are counted and timed per route template (never per path, so ids do not multiply the
//! series) and per server (`node`); the cache, hub and process figures are read from the
//! same counters as `/api/admin/stats` at scrape time. Guarded by `METRICS_TOKEN` when set.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

const REQUESTS: &str = "hearth_http_requests_total";
const DURATION: &str = "hearth_http_request_duration_seconds";
/// Request latency buckets: 0.25 ms to 2.5 s.
const BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5,
];

/// The process's recorder, installed on first use (one per process, shared by every server
/// a test process starts: their series differ by `node`).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.into()), &BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "no Prometheus recorder: /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder (at start-up, so the first requests are counted).
pub fn install() {
    let _ = handle();
}

/// One server's request counters: the handles of each (route, method, status) are
/// registered once and kept, so counting a request allocates nothing and takes a read lock
/// (a successful read of the cached routes not even that).
pub struct RequestMetrics {
    node: String,
    /// The same requests, for the monitor's per-second series and alerts.
    pub window: crate::monitor::Window,
    by_route: RwLock<HashMap<Box<str>, RouteHandles, crate::FastHash>>,
    /// The handles of a `200` to a `GET` of each cached read (`cache::middleware::paths`),
    /// the bulk of the traffic: taken without the lock, whose counter both cores would
    /// otherwise write on every request.
    hot: [OnceLock<(Counter, Histogram)>; HOT.len()],
}

/// The routes whose successful `GET`s have their handles at hand.
const HOT: [&str; 3] = crate::http::response_cache::paths::FRONT_DOOR;

/// A route's handles by (method, status).
type RouteHandles = HashMap<(Method, u16), (Counter, Histogram), crate::FastHash>;

impl RequestMetrics {
    pub fn new(node: &str) -> Self {
        Self {
            node: node.to_string(),
            window: crate::monitor::Window::default(),
            by_route: RwLock::new(HashMap::default()),
            hot: Default::default(),
        }
    }

    /// Counts and times one answered request.
    pub fn record(&self, method: &Method, route: &str, status: u16, seconds: f64) {
        self.window.record(status, seconds);
        let count = |(counter, histogram): &(Counter, Histogram)| {
            counter.increment(1);
            histogram.record(seconds);
        };
        let hot = (status == 200 && method == Method::GET)
            .then(|| HOT.iter().position(|r| *r == route))
            .flatten();
        if let Some(i) = hot {
            count(self.hot[i].get_or_init(|| self.handles(method, route, status)));
            return;
        }
        let key = (method.clone(), status);
        if let Ok(map) = self.by_route.read() {
            if let Some(handles) = map.get(route).and_then(|m| m.get(&key)) {
                count(handles);
                return;
            }
        }
        let handles = self.handles(method, route, status);
        count(&handles);
        if let Ok(mut map) = self.by_route.write() {
            map.entry(route.into()).or_default().insert(key, handles);
        }
    }

    /// Registers the series of (method, route, status) with the recorder.
    fn handles(&self, method: &Method, route: &str, status: u16) -> (Counter, Histogram) {
        let labels = [
            ("node", self.node.clone()),
            ("method", method.as_str().to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ];
        (
            metrics::counter!(REQUESTS, &labels),
            metrics::histogram!(DURATION, &labels[..3]),
        )
    }
}

/// Folds the recorded latencies into their histograms now and then, so samples do not pile
/// up between scrapes (or when nobody scrapes).
pub async fn upkeep() {
    let Some(handle) = handle() else { return };
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        handle.run_upkeep();
    }
}

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
    let db_up = crate::http::routes::admin::db_up(state).await;
    let stats = crate::http::routes::admin::collect_with(state, db_up).await;
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
