//! Recurring expenses over HTTP: rules make their days once (two servers on one database
//! included), show what is upcoming, change only what is still to come, and refuse bad input.

use crate::helpers::{error_code, spawn_app, spawn_app_with, unique_email};
use chrono::{Datelike, Duration, NaiveDate};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn day(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().expect("a day"), "%Y-%m-%d").unwrap()
}

/// The expenses a rule made, oldest first.
async fn made_by(client: &crate::helpers::Client, rule: &str, from: NaiveDate) -> Vec<Value> {
    let found = client
        .json(&format!("/api/expenses?from={from}&limit=200"))
        .await;
    let mut made: Vec<Value> = found["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["recurring_id"] == rule)
        .cloned()
        .collect();
    made.reverse();
    made
}

async fn wait_for_made(client: &crate::helpers::Client, rule: &str, from: NaiveDate, n: usize) {
    for _ in 0..200 {
        if made_by(client, rule, from).await.len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the rule made fewer than {n} expenses");
}

#[tokio::test]
async fn a_rule_makes_its_due_days_once_even_on_two_servers_and_shows_what_is_upcoming() {
    let first = spawn_app().await;
    let db = format!("sqlite://{}", first.db_path.display());
    let email = unique_email();
    let owner = first.client();
    owner.register(&email).await;
    let r = owner
        .post(
            "/api/families",
            json!({"name":"Home","currency":"EUR","timezone":"Europe/Berlin"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let home = owner.category("Housing").await;
    let today = day(&owner.json("/api/budgets").await["today"]);
    let starts = today - Duration::days(21);

    let created = owner
        .post(
            "/api/recurring",
            json!({"category_id": home, "amount_minor": 2500, "note": "cleaner",
                   "every": "week", "starts_on": starts.to_string()}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let rule: Value = created.json().await.unwrap();
    let id = rule["rule"]["id"].as_str().unwrap().to_string();
    assert_eq!(rule["rule"]["every"], "week");

    // A second server on the same database changes the rule at once: both servers look for
    // due days now, each without the other's lock (no Redis here); each day is made once.
    let second = spawn_app_with(&[("DATABASE_URL", &db)]).await;
    let on_second = second.sign_in(&email).await;
    let patched = on_second
        .send(
            Method::PATCH,
            &format!("/api/recurring/{id}"),
            json!({"note": "cleaner!"}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    // A third starts on it and makes what is due at its first pass.
    let _third = spawn_app_with(&[("DATABASE_URL", &db)]).await;
    wait_for_made(&owner, &id, starts, 4).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let made = made_by(&owner, &id, starts).await;
    let days: Vec<NaiveDate> = made.iter().map(|e| day(&e["spent_on"])).collect();
    let expected: Vec<NaiveDate> = (0..4).map(|w| starts + Duration::weeks(w)).collect();
    assert_eq!(days, expected, "each weekly day once, today's included");
    assert!(made
        .iter()
        .all(|e| e["amount_minor"] == 2500 && e["created_by_name"] == "Sam"));

    // What is still to come this month is upcoming on the line, and the rule says when.
    let rules = owner.json("/api/recurring").await;
    let next = day(&rules["rules"][0]["next_on"]);
    assert_eq!(next, today + Duration::weeks(1));
    let upcoming_days = (1..6)
        .map(|w| today + Duration::weeks(w))
        .filter(|d| d.month() == today.month())
        .count() as i64;
    let month = owner.this_month().await;
    let line = owner.line(&month, "Housing").await;
    assert_eq!(line["upcoming_minor"], 2500 * upcoming_days);

    // A change applies to the days still to come; what was made stays as it was.
    let patched = owner
        .send(
            Method::PATCH,
            &format!("/api/recurring/{id}"),
            json!({"amount_minor": 3000}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let line = owner.line(&month, "Housing").await;
    assert_eq!(line["upcoming_minor"], 3000 * upcoming_days);
    assert!(made_by(&owner, &id, starts)
        .await
        .iter()
        .all(|e| e["amount_minor"] == 2500));

    // Deleting a made expense leaves the rule; deleting the rule leaves its expenses.
    let one = made[0]["id"].as_str().unwrap();
    let r = owner.delete(&format!("/api/expenses/{one}")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        owner.json("/api/recurring").await["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = owner.delete(&format!("/api/recurring/{id}")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(owner.json("/api/recurring").await["rules"]
        .as_array()
        .unwrap()
        .is_empty());
    let kept = owner
        .json(&format!("/api/expenses?from={starts}&q=cleaner"))
        .await;
    let kept: Vec<&Value> = kept["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["note"] == "cleaner")
        .collect();
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|e| e["recurring_id"].is_null()));
    assert_eq!(owner.line(&month, "Housing").await["upcoming_minor"], 0);
}

#[tokio::test]
async fn bad_rules_get_a_clear_error_and_change_nothing() {
    let app = spawn_app().await;
    let (owner, _) = app.owner().await;
    let home = owner.category("Housing").await;
    let today = day(&owner.json("/api/budgets").await["today"]);
    let good = json!({"category_id": home, "amount_minor": 100, "every": "month",
                      "starts_on": today.to_string()});
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let too_early = (today - Duration::days(400)).to_string();
    for (body, field) in [
        (with("every", json!("daily")), "every"),
        (with("amount_minor", json!(0)), "amount_minor"),
        (with("starts_on", json!("2026-02-30")), "starts_on"),
        (with("starts_on", json!(too_early)), "starts_on"),
        (
            with("ends_on", json!((today - Duration::days(1)).to_string())),
            "ends_on",
        ),
        (with("note", json!("x".repeat(501))), "note"),
        (with("surprise", json!(1)), "surprise"),
    ] {
        let r = owner.post("/api/recurring", body.clone()).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {body}"
        );
    }
    let foreign = with("category_id", json!(uuid::Uuid::new_v4()));
    let r = owner.post("/api/recurring", foreign).await;
    assert_eq!(error_code(r, StatusCode::NOT_FOUND).await, "not_found");
    assert!(owner.json("/api/recurring").await["rules"]
        .as_array()
        .unwrap()
        .is_empty());

    // Another family's rule is not found, to read, change or delete.
    let r = owner.post("/api/recurring", good.clone()).await;
    let rule: Value = r.json().await.unwrap();
    let id = rule["rule"]["id"].as_str().unwrap();
    let (stranger, _) = app.owner().await;
    let r = stranger
        .send(
            Method::PATCH,
            &format!("/api/recurring/{id}"),
            json!({"amount_minor": 5}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        stranger
            .delete(&format!("/api/recurring/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(stranger.json("/api/recurring").await["rules"]
        .as_array()
        .unwrap()
        .is_empty());
    let r = owner
        .send(
            Method::PATCH,
            &format!("/api/recurring/{id}"),
            json!({"every": "fortnight"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        owner.json("/api/recurring").await["rules"][0]["amount_minor"],
        100
    );

    // A category with a rule (and the expense it made today) is in use: the answer says so,
    // and moving takes the rule along.
    let other = owner.category("Groceries").await;
    let r = owner.delete(&format!("/api/categories/{home}")).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "category_in_use");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("1 expense and 1 recurring rule use this"),
        "{message}"
    );
    let r = owner
        .delete(&format!("/api/categories/{home}?move_to={other}"))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        owner.json("/api/recurring").await["rules"][0]["category_id"],
        other
    );
}

#[tokio::test]
async fn a_rule_sent_again_with_its_client_id_is_made_once() {
    let app = spawn_app().await;
    let (owner, _) = app.owner().await;
    let home = owner.category("Housing").await;
    let today = day(&owner.json("/api/budgets").await["today"]);
    let id = uuid::Uuid::new_v4();
    let body = json!({"id": id, "category_id": home, "amount_minor": 95000, "every": "month",
                      "note": "Rent", "starts_on": (today + Duration::days(3)).to_string()});
    let first = owner.post("/api/recurring", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["rule"]["id"], id.to_string());
    // The outbox's replay (its first answer lost): the same rule, not a second one.
    let again = owner.post("/api/recurring", body.clone()).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["rule"], first["rule"]);
    assert_eq!(
        owner.json("/api/recurring").await["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Another family cannot take the id (nor learn more than that it is taken).
    let (stranger, _) = app.owner().await;
    let theirs = stranger.category("Housing").await;
    let mut body = body;
    body["category_id"] = json!(theirs);
    let r = stranger.post("/api/recurring", body).await;
    assert_eq!(error_code(r, StatusCode::CONFLICT).await, "duplicate_id");
    assert!(stranger.json("/api/recurring").await["rules"]
        .as_array()
        .unwrap()
        .is_empty());
}
