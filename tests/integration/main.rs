//! Integration tests of the server: real servers on port 0 driven over HTTP, and the store
//! contract suite run against SQLite and PostgreSQL.

mod accounts;
mod admin;
mod backup;
mod bad_input;
mod budget;
mod caching;
mod challenges;
mod chaos;
mod cluster;
mod families;
mod helpers;
mod hub_servers;
mod import;
mod layers;
mod metrics;
mod monitor;
mod operations;
mod pages;
mod realtime;
mod recurring;
mod security;
mod sentinel;
mod store_contract;
mod upgrade;
