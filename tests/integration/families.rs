use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn creating_a_family_makes_the_caller_owner_with_starter_categories() {
    let app = spawn_app().await;
    let (owner, created) = app.owner().await;
    assert_eq!(created["family"]["currency"], "EUR");
    assert_eq!(created["family"]["minor_units"], 2);
    assert_eq!(created["invite_code"].as_str().unwrap().len(), 10);
    let me = owner.json("/api/me").await;
    assert_eq!(me["family"]["role"], "owner");
    assert_eq!(me["family"]["timezone"], "Europe/Berlin");
    let cats = owner.json("/api/categories").await;
    assert_eq!(cats["categories"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_second_member_joins_with_the_invite_code_and_sees_no_code() {
    let app = spawn_app().await;
    let (owner, created) = app.owner().await;
    let code = created["invite_code"].as_str().unwrap();
    let member = app.member(&code.to_lowercase()).await;
    let me = member.json("/api/me").await;
    assert_eq!(me["family"]["role"], "member");
    let fam = member.json("/api/family").await;
    assert_eq!(fam["members"].as_array().unwrap().len(), 2);
    assert!(fam.get("invite_code").is_none());
    let fam = owner.json("/api/family").await;
    assert_eq!(fam["invite_code"], code);
    // Online means a live connection (see the realtime tests); neither has one open.
    assert!(fam["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["online"] == false));
}

#[tokio::test]
async fn wrong_codes_and_second_families_are_refused() {
    let app = spawn_app().await;
    let (owner, created) = app.owner().await;
    let stranger = app.client();
    stranger.register(&unique_email()).await;
    let r = stranger
        .post("/api/families/join", json!({"invite_code": "NOPE234567"}))
        .await;
    assert_eq!(error_code(r, StatusCode::NOT_FOUND).await, "not_found");
    let r = owner
        .post(
            "/api/families/join",
            json!({"invite_code": created["invite_code"]}),
        )
        .await;
    assert_eq!(
        error_code(r, StatusCode::CONFLICT).await,
        "already_in_family"
    );
    let r = owner
        .post(
            "/api/families",
            json!({"name":"Two","currency":"EUR","timezone":"UTC"}),
        )
        .await;
    assert_eq!(
        error_code(r, StatusCode::CONFLICT).await,
        "already_in_family"
    );
}

#[tokio::test]
async fn currencies_and_time_zones_are_checked() {
    let app = spawn_app().await;
    let c = app.client();
    c.register(&unique_email()).await;
    for (body, field) in [
        (
            json!({"name":"H","currency":"EURO","timezone":"UTC"}),
            "currency",
        ),
        (
            json!({"name":"H","currency":"EUR","timezone":"Mars/Base"}),
            "timezone",
        ),
        (json!({"name":"","currency":"EUR","timezone":"UTC"}), "name"),
    ] {
        let r = c.post("/api/families", body).await;
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "invalid_field");
        assert!(b["error"]["message"].as_str().unwrap().starts_with(field));
    }
    let r = c
        .post(
            "/api/families",
            json!({"name":"Yen","currency":"jpy","timezone":"Asia/Tokyo"}),
        )
        .await;
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["family"]["currency"], "JPY");
    assert_eq!(b["family"]["minor_units"], 0);
}

#[tokio::test]
async fn budget_routes_need_a_family() {
    let app = spawn_app().await;
    let c = app.client();
    c.register(&unique_email()).await;
    assert_eq!(
        error_code(c.get("/api/budgets").await, StatusCode::FORBIDDEN).await,
        "no_family"
    );
    assert_eq!(
        error_code(
            app.client().get("/api/budgets").await,
            StatusCode::UNAUTHORIZED
        )
        .await,
        "unauthenticated"
    );
}
