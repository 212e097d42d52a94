//! `AppState`: everything a handler may need, cheap to clone.

use crate::auth::sessions::SessionStore;
use crate::cache::Cache;
use crate::config::Settings;
use crate::store::Store;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub cache: Arc<Cache>,
    pub sessions: Arc<dyn SessionStore>,
    pub members: crate::auth::MemberCache,
    pub limiter: Arc<crate::rate_limit::RateLimiter>,
    pub locks: Arc<crate::lock::Locks>,
    pub settings: Arc<Settings>,
    pub leptos: LeptosOptions,
    pub started: Instant,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
