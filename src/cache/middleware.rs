//! The response cache for the family-scoped `GET /api/*` routes: the key is method, route
//! template, sorted query and family (with the family's tag version); only 200s without
//! `Set-Cookie` are stored; a burst of misses for one key computes once (moka coalesces
//! the loads). Adds `X-Cache`, `Cache-Status` (RFC 9211), `Server-Timing`, `ETag` and
//! `Cache-Control: private, no-cache`, and answers a current `If-None-Match` with 304.

use super::stats::Outcome;
use super::{Cache, CachedResponse, Lookup};
use crate::auth;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest body the cache keeps.
const MAX_CACHED_BODY: usize = 1024 * 1024;

/// The two request headers the cache reads.
struct Conditions {
    if_none_match: Option<HeaderValue>,
    cache_control: Option<HeaderValue>,
}

fn not_modified(conditions: &Conditions, etag: &HeaderValue) -> bool {
    let etag = etag.as_bytes();
    conditions
        .if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t.trim_start_matches("W/").as_bytes() == etag || t == "*"
            })
        })
}

/// Why a computed answer was not stored; kept as bytes so it can be shared.
#[derive(Debug)]
struct Uncacheable {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

fn rebuild(u: &Uncacheable) -> Response {
    let mut r = Response::new(Body::from(u.body.clone()));
    *r.status_mut() = u.status;
    *r.headers_mut() = u.headers.clone();
    r
}

async fn run_and_capture(
    request: Request,
    next: Next,
    ttl: Duration,
) -> Result<Arc<CachedResponse>, Uncacheable> {
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_CACHED_BODY * 4)
        .await
        .unwrap_or_default();
    let cacheable = parts.status == StatusCode::OK
        && !parts.headers.contains_key(header::SET_COOKIE)
        && body.len() <= MAX_CACHED_BODY;
    if !cacheable {
        return Err(Uncacheable {
            status: parts.status,
            headers: parts.headers,
            body,
        });
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/json"));
    Ok(Arc::new(CachedResponse::new(content_type, body, ttl)))
}

/// Where an answer came from, for `Cache-Status` and `Server-Timing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Detail {
    L1,
    L1Revalidating,
    L2,
    Miss,
    Refresh,
    StaleIfError,
    RedisDown,
}

impl Detail {
    fn as_str(self) -> &'static str {
        match self {
            Detail::L1 => "l1",
            Detail::L1Revalidating => "l1-revalidating",
            Detail::L2 => "l2",
            Detail::Miss => "miss",
            Detail::Refresh => "refresh",
            Detail::StaleIfError => "stale-if-error",
            Detail::RedisDown => "redis-down",
        }
    }

    /// RFC 9211 `Cache-Status`, one static string per case.
    fn cache_status(self, outcome: Outcome) -> &'static str {
        match (outcome, self) {
            (Outcome::Miss, _) => "hearth; fwd=miss; stored",
            (Outcome::Bypass, _) => "hearth; fwd=bypass; detail=redis-down",
            (_, Detail::L1) => "hearth; hit; detail=l1",
            (_, Detail::L1Revalidating) => "hearth; hit; detail=l1-revalidating",
            (_, Detail::L2) => "hearth; hit; detail=l2",
            (_, Detail::StaleIfError) => "hearth; hit; detail=stale-if-error",
            (_, _) => "hearth; hit",
        }
    }
}

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
const CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

fn respond(
    conditions: &Conditions,
    entry: &CachedResponse,
    outcome: Outcome,
    detail: Detail,
    cache_time: Duration,
    started: Instant,
) -> Response {
    let mut response = if not_modified(conditions, &entry.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(entry.body.clone()));
        r.headers_mut().reserve(16);
        r.headers_mut()
            .insert(header::CONTENT_TYPE, entry.content_type.clone());
        r
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, entry.etag.clone());
    cache_headers(h, outcome, detail, cache_time, started);
    response
}

fn cache_headers(
    h: &mut HeaderMap,
    outcome: Outcome,
    detail: Detail,
    cache_time: Duration,
    started: Instant,
) {
    use std::fmt::Write as _;
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(X_CACHE, HeaderValue::from_static(outcome.header()));
    h.insert(
        CACHE_STATUS,
        HeaderValue::from_static(detail.cache_status(outcome)),
    );
    let mut timing = String::with_capacity(64);
    let _ = write!(
        timing,
        "cache;desc=\"{}\";dur={}, total;dur={}",
        detail.as_str(),
        Millis(cache_time),
        Millis(started.elapsed())
    );
    if let Ok(v) = HeaderValue::try_from(timing) {
        h.insert(SERVER_TIMING, v);
    }
}

/// A duration in milliseconds with three decimals, written with integer arithmetic (float
/// formatting is a measurable share of a cache hit).
struct Millis(Duration);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let us = self.0.as_micros();
        write!(f, "{}.{:03}", us / 1000, us % 1000)
    }
}

/// The response cache. A hit is answered here with no other future awaited but the L1
/// lookup; everything else (signing in from the store, asking Redis for a version, a
/// refresh, L2, a miss) runs in boxed futures, so the state of this one stays small: it is
/// created and moved through the middleware stack on every request.
pub async fn response_cache(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let member = match auth::cached_member(&state, request.headers()) {
        Some(m) => m,
        None => match Box::pin(auth::family_member(&state, request.headers())).await {
            Ok(m) => m,
            Err(e) => return e.into_response(),
        },
    };
    let Some(matched) = request.extensions().get::<MatchedPath>().cloned() else {
        // Only mounted on routes, which always have a template.
        return Box::pin(next.run(request)).await;
    };
    let route = matched.as_str();
    let family = member.family.id;
    // Today (in the family's time zone) is part of the key: answers that depend on the date
    // ("this month", forecasts) never outlive their day.
    let today = crate::service::budget::today(&member.family);
    request.extensions_mut().insert(member);
    let cache: &Arc<Cache> = &state.cache;
    // Only the two request headers the cache reads, not a copy of them all.
    let conditions = Conditions {
        if_none_match: request.headers().get(header::IF_NONE_MATCH).cloned(),
        cache_control: request.headers().get(header::CACHE_CONTROL).cloned(),
    };

    let tag = super::family_tag(family);
    let lookup = match cache.version_at_hand(&tag) {
        Some(lookup) => lookup,
        None => Box::pin(cache.version(&tag)).await,
    };
    let (version, degraded) = match lookup {
        Lookup::Current(v) => (v, false),
        Lookup::Degraded(v) => (v, true),
    };
    let key = Cache::key(family, version, today, route, request.uri().query());
    let ttl = super::ttl_for(route, cache.default_ttl());

    // `Cache-Control: no-cache` from the client: compute afresh (and store the result).
    let refresh = conditions
        .cache_control
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-cache"));

    if !refresh {
        if let Some(entry) = cache.get_l1(&key).await {
            let outcome = if degraded {
                Outcome::Stale
            } else {
                Outcome::Hit
            };
            let mut detail = Detail::L1;
            if !degraded && entry.wants_refresh() && cache.start_refresh(&key) {
                detail = Detail::L1Revalidating;
                revalidate(state.clone(), key, request, next, ttl);
            }
            let cache_time = started.elapsed();
            cache.stats.record(route, outcome, cache_time);
            return respond(&conditions, &entry, outcome, detail, cache_time, started);
        }
    }
    let past_l1 = PastL1 {
        key,
        ttl,
        conditions,
        started,
        degraded,
        refresh,
    };
    Box::pin(past_l1.answer(state.clone(), matched, request, next)).await
}

/// A request the L1 could not answer, with what the cache worked out for it.
struct PastL1 {
    key: String,
    ttl: Duration,
    conditions: Conditions,
    started: Instant,
    degraded: bool,
    refresh: bool,
}

impl PastL1 {
    async fn answer(
        self,
        state: AppState,
        matched: MatchedPath,
        request: Request,
        next: Next,
    ) -> Response {
        let (ttl, started, degraded, refresh) =
            (self.ttl, self.started, self.degraded, self.refresh);
        let (key, conditions) = (self.key.as_str(), &self.conditions);
        let route = matched.as_str();
        let cache: &Arc<Cache> = &state.cache;
        let fresh = Computed {
            cache,
            key,
            route,
            conditions,
            started,
        };
        if refresh && !degraded {
            return match run_and_capture(request, next, ttl).await {
                Ok(entry) => fresh.store_and_respond(entry, Detail::Refresh).await,
                Err(uncacheable) => {
                    stale_if_error(cache, key, route, conditions, &uncacheable, started).await
                }
            };
        }

        if degraded {
            // The version cannot be checked: answer from the database and keep nothing.
            let response = next.run(request).await;
            let (mut parts, body) = response.into_parts();
            cache_headers(
                &mut parts.headers,
                Outcome::Bypass,
                Detail::RedisDown,
                Duration::ZERO,
                started,
            );
            cache
                .stats
                .record(route, Outcome::Bypass, started.elapsed());
            return Response::from_parts(parts, body);
        }

        if let Some(entry) = cache.get_l2(key, ttl).await {
            let cache_time = started.elapsed();
            cache.stats.record(route, Outcome::Hit, cache_time);
            return respond(
                conditions,
                &entry,
                Outcome::Hit,
                Detail::L2,
                cache_time,
                started,
            );
        }

        // A miss: one request computes, concurrent ones for the same key wait for it.
        let mut slot = Some((request, next));
        let computed = {
            let slot = &mut slot;
            cache
                .l1_load(key, async move {
                    let (request, next) = slot.take().expect("the loader runs once");
                    run_and_capture(request, next, ttl).await
                })
                .await
        };
        match computed {
            Ok(entry) => fresh.store_and_respond(entry, Detail::Miss).await,
            Err(uncacheable) => match slot.take() {
                // Another request's answer could not be shared: compute our own.
                Some((request, next)) => next.run(request).await,
                None => stale_if_error(cache, key, route, conditions, &uncacheable, started).await,
            },
        }
    }
}

/// Where a freshly computed answer goes.
#[derive(Clone, Copy)]
struct Computed<'a> {
    cache: &'a Cache,
    key: &'a str,
    route: &'a str,
    conditions: &'a Conditions,
    started: Instant,
}

impl Computed<'_> {
    /// Stores the answer (a miss, or a refresh the client asked for) and sends it.
    async fn store_and_respond(self, entry: Arc<CachedResponse>, detail: Detail) -> Response {
        self.cache.put(self.key, entry.clone()).await;
        let elapsed = self.started.elapsed();
        self.cache.stats.record(self.route, Outcome::Miss, elapsed);
        respond(
            self.conditions,
            &entry,
            Outcome::Miss,
            detail,
            Duration::ZERO,
            self.started,
        )
    }
}

/// Stale-while-revalidate: the entry was served; compute its successor in the background
/// (the request is a GET, so its head is all it needs) and store it under the same key.
fn revalidate(state: AppState, key: String, request: Request, next: Next, ttl: Duration) {
    let (parts, _) = request.into_parts();
    tokio::spawn(async move {
        let request = Request::from_parts(parts, Body::empty());
        if let Ok(entry) = run_and_capture(request, next, ttl).await {
            state.cache.put(&key, entry).await;
        }
        state.cache.end_refresh(&key);
    });
}

/// A server error while computing: the last good answer for this request, marked `STALE`,
/// is better than an error; without one the error goes out as it is.
async fn stale_if_error(
    cache: &Cache,
    key: &str,
    route: &str,
    conditions: &Conditions,
    failed: &Uncacheable,
    started: Instant,
) -> Response {
    if failed.status.is_server_error() {
        if let Some(entry) = cache.last_good(key).await {
            tracing::warn!(route, status = %failed.status, "serving the last good answer (stale-if-error)");
            cache.stats.record(route, Outcome::Stale, started.elapsed());
            return respond(
                conditions,
                &entry,
                Outcome::Stale,
                Detail::StaleIfError,
                Duration::ZERO,
                started,
            );
        }
    }
    rebuild(failed)
}

#[cfg(test)]
mod tests {
    use super::Millis;
    use std::time::Duration;

    #[test]
    fn server_timing_durations_are_milliseconds_with_three_decimals() {
        assert_eq!(Millis(Duration::from_micros(12_345)).to_string(), "12.345");
        assert_eq!(Millis(Duration::from_micros(7)).to_string(), "0.007");
        assert_eq!(Millis(Duration::from_nanos(999)).to_string(), "0.000");
        assert_eq!(Millis(Duration::from_secs(2)).to_string(), "2000.000");
    }
}
