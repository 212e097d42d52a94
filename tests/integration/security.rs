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
