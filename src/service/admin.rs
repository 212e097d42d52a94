//! The admin's figures of this server, as `GET /api/admin/stats` answers them: the cache,
//! the hub, Redis, the process and the health score, read from the counters the monitor and
//! `/metrics` share; the monitor's loop (`jobs`) asks for the figures of now every second.

use crate::monitor;
use crate::monitor::health_score::{self, Inputs};
use crate::state::AppState;
use app::stats::{AdminStats, CacheStats, EndpointStats, RealtimeStats, RedisStats, SystemStats};
use std::time::Duration;

fn info_field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// Resident memory of this process, from `/proc` (Linux).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Whether the database answers within a second.
pub async fn db_up(state: &AppState) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), state.store.ping()).await,
        Ok(Ok(()))
    )
}

/// Each cacheable endpoint's figures since start (stale serves count as hits, bypasses as
/// misses).
pub fn endpoints(state: &AppState) -> Vec<EndpointStats> {
    state
        .cache
        .stats
        .snapshot()
        .into_iter()
        .map(|e| EndpointStats {
            route: e.route,
            hits: e.hits + e.stale,
            misses: e.misses + e.bypass,
            hit_rate: e.hit_rate,
            p50_ms: e.p50_ms,
            p99_ms: e.p99_ms,
        })
        .collect()
}

async fn redis_stats(state: &AppState) -> RedisStats {
    let Some(link) = state.cache.redis() else {
        return RedisStats {
            mode: "embedded".into(),
            status: "disabled".into(),
            ..RedisStats::default()
        };
    };
    let info = if link.is_up() {
        link.info().await.ok()
    } else {
        None
    };
    let field = |name| info.as_deref().and_then(|i| info_field(i, name));
    let keyspace_hit_rate = match (field("keyspace_hits"), field("keyspace_misses")) {
        (Some(h), Some(m)) if h + m > 0 => Some(h as f64 / (h + m) as f64),
        _ => None,
    };
    RedisStats {
        mode: link.mode().into(),
        status: if link.is_up() { "up" } else { "down" }.into(),
        used_memory_bytes: field("used_memory"),
        ops_per_s: field("instantaneous_ops_per_sec"),
        keyspace_hit_rate,
        keys: state.monitor.keys(),
    }
}

/// Everything `GET /api/admin/stats` answers, the last 15 minutes and the roll-ups included.
pub async fn collect(state: &AppState) -> AdminStats {
    let db_up = db_up(state).await;
    AdminStats {
        series: state.monitor.series(),
        history: crate::monitor::rollup::history(&state.cache, &state.rollups).await,
        ..collect_with(state, db_up).await
    }
}

/// The figures of now (no series, no roll-ups), with the database's answer already known:
/// the monitor asks once a second for its alerts and its `metrics` event.
pub async fn collect_with(state: &AppState, db_up: bool) -> AdminStats {
    let per_endpoint = endpoints(state);
    let (hits, requests) = state.cache.stats.totals();
    let stale = state.cache.stats.stale_total();
    let hit_rate = if requests == 0 {
        0.0
    } else {
        hits as f64 / requests as f64
    };
    let worst_p99_ms = per_endpoint.iter().map(|e| e.p99_ms).fold(0.0, f64::max);
    let redis = redis_stats(state).await;
    let redis_up = state.cache.redis().map(|l| l.is_up());
    let (health_score, status) = health_score::score(Inputs {
        db_up,
        redis_up,
        cache_requests: requests,
        hit_rate,
        worst_p99_ms,
    });
    let minute = state.monitor.minute();
    let hints = monitor::findings(&monitor::RuleInputs {
        db_up,
        redis_up,
        minute: &minute,
        endpoints: &per_endpoint,
    });
    let (latest, error_rate, cpu_percent) = state.monitor.latest();
    let (pool_size, pool_idle) = state.store.pool_use();
    AdminStats {
        cache: CacheStats {
            hits,
            misses: requests - hits,
            hit_rate,
            l1_entries: state.cache.l1_entries().await,
            stale,
            per_endpoint,
        },
        realtime: {
            use std::sync::atomic::Ordering::Relaxed;
            let m = &state.hub.metrics;
            let rates = m.current_rates();
            RealtimeStats {
                connections: state.hub.connection_count() as u64,
                users_online: state.hub.presence.local_users() as u64,
                messages_in_per_s: rates.in_per_s,
                messages_out_per_s: rates.out_per_s,
                deliver_p99_ms: m.deliver_p99_ms(),
                reconnects: m.recoveries.load(Relaxed) + m.recovery_failures.load(Relaxed),
                recovery_failures: m.recovery_failures.load(Relaxed),
                slow_clients_closed: m.slow_closed.load(Relaxed),
            }
        },
        redis,
        system: SystemStats {
            uptime_s: state.started.elapsed().as_secs(),
            rss_bytes: rss_bytes(),
            health_score,
            status: status.as_str().into(),
            cpu_percent,
            db_pool_size: pool_size,
            db_pool_in_use: pool_size.saturating_sub(pool_idle),
            requests_per_s: latest.map_or(0.0, |s| s.requests_per_s),
            error_rate,
        },
        frontend: state.monitor.pages(),
        hints,
        series: Vec::new(),
        history: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_are_read_by_name() {
        let info = "# Memory\r\nused_memory:1024\r\nused_memory_human:1K\r\ninstantaneous_ops_per_sec:7\r\n";
        assert_eq!(info_field(info, "used_memory"), Some(1024));
        assert_eq!(info_field(info, "instantaneous_ops_per_sec"), Some(7));
        assert_eq!(info_field(info, "missing"), None);
    }
}
