//! The hub across two server processes (the `hearth` binary) sharing a test-owned Redis and
//! a PostgreSQL schema: delivery exactly once and in order across servers, recovery when a
//! server is killed, presence after a SIGKILL, history trimmed past recovery, a Redis restart
//! during traffic, and 4001 on a graceful stop.

use crate::helpers::*;
use crate::realtime::Ws;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use uuid::Uuid;

/// A `hearth` process on a free port.
pub struct Server {
    pub base: String,
    child: Child,
}

impl Server {
    pub async fn start(vars: &[(&str, &str)]) -> Server {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_hearth"))
            .env("RUST_LOG", "warn")
            .envs(vars.iter().copied())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .expect("the hearth binary runs");
        // Owned at once, so the process is killed and reaped whatever happens next.
        let server = Server {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        let probe = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = probe.get(format!("{}/healthz", server.base)).send().await {
                if r.status().is_success() {
                    return server;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("hearth did not start on {port}");
    }

    /// SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: a graceful stop.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh PostgreSQL schema (migrated) and the `DATABASE_URL` that selects it.
async fn database() -> String {
    let pg = PgSchema::fresh();
    pg.store().await;
    pg.database_url()
}

/// Stored events until `n` of `kind` were seen; checks offsets rise by exactly one.
async fn stored_until(
    ws: &mut Ws,
    kind: &str,
    n: usize,
    mut last: Option<u64>,
) -> (Vec<Value>, u64) {
    let mut seen = Vec::new();
    loop {
        let f = ws.next().await;
        let Some(offset) = f["offset"].as_u64() else {
            continue;
        };
        if let Some(l) = last {
            assert_eq!(offset, l + 1, "offsets rise by one: {f}");
        }
        last = Some(offset);
        if f["type"] == kind {
            seen.push(f);
            if seen.len() == n {
                return (seen, offset);
            }
        }
    }
}

#[tokio::test]
async fn two_servers_deliver_once_in_order_and_recover_when_one_is_killed() {
    let redis = OwnRedis::start(free_port());
    let redis_url = format!("redis://127.0.0.1:{}", redis.port);
    let db = database().await;
    let vars = [
        ("REDIS_URL", redis_url.as_str()),
        ("DATABASE_URL", db.as_str()),
        ("WEBSOCKET_HEARTBEAT_INTERVAL", "1000"),
    ];
    let mut a = Server::start(&vars).await;
    let b = Server::start(&vars).await;
    let app_a = TestApp {
        base: a.base.clone(),
        db_path: Default::default(),
    };
    let (owner, created) = app_a.owner().await;
    let channel = format!("family:{}", created["family"]["id"].as_str().unwrap());
    let member_on_a = app_a.member(created["invite_code"].as_str().unwrap()).await;
    let member_on_b = member_on_a.on(&b.base);
    let groceries = owner.category("Groceries").await;

    // The owner listens on A; the member (also connected on A) spends through B.
    let mut on_a = Ws::connect(&owner).await;
    on_a.subscribe(&channel, None).await;
    let mut member_ws = Ws::connect(&member_on_a).await;
    member_ws.subscribe(&channel, None).await;
    for amount in 1..=20 {
        member_on_b.spend(&groceries, amount, None).await;
    }
    let (events, last) = stored_until(&mut on_a, "expense_created", 20, None).await;
    let amounts: Vec<i64> = events
        .iter()
        .map(|e| e["data"]["expense"]["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(
        amounts,
        (1..=20).collect::<Vec<_>>(),
        "exactly once, in order"
    );
    let epoch = events[0]["epoch"].clone();
    on_a.none_of("expense_created", Duration::from_millis(300))
        .await;

    // A dies without a word; the owner moves to B and recovers from where it was.
    let member_id = member_on_b.json("/api/me").await["user"]["id"].clone();
    a.kill();
    for amount in 21..=25 {
        member_on_b.spend(&groceries, amount, None).await;
    }
    let owner_on_b = owner.on(&b.base);
    let mut moved = Ws::connect(&owner_on_b).await;
    let sub = moved
        .subscribe(&channel, Some(json!({"epoch": epoch, "offset": last})))
        .await;
    assert_eq!(sub["recovered"], true, "{sub}");
    let (missed, _) = stored_until(&mut moved, "expense_created", 5, Some(last)).await;
    let amounts: Vec<i64> = missed
        .iter()
        .map(|e| e["data"]["expense"]["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, (21..=25).collect::<Vec<_>>());

    // The member's only connection was on A: within 15 s, everyone sees them go.
    let started = std::time::Instant::now();
    loop {
        let p = moved.until("presence").await;
        if !p["data"]["online"].as_array().unwrap().contains(&member_id) {
            break;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(15));

    // Past the history: trimmed away, so not recoverable.
    redis_cli(
        redis.port,
        &[
            "XTRIM",
            &format!("hearth:stream:{{f:{}}}", &channel["family:".len()..]),
            "MAXLEN",
            "0",
        ],
    );
    let mut late = Ws::connect(&owner_on_b).await;
    let sub = late
        .subscribe(&channel, Some(json!({"epoch": epoch, "offset": 1})))
        .await;
    assert_eq!(sub["recovered"], false);
}

#[tokio::test]
async fn a_redis_restart_during_traffic_heals_with_every_gap_recovered_or_flagged() {
    let mut redis = OwnRedis::start(free_port());
    let port = redis.port;
    let redis_url = format!("redis://127.0.0.1:{port}");
    let db = database().await;
    let vars = [
        ("REDIS_URL", redis_url.as_str()),
        ("DATABASE_URL", db.as_str()),
    ];
    let a = Server::start(&vars).await;
    let b = Server::start(&vars).await;
    let app_a = TestApp {
        base: a.base.clone(),
        db_path: Default::default(),
    };
    let (owner, created) = app_a.owner().await;
    let channel = format!("family:{}", created["family"]["id"].as_str().unwrap());
    let groceries = owner.category("Groceries").await;
    let on_b = owner.on(&b.base);
    let mut ws = Ws::connect(&owner).await;
    ws.subscribe(&channel, None).await;
    on_b.spend(&groceries, 1, None).await;
    ws.until("expense_created").await;

    redis.child.kill().unwrap();
    redis.child.wait().unwrap();
    // Writes keep landing in the database while Redis is away.
    on_b.spend(&groceries, 2, None).await;
    let _redis = OwnRedis::start(port);
    let ready = |c: &Client| {
        let c = c.on(&c.base);
        async move { c.json("/readyz").await["redis"] == "up" }
    };
    for _ in 0..100 {
        if ready(&owner).await && ready(&on_b).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Redis came back empty: the channel's history is void, so the client is told to reload
    // (a new epoch), and what follows arrives.
    on_b.spend(&groceries, 3, None).await;
    let mut told_to_reload = false;
    loop {
        let f = ws.next().await;
        if f["type"] == "subscribed" && f["recovered"] == false {
            told_to_reload = true;
        }
        if f["type"] == "expense_created" && f["data"]["expense"]["amount_minor"] == 3 {
            break;
        }
    }
    assert!(
        told_to_reload,
        "a client whose history was lost is told to reload"
    );
    let expenses = owner.json("/api/expenses").await;
    assert_eq!(
        expenses["expenses"].as_array().unwrap().len(),
        3,
        "nothing lost"
    );
}

#[tokio::test]
async fn a_graceful_stop_closes_every_socket_with_4001() {
    let mut server = Server::start(&[(
        "DATABASE_URL",
        &format!(
            "sqlite://{}",
            std::env::temp_dir()
                .join(format!("hearth-test-{}.db", Uuid::new_v4()))
                .display()
        ),
    )])
    .await;
    let app = TestApp {
        base: server.base.clone(),
        db_path: Default::default(),
    };
    let (owner, _) = app.owner().await;
    let mut ws = Ws::connect(&owner).await;
    server.terminate();
    assert_eq!(ws.close_code().await, Some(4001));
}
