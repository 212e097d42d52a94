use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const MONTH: &str = "2026-03";

async fn add(c: &Client, category: &str, amount: i64, day: &str) -> Value {
    let r = c
        .post(
            "/api/expenses",
            json!({"category_id": category, "amount_minor": amount, "spent_on": day}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

#[tokio::test]
async fn lines_compute_spent_remaining_percent_and_alerts() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let r = c
        .send(
            Method::PUT,
            &format!("/api/budgets/{MONTH}/{food}"),
            json!({"limit_minor": 10000}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let line: Value = r.json().await.unwrap();
    assert_eq!(line["limit_minor"], 10000);
    assert_eq!(line["alert"], "ok");

    add(&c, &food, 7999, "2026-03-02").await;
    let line = c.line(MONTH, "Groceries").await;
    assert_eq!(line["spent_minor"], 7999);
    assert_eq!(line["remaining_minor"], 2001);
    assert_eq!(line["percent_used"], 79);
    assert_eq!(line["alert"], "ok");

    add(&c, &food, 1, "2026-03-31").await;
    let line = c.line(MONTH, "Groceries").await;
    assert_eq!(line["percent_used"], 80);
    assert_eq!(line["alert"], "warning");

    add(&c, &food, 2001, "2026-03-15").await;
    let b = c.budget(MONTH).await;
    let line = b["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["category_name"] == "Groceries")
        .unwrap();
    assert_eq!(line["alert"], "exceeded");
    assert_eq!(line["remaining_minor"], -1);
    assert_eq!(
        b["totals"],
        json!({"limit_minor": 10000, "spent_minor": 10001, "remaining_minor": -1})
    );
    assert_eq!(b["currency"], "EUR");
    // Days outside the month do not count.
    add(&c, &food, 500, "2026-04-01").await;
    assert_eq!(c.line(MONTH, "Groceries").await["spent_minor"], 10001);
    let other = c.line(MONTH, "Housing").await;
    assert_eq!(other["limit_minor"], Value::Null);
    assert_eq!(other["percent_used"], Value::Null);
}

#[tokio::test]
async fn a_limit_holds_for_later_months_until_changed() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let fun = c.category("Fun").await;
    c.send(
        Method::PUT,
        &format!("/api/budgets/2026-01/{fun}"),
        json!({"limit_minor": 5000}),
    )
    .await;
    c.send(
        Method::PUT,
        &format!("/api/budgets/2026-04/{fun}"),
        json!({"limit_minor": 7000}),
    )
    .await;
    assert_eq!(c.line("2025-12", "Fun").await["limit_minor"], Value::Null);
    assert_eq!(c.line("2026-03", "Fun").await["limit_minor"], 5000);
    assert_eq!(c.line("2026-05", "Fun").await["limit_minor"], 7000);
}

#[tokio::test]
async fn the_same_client_id_and_body_give_the_same_expense_once() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let id = Uuid::new_v4();
    let body = json!({"id": id, "category_id": food, "amount_minor": 1234, "note": "milk", "spent_on": "2026-03-05"});
    let first = c.post("/api/expenses", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = c.post("/api/expenses", body.clone()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let mut other = body.clone();
    other["amount_minor"] = json!(999);
    let r = c.post("/api/expenses", other).await;
    assert_eq!(error_code(r, StatusCode::CONFLICT).await, "duplicate_id");
    assert_eq!(c.expense_count(MONTH).await, 1);
    assert_eq!(c.line(MONTH, "Groceries").await["spent_minor"], 1234);
}

#[tokio::test]
async fn a_stale_version_is_rejected_with_409_and_the_current_expense() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let e = add(&c, &food, 1000, "2026-03-05").await;
    let path = format!("/api/expenses/{}", e["id"].as_str().unwrap());
    let r = c
        .send(
            Method::PATCH,
            &path,
            json!({"version": 1, "amount_minor": 1500, "note": "bread"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let updated: Value = r.json().await.unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["amount_minor"], 1500);
    assert_eq!(updated["note"], "bread");

    let r = c
        .send(
            Method::PATCH,
            &path,
            json!({"version": 1, "amount_minor": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_conflict");
    assert_eq!(body["expense"]["version"], 2);
    assert_eq!(body["expense"]["amount_minor"], 1500);
    assert_eq!(c.line(MONTH, "Groceries").await["spent_minor"], 1500);

    let r = c.send(Method::DELETE, &path, json!({})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.expense_count(MONTH).await, 0);
    let r = c.send(Method::DELETE, &path, json!({})).await;
    assert_eq!(error_code(r, StatusCode::NOT_FOUND).await, "not_found");
}

#[tokio::test]
async fn another_familys_ids_answer_404_and_change_nothing() {
    let app = spawn_app().await;
    let (a, _) = app.owner().await;
    let (b, _) = app.owner().await;
    let a_food = a.category("Groceries").await;
    let a_expense = add(&a, &a_food, 700, "2026-03-05").await;
    let a_expense_path = format!("/api/expenses/{}", a_expense["id"].as_str().unwrap());

    let cases = [
        b.send(
            Method::PATCH,
            &a_expense_path,
            json!({"version": 1, "amount_minor": 1}),
        )
        .await,
        b.send(Method::DELETE, &a_expense_path, json!({})).await,
        b.post(
            "/api/expenses",
            json!({"category_id": a_food, "amount_minor": 5, "spent_on": "2026-03-05"}),
        )
        .await,
        b.send(
            Method::PUT,
            &format!("/api/budgets/{MONTH}/{a_food}"),
            json!({"limit_minor": 1}),
        )
        .await,
        b.send(
            Method::PATCH,
            &format!("/api/categories/{a_food}"),
            json!({"name": "Mine"}),
        )
        .await,
        b.send(
            Method::DELETE,
            &format!("/api/categories/{a_food}"),
            json!({}),
        )
        .await,
        b.send(
            Method::DELETE,
            &format!("/api/expenses/{}", Uuid::new_v4()),
            json!({}),
        )
        .await,
        b.send(Method::DELETE, "/api/expenses/not-a-uuid", json!({}))
            .await,
    ];
    for r in cases {
        assert_eq!(error_code(r, StatusCode::NOT_FOUND).await, "not_found");
    }
    assert_eq!(a.expense_count(MONTH).await, 1);
    assert_eq!(b.expense_count(MONTH).await, 0);
    let line = a.line(MONTH, "Groceries").await;
    assert_eq!(line["spent_minor"], 700);
    assert_eq!(line["limit_minor"], Value::Null);
    // A family member sees the other member's expenses.
}

#[tokio::test]
async fn members_share_one_budget() {
    let app = spawn_app().await;
    let (owner, created) = app.owner().await;
    let member = app.member(created["invite_code"].as_str().unwrap()).await;
    let food = member.category("Groceries").await;
    add(&member, &food, 4200, "2026-03-10").await;
    assert_eq!(owner.line(MONTH, "Groceries").await["spent_minor"], 4200);
    let list = owner
        .json(&format!("/api/expenses?month={MONTH}&category_id={food}"))
        .await;
    assert_eq!(list["expenses"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn categories_are_created_renamed_and_deleted_only_when_unused() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let r = c
        .post(
            "/api/categories",
            json!({"name": "Pets", "color": "#123ABC"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let pets: Value = r.json().await.unwrap();
    assert_eq!(pets["color"], "#123abc");
    let r = c.post("/api/categories", json!({"name": "Pets"})).await;
    assert_eq!(error_code(r, StatusCode::CONFLICT).await, "category_exists");
    let path = format!("/api/categories/{}", pets["id"].as_str().unwrap());
    let r = c
        .send(Method::PATCH, &path, json!({"name": "Animals"}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "Animals");
    add(&c, pets["id"].as_str().unwrap(), 100, "2026-03-01").await;
    let r = c.send(Method::DELETE, &path, json!({})).await;
    assert_eq!(error_code(r, StatusCode::CONFLICT).await, "category_in_use");
    let housing = c.category("Housing").await;
    let r = c
        .send(
            Method::DELETE,
            &format!("/api/categories/{housing}"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        c.json("/api/categories").await["categories"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn the_budget_page_is_rendered_with_the_familys_data() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let today = c.json("/api/budgets").await["today"]
        .as_str()
        .unwrap()
        .to_string();
    add(&c, &food, 1234, &today).await;
    let r = c.page("/budget").await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"data-testid="budget-line""#));
    assert!(html.contains(r#"data-category="Groceries""#));
    assert!(html.contains("12.34"));
    assert!(html.contains(r#"data-testid="expense-form""#));
    // The pictures are in the server's HTML: the pace chart, and a row of six bars for the
    // category that spent, with its text alternative; the bars' data rides along for the
    // browser (`data-trends`, escaped like any attribute).
    assert!(html.contains(r#"<figure data-testid="pace-chart"><svg"#));
    let bars = &html[html
        .find(r#"<div data-category="Groceries" class="trend-row">"#)
        .expect("the category's bars")..];
    let bars = &bars[..bars.find("</div>").unwrap()];
    assert_eq!(bars.matches("<rect ").count(), 6, "{bars}");
    let text = &bars[bars
        .find(r#"<span class="sr-only">"#)
        .expect("a text alternative")..];
    assert!(text.contains(": 12.34 EUR"), "{bars}");
    assert!(html.contains("data-trends=\"{&quot;months&quot;:["));
    // The page came from the pages cache: no nonce (it would be sent again); the policy
    // allows each inline script by its hash (tests/integration/pages.rs checks each one).
    assert!(!html.contains("nonce="));
    assert!(csp.contains("'sha256-") && !csp.contains("unsafe-inline"));
}

#[tokio::test]
async fn a_category_whose_alerts_outlived_its_expenses_is_deleted_cleanly() {
    let app = spawn_app().await;
    let (c, _) = app.owner().await;
    let food = c.category("Groceries").await;
    let month = c.this_month().await;
    c.send(
        reqwest::Method::PUT,
        &format!("/api/budgets/{month}/{food}"),
        json!({"limit_minor": 100}),
    )
    .await;
    // 90 % of the limit: the 80 % alert is raised (and kept) for the category.
    let spent = c.spend(&food, 90, None).await;
    assert_eq!(c.line(&month, "Groceries").await["alert"], "warning");
    let r = c
        .delete(&format!("/api/expenses/{}", spent["id"].as_str().unwrap()))
        .await;
    assert!(r.status().is_success());
    // Nothing but its alert and limit names it now: it goes, never a 500.
    let r = c.delete(&format!("/api/categories/{food}")).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(c.json("/api/categories").await["categories"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["id"] != food.as_str()));
}

#[tokio::test]
async fn every_expense_names_who_logged_it_and_the_month_is_broken_down_by_member() {
    let app = spawn_app().await;
    let (owner, family) = app.owner().await;
    let member = app.member(family["invite_code"].as_str().unwrap()).await;
    let third = app.member(family["invite_code"].as_str().unwrap()).await;
    let food = owner.category("Groceries").await;
    let month = owner.this_month().await;
    let mine = owner.spend(&food, 3000, None).await;
    assert_eq!(mine["created_by_name"], "Sam");
    member.spend(&food, 1000, None).await;

    let me = owner.json("/api/me").await;
    let them = member.json("/api/me").await;
    let budget = third.budget(&month).await;
    let members = budget["members"].as_array().unwrap();
    assert_eq!(
        members.len(),
        3,
        "everyone, in the order they joined: {members:?}"
    );
    assert_eq!(members[0]["user_id"], me["user"]["id"]);
    assert_eq!(members[0]["spent_minor"], 3000);
    assert_eq!(members[1]["spent_minor"], 1000);
    assert_eq!(
        members[2]["spent_minor"], 0,
        "who spent nothing is there too"
    );
    assert_eq!(members[2]["display_name"], "Sam");

    let listed = third.json(&format!("/api/expenses?month={month}")).await;
    assert!(listed["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["created_by_name"] == "Sam"));
    let theirs = third
        .json(&format!(
            "/api/expenses?month={month}&member_id={}",
            them["user"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(theirs["expenses"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["expenses"][0]["amount_minor"], 1000);
    let r = third.get("/api/expenses?member_id=nobody").await;
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
}

#[tokio::test]
async fn the_export_is_csv_of_the_family_s_expenses_with_the_currency_s_decimals() {
    let app = spawn_app().await;
    let (owner, _) = app.owner().await;
    let food = owner.category("Groceries").await;
    let r = owner
        .post(
            "/api/expenses",
            json!({"category_id": food, "amount_minor": 1250, "spent_on": "2026-03-02",
                   "note": "bread, \"good\" one"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    add(&owner, &food, 5, "2026-03-01").await;
    add(&owner, &food, 700, "2026-04-01").await;
    // Another family's expense on the same day is never in it.
    let (other, _) = app.owner().await;
    let theirs = other.category("Groceries").await;
    add(&other, &theirs, 999, "2026-03-02").await;

    let r = owner
        .get("/api/export.csv?from=2026-03-01&to=2026-03-31")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("hearth-2026-03-01-to-2026-03-31.csv"));
    let text = r.text().await.unwrap();
    assert_eq!(
        text,
        "date,category,amount,currency,note,member\n\
         2026-03-01,Groceries,0.05,EUR,,Sam\n\
         2026-03-02,Groceries,12.50,EUR,\"bread, \"\"good\"\" one\",Sam\n"
    );
    let year = owner
        .get("/api/export.csv?from=2026-01-01&to=2026-12-31")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(year.lines().count(), 4, "{year}");

    for bad in [
        "from=2026-03-01",
        "from=2026-02-30&to=2026-03-01",
        "from=2026-03-02&to=2026-03-01",
        "from=2000-01-01&to=2026-01-01",
    ] {
        let r = owner.get(&format!("/api/export.csv?{bad}")).await;
        assert_eq!(
            error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
            "invalid_field",
            "{bad}"
        );
    }
    let r = app.client().get("/api/export.csv").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_search_over_every_month_pages_by_cursor() {
    let app = spawn_app().await;
    let (owner, _) = app.owner().await;
    let food = owner.category("Groceries").await;
    for (i, day) in [
        "2026-01-03",
        "2026-02-04",
        "2026-02-05",
        "2026-03-06",
        "2026-04-07",
    ]
    .iter()
    .enumerate()
    {
        let r = owner
            .post(
                "/api/expenses",
                json!({"category_id": food, "amount_minor": 100 * (i as i64 + 1),
                       "spent_on": day, "note": format!("Weekly shop {i}")}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    add(&owner, &food, 5, "2026-02-06").await;

    // A month without search parameters is whole, with no cursor.
    let month = owner.json("/api/expenses?month=2026-02").await;
    assert_eq!(month["expenses"].as_array().unwrap().len(), 3);
    assert_eq!(month["next_cursor"], Value::Null);

    // Pages of two over every month; an expense added between pages does not shift them.
    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let page = owner
            .json(&format!("/api/expenses?q=weekly%20SHOP&limit=2{next}"))
            .await;
        seen.extend(
            page["expenses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["amount_minor"].as_i64().unwrap()),
        );
        if seen.len() == 2 {
            add(&owner, &food, 7, "2026-05-01").await;
        }
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![500, 400, 300, 200, 100]);

    let ranged = owner
        .json("/api/expenses?from=2026-02-01&to=2026-03-31&min_minor=250&max_minor=400")
        .await;
    let amounts: Vec<_> = ranged["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["amount_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![400, 300]);

    for bad in [
        "limit=0",
        "cursor=abc",
        "min_minor=-1",
        "from=2026-13-01",
        "q=%20&to=x",
    ] {
        let r = owner.get(&format!("/api/expenses?{bad}")).await;
        assert_eq!(
            error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
            "invalid_field",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn trends_give_each_category_s_spending_per_month_oldest_first() {
    let app = spawn_app().await;
    let (owner, _) = app.owner().await;
    let food = owner.category("Groceries").await;
    let this = owner.this_month().await;
    let today = owner.budget(&this).await["today"]
        .as_str()
        .unwrap()
        .to_string();
    owner.spend(&food, 300, Some(&today)).await;
    owner.spend(&food, 200, Some(&today)).await;
    // Two months back (the 1st, so every month has it).
    let (y, m) = this.split_once('-').unwrap();
    let (y, m): (i32, u32) = (y.parse().unwrap(), m.parse().unwrap());
    let (y2, m2) = if m > 2 { (y, m - 2) } else { (y - 1, m + 10) };
    let earlier = format!("{y2}-{m2:02}");
    owner.spend(&food, 75, Some(&format!("{earlier}-01"))).await;

    let t = owner.json("/api/trends").await;
    let months: Vec<&str> = t["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(months.len(), 6);
    assert_eq!(*months.last().unwrap(), this, "the current month last");
    assert_eq!(months[3], earlier);
    let groceries = t["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category_name"] == "Groceries")
        .unwrap();
    assert_eq!(groceries["spent_minor"], json!([0, 0, 0, 75, 0, 500]));
    assert_eq!(
        t["categories"].as_array().unwrap().len(),
        5,
        "every category"
    );

    let one = owner.json("/api/trends?months=1").await;
    assert_eq!(one["months"], json!([this]));
    for bad in ["0", "25", "six"] {
        let r = owner.get(&format!("/api/trends?months={bad}")).await;
        assert_eq!(
            error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
            "invalid_field"
        );
    }
}
