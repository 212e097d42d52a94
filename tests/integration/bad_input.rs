//! Every bad input the contract names gets its clear error and changes nothing.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const MONTH: &str = "2026-03";

#[tokio::test]
async fn malformed_json_is_400_and_wrong_types_are_422_naming_the_field() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    for body in ["{", "not json", r#"{"amount_minor": 5"#, ""] {
        let r = c.raw(Method::POST, "/api/expenses", body).await;
        assert_eq!(error_code(r, StatusCode::BAD_REQUEST).await, "malformed");
    }
    for (body, field) in [
        (
            json!({"category_id": food, "amount_minor": "12", "spent_on": "2026-03-01"}),
            "amount_minor",
        ),
        (
            json!({"category_id": "nope", "amount_minor": 12, "spent_on": "2026-03-01"}),
            "category_id",
        ),
        (
            json!({"category_id": food, "amount_minor": 0, "spent_on": "2026-03-01"}),
            "amount_minor",
        ),
        (
            json!({"category_id": food, "amount_minor": 1_000_000_000_001i64, "spent_on": "2026-03-01"}),
            "amount_minor",
        ),
        (
            json!({"category_id": food, "amount_minor": 5, "spent_on": "2026-02-30"}),
            "spent_on",
        ),
        (
            json!({"category_id": food, "amount_minor": 5, "note": "x".repeat(501)}),
            "note",
        ),
        (json!([1, 2]), "body"),
    ] {
        let r = c.post("/api/expenses", body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"]["code"], "invalid_field");
        assert!(
            b["error"]["message"].as_str().unwrap().starts_with(field),
            "{b}"
        );
    }
    let r = c
        .send(
            Method::PUT,
            &format!("/api/budgets/2026-13/{food}"),
            json!({"limit_minor": 5}),
        )
        .await;
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
    let r = c
        .send(
            Method::PUT,
            &format!("/api/budgets/{MONTH}/{food}"),
            json!({"limit_minor": -5}),
        )
        .await;
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
    let r = c.get("/api/budgets?month=March").await;
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
    assert_eq!(c.expense_count(MONTH).await, 0);
    assert_eq!(c.line(MONTH, "Groceries").await["limit_minor"], Value::Null);
}

/// Found by schemathesis 4.32: serde reads a struct from an array of its fields, so
/// `[null, null]` was a category patch of nothing (200). And JSON's `12.0` is the number 12,
/// as the OpenAPI document's `integer` says: it is taken, a fraction is not.
#[tokio::test]
async fn a_body_is_an_object_and_whole_numbers_may_carry_a_zero_fraction() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let path = format!("/api/categories/{food}");
    let r = c.raw(Method::PATCH, &path, "[null, null]").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["message"], "body: must be a JSON object");
    let r = c.raw(Method::PATCH, &path, r#"["Food", null]"#).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let categories = c.json("/api/categories").await;
    assert_eq!(categories["categories"][0]["name"], "Groceries");

    let r = c
        .raw(
            Method::POST,
            "/api/expenses",
            format!(r#"{{"category_id":"{food}","amount_minor":1250.0,"spent_on":"{MONTH}-02"}}"#),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    assert_eq!(made["amount_minor"], 1250);
    for amount in ["12.5", "1e30", "-0.5"] {
        let body = format!(
            r#"{{"category_id":"{food}","amount_minor":{amount},"spent_on":"{MONTH}-02"}}"#
        );
        let r = c.raw(Method::POST, "/api/expenses", body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{amount}");
        let b: Value = r.json().await.unwrap();
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("amount_minor"),
            "{b}"
        );
    }
    assert_eq!(c.expense_count(MONTH).await, 1);
    let r = c
        .send(
            Method::PUT,
            &format!("/api/budgets/{MONTH}/{food}"),
            json!({"limit_minor": 5000.0}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(c.line(MONTH, "Groceries").await["limit_minor"], 5000);
}

#[tokio::test]
async fn a_65_kib_body_is_413() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let body = format!(
        r#"{{"category_id":"{food}","amount_minor":5,"spent_on":"2026-03-01","note":"{}"}}"#,
        "x".repeat(65 * 1024)
    );
    let r = c.raw(Method::POST, "/api/expenses", body).await;
    assert_eq!(
        error_code(r, StatusCode::PAYLOAD_TOO_LARGE).await,
        "too_large"
    );
    assert_eq!(c.expense_count(MONTH).await, 0);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_with_csrf_and_changes_nothing() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let r = c
        .http
        .post(c.url("/api/expenses"))
        .header("origin", "https://evil.example")
        .json(&json!({"category_id": food, "amount_minor": 5, "spent_on": "2026-03-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, StatusCode::FORBIDDEN).await, "csrf");
    let same = c
        .http
        .post(c.url("/api/expenses"))
        .header("origin", c.base.clone())
        .json(&json!({"category_id": food, "amount_minor": 5, "spent_on": "2026-03-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::CREATED);
    assert_eq!(c.expense_count(MONTH).await, 1);
}

#[tokio::test]
async fn unknown_api_routes_answer_404_in_the_contracts_shape() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(
        error_code(c.get("/api/nothing/here").await, StatusCode::NOT_FOUND).await,
        "not_found"
    );
}

#[tokio::test]
async fn a_typed_query_parameter_given_empty_is_422_and_an_empty_search_text_is_no_text() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    for path in [
        "/api/budgets?month=",
        "/api/expenses?month=",
        "/api/insights?month=",
        "/api/trends?months=",
        "/api/chat?limit=",
        "/api/export.csv?from=&to=",
        "/api/expenses?limit=",
        "/api/expenses?category_id=",
        "/api/expenses?member_id=",
        "/api/expenses?min_minor=",
        "/api/expenses?from=",
    ] {
        let r = c.get(path).await;
        assert_eq!(
            error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
            "invalid_field",
            "{path}"
        );
    }
    // The search box left empty: the month's list, as without it.
    for path in ["/api/expenses?q=", "/api/expenses?q=&cursor="] {
        assert_eq!(c.get(path).await.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_query_parameter_a_route_does_not_take_is_422_naming_it() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    for path in [
        "/api/budgets?mnth=2026-01",
        "/api/expenses?month=2026-01&x=1",
        "/api/insights?monht=2026-01",
        "/api/trends?month=2026-01",
        "/api/chat?limit=5&before=1",
        "/api/export.csv?since=2026-01-01",
    ] {
        let r = c.get(path).await;
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_field", "{path}: {body}");
        let unknown = path.rsplit('&').next().unwrap();
        let name = unknown
            .rsplit('?')
            .next()
            .unwrap()
            .split('=')
            .next()
            .unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{name}`")), "{path}: {message}");
    }
    let r = c.delete(&format!("/api/categories/{food}?moveto=x")).await;
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
    // What the routes do take still works.
    for path in [
        "/api/budgets?month=2026-01",
        "/api/expenses?month=2026-01&q=bread&limit=5",
        "/api/trends?months=6",
        "/api/chat?limit=5",
    ] {
        assert_eq!(c.get(path).await.status(), StatusCode::OK, "{path}");
    }
}
