//! The live client: the connection to the hub ([`socket`]: subscribing, resuming from a
//! position, reconnecting, heartbeats; its loop is a chunk of its own) and the [`ledger`], what
//! a page shows, live and optimistic, as events and the device's own changes arrive.

pub mod ledger;
pub mod socket;
