//! How components load and change data. On the server (SSR) loads call the service layer
//! directly through the [`backend::Backend`] in context, so the first HTML already
//! holds the family's data; in the browser the same functions go through the JSON API with
//! gloo-net, so the browser sees the API's caching headers.

use crate::model::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod backend;
mod failure;

pub use failure::{ApiFailure, ApiResult};

/// The signed-in user and family, or `None` when nobody is signed in.
pub async fn load_me() -> ApiResult<Option<Me>> {
    #[cfg(feature = "ssr")]
    {
        let (backend, parts) = backend::from_context()?;
        backend.me(&parts).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        match browser::get::<Me>("/api/me").await {
            Ok(me) => Ok(Some(me)),
            Err(e) if e.is_signed_out() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The budget and expenses of one month (the current one when `month` is `None`).
pub async fn load_budget_page(month: Option<String>) -> ApiResult<BudgetPage> {
    let month = match month.as_deref().map(Month::parse) {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => return Err(ApiFailure::new(422, "invalid_field", format!("month: {e}"))),
        None => None,
    };
    #[cfg(feature = "ssr")]
    {
        let (backend, parts) = backend::from_context()?;
        backend.budget_page(&parts, month).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        let query = month.map(|m| format!("?month={m}")).unwrap_or_default();
        let (budget, load) =
            browser::get_with_info::<Budget>(&format!("/api/budgets{query}")).await?;
        let expenses: Expenses =
            browser::get(&format!("/api/expenses?month={}", budget.month)).await?;
        Ok(BudgetPage {
            budget,
            expenses: expenses.expenses,
            load: Some(load),
            position: None,
            trends: None,
        })
    }
}

/// The family with its members (and the invite code for the owner).
pub async fn load_family() -> ApiResult<FamilyView> {
    #[cfg(feature = "ssr")]
    {
        let (backend, parts) = backend::from_context()?;
        backend.family(&parts).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        browser::get("/api/family").await
    }
}

/// The performance monitor's figures (admins only: 403 for others).
pub async fn load_admin_stats() -> ApiResult<crate::stats::AdminStats> {
    #[cfg(feature = "ssr")]
    {
        let (backend, parts) = backend::from_context()?;
        backend.admin_stats(&parts).await
    }
    #[cfg(not(feature = "ssr"))]
    {
        browser::get("/api/admin/stats").await
    }
}

pub async fn clear_cache(body: crate::stats::CacheClear) -> ApiResult<crate::stats::Cleared> {
    send("POST", "/api/admin/cache/clear", Some(&body)).await
}

/// The family's latest chat messages (browser only; the chat loads after hydration).
pub async fn load_chat() -> ApiResult<ChatHistory> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::get("/api/chat").await
    }
    #[cfg(feature = "ssr")]
    {
        Err(server_side_mutation("GET /api/chat"))
    }
}

/// The last six months per category (browser only; loaded after hydration).
pub async fn trends() -> ApiResult<Trends> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::get("/api/trends?months=6").await
    }
    #[cfg(feature = "ssr")]
    {
        Err(server_side_mutation("GET /api/trends"))
    }
}

/// The family's recurring rules (browser only; loaded after hydration).
pub async fn load_recurring() -> ApiResult<RecurringRules> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::get("/api/recurring").await
    }
    #[cfg(feature = "ssr")]
    {
        Err(server_side_mutation("GET /api/recurring"))
    }
}

pub async fn create_rule(body: NewRecurringRule) -> ApiResult<RuleEnvelope> {
    send("POST", "/api/recurring", Some(&body)).await
}

pub async fn update_rule(id: uuid::Uuid, body: RecurringPatch) -> ApiResult<RuleEnvelope> {
    send("PATCH", &format!("/api/recurring/{id}"), Some(&body)).await
}

pub async fn delete_rule(id: uuid::Uuid) -> ApiResult<()> {
    send_no_content("DELETE", &format!("/api/recurring/{id}")).await
}

/// Sends a change kept while Hearth could not be reached (`pages::budget::waiting`) as it was made: the
/// answer's body when the server took it.
pub async fn send_kept(
    method: &str,
    path: &str,
    content_type: &str,
    body: String,
) -> ApiResult<String> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::send_text(method, path, content_type, body).await
    }
    #[cfg(feature = "ssr")]
    {
        let _ = (path, content_type, body);
        Err(server_side_mutation(method))
    }
}

/// Sends a CSV file to `POST /api/import?{query}`: what the server made of it, or, for a
/// file with a bad line, the refusal with every row.
pub async fn import_csv(
    csv: String,
    query: String,
) -> ApiResult<Result<ImportResult, ImportRefused>> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::import_csv(csv, &format!("/api/import?{query}")).await
    }
    #[cfg(feature = "ssr")]
    {
        let _ = (csv, query);
        Err(server_side_mutation("POST /api/import"))
    }
}

/// The family's challenges and achievements (browser only; loaded after hydration).
pub async fn load_challenges() -> ApiResult<Challenges> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::get("/api/challenges").await
    }
    #[cfg(feature = "ssr")]
    {
        Err(server_side_mutation("GET /api/challenges"))
    }
}

pub async fn create_challenge(body: NewChallenge) -> ApiResult<Challenge> {
    send("POST", "/api/challenges", Some(&body)).await
}

pub async fn accept_challenge(id: uuid::Uuid) -> ApiResult<Challenge> {
    send::<(), _>("POST", &format!("/api/challenges/{id}/accept"), None).await
}

pub async fn register(body: RegisterRequest) -> ApiResult<UserEnvelope> {
    send("POST", "/api/auth/register", Some(&body)).await
}

pub async fn login(body: LoginRequest) -> ApiResult<UserEnvelope> {
    send("POST", "/api/auth/login", Some(&body)).await
}

pub async fn logout() -> ApiResult<()> {
    send_no_content("POST", "/api/auth/logout").await
}

pub async fn create_family(body: CreateFamilyRequest) -> ApiResult<FamilyCreated> {
    send("POST", "/api/families", Some(&body)).await
}

pub async fn join_family(body: JoinFamilyRequest) -> ApiResult<FamilyEnvelope> {
    send("POST", "/api/families/join", Some(&body)).await
}

pub async fn create_category(body: NewCategory) -> ApiResult<Category> {
    send("POST", "/api/categories", Some(&body)).await
}

/// Deletes a category; with `move_to`, its expenses go there first.
pub async fn delete_category(id: uuid::Uuid, move_to: Option<uuid::Uuid>) -> ApiResult<()> {
    let query = move_to
        .map(|to| format!("?move_to={to}"))
        .unwrap_or_default();
    send_no_content("DELETE", &format!("/api/categories/{id}{query}")).await
}

pub async fn set_limit(
    month: String,
    category_id: uuid::Uuid,
    body: SetLimit,
) -> ApiResult<BudgetLine> {
    send(
        "PUT",
        &format!("/api/budgets/{month}/{category_id}"),
        Some(&body),
    )
    .await
}

/// What a search of every month asks: text in the note, and the member, category and
/// amount range (minor units) when given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Search {
    pub text: String,
    pub member: Option<uuid::Uuid>,
    pub category: Option<uuid::Uuid>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
}

/// A page of the family's expenses that `search` finds, over every month, newest first;
/// `cursor` is the previous page's `next_cursor`. Searches come from typing, in the browser
/// only.
pub async fn search_expenses(search: &Search, cursor: Option<&str>) -> ApiResult<Expenses> {
    #[cfg(not(feature = "ssr"))]
    {
        let mut url = format!(
            "/api/expenses?limit=50&q={}",
            String::from(js_sys::encode_uri_component(search.text.trim()))
        );
        let ids = [
            ("member_id", search.member),
            ("category_id", search.category),
        ];
        for (key, id) in ids {
            if let Some(id) = id {
                url.push_str(&format!("&{key}={id}"));
            }
        }
        for (key, amount) in [
            ("min_minor", search.min_minor),
            ("max_minor", search.max_minor),
        ] {
            if let Some(a) = amount {
                url.push_str(&format!("&{key}={a}"));
            }
        }
        if let Some(c) = cursor {
            url.push_str(&format!(
                "&cursor={}",
                String::from(js_sys::encode_uri_component(c))
            ));
        }
        browser::get(&url).await
    }
    #[cfg(feature = "ssr")]
    {
        let _ = (search, cursor);
        Err(server_side_mutation("a search"))
    }
}

pub async fn add_expense(body: NewExpense) -> ApiResult<Expense> {
    send("POST", "/api/expenses", Some(&body)).await
}

pub async fn update_expense(id: uuid::Uuid, body: ExpensePatch) -> ApiResult<Expense> {
    send("PATCH", &format!("/api/expenses/{id}"), Some(&body)).await
}

pub async fn delete_expense(id: uuid::Uuid) -> ApiResult<()> {
    send_no_content("DELETE", &format!("/api/expenses/{id}")).await
}

async fn send<B: Serialize, T: for<'de> Deserialize<'de>>(
    method: &str,
    url: &str,
    body: Option<&B>,
) -> ApiResult<T> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::send(method, url, body).await
    }
    #[cfg(feature = "ssr")]
    {
        let _ = (body, url);
        Err(server_side_mutation(method))
    }
}

async fn send_no_content(method: &str, url: &str) -> ApiResult<()> {
    #[cfg(not(feature = "ssr"))]
    {
        browser::send_no_content(method, url).await
    }
    #[cfg(feature = "ssr")]
    {
        let _ = url;
        Err(server_side_mutation(method))
    }
}

/// Mutations come from a person's click, which only happens in the browser; during server
/// rendering no event handler runs, so this error is what a misuse would see.
#[cfg(feature = "ssr")]
fn server_side_mutation(method: &str) -> ApiFailure {
    ApiFailure::new(
        500,
        "internal",
        format!("{method} requests are sent by the browser only"),
    )
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use super::{ApiFailure, ApiResult};
    use crate::model::ErrorBody;
    use gloo_net::http::{Request, RequestBuilder, Response};
    use serde::{Deserialize, Serialize};

    fn offline(e: impl std::fmt::Display) -> ApiFailure {
        ApiFailure::new(
            0,
            "network",
            format!("Hearth could not be reached ({e}). Check your connection."),
        )
    }

    fn builder(method: &str, url: &str) -> RequestBuilder {
        match method {
            "POST" => Request::post(url),
            "PUT" => Request::put(url),
            "PATCH" => Request::patch(url),
            "DELETE" => Request::delete(url),
            _ => Request::get(url),
        }
    }

    async fn failure(resp: Response) -> ApiFailure {
        let status = resp.status();
        match resp.json::<ErrorBody>().await {
            Ok(body) => ApiFailure { status, body },
            Err(_) => ApiFailure::new(status, "http", format!("the server answered {status}")),
        }
    }

    pub async fn get<T: for<'de> Deserialize<'de>>(url: &str) -> ApiResult<T> {
        let resp = Request::get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(offline)?;
        decode(resp).await
    }

    /// A GET that also reports where the answer came from (`X-Cache`, `Server-Timing`).
    pub async fn get_with_info<T: for<'de> Deserialize<'de>>(
        url: &str,
    ) -> ApiResult<(T, crate::model::LoadInfo)> {
        let resp = Request::get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(offline)?;
        let headers = resp.headers();
        let info = crate::model::LoadInfo {
            cache: headers.get("x-cache").unwrap_or_else(|| "—".into()),
            server_ms: headers
                .get("server-timing")
                .and_then(|h| crate::model::LoadInfo::timing(&h, "total")),
        };
        Ok((decode(resp).await?, info))
    }

    async fn decode<T: for<'de> Deserialize<'de>>(resp: Response) -> ApiResult<T> {
        if resp.ok() {
            resp.json::<T>().await.map_err(offline)
        } else {
            Err(failure(resp).await)
        }
    }

    pub async fn send<B: Serialize, T: for<'de> Deserialize<'de>>(
        method: &str,
        url: &str,
        body: Option<&B>,
    ) -> ApiResult<T> {
        let req = builder(method, url);
        let resp = match body {
            Some(b) => req.json(b).map_err(offline)?.send().await,
            None => req.send().await,
        }
        .map_err(offline)?;
        decode(resp).await
    }

    pub async fn import_csv(
        csv: String,
        url: &str,
    ) -> ApiResult<Result<crate::model::ImportResult, crate::model::ImportRefused>> {
        let resp = Request::post(url)
            .header("Content-Type", "text/csv; charset=utf-8")
            .body(csv)
            .map_err(offline)?
            .send()
            .await
            .map_err(offline)?;
        if resp.status() == 422 {
            if let Ok(refused) = resp.json::<crate::model::ImportRefused>().await {
                return Ok(Err(refused));
            }
            return Err(ApiFailure::new(
                422,
                "invalid_import",
                "The file was refused.",
            ));
        }
        decode(resp).await.map(Ok)
    }

    /// Sends a kept change as it was made: the answer's body when the server took it.
    pub async fn send_text(
        method: &str,
        url: &str,
        content_type: &str,
        body: String,
    ) -> ApiResult<String> {
        let req = builder(method, url).header("Content-Type", content_type);
        let resp = if body.is_empty() {
            req.send().await
        } else {
            req.body(body).map_err(offline)?.send().await
        }
        .map_err(offline)?;
        if resp.ok() {
            Ok(resp.text().await.unwrap_or_default())
        } else {
            Err(failure(resp).await)
        }
    }

    pub async fn send_no_content(method: &str, url: &str) -> ApiResult<()> {
        let resp = builder(method, url).send().await.map_err(offline)?;
        if resp.ok() {
            Ok(())
        } else {
            Err(failure(resp).await)
        }
    }
}
