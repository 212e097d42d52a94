//! Cache, tags, sessions, rate limits and locks on a real local 3-master Redis Cluster.

use crate::helpers::*;
use hearth::config::RedisSettings;
use hearth::redis::link::RedisLink;
use hearth::redis::lock::Locks;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Cluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    _dir: std::path::PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            let _ = n.kill();
            let _ = n.wait();
        }
    }
}

fn free_cluster_port() -> u16 {
    // Cluster nodes also listen on port + 10000, which must be free too.
    loop {
        let p = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if p < 55000 && std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
}

async fn start_cluster() -> Cluster {
    let dir = std::env::temp_dir().join(format!("hearth-cluster-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_cluster_port()).collect();
    let nodes = ports
        .iter()
        .map(|p| {
            Command::new("redis-server")
                .args([
                    "--port",
                    &p.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                ])
                .args([
                    "--cluster-config-file",
                    &format!("nodes-{p}.conf"),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server is installed")
        })
        .collect();
    let cluster = Cluster {
        nodes,
        ports,
        _dir: dir,
    };
    for p in &cluster.ports {
        until("a cluster node", || {
            redis_cli(*p, &["ping"]).contains("PONG")
        })
        .await;
    }
    let addrs: Vec<String> = cluster
        .ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    // `timeout`: cluster creation waits for the nodes to meet, which must not hang the suite.
    let out = Command::new("timeout")
        .args(["30", "redis-cli", "--cluster", "create"])
        .args(&addrs)
        .arg("--cluster-yes")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for p in &cluster.ports {
        until("the cluster", || {
            redis_cli(*p, &["cluster", "info"]).contains("cluster_state:ok")
        })
        .await;
    }
    cluster
}

#[tokio::test]
async fn everything_redis_does_works_on_a_cluster() {
    let cluster = start_cluster().await;
    let nodes = cluster
        .ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let app = spawn_app_with(&[("REDIS_CLUSTER_NODES", &nodes)]).await;
    let (c, _) = app.owner().await;
    let ready: Value = c.json("/readyz").await;
    assert_eq!(ready["redis"], "up");
    let food = c.category("Groceries").await;

    // cache and tags
    assert_eq!(
        c.get("/api/budgets?month=2026-03").await.headers()["x-cache"],
        "MISS"
    );
    assert_eq!(
        c.get("/api/budgets?month=2026-03").await.headers()["x-cache"],
        "HIT"
    );
    c.post(
        "/api/expenses",
        json!({"category_id": food, "amount_minor": 77, "spent_on": "2026-03-02"}),
    )
    .await;
    let r = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(r.headers()["x-cache"], "MISS");
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        77
    );

    // sessions: a second server on the same cluster and database knows the cookie
    let db = format!("sqlite://{}", app.db_path.display());
    let other = spawn_app_with(&[("REDIS_CLUSTER_NODES", &nodes), ("DATABASE_URL", &db)]).await;
    let on_other = c.on(&other.base);
    assert_eq!(on_other.get("/api/me").await.status(), StatusCode::OK);
    let family: Value = on_other.json("/api/family").await;
    assert_eq!(family["members"].as_array().unwrap().len(), 1);

    // the hub: a socket on one server gets, in order and recoverably, what the other caused
    let channel = format!("family:{}", family["family"]["id"].as_str().unwrap());
    let mut ws = crate::realtime::Ws::connect(&c).await;
    ws.subscribe(&channel, None).await;
    let food = c.category("Groceries").await;
    on_other.spend(&food, 5, Some("2026-03-05")).await;
    let event = ws.until("expense_created").await;
    assert_eq!(event["data"]["expense"]["amount_minor"], 5);
    let since = json!({"epoch": event["epoch"], "offset": event["offset"]});
    drop(ws);
    on_other
        .post(
            "/api/expenses",
            json!({"category_id": food, "amount_minor": 6, "spent_on": "2026-03-05"}),
        )
        .await;
    let mut back = crate::realtime::Ws::connect(&on_other).await;
    assert_eq!(
        back.subscribe(&channel, Some(since)).await["recovered"],
        true
    );
    let missed = back.until("expense_created").await;
    assert_eq!(missed["data"]["expense"]["amount_minor"], 6);
    assert_eq!(
        missed["offset"].as_u64().unwrap(),
        event["offset"].as_u64().unwrap() + 2,
        "the budget_update of the first expense came between"
    );

    // sharded pub/sub: the family's frames go to one shard channel, subscribed on the node that
    // owns the family's slot (where its stream lives too), not broadcast to every node
    let family_id = family["family"]["id"].as_str().unwrap();
    let shard_channel = format!("hearth:ch:{{f:{family_id}}}:{channel}");
    let listing: Vec<(u16, String, String)> = cluster
        .ports
        .iter()
        .map(|p| {
            (
                *p,
                redis_cli(*p, &["pubsub", "shardchannels", "hearth:ch:*"]),
                redis_cli(*p, &["pubsub", "channels", "hearth:ch:*"]),
            )
        })
        .collect();
    let owners: Vec<u16> = listing
        .iter()
        .filter(|(_, sharded, _)| sharded.contains(&shard_channel))
        .map(|(p, _, _)| *p)
        .collect();
    assert_eq!(owners.len(), 1, "{listing:?}");
    assert!(listing.iter().all(|(_, _, plain)| plain.trim().is_empty()));
    let meta = format!("hearth:stream:{{f:{family_id}}}:meta");
    assert_eq!(redis_cli(owners[0], &["exists", &meta]).trim(), "1");

    // the servers' subscriber connections dropped on every node: they subscribe again, and
    // what is published afterwards still arrives
    for p in &cluster.ports {
        redis_cli(*p, &["client", "kill", "type", "pubsub"]);
    }
    until("the shard channel subscribed again", || {
        cluster.ports.iter().any(|p| {
            redis_cli(*p, &["pubsub", "shardchannels", "hearth:ch:*"]).contains(&shard_channel)
        })
    })
    .await;
    c.post(
        "/api/expenses",
        json!({"category_id": food, "amount_minor": 8, "spent_on": "2026-03-05"}),
    )
    .await;
    let after = back.until("expense_created").await;
    assert_eq!(after["data"]["expense"]["amount_minor"], 8);

    // rate limits, shared by both servers
    for i in 0..10 {
        let via = if i % 2 == 0 { &c } else { &on_other };
        assert_eq!(via.get("/api/insights").await.status(), StatusCode::OK);
    }
    assert_eq!(
        c.get("/api/insights").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // locks
    let link = RedisLink::connect(&RedisSettings::Cluster {
        nodes: nodes.split(',').map(String::from).collect(),
    })
    .unwrap()
    .unwrap();
    assert!(link.wait_until_up(Duration::from_secs(5)).await);
    let locks = Locks::new(Some(link));
    let guard = locks
        .try_acquire("cluster-test", Duration::from_secs(5))
        .await
        .unwrap();
    assert!(locks
        .try_acquire("cluster-test", Duration::from_secs(5))
        .await
        .is_none());
    assert!(locks.release(&guard).await);
}
