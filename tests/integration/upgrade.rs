//! Upgrades: the current server starts on databases made by Hearth's first schema (only the
//! first migration, with two families' data) and everything is there and right.
//!
//! The databases are kept as fixtures, made once by the ignored test below (run it again only
//! to change the data, never after a migration lands): `tests/fixtures/first-migration.sqlite`
//! and a `pg_dump --inserts` of the same in `tests/fixtures/first-migration.postgres.sql`, both
//! from `tests/fixtures/first-migration-data.sql`. A changed first migration fails here (its
//! checksum no longer matches the one the fixture recorded).

use crate::helpers::{spawn_app_with, PgSchema, TestApp};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const FIXTURE_SCHEMA: &str = "hearth_fixture_first";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn line<'a>(budget: &'a Value, name: &str) -> &'a Value {
    budget["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["category_name"] == name)
        .unwrap_or_else(|| panic!("no line {name} in {budget}"))
}

/// What the fixture holds, as the current API shows it.
async fn check_the_fixture_families(app: &TestApp) {
    // Ana owns "Fixture Home" (EUR, Berlin) with Ben; the Groceries limit set for October
    // still holds in November.
    let ana = app.sign_in("ana@fixture.example").await;
    let me = ana.json("/api/me").await;
    assert_eq!(me["family"]["name"], "Fixture Home", "{me}");
    let budget = ana.budget("2026-11").await;
    assert_eq!(budget["currency"], "EUR");
    assert_eq!(line(&budget, "Groceries")["limit_minor"], 40000);
    assert_eq!(line(&budget, "Groceries")["spent_minor"], 4599 + 12345);
    assert_eq!(line(&budget, "Housing")["limit_minor"], 95000);
    assert_eq!(line(&budget, "Housing")["spent_minor"], 95000);
    assert_eq!(budget["totals"]["spent_minor"], 111944);
    assert_eq!(budget["totals"]["limit_minor"], 135000);
    let october = ana.budget("2026-10").await;
    assert_eq!(october["totals"]["spent_minor"], 1250);
    let notes: Vec<Value> = ana.json("/api/expenses?month=2026-11").await["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].clone())
        .collect();
    assert_eq!(notes.len(), 3);
    for note in ["rent", "weekly shop"] {
        assert!(notes.contains(&json!(note)), "{note} in {notes:?}");
    }
    assert!(notes.contains(&Value::Null), "an expense without a note");

    // Ben is a member of the same family and sees the same month.
    let ben = app.sign_in("ben@fixture.example").await;
    assert_eq!(ben.budget("2026-11").await["totals"], budget["totals"]);

    // Cleo's family (USD, New York) is separate.
    let cleo = app.sign_in("cleo@fixture.example").await;
    let flat = cleo.budget("2026-11").await;
    assert_eq!(flat["currency"], "USD");
    assert_eq!(flat["minor_units"], 2);
    assert_eq!(line(&flat, "Food")["limit_minor"], 30000);
    assert_eq!(line(&flat, "Food")["spent_minor"], 899);
    assert_eq!(line(&flat, "Transport")["limit_minor"], Value::Null);
    assert_eq!(flat["totals"]["spent_minor"], 3399);

    // Dan never joined a family: still signed up, still without one.
    let dan = app.sign_in("dan@fixture.example").await;
    assert_eq!(dan.json("/api/me").await["family"], Value::Null);

    // What later versions added works on the old data: an expense, a challenge, an old
    // expense edited with its version.
    let groceries = ana.category("Groceries").await;
    ana.spend(&groceries, 100, Some("2026-11-21")).await;
    assert_eq!(
        ana.budget("2026-11").await["totals"]["spent_minor"],
        111944 + 100
    );
    let r = ana
        .post("/api/challenges", json!({"kind": "no_spend", "days": 2}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let r = cleo
        .send(
            reqwest::Method::PATCH,
            "/api/expenses/6a1f4c1e-0000-4000-8000-00000000b001",
            json!({"amount_minor": 999, "version": 1}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(
        line(&cleo.budget("2026-11").await, "Food")["spent_minor"],
        999
    );
}

#[tokio::test]
async fn the_current_server_upgrades_a_first_version_sqlite_database() {
    let db = std::env::temp_dir().join(format!("hearth-upgrade-{}.db", uuid::Uuid::new_v4()));
    std::fs::copy(fixtures().join("first-migration.sqlite"), &db).unwrap();
    let app = spawn_app_with(&[("DATABASE_URL", &format!("sqlite://{}", db.display()))]).await;
    check_the_fixture_families(&app).await;
}

#[tokio::test]
async fn the_current_server_upgrades_a_first_version_postgres_database() {
    let schema = PgSchema::fresh();
    let dump = std::fs::read_to_string(fixtures().join("first-migration.postgres.sql")).unwrap();
    let dump = dump.replace(FIXTURE_SCHEMA, &schema.schema);
    let admin = sqlx::PgPool::connect(&schema.url).await.unwrap();
    sqlx::raw_sql(&dump).execute(&admin).await.unwrap();
    admin.close().await;
    let app = spawn_app_with(&[("DATABASE_URL", &schema.database_url())]).await;
    check_the_fixture_families(&app).await;
}

/// Makes the fixtures: the first migration alone, then the data. Run with
/// `cargo test -p hearth --test integration make_upgrade_fixtures -- --ignored`.
#[tokio::test]
#[ignore = "makes the fixtures; run by hand"]
async fn make_upgrade_fixtures() {
    let first = tempfile::tempdir().unwrap();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut names: Vec<_> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    std::fs::copy(migrations.join(&names[0]), first.path().join(&names[0])).unwrap();
    let migrator = sqlx::migrate::Migrator::new(first.path()).await.unwrap();
    let data = std::fs::read_to_string(fixtures().join("first-migration-data.sql")).unwrap();

    let file = fixtures().join("first-migration.sqlite");
    let _ = std::fs::remove_file(&file);
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true);
    let sqlite = sqlx::SqlitePool::connect_with(options).await.unwrap();
    migrator.run(&sqlite).await.unwrap();
    sqlx::raw_sql(&data).execute(&sqlite).await.unwrap();
    sqlx::query("VACUUM").execute(&sqlite).await.unwrap();
    sqlite.close().await;

    let url = PgSchema::fresh().url;
    let pg = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {FIXTURE_SCHEMA} CASCADE; CREATE SCHEMA {FIXTURE_SCHEMA}"
    ))
    .execute(&pg)
    .await
    .unwrap();
    pg.close().await;
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let pg = sqlx::PgPool::connect_with(options.options([("search_path", FIXTURE_SCHEMA)]))
        .await
        .unwrap();
    migrator.run(&pg).await.unwrap();
    sqlx::raw_sql(&data).execute(&pg).await.unwrap();
    pg.close().await;
    let dump = std::process::Command::new("pg_dump")
        .args([
            "--schema",
            FIXTURE_SCHEMA,
            "--inserts",
            "--no-owner",
            "--no-privileges",
            &url,
        ])
        .output()
        .unwrap();
    assert!(dump.status.success(), "{dump:?}");
    // Plain SQL for any client: without psql's `\\restrict` guard lines.
    let dump: String = String::from_utf8(dump.stdout)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(fixtures().join("first-migration.postgres.sql"), dump).unwrap();
}
