//! The signed-in user and member of a request: from the session cookie (`auth`) through the
//! sessions and the in-process cache of members, as functions and as axum extractors.

use crate::auth::{session_id, session_value, CurrentUser, FamilyMember};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

pub async fn current_user(state: &AppState, headers: &HeaderMap) -> ApiResult<CurrentUser> {
    let id = session_id(headers).ok_or(ApiError::Unauthenticated)?;
    let session = state
        .sessions
        .get(&id)
        .await
        .ok_or(ApiError::Unauthenticated)?;
    let user = state
        .store
        .user_by_id(session.user_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(CurrentUser {
        user,
        session_id: id,
    })
}

/// The signed-in member when the in-process cache of members knows the session (`now`: the
/// request's start).
pub fn cached_member(
    state: &AppState,
    headers: &HeaderMap,
    now: std::time::Instant,
) -> Option<FamilyMember> {
    session_value(headers).and_then(|id| state.members.get(id, now))
}

pub async fn family_member(state: &AppState, headers: &HeaderMap) -> ApiResult<FamilyMember> {
    if let Some(member) = cached_member(state, headers, std::time::Instant::now()) {
        return Ok(member);
    }
    let CurrentUser { user, session_id } = current_user(state, headers).await?;
    let (Some(family_id), Some(role)) = (user.family_id, user.role) else {
        return Err(ApiError::Forbidden(
            "no_family",
            "Create or join a family first.".into(),
        ));
    };
    let family = state.store.family(family_id).await?.ok_or_else(|| {
        ApiError::Internal(format!("user {} points at a missing family", user.id))
    })?;
    let member = FamilyMember::new(user, family, role);
    state.members.insert(session_id, member.clone());
    Ok(member)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        current_user(state, &parts.headers).await
    }
}

impl FromRequestParts<AppState> for FamilyMember {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The response cache resolved it already on the cacheable routes.
        if let Some(member) = parts.extensions.remove::<FamilyMember>() {
            return Ok(member);
        }
        family_member(state, &parts.headers).await
    }
}
