//! `hearth backup` and `hearth restore`, run as the binary a host runs: a backup taken while
//! the server writes restores into a fresh server with every acknowledged expense and every
//! family's totals; bad requests change nothing.

use crate::helpers::{spawn_app, spawn_app_with, unique_email, Client, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Runs the `hearth` binary with `DATABASE_URL` pointing at `db`: (success, what it printed).
async fn hearth(db: &str, args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"));
    command
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("REDIS_URL");
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn sqlite(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("hearth-{name}-{}.db", uuid::Uuid::new_v4()))
}

struct Family {
    email: String,
    client: Client,
    category: String,
}

async fn families(app: &TestApp, n: usize) -> Vec<Family> {
    let mut out = Vec::new();
    for _ in 0..n {
        let client = app.client();
        let email = unique_email();
        client.register(&email).await;
        let r = client
            .post(
                "/api/families",
                json!({"name":"Home","currency":"EUR","timezone":"Europe/Berlin"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let category = client.category("Groceries").await;
        out.push(Family {
            email,
            client,
            category,
        });
    }
    out
}

/// The month's expense ids and the budget's totals, which must agree with each other.
async fn ledger(client: &Client, month: &str) -> (BTreeSet<String>, Value) {
    let expenses = client.json(&format!("/api/expenses?month={month}")).await;
    let list = expenses["expenses"].as_array().unwrap();
    let ids = list
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let sum: i64 = list
        .iter()
        .map(|e| e["amount_minor"].as_i64().unwrap())
        .sum();
    let budget = client.budget(month).await;
    assert_eq!(
        budget["totals"]["spent_minor"].as_i64(),
        Some(sum),
        "the totals are the sum of the expenses"
    );
    (ids, budget)
}

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_into_a_fresh_server() {
    let app = spawn_app().await;
    let fams = families(&app, 3).await;
    let month = fams[0].client.this_month().await;
    let acked = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (i, f) in fams.iter().enumerate() {
        let client = f.client.on(&app.base);
        let (category, acked, stop) = (f.category.clone(), acked.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let e = client.spend(&category, 100 + n, None).await;
                acked
                    .lock()
                    .unwrap()
                    .push((i, e["id"].as_str().unwrap().to_string()));
            }
        }));
    }
    let acked_in_order = |acked: &Arc<Mutex<Vec<(usize, String)>>>, family: usize| -> Vec<String> {
        acked
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| *i == family)
            .map(|(_, id)| id.clone())
            .collect()
    };
    let acked_by = |acked: &Arc<Mutex<Vec<(usize, String)>>>, family: usize| -> BTreeSet<String> {
        acked_in_order(acked, family).into_iter().collect()
    };

    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let before: Vec<_> = (0..fams.len()).map(|i| acked_by(&acked, i)).collect();
    let file = temp("backup");
    let (ok, said) = hearth(&sqlite(&app.db_path), &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "backup: {said}");
    assert!(said.contains("backed up 3 families"), "{said}");
    let after: Vec<_> = (0..fams.len()).map(|i| acked_by(&acked, i)).collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let total = acked.lock().unwrap().len();
    assert!(
        total > after.iter().map(BTreeSet::len).sum::<usize>(),
        "the server kept writing after the backup ({total} writes)"
    );

    let fresh = temp("restored");
    let (ok, said) = hearth(&sqlite(&fresh), &["restore", file.to_str().unwrap()]).await;
    assert!(ok, "restore: {said}");
    let restored = spawn_app_with(&[("DATABASE_URL", &sqlite(&fresh))]).await;
    for (i, f) in fams.iter().enumerate() {
        let client = restored.sign_in(&f.email).await;
        let (ids, _) = ledger(&client, &month).await;
        // Each family's writer waits for one write before the next: a consistent snapshot
        // holds the first k of its writes in the order they were acknowledged, no holes;
        // all acknowledged before the backup began, at most one more than were
        // acknowledged when it ended (committed, its answer still on the way).
        let sequence = acked_in_order(&acked, i);
        let k = ids.len();
        assert!(k <= sequence.len(), "no write that was never acknowledged");
        assert_eq!(
            ids,
            sequence[..k].iter().cloned().collect::<BTreeSet<_>>(),
            "a prefix of the family's writes"
        );
        assert!(
            k >= before[i].len(),
            "every write acknowledged before the backup began is in it"
        );
        assert!(k <= after[i].len() + 1, "nothing written after it ended");
    }

    // Once the writes stop, a second backup restores to exactly the source's totals.
    let second = temp("backup");
    let (ok, said) = hearth(&sqlite(&app.db_path), &["backup", second.to_str().unwrap()]).await;
    assert!(ok, "{said}");
    let again = temp("restored");
    let (ok, said) = hearth(&sqlite(&again), &["restore", second.to_str().unwrap()]).await;
    assert!(ok, "{said}");
    let restored = spawn_app_with(&[("DATABASE_URL", &sqlite(&again))]).await;
    let mut written = 0;
    for (i, f) in fams.iter().enumerate() {
        let (source_ids, source_budget) = ledger(&f.client, &month).await;
        let client = restored.sign_in(&f.email).await;
        let (ids, budget) = ledger(&client, &month).await;
        assert_eq!(ids, source_ids);
        assert_eq!(ids, acked_by(&acked, i), "every acknowledged write, once");
        assert_eq!(budget["totals"], source_budget["totals"]);
        assert_eq!(budget["lines"], source_budget["lines"]);
        written += ids.len();
    }
    assert_eq!(written, total);
}

#[tokio::test]
async fn a_bad_backup_or_restore_says_why_and_changes_nothing() {
    let app = spawn_app().await;
    let fams = families(&app, 1).await;
    let month = fams[0].client.this_month().await;
    fams[0].client.spend(&fams[0].category, 250, None).await;
    let db = sqlite(&app.db_path);

    // A backup never overwrites a file.
    let existing = temp("existing");
    std::fs::write(&existing, "keep me").unwrap();
    let (ok, said) = hearth(&db, &["backup", existing.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(said.contains("already exists"), "{said}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    // No database, no backup (and none created).
    let missing = temp("missing");
    let (ok, said) = hearth(&sqlite(&missing), &["backup", temp("x").to_str().unwrap()]).await;
    assert!(!ok);
    assert!(said.contains("no database"), "{said}");
    assert!(!missing.exists());

    // A file that is not a backup is refused before anything is touched.
    let (ok, said) = hearth(&db, &["restore", "--force", existing.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(said.contains("is not a Hearth backup"), "{said}");
    let (ids, _) = ledger(&fams[0].client, &month).await;
    assert_eq!(ids.len(), 1, "the served database is unchanged");

    // Restoring over a database needs --force.
    let file = temp("backup");
    let (ok, said) = hearth(&db, &["backup", file.to_str().unwrap()]).await;
    assert!(ok, "{said}");
    let other = temp("other");
    std::fs::write(&other, "").unwrap();
    let (ok, said) = hearth(&sqlite(&other), &["restore", file.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(said.contains("--force"), "{said}");
    assert_eq!(std::fs::metadata(&other).unwrap().len(), 0);
    let (ok, said) = hearth(
        &sqlite(&other),
        &["restore", "--force", file.to_str().unwrap()],
    )
    .await;
    assert!(ok, "{said}");
    assert!(said.contains("restored 1 families"), "{said}");

    // PostgreSQL has its own tools.
    let (ok, said) = hearth(
        "postgres://postgres@127.0.0.1:5432/test",
        &["backup", temp("pg").to_str().unwrap()],
    )
    .await;
    assert!(!ok);
    assert!(said.contains("pg_dump"), "{said}");

    // Unknown arguments are one line and exit code 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["backup"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
