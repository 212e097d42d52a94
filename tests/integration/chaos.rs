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
/// id each time. With `email`, signs in again when the session is gone (a server without
/// Redis keeps its sessions in its process). Returns every status on the way (0: no
/// connection).
async fn send_until_saved(c: &Client, body: &Value, email: Option<&str>) -> Vec<u16> {
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
        if let (401, Some(email)) = (status, email) {
            let _ = c
                .http
                .post(c.url("/api/auth/login"))
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await;
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
                statuses.extend(send_until_saved(&c, &body, None).await);
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
    saved_once(&c, &month, &ids, (1..=60).sum()).await;
    eprintln!(
        "chaos: {} answers, {refused} of them 503 while PostgreSQL was stopped for 3 s",
        statuses.len()
    );
}

/// The server as a process of its own (the `hearth` binary cargo built for these tests), on
/// `database_url` and without Redis: a `SIGKILL` stops it as a power cut stops a machine.
struct Process(std::process::Child);

impl Process {
    async fn start(database_url: &str, port: u16) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hearth"));
        command.env_remove("REDIS_URL");
        Self::run(command, database_url, port).await
    }

    /// Runs `command` (the server, or a wrapper that runs it) on `database_url` and `port`,
    /// and waits until it answers.
    async fn run(mut command: Command, database_url: &str, port: u16) -> Self {
        let child = command
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the server starts");
        let process = Process(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if up {
                return process;
            }
            assert!(Instant::now() < deadline, "the server answers /healthz");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `SIGKILL`, and its exit collected.
    fn kill(mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("exited");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A signed-in owner of a new family on the server at `base`, its email, a category and the
/// month.
async fn owner_at(base: &str) -> (Client, String, String, String) {
    let c = client_at(base, None);
    let email = unique_email();
    c.register(&email).await;
    let created = c
        .post(
            "/api/families",
            json!({"name":"Home","currency":"EUR","timezone":"Europe/Berlin"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let food = c.category("Groceries").await;
    let month = c.this_month().await;
    (c, email, food, month)
}

/// Every expense of `month` is one of `ids`, each exactly once, adding up to `total`.
async fn saved_once(c: &Client, month: &str, ids: &[String], total: i64) {
    let list = c.json(&format!("/api/expenses?month={month}")).await;
    let saved: Vec<&str> = list["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(saved.len(), ids.len(), "nothing lost or doubled");
    for id in ids {
        assert_eq!(saved.iter().filter(|s| *s == id).count(), 1, "{id}");
    }
    assert_eq!(c.line(month, "Groceries").await["spent_minor"], total);
}

/// SQLite's own check of the file: "ok" when every page and index is sound.
async fn integrity(database_url: &str) -> String {
    use sqlx::Connection as _;
    let mut db = sqlx::SqliteConnection::connect(database_url).await.unwrap();
    let (result,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut db)
        .await
        .unwrap();
    result
}

#[tokio::test]
async fn a_server_killed_in_the_middle_of_writes_loses_or_doubles_nothing() {
    let dir = std::env::temp_dir().join(format!("hearth-kill-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/hearth.db", dir.display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Process::start(&db, port).await;
    let (c, email, food, month) = owner_at(&base).await;

    // A writer: 80 expenses as fast as they are answered, each retried until saved.
    const N: i64 = 80;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let writer = {
        let (c, done) = (c.on(&base), done.clone());
        tokio::spawn(async move {
            let (mut statuses, mut ids) = (Vec::new(), Vec::new());
            for n in 1..=N {
                let id = uuid::Uuid::new_v4();
                let body = json!({"id": id, "category_id": food, "amount_minor": n});
                statuses.extend(send_until_saved(&c, &body, Some(&email)).await);
                ids.push(id.to_string());
                done.store(n, std::sync::atomic::Ordering::SeqCst);
            }
            (statuses, ids)
        })
    };
    until("a third of the expenses are saved", || {
        done.load(std::sync::atomic::Ordering::SeqCst) >= N / 3
    })
    .await;
    server.kill();
    let killed_at = done.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = Process::start(&db, port).await;

    let (statuses, ids) = writer.await.unwrap();
    // No connection while it was gone, then a new session: never a 500.
    assert!(
        statuses.iter().all(|s| matches!(s, 0 | 200 | 201 | 401)),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().any(|s| matches!(s, 0 | 401)),
        "the writer met the kill: {statuses:?}"
    );
    assert!(killed_at < N, "killed while the writer was still writing");
    saved_once(&c, &month, &ids, (1..=N).sum()).await;
    drop(server);
    assert_eq!(integrity(&db).await, "ok");
    std::fs::remove_dir_all(&dir).unwrap();
    eprintln!(
        "chaos: SIGKILL after {killed_at} of {N} expenses; {} answers, {} without a \
         connection or a session",
        statuses.len(),
        statuses.iter().filter(|s| matches!(s, 0 | 401)).count()
    );
}

/// A small disk of its own (tmpfs), unmounted when dropped; `None` where this process may
/// not mount (not root, or a container without the right).
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(bytes: usize) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("hearth-full-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if mounted {
            Some(SmallDisk(dir))
        } else {
            let _ = std::fs::remove_dir(&dir);
            None
        }
    }

    /// Writes a file until the disk is full; returns it.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 16 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_and_leaves_the_database_intact() {
    let Some(disk) = SmallDisk::mount(8 * 1024 * 1024) else {
        eprintln!("skipped: this process may not mount a small disk (tmpfs needs root)");
        return;
    };
    let db = format!("sqlite://{}/hearth.db", disk.0.display());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Process::start(&db, port).await;
    let (c, _, food, month) = owner_at(&base).await;
    c.spend(&food, 100, None).await;
    let filler = disk.fill();

    // Writes until one is refused for want of room: each a success or a 503, never a 500.
    let mut statuses = Vec::new();
    let mut ids = Vec::new();
    let refused = loop {
        let id = uuid::Uuid::new_v4();
        let body = json!({"id": id, "category_id": food, "amount_minor": 1});
        let r = c.post("/api/expenses", body.clone()).await;
        let status = r.status().as_u16();
        statuses.push(status);
        ids.push(id.to_string());
        if status == 503 {
            let error: Value = r.json().await.unwrap();
            assert_eq!(error["error"]["code"], "unavailable", "{error}");
            break body;
        }
        assert!(matches!(status, 200 | 201), "{statuses:?}");
        assert!(statuses.len() < 5000, "the disk never filled");
    };
    // Reading still works, and the server says it is ready (the database answers).
    assert_eq!(
        c.get(&format!("/api/budgets?month={month}")).await.status(),
        200
    );

    // Room again: the refused expense goes through once, as the outbox would send it.
    std::fs::remove_file(filler).unwrap();
    let retried = c.post("/api/expenses", refused).await.status().as_u16();
    assert!(matches!(retried, 200 | 201), "{retried}");
    let first = c.json(&format!("/api/expenses?month={month}")).await;
    let first_id = first["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .find(|id| !ids.contains(id))
        .expect("the expense from before the disk filled");
    ids.push(first_id);
    saved_once(&c, &month, &ids, 100 + ids.len() as i64 - 1).await;
    drop(server);
    assert_eq!(integrity(&db).await, "ok");
    eprintln!(
        "chaos: disk full after {} expenses; the next one answered 503",
        statuses.len() - 1
    );
}

/// The `Date` a server answers with, in seconds since the epoch.
async fn server_clock(c: &Client) -> i64 {
    let r = c.get("/healthz").await;
    let date = r.headers()["date"].to_str().unwrap().to_string();
    chrono::DateTime::parse_from_rfc2822(&date.replace("GMT", "+0000"))
        .unwrap()
        .timestamp()
}

#[tokio::test]
async fn servers_whose_clocks_differ_agree_on_presence_rate_limits_and_offsets() {
    // Server A in this process; server B, on the same database and Redis, 8 s behind it
    // (libfaketime: its wall clock only; its timers keep the real monotonic clock).
    let a = spawn_app_with(&[("REDIS_URL", "redis://127.0.0.1:6379")]).await;
    let db = format!("sqlite://{}", a.db_path.display());
    let port = free_port();
    let b_base = format!("http://127.0.0.1:{port}");
    let mut command = Command::new("faketime");
    command
        .args(["-f", "-8s", env!("CARGO_BIN_EXE_hearth")])
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("REDIS_URL", "redis://127.0.0.1:6379");
    let _b = Process::run(command, &db, port).await;

    let (owner, created) = a.owner().await;
    let skew = server_clock(&owner).await - server_clock(&owner.on(&b_base)).await;
    assert!((7..=9).contains(&skew), "B runs 8 s behind A: {skew} s");

    // Presence: a member connected to B is online for A, every time A looks, across several
    // of B's refreshes (its entry's expiry would otherwise fall 8 s early in A's eyes).
    let member = a.member(created["invite_code"].as_str().unwrap()).await;
    let member_id = member.json("/api/me").await["user"]["id"].clone();
    let _socket = crate::realtime::Ws::connect(&member.on(&b_base)).await;
    let online = |family: Value| {
        family["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == member_id && m["online"] == true)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !online(owner.json("/api/family").await) {
        assert!(Instant::now() < deadline, "the member shows online");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..40 {
        assert!(online(owner.json("/api/family").await), "online for A");
        assert!(
            online(owner.on(&b_base).json("/api/family").await),
            "online for B"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Rate limits: failures on A and on B fill one budget (Redis's clock, not theirs).
    let email = unique_email();
    a.client().register(&email).await;
    let from = Some(random_loopback());
    let (on_a, on_b) = (a.client_from(from), client_at(&b_base, from));
    for n in 0..5 {
        let on = if n % 2 == 0 { &on_a } else { &on_b };
        let r = on
            .post(
                "/api/auth/login",
                json!({"email": email, "password": "wrong password!"}),
            )
            .await;
        assert_eq!(r.status(), 401);
    }
    for on in [&on_a, &on_b] {
        let r = on
            .post(
                "/api/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            error_code(r, reqwest::StatusCode::TOO_MANY_REQUESTS).await,
            "rate_limited"
        );
    }

    // Offsets: expenses written through A and B in turn reach a socket in order, one offset
    // after another.
    let channel = format!("family:{}", created["family"]["id"].as_str().unwrap());
    let mut watcher = crate::realtime::Ws::connect(&owner).await;
    watcher.subscribe(&channel, None).await;
    let food = owner.category("Groceries").await;
    for n in 1..=10i64 {
        let writer = if n % 2 == 0 {
            owner.on(&b_base)
        } else {
            owner.on(&a.base)
        };
        let r = writer
            .post(
                "/api/expenses",
                json!({"category_id": food, "amount_minor": n}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let mut offsets = Vec::new();
    while offsets.len() < 10 {
        let event = watcher.until("expense_created").await;
        offsets.push(event["offset"].as_u64().unwrap());
    }
    assert!(
        offsets.windows(2).all(|w| w[1] > w[0]),
        "in order: {offsets:?}"
    );
    eprintln!(
        "chaos: B {skew} s behind A; presence held for 12 s, one rate limit, offsets {offsets:?}"
    );
}
