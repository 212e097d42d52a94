//! The response cache as a client sees it, embedded and on a real Redis.

use crate::helpers::*;
use hearth::config::Settings;
use hearth::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_read_misses_then_hits_and_a_current_etag_gets_304() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let first = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(header(&first, "x-cache"), "MISS");
    assert_eq!(header(&first, "cache-control"), "private, no-cache");
    assert!(header(&first, "cache-status").starts_with("hearth; fwd=miss"));
    assert!(header(&first, "server-timing").contains("total;dur="));
    let etag = header(&first, "etag");
    let names = |r: &reqwest::Response| {
        let mut n: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
        n.sort();
        n
    };
    let (first_names, first_policy) = (names(&first), header(&first, "content-security-policy"));
    let body: Value = first.json().await.unwrap();
    let second = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(header(&second, "x-cache"), "HIT");
    assert!(header(&second, "server-timing").contains("cache;"));
    assert_eq!(header(&second, "etag"), etag);
    // The hit was answered by the cache's front door, before the router: the same headers
    // as an answer that went through the router (the guard's security headers included).
    assert_eq!(names(&second), first_names);
    assert_eq!(header(&second, "x-content-type-options"), "nosniff");
    assert_eq!(header(&second, "content-security-policy"), first_policy);
    assert_eq!(second.json::<Value>().await.unwrap(), body);
    let r = c
        .http
        .get(c.url("/api/budgets?month=2026-03"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c
        .http
        .get(c.url("/api/budgets?month=2026-03"))
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_write_makes_the_next_read_fresh() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    c.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        header(&c.get("/api/budgets?month=2026-03").await, "x-cache"),
        "HIT"
    );
    c.post(
        "/api/expenses",
        json!({"category_id": food, "amount_minor": 250, "spent_on": "2026-03-03"}),
    )
    .await;
    let r = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(header(&r, "x-cache"), "MISS");
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        250
    );
}

#[tokio::test]
async fn cached_data_is_never_served_to_another_family() {
    let app = spawn_app().await;
    let (a, _) = app.owner().await;
    let (b, _) = app.owner().await;
    let food = a.category("Groceries").await;
    a.post(
        "/api/expenses",
        json!({"category_id": food, "amount_minor": 999, "spent_on": "2026-03-03"}),
    )
    .await;
    a.get("/api/expenses?month=2026-03").await;
    assert_eq!(a.expense_count("2026-03").await, 1);
    let r = b.get("/api/expenses?month=2026-03").await;
    assert_eq!(header(&r, "x-cache"), "MISS");
    assert_eq!(r.json::<Value>().await.unwrap()["expenses"], json!([]));
    assert_eq!(
        header(&app.client().get("/api/budgets").await, "x-cache"),
        ""
    );
}

#[tokio::test]
async fn large_responses_are_compressed_and_compressed_bodies_accepted() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c
        .http
        .get(c.url("/api/openapi.json"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-encoding"), "br");
    assert_eq!(header(&r, "vary"), "accept-encoding");
    // A client that accepts no encoding gets the same answer plain, with the same Vary.
    let plain = reqwest::Client::new();
    let r = plain.get(c.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(header(&r, "content-encoding"), "");
    assert_eq!(header(&r, "vary"), "accept-encoding");
    assert!(r.json::<Value>().await.unwrap()["paths"].is_object());
    let r = c
        .http
        .get(c.url("/healthz"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&r, "content-encoding"),
        "",
        "small bodies stay plain"
    );
}

pub(crate) async fn wait_for_redis(c: &Client, want: &str) {
    for _ in 0..100 {
        let ready = c.get("/readyz").await.json::<Value>().await.unwrap();
        if ready["redis"] == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("redis never became {want}");
}

/// A server on `pg`'s schema (its store made on the servers' runtime, where it is used),
/// with Redis at `redis_url` or embedded.
pub(crate) async fn server(pg: &PgSchema, redis_url: Option<&str>) -> TestApp {
    let mut vars = vec![("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_string())];
    vars.extend(redis_url.map(|url| ("REDIS_URL", url.to_string())));
    let settings =
        Settings::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let pg = PgSchema {
        url: pg.url.clone(),
        schema: pg.schema.clone(),
    };
    let base = serve(async move {
        Application::build_with_store(settings, pg.store().await)
            .await
            .unwrap()
    })
    .await;
    TestApp {
        base,
        db_path: Default::default(),
    }
}

#[tokio::test]
async fn two_servers_sharing_redis_and_postgres_never_read_before_a_write() {
    let pg = PgSchema::fresh();
    let a = server(&pg, Some("redis://127.0.0.1:6379")).await;
    let b = server(&pg, Some("redis://127.0.0.1:6379")).await;
    let (on_a, _) = a.owner().await;
    wait_for_redis(&on_a, "up").await;
    // The same browser (cookie) talks to server B too: sessions must be shared.
    let on_b = on_a.on(&b.base);
    wait_for_redis(&on_b, "up").await;
    let food = on_a.category("Groceries").await;
    assert_eq!(
        header(&on_a.get("/api/budgets?month=2026-03").await, "x-cache"),
        "MISS"
    );
    let from_b = on_b.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        header(&from_b, "x-cache"),
        "HIT",
        "B finds A's entry in Redis"
    );
    assert!(header(&from_b, "cache-status").contains("l2"));
    on_b.spend(&food, 4321, Some("2026-03-09")).await;
    let r = on_a.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        4321
    );
    // Both servers now hold the month in L1; each hears of the other's writes at once.
    for (round, (writer, reader)) in [(&on_a, &on_b), (&on_b, &on_a), (&on_a, &on_b)]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            header(&reader.get("/api/budgets?month=2026-03").await, "x-cache"),
            "HIT"
        );
        let r = writer
            .post(
                "/api/expenses",
                json!({"category_id": food, "amount_minor": 1, "spent_on": "2026-03-10"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = reader.get("/api/budgets?month=2026-03").await;
        assert_eq!(
            r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
            4322 + round as i64,
            "round {round}: a read after a write on the other server is fresh"
        );
    }
}

#[tokio::test]
async fn a_server_whose_subscription_dropped_forgets_what_it_learnt() {
    let pg = PgSchema::fresh();
    let port = free_port();
    let _redis = OwnRedis::start(port);
    let redis_url = format!("redis://127.0.0.1:{port}");
    let mut servers = Vec::new();
    for _ in 0..2 {
        servers.push(server(&pg, Some(&redis_url)).await);
    }
    let (on_a, _) = servers[0].owner().await;
    let on_b = on_a.on(&servers[1].base);
    wait_for_redis(&on_a, "up").await;
    wait_for_redis(&on_b, "up").await;
    let food = on_a.category("Groceries").await;
    on_b.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        header(&on_b.get("/api/budgets?month=2026-03").await, "x-cache"),
        "HIT"
    );
    // Drop every subscriber connection, then write at once, while they resubscribe: the
    // announcement may be lost, and B must still not serve what it held.
    let killed = redis_cli(port, &["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert!(killed.trim().parse::<u32>().unwrap() >= 2, "{killed}");
    on_a.spend(&food, 250, Some("2026-03-02")).await;
    let r = on_b.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        250
    );
    // Resubscribed: announcements flow again.
    until("both subscribers are back", || {
        redis_cli(port, &["PUBSUB", "NUMSUB", "hearth:invalidate"]).contains("\n2")
    })
    .await;
    on_b.get("/api/budgets?month=2026-03").await;
    on_a.spend(&food, 50, Some("2026-03-03")).await;
    let r = on_b.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        300
    );
}

#[tokio::test]
async fn an_entry_late_in_its_life_is_served_and_refreshed_in_the_background() {
    let app = spawn_app_with(&[("CACHE_DEFAULT_TTL", "2")]).await;
    let (c, _) = app.owner().await;
    c.category("Groceries").await;
    let path = "/api/expenses?month=2026-03";
    assert_eq!(header(&c.get(path).await, "x-cache"), "MISS");
    let r = c.get(path).await;
    assert_eq!(header(&r, "x-cache"), "HIT");
    assert!(header(&r, "cache-status").ends_with("detail=l1"));
    // Past four fifths of its 2 s: still a hit, and a fresh copy is computed meanwhile.
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let r = c.get(path).await;
    assert_eq!(header(&r, "x-cache"), "HIT");
    assert!(
        header(&r, "cache-status").ends_with("detail=l1-revalidating"),
        "{}",
        header(&r, "cache-status")
    );
    // Beyond the old entry's TTL, the refreshed one answers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = c.get(path).await;
    assert_eq!(header(&r, "x-cache"), "HIT");
    assert!(header(&r, "cache-status").ends_with("detail=l1"));
}

#[tokio::test]
async fn when_redis_dies_reads_degrade_writes_land_and_everything_heals() {
    let port = free_port();
    let mut redis = OwnRedis::start(port);
    let app = spawn_app_with(&[("REDIS_URL", &format!("redis://127.0.0.1:{port}"))]).await;
    let (c, _) = app.owner().await;
    wait_for_redis(&c, "up").await;
    let food = c.category("Groceries").await;
    c.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        header(&c.get("/api/budgets?month=2026-03").await, "x-cache"),
        "HIT"
    );

    redis.child.kill().unwrap();
    redis.child.wait().unwrap();
    wait_for_redis(&c, "down").await;
    let ready = c.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "degraded");
    let r = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-cache"), "STALE");
    let r = c
        .post(
            "/api/expenses",
            json!({"category_id": food, "amount_minor": 700, "spent_on": "2026-03-04"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "writes go to the database");
    let r = c.get("/api/expenses?month=2026-03").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-cache"), "BYPASS");
    assert_eq!(
        r.json::<Value>().await.unwrap()["expenses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let _redis = OwnRedis::start(redis.port);
    wait_for_redis(&c, "up").await;
    let r = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(header(&r, "x-cache"), "MISS");
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        700
    );
    assert_eq!(
        c.send(Method::GET, "/readyz", json!({}))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"],
        "ok"
    );
}

#[tokio::test]
async fn insights_forecast_and_are_limited_to_ten_a_minute_per_family() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let (other, _) = app.owner().await;
    let food = c.category("Groceries").await;
    c.send(
        Method::PUT,
        &format!("/api/budgets/2026-01/{food}"),
        json!({"limit_minor": 1000}),
    )
    .await;
    for amount in [100, 110, 90, 120, 900] {
        c.post(
            "/api/expenses",
            json!({"category_id": food, "amount_minor": amount, "spent_on": "2026-01-05"}),
        )
        .await;
    }
    let r = c.get("/api/insights?month=2026-01").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "ratelimit-limit"), "10");
    assert_eq!(header(&r, "ratelimit-remaining"), "9");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["days_elapsed"], 31);
    let f = body["forecasts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["category_id"] == food.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            f["spent_minor"].as_i64(),
            f["forecast_minor"].as_i64(),
            f["at_risk"].as_bool()
        ),
        (Some(1320), Some(1320), Some(true))
    );
    assert_eq!(body["at_risk"], json!([food]));
    assert_eq!(body["unusual"][0]["amount_minor"], 900);
    for _ in 0..9 {
        assert_eq!(
            c.get("/api/insights?month=2026-01").await.status(),
            StatusCode::OK
        );
    }
    let r = c.get("/api/insights?month=2026-01").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=6).contains(&retry));
    assert_eq!(header(&r, "ratelimit-remaining"), "0");
    assert_eq!(
        other.get("/api/insights").await.status(),
        StatusCode::OK,
        "each family has its own bucket"
    );
}

#[tokio::test]
async fn the_insights_bucket_is_shared_through_redis() {
    let app = spawn_app_with(&[("REDIS_URL", "redis://127.0.0.1:6379")]).await;
    let (c, _) = app.owner().await;
    wait_for_redis(&c, "up").await;
    for _ in 0..10 {
        assert_eq!(c.get("/api/insights").await.status(), StatusCode::OK);
    }
    assert_eq!(
        c.get("/api/insights").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn after_a_write_the_current_month_is_warmed_again() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let today = c.json("/api/budgets").await["today"]
        .as_str()
        .unwrap()
        .to_string();
    let month = &today[..7];
    c.post(
        "/api/expenses",
        json!({"category_id": food, "amount_minor": 42, "spent_on": today}),
    )
    .await;
    // The warming runs in the background after the write; poll until it has landed.
    let mut outcome = String::new();
    for _ in 0..50 {
        let r = c.get(&format!("/api/expenses?month={month}")).await;
        outcome = header(&r, "x-cache");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["expenses"].as_array().unwrap().len(),
            1,
            "always fresh"
        );
        if outcome == "HIT" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outcome, "HIT");
    let r = c.get("/api/budgets").await;
    assert_eq!(header(&r, "x-cache"), "HIT");
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        42
    );
}

#[tokio::test]
async fn no_cache_from_the_client_computes_afresh() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    c.get("/api/categories").await;
    assert_eq!(header(&c.get("/api/categories").await, "x-cache"), "HIT");
    let r = c
        .http
        .get(c.url("/api/categories"))
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "x-cache"), "MISS");
    assert!(header(&r, "cache-status").contains("fwd="));
}

#[tokio::test]
async fn when_the_database_fails_the_last_good_answer_is_served_stale() {
    let pg = PgSchema::fresh();
    let app = server(&pg, None).await;
    let (c, _) = app.owner().await;
    let good: Value = c
        .get("/api/budgets?month=2026-03")
        .await
        .json()
        .await
        .unwrap();

    // The database loses its tables under the running server.
    let admin = sqlx::PgPool::connect(&pg.url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA \"{}\" CASCADE", pg.schema))
        .execute(&admin)
        .await
        .unwrap();

    let r = c
        .http
        .get(c.url("/api/budgets?month=2026-03"))
        .header("cache-control", "no-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "x-cache"), "STALE");
    assert!(header(&r, "cache-status").contains("stale-if-error"));
    assert_eq!(r.json::<Value>().await.unwrap(), good);
    // A request never answered before has nothing to fall back on: a clean error body.
    let r = c.get("/api/expenses?month=2026-01").await;
    assert!(r.status().is_server_error());
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("relation"),
        "no internal text"
    );
}
