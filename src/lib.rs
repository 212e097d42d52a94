//! Hearth's server: configuration, the system of record, accounts and families, the budget
//! API and server rendering of the `app` pages.
#![forbid(unsafe_code)]

pub mod auth;
pub mod backup;
pub mod cache;
pub mod compress;
pub mod config;
pub mod domain;
pub mod error;
pub mod front;
pub mod health_score;
pub mod jobs;
pub mod json;
pub mod lock;
pub mod monitor;
pub mod net;
pub mod pages;
pub mod prometheus;
pub mod pubsub;
pub mod pwa;
pub mod rate_limit;
pub mod realtime;
pub mod redis_link;
pub mod rollup;
pub mod routes;
pub mod security;
pub mod service;
pub mod site;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;

/// The hasher of the maps on the request path (the caches, the per-route counters): keys are
/// our own strings, so a fast seeded hash serves better than SipHash there.
pub type FastHash = foldhash::fast::RandomState;
