//! The JSON API's routes, one file per resource, and its OpenAPI description.

pub mod admin;
pub mod auth;
pub mod budgets;
pub mod categories;
pub mod challenges;
pub mod expenses;
pub mod export;
pub mod families;
pub mod health;
pub mod import;
pub mod insights;
pub mod recurring;
pub mod trends;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app::model::Month;
use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use std::collections::HashMap;
use utoipa::OpenApi;
use uuid::Uuid;

/// A path id: anything that is not a UUID cannot name a row, so it is simply not found.
pub fn parse_id(s: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| ApiError::NotFound)
}

/// The query string as text pairs; fields are parsed by the handler, which names them.
pub struct MonthQuery(HashMap<String, String>);

/// Query parameters of free text, where an empty value means the parameter is not there (a
/// search box left empty). Any other parameter given empty (`?month=`) is refused by its
/// parser as the bad value it is, as the OpenAPI document's types say.
const FREE_TEXT: [&str; 2] = ["q", "cursor"];

impl MonthQuery {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !(v.is_empty() && FREE_TEXT.contains(&key)))
    }

    /// Every pair of the query (a key given twice: its last value).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Refuses a parameter the route does not take (422 naming it), as the OpenAPI document
    /// lists every route's parameters: a misspelt `mnth=` is not silently the current month.
    /// `known` in groups, so a route names the lists it already has.
    pub fn only(&self, known: &[&[&str]]) -> ApiResult<&Self> {
        let takes = |k: &str| known.iter().any(|group| group.contains(&k));
        match self.0.keys().find(|k| !takes(k)) {
            Some(k) => Err(ApiError::invalid(
                "query",
                format!("`{k}` is not a parameter of this route"),
            )),
            None => Ok(self),
        }
    }

    pub fn month(&self) -> ApiResult<Option<Month>> {
        self.get("month")
            .map(crate::service::budget::parse_month)
            .transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MonthQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Malformed("The query string could not be read.".into()))?;
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        Ok(MonthQuery(pairs))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth",
        description = "The JSON API of Hearth, a self-hosted realtime family budget."
    ),
    paths(
        auth::register,
        auth::login,
        auth::logout,
        auth::me,
        families::create,
        families::join,
        families::show,
        families::chat,
        categories::list,
        categories::create,
        categories::update,
        categories::delete,
        budgets::show,
        budgets::set_limit,
        expenses::list,
        expenses::create,
        expenses::update,
        expenses::delete,
        export::csv,
        import::upload,
        trends::show,
        recurring::list,
        recurring::create,
        recurring::update,
        recurring::delete,
        insights::show,
        challenges::list,
        challenges::create,
        challenges::accept,
        admin::stats,
        admin::clear_cache,
        admin::vitals,
        health::healthz,
        health::readyz,
        openapi,
    ),
    modifiers(&BodyErrors)
)]
pub struct ApiDoc;

/// Every operation that reads a JSON body may answer 400 (the bytes are not JSON) and 413
/// (over the body limit): said once here rather than on each route.
struct BodyErrors;

impl utoipa::Modify for BodyErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder};
        let error = |text: &str| {
            let content = utoipa::openapi::content::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build();
            RefOr::T(
                ResponseBuilder::new()
                    .description(text)
                    .content("application/json", content)
                    .build(),
            )
        };
        for item in doc.paths.paths.values_mut() {
            let operations = [item.post.as_mut(), item.put.as_mut(), item.patch.as_mut()];
            for op in operations.into_iter().flatten() {
                let json_body = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                if json_body {
                    let responses = &mut op.responses.responses;
                    responses
                        .entry("400".into())
                        .or_insert_with(|| error("`malformed`: the body is not JSON"));
                    responses
                        .entry("413".into())
                        .or_insert_with(|| error("`too_large`: the body is over 64 KiB"));
                }
            }
        }
    }
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "This description")))]
pub async fn openapi() -> Json<&'static serde_json::Value> {
    Json(document())
}

/// The OpenAPI document as served: utoipa's, with the rules the services enforce that the
/// types do not carry (built once).
pub fn document() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        unique_operation_ids(&mut doc);
        for missing in body_rules(&mut doc).into_iter().chain(links(&mut doc)) {
            tracing::error!("the OpenAPI document has no {missing} to put its rule on");
        }
        doc
    })
}

/// utoipa names an operation after its handler, and several modules have a `create` or a
/// `list`: where a name repeats, the first part of the path comes before it
/// (`challenges_create`), so that every `operationId` is unique as OpenAPI asks.
fn unique_operation_ids(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for op in paths
        .values()
        .filter_map(|i| i.as_object())
        .flat_map(|i| i.values())
    {
        if let Some(id) = op["operationId"].as_str() {
            *seen.entry(id.to_string()).or_default() += 1;
        }
    }
    for (path, item) in paths.iter_mut() {
        let resource = path
            .trim_start_matches("/api/")
            .split('/')
            .next()
            .unwrap_or_default();
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            if seen.get(&id).is_some_and(|n| *n > 1) {
                op["operationId"] = format!("{resource}_{id}").into();
            }
        }
    }
}

/// OpenAPI links from the operations that make a row to those that use its id, so that a
/// stateful test (schemathesis) can create, then change, accept or delete. Returns the
/// operations it could not find.
fn links(doc: &mut serde_json::Value) -> Vec<String> {
    use serde_json::json;
    /// A link's name, the operation it leads to, and the parameter that takes the id.
    type Use = (&'static str, &'static str, &'static str);
    // The creating operation, its status, where the id is in its answer, and its uses.
    let made: [(&str, &str, &str, &[Use]); 4] = [
        (
            "/paths/~1api~1categories/post",
            "201",
            "/id",
            &[
                ("rename", "categories_update", "id"),
                ("delete", "categories_delete", "id"),
                ("limit", "set_limit", "category_id"),
            ],
        ),
        (
            "/paths/~1api~1expenses/post",
            "201",
            "/id",
            &[
                ("change", "expenses_update", "id"),
                ("delete", "expenses_delete", "id"),
            ],
        ),
        (
            "/paths/~1api~1recurring/post",
            "201",
            "/rule/id",
            &[
                ("change", "recurring_update", "id"),
                ("delete", "recurring_delete", "id"),
            ],
        ),
        (
            "/paths/~1api~1challenges/post",
            "201",
            "/id",
            &[("accept", "accept", "id")],
        ),
    ];
    let mut missing = Vec::new();
    for (operation, status, id, targets) in made {
        let at = format!("{operation}/responses/{status}");
        let Some(response) = doc.pointer_mut(&at).and_then(|r| r.as_object_mut()) else {
            missing.push(at);
            continue;
        };
        let links: serde_json::Map<String, serde_json::Value> = targets
            .iter()
            .map(|(name, target, parameter)| {
                let link = json!({
                    "operationId": target,
                    "parameters": { *parameter: format!("$response.body#{id}") },
                });
                (name.to_string(), link)
            })
            .collect();
        response.insert("links".into(), links.into());
    }
    missing
}

/// A UUID as the server reads it in paths and bodies.
const UUID: &str = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Text `domain::text` takes: no control characters, and at least one character that is
/// neither a space (what trimming removes) nor a control character.
const TEXT: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$";

/// A real day, `YYYY-MM-DD` from 0001-01-01 (February 29th only in leap years), as
/// `model::parse_day` reads.
const DATE: &str = r"^(?:(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29)$";

/// An address `domain::Email` takes: no spaces, one `@`, a dot in the domain, which neither
/// starts nor ends with one.
const EMAIL: &str = r"^[^@\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@.\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^@\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*\.[^@\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@.\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$";

/// An invite code as people type it: 1 to 32 characters besides spaces and dashes.
const INVITE: &str = r"^(?:[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000-]*[^\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000-]){1,32}[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000-]*$";

/// The ISO 4217 codes a family may keep (those with minor units), as `domain::CurrencyCode`.
fn currencies() -> Vec<String> {
    let letters = b'A'..=b'Z';
    letters
        .clone()
        .flat_map(|a| letters.clone().map(move |b| (a, b)))
        .flat_map(|(a, b)| (b'A'..=b'Z').map(move |c| String::from_utf8(vec![a, b, c])))
        .filter_map(Result::ok)
        .filter(|code| crate::domain::CurrencyCode::parse(code).is_ok())
        .collect()
}

/// Puts the services' rules on the request bodies' fields: every `uuid` string gets its
/// pattern (`""` is not an id) and every `date` its own, names their length and `TEXT`,
/// passwords their length, colours `#rrggbb`, and so on. Returns the places it did not find
/// (a test keeps that empty).
fn body_rules(doc: &mut serde_json::Value) -> Vec<String> {
    use serde_json::json;
    fn format_patterns(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                let format = o
                    .get("format")
                    .and_then(|f| f.as_str())
                    .unwrap_or_default()
                    .to_string();
                let pattern = match format.as_str() {
                    "uuid" => Some(UUID),
                    "date" => Some(DATE),
                    _ => None,
                };
                if let Some(p) = pattern {
                    o.entry("pattern").or_insert_with(|| p.into());
                }
                // An integer's bounds are its type's, where the schema names no others
                // (beyond them the body does not parse).
                let bounds: Option<(serde_json::Value, serde_json::Value)> = match format.as_str() {
                    "int64" => Some((i64::MIN.into(), i64::MAX.into())),
                    "int32" => Some((i32::MIN.into(), i32::MAX.into())),
                    "uint32" => Some((0.into(), u32::MAX.into())),
                    "uint64" => Some((0.into(), u64::MAX.into())),
                    _ => None,
                };
                if let Some((min, max)) = bounds {
                    o.entry("minimum").or_insert(min);
                    o.entry("maximum").or_insert(max);
                }
                o.values_mut().for_each(format_patterns);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(format_patterns),
            _ => {}
        }
    }
    format_patterns(doc);
    let name = |max: u32| json!({"maxLength": max, "pattern": TEXT});
    let color = json!({"pattern": "^#[0-9a-fA-F]{6}$"});
    let figure = |max: u32| json!({"minimum": 0, "maximum": max});
    let time_zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    let rules = [
        ("RegisterRequest", "display_name", name(60)),
        (
            "RegisterRequest",
            "password",
            json!({"minLength": 10, "maxLength": 1024}),
        ),
        (
            "RegisterRequest",
            "email",
            json!({"maxLength": 254, "pattern": EMAIL}),
        ),
        (
            "CreateFamilyRequest",
            "currency",
            json!({"enum": currencies()}),
        ),
        (
            "CreateFamilyRequest",
            "timezone",
            json!({"enum": time_zones}),
        ),
        (
            "JoinFamilyRequest",
            "invite_code",
            json!({"pattern": INVITE}),
        ),
        ("NewChallenge", "days", json!({"minimum": 1, "maximum": 31})),
        (
            "NewChallenge",
            "limit_minor",
            json!({"minimum": 0, "maximum": 1_000_000_000_000_000i64}),
        ),
        ("Vitals", "page", json!({"maxLength": 200, "pattern": "^/"})),
        ("Vitals", "ttfb_ms", figure(600_000)),
        ("Vitals", "dom_content_loaded_ms", figure(600_000)),
        ("Vitals", "load_ms", figure(600_000)),
        ("Vitals", "lcp_ms", figure(600_000)),
        ("Vitals", "cls", figure(100)),
        ("Vitals", "wasm_ms", figure(600_000)),
        ("Vitals", "hydrate_ms", figure(600_000)),
        ("Vitals", "ws_latency_ms", figure(600_000)),
        ("CreateFamilyRequest", "name", name(80)),
        ("NewCategory", "name", name(40)),
        ("CategoryPatch", "name", name(40)),
        ("NewCategory", "color", color.clone()),
        ("CategoryPatch", "color", color),
        (
            "RecurringPatch",
            "ends_on",
            json!({"pattern": format!("^$|{DATE}")}),
        ),
    ];
    let mut missing = Vec::new();
    for (schema, property, rule) in rules {
        let at = format!("/components/schemas/{schema}/properties/{property}");
        match (doc.pointer_mut(&at), rule) {
            (Some(serde_json::Value::Object(p)), serde_json::Value::Object(r)) => p.extend(r),
            _ => missing.push(at),
        }
    }
    missing
}

/// The family-scoped reads, served through the response cache; insights are rate limited
/// outside the cache, so every request counts against the family's quota.
fn cached(state: &AppState) -> Router<AppState> {
    use crate::cache::paths;
    use crate::http::response_cache::cached;
    let insights = Router::new()
        .route("/api/insights", cached(state, insights::show))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            insights::limit,
        ));
    Router::new()
        .route(paths::CATEGORIES, cached(state, categories::list))
        .route(paths::BUDGETS, cached(state, budgets::show))
        .route(paths::EXPENSES, cached(state, expenses::list))
        .merge(insights)
}

/// The API. Only the routes that read a body get the body limit and request decompression;
/// the cached reads, the hot path, go without those layers.
pub fn api(state: &AppState) -> Router<AppState> {
    let with_bodies = Router::new()
        .route("/api/auth/register", post(auth::register))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/families", post(families::create))
        .route("/api/families/join", post(families::join))
        .route("/api/family", get(families::show))
        .route("/api/chat", get(families::chat))
        .route(
            "/api/challenges",
            get(challenges::list).post(challenges::create),
        )
        .route("/api/challenges/{id}/accept", post(challenges::accept))
        .route("/api/categories", post(categories::create))
        .route(
            "/api/categories/{id}",
            patch(categories::update).delete(categories::delete),
        )
        .route(
            "/api/budgets/{month}/{category_id}",
            put(budgets::set_limit),
        )
        .route("/api/expenses", post(expenses::create))
        .route(
            "/api/expenses/{id}",
            patch(expenses::update).delete(expenses::delete),
        )
        .route("/api/export.csv", get(export::csv))
        .route("/api/trends", get(trends::show))
        .route(
            "/api/recurring",
            get(recurring::list).post(recurring::create),
        )
        .route(
            "/api/recurring/{id}",
            patch(recurring::update).delete(recurring::delete),
        )
        .route("/api/openapi.json", get(openapi))
        .route("/api/admin/stats", get(admin::stats))
        .route("/api/admin/cache/clear", post(admin::clear_cache))
        .route("/api/vitals", post(admin::vitals))
        .route("/api/{*rest}", axum::routing::any(auth::unknown_api_route))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::http::json::MAX_BODY_BYTES,
        ))
        .layer(tower_http::decompression::RequestDecompressionLayer::new());
    // Files are bigger than JSON bodies.
    let files = Router::new()
        .route("/api/import", post(import::upload))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::service::import::MAX_BYTES,
        ))
        .layer(tower_http::decompression::RequestDecompressionLayer::new());
    Router::new()
        .merge(cached(state))
        .merge(files)
        .merge(with_bodies)
        .route("/ws", get(crate::http::socket::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(crate::http::metrics::scrape))
        .route("/readyz", get(health::readyz))
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_ids_are_unique_and_every_link_names_an_operation_and_its_parameter() {
        let doc = super::document();
        let operations: Vec<&serde_json::Value> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .collect();
        let ids: Vec<&str> = operations
            .iter()
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let unique: std::collections::HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ids.contains(&"challenges_create") && ids.contains(&"set_limit"));
        let mut links = 0;
        for op in &operations {
            for response in op["responses"].as_object().unwrap().values() {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    let target = operations
                        .iter()
                        .find(|t| t["operationId"] == link["operationId"])
                        .unwrap_or_else(|| panic!("no operation for {link}"));
                    for name in link["parameters"].as_object().unwrap().keys() {
                        let takes = target["parameters"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|p| p["name"] == *name);
                        assert!(takes, "{} takes no {name}", link["operationId"]);
                    }
                    links += 1;
                }
            }
        }
        assert_eq!(links, 8);
    }

    #[test]
    fn every_body_rule_finds_its_field_and_ids_get_their_pattern() {
        let mut doc = serde_json::to_value(<super::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
        assert_eq!(super::body_rules(&mut doc), Vec::<String>::new());
        let name = &doc["components"]["schemas"]["NewCategory"]["properties"]["name"];
        assert_eq!(name["maxLength"], 40);
        assert_eq!(name["pattern"], super::TEXT);
        let id = &doc["components"]["schemas"]["NewExpense"]["properties"]["id"];
        assert_eq!(id["pattern"], super::UUID, "{id}");
        let currencies = super::currencies();
        assert!(currencies.contains(&"EUR".to_string()) && currencies.contains(&"JPY".to_string()));
        assert!(
            !currencies.contains(&"XAU".to_string()),
            "gold has no minor unit"
        );
    }

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(s)
    }

    #[test]
    fn the_date_pattern_takes_exactly_the_real_days() {
        for year in [
            0, 1, 4, 100, 400, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 9999,
        ] {
            for month in 1..=12u32 {
                for day in 1..=31u32 {
                    let s = format!("{year:04}-{month:02}-{day:02}");
                    let real = app::model::parse_day(&s).is_some();
                    assert_eq!(matches(super::DATE, &s), real, "{s}");
                }
            }
        }
        for bad in [
            "",
            "2024-1-01",
            "2024-01-01T00:00",
            "20240-01-01",
            " 2024-01-01",
        ] {
            assert!(!matches(super::DATE, bad), "{bad}");
        }
    }

    #[test]
    fn the_text_email_and_invite_patterns_say_what_the_server_takes() {
        let samples = [
            "Food",
            " Food ",
            "",
            " ",
            "\t",
            "a\nb",
            "\u{a0}x\u{a0}",
            "\u{3000}",
            "\u{feff}",
            "x\u{85}",
            "\u{2028}",
            "ann@example.org",
            " ann@example.org",
            "a b@x.org",
            "a@b",
            "a@.org",
            "a@x.org.",
            "a@@x.org",
            "@x.org",
            "ann@",
            "ÄNN@ÉX.ORG",
            "ab-cd ef",
            "-",
            "AB\u{2003}CD",
            "ü",
            &"x".repeat(33),
            &"x".repeat(32),
        ];
        for s in samples {
            let text = crate::domain::text("name", s, 40).is_ok();
            assert_eq!(
                matches(super::TEXT, s) && s.chars().count() <= 40,
                text,
                "text {s:?}"
            );
            let email = crate::domain::Email::parse(s).is_ok();
            // The pattern is stricter on spaces around: the server trims them.
            if s.trim() == s {
                assert_eq!(matches(super::EMAIL, s), email, "email {s:?}");
            }
            let code: String = s
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect();
            let invite = !code.is_empty() && code.chars().count() <= 32;
            assert_eq!(matches(super::INVITE, s), invite, "invite {s:?}");
        }
    }
}
