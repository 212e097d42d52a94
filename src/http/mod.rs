//! The HTTP edge: everything that knows about requests and responses.

pub mod compress;
pub mod json;
pub mod member;
pub mod metrics;
pub mod net;
pub mod page_cache;
pub mod pages;
pub mod pwa;
pub mod response_cache;
pub mod routes;
pub mod security;
pub mod site;
pub mod socket;
