use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn registering_signs_in_with_a_strict_cookie() {
    let app = spawn_app().await;
    let c = app.client();
    let email = unique_email();
    let r = c
        .post("/api/auth/register", json!({"email": email.to_uppercase(), "password": "0123456789", "display_name": " Ann "}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["hearth_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["user"]["display_name"], "Ann");
    let me = c.json("/api/me").await;
    assert_eq!(me["user"]["email"], email);
    assert_eq!(me["user"]["is_admin"], false);
    assert_eq!(me["family"], Value::Null);
}

#[tokio::test]
async fn a_taken_email_is_a_conflict() {
    let app = spawn_app().await;
    let email = unique_email();
    app.client().register(&email).await;
    let r = app
        .client()
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "0123456789", "display_name": "B"}),
        )
        .await;
    assert_eq!(error_code(r, StatusCode::CONFLICT).await, "email_taken");
}

#[tokio::test]
async fn short_passwords_and_bad_emails_are_invalid_fields() {
    let app = spawn_app().await;
    let c = app.client();
    for (body, field) in [
        (
            json!({"email": unique_email(), "password": "short", "display_name": "A"}),
            "password",
        ),
        (
            json!({"email": "nope", "password": "0123456789", "display_name": "A"}),
            "email",
        ),
        (
            json!({"email": unique_email(), "password": "0123456789", "display_name": "  "}),
            "display_name",
        ),
    ] {
        let r = c.post("/api/auth/register", body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "invalid_field");
        assert!(b["error"]["message"].as_str().unwrap().contains(field));
    }
    assert_eq!(c.get("/api/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_rotates_the_session_and_logout_ends_it() {
    let app = spawn_app().await;
    let email = unique_email();
    let first = app.client();
    first.register(&email).await;
    // Sign in again from the same browser: a new id, and the old one is gone.
    let before = first.http.get(first.url("/api/me")).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    let r = first
        .post(
            "/api/auth/login",
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let new_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(new_cookie.starts_with("hearth_session="));
    assert_eq!(first.get("/api/me").await.status(), StatusCode::OK);

    let r = first.post("/api/auth/logout", json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        error_code(first.get("/api/me").await, StatusCode::UNAUTHORIZED).await,
        "unauthenticated"
    );
}

#[tokio::test]
async fn an_old_session_id_stops_working_after_a_new_login() {
    let app = spawn_app().await;
    let email = unique_email();
    let c = app.client();
    let r = c
        .post(
            "/api/auth/register",
            json!({"email": email, "password": "correct horse battery", "display_name": "S"}),
        )
        .await;
    let old = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    c.post(
        "/api/auth/login",
        json!({"email": email, "password": "correct horse battery"}),
    )
    .await;
    let with_old = reqwest::Client::new()
        .get(c.url("/api/me"))
        .header("cookie", old)
        .send()
        .await
        .unwrap();
    assert_eq!(with_old.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_is_invalid_credentials_and_repeats_are_rate_limited() {
    let app = spawn_app().await;
    let email = unique_email();
    app.client().register(&email).await;
    let c = app.client();
    for _ in 0..5 {
        let r = c
            .post(
                "/api/auth/login",
                json!({"email": email, "password": "wrong password!"}),
            )
            .await;
        assert_eq!(
            error_code(r, StatusCode::UNAUTHORIZED).await,
            "invalid_credentials"
        );
    }
    let r = c
        .post(
            "/api/auth/login",
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    assert!(r.headers().contains_key("ratelimit-limit"));
    assert_eq!(
        error_code(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
    // An unknown email answers exactly like a wrong password.
    let r = c
        .post(
            "/api/auth/login",
            json!({"email": unique_email(), "password": "whatever123"}),
        )
        .await;
    assert_eq!(
        error_code(r, StatusCode::UNAUTHORIZED).await,
        "invalid_credentials"
    );
}

#[tokio::test]
async fn admin_emails_make_admins() {
    let app = spawn_app_with(&[("ADMIN_EMAILS", "Boss@Example.org")]).await;
    let c = app.client();
    let body = c.register("boss@example.org").await;
    assert_eq!(body["user"]["is_admin"], true);
}

#[tokio::test]
async fn login_failures_count_on_every_server_through_redis() {
    let a = spawn_app_with(&[("REDIS_URL", "redis://127.0.0.1:6379")]).await;
    let db = format!("sqlite://{}", a.db_path.display());
    let b = spawn_app_with(&[
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        ("DATABASE_URL", &db),
    ])
    .await;
    let email = unique_email();
    a.client().register(&email).await;
    let from = Some(random_loopback());
    let (on_a, on_b) = (a.client_from(from), b.client_from(from));
    for _ in 0..5 {
        let r = on_a
            .post(
                "/api/auth/login",
                json!({"email": email, "password": "wrong password!"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = on_b
        .post(
            "/api/auth/login",
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(
        error_code(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let c = app.client();
    let fail = |from: &'static str| {
        c.http
            .post(c.url("/api/auth/login"))
            .header("x-forwarded-for", from)
            .json(&json!({"email": unique_email(), "password": "wrong password!"}))
            .send()
    };
    // Twenty failures (each for another email) from one client behind the proxy…
    for _ in 0..20 {
        let r = fail("198.51.100.1, 203.0.113.7").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // …limit that client, whatever it writes before the proxy's entry…
    let r = fail("203.0.113.7").await.unwrap();
    assert_eq!(
        error_code(r, StatusCode::TOO_MANY_REQUESTS).await,
        "rate_limited"
    );
    // …and not the proxy's other clients.
    let r = fail("203.0.113.8").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
