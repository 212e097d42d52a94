//! CSV import over HTTP: an export reads back into another family, duplicates are flagged
//! and skipped, a bad line refuses the whole file, unknown categories are mapped.

use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn import(client: &crate::helpers::Client, query: &str, csv: &str) -> (StatusCode, Value) {
    let r = client
        .raw(
            Method::POST,
            &format!("/api/import?{query}"),
            csv.to_string(),
        )
        .await;
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn an_export_imports_into_another_family_once_and_duplicates_are_skipped() {
    let app = spawn_app().await;
    let (ana, _) = app.owner().await;
    let food = ana.category("Groceries").await;
    let month = ana.this_month().await;
    ana.spend(&food, 1250, Some(&format!("{month}-01"))).await;
    let r = ana
        .post(
            "/api/expenses",
            serde_json::json!({"category_id": food, "amount_minor": 300,
                               "note": "=cmd, \"quoted\"", "spent_on": format!("{month}-02")}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let csv = ana.get("/api/export.csv").await.text().await.unwrap();

    let (ben, _) = app.owner().await;
    let (status, preview) = import(&ben, "dry_run=true", &csv).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["imported"], 0);
    let rows = preview["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[1]["note"], "=cmd, \"quoted\"",
        "the note comes back as typed"
    );
    assert!(rows
        .iter()
        .all(|r| r["error"].is_null() && r["duplicate"] == false));
    assert_eq!(
        ben.expense_count(&month).await,
        0,
        "a dry run saves nothing"
    );

    let (status, done) = import(&ben, "dry_run=false", &csv).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["imported"], 2);
    let line = ben.line(&month, "Groceries").await;
    assert_eq!(line["spent_minor"], 1550);

    // Again: every row is a duplicate now, and skipped unless asked for.
    let (_, again) = import(&ben, "dry_run=false", &csv).await;
    assert_eq!(again["imported"], 0);
    assert!(again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["duplicate"] == true));
    let (_, forced) = import(&ben, "include_duplicates=true", &csv).await;
    assert_eq!(forced["imported"], 2);
    assert_eq!(ben.expense_count(&month).await, 4);

    // An import under a key (the browser's, for a file kept offline) sent twice saves once,
    // even with the duplicates asked for.
    let key = uuid::Uuid::new_v4();
    let keyed = format!("include_duplicates=true&key={key}");
    let (status, first) = import(&ben, &keyed, &csv).await;
    assert_eq!((status, &first["imported"]), (StatusCode::OK, &2.into()));
    let (status, replay) = import(&ben, &keyed, &csv).await;
    assert_eq!((status, &replay["imported"]), (StatusCode::OK, &0.into()));
    assert_eq!(ben.expense_count(&month).await, 6);
    let (status, bad) = import(&ben, "key=nope", &csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(ben.expense_count(&month).await, 6);
}

#[tokio::test]
async fn a_bad_line_refuses_the_whole_file_and_unknown_categories_are_mapped() {
    let app = spawn_app().await;
    let (ana, _) = app.owner().await;
    let month = ana.this_month().await;
    let bad = format!(
        "date,category,amount\n{month}-01,Groceries,5.00\n{month}-01,Groceries,five\n{month}-02,Groceries,1\n"
    );
    let (status, refused) = import(&ana, "", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["code"], "invalid_import");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("line 3: the amount \"five\""),
        "{message}"
    );
    assert!(refused["rows"][1]["error"].is_string());
    assert_eq!(ana.expense_count(&month).await, 0, "nothing half-imported");

    let foreign = format!("date,category,amount,note\n{month}-03,Lebensmittel,7.5,Brot\n");
    let (status, refused) = import(&ana, "dry_run=true", &foreign).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no category \"Lebensmittel\""));
    let food = ana.category("Groceries").await;
    let (status, done) = import(&ana, &format!("map[Lebensmittel]={food}"), &foreign).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["imported"], 1);
    assert_eq!(ana.line(&month, "Groceries").await["spent_minor"], 750);

    // Someone else's category id, a bad flag, an empty file, a file too big: clear errors.
    let (stranger, _) = app.owner().await;
    let theirs = stranger.category("Groceries").await;
    let (status, _) = import(&ana, &format!("map[Lebensmittel]={theirs}"), &foreign).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = import(&ana, "dry_run=maybe", &foreign).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, empty) = import(&ana, "", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("line 1"));
    let huge = format!(
        "date,category,amount,note\n{}",
        format!("{month}-01,Groceries,1,{}\n", "x".repeat(400)).repeat(6000)
    );
    // On a connection of its own: the server closes a connection whose body it refused
    // unread, and the shared client's pool would reuse it for the next request.
    let r = reqwest::Client::new()
        .post(ana.url("/api/import?dry_run=true"))
        .header("cookie", ana.cookie())
        .body(huge)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "too_large");
    assert_eq!(ana.expense_count(&month).await, 1);
}
