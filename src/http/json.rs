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
        // serde reports some shape errors of JSON that is well formed as syntax errors (an
        // empty object where an enum's name belongs: "expected value"), so well-formedness is
        // asked of the bytes themselves.
        let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
                if !well_formed() =>
            {
                ApiError::Malformed("The body is not valid JSON.".into())
            }
            serde_json::error::Category::Data
            | serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof => {
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
    // serde also reads a struct from an array of its fields in order (`[null, null]` as a
    // patch of nothing): every body of the API is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let reason = "must be a JSON object".to_string();
        return Err(ApiError::Invalid(crate::domain::field_error(
            "body", reason,
        )));
    }
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
        // Well-formed JSON of the wrong shape is never called malformed, even where serde
        // reports it as a syntax error (an object where an enum's name belongs).
        match parse::<app::model::NewRecurringRule>(
            br#"{"category_id":"e3e70682-c209-4cac-629f-6fbed82c07cd","amount_minor":1,"every":{},"starts_on":"2026-01-01"}"#,
        ) {
            Err(ApiError::Invalid(e)) => assert_eq!(e.field, "every"),
            other => panic!("{other:?}"),
        }
        assert!(parse::<Body>(br#"{"amount_minor":5}"#).is_ok());
        assert!(parse::<Body>(b" \n{\"amount_minor\":5}").is_ok());
        // A struct's fields as an array parse with serde, and are refused all the same.
        for array in [&b"[5]"[..], b" [5]"] {
            match parse::<Body>(array) {
                Err(ApiError::Invalid(e)) => assert_eq!(
                    (e.field.as_str(), e.reason.as_str()),
                    ("body", "must be a JSON object")
                ),
                other => panic!("{other:?}"),
            }
        }
    }

    /// Any JSON (of any shape, deep or not) sent as any of the API's bodies is parsed or
    /// refused with the contract's 422 (400 only for bytes that are not JSON): never a panic,
    /// never another error.
    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(|f| serde_json::json!(f)),
            ".{0,12}".prop_map(serde_json::Value::from),
            "[0-9a-f-]{36}".prop_map(serde_json::Value::from),
            "20[0-9]{2}-[01][0-9]-[0-3][0-9]".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            let keys = prop_oneof![
                Just("category_id".to_string()),
                Just("amount_minor".to_string()),
                Just("note".to_string()),
                Just("every".to_string()),
                Just("starts_on".to_string()),
                Just("ends_on".to_string()),
                Just("version".to_string()),
                Just("kind".to_string()),
                Just("days".to_string()),
                "[a-z_]{1,10}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn parsed_or_refused<T: DeserializeOwned>(bytes: &[u8]) {
        match parse::<T>(bytes) {
            Ok(_) | Err(ApiError::Malformed(_)) | Err(ApiError::Invalid(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }

    /// Well-formed JSON is parsed or refused as of the wrong shape (422), never as malformed.
    fn shaped_or_refused<T: DeserializeOwned>(bytes: &[u8]) {
        match parse::<T>(bytes) {
            Ok(_) | Err(ApiError::Invalid(_)) => {}
            Err(other) => panic!("{} gave {other:?}", String::from_utf8_lossy(bytes)),
        }
    }

    proptest::proptest! {
        #[test]
        fn any_json_body_is_parsed_or_refused_as_of_the_wrong_shape(value in json_value()) {
            use app::model::*;
            let bytes = serde_json::to_vec(&value).unwrap();
            shaped_or_refused::<NewExpense>(&bytes);
            shaped_or_refused::<ExpensePatch>(&bytes);
            shaped_or_refused::<NewRecurringRule>(&bytes);
            shaped_or_refused::<RecurringPatch>(&bytes);
            shaped_or_refused::<NewChallenge>(&bytes);
            shaped_or_refused::<NewCategory>(&bytes);
            shaped_or_refused::<CategoryPatch>(&bytes);
            shaped_or_refused::<SetLimit>(&bytes);
            shaped_or_refused::<RegisterRequest>(&bytes);
            shaped_or_refused::<LoginRequest>(&bytes);
            shaped_or_refused::<CreateFamilyRequest>(&bytes);
            shaped_or_refused::<JoinFamilyRequest>(&bytes);
        }

        #[test]
        fn any_bytes_are_parsed_or_refused_with_the_contract_s_error(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            parsed_or_refused::<app::model::NewExpense>(&bytes);
            parsed_or_refused::<app::model::NewRecurringRule>(&bytes);
        }
    }
}
