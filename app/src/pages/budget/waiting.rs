//! Changes other than expenses made while Hearth could not be reached: adding, changing and
//! deleting recurring bills, and imports. Each is kept in the outbox's IndexedDB store
//! (`offline::idb`) as the request it is (method, path, content type and body) and sent in the
//! order made once Hearth can be reached: when the budget page's cards mount, when the
//! browser says it is online, when the live connection is back, and by the service worker's
//! Background Sync even with the page closed (`sw.js`). Sending one twice is harmless: a new
//! rule carries its client id, an import its key (each line's expense id is made from it),
//! and changing or deleting a rule twice ends the same (a second deletion's 404 counts as
//! done). The expenses' own outbox is the board's (`Board::drain`).

// The server renders the cards that list these changes but never sends them.
#![cfg_attr(feature = "ssr", allow(dead_code))]

use super::board::Board;
use crate::api::{self, ApiFailure, ApiResult};
use crate::components::one_at_a_time;
use crate::offline::{outbox, Waiting};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// Whether a failed change is kept for later: the network failed, or the server (or what is
/// in front of it) is unavailable for now.
pub fn keep_for_later(e: &ApiFailure) -> bool {
    matches!(e.status, 0 | 502..=504)
}

/// What became of a kept change when it was sent.
#[derive(Debug, PartialEq)]
pub enum Sent {
    /// The server took it (the answer's body).
    Done(String),
    /// The server refused it for good (why); it leaves the outbox.
    Refused(String),
    /// Not now (no network, signed out, too many requests, the server unavailable): it stays.
    Later,
}

impl Sent {
    pub fn of(method: &str, result: ApiResult<String>) -> Sent {
        match result {
            Ok(body) => Sent::Done(body),
            // Deleted already (by its first sending, or by someone else).
            Err(e) if e.status == 404 && method == "DELETE" => Sent::Done(String::new()),
            Err(e) if keep_for_later(&e) || matches!(e.status, 401 | 408 | 429 | 500..) => {
                Sent::Later
            }
            Err(e) => Sent::Refused(e.message()),
        }
    }
}

/// The changes waiting, and what happened to those sent.
#[derive(Clone, Copy)]
pub struct Writes {
    pub list: RwSignal<Vec<Waiting>>,
    /// Counts the changes the server took (the cards read their data again).
    pub sent: RwSignal<u32>,
    /// What the last kept import did, once sent.
    pub imported: RwSignal<Option<String>>,
    /// A kept change the server refused.
    pub notice: RwSignal<Option<String>>,
    busy: StoredValue<(bool, bool)>,
}

impl Writes {
    /// The budget page's kept changes, sent now and whenever Hearth can be reached again.
    pub fn new(board: Board) -> Self {
        let writes = Writes {
            list: RwSignal::new(Vec::new()),
            sent: RwSignal::new(0),
            imported: RwSignal::new(None),
            notice: RwSignal::new(None),
            busy: StoredValue::new((false, false)),
        };
        #[cfg(not(feature = "ssr"))]
        {
            writes.drain();
            let online = window_event_listener_untyped("online", move |_| writes.drain());
            on_cleanup(move || online.remove());
            Effect::new(move |_| {
                if board.live.status() == crate::live::socket::Status::Connected {
                    writes.drain();
                }
            });
        }
        #[cfg(feature = "ssr")]
        let _ = board;
        writes
    }

    /// Keeps `write` until it can be sent.
    pub async fn keep(&self, write: Waiting) {
        if outbox::put_write(&write).await {
            let _ = self.list.try_update(|l| l.push(write));
            crate::offline::pwa::request_sync();
        } else {
            let _ = self.notice.try_set(Some(format!(
                "{} was not saved: this browser could not keep it until Hearth can be reached.",
                write.what
            )));
        }
    }

    /// Sends what is kept, oldest first, one pass at a time.
    pub fn drain(&self) {
        let writes = *self;
        one_at_a_time(self.busy, move || writes.drain_once());
    }

    async fn drain_once(self) {
        let kept = outbox::writes().await;
        let _ = self.list.try_set(kept.clone());
        for write in kept {
            let result = api::send_kept(
                &write.method,
                &write.path,
                &write.content_type,
                write.body.clone(),
            )
            .await;
            match Sent::of(&write.method, result) {
                Sent::Later => {
                    crate::offline::pwa::request_sync();
                    return;
                }
                Sent::Done(body) => {
                    outbox::remove(write.id).await;
                    if write.is_import() {
                        let n = serde_json::from_str::<crate::model::ImportResult>(&body)
                            .map_or(0, |r| r.imported);
                        let _ = self.imported.try_set(Some(match n {
                            0 => "The file kept while Hearth could not be reached is in.".into(),
                            1 => "Imported 1 expense from the file kept while Hearth could not be reached.".into(),
                            n => format!("Imported {n} expenses from the file kept while Hearth could not be reached."),
                        }));
                    }
                    let _ = self.sent.try_update(|n| *n += 1);
                }
                Sent::Refused(why) => {
                    outbox::remove(write.id).await;
                    let _ = self
                        .notice
                        .try_set(Some(format!("{} was not saved: {why}", write.what)));
                }
            }
            let _ = self.list.try_update(|l| l.retain(|w| w.id != write.id));
        }
    }
}

/// Sends a change; when Hearth cannot be reached, keeps `kept` (the same change) to send
/// later. `done` gets the answer, or `None` when the change was kept.
pub fn send_or_keep<T: 'static>(
    writes: Writes,
    pending: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    request: impl Future<Output = ApiResult<T>> + 'static,
    kept: Waiting,
    done: impl FnOnce(Option<T>) + 'static,
) {
    pending.set(true);
    error.set(None);
    spawn_local(async move {
        match request.await {
            Ok(value) => done(Some(value)),
            Err(e) if keep_for_later(&e) => {
                writes.keep(kept).await;
                done(None);
            }
            Err(e) => {
                let _ = error.try_set(Some(e.message()));
            }
        }
        let _ = pending.try_set(false);
    });
}

/// The kept changes of one card (`imports`: the imports, else the rest), and what became of
/// those the server refused.
#[component]
pub(crate) fn WaitingList(writes: Writes, imports: bool) -> impl IntoView {
    let mine = move || {
        writes
            .list
            .get()
            .into_iter()
            .filter(|w| w.is_import() == imports)
            .collect::<Vec<_>>()
    };
    view! {
        {move || {
            let list = mine();
            (!list.is_empty()).then(|| view! {
                <ul class="waiting" data-testid="waiting-writes" role="status">
                    {list.into_iter().map(|w| view! {
                        <li>{format!("{} · waiting for the network", w.what)}</li>
                    }).collect_view()}
                </ul>
            })
        }}
        {move || writes.notice.get().map(|n| view! { <p class="error" role="alert">{n}</p> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: u16) -> ApiResult<String> {
        Err(ApiFailure::new(status, "x", "why"))
    }

    #[test]
    fn a_kept_change_leaves_the_outbox_once_the_server_has_settled_it() {
        assert_eq!(Sent::of("POST", Ok("{}".into())), Sent::Done("{}".into()));
        // Deleting what is gone already is done; anything else missing is refused.
        assert_eq!(Sent::of("DELETE", failed(404)), Sent::Done(String::new()));
        assert_eq!(Sent::of("PATCH", failed(404)), Sent::Refused("why".into()));
        assert_eq!(Sent::of("POST", failed(422)), Sent::Refused("why".into()));
        assert_eq!(Sent::of("POST", failed(409)), Sent::Refused("why".into()));
        for status in [0, 401, 408, 429, 500, 502, 503, 504] {
            assert_eq!(Sent::of("POST", failed(status)), Sent::Later, "{status}");
        }
    }

    #[test]
    fn only_an_unreachable_server_keeps_a_change_for_later() {
        for status in [0, 502, 503, 504] {
            assert!(keep_for_later(&ApiFailure::new(status, "x", "y")));
        }
        for status in [400, 401, 404, 409, 422, 500] {
            assert!(!keep_for_later(&ApiFailure::new(status, "x", "y")));
        }
    }

    #[test]
    fn a_change_is_kept_as_the_request_it_is() {
        let w = Waiting::json(
            "PATCH",
            "/api/recurring/1".into(),
            Some(&serde_json::json!({"amount_minor": 5})),
            "Change the bill".into(),
        );
        assert_eq!(w.body, r#"{"amount_minor":5}"#);
        assert_eq!(w.content_type, "application/json");
        assert!(!w.is_import());
        let none: Option<&()> = None;
        assert_eq!(
            Waiting::json("DELETE", "/x".into(), none, "d".into()).body,
            ""
        );
    }
}
