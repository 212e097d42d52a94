//! Login failure throttling: after too many wrong passwords for one email or from one
//! address within a window, further attempts get 429 until the oldest failure ages out.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    window: Duration,
    per_email: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 20)
    }
}

impl LoginThrottle {
    pub fn new(window: Duration, per_email: usize, per_address: usize) -> Self {
        Self {
            window,
            per_email,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when this email or address has failed too often.
    pub fn check(&self, email: &str, address: &str, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for (key, max) in [
            (format!("email:{email}"), self.per_email),
            (format!("addr:{address}"), self.per_address),
        ] {
            if let Some(times) = failures.get_mut(&key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= max {
                    if let Some(oldest) = times.front() {
                        let left = self.window.saturating_sub(now.duration_since(*oldest));
                        wait = wait.max(left.as_secs().max(1));
                    }
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    pub fn failed(&self, email: &str, address: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            let window = self.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        for key in [format!("email:{email}"), format!("addr:{address}")] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful sign-in forgives the email's failures.
    pub fn succeeded(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("email:{email}"));
    }

    pub fn limit(&self) -> u32 {
        u32::try_from(self.per_email).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_for_an_email_waits_for_the_window() {
        let t = LoginThrottle::new(Duration::from_secs(60), 5, 100);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(t.check("a@x.io", "1.1.1.1", start).is_ok());
            t.failed("a@x.io", "1.1.1.1", start);
        }
        assert_eq!(t.check("a@x.io", "2.2.2.2", start), Err(60));
        assert!(t.check("b@x.io", "1.1.1.1", start).is_ok());
        assert!(t
            .check("a@x.io", "1.1.1.1", start + Duration::from_secs(61))
            .is_ok());
    }

    #[test]
    fn success_clears_the_email() {
        let t = LoginThrottle::new(Duration::from_secs(60), 1, 100);
        let now = Instant::now();
        t.failed("a@x.io", "ip", now);
        assert!(t.check("a@x.io", "ip", now).is_err());
        t.succeeded("a@x.io");
        assert!(t.check("a@x.io", "ip", now).is_ok());
    }
}
