//! `AppState`: everything a handler may need. axum clones the state for every extractor of
//! every request, so it is one `Arc`: a clone is a single reference count.

use crate::auth::sessions::SessionStore;
use crate::cache::Cache;
use crate::config::Settings;
use crate::store::Store;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: Arc<dyn Store>,
    pub cache: Arc<Cache>,
    pub sessions: Arc<dyn SessionStore>,
    pub members: crate::auth::MemberCache,
    pub limiter: crate::redis::rate_limit::RateLimiter,
    pub locks: crate::redis::lock::Locks,
    pub settings: Settings,
    pub leptos: LeptosOptions,
    pub started: Instant,
    /// This server's name among its peers (random per start).
    pub node_id: String,
    pub rollups: crate::monitor::rollup::LocalRollups,
    pub hub: Arc<crate::realtime::Hub>,
    /// This server's request counters for `/metrics`.
    pub requests: crate::monitor::prometheus::RequestMetrics,
    /// The performance monitor's series, alerts and browser reports.
    pub monitor: crate::monitor::Monitor,
    /// `/sw.js` for the build this server serves.
    pub worker_script: String,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
