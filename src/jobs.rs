//! Background work that must run once across all servers, under a Redis lock.
//!
//! Warming: at start-up, before the server answers at all (so `/readyz` cannot report ready
//! early), the current month's budget and expenses of recently active families are put into
//! the cache, so their first page load after a deploy is a hit.

use crate::cache::{Cache, CachedResponse, Lookup};
use crate::service::{self, budget};
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
        .recently_active_families(service::now_ms() - ACTIVE_WINDOW_MS, MAX_FAMILIES)
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
        if warm_family(state, family).await {
            warmed += 1;
        }
    }
    state.locks.release(&guard).await;
    tracing::info!(families = warmed, "cache warmed");
    warmed
}

/// Puts the family's current budget and expenses into the cache under its current version.
pub async fn warm_family(state: &AppState, family: &FamilyRecord) -> bool {
    let Lookup::Current(version) = state
        .cache
        .version(&crate::cache::family_tag(family.id))
        .await
    else {
        return false;
    };
    let (Ok(b), Ok(expenses)) = tokio::join!(
        budget::budget(state, family, None),
        budget::expenses(state, family, None, None)
    ) else {
        return false;
    };
    let month_query = format!("month={}", b.month);
    let today = budget::today(family);
    let budget_keys = [
        Cache::key(family.id, version, today, "/api/budgets", None),
        Cache::key(
            family.id,
            version,
            today,
            "/api/budgets",
            Some(&month_query),
        ),
    ];
    let expenses_key = Cache::key(
        family.id,
        version,
        today,
        "/api/expenses",
        Some(&month_query),
    );
    let expenses_body = app::model::Expenses { expenses };
    let (Ok(b), Ok(e)) = (serde_json::to_vec(&b), serde_json::to_vec(&expenses_body)) else {
        return false;
    };
    let budget_entry = Arc::new(CachedResponse::json(b));
    for key in &budget_keys {
        state.cache.put(key, budget_entry.clone()).await;
    }
    state
        .cache
        .put(&expenses_key, Arc::new(CachedResponse::json(e)))
        .await;
    true
}
