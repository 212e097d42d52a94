//! A call that failed, as every page shows it: the HTTP status and the contract's error body.

use crate::model::ErrorBody;
use serde::{Deserialize, Serialize};

/// A failed call: the HTTP status and the contract's error body (status 0: no network).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiFailure {
    pub status: u16,
    pub body: ErrorBody,
}

impl ApiFailure {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::new(code, message),
        }
    }

    pub fn message(&self) -> String {
        self.body.error.message.clone()
    }

    pub fn code(&self) -> &str {
        &self.body.error.code
    }

    pub fn is_signed_out(&self) -> bool {
        self.status == 401
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.body.error.message)
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;
