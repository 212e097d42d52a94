//! The response cache for the family-scoped `GET /api/*` routes: the key is method, route
//! template, sorted query and family (with the family's tag version); only 200s without
//! `Set-Cookie` are stored; a burst of misses for one key computes once (moka coalesces
//! the loads). An answer is the entry's representation `Accept-Encoding` prefers (brotli,
//! gzip or identity, compressed when the entry was made: `crate::cache::coding`), with its own
//! `ETag`, `Vary: accept-encoding`, `X-Cache`, `Cache-Status` (RFC 9211), `Server-Timing`
//! and `Cache-Control: private, no-cache`; a current `If-None-Match` gets 304.

use crate::auth::FamilyMember;
use crate::cache::coding::Accepted;
use crate::cache::stats::Outcome;
use crate::cache::{Cache, CachedResponse, Lookup};
use crate::monitor::telemetry::RequestLabel;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get_service, MethodRouter};
use futures::future::{ready, Either, Ready};
use futures::FutureExt as _;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt as _};

/// Largest body the cache keeps.
const MAX_CACHED_BODY: usize = 1024 * 1024;

/// The request headers the cache reads.
#[derive(Clone)]
pub(crate) struct Conditions {
    if_none_match: Option<HeaderValue>,
    cache_control: Option<HeaderValue>,
    accepted: Accepted,
}

impl Conditions {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        Self {
            if_none_match: headers.get(header::IF_NONE_MATCH).cloned(),
            cache_control: headers.get(header::CACHE_CONTROL).cloned(),
            accepted: Accepted::parse(headers.get(header::ACCEPT_ENCODING)),
        }
    }

    /// `Cache-Control: no-cache` from the client: compute afresh (and store the result).
    pub(crate) fn wants_fresh(&self) -> bool {
        self.cache_control
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-cache"))
    }

    /// Whether `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2).
    fn not_modified(&self, etag: &HeaderValue) -> bool {
        let etag = etag.as_bytes();
        self.if_none_match
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',').any(|t| {
                    let t = t.trim();
                    t.trim_start_matches("W/").as_bytes() == etag || t == "*"
                })
            })
    }

    /// The answer for `entry` in the coding the request prefers: 200 with the body and its
    /// `Content-Type`, 304 when `If-None-Match` names that representation, 406 when the
    /// request accepts none of them. Carries the representation's `ETag` and `Vary`.
    pub(crate) fn answer(&self, entry: &CachedResponse) -> Response {
        let Some(coding) = self
            .accepted
            .choose(|c| Some(entry.representation(c).0.len()))
        else {
            return not_acceptable();
        };
        let (body, etag) = entry.representation(coding);
        let mut response = if self.not_modified(etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut r = Response::new(Body::from(body.clone()));
            r.headers_mut().reserve(16);
            r.headers_mut()
                .insert(header::CONTENT_TYPE, entry.content_type.clone());
            if let Some(encoding) = coding.header() {
                r.headers_mut().insert(header::CONTENT_ENCODING, encoding);
            }
            r
        };
        let h = response.headers_mut();
        h.insert(header::ETAG, etag.clone());
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        response
            .extensions_mut()
            .insert(crate::http::compress::Negotiated);
        response
    }
}

/// 406: the request's `Accept-Encoding` excludes every coding the answer exists in.
fn not_acceptable() -> Response {
    let mut response = crate::error::ApiError::NotAcceptable.into_response();
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Why a computed answer (or a rendered page, `super::page_cache`) was not stored; kept as bytes
/// so it can be shared with the requests that waited for it.
#[derive(Debug)]
pub(crate) struct Uncacheable {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Uncacheable {
    pub(crate) fn new(parts: axum::http::response::Parts, body: Bytes) -> Self {
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub(crate) fn rebuild(&self) -> Response {
        let mut r = Response::new(Body::from(self.body.clone()));
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers.clone();
        r
    }
}

async fn run_and_capture(
    request: Request,
    inner: Inner,
    ttl: Duration,
) -> Result<Arc<CachedResponse>, Uncacheable> {
    let response = run(inner, request).await;
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_CACHED_BODY * 4)
        .await
        .unwrap_or_default();
    let cacheable = parts.status == StatusCode::OK
        && !parts.headers.contains_key(header::SET_COOKIE)
        && body.len() <= MAX_CACHED_BODY;
    if !cacheable {
        return Err(Uncacheable::new(parts, body));
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
pub(crate) const CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

fn respond(
    conditions: &Conditions,
    entry: &CachedResponse,
    outcome: Outcome,
    detail: Detail,
    cache_time: Duration,
    total: Duration,
) -> Response {
    let mut response = conditions.answer(entry);
    cache_headers(response.headers_mut(), outcome, detail, cache_time, total);
    response
}

fn cache_headers(
    h: &mut HeaderMap,
    outcome: Outcome,
    detail: Detail,
    cache_time: Duration,
    total: Duration,
) {
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
    timing.push_str("cache;desc=\"");
    timing.push_str(detail.as_str());
    timing.push_str("\";dur=");
    push_millis(&mut timing, cache_time);
    timing.push_str(", total;dur=");
    push_millis(&mut timing, total);
    if let Ok(v) = HeaderValue::try_from(timing) {
        h.insert(SERVER_TIMING, v);
    }
}

/// Appends a duration in milliseconds with three decimals, without the formatting
/// machinery (it is a measurable share of a cache hit).
fn push_millis(out: &mut String, duration: Duration) {
    let us = duration.as_micros();
    out.push_str(itoa::Buffer::new().format(us / 1000));
    out.push('.');
    let fraction = (us % 1000) as u16;
    for digit in [fraction / 100, fraction / 10 % 10, fraction % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
}

/// The route a cached handler's answers come from, once past L1 (boxed only there).
type Inner = BoxCloneSyncService<Request, Response, Infallible>;

/// A cached `GET` route: the response cache around the handler itself, so a request passes
/// no route layer (axum boxes and clones each one per request) between the router and it.
pub fn cached<H, T>(state: &AppState, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    get_service(ResponseCache {
        inner: handler.with_state(state.clone()),
        state: state.clone(),
    })
}

#[derive(Clone)]
pub struct ResponseCache<S> {
    inner: S,
    state: AppState,
}

type Answer = Result<Response, Infallible>;

impl<S> Service<Request> for ResponseCache<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + Send>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    /// A current L1 entry for a member this server knows, under a tag version it has at
    /// hand, is answered right here, with nothing awaited, nothing boxed and the handler
    /// untouched; everything else goes the whole way in a future of its own, with what was
    /// worked out here.
    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let planned = match request.extensions_mut().remove::<AskedAtTheDoor>() {
            // The front door asked already and could not answer: go on from what it found.
            Some(AskedAtTheDoor(planned)) => planned,
            None => {
                let route = request.extensions().get::<MatchedPath>().cloned();
                let route = route.as_ref().map(MatchedPath::as_str);
                match route.map(|route| at_once(&self.state, &request, route, started)) {
                    Some(AtOnce::Answered(response)) => return Either::Left(ready(Ok(response))),
                    Some(AtOnce::Planned(planned)) => Some(planned),
                    Some(AtOnce::Unplanned) | None => None,
                }
            }
        };
        let (state, inner) = (self.state.clone(), Inner::new(self.inner.clone()));
        Either::Right(Box::pin(async move {
            Ok(response_cache(state, request, inner, started, planned).await)
        }))
    }
}

/// The response cache's front door, in front of the router (and of compression, since
/// what it answers is compressed already): a `GET` of a page goes through the pages cache
/// (`super::page_cache`); a `GET` of a cached read that L1 can answer at once (see `at_once`) is
/// answered here, with the guard's work done
/// (`security::answered_early`: counted, logged, security headers), without routing it
/// and passing it through the per-route layers; anything else goes to the router, carrying
/// what the door found (`AskedAtTheDoor`) so the route's cache does not ask again. On a
/// `wrk` run of L1 hits it took 1.1 µs of user time off each request (BENCHMARKS.md, cache
/// run 8).
#[derive(Clone)]
pub struct FrontDoor<S> {
    inner: S,
    state: AppState,
}

impl<S> FrontDoor<S> {
    pub fn new(inner: S, state: AppState) -> Self {
        Self { inner, state }
    }
}

impl<S> Service<Request> for FrontDoor<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<Either<Ready<Answer>, Pin<Box<dyn Future<Output = Answer> + Send>>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(page) = super::page_cache::route_of(&request) {
            // The ready service renders; a clone takes its place for the next request.
            let inner = self.inner.clone();
            let inner = std::mem::replace(&mut self.inner, inner);
            let (state, label) = (self.state.clone(), RequestLabel::get(page));
            return Either::Left(Either::Right(Box::pin(async move {
                Ok(
                    match super::page_cache::serve(&state, request, inner, page).await {
                        // A hit: the guard's work is done here, as for the API's hits.
                        super::page_cache::Served::FromCache(response) => {
                            crate::http::security::answered_early(&state, label, response)
                        }
                        super::page_cache::Served::Routed(response) => response,
                    },
                )
            })));
        }
        let route = (request.method() == Method::GET)
            .then(|| request.uri().path())
            .and_then(|path| {
                crate::cache::paths::FRONT_DOOR
                    .into_iter()
                    .find(|r| *r == path)
            });
        if let Some(route) = route {
            let label = RequestLabel::get(route);
            let planned = match at_once(&self.state, &request, route, label.started()) {
                AtOnce::Answered(response) => {
                    let response =
                        crate::http::security::answered_early(&self.state, label, response);
                    return Either::Left(Either::Left(ready(Ok(response))));
                }
                AtOnce::Planned(planned) => Some(planned),
                AtOnce::Unplanned => None,
            };
            request.extensions_mut().insert(AskedAtTheDoor(planned));
        }
        Either::Right(self.inner.call(request))
    }
}

/// What the front door found for a request it could not answer, for the route's cache.
#[derive(Clone)]
struct AskedAtTheDoor(Option<Planned>);

/// How far the cache got without awaiting.
enum AtOnce {
    Answered(Response),
    /// Member and tag version were at hand; the rest is worked out.
    Planned(Planned),
    /// Signing in or the tag version needs the store or Redis.
    Unplanned,
}

/// What the cache worked out without awaiting, when that did not answer the request.
#[derive(Clone)]
struct Planned {
    member: FamilyMember,
    plan: Plan,
    l1: L1,
}

/// What L1 said, if it was asked.
#[derive(Clone)]
enum L1 {
    /// Not asked yet (moka's maintenance was busy, or nothing was planned).
    Unasked,
    /// Nothing for this key, or the client asked for a fresh answer.
    Missing,
    /// An entry that wants revalidating.
    Found(Arc<CachedResponse>),
}

/// The hit path without awaiting (moka's lookup completes at once unless its maintenance
/// is busy).
fn at_once(state: &AppState, request: &Request, route: &str, started: Instant) -> AtOnce {
    let Some(member) = crate::http::member::cached_member(state, request.headers(), started) else {
        return AtOnce::Unplanned;
    };
    let cache: &Cache = &state.cache;
    let Some(lookup) = cache.version_at_hand(&crate::cache::family_tag(member.family.id)) else {
        return AtOnce::Unplanned;
    };
    let plan = Plan::new(cache, &member, route, lookup, request, started);
    let l1 = if plan.refresh {
        L1::Missing
    } else {
        match cache.get_l1(&plan.key, started).now_or_never() {
            None => L1::Unasked,
            Some(None) => L1::Missing,
            Some(Some(entry)) if plan.degraded || !entry.wants_refresh(started) => {
                return AtOnce::Answered(plan.answer_from_l1(cache, route, &entry, Detail::L1));
            }
            Some(Some(entry)) => L1::Found(entry),
        }
    };
    AtOnce::Planned(Planned { member, plan, l1 })
}

/// The response cache's whole way: signing in from the store, asking Redis for a version,
/// L1 with revalidation, L2, a miss.
async fn response_cache(
    state: AppState,
    mut request: Request,
    inner: Inner,
    started: Instant,
    planned: Option<Planned>,
) -> Response {
    let Some(matched) = request.extensions().get::<MatchedPath>().cloned() else {
        // Only mounted on routes, which always have a template.
        return run(inner, request).await;
    };
    let route = matched.as_str();
    let cache: &Cache = &state.cache;
    let Planned { member, plan, l1 } = match planned {
        Some(planned) => planned,
        None => {
            let member = match crate::http::member::family_member(&state, request.headers()).await {
                Ok(m) => m,
                Err(e) => return e.into_response(),
            };
            let lookup = cache
                .version(&crate::cache::family_tag(member.family.id))
                .await;
            let plan = Plan::new(cache, &member, route, lookup, &request, started);
            let l1 = if plan.refresh {
                L1::Missing
            } else {
                L1::Unasked
            };
            Planned { member, plan, l1 }
        }
    };
    request.extensions_mut().insert(member);
    let entry = match l1 {
        L1::Unasked => cache.get_l1(&plan.key, started).await,
        L1::Missing => None,
        L1::Found(entry) => Some(entry),
    };
    if let Some(entry) = entry {
        let mut detail = Detail::L1;
        if !plan.degraded && entry.wants_refresh(started) && cache.start_refresh(&plan.key) {
            detail = Detail::L1Revalidating;
            revalidate(state.clone(), plan.key.clone(), request, inner, plan.ttl);
        }
        return plan.answer_from_l1(cache, route, &entry, detail);
    }
    plan.answer(state.clone(), matched, request, inner).await
}

/// Runs the route (or router) a cache wraps.
pub(crate) async fn run<S>(inner: S, request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let Ok(response) = inner.oneshot(request).await;
    response
}

/// What the cache works out for a request before looking anything up.
#[derive(Clone)]
struct Plan {
    key: String,
    ttl: Duration,
    conditions: Conditions,
    started: Instant,
    degraded: bool,
    refresh: bool,
}

impl Plan {
    fn new(
        cache: &Cache,
        member: &FamilyMember,
        route: &str,
        lookup: Lookup,
        request: &Request,
        started: Instant,
    ) -> Self {
        // Today (in the family's time zone) is part of the key: answers that depend on the
        // date ("this month", forecasts) never outlive their day.
        let today = member.today();
        let (version, degraded) = match lookup {
            Lookup::Current(v) => (v, false),
            Lookup::Degraded(v) => (v, true),
        };
        // Only the request headers the cache reads, not a copy of them all.
        let conditions = Conditions::of(request.headers());
        let refresh = conditions.wants_fresh();
        Self {
            key: Cache::key(
                member.family.id,
                version,
                today,
                route,
                request.uri().query(),
            ),
            ttl: crate::cache::ttl_for(route, cache.default_ttl()),
            conditions,
            started,
            degraded,
            refresh,
        }
    }

    /// An answer from L1 (stale while Redis cannot confirm the version).
    fn answer_from_l1(
        &self,
        cache: &Cache,
        route: &str,
        entry: &CachedResponse,
        detail: Detail,
    ) -> Response {
        let outcome = if self.degraded {
            Outcome::Stale
        } else {
            Outcome::Hit
        };
        let cache_time = self.started.elapsed();
        cache.stats.record(route, outcome, cache_time);
        respond(
            &self.conditions,
            entry,
            outcome,
            detail,
            cache_time,
            cache_time,
        )
    }

    /// A request the L1 could not answer.
    async fn answer(
        self,
        state: AppState,
        matched: MatchedPath,
        request: Request,
        inner: Inner,
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
            return match run_and_capture(request, inner, ttl).await {
                Ok(entry) => fresh.store_and_respond(entry, Detail::Refresh).await,
                Err(uncacheable) => {
                    stale_if_error(cache, key, route, conditions, &uncacheable, started).await
                }
            };
        }

        if degraded {
            // The version cannot be checked: answer from the database and keep nothing.
            let response = run(inner, request).await;
            let (mut parts, body) = response.into_parts();
            cache_headers(
                &mut parts.headers,
                Outcome::Bypass,
                Detail::RedisDown,
                Duration::ZERO,
                started.elapsed(),
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
                cache_time,
            );
        }

        // A miss: one request computes, concurrent ones for the same key wait for it.
        let mut slot = Some((request, inner));
        let computed = {
            let slot = &mut slot;
            cache
                .l1_load(key, async move {
                    let (request, inner) = slot.take().expect("the loader runs once");
                    run_and_capture(request, inner, ttl).await
                })
                .await
        };
        match computed {
            Ok(entry) => fresh.store_and_respond(entry, Detail::Miss).await,
            Err(uncacheable) => match slot.take() {
                // Another request's answer could not be shared: compute our own.
                Some((request, inner)) => run(inner, request).await,
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
            elapsed,
        )
    }
}

/// Stale-while-revalidate: the entry was served; compute its successor in the background
/// (the request is a GET, so its head is all it needs) and store it under the same key.
fn revalidate(state: AppState, key: String, request: Request, inner: Inner, ttl: Duration) {
    let (parts, _) = request.into_parts();
    tokio::spawn(async move {
        let request = Request::from_parts(parts, Body::empty());
        if let Ok(entry) = run_and_capture(request, inner, ttl).await {
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
            let elapsed = started.elapsed();
            cache.stats.record(route, Outcome::Stale, elapsed);
            return respond(
                conditions,
                &entry,
                Outcome::Stale,
                Detail::StaleIfError,
                Duration::ZERO,
                elapsed,
            );
        }
    }
    failed.rebuild()
}

#[cfg(test)]
mod tests {
    use super::push_millis;
    use std::time::Duration;

    fn millis(d: Duration) -> String {
        let mut s = String::new();
        push_millis(&mut s, d);
        s
    }

    #[test]
    fn server_timing_durations_are_milliseconds_with_three_decimals() {
        assert_eq!(millis(Duration::from_micros(12_345)), "12.345");
        assert_eq!(millis(Duration::from_micros(7)), "0.007");
        assert_eq!(millis(Duration::from_nanos(999)), "0.000");
        assert_eq!(millis(Duration::from_secs(2)), "2000.000");
        assert_eq!(millis(Duration::from_micros(1_050)), "1.050");
    }
}
