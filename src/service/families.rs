//! Families: creating one (with a few starter categories), joining by invite code, and the
//! member list.

use crate::auth::{CurrentUser, FamilyMember};
use crate::domain::{self, text, CurrencyCode};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{FamilyRecord, StoreError};
use app::model::{
    Category, CreateFamilyRequest, Family, FamilyCreated, FamilyView, JoinFamilyRequest, Member,
    Role,
};
use rand::Rng as _;
use uuid::Uuid;

/// Categories a new family starts with, so the budget is useful at once.
const STARTER_CATEGORIES: [(&str, &str); 5] = [
    ("Groceries", "#2f855a"),
    ("Housing", "#2b6cb0"),
    ("Transport", "#b7791f"),
    ("Dining out", "#c05621"),
    ("Fun", "#805ad5"),
];

/// Colours for categories created without one.
pub const PALETTE: [&str; 8] = [
    "#2f855a", "#2b6cb0", "#b7791f", "#c05621", "#805ad5", "#c53030", "#2c7a7b", "#97266d",
];

/// Invite codes avoid look-alike characters (0/O, 1/I/L).
const INVITE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

fn new_invite_code() -> String {
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| INVITE_ALPHABET[rng.gen_range(0..INVITE_ALPHABET.len())] as char)
        .collect()
}

/// What people type: case, spaces and dashes do not matter.
fn normalise_invite(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn family_view(f: &FamilyRecord) -> Family {
    Family {
        id: f.id,
        name: f.name.clone(),
        currency: f.currency.clone(),
        timezone: f.timezone.clone(),
        minor_units: CurrencyCode::parse(&f.currency)
            .map(|c| c.minor_units())
            .unwrap_or(2),
    }
}

pub async fn create(
    state: &AppState,
    current: &CurrentUser,
    req: CreateFamilyRequest,
) -> ApiResult<FamilyCreated> {
    let name = text("name", &req.name, 80)?;
    let currency = CurrencyCode::parse(&req.currency)?;
    let tz = domain::time_zone(&req.timezone)?;
    if current.user.family_id.is_some() {
        return Err(ApiError::Conflict(
            "already_in_family",
            "You are already in a family.".into(),
        ));
    }
    let categories: Vec<Category> = STARTER_CATEGORIES
        .iter()
        .map(|(name, color)| Category {
            id: Uuid::new_v4(),
            name: name.to_string(),
            color: color.to_string(),
        })
        .collect();
    // A fresh code collides with an existing one about never; try a few times regardless.
    for _ in 0..5 {
        let record = FamilyRecord {
            id: Uuid::new_v4(),
            name: name.clone(),
            currency: currency.code().to_string(),
            timezone: tz.name().to_string(),
            invite_code: new_invite_code(),
            created_at_ms: crate::clock::now_ms(),
        };
        match state
            .store
            .create_family(&record, current.user.id, &categories)
            .await
        {
            Ok(()) => {
                return Ok(FamilyCreated {
                    family: family_view(&record),
                    invite_code: record.invite_code,
                })
            }
            Err(StoreError::Conflict("invite_code_taken")) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal(
        "no free invite code after 5 tries".into(),
    ))
}

pub async fn join(
    state: &AppState,
    current: &CurrentUser,
    req: JoinFamilyRequest,
) -> ApiResult<Family> {
    let code = normalise_invite(&req.invite_code);
    if code.is_empty() || code.chars().count() > 32 {
        return Err(ApiError::invalid(
            "invite_code",
            "enter the code you were given",
        ));
    }
    if current.user.family_id.is_some() {
        return Err(ApiError::Conflict(
            "already_in_family",
            "You are already in a family.".into(),
        ));
    }
    let family = state
        .store
        .family_by_invite(&code)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.store.join_family(current.user.id, family.id).await?;
    super::changed(state, &family).await;
    let joined = app::ws::MemberUpdate {
        member: Member {
            user_id: current.user.id,
            display_name: current.user.display_name.clone(),
            role: Role::Member,
            online: true,
        },
    };
    state
        .hub
        .family_event(family.id, app::ws::EventKind::MemberUpdate, &joined)
        .await;
    Ok(family_view(&family))
}

pub async fn view(state: &AppState, member: &FamilyMember) -> ApiResult<FamilyView> {
    let users = state.store.members(member.family.id).await?;
    let online = state.hub.presence.online(member.family.id).await;
    let members = users
        .into_iter()
        .map(|u| Member {
            online: online.contains(&u.id),
            user_id: u.id,
            display_name: u.display_name,
            role: u.role.unwrap_or(Role::Member),
        })
        .collect();
    Ok(FamilyView {
        family: family_view(&member.family),
        members,
        invite_code: (member.role == Role::Owner).then(|| member.family.invite_code.clone()),
    })
}

/// The family's latest chat messages, oldest first, with their senders' names.
pub async fn chat_history(
    state: &AppState,
    member: &FamilyMember,
    limit: i64,
) -> ApiResult<Vec<app::model::ChatMessage>> {
    let (messages, users) = tokio::try_join!(
        state.store.chat_history(member.family.id, limit),
        state.store.members(member.family.id)
    )?;
    let name_of = |id: Uuid| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    };
    Ok(messages
        .into_iter()
        .map(|m| app::model::ChatMessage {
            display_name: name_of(m.user_id),
            client_id: m.client_id,
            user_id: m.user_id,
            text: m.text,
            created_at: chrono::DateTime::from_timestamp_millis(m.created_at_ms)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            offset: m.position.map(|(_, o)| o),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_are_ten_unambiguous_characters() {
        let code = new_invite_code();
        assert_eq!(code.len(), 10);
        assert!(code.bytes().all(|b| INVITE_ALPHABET.contains(&b)));
        assert_ne!(code, new_invite_code());
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_invite(" abcd-efgh 23 "), "ABCDEFGH23");
    }
}
