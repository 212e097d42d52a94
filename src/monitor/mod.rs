//! The performance monitor's own measurements: a per-second series of this server (requests,
//! hit rate, latency, connections; the last 15 minutes), the rules that turn the last minute
//! into hints and alerts, and the browsers' page-load reports. Beside it: [`rollup`] (the
//! cluster's analytics history), [`health_score`], [`telemetry`] (logs, traces, the request
//! log line) and [`prometheus`] (the recorder and each server's request counters). The loop
//! that ticks it every second is `jobs::monitor`.
//!
//! Request latency is counted in a lock-free log histogram (four buckets per power of two,
//! so a percentile is exact to within 19 %); a request costs two or three atomic additions.
//!
//! Rules (over the last 60 seconds unless said otherwise):
//! - `db_down`: the database does not answer;
//! - `redis_down`: a configured Redis does not answer;
//! - `hit_rate`: under 80 % of at least 100 cacheable requests came from the cache;
//! - `endpoint_hit_rate` (a hint only, since start): an endpoint with at least 50 cacheable
//!   requests under 80 %;
//! - `latency`: the p99 of at least 20 requests is above 250 ms;
//! - `error_rate`: over 5 % of at least 20 requests answered 5xx;
//! - `slow_clients`: a WebSocket client was closed for not keeping up.
//!
//! An alert (every rule but `endpoint_hit_rate`) sends one `notification` to the admins
//! when it fires and one when it has been clear for [`CLEAR_AFTER_S`] seconds.

pub mod health_score;
pub mod prometheus;
pub mod rollup;
pub mod telemetry;
use app::stats::{
    AlertNotice, EndpointStats, Hint, NamespaceKeys, PageVitals, Sample, VitalFigure, Vitals,
    SERIES_LEN, VITALS_WINDOW,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

/// 4 buckets per power of two, up to 2^36 µs.
const BUCKETS: usize = 4 * 36;
/// Seconds an alert must stay clear before it is resolved (so a flapping Redis is one
/// incident, not one per second).
pub const CLEAR_AFTER_S: u32 = 3;
const MINUTE: usize = 60;

fn bucket(us: u64) -> usize {
    let us = us.max(1);
    let octave = 63 - us.leading_zeros() as usize;
    let sub = if octave >= 2 {
        ((us >> (octave - 2)) & 3) as usize
    } else {
        0
    };
    (octave * 4 + sub).min(BUCKETS - 1)
}

/// The upper end of a bucket, in milliseconds.
fn bucket_upper_ms(i: usize) -> f64 {
    let (octave, sub) = (i / 4, i % 4);
    (1u64 << octave) as f64 * (1.0 + (sub as f64 + 1.0) / 4.0) / 1000.0
}

/// Requests answered since the last [`Window::take`]: counts and a latency histogram.
pub struct Window {
    requests: AtomicU64,
    errors: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

impl Default for Window {
    fn default() -> Self {
        Self {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Taken {
    pub requests: u64,
    pub errors: u64,
    pub buckets: Vec<u64>,
}

impl Window {
    pub fn record(&self, status: u16, seconds: f64) {
        self.requests.fetch_add(1, Relaxed);
        if status >= 500 {
            self.errors.fetch_add(1, Relaxed);
        }
        self.buckets[bucket((seconds * 1e6) as u64)].fetch_add(1, Relaxed);
    }

    pub fn take(&self) -> Taken {
        Taken {
            requests: self.requests.swap(0, Relaxed),
            errors: self.errors.swap(0, Relaxed),
            buckets: self.buckets.iter().map(|b| b.swap(0, Relaxed)).collect(),
        }
    }
}

/// The `p`-th percentile (0–100) of a histogram, as its bucket's upper end.
pub fn percentile_ms(buckets: &[u64], p: f64) -> Option<f64> {
    let total: u64 = buckets.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = ((total as f64) * p / 100.0).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Some(bucket_upper_ms(i));
        }
    }
    None
}

/// What the rules look at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Minute {
    pub requests: u64,
    pub errors: u64,
    pub p99_ms: Option<f64>,
    pub cache_hits: u64,
    pub cache_requests: u64,
    pub slow_closed: u64,
}

pub struct RuleInputs<'a> {
    pub db_up: bool,
    /// `None` when embedded.
    pub redis_up: Option<bool>,
    pub minute: &'a Minute,
    pub endpoints: &'a [EndpointStats],
}

fn pct(rate: f64) -> String {
    format!("{:.0} %", rate * 100.0)
}

/// What is wrong now, worst first.
pub fn findings(i: &RuleInputs) -> Vec<Hint> {
    let mut out = Vec::new();
    let mut say = |rule: &str, message: String| {
        out.push(Hint {
            rule: rule.into(),
            message,
        })
    };
    if !i.db_up {
        say(
            "db_down",
            "Database not answering: changes cannot be saved until it returns".into(),
        );
    }
    if i.redis_up == Some(false) {
        say(
            "redis_down",
            "Redis down: serving degraded from this server's memory and the database".into(),
        );
    }
    let m = i.minute;
    if m.requests >= 20 && m.errors as f64 > m.requests as f64 * 0.05 {
        say(
            "error_rate",
            format!(
                "{} of {} requests failed (5xx) in the last minute",
                m.errors, m.requests
            ),
        );
    }
    if let Some(p99) = m.p99_ms.filter(|p| m.requests >= 20 && *p > 250.0) {
        say(
            "latency",
            format!("p99 latency over the last minute is {p99:.0} ms, above 250 ms"),
        );
    }
    if m.cache_requests >= 100 && (m.cache_hits as f64) < m.cache_requests as f64 * 0.8 {
        say(
            "hit_rate",
            format!(
                "cache hit rate over the last minute is {}, below 80 %",
                pct(m.cache_hits as f64 / m.cache_requests as f64)
            ),
        );
    }
    if m.slow_closed > 0 {
        let clients = if m.slow_closed == 1 {
            "1 slow client".to_string()
        } else {
            format!("{} slow clients", m.slow_closed)
        };
        say(
            "slow_clients",
            format!("{clients} closed in the last minute (could not keep up)"),
        );
    }
    for e in i.endpoints {
        if e.hits + e.misses >= 50 && e.hit_rate < 0.8 {
            say(
                "endpoint_hit_rate",
                format!("hit rate on {} is {}, below 80 %", e.route, pct(e.hit_rate)),
            );
        }
    }
    out
}

/// Whether a rule raises alerts (the per-endpoint hint does not: it counts since start).
fn alerted(rule: &str) -> bool {
    rule != "endpoint_hit_rate"
}

/// Open incidents: rule → seconds it has been clear.
#[derive(Default)]
pub struct Incidents {
    open: BTreeMap<String, u32>,
}

impl Incidents {
    /// Compares with what was found this second; returns (rule, message, fired) for each
    /// incident that opened (`true`) or closed (`false`).
    pub fn update(&mut self, found: &[Hint]) -> Vec<(String, String, bool)> {
        let mut changes = Vec::new();
        for h in found.iter().filter(|h| alerted(&h.rule)) {
            if self.open.insert(h.rule.clone(), 0).is_none() {
                changes.push((h.rule.clone(), h.message.clone(), true));
            }
        }
        let mut closed = Vec::new();
        for (rule, clear) in self.open.iter_mut() {
            if found.iter().any(|h| &h.rule == rule) {
                continue;
            }
            *clear += 1;
            if *clear >= CLEAR_AFTER_S {
                closed.push(rule.clone());
            }
        }
        for rule in closed {
            self.open.remove(&rule);
            let message = format!("{} cleared", rule_name(&rule));
            changes.push((rule, message, false));
        }
        changes
    }
}

fn rule_name(rule: &str) -> &'static str {
    match rule {
        "db_down" => "Database outage",
        "redis_down" => "Redis outage",
        "error_rate" => "Error rate",
        "latency" => "High latency",
        "hit_rate" => "Low cache hit rate",
        "slow_clients" => "Slow WebSocket clients",
        _ => "Incident",
    }
}

struct Second {
    requests: u64,
    errors: u64,
    buckets: Vec<u64>,
    cache_hits: u64,
    cache_requests: u64,
    slow_closed: u64,
}

struct Previous {
    at: Instant,
    cache: (u64, u64),
    slow_closed: u64,
    cpu_ticks: Option<u64>,
}

#[derive(Default)]
struct Inner {
    series: VecDeque<Sample>,
    recent: VecDeque<Second>,
    previous: Option<Previous>,
    incidents: Incidents,
    cpu_percent: Option<f64>,
    last: Option<Sample>,
    last_error_rate: Option<f64>,
}

#[derive(Default)]
struct PageReports {
    reports: u64,
    figures: BTreeMap<&'static str, VecDeque<f64>>,
}

/// The monitor of one server.
#[derive(Default)]
pub struct Monitor {
    inner: Mutex<Inner>,
    pages: Mutex<BTreeMap<&'static str, PageReports>>,
    keys: Mutex<Vec<NamespaceKeys>>,
}

/// This process's CPU time in clock ticks (100 per second on Linux), from `/proc`.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis do not.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The routes the app has; any other path is filed under `other`, so reports cannot grow
/// the table.
const PAGES: [&str; 6] = [
    "/",
    "/login",
    "/register",
    "/family",
    "/budget",
    "/admin/performance",
];

fn page_route(path: &str) -> &'static str {
    let path = path.split(['?', '#']).next().unwrap_or("/");
    PAGES.into_iter().find(|p| *p == path).unwrap_or("other")
}

/// What a second's measurement reads: this server's request window, cache, hub and name.
pub struct Sources<'a> {
    pub requests: &'a Window,
    pub cache: &'a crate::cache::Cache,
    pub hub: &'a crate::realtime::Hub,
    pub node_id: &'a str,
}

impl Monitor {
    /// One second passed: measures it, keeps it, and returns the alert notices to send.
    pub fn tick(&self, from: Sources<'_>, db_up: bool) -> Vec<AlertNotice> {
        let now = Instant::now();
        let taken = from.requests.take();
        let cache = from.cache.stats.totals();
        let slow = from.hub.metrics.slow_closed.load(Relaxed);
        let ticks = cpu_ticks();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let prev = inner.previous.replace(Previous {
            at: now,
            cache,
            slow_closed: slow,
            cpu_ticks: ticks,
        });
        let Some(prev) = prev else {
            return Vec::new();
        };
        let secs = now.duration_since(prev.at).as_secs_f64().max(1e-3);
        inner.cpu_percent = match (prev.cpu_ticks, ticks) {
            (Some(a), Some(b)) if b >= a => Some((b - a) as f64 / secs),
            _ => None,
        };
        let second = Second {
            requests: taken.requests,
            errors: taken.errors,
            cache_hits: cache.0.saturating_sub(prev.cache.0),
            cache_requests: cache.1.saturating_sub(prev.cache.1),
            slow_closed: slow.saturating_sub(prev.slow_closed),
            buckets: taken.buckets,
        };
        let sample = Sample {
            ts_ms: crate::clock::now_ms(),
            requests_per_s: second.requests as f64 / secs,
            hit_rate: (second.cache_requests > 0)
                .then(|| second.cache_hits as f64 / second.cache_requests as f64),
            p99_ms: percentile_ms(&second.buckets, 99.0),
            connections: from.hub.connection_count() as u64,
        };
        inner.last = Some(sample.clone());
        inner.last_error_rate =
            (second.requests > 0).then(|| second.errors as f64 / second.requests as f64);
        inner.series.push_back(sample);
        if inner.series.len() > SERIES_LEN {
            inner.series.pop_front();
        }
        inner.recent.push_back(second);
        if inner.recent.len() > MINUTE {
            inner.recent.pop_front();
        }
        let minute = minute_of(&inner.recent);
        // The per-endpoint hint is not an alert: its figures (sorted latency samples) are only
        // gathered when the statistics are asked for.
        let found = findings(&RuleInputs {
            db_up,
            redis_up: from.cache.redis().map(|l| l.is_up()),
            minute: &minute,
            endpoints: &[],
        });
        inner
            .incidents
            .update(&found)
            .into_iter()
            .map(|(rule, message, fired)| AlertNotice {
                kind: "alert".into(),
                rule,
                state: if fired { "firing" } else { "resolved" }.into(),
                message,
                node_id: from.node_id.to_string(),
            })
            .collect()
    }

    /// The last minute, for the rules.
    pub fn minute(&self) -> Minute {
        minute_of(&self.inner.lock().unwrap_or_else(|p| p.into_inner()).recent)
    }

    /// The last 15 minutes, oldest first.
    pub fn series(&self) -> Vec<Sample> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.series.iter().cloned().collect()
    }

    /// The newest second, its error rate, and the CPU use over it.
    pub fn latest(&self) -> (Option<Sample>, Option<f64>, Option<f64>) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (inner.last.clone(), inner.last_error_rate, inner.cpu_percent)
    }

    /// Keys per namespace at the last count.
    pub fn keys(&self) -> Vec<NamespaceKeys> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Files one browser report under its page.
    pub fn report(&self, vitals: &Vitals) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        let page = pages.entry(page_route(&vitals.page)).or_default();
        page.reports += 1;
        for (name, value) in vitals.figures() {
            let window = page.figures.entry(name).or_default();
            if window.len() == VITALS_WINDOW {
                window.pop_front();
            }
            window.push_back(value);
        }
    }

    /// Each page's reports: median and 75th percentile of each figure.
    pub fn pages(&self) -> Vec<PageVitals> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages
            .iter()
            .map(|(page, r)| PageVitals {
                page: page.to_string(),
                reports: r.reports,
                figures: Vitals::NAMES
                    .iter()
                    .filter_map(|name| Some((*name, r.figures.get(name)?)))
                    .map(|(name, values)| {
                        let mut sorted: Vec<f64> = values.iter().copied().collect();
                        sorted.sort_by(f64::total_cmp);
                        let at = |p: usize| sorted[(sorted.len() - 1) * p / 100];
                        VitalFigure {
                            name: name.to_string(),
                            samples: sorted.len() as u64,
                            p50: at(50),
                            p75: at(75),
                        }
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Most keys a count walks through (a larger keyspace shows the namespaces of these).
const KEYS_COUNTED: usize = 200_000;
/// Seconds between key counts.
pub const KEYS_EVERY_S: u64 = 60;

/// The namespace of a key: `hearth:cache:{f:…}:…` → `cache`.
fn namespace(key: &str) -> &str {
    let rest = key.strip_prefix("hearth:").unwrap_or(key);
    rest.split(':').next().unwrap_or(rest)
}

/// Counts Hearth's keys per namespace with `SCAN` (never `KEYS`), on a single Redis or a
/// Sentinel's master. On Cluster a `SCAN` would see one node only, so nothing is counted
/// there rather than a part shown as the whole.
pub async fn count_keys(
    cache: &crate::cache::Cache,
    monitor: &Monitor,
) -> Result<(), crate::redis::link::RedisLinkError> {
    let Some(link) = cache.redis() else {
        return Ok(());
    };
    if link.mode() == "cluster" || !link.is_up() {
        return Ok(());
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut cursor, mut seen) = (0u64, 0usize);
    loop {
        let (next, keys): (u64, Vec<String>) = link
            .query(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg("hearth:*")
                    .arg("COUNT")
                    .arg(1000),
            )
            .await?;
        seen += keys.len();
        for key in &keys {
            *counts.entry(namespace(key).to_string()).or_default() += 1;
        }
        cursor = next;
        if cursor == 0 || seen >= KEYS_COUNTED {
            break;
        }
    }
    *monitor.keys.lock().unwrap_or_else(|p| p.into_inner()) = counts
        .into_iter()
        .map(|(namespace, keys)| NamespaceKeys { namespace, keys })
        .collect();
    Ok(())
}

fn minute_of(recent: &VecDeque<Second>) -> Minute {
    let mut buckets = vec![0u64; BUCKETS];
    let mut m = Minute::default();
    for s in recent {
        m.requests += s.requests;
        m.errors += s.errors;
        m.cache_hits += s.cache_hits;
        m.cache_requests += s.cache_requests;
        m.slow_closed += s.slow_closed;
        for (total, n) in buckets.iter_mut().zip(&s.buckets) {
            *total += n;
        }
    }
    m.p99_ms = percentile_ms(&buckets, 99.0);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_buckets_within_a_fifth() {
        let w = Window::default();
        for ms in 1..=100u64 {
            w.record(200, ms as f64 / 1000.0);
        }
        w.record(503, 0.5);
        let t = w.take();
        assert_eq!((t.requests, t.errors), (101, 1));
        let p50 = percentile_ms(&t.buckets, 50.0).unwrap();
        assert!((50.0..=50.0 * 1.25).contains(&p50), "{p50}");
        let p99 = percentile_ms(&t.buckets, 99.0).unwrap();
        assert!((99.0..=99.0 * 1.25).contains(&p99), "{p99}");
        assert_eq!(w.take().requests, 0, "taking empties the window");
        assert_eq!(percentile_ms(&w.take().buckets, 99.0), None);
    }

    fn rules(minute: &Minute, redis_up: Option<bool>, endpoints: &[EndpointStats]) -> Vec<String> {
        findings(&RuleInputs {
            db_up: true,
            redis_up,
            minute,
            endpoints,
        })
        .into_iter()
        .map(|h| h.message)
        .collect()
    }

    #[test]
    fn hints_say_what_is_wrong_with_the_measured_figure() {
        let quiet = Minute::default();
        assert!(rules(&quiet, Some(true), &[]).is_empty());
        assert!(rules(&quiet, None, &[]).is_empty());
        assert_eq!(
            rules(&quiet, Some(false), &[]),
            ["Redis down: serving degraded from this server's memory and the database"]
        );
        let busy = Minute {
            requests: 200,
            errors: 20,
            p99_ms: Some(400.0),
            cache_hits: 61,
            cache_requests: 100,
            slow_closed: 3,
        };
        let endpoint = EndpointStats {
            route: "/api/budgets".into(),
            hits: 61,
            misses: 39,
            hit_rate: 0.61,
            p50_ms: 1.0,
            p99_ms: 2.0,
        };
        assert_eq!(
            rules(&busy, Some(true), &[endpoint]),
            [
                "20 of 200 requests failed (5xx) in the last minute",
                "p99 latency over the last minute is 400 ms, above 250 ms",
                "cache hit rate over the last minute is 61 %, below 80 %",
                "3 slow clients closed in the last minute (could not keep up)",
                "hit rate on /api/budgets is 61 %, below 80 %",
            ]
        );
        // Too few requests to judge.
        let few = Minute {
            requests: 10,
            errors: 5,
            p99_ms: Some(900.0),
            cache_hits: 1,
            cache_requests: 10,
            slow_closed: 0,
        };
        assert!(rules(&few, Some(true), &[]).is_empty());
    }

    #[test]
    fn an_incident_alerts_once_and_clears_once_after_staying_clear() {
        let down = vec![Hint {
            rule: "redis_down".into(),
            message: "Redis down".into(),
        }];
        let mut incidents = Incidents::default();
        assert_eq!(
            incidents.update(&down),
            [("redis_down".into(), "Redis down".into(), true)]
        );
        for _ in 0..5 {
            assert!(
                incidents.update(&down).is_empty(),
                "still the same incident"
            );
        }
        // A flap shorter than CLEAR_AFTER_S stays one incident.
        assert!(incidents.update(&[]).is_empty());
        assert!(incidents.update(&down).is_empty());
        for _ in 1..CLEAR_AFTER_S {
            assert!(incidents.update(&[]).is_empty());
        }
        assert_eq!(
            incidents.update(&[]),
            [("redis_down".into(), "Redis outage cleared".into(), false)]
        );
        assert!(incidents.update(&[]).is_empty());
        // Hints that are not alerts never open an incident.
        let hint = vec![Hint {
            rule: "endpoint_hit_rate".into(),
            message: "hit rate on /api/budgets is 61 %, below 80 %".into(),
        }];
        assert!(incidents.update(&hint).is_empty());
    }

    #[test]
    fn keys_are_counted_by_their_namespace() {
        assert_eq!(namespace("hearth:cache:{f:1}:budget"), "cache");
        assert_eq!(namespace("hearth:sess:abc"), "sess");
        assert_eq!(namespace("hearth:analytics:{rollup}:points"), "analytics");
    }

    #[test]
    fn browser_reports_are_filed_per_route_with_percentiles() {
        let m = Monitor::default();
        for lcp in 1..=100 {
            m.report(&Vitals {
                page: "/budget?month=2026-11".into(),
                lcp_ms: Some(lcp as f64),
                ..Vitals::default()
            });
        }
        m.report(&Vitals {
            page: "/some/unknown/path".into(),
            cls: Some(0.1),
            ..Vitals::default()
        });
        let pages = m.pages();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].page, "/budget");
        assert_eq!(pages[0].reports, 100);
        let lcp = &pages[0].figures[0];
        assert_eq!((lcp.name.as_str(), lcp.samples), ("lcp_ms", 100));
        let names: Vec<&str> = pages[1].figures.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["cls"]);
        assert_eq!((lcp.p50, lcp.p75), (50.0, 75.0));
        assert_eq!(pages[1].page, "other");
    }
}
