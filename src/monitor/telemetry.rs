//! Logging and traces: a tracing subscriber (filter from `RUST_LOG`) and request spans keyed
//! on the matched route template, so logs group by route rather than by id. When
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the same spans (requests and background jobs) are
//! exported over OTLP/HTTP (protobuf) in batches, for any OpenTelemetry collector (Jaeger,
//! Grafana Tempo, Datadog); the `OTEL_*` variables of the OpenTelemetry specification apply.

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::future::Future;
use tracing::{Instrument as _, Level};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::EnvFilter;

/// Keeps the trace exporter; dropping it sends the spans still buffered. Create and drop it
/// outside the async runtime (the exporter's HTTP client blocks).
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("hearth: the last traces were not exported: {e}");
            }
        }
    }
}

pub fn init() -> Telemetry {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let provider = otlp_provider();
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("hearth")));
    // A second init (tests start many servers in one process) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_target(false))
        .with(otel)
        .try_init();
    Telemetry { provider }
}

/// The OTLP/HTTP exporter, when `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector (its
/// `/v1/traces` receives the spans).
fn otlp_provider() -> Option<SdkTracerProvider> {
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("hearth: traces are not exported to {endpoint}: {e}");
            return None;
        }
    };
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("hearth");
    }
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource.build())
            .build(),
    )
}

/// What the request log and `/metrics` keep of a request before it runs: method, route
/// template and start time.
pub struct RequestLabel {
    method: Method,
    route: LabelRoute,
    started: std::time::Instant,
}

/// Where the route template comes from.
enum LabelRoute {
    /// The router's match.
    Matched(MatchedPath),
    /// A route answered before the router (the response cache's front door), whose path is
    /// its template.
    Known(&'static str),
    /// No route matched.
    Fallback,
}

impl RequestLabel {
    pub fn of(request: &Request) -> Self {
        Self {
            method: request.method().clone(),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .cloned()
                .map_or(LabelRoute::Fallback, LabelRoute::Matched),
            started: std::time::Instant::now(),
        }
    }

    /// A `GET` of a route known without the router.
    pub fn get(route: &'static str) -> Self {
        Self {
            method: Method::GET,
            route: LabelRoute::Known(route),
            started: std::time::Instant::now(),
        }
    }

    pub fn started(&self) -> std::time::Instant {
        self.started
    }

    fn route(&self) -> &str {
        match &self.route {
            LabelRoute::Matched(m) => m.as_str(),
            LabelRoute::Known(route) => route,
            LabelRoute::Fallback => "fallback",
        }
    }

    /// Counts and times the answer for `/metrics`; the seconds it took.
    pub fn record(&self, metrics: &crate::monitor::prometheus::RequestMetrics, status: u16) -> f64 {
        let seconds = self.started.elapsed().as_secs_f64();
        metrics.record(&self.method, self.route(), status, seconds);
        seconds
    }

    /// The `request` span, keyed on the route template (so logs group by route, not by id).
    fn span(&self) -> tracing::Span {
        let (method, route) = (&self.method, self.route());
        tracing::info_span!(
            "request",
            otel.name = %format_args!("{method} {route}"),
            otel.kind = "server",
            method = %method,
            route = %route,
            status = tracing::field::Empty,
        )
    }
}

/// Whether requests are logged (INFO enabled for this module). When they are not, a request
/// runs with no span at all: nothing is paid for logs nobody reads.
pub fn logging_requests() -> bool {
    tracing::enabled!(Level::INFO)
}

/// Runs the request inside its `request` span, logs its status and latency, and counts it
/// for `/metrics`.
pub async fn logged(
    metrics: &crate::monitor::prometheus::RequestMetrics,
    label: RequestLabel,
    answer: impl Future<Output = Response>,
) -> Response {
    let span = label.span();
    let response = answer.instrument(span.clone()).await;
    log_answer(metrics, &label, &span, &response);
    response
}

/// `logged` for an answer that was ready at once.
pub fn logged_now(
    metrics: &crate::monitor::prometheus::RequestMetrics,
    label: RequestLabel,
    response: Response,
) -> Response {
    let span = label.span();
    log_answer(metrics, &label, &span, &response);
    response
}

fn log_answer(
    metrics: &crate::monitor::prometheus::RequestMetrics,
    label: &RequestLabel,
    span: &tracing::Span,
    response: &Response,
) {
    let status = response.status().as_u16();
    span.record("status", status);
    let latency_ms = label.record(metrics, status) * 1000.0;
    span.in_scope(|| {
        if response.status().is_server_error() {
            tracing::error!(status, latency_ms, "failed");
        } else {
            tracing::info!(status, latency_ms, "answered");
        }
    });
}
