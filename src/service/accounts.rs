//! Registration, sign-in and the signed-in user's view of themselves.

use super::families;
use crate::auth::{password, sessions::Session, CurrentUser};
use crate::domain::{text, Email, Password};
use crate::error::{ApiError, ApiResult};
use crate::redis::rate_limit::Quota;
use crate::state::AppState;
use crate::store::UserRecord;
use app::model::{LoginRequest, Me, MyFamily, RegisterRequest, User};
use std::time::Duration;

/// Wrong passwords allowed per email and per address, refilled over 15 minutes.
const LOGIN_PER_EMAIL: Quota = Quota {
    capacity: 5,
    period: Duration::from_secs(15 * 60),
};
const LOGIN_PER_ADDRESS: Quota = Quota {
    capacity: 20,
    period: Duration::from_secs(15 * 60),
};
use uuid::Uuid;

pub fn user_view(state: &AppState, user: &UserRecord) -> User {
    User {
        id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        is_admin: state.settings.is_admin(&user.email),
    }
}

pub async fn register(state: &AppState, req: RegisterRequest) -> ApiResult<(User, Session)> {
    let email = Email::parse(&req.email)?;
    let password = Password::parse(&req.password)?;
    let display_name = text("display_name", &req.display_name, 60)?;
    if state.store.user_by_email(email.as_str()).await?.is_some() {
        return Err(ApiError::Conflict(
            "email_taken",
            "An account with this email exists; sign in instead.".into(),
        ));
    }
    let record = UserRecord {
        id: Uuid::new_v4(),
        email: email.as_str().to_string(),
        password_hash: password::hash(password.expose().to_string()).await?,
        display_name,
        family_id: None,
        role: None,
        created_at_ms: crate::clock::now_ms(),
    };
    state.store.create_user(&record).await?;
    let session = state.sessions.create(record.id).await;
    Ok((user_view(state, &record), session))
}

/// Signs in; `previous` is the caller's old session, ended so the id rotates.
pub async fn login(
    state: &AppState,
    req: LoginRequest,
    address: &str,
    previous: Option<String>,
) -> ApiResult<(User, Session)> {
    let email = req.email.trim().to_lowercase();
    let scopes = [
        (format!("login:email:{email}"), LOGIN_PER_EMAIL),
        (format!("login:addr:{address}"), LOGIN_PER_ADDRESS),
    ];
    for (scope, quota) in &scopes {
        let d = state.limiter.check(scope, *quota).await;
        if !d.allowed {
            return Err(ApiError::RateLimited {
                retry_after_s: d.reset_s.max(1),
                limit: d.limit,
            });
        }
    }
    let user = state.store.user_by_email(&email).await?;
    let ok = password::verify(req.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = match user {
        Some(user) if ok => user,
        _ => {
            for (scope, quota) in &scopes {
                state.limiter.take(scope, *quota).await;
            }
            return Err(ApiError::InvalidCredentials);
        }
    };
    state.limiter.reset(&scopes[0].0).await;
    if let Some(old) = previous {
        state.members.invalidate(&old);
        state.sessions.delete(&old).await;
    }
    let session = state.sessions.create(user.id).await;
    Ok((user_view(state, &user), session))
}

pub async fn me(state: &AppState, current: &CurrentUser) -> ApiResult<Me> {
    let user = user_view(state, &current.user);
    let family = match (current.user.family_id, current.user.role) {
        (Some(id), Some(role)) => state.store.family(id).await?.map(|f| {
            let view = families::family_view(&f);
            MyFamily {
                id: view.id,
                name: view.name,
                currency: view.currency,
                timezone: view.timezone,
                minor_units: view.minor_units,
                role,
            }
        }),
        _ => None,
    };
    Ok(Me { user, family })
}
