//! Any bytes as each JSON body the API takes: parsed, or refused as not JSON (400) or as of
//! the wrong shape (422) — never another error, never a panic; well-formed JSON is never
//! refused as not JSON. What parses then goes through the field rules the services apply.
#![no_main]

use app::model::*;
use hearth::domain;
use hearth::error::ApiError;
use hearth::http::json::parse;
use libfuzzer_sys::fuzz_target;

fn body<T: serde::de::DeserializeOwned>(data: &[u8], json: bool) -> Option<T> {
    match parse::<T>(data) {
        Ok(value) => Some(value),
        Err(ApiError::Invalid(_)) => None,
        Err(ApiError::Malformed(_)) if !json => None,
        Err(other) => panic!("{} gave {other:?}", String::from_utf8_lossy(data)),
    }
}

fn text(field: &'static str, s: &str, max: usize) {
    if let Ok(t) = domain::text(field, s, max) {
        assert!(!t.is_empty() && t.chars().count() <= max && t == t.trim());
    }
}

fuzz_target!(|data: &[u8]| {
    let json = serde_json::from_slice::<serde_json::Value>(data).is_ok();
    if let Some(e) = body::<NewExpense>(data, json) {
        if let Ok(a) = domain::amount(e.amount_minor) {
            assert!(a >= 1);
        }
    }
    let _ = body::<ExpensePatch>(data, json);
    let _ = body::<NewRecurringRule>(data, json);
    let _ = body::<RecurringPatch>(data, json);
    let _ = body::<NewChallenge>(data, json);
    if let Some(c) = body::<NewCategory>(data, json) {
        text("name", &c.name, 40);
        if let Some(color) = c.color {
            if let Ok(c) = domain::color(&color) {
                assert_eq!(c.len(), 7);
            }
        }
    }
    let _ = body::<CategoryPatch>(data, json);
    if let Some(l) = body::<SetLimit>(data, json) {
        let _ = domain::limit(l.limit_minor);
    }
    if let Some(r) = body::<RegisterRequest>(data, json) {
        let _ = domain::Email::parse(&r.email);
        let _ = domain::Password::parse(&r.password);
        text("display_name", &r.display_name, 60);
    }
    let _ = body::<LoginRequest>(data, json);
    if let Some(f) = body::<CreateFamilyRequest>(data, json) {
        text("name", &f.name, 80);
        let _ = domain::CurrencyCode::parse(&f.currency);
        let _ = domain::time_zone(&f.timezone);
    }
    let _ = body::<JoinFamilyRequest>(data, json);
});
