//! Savings challenges on `/budget`: invite the family ("keep Dining out under 150.00 this
//! week", "no-spend weekend"), accept an invitation, watch the progress move with real
//! expenses, and the achievements the family earned. Live through `game_invite`,
//! `game_update` and `achievement`.

use super::board::Board;
use crate::api;
use crate::components::ErrorNote;
use crate::model::{
    Achievement, Challenge, ChallengeKind, ChallengeStatus, Challenges, NewChallenge,
};
use crate::money::{field_amount, format_minor};
use crate::ws::{Actor, Event, EventKind};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
struct Invite {
    challenge: Challenge,
    by: Actor,
}

#[derive(Deserialize)]
struct Progress {
    challenge: Challenge,
}

#[derive(Deserialize)]
struct Earned {
    achievement: Achievement,
}

/// The page's challenges.
#[derive(Clone, Copy)]
pub(crate) struct Games {
    list: RwSignal<Challenges>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl Games {
    pub fn new() -> Self {
        Self {
            list: RwSignal::new(Challenges {
                challenges: Vec::new(),
                achievements: Vec::new(),
            }),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    pub fn refresh(&self) {
        let this = *self;
        spawn_local(async move {
            match api::load_challenges().await {
                Ok(list) => {
                    let _ = this.list.try_set(list);
                    let _ = this.error.try_set(None);
                }
                Err(e) => {
                    let _ = this.error.try_set(Some(e.message()));
                }
            }
            let _ = this.loaded.try_set(true);
        });
    }

    fn upsert(&self, challenge: Challenge) {
        self.list.update(
            |l| match l.challenges.iter_mut().find(|c| c.id == challenge.id) {
                Some(c) => *c = challenge,
                None => l.challenges.insert(0, challenge),
            },
        );
    }

    /// A game event of the family channel.
    pub fn apply(&self, event: &Event, board: &Board) {
        let data = event.data.clone();
        match event.kind {
            EventKind::GameInvite => {
                if let Ok(i) = serde_json::from_value::<Invite>(data) {
                    if i.by.user_id != board.me {
                        board.show_toast(format!(
                            "{} invites you: {}",
                            i.by.display_name, i.challenge.title
                        ));
                    }
                    self.upsert(i.challenge);
                }
            }
            EventKind::GameUpdate => {
                if let Ok(u) = serde_json::from_value::<Progress>(data) {
                    self.upsert(u.challenge);
                }
            }
            EventKind::Achievement => {
                if let Ok(a) = serde_json::from_value::<Earned>(data) {
                    board.show_toast(format!("🏆 {}", a.achievement.title));
                    self.list.update(|l| {
                        if !l.achievements.iter().any(|x| x.key == a.achievement.key) {
                            l.achievements.insert(0, a.achievement);
                        }
                    });
                }
            }
            _ => {}
        }
    }
}

#[component]
pub(crate) fn ChallengesCard(games: Games) -> impl IntoView {
    let board = expect_context::<Board>();
    Effect::new(move |_| games.refresh());
    let digits = move || board.digits();
    view! {
        <section class="card challenges" aria-labelledby="challenges-title">
            <h2 id="challenges-title">"Challenges"</h2>
            <Show
                when=move || games.loaded.get()
                fallback=|| view! { <p class="muted">"Loading challenges…"</p> }
            >
                <Show
                    when=move || games.list.with(|l| !l.challenges.is_empty())
                    fallback=|| view! { <p class="empty">"No challenges yet. Start one below and the family is invited."</p> }
                >
                    <ul class="challenge-list">
                        <For
                            each=move || games.list.get().challenges
                            key=|c| (c.id, c.spent_minor, c.participants.len(), c.status)
                            let(challenge)
                        >
                            <ChallengeRow challenge digits=digits() games />
                        </For>
                    </ul>
                </Show>
                <Show when=move || games.list.with(|l| !l.achievements.is_empty())>
                    <h3>"Achievements"</h3>
                    <ul class="achievements" data-testid="achievements">
                        <For each=move || games.list.get().achievements key=|a| a.key.clone() let(a)>
                            <li>"🏆 " {a.title}</li>
                        </For>
                    </ul>
                </Show>
                // After the first load (in the browser), when the categories are known.
                <NewChallengeForm games />
            </Show>
            <p class="error" role="alert">{move || games.error.get()}</p>
        </section>
    }
    .into_any()
}

#[component]
fn ChallengeRow(challenge: Challenge, digits: u8, games: Games) -> impl IntoView {
    let board = expect_context::<Board>();
    let error = RwSignal::new(None::<String>);
    let joined = challenge.participants.contains(&board.me);
    let id = challenge.id;
    let accept = move |_| {
        spawn_local(async move {
            match api::accept_challenge(id).await {
                Ok(c) => {
                    error.set(None);
                    games.upsert(c);
                }
                Err(e) => error.set(Some(e.message())),
            }
        });
    };
    let (progress, detail) = match (challenge.kind, challenge.limit_minor) {
        (ChallengeKind::CategoryCap, Some(limit)) if limit > 0 => (
            Some((challenge.spent_minor.min(limit) * 100 / limit).clamp(0, 100)),
            format!(
                "{} of {} spent",
                format_minor(challenge.spent_minor, digits),
                format_minor(limit, digits)
            ),
        ),
        _ => (
            None,
            if challenge.spent_minor == 0 {
                "nothing spent so far".to_string()
            } else {
                format!("{} spent", format_minor(challenge.spent_minor, digits))
            },
        ),
    };
    let status = match challenge.status {
        ChallengeStatus::Active => format!("active until {}", challenge.ends_on),
        ChallengeStatus::Won => "won 🏆".to_string(),
        ChallengeStatus::Lost => "lost ✗".to_string(),
    };
    let people = match challenge.participants.len() {
        1 => "1 taking part".to_string(),
        n => format!("{n} taking part"),
    };
    let open = challenge.status == ChallengeStatus::Active && !joined;
    view! {
        <li
            class=format!("challenge {}", challenge.status.as_str())
            data-testid="challenge"
            data-status=challenge.status.as_str()
            data-spent-minor=challenge.spent_minor
        >
            <div class="challenge-head">
                <strong>{challenge.title.clone()}</strong>
                <span class="badge">{status}</span>
            </div>
            {progress
                .map(|pct| {
                    view! { <progress max="100" value=pct aria-label="Challenge progress">{format!("{pct}%")}</progress> }
                })}
            <p class="muted">
                <span data-testid="challenge-progress">{detail}</span>
                " · "
                <span data-testid="challenge-people">{people}</span>
            </p>
            <Show when=move || open>
                <button type="button" data-testid="challenge-accept" on:click=accept>"Accept the challenge"</button>
            </Show>
            <ErrorNote error />
        </li>
    }
    .into_any()
}

#[component]
fn NewChallengeForm(games: Games) -> impl IntoView {
    let board = expect_context::<Board>();
    let kind = RwSignal::new("category_cap".to_string());
    let category = RwSignal::new(String::new());
    let limit = RwSignal::new(String::new());
    let days = RwSignal::new("7".to_string());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let categories = move || board.category_choices.get();
    Effect::new(move |_| {
        if category.with_untracked(|c| c.is_empty()) {
            if let Some((id, _)) = categories().first() {
                category.set(id.to_string());
            }
        }
    });
    let is_cap = move || kind.get() == "category_cap";
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Ok(days) = days.get_untracked().trim().parse::<u32>() else {
            error.set(Some("days: enter a number from 1 to 31".into()));
            return;
        };
        let body = if kind.get_untracked() == "category_cap" {
            let Ok(category_id) = Uuid::parse_str(&category.get_untracked()) else {
                error.set(Some("category: choose one".into()));
                return;
            };
            let Ok(limit_minor) =
                field_amount(&limit.get_untracked(), board.digits(), "limit", true)
                    .map_err(|m| error.set(Some(m)))
            else {
                return;
            };
            NewChallenge {
                kind: ChallengeKind::CategoryCap,
                category_id: Some(category_id),
                limit_minor: Some(limit_minor),
                days,
                starts_on: None,
            }
        } else {
            NewChallenge {
                kind: ChallengeKind::NoSpend,
                category_id: None,
                limit_minor: None,
                days,
                starts_on: None,
            }
        };
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::create_challenge(body).await {
                Ok(c) => {
                    games.upsert(c);
                    limit.set(String::new());
                }
                Err(e) => error.set(Some(e.message())),
            }
            pending.set(false);
        });
    };
    view! {
        <form class="challenge-form" on:submit=on_submit data-testid="challenge-form">
            <h3>"Start a challenge"</h3>
            <label>
                "Challenge"
                <select name="kind" bind:value=kind>
                    <option value="category_cap">"Keep a category under an amount"</option>
                    <option value="no_spend">"Spend nothing"</option>
                </select>
            </label>
            <Show when=is_cap>
                <label>
                    "Category"
                    <select name="challenge_category" bind:value=category>
                        <For each=categories key=|c| c.clone() let((id, name))>
                            <option value=id.to_string()>{name}</option>
                        </For>
                    </select>
                </label>
                <label>
                    {move || format!("At most ({})", board.currency())}
                    <input type="text" inputmode="decimal" name="challenge_limit" required autocomplete="off" bind:value=limit />
                </label>
            </Show>
            <label>
                "Days"
                <input type="number" name="days" min="1" max="31" required bind:value=days />
            </label>
            <button type="submit" disabled=move || pending.get()>"Invite the family"</button>
            <ErrorNote error />
        </form>
    }
    .into_any()
}
