//! Chaos with a database of our own: a private PostgreSQL cluster (`initdb`, `pg_ctl`) on a
//! free port, stopped and started under write load while a browser-like writer keeps
//! retrying its expenses with their client ids, as the outbox does (RELIABILITY.md).

use crate::helpers::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A PostgreSQL cluster in a temporary folder, removed when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_root: bool,
}

impl PrivatePostgres {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's programs (scripts/ensure-tools.sh installs them)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("initdb");
        let dir = std::env::temp_dir().join(format!("hearth-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let as_root = String::from_utf8(Command::new("id").arg("-u").output().unwrap().stdout)
            .unwrap()
            .trim()
            == "0";
        let pg = PrivatePostgres {
            bin,
            dir,
            port: free_port(),
            as_root,
        };
        if as_root {
            // PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
            pg.run(Command::new("chown").args(["postgres:postgres", pg.path()]));
        }
        pg.pg(
            "initdb",
            &["-A", "trust", "-U", "postgres", "-D", pg.path()],
        );
        pg.ctl("start");
        pg
    }

    fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, command: &mut Command) {
        let out = command.output().expect("the command runs");
        assert!(
            out.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// One of PostgreSQL's programs, as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn pg(&self, program: &str, args: &[&str]) {
        self.run(self.command(program).args(args));
    }

    /// `start` (waiting until it takes connections) or `stop` (fast: sessions cut).
    fn ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.path()
        );
        let log = self.dir.join("log");
        let log = log.to_str().unwrap();
        let mut args = vec!["-D", self.path(), "-w", "-l", log, "-o", &options];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        self.pg("pg_ctl", &args);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", self.path(), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends one expense until the server has it, as the browser's outbox does: the same client
/// id each time. Returns every status seen on the way.
async fn send_until_saved(c: &Client, body: &Value) -> Vec<u16> {
    let mut seen = Vec::new();
    let started = Instant::now();
    loop {
        let status = match c
            .http
            .post(c.url("/api/expenses"))
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        seen.push(status);
        if status == 200 || status == 201 {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not saved within a minute: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ready(c: &Client) -> (u16, Value) {
    let r = c.get("/readyz").await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn postgres_restarted_under_write_load_answers_503_and_loses_or_doubles_nothing() {
    let pg = PrivatePostgres::start();
    let app = spawn_app_with(&[("DATABASE_URL", &pg.url())]).await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let month = c.this_month().await;

    // A writer: 60 expenses one after the other, each retried until saved.
    let writer = {
        let c = c.on(&c.base);
        let food = food.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut ids = Vec::new();
            for n in 1..=60i64 {
                let id = uuid::Uuid::new_v4();
                let body = json!({"id": id, "category_id": food, "amount_minor": n});
                statuses.extend(send_until_saved(&c, &body).await);
                ids.push(id.to_string());
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            (statuses, ids)
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    pg.ctl("stop");
    // Down: the server says so, and writes are refused as unavailable.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = ready(&c).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["db"], "down", "{body}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    pg.ctl("start");

    let (statuses, ids) = writer.await.unwrap();
    // Every answer was a success, or 503 while the database was away: never a 500.
    let refused = statuses.iter().filter(|s| **s == 503).count();
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 201 | 503)),
        "{statuses:?}"
    );
    assert!(refused > 0, "the writer met the outage: {statuses:?}");
    // Back: ready again, and every expense is there exactly once.
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready(&c).await.0 != 200 {
        assert!(Instant::now() < deadline, "/readyz recovers");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let list = c.json(&format!("/api/expenses?month={month}")).await;
    let saved: Vec<&str> = list["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(saved.len(), 60, "nothing lost or doubled");
    for id in &ids {
        assert_eq!(saved.iter().filter(|s| *s == id).count(), 1, "{id}");
    }
    let line = c.line(&month, "Groceries").await;
    assert_eq!(line["spent_minor"], (1..=60).sum::<i64>());
    eprintln!(
        "chaos: {} answers, {refused} of them 503 while PostgreSQL was stopped for 3 s",
        statuses.len()
    );
}
