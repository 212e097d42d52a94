//! The hub's counters, for the admin statistics: messages in and out (with per-second rates
//! between two reads), publish→deliver latency, reconnects and recoveries. (Connections are
//! counted by the hub's own registry.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const SAMPLES: usize = 4096;

#[derive(Default)]
pub struct Metrics {
    /// Connections that said they were reconnecting (`subscribe` with `since`).
    pub recoveries: AtomicU64,
    pub recovery_failures: AtomicU64,
    pub messages_in: AtomicU64,
    pub messages_out: AtomicU64,
    pub slow_closed: AtomicU64,
    latencies_ms: Mutex<VecDeque<i64>>,
    last_rates: Mutex<Option<(Instant, u64, u64)>>,
    /// The rates over the last tick (see [`run`]).
    current: Mutex<Rates>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rates {
    pub in_per_s: f64,
    pub out_per_s: f64,
}

impl Metrics {
    pub fn record_delivery(&self, ms: i64) {
        let mut l = self.latencies_ms.lock().unwrap_or_else(|p| p.into_inner());
        if l.len() == SAMPLES {
            l.pop_front();
        }
        l.push_back(ms.max(0));
    }

    /// The 99th percentile of the recent publish→deliver latencies; `None` before any.
    pub fn deliver_p99_ms(&self) -> Option<f64> {
        let l = self.latencies_ms.lock().unwrap_or_else(|p| p.into_inner());
        if l.is_empty() {
            return None;
        }
        let mut sorted: Vec<i64> = l.iter().copied().collect();
        sorted.sort_unstable();
        Some(sorted[(sorted.len() - 1) * 99 / 100] as f64)
    }

    /// The message rates measured over the last second.
    pub fn current_rates(&self) -> Rates {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Measures the rates since the previous tick and keeps them as the current ones.
    pub fn tick(&self) {
        let rates = self.rates();
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = rates;
    }

    /// Messages per second since the previous call (0 on the first).
    fn rates(&self) -> Rates {
        let now = Instant::now();
        let (i, o) = (
            self.messages_in.load(Ordering::Relaxed),
            self.messages_out.load(Ordering::Relaxed),
        );
        let mut last = self.last_rates.lock().unwrap_or_else(|p| p.into_inner());
        let rates = match *last {
            Some((at, li, lo)) if now > at => {
                let s = (now - at).as_secs_f64();
                Rates {
                    in_per_s: (i - li) as f64 / s,
                    out_per_s: (o - lo) as f64 / s,
                }
            }
            _ => Rates {
                in_per_s: 0.0,
                out_per_s: 0.0,
            },
        };
        *last = Some((now, i, o));
        rates
    }
}

pub const ADMIN_CHANNEL: &str = "admin:metrics";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentile_and_rates_come_from_what_was_recorded() {
        let m = Metrics::default();
        assert_eq!(m.deliver_p99_ms(), None);
        for ms in 1..=100 {
            m.record_delivery(ms);
        }
        assert_eq!(m.deliver_p99_ms(), Some(99.0));
        assert_eq!(m.rates().in_per_s, 0.0);
        m.messages_in.fetch_add(10, Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let r = m.rates();
        assert!(r.in_per_s > 10.0 && r.in_per_s < 400.0, "{r:?}");
    }
}
