//! The performance monitor's figures, shared by the server (`GET /api/admin/stats`, the
//! `metrics` event on `admin:metrics`, `POST /api/vitals`) and the admin page that shows them.
//! Every figure is measured; one that could not be measured is `null`, never a guess.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::ToSchema;

/// `GET /api/admin/stats`: the contract's four sections, plus what the monitor page shows
/// (frontend reports, hints, incidents and the recent series).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct AdminStats {
    pub cache: CacheStats,
    pub realtime: RealtimeStats,
    pub redis: RedisStats,
    pub system: SystemStats,
    /// What browsers reported (`POST /api/vitals`), per page.
    #[serde(default)]
    pub frontend: Vec<PageVitals>,
    /// What is wrong now and what to look at, from the same rules as the alerts.
    #[serde(default)]
    pub hints: Vec<Hint>,
    /// This server's figures, one per second, oldest first: the last 15 minutes in
    /// `GET /api/admin/stats`, the newest one in each `metrics` event.
    #[serde(default)]
    pub series: Vec<Sample>,
    /// The analytics roll-ups of every server together, oldest first.
    #[serde(default)]
    pub history: Vec<RollupPoint>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub l1_entries: u64,
    /// Served stale (stale-while-revalidate or stale-if-error), counted among the hits.
    #[serde(default)]
    pub stale: u64,
    pub per_endpoint: Vec<EndpointStats>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct EndpointStats {
    pub route: String,
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// This server's WebSocket figures. `deliver_p99_ms` is `null` until a frame was delivered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RealtimeStats {
    pub connections: u64,
    /// Distinct users with a connection open on this server.
    pub users_online: u64,
    pub messages_in_per_s: f64,
    pub messages_out_per_s: f64,
    /// Publish→deliver, from the publishing server's clock to this server's (ms).
    pub deliver_p99_ms: Option<f64>,
    /// Subscriptions that asked to recover (`since`): reconnecting clients.
    pub reconnects: u64,
    /// Of those, how many could not be recovered (told to reload).
    #[serde(default)]
    pub recovery_failures: u64,
    /// Clients closed with 4008 for not keeping up.
    #[serde(default)]
    pub slow_clients_closed: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RedisStats {
    /// `embedded`, `single`, `sentinel` or `cluster`.
    pub mode: String,
    /// `up`, `down` or `disabled` (embedded).
    pub status: String,
    pub used_memory_bytes: Option<u64>,
    pub ops_per_s: Option<u64>,
    pub keyspace_hit_rate: Option<f64>,
    /// Keys per namespace (`cache`, `tag`, `stream`, …), counted by the roll-up job at most
    /// once a minute; empty when embedded or not counted yet.
    #[serde(default)]
    pub keys: Vec<NamespaceKeys>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct NamespaceKeys {
    pub namespace: String,
    pub keys: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct SystemStats {
    pub uptime_s: u64,
    pub rss_bytes: Option<u64>,
    pub health_score: u8,
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    /// This process's CPU use over the last second, in % of one core.
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    /// Database connections open and in use.
    #[serde(default)]
    pub db_pool_size: u32,
    #[serde(default)]
    pub db_pool_in_use: u32,
    /// HTTP requests answered per second and the share of 5xx among them, last second.
    #[serde(default)]
    pub requests_per_s: f64,
    #[serde(default)]
    pub error_rate: Option<f64>,
}

/// One second of this server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// HTTP requests answered in the second.
    pub requests_per_s: f64,
    /// Cacheable requests answered from the cache; `null` when there were none.
    pub hit_rate: Option<f64>,
    /// p99 of every HTTP request answered in the second; `null` when there were none.
    pub p99_ms: Option<f64>,
    pub connections: u64,
}

/// One analytics roll-up: what every server together did in one period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct RollupPoint {
    /// End of the period, milliseconds since the Unix epoch.
    pub ts_ms: i64,
    pub period_ms: u64,
    /// Cacheable requests answered in the period, and how many of them from the cache.
    pub requests: u64,
    pub hits: u64,
    pub requests_per_s: f64,
    /// `None` when there were no cacheable requests.
    pub hit_rate: Option<f64>,
    /// Servers that reported.
    pub servers: u32,
}

/// Something the monitor found: `rule` is stable (`redis_down`, `hit_rate`, `latency`,
/// `error_rate`, `slow_clients`, `db_down`), `message` says it with the measured figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Hint {
    pub rule: String,
    pub message: String,
}

/// The `notification` an alert rule sends to admins when it fires and when it clears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct AlertNotice {
    /// Always `alert`.
    pub kind: String,
    pub rule: String,
    /// `firing` or `resolved`.
    pub state: String,
    pub message: String,
    pub node_id: String,
}

/// `POST /api/admin/cache/clear`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct CacheClear {
    /// `family:<id>`; everything when absent.
    #[serde(default)]
    pub tag: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Cleared {
    /// Entries dropped from this server's in-process cache; Redis entries of the tag become
    /// unreachable at once on every server.
    pub cleared: u64,
}

/// What one page load measured in the browser (`POST /api/vitals`, sent with
/// `navigator.sendBeacon`). Times in milliseconds from the start of the navigation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Vitals {
    /// The page's path; the server files it under its route (`/budget`, `/admin/performance`…).
    pub page: String,
    pub ttfb_ms: Option<f64>,
    pub dom_content_loaded_ms: Option<f64>,
    pub load_ms: Option<f64>,
    /// Largest contentful paint.
    pub lcp_ms: Option<f64>,
    /// Cumulative layout shift (unitless).
    pub cls: Option<f64>,
    /// When the WebAssembly module was loaded and started.
    pub wasm_ms: Option<f64>,
    /// How long hydration took.
    pub hydrate_ms: Option<f64>,
    /// WebSocket heartbeat round trip.
    pub ws_latency_ms: Option<f64>,
}

/// The reports of one page, aggregated over the last [`VITALS_WINDOW`] reports: the median
/// and the 75th percentile (the web-vitals convention) of each figure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PageVitals {
    pub page: String,
    /// Reports received since the server started.
    pub reports: u64,
    pub figures: Vec<VitalFigure>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct VitalFigure {
    /// `ttfb_ms`, `lcp_ms`, `cls`, …
    pub name: String,
    pub samples: u64,
    pub p50: f64,
    pub p75: f64,
}

/// Reports kept per page for the percentiles.
pub const VITALS_WINDOW: usize = 200;

impl Vitals {
    /// Every figure's name, in the order of a page load.
    pub const NAMES: [&'static str; 8] = [
        "ttfb_ms",
        "dom_content_loaded_ms",
        "load_ms",
        "lcp_ms",
        "cls",
        "wasm_ms",
        "hydrate_ms",
        "ws_latency_ms",
    ];

    /// The figures by name, those measured only.
    pub fn figures(&self) -> Vec<(&'static str, f64)> {
        let values = [
            self.ttfb_ms,
            self.dom_content_loaded_ms,
            self.load_ms,
            self.lcp_ms,
            self.cls,
            self.wasm_ms,
            self.hydrate_ms,
            self.ws_latency_ms,
        ];
        Self::NAMES
            .into_iter()
            .zip(values)
            .filter_map(|(name, v)| v.map(|v| (name, v)))
            .collect()
    }

    /// `Err(field)` for a figure that no browser could have measured (negative, not finite,
    /// over ten minutes, or a layout shift over 100).
    pub fn check(&self) -> Result<(), &'static str> {
        if self.page.chars().count() > 200 || !self.page.starts_with('/') {
            return Err("page");
        }
        for (name, v) in self.figures() {
            let max = if name == "cls" { 100.0 } else { 600_000.0 };
            if !v.is_finite() || !(0.0..=max).contains(&v) {
                return Err(name);
            }
        }
        Ok(())
    }
}

impl AdminStats {
    /// Folds a `metrics` event into the figures shown: everything is replaced, and the series
    /// grows by the event's newest second (the last 15 minutes kept).
    pub fn absorb(&mut self, next: AdminStats) {
        let mut series = std::mem::take(&mut self.series);
        for s in next.series.iter() {
            if series.last().is_none_or(|l| l.ts_ms < s.ts_ms) {
                series.push(s.clone());
            }
        }
        let excess = series.len().saturating_sub(SERIES_LEN);
        series.drain(..excess);
        let history = if next.history.is_empty() {
            std::mem::take(&mut self.history)
        } else {
            next.history.clone()
        };
        *self = AdminStats {
            series,
            history,
            ..next
        };
    }
}

/// Seconds of series kept: 15 minutes.
pub const SERIES_LEN: usize = 900;

#[cfg(test)]
mod tests {
    use super::*;

    fn second(ts_ms: i64) -> Sample {
        Sample {
            ts_ms,
            ..Sample::default()
        }
    }

    #[test]
    fn a_metrics_event_adds_its_second_and_keeps_fifteen_minutes() {
        let mut shown = AdminStats {
            series: (0..SERIES_LEN as i64).map(|i| second(i * 1000)).collect(),
            ..AdminStats::default()
        };
        let mut next = AdminStats {
            series: vec![second(SERIES_LEN as i64 * 1000)],
            ..AdminStats::default()
        };
        next.realtime.connections = 7;
        shown.absorb(next.clone());
        assert_eq!(shown.series.len(), SERIES_LEN);
        assert_eq!(shown.series[0].ts_ms, 1000);
        assert_eq!(shown.realtime.connections, 7);
        // The same second again (a duplicate event) is not added twice.
        shown.absorb(next);
        assert_eq!(shown.series.len(), SERIES_LEN);
        assert_eq!(shown.series.last().unwrap().ts_ms, SERIES_LEN as i64 * 1000);
    }

    #[test]
    fn vitals_no_browser_could_measure_are_refused() {
        let ok = Vitals {
            page: "/budget".into(),
            lcp_ms: Some(812.0),
            cls: Some(0.02),
            ..Vitals::default()
        };
        assert_eq!(ok.check(), Ok(()));
        assert_eq!(ok.figures(), vec![("lcp_ms", 812.0), ("cls", 0.02)]);
        let bad = |v: Vitals| v.check().unwrap_err();
        assert_eq!(
            bad(Vitals {
                lcp_ms: Some(-1.0),
                ..ok.clone()
            }),
            "lcp_ms"
        );
        assert_eq!(
            bad(Vitals {
                cls: Some(f64::INFINITY),
                ..ok.clone()
            }),
            "cls"
        );
        assert_eq!(
            bad(Vitals {
                page: "budget".into(),
                ..ok
            }),
            "page"
        );
    }
}
