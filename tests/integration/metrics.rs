//! `GET /metrics`: Prometheus text, per route template and server, matching the traffic sent,
//! guarded by `METRICS_TOKEN`.

use crate::helpers::*;
use crate::realtime::Ws;
use reqwest::StatusCode;

/// `name{labels} value` lines (comments skipped), as (name, labels, value).
fn samples(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {l:?}"));
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (
                    n,
                    rest.strip_suffix('}')
                        .unwrap_or_else(|| panic!("bad labels {l:?}")),
                ),
                None => (series, ""),
            };
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {l:?}"
            );
            (name.to_string(), labels.to_string(), value)
        })
        .collect()
}

fn value(samples: &[(String, String, f64)], name: &str, labels: &[&str]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| n == name && labels.iter().all(|x| l.contains(x)))
        .map(|s| s.2)
}

/// `GET /metrics` with a bearer token.
async fn scrape(c: &Client, token: &str) -> reqwest::Response {
    c.http
        .get(c.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn metrics_count_the_traffic_per_route_template_and_need_the_token() {
    let app = spawn_app_with(&[("METRICS_TOKEN", "a-long-scrape-token")]).await;
    let (owner, _) = app.owner().await;
    let ws = Ws::connect(&owner).await;
    let node = format!("node=\"{}\"", ws.hello["node_id"].as_str().unwrap());

    assert_eq!(
        app.client().get("/metrics").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = scrape(&owner, "a-long-scrape-tokeN").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let food = owner.category("Groceries").await;
    for _ in 0..3 {
        owner.json("/api/budgets").await;
    }
    let e = owner.spend(&food, 500, None).await;
    let id = e["id"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(
            owner.get(&format!("/api/expenses/{id}")).await.status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }
    let scrape = scrape(&owner, "a-long-scrape-token").await;
    assert_eq!(scrape.status(), StatusCode::OK);
    assert!(scrape.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = scrape.text().await.unwrap();
    let all = samples(&text);
    let requests = |route: &str, method: &str, status: &str| {
        value(
            &all,
            "hearth_http_requests_total",
            &[
                &node,
                &format!("route=\"{route}\""),
                &format!("method=\"{method}\""),
                &format!("status=\"{status}\""),
            ],
        )
    };
    assert_eq!(requests("/api/budgets", "GET", "200"), Some(3.0), "{text}");
    assert_eq!(requests("/api/expenses", "POST", "201"), Some(1.0));
    assert_eq!(
        requests("/api/expenses/{id}", "GET", "405"),
        Some(2.0),
        "templates, not paths"
    );
    assert!(!text.contains(id), "no ids in labels");
    let timed = value(
        &all,
        "hearth_http_request_duration_seconds_count",
        &[&node, "route=\"/api/budgets\""],
    );
    assert_eq!(timed, Some(3.0));
    assert_eq!(value(&all, "hearth_ws_connections", &[&node]), Some(1.0));
    assert!(value(&all, "hearth_cache_hits", &[&node]).is_some());
    assert!(
        value(&all, "hearth_health_score", &[&node]).is_some_and(|s| (0.0..=100.0).contains(&s))
    );
    drop(ws);
}
