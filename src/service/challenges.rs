//! Savings challenges: a member invites the family to keep a category under a limit, or to
//! spend nothing, for some days; the others accept; progress is measured from the family's
//! real expenses after every change; a challenge is lost the moment its spending passes what
//! it allows and won once its last day is over. Winning one, and a month ending within its
//! limits, earn the family achievements (each once). Everything is announced live on the
//! family channel: `game_invite`, `game_update`, `achievement`.

use crate::auth::FamilyMember;
use crate::clock::now_ms;
use crate::clock::today;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{ChallengeRecord, FamilyRecord};
use app::model::{
    Achievement, Category, Challenge, ChallengeKind, ChallengeStatus, Challenges, Month,
    NewChallenge,
};
use app::money::format_money;
use app::ws::{Actor, EventKind};
use chrono::{Days, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

/// How many challenges the family sees (newest first).
const LISTED: i64 = 20;
const MAX_DAYS: u32 = 31;

/// `game_invite`: a member asks the family to join a challenge.
#[derive(Serialize)]
struct Invite<'a> {
    challenge: &'a Challenge,
    by: Actor,
}

/// `game_update`: a challenge's participants, progress or status changed.
#[derive(Serialize)]
struct Update<'a> {
    challenge: &'a Challenge,
}

/// `achievement`: the family earned something.
#[derive(Serialize)]
struct Earned<'a> {
    achievement: &'a Achievement,
}

fn actor(member: &FamilyMember) -> Actor {
    Actor {
        user_id: member.user.id,
        display_name: member.user.display_name.clone(),
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The challenge as the family sees it, with its spending so far and where it stands today.
async fn view(
    state: &AppState,
    family: &FamilyRecord,
    categories: &[Category],
    c: &ChallengeRecord,
    today: NaiveDate,
) -> ApiResult<Challenge> {
    let until = c
        .ends_on
        .checked_add_days(Days::new(1))
        .unwrap_or(c.ends_on);
    let spent: i64 = state
        .store
        .spent_by_category(family.id, c.starts_on, until)
        .await?
        .into_iter()
        .filter(|(category, _)| {
            c.kind == ChallengeKind::NoSpend || Some(*category) == c.category_id
        })
        .map(|(_, spent)| spent)
        .sum();
    let digits = super::families::family_view(family).minor_units;
    let name = match c.category_id {
        Some(id) => categories
            .iter()
            .find(|x| x.id == id)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| "a category".into()),
        None => String::new(),
    };
    let title = match c.kind {
        ChallengeKind::CategoryCap => format!(
            "Keep {name} under {}",
            format_money(c.limit_minor.unwrap_or(0), digits, &family.currency)
        ),
        ChallengeKind::NoSpend => "Spend nothing".to_string(),
    };
    // Settled challenges keep their result; active ones are measured now.
    let status = match c.status {
        ChallengeStatus::Active => {
            ChallengeStatus::of(c.kind, c.limit_minor, spent, c.ends_on, today)
        }
        settled => settled,
    };
    Ok(Challenge {
        id: c.id,
        kind: c.kind,
        title: format!("{title} from {} to {}", c.starts_on, c.ends_on),
        category_id: c.category_id,
        limit_minor: c.limit_minor,
        starts_on: c.starts_on.to_string(),
        ends_on: c.ends_on.to_string(),
        created_by: c.created_by,
        participants: c.participants.clone(),
        spent_minor: spent,
        status,
    })
}

/// The family's latest challenges as stored, each with how it stands today.
async fn measured(
    state: &AppState,
    family: &FamilyRecord,
    today: NaiveDate,
) -> ApiResult<Vec<(ChallengeRecord, Challenge)>> {
    let records = state.store.challenges(family.id, LISTED).await?;
    let categories = state.store.categories(family.id).await?;
    let mut measured = Vec::with_capacity(records.len());
    for record in records {
        let challenge = view(state, family, &categories, &record, today).await?;
        measured.push((record, challenge));
    }
    Ok(measured)
}

async fn announce(state: &AppState, family: &FamilyRecord, challenge: &Challenge) {
    state
        .hub
        .family_event(family.id, EventKind::GameUpdate, &Update { challenge })
        .await;
}

pub async fn create(
    state: &AppState,
    member: &FamilyMember,
    req: NewChallenge,
) -> ApiResult<Challenge> {
    let family = &member.family;
    let today = today(family);
    if !(1..=MAX_DAYS).contains(&req.days) {
        return Err(ApiError::invalid("days", format!("from 1 to {MAX_DAYS}")));
    }
    let starts_on = match req.starts_on.as_deref() {
        None => today,
        Some(s) => app::model::parse_day(s)
            .ok_or_else(|| ApiError::invalid("starts_on", "use YYYY-MM-DD"))?,
    };
    let earliest = today.checked_sub_days(Days::new(31)).unwrap_or(today);
    if starts_on < earliest || starts_on > today.checked_add_days(Days::new(31)).unwrap_or(today) {
        return Err(ApiError::invalid("starts_on", "within 31 days of today"));
    }
    let categories = state.store.categories(family.id).await?;
    let (category_id, limit_minor) = match req.kind {
        ChallengeKind::CategoryCap => {
            let category = req
                .category_id
                .ok_or_else(|| ApiError::invalid("category_id", "choose the category"))?;
            if !categories.iter().any(|c| c.id == category) {
                return Err(ApiError::NotFound);
            }
            let limit = req
                .limit_minor
                .ok_or_else(|| ApiError::invalid("limit_minor", "how much it may spend"))?;
            let limit = crate::domain::limit(limit).map_err(ApiError::Invalid)?;
            (Some(category), Some(limit))
        }
        ChallengeKind::NoSpend => {
            if req.category_id.is_some() || req.limit_minor.is_some() {
                return Err(ApiError::invalid(
                    "kind",
                    "a no-spend challenge has no category or limit",
                ));
            }
            (None, None)
        }
    };
    let record = ChallengeRecord {
        id: Uuid::new_v4(),
        family_id: family.id,
        created_by: member.user.id,
        kind: req.kind,
        category_id,
        limit_minor,
        starts_on,
        ends_on: starts_on
            .checked_add_days(Days::new(u64::from(req.days) - 1))
            .unwrap_or(starts_on),
        status: ChallengeStatus::Active,
        created_at_ms: now_ms(),
        participants: vec![member.user.id],
    };
    state.store.create_challenge(&record).await?;
    let challenge = view(state, family, &categories, &record, today).await?;
    let invite = Invite {
        challenge: &challenge,
        by: actor(member),
    };
    state
        .hub
        .family_event(family.id, EventKind::GameInvite, &invite)
        .await;
    // It may be settled at once (a past week without spending).
    settle(state, family, &[(record, challenge.clone())], today).await;
    Ok(challenge)
}

pub async fn accept(state: &AppState, member: &FamilyMember, id: Uuid) -> ApiResult<Challenge> {
    let family = &member.family;
    state
        .store
        .join_challenge(family.id, id, member.user.id, now_ms())
        .await?;
    let (_, challenge) = measured(state, family, today(family))
        .await?
        .into_iter()
        .find(|(c, _)| c.id == id)
        .ok_or(ApiError::NotFound)?;
    announce(state, family, &challenge).await;
    Ok(challenge)
}

pub async fn list(state: &AppState, member: &FamilyMember) -> ApiResult<Challenges> {
    let family = &member.family;
    let today = today(family);
    let measured = measured(state, family, today).await?;
    settle(state, family, &measured, today).await;
    let challenges = measured.into_iter().map(|(_, c)| c).collect();
    let achievements = state
        .store
        .achievements(family.id)
        .await?
        .into_iter()
        .map(|(key, title, at)| Achievement {
            key,
            title,
            awarded_at: rfc3339(at),
        })
        .collect();
    Ok(Challenges {
        challenges,
        achievements,
    })
}

/// After an expense changed: the active challenges' progress goes to the family, and what
/// is decided now is settled.
pub async fn after_expense(state: &AppState, family: &FamilyRecord) {
    let today = today(family);
    let Ok(measured) = measured(state, family, today).await else {
        return;
    };
    for (record, challenge) in &measured {
        if record.status == ChallengeStatus::Active {
            announce(state, family, challenge).await;
        }
    }
    settle(state, family, &measured, today).await;
}

/// Settles the challenges decided by now (once, on whichever server gets there first),
/// announces them, and awards what the family earned.
async fn settle(
    state: &AppState,
    family: &FamilyRecord,
    measured: &[(ChallengeRecord, Challenge)],
    today: NaiveDate,
) {
    for (record, challenge) in measured {
        if record.status != ChallengeStatus::Active || challenge.status == ChallengeStatus::Active {
            continue;
        }
        let first = state
            .store
            .settle_challenge(family.id, record.id, challenge.status)
            .await
            .unwrap_or(false);
        if !first {
            continue;
        }
        announce(state, family, challenge).await;
        if challenge.status == ChallengeStatus::Won {
            award(
                state,
                family,
                &format!("challenge:{}", record.id),
                &format!("Challenge won: {}", challenge.title),
            )
            .await;
        }
    }
    under_budget_milestone(state, family, today).await;
}

/// "First month under budget": a finished month with limits set and spending within them.
async fn under_budget_milestone(state: &AppState, family: &FamilyRecord, today: NaiveDate) {
    let last_month = Month::of(today).prev();
    let created = chrono::DateTime::from_timestamp_millis(family.created_at_ms)
        .map(|t| t.date_naive())
        .unwrap_or(today);
    // Only a month the family had from its start.
    if Month::of(created) >= Month::of(today) {
        return;
    }
    let Ok(budget) = super::budget::budget(state, family, Some(last_month)).await else {
        return;
    };
    if budget.totals.limit_minor > 0 && budget.totals.spent_minor <= budget.totals.limit_minor {
        award(
            state,
            family,
            "first_month_under_budget",
            &format!("First month under budget: {}", last_month.label()),
        )
        .await;
    }
}

async fn award(state: &AppState, family: &FamilyRecord, key: &str, title: &str) {
    // Most calls find it awarded already: a read then, not a write on the database.
    let known = state
        .store
        .achievements(family.id)
        .await
        .map(|list| list.iter().any(|(k, _, _)| k == key))
        .unwrap_or(false);
    if known {
        return;
    }
    let at = now_ms();
    if state
        .store
        .award(family.id, key, title, at)
        .await
        .unwrap_or(false)
    {
        let achievement = Achievement {
            key: key.to_string(),
            title: title.to_string(),
            awarded_at: rfc3339(at),
        };
        state
            .hub
            .family_event(
                family.id,
                EventKind::Achievement,
                &Earned {
                    achievement: &achievement,
                },
            )
            .await;
    }
}
