//! Per-endpoint cache counters and latency samples, for the admin statistics.

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// How a cacheable request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    Stale,
    Bypass,
}

impl Outcome {
    pub fn header(self) -> &'static str {
        match self {
            Outcome::Hit => "HIT",
            Outcome::Miss => "MISS",
            Outcome::Stale => "STALE",
            Outcome::Bypass => "BYPASS",
        }
    }
}

const SAMPLES: usize = 2048;

#[derive(Default)]
struct Endpoint {
    hits: u64,
    misses: u64,
    stale: u64,
    bypass: u64,
    latencies_us: VecDeque<u64>,
}

impl Endpoint {
    fn count(&mut self, outcome: Outcome, elapsed: Duration) {
        match outcome {
            Outcome::Hit => self.hits += 1,
            Outcome::Miss => self.misses += 1,
            Outcome::Stale => self.stale += 1,
            Outcome::Bypass => self.bypass += 1,
        }
        if self.latencies_us.len() == SAMPLES {
            self.latencies_us.pop_front();
        }
        self.latencies_us.push_back(elapsed.as_micros() as u64);
    }
}

#[derive(Default)]
pub struct CacheStats {
    endpoints: Mutex<HashMap<String, Endpoint, crate::FastHash>>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EndpointStats {
    pub route: String,
    pub hits: u64,
    pub misses: u64,
    pub stale: u64,
    pub bypass: u64,
    pub hit_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl CacheStats {
    pub fn record(&self, route: &str, outcome: Outcome, elapsed: Duration) {
        let mut endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        // One lookup for a route seen before (every request but the first).
        match endpoints.get_mut(route) {
            Some(e) => e.count(outcome, elapsed),
            None => endpoints
                .entry(route.to_string())
                .or_default()
                .count(outcome, elapsed),
        }
    }

    /// Hits (stale serves included) and every cacheable request so far, over all endpoints;
    /// the counters only, without sorting latency samples.
    pub fn totals(&self) -> (u64, u64) {
        let endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        endpoints.values().fold((0, 0), |(h, r), e| {
            let served = e.hits + e.stale;
            (h + served, r + served + e.misses + e.bypass)
        })
    }

    /// Stale serves so far, over all endpoints.
    pub fn stale_total(&self) -> u64 {
        let endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        endpoints.values().map(|e| e.stale).sum()
    }

    pub fn snapshot(&self) -> Vec<EndpointStats> {
        let endpoints = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<EndpointStats> = endpoints
            .iter()
            .map(|(route, e)| {
                let mut sorted: Vec<u64> = e.latencies_us.iter().copied().collect();
                sorted.sort_unstable();
                let pct = |p: usize| -> f64 {
                    if sorted.is_empty() {
                        0.0
                    } else {
                        sorted[(sorted.len() - 1) * p / 100] as f64 / 1000.0
                    }
                };
                let served = e.hits + e.stale;
                let total = served + e.misses + e.bypass;
                EndpointStats {
                    route: route.clone(),
                    hits: e.hits,
                    misses: e.misses,
                    stale: e.stale,
                    bypass: e.bypass,
                    hit_rate: if total == 0 {
                        0.0
                    } else {
                        served as f64 / total as f64
                    },
                    p50_ms: pct(50),
                    p99_ms: pct(99),
                }
            })
            .collect();
        out.sort_by(|a, b| a.route.cmp(&b.route));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_percentiles_come_from_the_recorded_requests() {
        let s = CacheStats::default();
        for i in 1..=100u64 {
            let outcome = if i <= 75 { Outcome::Hit } else { Outcome::Miss };
            s.record("/api/budgets", outcome, Duration::from_micros(i * 10));
        }
        let snap = s.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!((snap[0].hits, snap[0].misses), (75, 25));
        assert!((snap[0].hit_rate - 0.75).abs() < 1e-9);
        assert!((snap[0].p50_ms - 0.5).abs() < 1e-9);
        assert!((snap[0].p99_ms - 0.99).abs() < 1e-9);
    }
}
