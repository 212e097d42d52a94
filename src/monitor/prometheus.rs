//! The Prometheus recorder (metrics + metrics-exporter-prometheus) and each server's request
//! counters: requests are counted and timed per route template (never per path, so ids do
//! not multiply the series) and per server (`node`). `http::metrics` serves them as
//! `GET /metrics`.

use axum::http::Method;
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
pub fn handle() -> Option<&'static PrometheusHandle> {
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
    /// The handles of a `200` to a `GET` of each cached read (`cache::paths`),
    /// the bulk of the traffic: taken without the lock, whose counter both cores would
    /// otherwise write on every request.
    hot: [OnceLock<(Counter, Histogram)>; HOT.len()],
}

/// The routes whose successful `GET`s have their handles at hand.
const HOT: [&str; 3] = crate::cache::paths::FRONT_DOOR;

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
