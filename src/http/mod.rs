//! The HTTP edge: everything that knows about requests and responses.
//!
//! A request meets, in order: [`net`] (the listener, the client's address), [`compress`],
//! [`response_cache`] (the front door: L1 hits answered before routing; the page cache,
//! [`page_cache`], for pages), [`security`] (the `Origin` check and the headers on every
//! answer), then a route ([`routes`], one file per resource, with the OpenAPI document) or a
//! page ([`pages`] gives server rendering the services' data). [`member`] finds the signed-in
//! member of a request, [`json`] reads bodies (413, 400, 422 naming the field). Beside them:
//! [`socket`] (the WebSocket endpoint, handing frames to the hub), [`metrics`] (`/metrics`),
//! [`pwa`] (the service worker script) and [`site`] (the built assets, unpacked from the
//! binary when embedded).

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
