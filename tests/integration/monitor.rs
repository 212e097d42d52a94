//! The performance monitor: its page (admins only), the per-second series, browser reports,
//! hints, and alerts raised once per incident when a test-owned Redis dies and returns.

use crate::helpers::*;
use crate::realtime::Ws;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN: &str = "admin@example.org";

#[tokio::test]
async fn the_monitor_page_is_for_admins_only() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN)]).await;
    let admin = app.client();
    admin.register(ADMIN).await;
    let page = admin.get("/admin/performance").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for hook in [
        "perf-health-score",
        "perf-status",
        "perf-cache-hit-rate",
        "perf-ws-connections",
    ] {
        assert!(html.contains(&format!("data-testid=\"{hook}\"")), "{hook}");
    }
    assert!(
        html.contains(">healthy<"),
        "the measured status is rendered"
    );

    let (member, _) = app.owner().await;
    let page = member.get("/admin/performance").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("Not allowed"));
    assert!(
        !html.contains("perf-health-score"),
        "no figures for members"
    );

    let anonymous = app.client();
    let page = anonymous.get("/admin/performance").await;
    assert!(
        page.status().is_redirection() || page.text().await.unwrap().contains("/login"),
        "signed-out visitors are sent to sign in"
    );
}

#[tokio::test]
async fn the_series_counts_each_second_of_traffic() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN)]).await;
    let admin = app.client();
    admin.register(ADMIN).await;
    let (c, _) = app.owner().await;
    for _ in 0..30 {
        c.get("/api/budgets?month=2026-03").await;
    }
    let mut stats = Value::Null;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stats = admin.json("/api/admin/stats").await;
        let total: f64 = stats["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["requests_per_s"].as_f64().unwrap())
            .sum();
        if total >= 30.0 {
            break;
        }
    }
    let series = stats["series"].as_array().unwrap();
    let busy = series
        .iter()
        .find(|s| s["requests_per_s"].as_f64().unwrap() >= 10.0)
        .unwrap_or_else(|| panic!("a second with the traffic in {series:?}"));
    assert!(busy["p99_ms"].as_f64().unwrap() > 0.0);
    let rate = busy["hit_rate"].as_f64().unwrap();
    assert!(rate > 0.5 && rate <= 1.0, "{rate}");
    assert!(series
        .windows(2)
        .all(|w| w[0]["ts_ms"].as_i64() < w[1]["ts_ms"].as_i64()));
    assert!(stats["system"]["db_pool_size"].as_u64().unwrap() >= 1);
    assert!(stats["hints"].as_array().unwrap().is_empty(), "{stats}");
}

#[tokio::test]
async fn browser_reports_are_aggregated_per_page_and_bad_ones_refused() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN)]).await;
    let admin = app.client();
    admin.register(ADMIN).await;
    let visitor = app.client();
    for lcp in [800.0, 1200.0, 1000.0] {
        let r = visitor
            .post(
                "/api/vitals",
                json!({"page": "/budget?month=2026-03", "lcp_ms": lcp, "cls": 0.01,
                       "ttfb_ms": 12.5, "wasm_ms": 300.0, "hydrate_ms": 40.0}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    for bad in [
        json!({"page": "/budget", "lcp_ms": -5}),
        json!({"page": "/budget", "cls": 1e9}),
        json!({"page": "budget"}),
        json!({"page": "/budget", "lcp_ms": "fast"}),
        json!({"page": "/budget", "extra": 1}),
        json!([1, 2]),
    ] {
        let r = visitor.post("/api/vitals", bad.clone()).await;
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    let r = visitor
        .raw(reqwest::Method::POST, "/api/vitals", "{not json")
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let stats = admin.json("/api/admin/stats").await;
    let pages = stats["frontend"].as_array().unwrap();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(pages[0]["page"], "/budget");
    assert_eq!(pages[0]["reports"], 3);
    let lcp = pages[0]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "lcp_ms")
        .unwrap();
    assert_eq!(lcp["samples"], 3);
    assert_eq!(lcp["p50"], 1000.0);
}

/// Notifications of one channel until `wait` passed.
async fn notices(ws: &mut Ws, wait: Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        let Ok(frame) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        if frame["type"] == "notification" {
            seen.push(frame);
        }
    }
    seen
}

#[tokio::test]
async fn an_alert_fires_once_when_redis_dies_and_clears_once_when_it_returns() {
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN), ("REDIS_URL", &url)]).await;
    let admin = app.client();
    let me = admin.register(ADMIN).await;
    let user_channel = format!("user:{}", me["user"]["id"].as_str().unwrap());
    let mut watcher = Ws::connect(&admin).await;
    watcher.subscribe("admin:metrics", None).await;
    watcher.subscribe(&user_channel, None).await;
    assert!(notices(&mut watcher, Duration::from_secs(2))
        .await
        .is_empty());

    let _ = redis.child.kill();
    let _ = redis.child.wait();
    let fired = notices(&mut watcher, Duration::from_secs(8)).await;
    let on = |list: &[Value], channel: &str, state: &str| {
        list.iter()
            .filter(|n| n["channel"] == channel && n["data"]["state"] == state)
            .count()
    };
    assert_eq!(on(&fired, "admin:metrics", "firing"), 1, "{fired:?}");
    assert_eq!(on(&fired, &user_channel, "firing"), 1, "{fired:?}");
    let first = fired
        .iter()
        .find(|n| n["channel"] == "admin:metrics")
        .unwrap();
    assert_eq!(first["data"]["rule"], "redis_down");
    assert_eq!(first["data"]["kind"], "alert");
    let stats = admin.json("/api/admin/stats").await;
    assert_eq!(stats["system"]["status"], "degraded");
    assert_eq!(stats["redis"]["status"], "down");
    assert!(stats["hints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["rule"] == "redis_down"));

    let _redis_again = OwnRedis::start(port);
    let cleared = notices(&mut watcher, Duration::from_secs(15)).await;
    assert_eq!(on(&cleared, "admin:metrics", "resolved"), 1, "{cleared:?}");
    assert_eq!(on(&cleared, "admin:metrics", "firing"), 0, "{cleared:?}");
    assert_eq!(on(&cleared, &user_channel, "resolved"), 1, "{cleared:?}");
    let stats = admin.json("/api/admin/stats").await;
    assert_eq!(stats["system"]["status"], "healthy");
    assert_eq!(stats["redis"]["status"], "up");
}

#[tokio::test]
async fn request_and_job_spans_go_to_the_otlp_endpoint_when_one_is_set() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};
    // A collector of the test's own, keeping what arrives at /v1/traces.
    // (content type, body) of each export.
    type Exports = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Exports = Arc::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                sink.lock().unwrap().push((kind, body.to_vec()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let server = crate::hub_servers::Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("RUST_LOG", "info"),
    ])
    .await;
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{}/api/me", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let has = |needle: &str| {
        received
            .lock()
            .unwrap()
            .iter()
            .any(|(_, body)| body.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    for _ in 0..100 {
        if has("GET /api/me") && has("warm the cache") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(has("GET /api/me"), "the request's span was exported");
    assert!(
        has("warm the cache"),
        "the start-up job's span was exported"
    );
    assert!(has("hearth"), "with the service name");
    let kinds: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.0.clone())
        .collect();
    assert!(
        kinds.iter().all(|k| k == "application/x-protobuf"),
        "{kinds:?}"
    );
}
