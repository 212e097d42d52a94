//! The service layer: every business rule, written once and used by the JSON API, by server
//! rendering and by the background jobs (recurring bills, warming).

pub mod accounts;
pub mod admin;
pub mod budget;
pub mod challenges;
pub mod events;
pub mod export;
pub mod families;
pub mod import;
pub mod insights;
pub mod recurring;
pub mod search;
pub mod trends;
pub mod warm;

/// After a family's change is committed: invalidate what is cached for it on every server
/// and put its current month back into the cache before answering, so the reads that follow
/// the change (the whole family's, on any server) hit.
///
/// The new answers are computed before the bump, so the window in which readers miss is one
/// `SET`, not a database round trip. They are stored only if the bump moved the version by
/// exactly one: then no other change was announced between reading the version and bumping
/// it, and every change announced before was committed before the answers were computed.
/// Otherwise they are computed again under the new version.
///
/// Returns the current month's budget as computed after the change (when it could be), so
/// the change's events need not compute it again.
pub async fn changed(
    state: &crate::state::AppState,
    family: &crate::store::FamilyRecord,
) -> Option<app::model::Budget> {
    use crate::cache::{family_tag, Lookup};
    let tag = family_tag(family.id);
    let before = state.cache.version(&tag).await;
    let warm = warm::family_entries(state, family).await;
    let after = state.cache.bump(&tag).await;
    match (before, after, warm) {
        (Lookup::Current(b), Some(a), Some(warm)) if a == b + 1 => {
            warm::store_entries(state, family, a, warm.entries).await;
            Some(warm.budget)
        }
        _ => warm::warm_family(state, family).await,
    }
}
