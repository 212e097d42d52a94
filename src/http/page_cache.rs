//! Rendered pages, cached. A page is a function of who asks and of the data behind it, so
//! the HTML Leptos renders for a `GET` of a page is kept under a key that holds all of it:
//! the path and query, the viewer (signed out, or the member, their family and the family's
//! tag version), the family's date, and what else the page shows that the tag does not
//! cover: the family channel's position (`/budget` resumes its connection from there) and
//! who is online (`/family`). Any change to any of these is a new key, so a cached page is
//! exactly what rendering it again would give, on any server (a write bumps the tag before
//! its writer is answered, as for the API's cache). Members without a family yet, a Redis
//! that cannot confirm the version, and answers that set a cookie are rendered every time.
//!
//! Rendered once, a page is kept in brotli, gzip and identity (`crate::cache::coding`) and each
//! hit sends the representation asked for without compressing anything. Its inline scripts
//! are allowed by the Content-Security-Policy through their SHA-256, computed once when the
//! page is stored, instead of the nonce Leptos rendered (a nonce must not be sent twice):
//! the policy is as strict as before, as any script whose bytes differ is refused.

use super::response_cache::{run, Conditions, Uncacheable, CACHE_STATUS};
use crate::auth::{self, FamilyMember};
use crate::cache::pages::{CachedPage, Pages};
use crate::cache::{CachedResponse, Lookup};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tower::Service;

/// The pages served through the cache (their paths are their routes).
pub const PAGES: [&str; 6] = ["/", "/budget", "/family", "/login", "/register", "/offline"];

/// Largest page kept, and longest query string a key takes.
const MAX_PAGE: usize = 1024 * 1024;
const MAX_QUERY: usize = 256;

/// The page as the request asks for it (coding, 304 for a current `If-None-Match`).
fn answer(page: &CachedPage, conditions: &Conditions, detail: &'static str) -> Response {
    let mut response = conditions.answer(&page.body);
    if response.status() == StatusCode::OK {
        *response.status_mut() = page.status;
    }
    let h = response.headers_mut();
    for (name, value) in &page.headers {
        if !h.contains_key(name) {
            h.insert(name, value.clone());
        }
    }
    h.insert(CACHE_STATUS, HeaderValue::from_static(detail));
    // Per viewer: never stored by a shared cache; a browser revalidates with the ETag.
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-cache"));
    response
}

/// Who a page is rendered for: what the key holds of them.
enum Viewer {
    SignedOut,
    Member(FamilyMember),
}

/// The viewer of `request`; `None` when the page is not cached for them (signed in without
/// a family, or the store could not say).
async fn viewer(state: &AppState, headers: &HeaderMap) -> Option<Viewer> {
    if auth::session_id(headers).is_none() {
        return Some(Viewer::SignedOut);
    }
    match crate::http::member::family_member(state, headers).await {
        Ok(member) => Some(Viewer::Member(member)),
        Err(ApiError::Unauthenticated) => Some(Viewer::SignedOut),
        Err(_) => None,
    }
}

/// The key of the page `route` for `request`, or `None` when it is rendered uncached.
async fn key(
    state: &AppState,
    parts: (&axum::http::Uri, &HeaderMap),
    route: &str,
) -> Option<String> {
    let (uri, headers) = parts;
    let query = uri.query().unwrap_or("");
    if query.len() > MAX_QUERY {
        return None;
    }
    let mut key = String::with_capacity(160);
    key.push_str(route);
    key.push('?');
    key.push_str(query);
    match viewer(state, headers).await? {
        Viewer::SignedOut => key.push_str("|anon"),
        Viewer::Member(member) => {
            let family = member.family.id;
            let Lookup::Current(version) =
                state.cache.version(&crate::cache::family_tag(family)).await
            else {
                return None;
            };
            use std::fmt::Write as _;
            let _ = write!(
                key,
                "|u:{}|f:{family}|v{version}|d{}",
                member.user.id,
                member.today()
            );
            if route == "/budget" {
                let channel = app::ws::Channel::Family(family).name();
                let position = state.hub.position(&channel).await?;
                let _ = write!(key, "|p:{}:{}", position.epoch, position.offset);
            }
            if route == "/family" {
                key.push_str("|on");
                for user in state.hub.presence.online(family).await {
                    key.push(':');
                    key.push_str(user.simple().encode_lower(&mut uuid::Uuid::encode_buffer()));
                }
            }
        }
    }
    Some(key)
}

/// A page's answer: from the cache alone (the router's guard has not seen it), or through
/// the router (rendered, counted and given the security headers there).
pub enum Served {
    FromCache(Response),
    Routed(Response),
}

/// Answers a `GET` of the page `route` from the cache, rendering it with `inner` (the
/// router) on a miss, once for all concurrent requests of one key.
pub async fn serve<S>(state: &AppState, request: Request, inner: S, route: &str) -> Served
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send,
{
    let conditions = Conditions::of(request.headers());
    let pages = &state.cache.pages;
    let key = match pages.as_ref() {
        Some(_) => key(state, (request.uri(), request.headers()), route).await,
        None => None,
    };
    let (Some(pages), Some(key)) = (pages, key) else {
        return Served::Routed(run(inner, request).await);
    };
    if !conditions.wants_fresh() {
        if let Some(page) = pages.get(&key).await {
            return Served::FromCache(answer(&page, &conditions, "hearth; hit; detail=page"));
        }
    }
    Served::Routed(render(state, pages, key, conditions, request, inner).await)
}

/// A miss (or a refresh the client asked for): renders through the router, once for all
/// concurrent requests of `key`, and keeps the page.
async fn render<S>(
    state: &AppState,
    pages: &Pages,
    key: String,
    conditions: Conditions,
    mut request: Request,
    inner: S,
) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send,
{
    let ttl = state.cache.default_ttl();
    // Rendered plain: the compressed forms are made once, below, not by the layer.
    request.headers_mut().remove(header::ACCEPT_ENCODING);
    let mut slot = Some((request, inner));
    let rendered = {
        let slot = &mut slot;
        let load = async move {
            let (request, inner) = slot.take().expect("the loader runs once");
            capture(run(inner, request).await, ttl).await
        };
        if conditions.wants_fresh() {
            match load.await {
                Ok(page) => {
                    pages.insert(key.clone(), page.clone()).await;
                    Ok(page)
                }
                Err(response) => Err(Arc::new(response)),
            }
        } else {
            pages.try_get_with(key.clone(), load).await
        }
    };
    match rendered {
        Ok(page) => {
            if slot.is_none() {
                // This request rendered it: its brotli form is made again for size later.
                state.cache.shrink_page(key, page.clone());
            }
            answer(&page, &conditions, "hearth; fwd=miss; stored")
        }
        Err(uncacheable) => match slot.take() {
            // Another request's render could not be shared: render our own.
            Some((request, inner)) => run(inner, request).await,
            None => uncacheable.rebuild(),
        },
    }
}

/// Takes a rendered page into the cache's form: the nonce taken out, the policy allowing
/// its inline scripts by hash, the representations made.
async fn capture(response: Response, ttl: Duration) -> Result<Arc<CachedPage>, Uncacheable> {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_PAGE * 4)
        .await
        .unwrap_or_default();
    let cacheable = matches!(parts.status.as_u16(), 200 | 301 | 302 | 303 | 307 | 308)
        && !parts.headers.contains_key(header::SET_COOKIE)
        && !parts.headers.contains_key(header::CONTENT_ENCODING)
        && body.len() <= MAX_PAGE;
    let html = std::str::from_utf8(&body).ok();
    let (Some(html), true) = (html, cacheable) else {
        return Err(Uncacheable::new(parts, body));
    };
    let html = match nonce_of(&parts.headers) {
        Some(nonce) => html.replace(&format!(" nonce=\"{nonce}\""), ""),
        None => html.to_string(),
    };
    let policy = app::content_security_policy_for_hashes(&inline_script_hashes(&html));
    let mut headers = parts.headers;
    for name in [
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ETAG,
        header::VARY,
        header::CONTENT_TYPE,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(name);
    }
    match HeaderValue::from_str(&policy) {
        Ok(policy) => headers.insert(header::CONTENT_SECURITY_POLICY, policy),
        Err(_) => headers.remove(header::CONTENT_SECURITY_POLICY),
    };
    let content_type = HeaderValue::from_static("text/html; charset=utf-8");
    // Compressing a page takes milliseconds: off the runtime's threads.
    let compressed = tokio::task::spawn_blocking(move || {
        CachedResponse::new(content_type, Bytes::from(html), ttl)
    })
    .await;
    let body = match compressed {
        Ok(body) => body,
        Err(e) => {
            let failed = ApiError::Internal(format!("compressing a page: {e}")).into_response();
            let (parts, body) = failed.into_parts();
            let body = axum::body::to_bytes(body, MAX_PAGE)
                .await
                .unwrap_or_default();
            return Err(Uncacheable::new(parts, body));
        }
    };
    Ok(Arc::new(CachedPage {
        status: parts.status,
        headers,
        body,
    }))
}

/// The nonce the page's policy allows (`'nonce-…'`), if any.
fn nonce_of(headers: &HeaderMap) -> Option<String> {
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)?
        .to_str()
        .ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(policy[start..start + len].to_string())
}

/// The base64 SHA-256 of the text of every inline `<script>` in `html` (those without
/// `src`), as a Content-Security-Policy hash source needs it.
fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open + "<script".len()..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let attributes = &after[..tag_end];
        let text = &after[tag_end + 1..];
        let Some(close) = text.find("</script") else {
            break;
        };
        let external = attributes
            .split_ascii_whitespace()
            .any(|a| a.starts_with("src="));
        if !external {
            let digest = sha2::Sha256::digest(&text.as_bytes()[..close]);
            let digest = base64::engine::general_purpose::STANDARD.encode(digest);
            if !hashes.contains(&digest) {
                hashes.push(digest);
            }
        }
        rest = &text[close..];
    }
    hashes
}

/// Whether a request may be answered from the pages cache: a `GET` of a cached page.
pub fn route_of(request: &Request) -> Option<&'static str> {
    if request.method() != axum::http::Method::GET {
        return None;
    }
    let path = request.uri().path();
    PAGES.into_iter().find(|p| *p == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        use base64::Engine as _;
        use sha2::Digest as _;
        let html = "<head><script type=\"module\">start()</script>\
                    <script src=\"/pkg/a.js\"></script></head>\
                    <body><script>start()</script><script id=\"x\">b = 1</script></body>";
        let b64 = |s: &str| {
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s.as_bytes()))
        };
        assert_eq!(
            inline_script_hashes(html),
            vec![b64("start()"), b64("b = 1")]
        );
        // The known vector: SHA-256 of "" is 47DEQpj8…
        assert_eq!(
            inline_script_hashes("<script></script>"),
            vec!["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".to_string()]
        );
        assert!(inline_script_hashes("<p>no scripts</p>").is_empty());
    }

    #[test]
    fn the_nonce_is_read_from_the_rendered_policy() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&app::content_security_policy(Some("abc+/="))).unwrap(),
        );
        assert_eq!(nonce_of(&h).as_deref(), Some("abc+/="));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&app::content_security_policy(None)).unwrap(),
        );
        assert_eq!(nonce_of(&h), None);
    }

    #[tokio::test]
    async fn a_captured_page_carries_no_nonce_and_allows_its_scripts_by_hash() {
        let html = "<html><head><script type=\"module\" nonce=\"N0nce\">go()</script></head>\
                    <body><p>Budget</p></body></html>"
            .repeat(20);
        let mut response = Response::new(Body::from(html.clone()));
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&app::content_security_policy(Some("N0nce"))).unwrap(),
        );
        let page = capture(response, Duration::from_secs(60)).await.unwrap();
        assert!(!std::str::from_utf8(&page.body.body)
            .unwrap()
            .contains("nonce"));
        let conditions = Conditions::of(&{
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("br, gzip"),
            );
            h
        });
        let answer = answer(&page, &conditions, "hearth; hit; detail=page");
        let policy = answer.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string();
        assert!(!policy.contains("nonce") && !policy.contains("unsafe-inline"));
        assert!(policy.contains(&format!(
            "'sha256-{}'",
            inline_script_hashes("<script>go()</script>")[0]
        )));
        assert_eq!(answer.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(answer.headers()[header::VARY], "accept-encoding");
        assert_eq!(answer.headers()[header::CACHE_CONTROL], "private, no-cache");
        // A page that sets a cookie is never kept.
        let mut response = Response::new(Body::from("<p>hi</p>"));
        response
            .headers_mut()
            .insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        assert!(capture(response, Duration::from_secs(60)).await.is_err());
    }
}
