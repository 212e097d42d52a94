//! Cross-cutting HTTP protections: the Origin check for state-changing requests and the
//! security headers every response carries.

use crate::error::ApiError;
use crate::monitor::telemetry::RequestLabel;
use crate::state::AppState;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// One tower layer for the protections and the request log: the Origin check, the
/// request's count, time and (when logging) span, then the security headers on the answer.
/// A hand-written service rather than `middleware::from_fn`: it calls the route it wraps
/// directly, without cloning it or boxing a future per request.
#[derive(Clone)]
pub struct GuardLayer(AppState);

impl GuardLayer {
    pub fn new(state: AppState) -> Self {
        Self(state)
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            state: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Guard<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = GuardFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if let Some(mut refused) = origin_refusal(&request) {
            security_headers(refused.headers_mut());
            return GuardFuture::Refused {
                response: Some(refused),
            };
        }
        let label = RequestLabel::of(&request);
        let answer = self.inner.call(request);
        let state = self.state.clone();
        if crate::monitor::telemetry::logging_requests() {
            return GuardFuture::Logged {
                answer: Box::pin(async move {
                    let answer = async move {
                        let Ok(response) = answer.await;
                        response
                    };
                    let mut response =
                        crate::monitor::telemetry::logged(&state.requests, label, answer).await;
                    security_headers(response.headers_mut());
                    response
                }),
            };
        }
        GuardFuture::Counted {
            answer,
            label,
            state,
        }
    }
}

pin_project_lite::pin_project! {
    /// The guarded answer: refused at once, counted, or (when logging) inside its span.
    #[project = GuardProjection]
    pub enum GuardFuture<F> {
        Refused { response: Option<Response> },
        Counted { #[pin] answer: F, label: RequestLabel, state: AppState },
        Logged { answer: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for GuardFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GuardProjection::Refused { response } => {
                Poll::Ready(Ok(response.take().expect("polled after completion")))
            }
            GuardProjection::Counted {
                answer,
                label,
                state,
            } => {
                let Ok(response) = std::task::ready!(answer.poll(cx));
                Poll::Ready(Ok(counted(state, label, response)))
            }
            GuardProjection::Logged { answer } => answer.as_mut().poll(cx).map(Ok),
        }
    }
}

/// The guard's work for a `GET` answered before the router (the response cache's front
/// door, `http::response_cache::FrontDoor`): counted, logged when requests are logged, and
/// given the security headers, as `Guard` does for everything the router answers.
pub fn answered_early(state: &AppState, label: RequestLabel, response: Response) -> Response {
    if crate::monitor::telemetry::logging_requests() {
        let mut response = crate::monitor::telemetry::logged_now(&state.requests, label, response);
        security_headers(response.headers_mut());
        return response;
    }
    counted(state, &label, response)
}

/// An answer outside a request span: counted for `/metrics`, with the security headers.
fn counted(state: &AppState, label: &RequestLabel, mut response: Response) -> Response {
    label.record(&state.requests, response.status().as_u16());
    security_headers(response.headers_mut());
    response
}

/// A state-changing request whose `Origin` is present and not this site's is refused (403
/// `csrf`). Browsers always send `Origin` on cross-site POST/PUT/PATCH/DELETE.
fn origin_refusal(request: &Request) -> Option<Response> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    (!safe && !same_origin(request.headers())).then(|| {
        ApiError::Forbidden("csrf", "The request came from another site.".into()).into_response()
    })
}

/// True without an `Origin` header, or when it names this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        });
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// The policy without a nonce, built once.
fn default_policy() -> &'static HeaderValue {
    static POLICY: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| {
        HeaderValue::from_str(&app::content_security_policy(None))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
    })
}

const PERMISSIONS_POLICY: HeaderName = HeaderName::from_static("permissions-policy");
const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

/// The policy for data (JSON): nothing may load from it, nothing may frame it.
const DATA_POLICY: HeaderValue =
    HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");

/// Security headers on every response. Pages set their own Content-Security-Policy with
/// the nonce of their inline scripts; files get the same policy without one. JSON answers,
/// which no browser renders as a document, get the short data policy, `nosniff` and the
/// referrer policy only: the document-only headers would add bytes to every API answer.
fn security_headers(headers: &mut HeaderMap) {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        headers.insert(header::CONTENT_SECURITY_POLICY, DATA_POLICY);
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        return;
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, default_policy().clone());
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        PERMISSIONS_POLICY,
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    headers.insert(
        CROSS_ORIGIN_OPENER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// Cache headers for static files: hashed `/pkg/` assets forever, other files a day.
pub async fn static_cache_headers(request: Request, next: Next) -> Response {
    let hashed = request.uri().path().starts_with("/pkg/");
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if (response.status().is_success() || response.status().as_u16() == 304) && !is_html {
        let value = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=86400"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
        }
        h
    }

    #[test]
    fn only_a_foreign_origin_is_refused() {
        assert!(same_origin(&headers(None, "127.0.0.1:3000")));
        assert!(same_origin(&headers(
            Some("http://127.0.0.1:3000"),
            "127.0.0.1:3000"
        )));
        assert!(same_origin(&headers(
            Some("https://hearth.example"),
            "hearth.example"
        )));
        assert!(!same_origin(&headers(
            Some("http://evil.example"),
            "127.0.0.1:3000"
        )));
        assert!(!same_origin(&headers(
            Some("http://127.0.0.1:3001"),
            "127.0.0.1:3000"
        )));
        assert!(!same_origin(&headers(Some("null"), "127.0.0.1:3000")));
    }
}
