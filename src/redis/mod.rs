//! Redis, as every other part uses it: [`link`] is the connection (single server, Sentinel or
//! Cluster) with its health probe; [`pubsub`] the one subscription per server that cache
//! invalidation and the hub share; [`lock`] the locks background work runs under (with a
//! fencing counter); [`rate_limit`] the token buckets every server shares. Each works in
//! process when no Redis is configured, or while it is down.
//!
//! (The crate `redis` is the client library; this module is `crate::redis`.)

pub mod link;
pub mod lock;
pub mod pubsub;
pub mod rate_limit;
