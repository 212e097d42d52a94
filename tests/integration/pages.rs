//! The browser's path: cached answers in the coding a browser asks for, and the rendered
//! pages served from the cache, fresh and for the right person only.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Read as _;

/// A request as a browser sends it (`accept-encoding` as given), its answer decoded.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    /// The bytes as sent.
    sent: Vec<u8>,
    /// The bytes after undoing `Content-Encoding`.
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

async fn fetch(c: &Client, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = c.http.get(c.url(path)).header("accept", "text/html");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let r = request.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let sent = r.bytes().await.unwrap().to_vec();
    let mut body = Vec::new();
    match headers.get("content-encoding").map(|v| v.to_str().unwrap()) {
        Some("br") => {
            brotli::Decompressor::new(&sent[..], 4096)
                .read_to_end(&mut body)
                .unwrap();
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&sent[..])
                .read_to_end(&mut body)
                .unwrap();
        }
        None => body = sent.clone(),
        Some(other) => panic!("unexpected coding {other}"),
    }
    Answer {
        status,
        headers,
        sent,
        body,
    }
}

async fn browser(c: &Client, path: &str) -> Answer {
    fetch(c, path, &[("accept-encoding", "br, gzip")]).await
}

/// An owner whose March 2026 has twenty expenses: answers large enough to compress.
async fn owner_with_a_month_of_expenses(app: &TestApp) -> Client {
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    for day in 1..=20 {
        c.spend(&food, 100 + day, Some(&format!("2026-03-{day:02}")))
            .await;
    }
    c
}

#[tokio::test]
async fn compressed_hits_decode_to_the_identity_bytes_with_an_etag_each() {
    let app = spawn_app().await;
    let c = owner_with_a_month_of_expenses(&app).await;
    for path in ["/api/expenses?month=2026-03", "/budget?month=2026-03"] {
        let plain = fetch(&c, path, &[]).await;
        let plain_again = fetch(&c, path, &[]).await;
        assert_eq!(plain.body, plain_again.body, "{path}");
        let mut etags = vec![plain.header("etag")];
        for coding in ["br", "gzip"] {
            let first = fetch(&c, path, &[("accept-encoding", coding)]).await;
            let hit = fetch(&c, path, &[("accept-encoding", coding)]).await;
            for a in [&first, &hit] {
                assert_eq!(a.status, StatusCode::OK, "{path} {coding}");
                assert_eq!(a.header("content-encoding"), coding, "{path}");
                assert_eq!(a.header("vary"), "accept-encoding", "{path}");
                assert_eq!(
                    a.header("content-length"),
                    a.sent.len().to_string(),
                    "{path} {coding}"
                );
                assert_eq!(a.body, plain.body, "{path} {coding} decodes to identity");
                assert!(a.sent.len() < plain.body.len() / 2, "{path} {coding}");
            }
            assert!(hit.header("cache-status").contains("hit"), "{path}");
            assert_eq!(first.header("etag"), hit.header("etag"));
            etags.push(hit.header("etag"));
            // 304 for the representation's own validator, and only for it.
            let etag = hit.header("etag");
            let again = fetch(
                &c,
                path,
                &[("accept-encoding", coding), ("if-none-match", &etag)],
            )
            .await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path} {coding}");
            assert_eq!(again.header("etag"), etag);
            assert!(again.sent.is_empty());
            let other = fetch(
                &c,
                path,
                &[("accept-encoding", coding), ("if-none-match", &etags[0])],
            )
            .await;
            assert_eq!(other.status, StatusCode::OK, "identity's ETag is another");
        }
        etags.sort();
        etags.dedup();
        assert_eq!(etags.len(), 3, "{path}: one ETag per representation");
        let identity = fetch(&c, path, &[("if-none-match", &plain.header("etag"))]).await;
        assert_eq!(identity.status, StatusCode::NOT_MODIFIED, "{path}");
    }
}

#[tokio::test]
async fn accept_encoding_is_read_as_rfc_9110_says() {
    let app = spawn_app().await;
    let c = owner_with_a_month_of_expenses(&app).await;
    let path = "/api/expenses?month=2026-03";
    for (accept, coding) in [
        ("gzip;q=1, br;q=0.5", "gzip"),
        ("br;q=0.1, gzip;q=0.2, identity;q=0.9", ""),
        ("zstd, deflate", ""),
        ("*", "br"),
        ("br;q=0, *", "gzip"),
        ("gzip, identity;q=0", "gzip"),
        ("br;q=5, gzip", "gzip"),
        ("", ""),
    ] {
        let a = fetch(&c, path, &[("accept-encoding", accept)]).await;
        assert_eq!(a.status, StatusCode::OK, "{accept}");
        assert_eq!(a.header("content-encoding"), coding, "{accept:?}");
        assert!(serde_json::from_slice::<Value>(&a.body).is_ok(), "{accept}");
    }
    // Nothing acceptable: 406 with the contract's error body, for the API and for pages.
    for path in [path, "/budget"] {
        for accept in ["zstd, identity;q=0", "*;q=0"] {
            fetch(&c, path, &[]).await;
            let a = fetch(&c, path, &[("accept-encoding", accept)]).await;
            assert_eq!(a.status, StatusCode::NOT_ACCEPTABLE, "{path} {accept}");
            let body: Value = serde_json::from_slice(&a.body).unwrap();
            assert_eq!(body["error"]["code"], "not_acceptable");
        }
    }
}

#[tokio::test]
async fn pages_are_served_from_the_cache_and_are_fresh_after_a_write() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    c.spend(&food, 1234, None).await;
    for path in ["/budget", "/family", "/"] {
        let first = browser(&c, path).await;
        let second = browser(&c, path).await;
        assert_eq!(
            first.header("cache-status"),
            "hearth; fwd=miss; stored",
            "{path}"
        );
        assert_eq!(second.header("cache-status"), "hearth; hit; detail=page");
        assert_eq!(first.body, second.body, "{path}");
        assert_eq!(first.status, second.status, "{path}");
        assert_eq!(
            first.header("content-security-policy"),
            second.header("content-security-policy")
        );
        assert_eq!(second.header("x-frame-options"), "DENY", "{path}");
    }
    let page = browser(&c, "/budget").await.text();
    assert!(page.contains("12.34"));
    c.spend(&food, 5678, None).await;
    let after = browser(&c, "/budget").await;
    assert_eq!(after.header("cache-status"), "hearth; fwd=miss; stored");
    assert!(after.text().contains("56.78"), "the write is on the page");
    // The home page of a member sends them to the budget, from the cache too.
    let home = browser(&c, "/").await;
    assert_eq!(home.header("location"), "/budget");
}

#[tokio::test]
async fn a_cached_pages_scripts_are_allowed_by_hash_not_by_a_reused_nonce() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    for _ in 0..2 {
        let page = browser(&c, "/budget").await;
        let policy = page.header("content-security-policy");
        assert!(!policy.contains("nonce-") && !policy.contains("unsafe-inline"));
        let html = page.text();
        assert!(!html.contains("nonce="), "no nonce is sent twice");
        let mut scripts = 0;
        for piece in html.split("<script").skip(1) {
            let (attributes, rest) = piece.split_once('>').unwrap();
            if attributes.contains("src=") {
                continue;
            }
            let text = rest.split("</script").next().unwrap();
            let digest = base64::engine::general_purpose::STANDARD
                .encode(sha2::Sha256::digest(text.as_bytes()));
            assert!(policy.contains(&format!("'sha256-{digest}'")), "{text}");
            scripts += 1;
        }
        assert!(scripts >= 2, "the hydration and resource scripts");
    }
}

#[tokio::test]
async fn each_member_gets_their_own_page_and_no_one_else_a_cached_one() {
    let app = spawn_app().await;
    let (owner, created) = app.owner().await;
    let code = created["invite_code"].as_str().unwrap();
    let member = app.member(code).await;
    let email = |me: Value| me["user"]["email"].as_str().unwrap().to_string();
    let owner_email = email(owner.json("/api/me").await);
    let member_email = email(member.json("/api/me").await);
    // Each page carries its user's email (who is signed in); the budget and family pages list
    // every member's id and name, so ids would not tell the pages apart. The invite code below
    // tells the family pages apart.
    for path in ["/budget", "/login"] {
        let owners = browser(&owner, path).await;
        assert!(browser(&owner, path)
            .await
            .header("cache-status")
            .contains("hit"));
        let members = browser(&member, path).await;
        assert_eq!(members.header("cache-status"), "hearth; fwd=miss; stored");
        assert!(owners.text().contains(&owner_email), "{path}");
        assert!(!owners.text().contains(&member_email), "{path}");
        assert!(members.text().contains(&member_email), "{path}");
        assert!(
            !members.text().contains(&owner_email),
            "{path}: not the owner's page"
        );
    }
    let owners = browser(&owner, "/family").await.text();
    let members = browser(&member, "/family").await.text();
    assert!(owners.contains("data-testid=\"invite-code\""));
    assert!(
        !members.contains("data-testid=\"invite-code\""),
        "only the owner sees the invite code"
    );
    // Another family and a signed-out visitor never get either page.
    let (stranger, _) = app.owner().await;
    for path in ["/budget", "/family", "/login"] {
        let theirs = browser(&stranger, path).await;
        assert_eq!(theirs.header("cache-status"), "hearth; fwd=miss; stored");
        assert!(!theirs.text().contains(&owner_email), "{path}");
        let anonymous = browser(&app.client(), path).await;
        assert!(!anonymous.text().contains(&owner_email), "{path}");
        assert!(!anonymous.text().contains("Sign out"), "{path}");
    }
}

#[tokio::test]
async fn a_page_cached_before_sign_out_is_not_served_after_it() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let cookie = c.cookie();
    let cached = browser(&c, "/budget").await;
    assert_eq!(cached.status, StatusCode::OK);
    assert!(browser(&c, "/budget")
        .await
        .header("cache-status")
        .contains("hit"));
    assert_eq!(
        c.post("/api/auth/logout", json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    // The old cookie, sent again as it was.
    let after = fetch(
        &app.client(),
        "/budget",
        &[("accept-encoding", "br, gzip"), ("cookie", &cookie)],
    )
    .await;
    assert!(
        after.status.is_redirection(),
        "signed out: sent to sign in, not the cached page ({})",
        after.status
    );
    assert_ne!(after.body, cached.body);
}

#[tokio::test]
async fn a_write_on_one_server_is_on_the_next_page_and_read_from_another() {
    let pg = PgSchema::fresh();
    let a = crate::caching::server(&pg, Some("redis://127.0.0.1:6379")).await;
    let b = crate::caching::server(&pg, Some("redis://127.0.0.1:6379")).await;
    let (on_a, _) = a.owner().await;
    let on_b = on_a.on(&b.base);
    crate::caching::wait_for_redis(&on_a, "up").await;
    crate::caching::wait_for_redis(&on_b, "up").await;
    let food = on_a.category("Groceries").await;
    on_a.spend(&food, 1, Some("2026-03-01")).await;
    // An entry A stored reaches B through Redis with its compressed forms, as they were made.
    let path = "/api/expenses?month=2026-03";
    let plain = fetch(&on_a, path, &[]).await;
    let from_b = browser(&on_b, path).await;
    assert_eq!(from_b.header("cache-status"), "hearth; hit; detail=l2");
    assert_eq!(from_b.body, plain.body);
    for round in 1..=3i64 {
        // Both servers hold the page and the answer, in brotli.
        for c in [&on_a, &on_b] {
            browser(c, "/budget?month=2026-03").await;
            browser(c, "/api/budgets?month=2026-03").await;
        }
        on_a.spend(&food, 100, Some("2026-03-05")).await;
        let page = browser(&on_b, "/budget?month=2026-03").await;
        // Compressed, in the smaller of the two forms: on a page rendered just now, brotli's
        // fast level and gzip come within about 1 % of each other (the page's random ids
        // decide which wins), until the page's brotli is made again at quality 11.
        let coding = page.header("content-encoding");
        assert!(
            coding == "br" || coding == "gzip",
            "round {round}: B's page compressed, not {coding:?}"
        );
        assert!(
            page.text().contains(&format!("{round}.01")),
            "round {round}: B's page shows A's write"
        );
        let api = browser(&on_b, "/api/budgets?month=2026-03").await;
        assert_eq!(api.header("content-encoding"), "br");
        let body: Value = serde_json::from_slice(&api.body).unwrap();
        assert_eq!(body["totals"]["spent_minor"], 100 * round + 1);
    }
}
