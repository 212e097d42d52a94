//! The rendered pages the cache keeps in process beside L1 (`http::page_cache` renders and
//! serves them): each in brotli, gzip and identity, with the headers it was rendered with.

use super::CachedResponse;
use axum::http::{HeaderMap, StatusCode};
use std::sync::Arc;

/// The rendered pages, kept in process beside L1.
pub type Pages = moka::future::Cache<String, Arc<CachedPage>, crate::FastHash>;

/// A rendered page in all its representations, with the headers it was rendered with and
/// the policy that allows its inline scripts.
#[derive(Debug)]
pub struct CachedPage {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: CachedResponse,
}

impl CachedPage {
    /// Bytes held (the pages cache's weigher).
    pub fn weight(&self) -> usize {
        self.body.weight() + self.headers.len() * 96
    }

    /// The same page with its brotli form made for size (see `super::shrink`).
    pub fn smaller(&self) -> Option<Self> {
        Some(Self {
            status: self.status,
            headers: self.headers.clone(),
            body: self.body.smaller()?,
        })
    }
}
