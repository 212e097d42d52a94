//! Logging and traces: a tracing subscriber (filter from `RUST_LOG`) and request spans keyed
//! on the matched route template, so logs group by route rather than by id. When
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the same spans (requests and background jobs) are
//! exported over OTLP/HTTP (protobuf) in batches, for any OpenTelemetry collector (Jaeger,
//! Grafana Tempo, Datadog); the `OTEL_*` variables of the OpenTelemetry specification apply.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
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
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("fallback", MatchedPath::as_str);
    let method = request.method().clone();
    let started = std::time::Instant::now();
    if !tracing::enabled!(Level::INFO) {
        let response = next.run(request).await;
        let seconds = started.elapsed().as_secs_f64();
        metrics.record(&method, route, response.status().as_u16(), seconds);
        return response;
    }
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        method = %method,
        route = %route,
        status = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("status", status);
    let seconds = started.elapsed().as_secs_f64();
    metrics.record(&method, route, status, seconds);
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
