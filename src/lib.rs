//! Hearth's server: the JSON API, server rendering of the `app` pages, the WebSocket hub and
//! the background jobs, over SQLite or PostgreSQL, with Redis (or its in-process stand-ins)
//! beside it. This is the map; ARCHITECTURE.md draws the two flows and says how to add things.
//!
//! The parts, from the bottom up. Each uses only the parts listed before it, never one listed
//! after it (`tests/integration/layers.rs` reads the sources and fails otherwise):
//!
//! 1. **The domain's ground.** [`domain`] parses field values once (amounts, names, emails,
//!    currencies, time zones); [`store`] is the system of record (one trait, one SQL for both
//!    databases, migrations in `migrations/`); [`config`] reads the settings; [`clock`] is
//!    the time and a family's today.
//! 2. **Redis.** [`redis`]: the link (single, Sentinel, Cluster), the one subscription per
//!    server, locks, rate limits; each in process when Redis is not configured.
//! 3. **Errors.** [`error`]: every failure as the contract's answer (status, code, message).
//! 4. **Caching.** [`cache`]: the two-level cache (in-process L1, Redis L2), tag invalidation,
//!    its statistics, each thread's last answers (`cache::front`), the stored pages.
//! 5. **Who is asking.** [`auth`]: sessions, passwords, the signed-in member's types and the
//!    in-process cache of members.
//! 6. **Realtime.** [`realtime`]: the hub, the bus that orders and keeps each channel's
//!    events (one Lua script), presence, and delivery to sockets.
//! 7. **Watching it.** [`monitor`]: the admin monitor's series and alerts, the roll-ups, the
//!    health score, logs and traces, the Prometheus recorder and request counters.
//! 8. **The state.** [`state`]: `AppState`, everything above in one `Arc`, what every handler
//!    and service gets.
//! 9. **The rules.** [`service`]: every rule (budget, recurring bills, import, export,
//!    search, trends, insights, challenges, families, accounts, the admin's figures), the
//!    events a change sends, and warming the cache after a change.
//! 10. **Background work.** [`jobs`]: the monitor's second and the analytics roll-ups.
//! 11. **The HTTP edge.** [`http`]: the routes (one file per resource, and the OpenAPI
//!     document), server rendering's data, the response and page caches in front of them,
//!     the security guard and headers, JSON bodies, compression, the listener, the
//!     WebSocket endpoint, `/metrics`, the service worker and the built site.
//! 12. **Starting.** [`startup`] builds everything from the settings and runs it; [`backup`]
//!     is the `backup`/`restore` commands.
//!
//! The two flows. A change: `http::routes` → `service` (validate) → `store` (commit) →
//! `service::changed` (the family's cache tag bumped, its month warmed again by
//! `service::warm`) → `service::events` → the hub's bus (offset, history, publish) → every
//! server's subscription (`redis::pubsub`) → the hub → the sockets → the browser's ledger.
//! A read: `http::response_cache` (L1, then Redis) → `http::routes` → `service` → `store`,
//! its answer stored under the family's tag version.
//!
//! Where an expense is validated: `service::budget::add_expense`; stored:
//! `Store::insert_expense` (`store/sql.rs`); cached: `service::changed` and
//! `service::warm`; announced: `service::events::expense`; drawn: the `app` crate's
//! `pages::budget` from its ledger (`live::ledger`).
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
