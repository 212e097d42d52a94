//! `spawn_app()`: a real Hearth on port 0 with a fresh SQLite file, and HTTP clients that
//! keep their own cookies, one per family member.

use hearth::config::Settings;
use hearth::startup::Application;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    pub db_path: std::path::PathBuf,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let db_path = std::env::temp_dir().join(format!("hearth-test-{}.db", Uuid::new_v4()));
    let db_url = format!("sqlite://{}", db_path.display());
    let mut all: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push(("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()));
    all.push(("DATABASE_URL".into(), db_url));
    let settings =
        Settings::from_lookup(|k| all.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
            .expect("test settings are valid");
    let base = serve(async move {
        Application::build(settings)
            .await
            .expect("the server builds")
    })
    .await;
    let db_path = match vars.iter().find(|(k, _)| *k == "DATABASE_URL") {
        Some((_, url)) => std::path::PathBuf::from(url.trim_start_matches("sqlite://")),
        None => db_path,
    };
    TestApp { base, db_path }
}

/// The runtime every in-process test server runs on, for the whole test process, as one
/// runtime serves a real server. A server lives on after its test (idle) instead of being
/// dropped with the test's runtime in the middle of whatever it was doing: with many tests
/// rendering pages at once, a render in one test's server then and again never finished
/// (Leptos' rendering is process-wide state; this is the shape a real server has).
fn servers() -> &'static tokio::runtime::Runtime {
    static SERVERS: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    SERVERS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-servers")
            .enable_all()
            .build()
            .expect("the servers' runtime starts")
    })
}

/// The servers' logs as a server writes them (`info`, unless `RUST_LOG` says otherwise), but
/// nothing from the Redis client, whose connections retry (and log) for the rest of the run
/// once a test stopped its own Redis under a server that lives on.
fn logs() {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,redis=off"));
    let _ = fmt().with_env_filter(filter).with_target(false).try_init();
}

/// Builds a server with `build` on the servers' runtime and runs it there; its base URL.
pub async fn serve(
    build: impl std::future::Future<Output = Application> + Send + 'static,
) -> String {
    logs();
    servers()
        .spawn(async move {
            let app = build.await;
            let base = format!("http://127.0.0.1:{}", app.port());
            tokio::spawn(app.run_until_stopped(std::future::pending()));
            base
        })
        .await
        .expect("the server starts")
}

impl TestApp {
    /// A browser-like client with its own cookie jar.
    pub fn client(&self) -> Client {
        self.client_from(None)
    }

    /// A client connecting from its own loopback address (127.x.y.z), so per-address limits
    /// kept in the shared Redis do not carry over between tests or runs.
    pub fn client_from(&self, address: Option<std::net::IpAddr>) -> Client {
        client_at(&self.base, address)
    }

    /// A registered, signed-in user who owns a new EUR family in Europe/Berlin.
    pub async fn owner(&self) -> (Client, Value) {
        let c = self.client();
        c.register(&unique_email()).await;
        let created = c
            .post(
                "/api/families",
                json!({"name":"Home","currency":"EUR","timezone":"Europe/Berlin"}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let body: Value = created.json().await.unwrap();
        (c, body)
    }

    /// A client signed in as `email` (registered with [`PASSWORD`]).
    pub async fn sign_in(&self, email: &str) -> Client {
        let client = self.client();
        let r = client
            .post(
                "/api/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{email} signs in");
        client
    }

    /// A second member of the family behind `invite_code`.
    pub async fn member(&self, invite_code: &str) -> Client {
        let c = self.client();
        c.register(&unique_email()).await;
        let joined = c
            .post("/api/families/join", json!({ "invite_code": invite_code }))
            .await;
        assert_eq!(joined.status(), StatusCode::OK);
        c
    }
}

/// A browser-like client of the server at `base`, with its own cookie jar, connecting from
/// `address` when given.
pub fn client_at(base: &str, address: Option<std::net::IpAddr>) -> Client {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    Client {
        base: base.to_string(),
        jar: jar.clone(),
        http: reqwest::Client::builder()
            .local_address(address)
            .cookie_provider(jar)
            // A hung request fails the test instead of hanging the suite.
            .timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    }
}

/// The password every test account has.
pub const PASSWORD: &str = "correct horse battery";

pub fn unique_email() -> String {
    format!("u{}@example.org", Uuid::new_v4().simple())
}

pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Client {
    /// The same browser (cookies) talking to another server.
    pub fn on(&self, base: &str) -> Client {
        Client {
            base: base.to_string(),
            http: self.http.clone(),
            jar: self.jar.clone(),
        }
    }

    /// The `Cookie` header this client sends.
    pub fn cookie(&self) -> String {
        use reqwest::cookie::CookieStore as _;
        self.jar
            .cookies(&self.base.parse().expect("base url"))
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("request")
    }

    /// A page as a browser asks for it.
    pub async fn page(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header("accept", "text/html")
            .send()
            .await
            .expect("request")
    }

    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Response {
        self.http
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.send(reqwest::Method::DELETE, path, json!({})).await
    }

    /// The family's current month, `YYYY-MM`, as the server sees it.
    pub async fn this_month(&self) -> String {
        let budget = self.json("/api/budgets").await;
        budget["month"].as_str().expect("a month").to_string()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.http
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn register(&self, email: &str) -> Value {
        let r = self
            .post(
                "/api/auth/register",
                json!({"email": email, "password": PASSWORD, "display_name": "Sam"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    /// The id of the family's category called `name`.
    pub async fn category(&self, name: &str) -> String {
        let cats = self.json("/api/categories").await;
        cats["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no category {name}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn budget(&self, month: &str) -> Value {
        self.json(&format!("/api/budgets?month={month}")).await
    }

    pub async fn line(&self, month: &str, name: &str) -> Value {
        let b = self.budget(month).await;
        b["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["category_name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no line {name}"))
    }

    /// Logs an expense (on `day`, or today) and asserts it was created.
    pub async fn spend(&self, category: &str, amount_minor: i64, day: Option<&str>) -> Value {
        let mut body = json!({"category_id": category, "amount_minor": amount_minor});
        if let Some(day) = day {
            body["spent_on"] = json!(day);
        }
        let r = self.post("/api/expenses", body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json().await.unwrap()
    }

    pub async fn expense_count(&self, month: &str) -> usize {
        self.json(&format!("/api/expenses?month={month}")).await["expenses"]
            .as_array()
            .unwrap()
            .len()
    }
}

/// Asserts the contract's error body and returns its code.
pub async fn error_code(r: Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    let body: Value = r.json().await.expect("a JSON error body");
    let message = body["error"]["message"].as_str().expect("error.message");
    assert!(!message.is_empty());
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string()
}

/// A random loopback address other than 127.0.0.1.
pub fn random_loopback() -> std::net::IpAddr {
    let b = Uuid::new_v4().into_bytes();
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, b[0].max(1), b[1], b[2].max(2)))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `redis-cli -p <port> <args>`, bounded by a timeout; its output, or "" when it failed.
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    std::process::Command::new("timeout")
        .args(["5", "redis-cli", "-p", &port.to_string()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default()
}

/// Polls `ok` every 100 ms for up to 30 s.
pub async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..300 {
        if ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A `redis-server` of the test's own, on `port` (answering when `start` returns), killed
/// when dropped.
pub struct OwnRedis {
    pub port: u16,
    pub child: std::process::Child,
}

impl OwnRedis {
    pub fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        // Ready before a server is given it: a server that starts while Redis is still
        // coming up begins degraded (sessions kept in its process only), which a test of
        // several servers would take for a bug.
        for _ in 0..50 {
            if redis_cli(port, &["ping"]).trim() == "PONG" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        OwnRedis { port, child }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh schema in the test PostgreSQL (`HEARTH_TEST_POSTGRES`, by default the local
/// server's `test` database), shared by every store or server given it.
pub struct PgSchema {
    pub url: String,
    pub schema: String,
}

impl PgSchema {
    pub fn fresh() -> Self {
        PgSchema {
            url: std::env::var("HEARTH_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
            schema: format!("hearth_test_{}", Uuid::new_v4().simple()),
        }
    }

    /// A store on the schema (created and migrated on first use).
    pub async fn store(&self) -> std::sync::Arc<dyn hearth::store::Store> {
        std::sync::Arc::new(
            hearth::store::PostgresStore::connect(&self.url, Some(&self.schema))
                .await
                .expect("PostgreSQL answers at HEARTH_TEST_POSTGRES"),
        )
    }

    /// The `DATABASE_URL` that selects the schema, for a server process (after `store()`
    /// created it).
    pub fn database_url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.url, self.schema
        )
    }
}
