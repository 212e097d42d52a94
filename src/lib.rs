//! Hearth's server: the JSON API, server rendering of the `app` pages, the WebSocket hub and
//! the jobs, over SQLite or PostgreSQL, with Redis (or its in-process stand-ins) beside it.
//! ARCHITECTURE.md follows a request and an event through these modules; here is the map.
//!
//! **Starting and serving.** [`startup`] builds everything from [`config`]'s settings and
//! runs it; [`state`] is what every handler gets; [`net`] is the listener; [`site`] finds
//! (or unpacks) the built assets; [`backup`] is the `backup`/`restore` commands.
//!
//! **HTTP.** [`routes`] holds one file per resource of the JSON API and its OpenAPI document;
//! [`pages`] gives server rendering the same data; [`json`] and [`error`] turn bodies and
//! failures into the contract's answers; [`security`] checks `Origin` and sets the headers;
//! [`compress`] compresses; [`pwa`] serves the service worker; [`prometheus`] is `/metrics`.
//!
//! **The domain.** [`service`] holds every rule (budget, recurring bills, import, export,
//! search, trends, insights, challenges, families, accounts) and the events a change sends;
//! [`domain`] parses field values once; [`store`] is the system of record (one trait, one SQL
//! for both databases, migrations in `migrations/`); [`auth`] is sessions, passwords and the
//! signed-in member.
//!
//! **Caching.** [`cache`] is the two-level cache (in-process L1, Redis L2) with tag
//! invalidation and its statistics; [`front`] keeps each thread's last answers; [`jobs`]
//! warms the cache at start-up and after each change.
//!
//! **Redis and coordination.** [`redis_link`] is the connection (single, Sentinel, Cluster);
//! [`pubsub`] the one subscription per server; [`lock`] the locks background work runs
//! under; [`rate_limit`] the token buckets.
//!
//! **Realtime.** [`realtime`] is the WebSocket hub: the bus that orders and keeps each
//! channel's events, presence, and delivery to sockets.
//!
//! **Watching it.** [`monitor`] (the admin monitor's series and alerts), [`rollup`] (the
//! cluster's analytics), [`health_score`], [`telemetry`] (logs and traces).
//!
//! The two flows: a change goes route → service (validate) → store (commit) →
//! `service::changed` (the family's cache tag bumped, its month warmed again) →
//! `service::events` → the hub's bus (offset, history, publish) → every server's subscription
//! → the sockets → the browser's ledger. A read goes front door → L1 → Redis → route →
//! service → store, its answer stored under the family's tag version.
#![forbid(unsafe_code)]

pub mod auth;
pub mod backup;
pub mod cache;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod monitor;
pub mod realtime;
pub mod redis;
pub mod service;
pub mod startup;
pub mod state;
pub mod store;

/// The hasher of the maps on the request path (the caches, the per-route counters): keys are
/// our own strings, so a fast seeded hash serves better than SipHash there.
pub type FastHash = foldhash::fast::RandomState;
