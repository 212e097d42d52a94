//! A Sentinel-managed Redis: a master, one replica and three sentinels, all local. Killing the
//! master mid-traffic leaves the API answering, and after the failover Hearth is back on
//! Redis, on the promoted replica.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn server(args: &[String]) -> Child {
    Command::new("redis-server")
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed")
}

#[tokio::test]
async fn a_failover_leaves_the_api_answering_and_hearth_follows_the_new_master() {
    let dir = std::env::temp_dir().join(format!("hearth-sentinel-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (master, replica) = (free_port(), free_port());
    let plain = |port: u16| {
        vec![
            "--port".to_string(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
        ]
    };
    let mut master_proc = Procs(vec![server(&plain(master))]);
    until("the master", || {
        redis_cli(master, &["ping"]).contains("PONG")
    })
    .await;
    let mut replica_args = plain(replica);
    replica_args.extend([
        "--replicaof".to_string(),
        "127.0.0.1".into(),
        master.to_string(),
    ]);
    let mut others = Procs(vec![server(&replica_args)]);
    until("the replica", || {
        redis_cli(replica, &["info", "replication"]).contains("master_link_status:up")
    })
    .await;
    let sentinels: Vec<u16> = (0..3).map(|_| free_port()).collect();
    for s in &sentinels {
        let conf = dir.join(format!("sentinel-{s}.conf"));
        std::fs::write(
            &conf,
            format!(
                "port {s}\nbind 127.0.0.1\ndir {}\nsentinel monitor hearthmaster 127.0.0.1 {master} 2\n\
                 sentinel down-after-milliseconds hearthmaster 1000\nsentinel failover-timeout hearthmaster 3000\n",
                dir.display()
            ),
        )
        .unwrap();
        others
            .0
            .push(server(&[conf.display().to_string(), "--sentinel".into()]));
    }
    for s in &sentinels {
        until("the sentinels", || {
            redis_cli(*s, &["sentinel", "replicas", "hearthmaster"]).contains(&replica.to_string())
        })
        .await;
    }

    let list = sentinels
        .iter()
        .map(|s| format!("127.0.0.1:{s}"))
        .collect::<Vec<_>>()
        .join(",");
    let app = spawn_app_with(&[
        ("REDIS_SENTINELS", &list),
        ("REDIS_SENTINEL_MASTER", "hearthmaster"),
    ])
    .await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let ready: Value = c.json("/readyz").await;
    assert_eq!(ready["redis"], "up");
    c.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        c.get("/api/budgets?month=2026-03").await.headers()["x-cache"],
        "HIT"
    );

    // Kill the master mid-traffic: every request still answers, no 5xx, no lost write.
    master_proc.0[0].kill().unwrap();
    master_proc.0[0].wait().unwrap();
    let mut written = 0;
    let mut back = false;
    for i in 0..300 {
        let r = c.get("/api/budgets?month=2026-03").await;
        assert_eq!(r.status(), StatusCode::OK);
        if i % 10 == 0 {
            let w = c
                .post(
                    "/api/expenses",
                    json!({"category_id": food, "amount_minor": 1, "spent_on": "2026-03-05"}),
                )
                .await;
            assert_eq!(w.status(), StatusCode::CREATED);
            written += 1;
        }
        let ready: Value = c.json("/readyz").await;
        if i > 20 && ready["redis"] == "up" {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "Hearth is back on Redis after the failover");
    assert!(redis_cli(
        sentinels[0],
        &["sentinel", "get-master-addr-by-name", "hearthmaster"]
    )
    .contains(&replica.to_string()));
    let r = c.get("/api/budgets?month=2026-03").await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["totals"]["spent_minor"],
        written
    );
    assert_eq!(
        c.get("/api/budgets?month=2026-03").await.headers()["x-cache"],
        "HIT",
        "caching on the new master"
    );
}
