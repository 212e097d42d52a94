//! `/api/admin/*`: statistics and cache actions, for admins (`ADMIN_EMAILS`) only.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::health_score::{self, Inputs};
use crate::json::ApiJson;
use crate::state::AppState;
use app::model::ErrorBody;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// A signed-in admin.
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if state.settings.is_admin(&current.user.email) {
            Ok(Admin(current))
        } else {
            Err(ApiError::Forbidden(
                "forbidden",
                "Only admins may do this.".into(),
            ))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub cache: CacheSection,
    pub realtime: RealtimeSection,
    pub redis: RedisSection,
    pub system: SystemSection,
    /// The analytics roll-ups of every server together, oldest first (an extension of the
    /// contract's shape).
    pub history: Vec<crate::rollup::Point>,
}

#[derive(Serialize, ToSchema)]
pub struct CacheSection {
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub l1_entries: u64,
    pub per_endpoint: Vec<EndpointSection>,
}

#[derive(Serialize, ToSchema)]
pub struct EndpointSection {
    pub route: String,
    pub hits: u64,
    pub misses: u64,
    pub hit_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// This server's WebSocket figures. `deliver_p99_ms` is `null` until a frame was delivered.
#[derive(Serialize, ToSchema)]
pub struct RealtimeSection {
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
    pub recovery_failures: u64,
    /// Clients closed with 4008 for not keeping up.
    pub slow_clients_closed: u64,
}

#[derive(Serialize, ToSchema)]
pub struct RedisSection {
    pub mode: &'static str,
    pub status: &'static str,
    pub used_memory_bytes: Option<u64>,
    pub ops_per_s: Option<u64>,
    pub keyspace_hit_rate: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct SystemSection {
    pub uptime_s: u64,
    pub rss_bytes: Option<u64>,
    pub health_score: u8,
    pub status: &'static str,
}

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

pub async fn collect(state: &AppState) -> Stats {
    let endpoints = state.cache.stats.snapshot();
    let (hits, requests) = state.cache.stats.totals();
    let misses = requests - hits;
    let hit_rate = if requests == 0 {
        0.0
    } else {
        hits as f64 / requests as f64
    };
    let worst_p99_ms = endpoints.iter().map(|e| e.p99_ms).fold(0.0, f64::max);

    let redis = match state.cache.redis() {
        None => RedisSection {
            mode: "embedded",
            status: "disabled",
            used_memory_bytes: None,
            ops_per_s: None,
            keyspace_hit_rate: None,
        },
        Some(link) => {
            let info = link.info().await.ok();
            let field = |name| info.as_deref().and_then(|i| info_field(i, name));
            let keyspace_hit_rate = match (field("keyspace_hits"), field("keyspace_misses")) {
                (Some(h), Some(m)) if h + m > 0 => Some(h as f64 / (h + m) as f64),
                _ => None,
            };
            RedisSection {
                mode: link.mode(),
                status: if link.is_up() { "up" } else { "down" },
                used_memory_bytes: field("used_memory"),
                ops_per_s: field("instantaneous_ops_per_sec"),
                keyspace_hit_rate,
            }
        }
    };
    let db_up = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let (health_score, status) = health_score::score(Inputs {
        db_up,
        redis_up: state.cache.redis().map(|l| l.is_up()),
        cache_requests: requests,
        hit_rate,
        worst_p99_ms,
    });
    Stats {
        cache: CacheSection {
            hits,
            misses,
            hit_rate,
            l1_entries: state.cache.l1_entries().await,
            per_endpoint: endpoints
                .into_iter()
                .map(|e| EndpointSection {
                    route: e.route,
                    hits: e.hits + e.stale,
                    misses: e.misses + e.bypass,
                    hit_rate: e.hit_rate,
                    p50_ms: e.p50_ms,
                    p99_ms: e.p99_ms,
                })
                .collect(),
        },
        realtime: {
            use std::sync::atomic::Ordering::Relaxed;
            let m = &state.hub.metrics;
            let rates = m.current_rates();
            RealtimeSection {
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
        system: SystemSection {
            uptime_s: state.started.elapsed().as_secs(),
            rss_bytes: rss_bytes(),
            health_score,
            status: status.as_str(),
        },
        history: crate::rollup::history(state).await,
    }
}

#[utoipa::path(get, path = "/api/admin/stats", tag = "admin",
    responses(
        (status = 200, description = "Measured figures and the health score", body = Stats),
        (status = 403, description = "Not an admin", body = ErrorBody)))]
pub async fn stats(State(state): State<AppState>, _admin: Admin) -> Json<Stats> {
    Json(collect(&state).await)
}

#[derive(Deserialize, ToSchema)]
pub struct ClearRequest {
    /// `family:<id>`; everything when absent.
    #[serde(default)]
    pub tag: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Cleared {
    /// Entries dropped from this server's in-process cache; Redis entries of the tag become
    /// unreachable at once on every server.
    pub cleared: u64,
}

#[utoipa::path(post, path = "/api/admin/cache/clear", tag = "admin", request_body = ClearRequest,
    responses(
        (status = 200, description = "Cleared", body = Cleared),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Not a tag", body = ErrorBody)))]
pub async fn clear_cache(
    State(state): State<AppState>,
    _admin: Admin,
    ApiJson(req): ApiJson<ClearRequest>,
) -> ApiResult<Json<Cleared>> {
    let tag = match req.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => {
            let id = t
                .strip_prefix("family:")
                .and_then(|id| uuid::Uuid::parse_str(id).ok())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "tag",
                        "use family:<id>, or leave it out to clear everything",
                    )
                })?;
            Some(crate::cache::family_tag(id))
        }
    };
    Ok(Json(Cleared {
        cleared: state.cache.clear(tag.as_deref()).await,
    }))
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
