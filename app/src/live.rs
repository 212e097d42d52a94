//! The browser's WebSocket client logic, without the browser: reconnect backoff, the outbox
//! of frames waiting for a connection, and where each channel stands for recovery. The
//! browser side (gloo-net, signals) drives these; they are plain data, so they are tested
//! here without a socket.

use crate::ws::{ClientFrame, Control, Event, Position};
use std::collections::{HashMap, VecDeque};

/// Full-jitter exponential backoff: the n-th retry waits a random time in
/// `[0, min(MAX, BASE · 2ⁿ)]`; a successful connection resets it.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub const BASE_MS: f64 = 500.0;
    pub const MAX_MS: f64 = 30_000.0;

    /// The delay before the next attempt, given a uniform random number in `[0, 1)`.
    pub fn next_delay_ms(&mut self, random: f64) -> u32 {
        let ceiling = (Self::BASE_MS * 2f64.powi(self.attempt.min(16) as i32)).min(Self::MAX_MS);
        self.attempt = self.attempt.saturating_add(1);
        (random.clamp(0.0, 1.0) * ceiling) as u32
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// After the server closed with `code`, may the client reconnect? Never after 4403.
pub fn may_reconnect(code: u16) -> bool {
    code != crate::ws::close::FORBIDDEN
}

/// Frames sent while disconnected, kept in order until the connection is back.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    waiting: VecDeque<ClientFrame>,
}

impl Outbox {
    pub fn push(&mut self, frame: ClientFrame) {
        // A typing indicator is only worth its latest state.
        if let ClientFrame::Typing { channel, .. } = &frame {
            self.waiting
                .retain(|f| !matches!(f, ClientFrame::Typing { channel: c, .. } if c == channel));
        }
        self.waiting.push_back(frame);
    }

    /// Everything waiting, oldest first, leaving the outbox empty.
    pub fn drain(&mut self) -> Vec<ClientFrame> {
        self.waiting.drain(..).collect()
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// What to do with a frame from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A new event: apply it.
    Apply,
    /// Seen before (a replay after recovery): ignore it.
    Duplicate,
    /// Something was missed, or the server lost the history: reload over HTTP.
    Reload,
}

/// Where the client stands in each channel, to resubscribe with `since` after a reconnect.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    at: HashMap<String, Position>,
}

impl Positions {
    /// The `since` to send when subscribing to `channel` again.
    pub fn since(&self, channel: &str) -> Option<Position> {
        self.at.get(channel).cloned()
    }

    /// A `subscribed` answer: recovered, the replay follows; not recovered, reload.
    pub fn subscribed(&mut self, control: &Control) -> Step {
        let Control::Subscribed {
            channel,
            epoch,
            offset,
            recovered,
            ..
        } = control
        else {
            return Step::Apply;
        };
        let had = self.at.contains_key(channel);
        if !recovered {
            self.at.insert(
                channel.clone(),
                Position {
                    epoch: epoch.clone(),
                    offset: *offset,
                },
            );
            // A first subscription loads over HTTP anyway; a failed recovery must.
            return if had { Step::Reload } else { Step::Apply };
        }
        Step::Apply
    }

    /// A channel event: in order, a duplicate, or a sign that something was missed.
    pub fn event(&mut self, event: &Event) -> Step {
        let (Some(epoch), Some(offset)) = (&event.epoch, event.offset) else {
            return Step::Apply; // relayed events (typing, presence) carry no position
        };
        match self.at.get_mut(&event.channel) {
            None => {
                self.at.insert(
                    event.channel.clone(),
                    Position {
                        epoch: epoch.clone(),
                        offset,
                    },
                );
                Step::Apply
            }
            Some(p) if &p.epoch != epoch => {
                *p = Position {
                    epoch: epoch.clone(),
                    offset,
                };
                Step::Reload
            }
            Some(p) if offset <= p.offset => Step::Duplicate,
            Some(p) if offset == p.offset + 1 => {
                p.offset = offset;
                Step::Apply
            }
            Some(p) => {
                p.offset = offset;
                Step::Reload
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::EventKind;

    #[test]
    fn backoff_grows_to_thirty_seconds_with_full_jitter_and_resets() {
        let mut b = Backoff::default();
        let ceilings: Vec<u32> = (0..10).map(|_| b.next_delay_ms(0.999_999)).collect();
        assert_eq!(ceilings[0], 499);
        assert_eq!(ceilings[1], 999);
        assert_eq!(ceilings[2], 1999);
        assert!(ceilings[7..].iter().all(|&c| c == 29_999));
        assert_eq!(b.next_delay_ms(0.0), 0, "full jitter reaches zero");
        b.reset();
        assert_eq!(b.attempts(), 0);
        assert_eq!(b.next_delay_ms(0.5), 250);
        assert!(!may_reconnect(4403));
        assert!(may_reconnect(4001) && may_reconnect(4008) && may_reconnect(1006));
    }

    #[test]
    fn the_outbox_keeps_order_and_only_the_last_typing_state() {
        let mut o = Outbox::default();
        let chat = |id: &str| ClientFrame::Chat {
            id: id.into(),
            channel: "family:x".into(),
            text: "hi".into(),
        };
        let typing = |on| ClientFrame::Typing {
            channel: "family:x".into(),
            on,
        };
        o.push(chat("1"));
        o.push(typing(true));
        o.push(chat("2"));
        o.push(typing(false));
        assert_eq!(o.len(), 3);
        assert_eq!(o.drain(), vec![chat("1"), chat("2"), typing(false)]);
        assert!(o.is_empty());
    }

    fn event(epoch: &str, offset: u64) -> Event {
        Event {
            kind: EventKind::BudgetUpdate,
            channel: "family:x".into(),
            epoch: Some(epoch.into()),
            offset: Some(offset),
            ts: 0,
            data: serde_json::Value::Null,
        }
    }

    #[test]
    fn positions_apply_in_order_skip_replays_and_ask_to_reload_on_gaps() {
        let mut p = Positions::default();
        assert_eq!(p.event(&event("e", 4)), Step::Apply);
        assert_eq!(p.event(&event("e", 5)), Step::Apply);
        assert_eq!(p.event(&event("e", 5)), Step::Duplicate);
        assert_eq!(p.since("family:x").unwrap().offset, 5);
        assert_eq!(p.event(&event("e", 7)), Step::Reload, "6 was missed");
        assert_eq!(p.event(&event("f", 1)), Step::Reload, "a new epoch");
        let failed = Control::Subscribed {
            id: "s".into(),
            channel: "family:x".into(),
            epoch: "g".into(),
            offset: 9,
            recovered: false,
        };
        assert_eq!(p.subscribed(&failed), Step::Reload);
        assert_eq!(p.since("family:x").unwrap().epoch, "g");
        let mut fresh = Positions::default();
        assert_eq!(
            fresh.subscribed(&failed),
            Step::Apply,
            "a first subscription"
        );
    }
}
