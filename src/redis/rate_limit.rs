//! Token buckets: atomic in Redis (one Lua script, keyed `hearth:rl:<scope>`) so every
//! server shares one budget, with the same bucket in process when Redis is off or down.

use crate::redis::link::RedisLink;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The refill state lives in a hash; Redis' own clock makes servers agree on time.
const TOKEN_BUCKET: &str = r"
local capacity = tonumber(ARGV[1])
local refill_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) / refill_ms)
local allowed = 0
if tokens >= math.max(cost, 1) then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * refill_ms))
local wait = 0
if allowed == 0 then wait = math.ceil((math.max(cost, 1) - tokens) * refill_ms) end
return {allowed, math.floor(tokens), wait}
";

/// A bucket of `capacity` tokens refilled evenly over `period`.
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    pub capacity: u32,
    pub period: Duration,
}

impl Quota {
    fn refill_ms(&self) -> f64 {
        self.period.as_millis() as f64 / f64::from(self.capacity.max(1))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until a token is back (when refused) or the bucket is full again.
    pub reset_s: u64,
}

pub struct RateLimiter {
    redis: Option<RedisLink>,
    script: redis::Script,
    local: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(redis: Option<RedisLink>) -> Self {
        Self {
            redis,
            script: redis::Script::new(TOKEN_BUCKET),
            local: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from the bucket of `scope`.
    pub async fn take(&self, scope: &str, quota: Quota) -> Decision {
        self.spend(scope, quota, 1).await
    }

    /// Whether a token is there, without taking it.
    pub async fn check(&self, scope: &str, quota: Quota) -> Decision {
        self.spend(scope, quota, 0).await
    }

    /// Fills the bucket again (a successful sign-in forgives earlier failures).
    pub async fn reset(&self, scope: &str) {
        self.local
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(scope);
        if let Some(redis) = &self.redis {
            let _ = redis
                .query::<()>(redis::cmd("DEL").arg(format!("hearth:rl:{scope}")))
                .await;
        }
    }

    async fn spend(&self, scope: &str, quota: Quota, cost: u32) -> Decision {
        if let Some(redis) = &self.redis {
            let mut invocation = self.script.key(format!("hearth:rl:{scope}"));
            invocation
                .arg(quota.capacity)
                .arg(quota.refill_ms())
                .arg(cost);
            if let Ok((allowed, remaining, wait_ms)) =
                redis.script::<(i64, i64, i64)>(&invocation).await
            {
                return decision(
                    quota,
                    allowed == 1,
                    remaining.max(0) as f64,
                    wait_ms.max(0) as f64,
                );
            }
        }
        self.spend_local(scope, quota, cost, Instant::now())
    }

    fn spend_local(&self, scope: &str, quota: Quota, cost: u32, now: Instant) -> Decision {
        let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        if local.len() > 100_000 {
            local.retain(|_, (_, ts)| now.duration_since(*ts) < quota.period);
        }
        let capacity = f64::from(quota.capacity);
        let (tokens, ts) = local.entry(scope.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*ts).as_millis() as f64 / quota.refill_ms())
            .min(capacity);
        *ts = now;
        let allowed = *tokens >= 1.0;
        if allowed {
            *tokens -= f64::from(cost);
        }
        let wait_ms = if allowed {
            0.0
        } else {
            (1.0 - *tokens) * quota.refill_ms()
        };
        decision(quota, allowed, *tokens, wait_ms)
    }
}

fn decision(quota: Quota, allowed: bool, tokens: f64, wait_ms: f64) -> Decision {
    let full_in_ms = (f64::from(quota.capacity) - tokens).max(0.0) * quota.refill_ms();
    let reset_ms = if allowed { full_in_ms } else { wait_ms };
    Decision {
        allowed,
        limit: quota.capacity,
        remaining: tokens.floor() as u32,
        reset_s: (reset_ms / 1000.0).ceil() as u64,
    }
}

/// The `RateLimit-*` headers (and `Retry-After` when refused) of a decision.
pub fn set_headers(
    h: &mut axum::http::HeaderMap,
    limit: u32,
    remaining: u32,
    reset_s: u64,
    refused: bool,
) {
    let mut values = vec![
        ("ratelimit-limit", limit.to_string()),
        ("ratelimit-remaining", remaining.to_string()),
        ("ratelimit-reset", reset_s.to_string()),
    ];
    if refused {
        values.push(("retry-after", reset_s.to_string()));
    }
    for (name, value) in values {
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_bucket_refuses_the_eleventh_and_refills_with_time() {
        let limiter = RateLimiter::new(None);
        let quota = Quota {
            capacity: 10,
            period: Duration::from_secs(60),
        };
        let start = Instant::now();
        for i in 0..10 {
            assert!(
                limiter.spend_local("f", quota, 0, start).allowed,
                "a check takes nothing"
            );
            let d = limiter.spend_local("f", quota, 1, start);
            assert!(d.allowed);
            assert_eq!(d.remaining, 9 - i);
        }
        assert!(!limiter.spend_local("f", quota, 0, start).allowed);
        let refused = limiter.spend_local("f", quota, 1, start);
        assert!(!refused.allowed);
        assert_eq!(refused.reset_s, 6);
        assert!(
            limiter
                .spend_local("f", quota, 1, start + Duration::from_secs(6))
                .allowed
        );
        assert!(limiter.spend_local("other", quota, 1, start).allowed);
    }
}
