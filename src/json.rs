//! `ApiJson<T>`: the JSON body extractor with the contract's errors — 413 over 64 KiB, 400
//! for bytes that are not JSON, 422 naming the field for JSON of the wrong shape.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body(req, state, MAX_BODY_BYTES).await?;
        parse(&bytes).map(ApiJson)
    }
}

/// The request's body, within the route's body limit `limit` (the `DefaultBodyLimit` layer
/// the route has; named here for the error).
pub async fn body<S: Send + Sync>(
    req: Request,
    state: &S,
    limit: usize,
) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(limit)
        } else {
            ApiError::Malformed("The request body could not be read.".into())
        }
    })
}

/// Parses a JSON body: syntax errors are `Malformed`, shape errors `Invalid` naming the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path.is_empty() || path == "." || path.starts_with('[') {
                    "body".to_string()
                } else {
                    path
                };
                ApiError::Invalid(crate::domain::field_error(field, describe(&inner)))
            }
            _ => ApiError::Malformed("The body is not valid JSON.".into()),
        }
    })?;
    de.end()
        .map_err(|_| ApiError::Malformed("The body is not valid JSON.".into()))?;
    Ok(value)
}

/// serde's message without its "at line 1 column 9" position.
fn describe(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Body {
        #[allow(dead_code)]
        amount_minor: i64,
    }

    #[test]
    fn syntax_errors_are_malformed_and_shape_errors_name_the_field() {
        assert!(matches!(parse::<Body>(b"{"), Err(ApiError::Malformed(_))));
        assert!(matches!(
            parse::<Body>(br#"{"amount_minor":5} x"#),
            Err(ApiError::Malformed(_))
        ));
        match parse::<Body>(br#"{"amount_minor":"ten"}"#) {
            Err(ApiError::Invalid(e)) => assert_eq!(e.field, "amount_minor"),
            other => panic!("{other:?}"),
        }
        match parse::<Body>(b"{}") {
            Err(ApiError::Invalid(e)) => assert!(e.reason.contains("amount_minor")),
            other => panic!("{other:?}"),
        }
        assert!(parse::<Body>(br#"{"amount_minor":5}"#).is_ok());
    }
}
