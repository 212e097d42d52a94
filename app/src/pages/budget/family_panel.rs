//! The family beside the budget: who is online now (presence, live) and the family chat with
//! history, delivery ticks from the server's acks and typing indicators. Loaded after
//! hydration; the panel keeps its size while it loads, so nothing jumps.

use crate::api;
use crate::live::ledger::{ChatLine, ChatLog};
use crate::live::socket::LiveSocket;
use crate::model::{Member, User};
use crate::ws::{ChatData, ClientFrame, Event, EventKind, MemberUpdate, PresenceData, TypingData};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use uuid::Uuid;

/// How long a typing indicator lasts without a refresh.
const TYPING_MS: f64 = 6_000.0;
/// How often a typing user repeats that they are typing.
const TYPING_REPEAT_MS: f64 = 3_000.0;

fn now_ms() -> f64 {
    #[cfg(not(feature = "ssr"))]
    {
        js_sys::Date::now()
    }
    #[cfg(feature = "ssr")]
    {
        0.0
    }
}

/// The family's live state on the page.
#[derive(Clone, Copy)]
pub(crate) struct Family {
    me: Uuid,
    my_name: StoredValue<String>,
    channel: StoredValue<String>,
    members: RwSignal<Vec<Member>>,
    online: RwSignal<Vec<Uuid>>,
    chat: RwSignal<ChatLog>,
    /// Who else is typing, until when.
    typing: RwSignal<Vec<(Uuid, String, f64)>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl Family {
    pub fn new(user: User, family_id: Uuid) -> Self {
        Self {
            me: user.id,
            my_name: StoredValue::new(user.display_name),
            channel: StoredValue::new(format!("family:{family_id}")),
            members: RwSignal::new(Vec::new()),
            online: RwSignal::new(Vec::new()),
            chat: RwSignal::new(ChatLog::default()),
            typing: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Loads the members (with who is online) and the chat history.
    pub fn refresh(&self) {
        let this = *self;
        spawn_local(async move {
            let (family, chat) = futures::join!(api::load_family(), api::load_chat());
            match (family, chat) {
                (Ok(family), Ok(history)) => {
                    let online = family
                        .members
                        .iter()
                        .filter(|m| m.online)
                        .map(|m| m.user_id)
                        .collect();
                    let _ = this.online.try_set(online);
                    let _ = this.members.try_set(family.members);
                    this.chat.update(|c| {
                        for m in history.messages {
                            c.received(m.into());
                        }
                    });
                    let _ = this.error.try_set(None);
                }
                (Err(e), _) | (_, Err(e)) => {
                    let _ = this.error.try_set(Some(e.message()));
                }
            }
            let _ = this.loaded.try_set(true);
        });
    }

    /// A family event for this panel.
    pub fn apply(&self, event: &Event) {
        let data = event.data.clone();
        match event.kind {
            EventKind::Presence => {
                if let Ok(p) = serde_json::from_value::<PresenceData>(data) {
                    self.online.set(p.online);
                }
            }
            EventKind::Chat => {
                if let Ok(c) = serde_json::from_value::<ChatData>(data) {
                    self.typing.update(|t| t.retain(|x| x.0 != c.user_id));
                    self.chat.update(|log| {
                        log.received(ChatLine {
                            client_id: c.client_id,
                            user_id: c.user_id,
                            display_name: c.display_name,
                            text: c.text,
                            offset: event.offset,
                            delivered: true,
                        })
                    });
                }
            }
            EventKind::Typing => {
                let Ok(t) = serde_json::from_value::<TypingData>(data) else {
                    return;
                };
                if t.user_id == self.me {
                    return;
                }
                self.typing.update(|list| {
                    list.retain(|x| x.0 != t.user_id);
                    if t.on {
                        list.push((t.user_id, t.display_name, now_ms() + TYPING_MS));
                    }
                });
                let typing = self.typing;
                let _ = set_timeout(
                    move || {
                        let now = now_ms();
                        let _ = typing.try_update(|list| list.retain(|x| x.2 > now));
                    },
                    Duration::from_millis(TYPING_MS as u64 + 100),
                );
            }
            EventKind::MemberUpdate => {
                if let Ok(m) = serde_json::from_value::<MemberUpdate>(data) {
                    self.members.update(|list| {
                        match list.iter_mut().find(|x| x.user_id == m.member.user_id) {
                            Some(x) => *x = m.member,
                            None => list.push(m.member),
                        }
                    });
                }
            }
            _ => {}
        }
    }

    /// The server stored an own chat message.
    pub fn acked(&self, id: &str, offset: u64) {
        self.chat.update(|c| c.acked(id, offset));
    }
}

#[component]
pub(crate) fn FamilyPanel(people: Family, live: LiveSocket) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let typing_sent = StoredValue::new(None::<f64>);
    let last_input = StoredValue::new(0.0f64);
    let channel = people.channel.get_value();
    let stop_typing = {
        let channel = channel.clone();
        move || {
            if typing_sent.get_value().is_some() {
                typing_sent.set_value(None);
                live.send(ClientFrame::Typing {
                    channel: channel.clone(),
                    on: false,
                });
            }
        }
    };
    let on_input = {
        let channel = channel.clone();
        let stop_typing = stop_typing.clone();
        move |_| {
            let now = now_ms();
            last_input.set_value(now);
            let repeat = typing_sent
                .get_value()
                .is_none_or(|at| now - at > TYPING_REPEAT_MS);
            if repeat {
                typing_sent.set_value(Some(now));
                live.send(ClientFrame::Typing {
                    channel: channel.clone(),
                    on: true,
                });
            }
            // Stopped typing for a few seconds: say so.
            let stop_typing = stop_typing.clone();
            let _ = set_timeout(
                move || {
                    let idle = last_input
                        .try_get_value()
                        .is_some_and(|at| now_ms() - at >= 3_900.0);
                    if idle {
                        stop_typing();
                    }
                },
                Duration::from_millis(4_000),
            );
        }
    };
    let on_send = {
        let stop_typing = stop_typing.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let message = text.get_untracked().trim().to_string();
            if message.is_empty() {
                return;
            }
            let id = Uuid::new_v4().to_string();
            people.chat.update(|c| {
                c.sending(ChatLine {
                    client_id: id.clone(),
                    user_id: people.me,
                    display_name: people.my_name.get_value(),
                    text: message.clone(),
                    offset: None,
                    delivered: false,
                })
            });
            stop_typing();
            live.send(ClientFrame::Chat {
                id,
                channel: channel.clone(),
                text: message,
            });
            text.set(String::new());
        }
    };
    // Loaded in the browser (effects do not run on the server).
    Effect::new(move |_| people.refresh());
    let me = people.me;
    view! {
        <aside class="family-panel card" aria-label="Your family">
            <h2>"Family"</h2>
            <ul class="presence" data-testid="presence-list" aria-live="polite">
                <Show when=move || people.loaded.get() fallback=|| view! { <li class="muted">"Loading…"</li> }>
                    <For
                        each=move || {
                            let online = people.online.get();
                            people
                                .members
                                .get()
                                .into_iter()
                                .map(|m| {
                                    let on = online.contains(&m.user_id);
                                    (m, on)
                                })
                                .collect::<Vec<_>>()
                        }
                        key=|(m, on)| (m.user_id, *on, m.display_name.clone())
                        let((member, on))
                    >
                        <li data-user=member.user_id.to_string() data-online=on.to_string()>
                            <span class=if on { "dot on" } else { "dot" } aria-hidden="true"></span>
                            {member.display_name.clone()}
                            {(member.user_id == me).then_some(" (you)")}
                            <small class="muted">{if on { " · online" } else { " · offline" }}</small>
                        </li>
                    </For>
                </Show>
            </ul>
            <h3>"Chat"</h3>
            <ol class="chat" data-testid="chat-log" aria-live="polite" aria-label="Family chat">
                <For
                    each=move || people.chat.get().lines
                    key=|l| (l.client_id.clone(), l.delivered)
                    let(line)
                >
                    <li class=if line.user_id == me { "mine" } else { "" } data-delivered=line.delivered.to_string()>
                        <strong>{line.display_name.clone()}</strong>
                        " "
                        <span class="text">{line.text.clone()}</span>
                        {(line.user_id == me)
                            .then(|| {
                                if line.delivered {
                                    view! { <span class="tick" data-testid="chat-tick" title="Delivered" aria-label="delivered">"✓"</span> }
                                } else {
                                    view! { <span class="tick sending" data-testid="chat-tick" title="Sending" aria-label="sending">"…"</span> }
                                }
                            })}
                    </li>
                </For>
            </ol>
            <p class="typing muted" data-testid="typing-indicator" aria-live="polite">
                {move || {
                    let names: Vec<String> = people.typing.get().into_iter().map(|t| t.1).collect();
                    match names.len() {
                        0 => String::new(),
                        1 => format!("{} is typing…", names[0]),
                        _ => format!("{} are typing…", names.join(", ")),
                    }
                }}
            </p>
            <form class="chat-form" on:submit=on_send>
                <label class="sr-only" for="chat-input">"Message to your family"</label>
                <input
                    id="chat-input"
                    type="text"
                    data-testid="chat-input"
                    maxlength="2000"
                    autocomplete="off"
                    placeholder="Message your family"
                    bind:value=text
                    on:input=on_input
                />
                <button type="submit">"Send"</button>
            </form>
            <p class="error" role="alert">{move || people.error.get()}</p>
        </aside>
    }
    .into_any()
}
