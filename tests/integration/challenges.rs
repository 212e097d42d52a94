//! Savings challenges over the API and the family channel: invite, accept, progress from real
//! expenses, settling once, achievements, and bad input.

use crate::helpers::*;
use crate::realtime::Ws;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Reads game updates until one satisfies `ok`.
async fn update_where(ws: &mut Ws, ok: impl Fn(&Value) -> bool) -> Value {
    loop {
        let u = ws.until("game_update").await;
        if ok(&u["data"]["challenge"]) {
            return u["data"]["challenge"].clone();
        }
    }
}

#[tokio::test]
async fn a_challenge_is_invited_accepted_measured_from_expenses_and_settled_once() {
    let app = spawn_app().await;
    let (owner, created) = app.owner().await;
    let family = created["family"]["id"].as_str().unwrap().to_string();
    let member = app.member(created["invite_code"].as_str().unwrap()).await;
    let channel = format!("family:{family}");
    let mut ws = Ws::connect(&member).await;
    ws.subscribe(&channel, None).await;
    let dining = owner.category("Dining out").await;

    let r = owner
        .post(
            "/api/challenges",
            json!({"kind": "category_cap", "category_id": dining, "limit_minor": 15000, "days": 7}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let challenge: Value = r.json().await.unwrap();
    let id = challenge["id"].as_str().unwrap().to_string();
    assert_eq!(challenge["status"], "active");
    assert_eq!(challenge["spent_minor"], 0);
    assert_eq!(challenge["participants"].as_array().unwrap().len(), 1);
    let invite = ws.until("game_invite").await;
    assert_eq!(invite["data"]["challenge"]["id"], id.as_str());
    assert!(invite["data"]["challenge"]["title"]
        .as_str()
        .unwrap()
        .starts_with("Keep Dining out under 150.00 EUR from "));
    assert!(invite["offset"].as_u64().is_some(), "stored in the history");

    let accepted = member
        .post(&format!("/api/challenges/{id}/accept"), json!({}))
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let again = member
        .post(&format!("/api/challenges/{id}/accept"), json!({}))
        .await;
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["participants"].as_array().unwrap().len(), 2, "once");
    update_where(&mut ws, |c| {
        c["participants"].as_array().unwrap().len() == 2
    })
    .await;

    // Progress comes from the family's real expenses, in the challenge's category only.
    owner.spend(&dining, 2000, None).await;
    owner
        .spend(&owner.category("Groceries").await, 9999, None)
        .await;
    let progress = update_where(&mut ws, |c| {
        c["id"] == id.as_str() && c["spent_minor"] == 2000
    })
    .await;
    assert_eq!(progress["status"], "active");
    owner.spend(&dining, 13_001, None).await;
    let lost = update_where(&mut ws, |c| c["status"] == "lost").await;
    assert_eq!(lost["spent_minor"], 15_001);

    // A past no-spend weekend without expenses is won at once, with an achievement, once.
    let day = |back: i64| {
        let today = chrono::Utc::now().date_naive() - chrono::Days::new(back as u64);
        today.to_string()
    };
    let r = owner
        .post(
            "/api/challenges",
            json!({"kind": "no_spend", "days": 2, "starts_on": day(20)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let achievement = ws.until("achievement").await;
    assert!(achievement["data"]["achievement"]["title"]
        .as_str()
        .unwrap()
        .starts_with("Challenge won: Spend nothing"));

    let listed = member.json("/api/challenges").await;
    let statuses: Vec<&str> = listed["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["won", "lost"], "newest first, each settled");
    assert_eq!(listed["achievements"].as_array().unwrap().len(), 1);
    // Settling again changes nothing: no second achievement.
    owner.spend(&dining, 100, None).await;
    let listed = owner.json("/api/challenges").await;
    assert_eq!(listed["achievements"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_challenges_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (owner, _) = app.owner().await;
    let (stranger, _) = app.owner().await;
    let dining = owner.category("Dining out").await;
    let theirs = stranger.category("Dining out").await;
    let cases = [
        (
            json!({"kind": "category_cap", "category_id": dining, "limit_minor": 100, "days": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "category_cap", "category_id": dining, "limit_minor": 100, "days": 32}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "category_cap", "category_id": dining, "days": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "category_cap", "category_id": dining, "limit_minor": -5, "days": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "category_cap", "category_id": theirs, "limit_minor": 100, "days": 3}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"kind": "no_spend", "limit_minor": 100, "days": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "no_spend", "days": 3, "starts_on": "2001-01-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "no_spend", "days": 3, "starts_on": "yesterday"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "dance", "days": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"kind": "no_spend", "days": "3"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, status) in cases {
        let r = owner.post("/api/challenges", body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
    }
    let r = stranger
        .post("/api/challenges", json!({"kind": "no_spend", "days": 2}))
        .await;
    let theirs: Value = r.json().await.unwrap();
    let r = owner
        .post(
            &format!("/api/challenges/{}/accept", theirs["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(error_code(r, StatusCode::NOT_FOUND).await, "not_found");
    let r = owner
        .post("/api/challenges/not-an-id/accept", json!({}))
        .await;
    assert!(r.status().is_client_error());
    let listed = owner.json("/api/challenges").await;
    assert!(listed["challenges"].as_array().unwrap().is_empty());
    let r = app.client().get("/api/challenges").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
