//! The server side of page loads: the server implements [`Backend`] over its service layer
//! and provides it through Leptos context, so server rendering never calls its own HTTP API.

use super::failure::{ApiFailure, ApiResult};
use crate::model::{BudgetPage, FamilyView, Me, Month};
use http::request::Parts;
use leptos::prelude::use_context;
use std::sync::Arc;

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn me(&self, parts: &Parts) -> ApiResult<Option<Me>>;
    async fn budget_page(&self, parts: &Parts, month: Option<Month>) -> ApiResult<BudgetPage>;
    async fn family(&self, parts: &Parts) -> ApiResult<FamilyView>;
    /// 401 signed out, 403 for members who are not admins.
    async fn admin_stats(&self, parts: &Parts) -> ApiResult<crate::stats::AdminStats>;
}

/// What the server puts into the rendering context.
#[derive(Clone)]
pub struct BackendHandle(pub Arc<dyn Backend>);

pub(crate) fn from_context() -> ApiResult<(Arc<dyn Backend>, Parts)> {
    let backend = use_context::<BackendHandle>()
        .ok_or_else(|| ApiFailure::new(500, "internal", "rendering without a backend"))?;
    let parts = use_context::<Parts>()
        .ok_or_else(|| ApiFailure::new(500, "internal", "rendering without a request"))?;
    Ok((backend.0, parts))
}
