//! Warming the cache: a family's current month (its budget and expenses, as the API answers
//! them) is put into the cache after each of its changes (`service::changed`), and at
//! start-up, once across all servers under a Redis lock and before the server answers at all
//! (so `/readyz` cannot report ready early), for the recently active families, so their
//! first page load after a deploy is a hit.

use super::budget;
use crate::cache::{Cache, CachedResponse, Lookup};
use crate::state::AppState;
use crate::store::FamilyRecord;
use std::sync::Arc;
use std::time::Duration;

/// Families with an expense changed within this window are warmed.
const ACTIVE_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
const MAX_FAMILIES: i64 = 500;

/// Returns how many families were warmed (0 when another server holds the lock).
pub async fn warm(state: &AppState) -> usize {
    let Some(guard) = state
        .locks
        .try_acquire("warm", Duration::from_secs(120))
        .await
    else {
        return 0;
    };
    let families = match state
        .store
        .recently_active_families(crate::clock::now_ms() - ACTIVE_WINDOW_MS, MAX_FAMILIES)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "warming skipped");
            state.locks.release(&guard).await;
            return 0;
        }
    };
    let mut warmed = 0;
    for family in &families {
        if warm_family(state, family).await.is_some() {
            warmed += 1;
        }
    }
    state.locks.release(&guard).await;
    tracing::info!(families = warmed, "cache warmed");
    warmed
}

/// One cacheable answer, ready to store: route, query and response.
pub type WarmEntry = (&'static str, Option<String>, Arc<CachedResponse>);

/// The family's current month, computed once: the budget itself (for the change's events)
/// and the answers to store.
pub struct Warm {
    pub budget: app::model::Budget,
    pub entries: Vec<WarmEntry>,
}

/// Computes the family's current-month budget and expenses as the API would answer them.
pub async fn family_entries(state: &AppState, family: &FamilyRecord) -> Option<Warm> {
    let (Ok(b), Ok(expenses)) = tokio::join!(
        budget::budget(state, family, None),
        budget::expenses(state, family, None, None, None)
    ) else {
        return None;
    };
    let month_query = format!("month={}", b.month);
    let expenses_body = app::model::Expenses {
        expenses,
        next_cursor: None,
    };
    let (Ok(budget_body), Ok(e)) = (serde_json::to_vec(&b), serde_json::to_vec(&expenses_body))
    else {
        return None;
    };
    let default = state.cache.default_ttl();
    let budget_entry = Arc::new(CachedResponse::json(
        budget_body,
        crate::cache::ttl_for("/api/budgets", default),
    ));
    let expenses_entry = Arc::new(CachedResponse::json(
        e,
        crate::cache::ttl_for("/api/expenses", default),
    ));
    Some(Warm {
        budget: b,
        entries: vec![
            ("/api/budgets", None, budget_entry.clone()),
            ("/api/budgets", Some(month_query.clone()), budget_entry),
            ("/api/expenses", Some(month_query), expenses_entry),
        ],
    })
}

/// Stores computed entries under the family's tag version `version`.
pub async fn store_entries(
    state: &AppState,
    family: &FamilyRecord,
    version: u64,
    entries: Vec<WarmEntry>,
) {
    let today = crate::clock::today(family);
    for (route, query, entry) in entries {
        let key = Cache::key(family.id, version, today, route, query.as_deref());
        state.cache.put(&key, entry).await;
    }
}

/// Puts the family's current budget and expenses into the cache under its current version;
/// returns the budget when it did.
pub async fn warm_family(state: &AppState, family: &FamilyRecord) -> Option<app::model::Budget> {
    let Lookup::Current(version) = state
        .cache
        .version(&crate::cache::family_tag(family.id))
        .await
    else {
        return None;
    };
    let warm = family_entries(state, family).await?;
    store_entries(state, family, version, warm.entries).await;
    Some(warm.budget)
}
