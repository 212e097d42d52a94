//! One contract suite for the `Store` trait, run against SQLite (a fresh file per test) and
//! PostgreSQL (a fresh schema per test; `HEARTH_TEST_POSTGRES`, by default the local
//! server's `test` database).

use app::model::{Category, ChallengeKind, ChallengeStatus, Every, Role};
use chrono::NaiveDate;
use hearth::store::{
    ChallengeRecord, ExpenseChanges, FamilyRecord, Inserted, NewExpenseRecord, RuleRecord,
    SqliteStore, Store, StoreError, UserRecord,
};
use std::sync::Arc;
use uuid::Uuid;

async fn sqlite() -> Arc<dyn Store> {
    let path = std::env::temp_dir().join(format!("hearth-contract-{}.db", Uuid::new_v4()));
    Arc::new(SqliteStore::open(&path).await.expect("sqlite opens"))
}

async fn postgres() -> Arc<dyn Store> {
    crate::helpers::PgSchema::fresh().store().await
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[tokio::test] async fn $name() { super::$name(super::sqlite().await).await } )*
        }
        mod on_postgres {
            $( #[tokio::test] async fn $name() { super::$name(super::postgres().await).await } )*
        }
    };
}

contract!(
    users_are_unique_by_email,
    a_family_is_created_with_its_owner_and_categories,
    joining_twice_is_a_conflict,
    categories_are_scoped_to_their_family,
    limits_are_upserted_and_listed_by_month,
    spending_is_summed_per_category_within_the_days,
    a_search_filters_and_pages_without_repeating_or_skipping,
    inserting_an_expense_is_idempotent_on_its_id,
    updates_check_the_version,
    deleting_returns_the_expense_once,
    a_category_in_use_is_deleted_only_by_moving_what_names_it,
    recently_active_families_are_those_with_recent_expenses,
    a_rule_makes_each_day_once_and_its_expenses_outlive_it,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn user(email: &str) -> UserRecord {
    UserRecord {
        id: Uuid::new_v4(),
        email: email.into(),
        password_hash: "$argon2id$x".into(),
        display_name: "Sam".into(),
        family_id: None,
        role: None,
        created_at_ms: 1_700_000_000_000,
    }
}

fn cat(name: &str) -> Category {
    Category {
        id: Uuid::new_v4(),
        name: name.into(),
        color: "#2f855a".into(),
    }
}

/// A family with an owner and one category, "Food".
async fn family(store: &Arc<dyn Store>) -> (UserRecord, FamilyRecord, Category) {
    let owner = user(&format!("{}@x.io", Uuid::new_v4().simple()));
    store.create_user(&owner).await.unwrap();
    let f = FamilyRecord {
        id: Uuid::new_v4(),
        name: "Home".into(),
        currency: "EUR".into(),
        timezone: "Europe/Berlin".into(),
        invite_code: Uuid::new_v4().simple().to_string()[..10].to_uppercase(),
        created_at_ms: 1_700_000_000_000,
    };
    let food = cat("Food");
    store
        .create_family(&f, owner.id, std::slice::from_ref(&food))
        .await
        .unwrap();
    (owner, f, food)
}

fn expense(
    f: &FamilyRecord,
    owner: &UserRecord,
    category: Uuid,
    amount: i64,
    on: &str,
) -> NewExpenseRecord {
    NewExpenseRecord {
        id: Uuid::new_v4(),
        family_id: f.id,
        category_id: category,
        amount_minor: amount,
        note: Some("note".into()),
        spent_on: day(on),
        created_by: owner.id,
        now_ms: 1_700_000_000_000,
        body_hash: format!("{category}|{amount}|{on}"),
    }
}

async fn users_are_unique_by_email(store: Arc<dyn Store>) {
    let u = user("dup@x.io");
    store.create_user(&u).await.unwrap();
    assert!(matches!(
        store.create_user(&user("dup@x.io")).await,
        Err(StoreError::Conflict("email_taken"))
    ));
    assert_eq!(
        store.user_by_email("dup@x.io").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(store.user_by_id(u.id).await.unwrap(), Some(u));
    assert_eq!(store.user_by_email("none@x.io").await.unwrap(), None);
    store.ping().await.unwrap();
}

async fn a_family_is_created_with_its_owner_and_categories(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let owner = store.user_by_id(owner.id).await.unwrap().unwrap();
    assert_eq!(owner.family_id, Some(f.id));
    assert_eq!(owner.role, Some(Role::Owner));
    assert_eq!(store.family(f.id).await.unwrap(), Some(f.clone()));
    assert_eq!(
        store.family_by_invite(&f.invite_code).await.unwrap(),
        Some(f.clone())
    );
    assert_eq!(store.categories(f.id).await.unwrap(), vec![food]);
    assert_eq!(store.members(f.id).await.unwrap().len(), 1);
}

async fn joining_twice_is_a_conflict(store: Arc<dyn Store>) {
    let (owner, f, _) = family(&store).await;
    let m = user("member@x.io");
    store.create_user(&m).await.unwrap();
    store.join_family(m.id, f.id).await.unwrap();
    assert_eq!(
        store.user_by_id(m.id).await.unwrap().unwrap().role,
        Some(Role::Member)
    );
    assert!(matches!(
        store.join_family(m.id, f.id).await,
        Err(StoreError::Conflict("already_in_family"))
    ));
    let other = FamilyRecord {
        id: Uuid::new_v4(),
        invite_code: "OTHERCODE2".into(),
        ..f.clone()
    };
    assert!(matches!(
        store.create_family(&other, owner.id, &[]).await,
        Err(StoreError::Conflict("already_in_family"))
    ));
    // The failed creation left nothing behind.
    assert_eq!(store.family(other.id).await.unwrap(), None);
    assert_eq!(store.members(f.id).await.unwrap().len(), 2);
}

async fn categories_are_scoped_to_their_family(store: Arc<dyn Store>) {
    let (_, a, a_food) = family(&store).await;
    let (_, b, _) = family(&store).await;
    assert!(matches!(
        store.create_category(a.id, &cat("Food")).await,
        Err(StoreError::Conflict("category_exists"))
    ));
    let mut renamed = a_food.clone();
    renamed.name = "Groceries".into();
    assert!(matches!(
        store.update_category(b.id, &renamed).await,
        Err(StoreError::NotFound)
    ));
    store.update_category(a.id, &renamed).await.unwrap();
    assert_eq!(store.categories(a.id).await.unwrap()[0].name, "Groceries");
    assert!(matches!(
        store.delete_category(b.id, a_food.id, None, 0).await,
        Err(StoreError::NotFound)
    ));
    store
        .delete_category(a.id, a_food.id, None, 0)
        .await
        .unwrap();
    assert!(store.categories(a.id).await.unwrap().is_empty());
}

async fn limits_are_upserted_and_listed_by_month(store: Arc<dyn Store>) {
    let (_, f, food) = family(&store).await;
    let (_, other, _) = family(&store).await;
    store
        .set_limit(f.id, food.id, "2026-02", 100)
        .await
        .unwrap();
    store.set_limit(f.id, food.id, "2026-01", 50).await.unwrap();
    store
        .set_limit(f.id, food.id, "2026-02", 200)
        .await
        .unwrap();
    assert!(matches!(
        store.set_limit(other.id, food.id, "2026-02", 1).await,
        Err(StoreError::NotFound)
    ));
    let limits = store.limits_until(f.id, "2026-03").await.unwrap();
    let got: Vec<(&str, i64)> = limits
        .iter()
        .map(|l| (l.month.as_str(), l.limit_minor))
        .collect();
    assert_eq!(got, vec![("2026-01", 50), ("2026-02", 200)]);
    assert_eq!(store.limits_until(f.id, "2026-01").await.unwrap().len(), 1);
    assert!(store
        .limits_until(other.id, "2026-12")
        .await
        .unwrap()
        .is_empty());
}

async fn spending_is_summed_per_category_within_the_days(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    for (amount, on) in [
        (100, "2026-03-01"),
        (250, "2026-03-31"),
        (999, "2026-04-01"),
        (7, "2026-02-28"),
    ] {
        store
            .insert_expense(&expense(&f, &owner, food.id, amount, on))
            .await
            .unwrap();
    }
    let spent = store
        .spent_by_category(f.id, day("2026-03-01"), day("2026-04-01"))
        .await
        .unwrap();
    assert_eq!(spent, vec![(food.id, 350)]);
    let by_member = store
        .spent_by_member(f.id, day("2026-03-01"), day("2026-04-01"))
        .await
        .unwrap();
    assert_eq!(
        by_member,
        vec![app::model::MemberSpent {
            user_id: owner.id,
            display_name: owner.display_name.clone(),
            spent_minor: 350
        }]
    );
    let quiet = store
        .spent_by_member(f.id, day("2027-01-01"), day("2027-02-01"))
        .await
        .unwrap();
    assert_eq!(
        quiet[0].spent_minor, 0,
        "a member who spent nothing is listed"
    );
    let listed = store
        .expenses(f.id, day("2026-03-01"), day("2026-04-01"), None, None)
        .await
        .unwrap();
    assert!(listed
        .iter()
        .all(|e| e.created_by == owner.id && e.created_by_name == owner.display_name));
    let mine = store
        .expenses(
            f.id,
            day("2026-03-01"),
            day("2026-04-01"),
            None,
            Some(owner.id),
        )
        .await
        .unwrap();
    assert_eq!(mine, listed, "the member's own");
    assert!(store
        .expenses(
            f.id,
            day("2026-03-01"),
            day("2026-04-01"),
            None,
            Some(Uuid::new_v4())
        )
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        listed
            .iter()
            .map(|e| e.spent_on.as_str())
            .collect::<Vec<_>>(),
        vec!["2026-03-31", "2026-03-01"]
    );
    assert!(store
        .expenses(
            f.id,
            day("2026-03-01"),
            day("2026-04-01"),
            Some(Uuid::new_v4()),
            None
        )
        .await
        .unwrap()
        .is_empty());
}

async fn a_search_filters_and_pages_without_repeating_or_skipping(store: Arc<dyn Store>) {
    use hearth::store::{ExpenseSearch, SearchPosition};
    let (owner, f, food) = family(&store).await;
    let notes = [
        ("Bread and milk", 250, "2026-01-05"),
        ("BREAD rolls", 120, "2026-02-10"),
        ("rent", 95_000, "2026-02-01"),
        ("50% off_sale", 999, "2026-02-11"),
        ("bread", 300, "2026-03-01"),
    ];
    for (note, amount, on) in notes {
        let e = NewExpenseRecord {
            note: Some(note.into()),
            ..expense(&f, &owner, food.id, amount, on)
        };
        store.insert_expense(&e).await.unwrap();
    }
    let find = |search: ExpenseSearch| {
        let store = store.clone();
        async move {
            store
                .search_expenses(
                    f.id,
                    &ExpenseSearch {
                        limit: 100,
                        ..search
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.note.unwrap_or_default())
                .collect::<Vec<_>>()
        }
    };
    let text = |t: &str| ExpenseSearch {
        text: Some(t.into()),
        ..Default::default()
    };
    // Any case, newest first, over every month.
    assert_eq!(
        find(text("bread")).await,
        vec!["bread", "BREAD rolls", "Bread and milk"]
    );
    // LIKE's own characters are plain text.
    assert_eq!(find(text("50%")).await, vec!["50% off_sale"]);
    assert_eq!(find(text("f_s")).await, vec!["50% off_sale"]);
    assert!(find(text("50_")).await.is_empty(), "_ is not a wildcard");
    assert!(
        find(text("off%sale")).await.is_empty(),
        "% is not a wildcard"
    );
    assert_eq!(
        find(ExpenseSearch {
            from: Some(day("2026-02-01")),
            until: Some(day("2026-03-01")),
            min_minor: Some(200),
            max_minor: Some(1_000),
            ..Default::default()
        })
        .await,
        vec!["50% off_sale"]
    );
    assert!(find(ExpenseSearch {
        member: Some(Uuid::new_v4()),
        ..Default::default()
    })
    .await
    .is_empty());
    // Pages of two: every expense once, in order.
    let mut seen = Vec::new();
    let mut after: Option<SearchPosition> = None;
    loop {
        let page = store
            .search_expenses(
                f.id,
                &ExpenseSearch {
                    after: after.clone(),
                    limit: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(SearchPosition {
            spent_on: day(&last.spent_on),
            created_at_ms: 1_700_000_000_000,
            id: last.id,
        });
        seen.extend(page.iter().map(|e| e.spent_on.clone()));
    }
    assert_eq!(
        seen,
        vec![
            "2026-03-01",
            "2026-02-11",
            "2026-02-10",
            "2026-02-01",
            "2026-01-05"
        ]
    );
}

async fn inserting_an_expense_is_idempotent_on_its_id(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let e = expense(&f, &owner, food.id, 500, "2026-03-02");
    let Inserted::Created(created) = store.insert_expense(&e).await.unwrap() else {
        panic!("first insert creates")
    };
    assert_eq!(created.version, 1);
    assert_eq!(
        created.created_by_name, owner.display_name,
        "RETURNING names who"
    );
    assert_eq!(
        store.insert_expense(&e).await.unwrap(),
        Inserted::Existing(created.clone())
    );
    let changed = NewExpenseRecord {
        amount_minor: 501,
        body_hash: "other".into(),
        ..e.clone()
    };
    assert!(matches!(
        store.insert_expense(&changed).await,
        Err(StoreError::Conflict("duplicate_id"))
    ));
    let foreign_category = NewExpenseRecord {
        id: Uuid::new_v4(),
        category_id: Uuid::new_v4(),
        ..e.clone()
    };
    assert!(matches!(
        store.insert_expense(&foreign_category).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .expenses(f.id, day("2026-03-01"), day("2026-04-01"), None, None)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn updates_check_the_version(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let (_, other, _) = family(&store).await;
    let e = expense(&f, &owner, food.id, 500, "2026-03-02");
    store.insert_expense(&e).await.unwrap();
    let changes = ExpenseChanges {
        amount_minor: Some(600),
        note: Some(None),
        ..Default::default()
    };
    let updated = store
        .update_expense(f.id, e.id, 1, &changes, 1_700_000_001_000)
        .await
        .unwrap();
    assert_eq!(
        (updated.version, updated.amount_minor, updated.note.clone()),
        (2, 600, None)
    );
    match store
        .update_expense(f.id, e.id, 1, &changes, 1_700_000_002_000)
        .await
    {
        Err(StoreError::VersionConflict(current)) => assert_eq!(*current, updated),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert!(matches!(
        store.update_expense(other.id, e.id, 2, &changes, 0).await,
        Err(StoreError::NotFound)
    ));
    let bad_category = ExpenseChanges {
        category_id: Some(Uuid::new_v4()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_expense(f.id, e.id, 2, &bad_category, 0).await,
        Err(StoreError::NotFound)
    ));
}

async fn deleting_returns_the_expense_once(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let (_, other, _) = family(&store).await;
    let e = expense(&f, &owner, food.id, 500, "2026-03-02");
    store.insert_expense(&e).await.unwrap();
    assert!(matches!(
        store.delete_expense(other.id, e.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_category(f.id, food.id, None, 0).await,
        Err(StoreError::CategoryInUse {
            expenses: 1,
            challenges: 0,
            rules: 0
        })
    ));
    assert_eq!(store.delete_expense(f.id, e.id).await.unwrap().id, e.id);
    assert!(matches!(
        store.delete_expense(f.id, e.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_category_in_use_is_deleted_only_by_moving_what_names_it(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let (_, other, other_food) = family(&store).await;
    let home = cat("Home");
    store.create_category(f.id, &home).await.unwrap();
    let spent = expense(&f, &owner, food.id, 500, "2026-03-02");
    store.insert_expense(&spent).await.unwrap();
    for (category, month, limit) in [(food.id, "2026-02", 100), (food.id, "2026-03", 200)] {
        store.set_limit(f.id, category, month, limit).await.unwrap();
    }
    store
        .set_limit(f.id, home.id, "2026-03", 999)
        .await
        .unwrap();
    store
        .raise_alert(f.id, food.id, "2026-03", 80, 0)
        .await
        .unwrap();
    let challenge = ChallengeRecord {
        id: Uuid::new_v4(),
        family_id: f.id,
        created_by: owner.id,
        kind: ChallengeKind::CategoryCap,
        category_id: Some(food.id),
        limit_minor: Some(1000),
        starts_on: day("2026-03-01"),
        ends_on: day("2026-03-07"),
        status: ChallengeStatus::Active,
        created_at_ms: 0,
        participants: vec![owner.id],
    };
    store.create_challenge(&challenge).await.unwrap();

    // Named by an expense and a challenge: refused with the counts, nothing changed.
    assert!(matches!(
        store.delete_category(f.id, food.id, None, 7).await,
        Err(StoreError::CategoryInUse {
            expenses: 1,
            challenges: 1,
            rules: 0
        })
    ));
    // Moving to itself, to another family's category or to nothing that exists: refused.
    for target in [food.id, other_food.id, Uuid::new_v4()] {
        assert!(matches!(
            store.delete_category(f.id, food.id, Some(target), 7).await,
            Err(StoreError::BadReference("move_to"))
        ));
    }
    assert!(matches!(
        store
            .delete_category(other.id, food.id, Some(home.id), 7)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.categories(f.id).await.unwrap().len(), 2);

    let moved = store
        .delete_category(f.id, food.id, Some(home.id), 7)
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        (moved[0].id, moved[0].category_id, moved[0].version),
        (spent.id, home.id, 2),
        "moved, and a new version for whoever edits it with the old one"
    );
    let names: Vec<Uuid> = store
        .categories(f.id)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(names, vec![home.id]);
    // The target keeps its own March limit and takes February's.
    let limits: Vec<(String, i64)> = store
        .limits_until(f.id, "2026-12")
        .await
        .unwrap()
        .into_iter()
        .map(|l| {
            assert_eq!(l.category_id, home.id);
            (l.month, l.limit_minor)
        })
        .collect();
    assert_eq!(
        limits,
        vec![("2026-02".into(), 100), ("2026-03".into(), 999)]
    );
    let spent_by: Vec<(Uuid, i64)> = store
        .spent_by_category(f.id, day("2026-03-01"), day("2026-04-01"))
        .await
        .unwrap();
    assert_eq!(spent_by, vec![(home.id, 500)]);
    let challenges = store.challenges(f.id, 10).await.unwrap();
    assert_eq!(challenges[0].category_id, Some(home.id));
    // A category named by nothing goes without `move_to`.
    let empty = cat("Empty");
    store.create_category(f.id, &empty).await.unwrap();
    assert!(store
        .delete_category(f.id, empty.id, None, 8)
        .await
        .unwrap()
        .is_empty());
}

async fn recently_active_families_are_those_with_recent_expenses(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let (_, quiet, _) = family(&store).await;
    store
        .insert_expense(&expense(&f, &owner, food.id, 5, "2026-03-02"))
        .await
        .unwrap();
    let active = store
        .recently_active_families(1_600_000_000_000, 10)
        .await
        .unwrap();
    assert!(active.iter().any(|a| a.id == f.id));
    assert!(!active.iter().any(|a| a.id == quiet.id));
    assert!(store
        .recently_active_families(1_800_000_000_000, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn a_rule_makes_each_day_once_and_its_expenses_outlive_it(store: Arc<dyn Store>) {
    let (owner, f, food) = family(&store).await;
    let rule = RuleRecord {
        id: Uuid::new_v4(),
        family_id: f.id,
        category_id: food.id,
        amount_minor: 95_000,
        note: Some("rent".into()),
        every: Every::Month,
        starts_on: day("2026-01-31"),
        ends_on: None,
        next_on: Some(day("2026-01-31")),
        last_on: None,
        created_by: owner.id,
        created_at_ms: 1_700_000_000_000,
        updated_at_ms: 1_700_000_000_000,
    };
    let foreign = RuleRecord {
        id: Uuid::new_v4(),
        category_id: Uuid::new_v4(),
        ..rule.clone()
    };
    assert!(matches!(
        store.create_rule(&foreign).await,
        Err(StoreError::NotFound)
    ));
    store.create_rule(&rule).await.unwrap();
    assert_eq!(store.rules(f.id).await.unwrap(), vec![rule.clone()]);
    assert_eq!(
        store.due_rules(day("2026-01-30"), 10).await.unwrap(),
        vec![],
        "not due before its day"
    );
    assert_eq!(
        store.due_rules(day("2026-01-31"), 10).await.unwrap().len(),
        1
    );

    let made = expense(&f, &owner, food.id, 95_000, "2026-01-31");
    let next = Some(day("2026-02-28"));
    let first = store.make_occurrence(&rule, &made, next).await.unwrap();
    let first = first.expect("the day is made");
    assert_eq!(first.recurring_id, Some(rule.id));
    assert_eq!(first.spent_on, "2026-01-31");
    // A second server working from the same reading of the rule makes nothing.
    let again = NewExpenseRecord {
        id: Uuid::new_v4(),
        ..made.clone()
    };
    assert_eq!(
        store.make_occurrence(&rule, &again, next).await.unwrap(),
        None
    );
    let now = store.rules(f.id).await.unwrap().remove(0);
    assert_eq!((now.next_on, now.last_on), (next, Some(day("2026-01-31"))));
    assert!(store
        .due_rules(day("2026-02-27"), 10)
        .await
        .unwrap()
        .is_empty());

    // Moving the category moves the rule; without a target the rule keeps it in use.
    let other = cat("Home");
    store.create_category(f.id, &other).await.unwrap();
    match store.delete_category(f.id, food.id, None, 1).await {
        Err(StoreError::CategoryInUse {
            expenses: 1,
            challenges: 0,
            rules: 1,
        }) => {}
        other => panic!("in use by one expense and one rule, got {other:?}"),
    }
    let changed = RuleRecord {
        amount_minor: 99_000,
        ..now.clone()
    };
    store.update_rule(&changed).await.unwrap();
    assert_eq!(store.rules(f.id).await.unwrap()[0].amount_minor, 99_000);
    assert!(matches!(
        store
            .update_rule(&RuleRecord {
                id: Uuid::new_v4(),
                ..changed.clone()
            })
            .await,
        Err(StoreError::NotFound)
    ));

    // Deleting the rule keeps what it made, no longer naming it; the category is then free.
    assert!(matches!(
        store.delete_rule(Uuid::new_v4(), rule.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_rule(f.id, rule.id).await.unwrap();
    assert!(store.rules(f.id).await.unwrap().is_empty());
    let kept = store
        .expenses(f.id, day("2026-01-01"), day("2026-02-01"), None, None)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].recurring_id, None);
    assert!(matches!(
        store.delete_rule(f.id, rule.id).await,
        Err(StoreError::NotFound)
    ));
}
