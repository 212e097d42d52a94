//! The service layer: every business rule, written once and used by the JSON API, by server
//! rendering and (later) by background jobs.

pub mod accounts;
pub mod budget;
pub mod families;
pub mod insights;

/// Milliseconds since the Unix epoch, the store's time unit.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
