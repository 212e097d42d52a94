//! Security checks generated from the OpenAPI document, so a new route is checked (or this
//! test fails naming it): every operation with an id in its path, called by another family
//! with the victim's ids, is 404 and changes nothing; every changing operation with a foreign
//! `Origin` is 403 `csrf` and changes nothing; ids in query strings never show another
//! family's rows.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A family's ids that routes take.
struct Ids {
    category: String,
    expense: String,
    challenge: String,
    rule: String,
    user: String,
}

async fn family_with_data(app: &TestApp) -> (Client, Ids) {
    let (c, _) = app.owner().await;
    let category = c.category("Groceries").await;
    let expense = c.spend(&category, 1234, None).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post("/api/challenges", json!({"kind": "no_spend", "days": 2}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let challenge = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let today = c.json("/api/budgets").await["today"]
        .as_str()
        .unwrap()
        .parse::<chrono::NaiveDate>()
        .unwrap();
    let starts = (today + chrono::Duration::days(20)).to_string();
    let r = c
        .post(
            "/api/recurring",
            json!({"category_id": category, "amount_minor": 100, "every": "month", "starts_on": starts}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let rule = r.json::<Value>().await.unwrap()["rule"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let user = c.json("/api/me").await["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (
        c,
        Ids {
            category,
            expense,
            challenge,
            rule,
            user,
        },
    )
}

/// The path with `ids` put in, and a body the route would accept from its own family.
fn call(template: &str, method: &str, ids: &Ids, month: &str) -> (String, Value) {
    let path = template
        .replace("{month}", month)
        .replace("{category_id}", &ids.category);
    match (template, method) {
        ("/api/categories/{id}", "patch") => (
            path.replace("{id}", &ids.category),
            json!({"name": "Renamed"}),
        ),
        ("/api/categories/{id}", "delete") => (path.replace("{id}", &ids.category), json!({})),
        ("/api/expenses/{id}", "patch") => (
            path.replace("{id}", &ids.expense),
            json!({"version": 1, "amount_minor": 1}),
        ),
        ("/api/expenses/{id}", "delete") => (path.replace("{id}", &ids.expense), json!({})),
        ("/api/challenges/{id}/accept", "post") => {
            (path.replace("{id}", &ids.challenge), json!({}))
        }
        ("/api/budgets/{month}/{category_id}", "put") => (path, json!({"limit_minor": 1})),
        ("/api/recurring/{id}", "patch") => {
            (path.replace("{id}", &ids.rule), json!({"amount_minor": 1}))
        }
        ("/api/recurring/{id}", "delete") => (path.replace("{id}", &ids.rule), json!({})),
        _ => panic!("{method} {template} takes an id: add it to this test"),
    }
}

async fn operations(c: &Client) -> Vec<(String, String)> {
    let doc = c.json("/api/openapi.json").await;
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            out.push((path.clone(), method.clone()));
        }
    }
    out
}

/// What the victim's data looks like, to see that nothing changed.
async fn snapshot(c: &Client, month: &str) -> (Value, Value, Value, Value) {
    (
        c.json(&format!("/api/budgets?month={month}")).await,
        c.json(&format!("/api/expenses?month={month}")).await,
        c.json("/api/challenges").await,
        c.json("/api/recurring").await,
    )
}

#[tokio::test]
async fn another_family_s_ids_are_not_found_on_every_route_that_takes_one() {
    let app = spawn_app().await;
    let (victim, theirs) = family_with_data(&app).await;
    let (attacker, _) = family_with_data(&app).await;
    let month = victim.this_month().await;
    let before = snapshot(&victim, &month).await;
    let mut checked = 0;
    for (template, method) in operations(&attacker).await {
        if !template.contains('{') {
            continue;
        }
        let (path, body) = call(&template, &method, &theirs, &month);
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = attacker.send(m, &path, body).await;
        assert_eq!(
            error_code(r, StatusCode::NOT_FOUND).await,
            "not_found",
            "{method} {path}"
        );
        checked += 1;
    }
    assert!(checked >= 6, "every id route was tried ({checked})");
    assert_eq!(snapshot(&victim, &month).await, before, "nothing changed");

    // Ids in a query string only ever narrow the asker's own rows.
    for query in [
        format!("category_id={}", theirs.category),
        format!("member_id={}", theirs.user),
    ] {
        let listed = attacker
            .json(&format!("/api/expenses?month={month}&{query}"))
            .await;
        assert_eq!(listed["expenses"], json!([]), "{query}");
        let searched = attacker
            .json(&format!("/api/expenses?q=&limit=5&{query}"))
            .await;
        assert_eq!(searched["expenses"], json!([]), "{query}");
    }
}

#[tokio::test]
async fn every_change_from_another_site_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (c, ids) = family_with_data(&app).await;
    let month = c.this_month().await;
    let before = snapshot(&c, &month).await;
    let mut checked = 0;
    for (template, method) in operations(&c).await {
        if method == "get" {
            continue;
        }
        let (path, body) = if template.contains('{') {
            call(&template, &method, &ids, &month)
        } else {
            (template.clone(), json!({}))
        };
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = c
            .http
            .request(m, c.url(&path))
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(r, StatusCode::FORBIDDEN).await,
            "csrf",
            "{method} {path}"
        );
        checked += 1;
    }
    assert!(checked >= 15, "every changing route was tried ({checked})");
    assert_eq!(snapshot(&c, &month).await, before, "nothing changed");
    // Still signed in: the foreign logout was refused too.
    assert_eq!(c.get("/api/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_id_planted_before_signing_in_is_never_adopted() {
    let app = spawn_app().await;
    let c = app.client();
    let planted = "hearth_session=chosen-by-an-attacker";
    c.jar
        .add_cookie_str(&format!("{planted}; Path=/"), &c.base.parse().unwrap());
    let email = unique_email();
    c.register(&email).await;
    let r = c
        .post(
            "/api/auth/login",
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let issued = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(issued.starts_with("hearth_session=") && !issued.starts_with(planted));
    // The planted id names nobody, before and after.
    let with_planted = reqwest::Client::new()
        .get(c.url("/api/me"))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(with_planted, StatusCode::UNAUTHORIZED).await,
        "unauthenticated"
    );
}

#[tokio::test]
async fn the_websocket_opens_only_for_a_member_from_the_site() {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue, Error};
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let connect = |origin: Option<&str>, cookie: Option<String>| {
        let mut request = format!("{}/ws", c.base.replacen("http", "ws", 1))
            .into_client_request()
            .unwrap();
        if let Some(o) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(o).unwrap());
        }
        if let Some(k) = cookie {
            request
                .headers_mut()
                .insert("cookie", HeaderValue::from_str(&k).unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    let status = |r: Result<_, Error>| match r {
        Err(Error::Http(resp)) => resp.status().as_u16(),
        Ok(_) => 101,
        Err(e) => panic!("{e}"),
    };
    // Another site's page, with the member's cookie (the browser sends it): refused.
    let foreign = connect(Some("https://evil.example"), Some(c.cookie())).await;
    assert_eq!(status(foreign.map(drop)), 403);
    // The site itself, signed out: refused.
    let stranger = connect(Some(&c.base), None).await;
    assert_eq!(status(stranger.map(drop)), 401);
    // The site itself, signed in: open.
    let member = connect(Some(&c.base), Some(c.cookie())).await;
    assert_eq!(status(member.map(drop)), 101);
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let signed_out = app.client();
    let month = c.this_month().await;
    let etag = c
        .get(&format!("/api/budgets?month={month}"))
        .await
        .headers()["etag"]
        .clone();
    let mut answers = vec![
        ("a JSON answer", c.get("/api/categories").await),
        (
            "a cached JSON answer, compressed",
            c.http
                .get(c.url(&format!("/api/budgets?month={month}")))
                .header("accept-encoding", "br, gzip")
                .send()
                .await
                .unwrap(),
        ),
        (
            "304 Not Modified",
            c.http
                .get(c.url(&format!("/api/budgets?month={month}")))
                .header("if-none-match", etag)
                .send()
                .await
                .unwrap(),
        ),
        ("401", signed_out.get("/api/me").await),
        ("404 of an unknown route", c.get("/api/nothing-here").await),
        (
            "404 of another family's id",
            c.delete(&format!("/api/expenses/{}", uuid::Uuid::new_v4()))
                .await,
        ),
        ("422", c.post("/api/categories", json!({"name": ""})).await),
        ("400", c.raw(Method::POST, "/api/categories", "{").await),
        (
            "413",
            c.raw(Method::POST, "/api/categories", "x".repeat(70 * 1024))
                .await,
        ),
        ("405", c.http.put(c.url("/api/me")).send().await.unwrap()),
        ("403 from another site", {
            c.http
                .post(c.url("/api/categories"))
                .header("origin", "https://evil.example")
                .json(&json!({"name": "x"}))
                .send()
                .await
                .unwrap()
        }),
        ("a page", c.page("/budget").await),
        ("a page from the pages cache", c.page("/budget").await),
        ("a signed-out page", signed_out.page("/login").await),
        ("a redirect", signed_out.page("/budget").await),
        // The site's files (the manifest, the icons) exist once it is built (`./test.sh`
        // runs this before the release build on a fresh checkout: then they are 404s).
        ("a file of the site", c.get("/manifest.webmanifest").await),
        ("a file of the site", c.get("/favicon.svg").await),
        ("the service worker", c.get("/sw.js").await),
        ("404 of a missing file", c.get("/pkg/nothing-here.js").await),
        ("the health check", c.get("/healthz").await),
        ("the metrics", c.get("/metrics").await),
        ("the OpenAPI document", c.get("/api/openapi.json").await),
    ];
    let ws_refused = c.get("/ws").await;
    answers.push(("a WebSocket request that is not an upgrade", ws_refused));
    let site_built = std::path::Path::new("target/site/manifest.webmanifest").exists();
    for (kind, r) in answers {
        let h = r.headers();
        let said = format!("{kind} ({})", r.status());
        let expected = match kind {
            "a file of the site" if !site_built => 404,
            "304 Not Modified" => 304,
            "a redirect" => 302,
            "a WebSocket request that is not an upgrade" => 400,
            k => k[..3].parse().unwrap_or(200),
        };
        assert_eq!(r.status().as_u16(), expected, "{said}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{said}");
        assert_eq!(h["referrer-policy"], "same-origin", "{said}");
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{said}: no policy"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{said}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{said}: {csp}");
    }
}
