//! Server rendering's access to data: the [`Backend`] the `app` pages call during SSR,
//! implemented over the same service functions the JSON API uses.

use crate::error::ApiError;
use crate::service::{accounts, budget, families};
use crate::state::AppState;
use app::api::backend::Backend;
use app::api::{ApiFailure, ApiResult};
use app::model::{BudgetPage, FamilyView, Me, Month};
use axum::http::request::Parts;

pub struct PageBackend {
    pub state: AppState,
}

fn failure(e: ApiError) -> ApiFailure {
    let (status, body) = e.to_body();
    ApiFailure {
        status: status.as_u16(),
        body,
    }
}

#[async_trait::async_trait]
impl Backend for PageBackend {
    async fn me(&self, parts: &Parts) -> ApiResult<Option<Me>> {
        match crate::http::member::current_user(&self.state, &parts.headers).await {
            Ok(current) => accounts::me(&self.state, &current)
                .await
                .map(Some)
                .map_err(failure),
            Err(ApiError::Unauthenticated) => Ok(None),
            Err(e) => Err(failure(e)),
        }
    }

    async fn budget_page(&self, parts: &Parts, month: Option<Month>) -> ApiResult<BudgetPage> {
        let member = crate::http::member::family_member(&self.state, &parts.headers)
            .await
            .map_err(failure)?;
        let started = std::time::Instant::now();
        // Before the data: what is published after this read reaches the page's connection.
        let channel = app::ws::Channel::Family(member.family.id).name();
        let position = self.state.hub.position(&channel).await;
        let mut page = budget::page(&self.state, &member, month)
            .await
            .map_err(failure)?;
        page.position = position;
        page.load = Some(app::model::LoadInfo {
            cache: "SSR".into(),
            server_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        });
        Ok(page)
    }

    async fn family(&self, parts: &Parts) -> ApiResult<FamilyView> {
        let member = crate::http::member::family_member(&self.state, &parts.headers)
            .await
            .map_err(failure)?;
        families::view(&self.state, &member).await.map_err(failure)
    }

    async fn admin_stats(&self, parts: &Parts) -> ApiResult<app::stats::AdminStats> {
        let current = crate::http::member::current_user(&self.state, &parts.headers)
            .await
            .map_err(failure)?;
        if !self.state.settings.is_admin(&current.user.email) {
            return Err(failure(crate::http::routes::admin::not_admin()));
        }
        Ok(crate::service::admin::collect(&self.state).await)
    }
}
