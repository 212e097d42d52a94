//! Admin statistics and cache actions, locks and start-up warming.

use crate::helpers::*;
use hearth::config::{RedisSettings, Secret};
use hearth::redis::link::RedisLink;
use hearth::redis::lock::Locks;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const ADMIN: &str = "admin@example.org";

#[tokio::test]
async fn non_admins_get_403_on_every_admin_route() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN)]).await;
    let (c, _) = app.owner().await;
    assert_eq!(
        error_code(c.get("/api/admin/stats").await, StatusCode::FORBIDDEN).await,
        "forbidden"
    );
    let r = c.post("/api/admin/cache/clear", json!({})).await;
    assert_eq!(error_code(r, StatusCode::FORBIDDEN).await, "forbidden");
    assert_eq!(
        app.client().get("/api/admin/stats").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_stats_have_the_contracts_shape_and_move_with_traffic() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN)]).await;
    let admin = app.client();
    admin.register(ADMIN).await;
    let before: Value = admin.json("/api/admin/stats").await;
    for section in ["cache", "realtime", "redis", "system"] {
        assert!(before[section].is_object(), "{section}");
    }
    assert_eq!(before["redis"]["mode"], "embedded");
    assert_eq!(before["redis"]["status"], "disabled");
    assert_eq!(before["system"]["health_score"], 100);
    assert_eq!(before["system"]["status"], "healthy");
    assert!(before["system"]["rss_bytes"].as_u64().unwrap() > 0);

    let (c, _) = app.owner().await;
    for _ in 0..3 {
        c.get("/api/budgets?month=2026-03").await;
    }
    let after: Value = admin.json("/api/admin/stats").await;
    let hits = after["cache"]["hits"].as_u64().unwrap() - before["cache"]["hits"].as_u64().unwrap();
    let misses =
        after["cache"]["misses"].as_u64().unwrap() - before["cache"]["misses"].as_u64().unwrap();
    assert_eq!((hits, misses), (2, 1));
    let budgets = after["cache"]["per_endpoint"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["route"] == "/api/budgets")
        .unwrap()
        .clone();
    assert_eq!(budgets["hits"], 2);
    assert!(budgets["p99_ms"].as_f64().unwrap() >= budgets["p50_ms"].as_f64().unwrap());
    assert!(after["cache"]["l1_entries"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn clearing_a_familys_tag_makes_its_next_read_a_miss() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", ADMIN)]).await;
    let admin = app.client();
    admin.register(ADMIN).await;
    let (c, created) = app.owner().await;
    c.get("/api/budgets").await;
    assert_eq!(c.get("/api/budgets").await.headers()["x-cache"], "HIT");
    let tag = format!("family:{}", created["family"]["id"].as_str().unwrap());
    let r = admin
        .post("/api/admin/cache/clear", json!({ "tag": tag }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["cleared"], 1);
    assert_eq!(c.get("/api/budgets").await.headers()["x-cache"], "MISS");
    let r = admin
        .post("/api/admin/cache/clear", json!({ "tag": "everything" }))
        .await;
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
    let r = admin.post("/api/admin/cache/clear", json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(c.get("/api/budgets").await.headers()["x-cache"], "MISS");
}

#[tokio::test]
async fn only_one_of_many_contenders_gets_a_redis_lock() {
    let link = RedisLink::connect(&RedisSettings::Single {
        url: Secret::new("redis://127.0.0.1:6379"),
    })
    .unwrap()
    .unwrap();
    assert!(link.wait_until_up(Duration::from_secs(5)).await);
    let locks = Arc::new(Locks::new(Some(link)));
    let name = format!("test-{}", uuid::Uuid::new_v4());
    let contenders: Vec<_> = (0..32)
        .map(|_| {
            let (locks, name) = (locks.clone(), name.clone());
            tokio::spawn(async move { locks.try_acquire(&name, Duration::from_secs(5)).await })
        })
        .collect();
    let mut winners = Vec::new();
    for c in contenders {
        if let Some(g) = c.await.unwrap() {
            winners.push(g);
        }
    }
    assert_eq!(winners.len(), 1);
    let first = winners.pop().unwrap();
    assert!(locks.release(&first).await);
    assert!(!locks.release(&first).await, "released once only");
    let second = locks
        .try_acquire(&name, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(second.fencing, first.fencing + 1);
    assert!(locks.release(&second).await);
}

#[tokio::test]
async fn a_new_server_warms_active_families_before_it_answers() {
    let redis = "redis://127.0.0.1:6379";
    let first = spawn_app_with(&[("REDIS_URL", redis)]).await;
    let (c, _) = first.owner().await;
    let food = c.category("Groceries").await;
    let today = c.json("/api/budgets").await["today"]
        .as_str()
        .unwrap()
        .to_string();
    c.post(
        "/api/expenses",
        json!({"category_id": food, "amount_minor": 321, "spent_on": today}),
    )
    .await;
    // A second server on the same database and Redis, as after a deploy.
    let db = format!("sqlite://{}", first.db_path.display());
    let second = spawn_app_with(&[("REDIS_URL", redis), ("DATABASE_URL", &db)]).await;
    let on_second = c.on(&second.base);
    let r = on_second.get("/api/budgets").await;
    assert_eq!(r.headers()["x-cache"], "HIT");
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        321
    );
}

#[tokio::test]
async fn every_servers_traffic_is_rolled_up_once_per_period() {
    let redis = OwnRedis::start(free_port());
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let vars = [
        ("ADMIN_EMAILS", ADMIN),
        ("REDIS_URL", url.as_str()),
        ("ANALYTICS_ROLLUP_INTERVAL", "300"),
    ];
    let a = spawn_app_with(&vars).await;
    let db = format!("sqlite://{}", a.db_path.display());
    let mut with_db = vars.to_vec();
    with_db.push(("DATABASE_URL", &db));
    let b = spawn_app_with(&with_db).await;
    let admin = a.client();
    admin.register(ADMIN).await;
    let (on_a, _) = a.owner().await;
    let on_b = on_a.on(&b.base);
    // Five cacheable requests: three on A (a miss, then hits), two on B (hits from Redis).
    for c in [&on_a, &on_a, &on_a, &on_b, &on_b] {
        assert_eq!(
            c.get("/api/budgets?month=2026-03").await.status(),
            StatusCode::OK
        );
    }
    let mut seen = (0, 0, 0);
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stats: Value = admin.json("/api/admin/stats").await;
        let history = stats["history"].as_array().unwrap().clone();
        let sum = |f: &str| history.iter().map(|p| p[f].as_u64().unwrap()).sum::<u64>();
        let servers = history.iter().map(|p| p["servers"].as_u64().unwrap()).max();
        seen = (sum("requests"), sum("hits"), servers.unwrap_or(0));
        if seen.0 >= 5 && seen.2 == 2 {
            break;
        }
    }
    assert_eq!(seen, (5, 4, 2), "(requests, hits, servers) rolled up");
}

#[tokio::test]
async fn an_embedded_server_rolls_up_its_own_traffic() {
    let app = spawn_app_with(&[
        ("ADMIN_EMAILS", ADMIN),
        ("ANALYTICS_ROLLUP_INTERVAL", "200"),
    ])
    .await;
    let admin = app.client();
    admin.register(ADMIN).await;
    let (c, _) = app.owner().await;
    for _ in 0..4 {
        c.get("/api/expenses?month=2026-03").await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let stats: Value = admin.json("/api/admin/stats").await;
    let history = stats["history"].as_array().unwrap();
    assert!(history.len() >= 2, "{history:?}");
    let requests: u64 = history
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .sum();
    let hits: u64 = history.iter().map(|p| p["hits"].as_u64().unwrap()).sum();
    assert_eq!((requests, hits), (4, 3));
    assert!(history
        .windows(2)
        .all(|w| w[0]["ts_ms"].as_i64() < w[1]["ts_ms"].as_i64()));
}
