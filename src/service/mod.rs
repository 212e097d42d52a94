//! The service layer: every business rule, written once and used by the JSON API, by server
//! rendering and (later) by background jobs.

pub mod accounts;
pub mod budget;
pub mod families;
pub mod insights;

/// After a family's change is committed: invalidate what is cached for it on every server,
/// then put its current month back into the cache before answering, so the reads that
/// follow the change (the whole family's, on any server) hit.
pub async fn changed(state: &crate::state::AppState, family: &crate::store::FamilyRecord) {
    state.cache.bump_family(family.id).await;
    crate::jobs::warm_family(state, family).await;
}

/// Milliseconds since the Unix epoch, the store's time unit.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
