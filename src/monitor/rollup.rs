//! Periodic analytics roll-ups for the monitor: every `ANALYTICS_ROLLUP_INTERVAL` each server
//! reports its cumulative cache counters, and one server per period (the one that takes that
//! period's lock) sums every live server's progress since the last roll-up into one point of
//! the cluster-wide history (the last [`KEEP`] points).
//!
//! With Redis: `hearth:analytics:node:<node>` (a server's counters, expiring when the server
//! stops reporting), `hearth:analytics:{rollup}:nodes` (servers by last report),
//! `…:{rollup}:prev` (each server's counters at the last roll-up) and `…:{rollup}:points`
//! (the points, newest first). Embedded: the same, in process.

use crate::cache::Cache;
use crate::redis::lock::Locks;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// Points kept: 15 minutes at the default interval.
pub const KEEP: usize = 90;
// One hash tag, so the roll-up's keys share a Cluster slot.
const NODES: &str = "hearth:analytics:{rollup}:nodes";
const PREV: &str = "hearth:analytics:{rollup}:prev";
const POINTS: &str = "hearth:analytics:{rollup}:points";

/// One roll-up (shared with the admin page).
pub use app::stats::RollupPoint as Point;

/// A server's cumulative counters: (hits, requests).
pub type Counters = (u64, u64);

/// Sums each server's progress since `prev`; a server whose counters went down restarted,
/// so all of its current counters are new. Returns the sums and the new `prev`.
pub fn fold(
    prev: &HashMap<String, Counters>,
    current: &HashMap<String, Counters>,
) -> (Counters, HashMap<String, Counters>) {
    let mut sum = (0, 0);
    for (node, &(hits, requests)) in current {
        let (ph, pr) = prev.get(node).copied().unwrap_or((0, 0));
        let (dh, dr) = if requests < pr || hits < ph {
            (hits, requests)
        } else {
            (hits - ph, requests - pr)
        };
        sum = (sum.0 + dh, sum.1 + dr);
    }
    (sum, current.clone())
}

pub fn point(ts_ms: i64, period: Duration, (hits, requests): Counters, servers: u32) -> Point {
    Point {
        ts_ms,
        period_ms: period.as_millis() as u64,
        requests,
        hits,
        requests_per_s: requests as f64 / period.as_secs_f64().max(1e-3),
        hit_rate: (requests > 0).then(|| hits as f64 / requests as f64),
        servers,
    }
}

/// The embedded history, and the counters of the last roll-up.
#[derive(Default)]
pub struct LocalRollups {
    points: Mutex<VecDeque<Point>>,
    prev: Mutex<HashMap<String, Counters>>,
}

/// One period: report this server's counters, and roll up if this server holds the period.
pub async fn once(
    cache: &Cache,
    locks: &Locks,
    rollups: &LocalRollups,
    node_id: &str,
    period: Duration,
) -> Result<(), crate::redis::link::RedisLinkError> {
    let now = crate::clock::now_ms();
    let counters = cache.stats.totals();
    let Some(redis) = cache.redis() else {
        let mut current = HashMap::new();
        current.insert(node_id.to_string(), counters);
        let mut prev = rollups.prev.lock().unwrap_or_else(|p| p.into_inner());
        let (sum, next) = fold(&prev, &current);
        *prev = next;
        let mut points = rollups.points.lock().unwrap_or_else(|p| p.into_inner());
        points.push_back(point(now, period, sum, 1));
        while points.len() > KEEP {
            points.pop_front();
        }
        return Ok(());
    };
    let ttl_ms = (period.as_millis() as u64 * 3).max(1000);
    let node_key = format!("hearth:analytics:node:{}", node_id);
    redis
        .query::<()>(
            redis::cmd("SET")
                .arg(&node_key)
                .arg(format!("{} {}", counters.0, counters.1))
                .arg("PX")
                .arg(ttl_ms),
        )
        .await?;
    redis
        .query::<()>(redis::cmd("ZADD").arg(NODES).arg(now).arg(node_id))
        .await?;

    // One server per period rolls up (its lock is never released: it expires).
    let slot = now as u64 / period.as_millis().max(1) as u64;
    if locks
        .try_acquire(&format!("rollup:{slot}"), period * 2)
        .await
        .is_none()
    {
        return Ok(());
    }
    redis
        .query::<()>(
            redis::cmd("ZREMRANGEBYSCORE")
                .arg(NODES)
                .arg("-inf")
                .arg(now - ttl_ms as i64),
        )
        .await?;
    let nodes: Vec<String> = redis
        .query(redis::cmd("ZRANGE").arg(NODES).arg(0).arg(-1))
        .await?;
    let mut current = HashMap::new();
    for node in &nodes {
        let value: Option<String> = redis
            .query(redis::cmd("GET").arg(format!("hearth:analytics:node:{node}")))
            .await?;
        if let Some(c) = value.as_deref().and_then(parse_counters) {
            current.insert(node.clone(), c);
        }
    }
    let prev_raw: HashMap<String, String> = redis.query(redis::cmd("HGETALL").arg(PREV)).await?;
    let prev: HashMap<String, Counters> = prev_raw
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), parse_counters(v)?)))
        .collect();
    let (sum, next) = fold(&prev, &current);
    let p = point(now, period, sum, current.len() as u32);
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg(PREV).ignore();
    for (node, (h, r)) in &next {
        pipe.cmd("HSET")
            .arg(PREV)
            .arg(node)
            .arg(format!("{h} {r}"))
            .ignore();
    }
    pipe.cmd("LPUSH")
        .arg(POINTS)
        .arg(serde_json::to_string(&p).unwrap_or_default())
        .ignore();
    pipe.cmd("LTRIM").arg(POINTS).arg(0).arg(KEEP - 1).ignore();
    redis.pipeline::<()>(&pipe).await?;
    Ok(())
}

fn parse_counters(s: &str) -> Option<Counters> {
    let (h, r) = s.split_once(' ')?;
    Some((h.parse().ok()?, r.parse().ok()?))
}

/// The history, oldest first.
pub async fn history(cache: &Cache, rollups: &LocalRollups) -> Vec<Point> {
    match cache.redis() {
        None => rollups
            .points
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect(),
        Some(redis) => {
            let raw: Vec<String> = redis
                .query(redis::cmd("LRANGE").arg(POINTS).arg(0).arg(KEEP - 1))
                .await
                .unwrap_or_default();
            let mut points: Vec<Point> = raw
                .iter()
                .filter_map(|p| serde_json::from_str(p).ok())
                .collect();
            points.reverse();
            points
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roll_up_sums_progress_and_survives_restarts() {
        let prev = HashMap::from([("a".to_string(), (10, 20)), ("b".to_string(), (50, 60))]);
        // a moved on by 5 of 8; b restarted (its counters fell) with 3 of 4; c is new with 1 of 1.
        let current = HashMap::from([
            ("a".to_string(), (15, 28)),
            ("b".to_string(), (3, 4)),
            ("c".to_string(), (1, 1)),
        ]);
        let (sum, next) = fold(&prev, &current);
        assert_eq!(sum, (9, 13));
        assert_eq!(next, current);
        let p = point(1_000, Duration::from_secs(10), sum, 3);
        assert!((p.requests_per_s - 1.3).abs() < 1e-9);
        assert!((p.hit_rate.unwrap() - 9.0 / 13.0).abs() < 1e-9);
        assert_eq!(point(0, Duration::from_secs(10), (0, 0), 1).hit_rate, None);
    }
}
