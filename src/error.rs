//! `ApiError`, the HTTP layer's error, and the one place errors become the contract's
//! `{"error":{"code","message"}}` bodies. 5xx details go to the log, never to the client.

use crate::domain::FieldError;
use crate::store::StoreError;
use app::model::{ErrorBody, Expense};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("forbidden: {1}")]
    Forbidden(&'static str, String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {1}")]
    Conflict(&'static str, String),
    #[error("version conflict")]
    VersionConflict(Box<Expense>),
    #[error("body too large")]
    /// The body passed its limit, in bytes.
    TooLarge(usize),
    /// `Accept-Encoding` excludes every coding the answer exists in (RFC 9110 §12.5.3).
    #[error("no acceptable content coding")]
    NotAcceptable,
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("rate limited")]
    RateLimited { retry_after_s: u64, limit: u32 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database has no room to write (503 `unavailable`, saying so).
    #[error("database full: {0}")]
    Full(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ApiError::Invalid(crate::domain::field_error(field, reason))
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Malformed(m) => (StatusCode::BAD_REQUEST, "malformed", m.clone()),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in to continue.".into(),
            ),
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The email or password is wrong.".into(),
            ),
            ApiError::Forbidden(code, m) => (StatusCode::FORBIDDEN, code, m.clone()),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "Nothing here by that id.".into(),
            ),
            ApiError::Conflict(code, m) => (StatusCode::CONFLICT, code, m.clone()),
            ApiError::VersionConflict(_) => (
                StatusCode::CONFLICT,
                "version_conflict",
                "The expense was changed meanwhile; the current version is attached.".into(),
            ),
            ApiError::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                "The answer is available as br, gzip or identity; Accept-Encoding excludes all three."
                    .into(),
            ),
            ApiError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("This request's body is limited to {} KiB.", limit / 1024),
            ),
            ApiError::Invalid(e) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                e.to_string(),
            ),
            ApiError::RateLimited { retry_after_s, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many attempts; try again in {retry_after_s} s."),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The database is not answering; try again shortly.".into(),
            ),
            ApiError::Full(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The server's disk is full, so nothing was saved; try again once there is room."
                    .into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side.".into(),
            ),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(code) => ApiError::Conflict(code, conflict_message(code).into()),
            StoreError::VersionConflict(current) => ApiError::VersionConflict(current),
            StoreError::CategoryInUse {
                expenses,
                challenges,
                rules,
            } => ApiError::Conflict(
                "category_in_use",
                in_use_message(expenses, challenges, rules),
            ),
            StoreError::BadReference(field) => {
                ApiError::invalid(field, "name another category of the family")
            }
            StoreError::Unavailable(e) => ApiError::Unavailable(e.to_string()),
            StoreError::Full(e) => ApiError::Full(e.to_string()),
            e @ (StoreError::Database(_) | StoreError::Corrupt(_)) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

/// Why a category cannot be deleted as it is, with the counts: "1 expense uses", "3
/// expenses and 1 recurring rule use".
fn in_use_message(expenses: i64, challenges: i64, rules: i64) -> String {
    let parts: Vec<String> = [
        (expenses, "expense", "expenses"),
        (challenges, "challenge", "challenges"),
        (rules, "recurring rule", "recurring rules"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect();
    let (last, first) = parts
        .split_last()
        .map_or(("", &[][..]), |(l, f)| (l.as_str(), f));
    let things = match first {
        [] => last.to_string(),
        first => format!("{} and {last}", first.join(", ")),
    };
    let verb = if parts.len() == 1 && [expenses, challenges, rules].contains(&1) {
        "uses"
    } else {
        "use"
    };
    format!("{things} {verb} this category: move them to another category (move_to) to delete it.")
}

fn conflict_message(code: &str) -> &'static str {
    match code {
        "email_taken" => "An account with this email exists; sign in instead.",
        "already_in_family" => "You are already in a family.",
        "category_exists" => "The family already has a category with this name.",
        "duplicate_id" => "This expense id was already used for a different expense.",
        _ => "The request conflicts with the current state.",
    }
}

#[derive(serde::Serialize)]
struct ConflictBody<'a> {
    error: &'a app::model::ErrorDetail,
    expense: &'a Expense,
}

impl ApiError {
    /// The status and the contract's body; 5xx details are logged here and never sent.
    pub fn to_body(&self) -> (StatusCode, ErrorBody) {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        (status, ErrorBody::new(code, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.to_body();
        let mut response = match &self {
            ApiError::VersionConflict(current) => (
                status,
                Json(ConflictBody {
                    error: &body.error,
                    expense: current,
                }),
            )
                .into_response(),
            _ => (status, Json(body)).into_response(),
        };
        if let ApiError::RateLimited {
            retry_after_s,
            limit,
        } = self
        {
            crate::redis::rate_limit::set_headers(
                response.headers_mut(),
                limit,
                0,
                retry_after_s,
                true,
            );
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
