//! Typed settings, read from the environment once at start-up. A bad value stops start-up
//! with one line naming the variable; secrets never appear in `Debug` output.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::domain::Email;

/// Every setting: variable, default, meaning (what `hearth --help` prints; README's table
/// says the same at more length).
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("LEPTOS_SITE_ADDR", "127.0.0.1:3000", "where it listens"),
    (
        "DATABASE_URL",
        "sqlite://data/hearth.db",
        "SQLite file (created if missing) or postgres://user:pass@host/db",
    ),
    (
        "REDIS_URL",
        "unset",
        "Redis shared by several servers (redis://host:port)",
    ),
    (
        "REDIS_CLUSTER_NODES",
        "unset",
        "host:port,… of a Redis Cluster; wins over REDIS_URL",
    ),
    ("REDIS_SENTINELS", "unset", "host:port,… of Redis Sentinels"),
    (
        "REDIS_SENTINEL_MASTER",
        "unset",
        "the master's name (with REDIS_SENTINELS)",
    ),
    (
        "CACHE_DEFAULT_TTL",
        "3600",
        "seconds a cached response lives (1 … 2592000)",
    ),
    (
        "CACHE_L1_MAX_BYTES",
        "67108864",
        "size of the in-process cache (pages: half as much again); 0: off",
    ),
    (
        "WEBSOCKET_HEARTBEAT_INTERVAL",
        "30000",
        "milliseconds (1000 … 600000)",
    ),
    (
        "WEBSOCKET_MAX_FRAMES_PER_SECOND",
        "30",
        "frames a client may send a second",
    ),
    (
        "WEBSOCKET_WRITE_DELAY",
        "0",
        "milliseconds a channel's events wait to leave together (0 … 1000)",
    ),
    (
        "ANALYTICS_ROLLUP_INTERVAL",
        "10000",
        "milliseconds between analytics roll-ups",
    ),
    (
        "PERFORMANCE_MONITORING",
        "true",
        "false: no per-second series, alerts or /metrics",
    ),
    ("ADMIN_EMAILS", "empty", "comma list of the admins' emails"),
    (
        "METRICS_TOKEN",
        "unset",
        "when set, /metrics needs Authorization: Bearer <token>",
    ),
    (
        "TRUSTED_PROXIES",
        "empty",
        "comma list of reverse proxies' IP addresses whose X-Forwarded-For is believed",
    ),
    ("RUST_LOG", "info,sqlx=warn", "log filter"),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "unset",
        "an OpenTelemetry collector for traces",
    ),
];

/// `hearth --help`: what it is, how to run it and every setting.
pub fn help() -> String {
    let width = SETTINGS.iter().map(|(v, _, _)| v.len()).max().unwrap_or(0);
    let mut out = String::from(
        "hearth: a self-hosted realtime family budget\n\n\
         Usage: hearth                         serve (settings from the environment)\n       \
         hearth backup <file>           copy the SQLite database to a new file, while serving\n       \
         hearth restore [--force] <file>  put a backup in place of the SQLite database\n       \
         hearth --version               print the version\n       \
         hearth --help                  print this\n\nSettings (environment variables):\n",
    );
    for (variable, default, meaning) in SETTINGS {
        out.push_str(&format!(
            "  {variable:<width$}  {meaning} (default: {default})\n"
        ));
    }
    out
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// A value that must not be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the system of record lives.
#[derive(Clone, Debug)]
pub enum DatabaseSettings {
    Sqlite { path: PathBuf },
    Postgres { url: Secret },
}

/// Which Redis, if any. Only the shape is checked here; a Redis that is configured but down
/// is not a configuration error.
#[derive(Clone, Debug, PartialEq)]
pub enum RedisSettings {
    Embedded,
    Single {
        url: Secret,
    },
    Cluster {
        nodes: Vec<String>,
    },
    Sentinel {
        sentinels: Vec<String>,
        master: String,
    },
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub addr: SocketAddr,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub cache_default_ttl_s: u64,
    /// Size of the in-process cache (L1) in bytes; 0 turns it off (every hit goes to Redis).
    pub cache_l1_max_bytes: u64,
    pub heartbeat_interval_ms: u64,
    /// How often the analytics roll-up for the monitor runs.
    pub rollup_interval_ms: u64,
    /// Frames a WebSocket client may send a second (twice that in a burst).
    pub ws_frames_per_second: u64,
    /// How long a channel's events wait to leave together, in one write per subscriber
    /// (0: each leaves at once). Trades latency for CPU at high fan-out.
    pub ws_write_delay_ms: u64,
    pub performance_monitoring: bool,
    pub admin_emails: Vec<Email>,
    pub metrics_token: Option<Secret>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for rate limits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let addr = get("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse::<SocketAddr>()
            .map_err(|_| {
                bad(
                    "LEPTOS_SITE_ADDR",
                    "expected host:port, such as 127.0.0.1:3000",
                )
            })?;

        let database = parse_database(
            &get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/hearth.db".into()),
        )?;

        let redis = if let Some(nodes) = get("REDIS_CLUSTER_NODES") {
            RedisSettings::Cluster {
                nodes: parse_hosts("REDIS_CLUSTER_NODES", &nodes)?,
            }
        } else if let Some(sentinels) = get("REDIS_SENTINELS") {
            let master = get("REDIS_SENTINEL_MASTER").ok_or_else(|| {
                bad(
                    "REDIS_SENTINEL_MASTER",
                    "required when REDIS_SENTINELS is set",
                )
            })?;
            RedisSettings::Sentinel {
                sentinels: parse_hosts("REDIS_SENTINELS", &sentinels)?,
                master,
            }
        } else if let Some(url) = get("REDIS_URL") {
            let parsed = url::Url::parse(&url)
                .map_err(|_| bad("REDIS_URL", "expected redis://host:port[/db]"))?;
            if !matches!(parsed.scheme(), "redis" | "rediss") || parsed.host_str().is_none() {
                return Err(bad(
                    "REDIS_URL",
                    "expected redis://host:port[/db] or rediss://…",
                ));
            }
            RedisSettings::Single {
                url: Secret::new(url),
            }
        } else {
            RedisSettings::Embedded
        };

        let cache_default_ttl_s = parse_number(&get, "CACHE_DEFAULT_TTL", 3600, 1, 30 * 86_400)?;
        let cache_l1_max_bytes = parse_number(&get, "CACHE_L1_MAX_BYTES", 64 << 20, 0, 1 << 40)?;
        let heartbeat_interval_ms =
            parse_number(&get, "WEBSOCKET_HEARTBEAT_INTERVAL", 30_000, 1_000, 600_000)?;
        let rollup_interval_ms =
            parse_number(&get, "ANALYTICS_ROLLUP_INTERVAL", 10_000, 100, 3_600_000)?;
        let ws_frames_per_second =
            parse_number(&get, "WEBSOCKET_MAX_FRAMES_PER_SECOND", 30, 1, 1_000_000)?;
        let ws_write_delay_ms = parse_number(&get, "WEBSOCKET_WRITE_DELAY", 0, 0, 1_000)?;
        let performance_monitoring = match get("PERFORMANCE_MONITORING").as_deref() {
            None | Some("true") | Some("1") | Some("yes") => true,
            Some("false") | Some("0") | Some("no") => false,
            Some(_) => return Err(bad("PERFORMANCE_MONITORING", "expected true or false")),
        };
        let admin_emails = parse_list(&get, "ADMIN_EMAILS", |s| {
            Email::parse(s).map_err(|e| e.to_string())
        })?;
        let metrics_token = get("METRICS_TOKEN").map(Secret::new);
        let trusted_proxies = parse_list(&get, "TRUSTED_PROXIES", |s| {
            s.parse().map_err(|_| "not an IP address".to_string())
        })?;

        Ok(Settings {
            addr,
            database,
            redis,
            cache_default_ttl_s,
            cache_l1_max_bytes,
            heartbeat_interval_ms,
            rollup_interval_ms,
            ws_frames_per_second,
            ws_write_delay_ms,
            performance_monitoring,
            admin_emails,
            metrics_token,
            trusted_proxies,
        })
    }

    pub fn is_admin(&self, email: &str) -> bool {
        self.admin_emails.iter().any(|a| a.as_str() == email)
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match get(variable) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                variable,
                format!("expected a whole number from {min} to {max}, got {v:?}"),
            )),
        },
    }
}

/// A comma list (empty when unset), each item parsed by `parse`.
fn parse_list<T>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    get(variable)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).map_err(|e| bad(variable, format!("{s:?}: {e}"))))
        .collect()
}

fn parse_hosts(variable: &'static str, list: &str) -> Result<Vec<String>, ConfigError> {
    let hosts: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if hosts.is_empty() {
        return Err(bad(variable, "expected host:port,host:port"));
    }
    for h in &hosts {
        match h.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => return Err(bad(variable, format!("{h:?} is not host:port"))),
        }
    }
    Ok(hosts)
}

fn parse_database(url: &str) -> Result<DatabaseSettings, ConfigError> {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(bad(
                "DATABASE_URL",
                "sqlite:// needs a file path, such as sqlite://data/hearth.db",
            ));
        }
        Ok(DatabaseSettings::Sqlite {
            path: PathBuf::from(path),
        })
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url::Url::parse(url).map_err(|_| bad("DATABASE_URL", "not a valid postgres:// URL"))?;
        Ok(DatabaseSettings::Postgres {
            url: Secret::new(url),
        })
    } else {
        Err(bad(
            "DATABASE_URL",
            "expected sqlite://<file> or postgres://…",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_setting_the_server_reads() {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        for sentinels in [None, Some("127.0.0.1:26379")] {
            let _ = Settings::from_lookup(|k| {
                asked.borrow_mut().insert(k.to_string());
                (k == "REDIS_SENTINELS")
                    .then(|| sentinels.map(String::from))
                    .flatten()
            });
        }
        let listed: std::collections::BTreeSet<String> =
            SETTINGS.iter().map(|(v, _, _)| v.to_string()).collect();
        let missing: Vec<_> = asked.borrow().difference(&listed).cloned().collect();
        assert!(missing.is_empty(), "not in SETTINGS: {missing:?}");
        let text = help();
        for (variable, default, _) in SETTINGS {
            assert!(
                text.contains(variable) && text.contains(default),
                "{variable}"
            );
        }
    }
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_embedded_single_server() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert!(
            matches!(s.database, DatabaseSettings::Sqlite { ref path } if path == &PathBuf::from("data/hearth.db"))
        );
        assert_eq!(s.redis, RedisSettings::Embedded);
        assert_eq!(s.cache_default_ttl_s, 3600);
        assert_eq!(s.heartbeat_interval_ms, 30_000);
        assert_eq!(s.ws_write_delay_ms, 0, "events leave at once");
        assert!(s.performance_monitoring);
        assert!(
            s.trusted_proxies.is_empty(),
            "no X-Forwarded-For is believed"
        );
        let s = settings(&[("TRUSTED_PROXIES", "127.0.0.1, ::1")]).unwrap();
        assert_eq!(s.trusted_proxies.len(), 2);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("LEPTOS_SITE_ADDR", "nowhere"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "http://x"),
            ("REDIS_CLUSTER_NODES", "a,b"),
            ("CACHE_DEFAULT_TTL", "-1"),
            ("WEBSOCKET_HEARTBEAT_INTERVAL", "fast"),
            ("WEBSOCKET_WRITE_DELAY", "5000"),
            ("PERFORMANCE_MONITORING", "maybe"),
            ("ADMIN_EMAILS", "not-an-email"),
            ("TRUSTED_PROXIES", "nginx"),
        ] {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var);
            assert!(err.to_string().contains(var));
        }
        assert_eq!(
            settings(&[("REDIS_SENTINELS", "h:1")])
                .unwrap_err()
                .variable,
            "REDIS_SENTINEL_MASTER"
        );
    }

    #[test]
    fn cluster_wins_over_a_single_url_and_secrets_stay_hidden() {
        let s = settings(&[
            ("REDIS_URL", "redis://secret@127.0.0.1:6379"),
            ("REDIS_CLUSTER_NODES", "127.0.0.1:7000,127.0.0.1:7001"),
            ("DATABASE_URL", "postgres://user:hunter2@localhost/db"),
        ])
        .unwrap();
        assert!(matches!(s.redis, RedisSettings::Cluster { ref nodes } if nodes.len() == 2));
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn admin_emails_are_normalised() {
        let s = settings(&[("ADMIN_EMAILS", " Admin@Example.org , b@x.io ")]).unwrap();
        assert!(s.is_admin("admin@example.org"));
        assert!(s.is_admin("b@x.io"));
        assert!(!s.is_admin("c@x.io"));
    }
}
