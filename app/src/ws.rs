//! The WebSocket protocol (`GET /ws`), shared by the server and the browser: frames are JSON
//! text objects with a `type`. See CONTRACT.md ("WebSocket").

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest frame either side accepts; bigger ones close the connection with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Close codes beyond the standard ones.
pub mod close {
    /// The server is going away: reconnect.
    pub const GOING_AWAY: u16 = 4001;
    /// Too slow to keep up: reconnect and recover.
    pub const TOO_SLOW: u16 = 4008;
    /// Not allowed: do not reconnect.
    pub const FORBIDDEN: u16 = 4403;
    /// Protocol violation.
    pub const PROTOCOL: u16 = 4400;
    /// Frame too large (standard).
    pub const TOO_BIG: u16 = 1009;
}

/// Where a client stands in a channel's history (a model type: the budget page carries one).
pub use crate::model::Position;

/// Client → server.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Subscribe {
        id: String,
        channel: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Position>,
    },
    Unsubscribe {
        id: String,
        channel: String,
    },
    Chat {
        id: String,
        channel: String,
        text: String,
    },
    Typing {
        channel: String,
        on: bool,
    },
    Heartbeat {
        t: f64,
    },
}

/// The kinds of channel events.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    BudgetUpdate,
    BudgetAlert,
    ExpenseCreated,
    ExpenseUpdated,
    ExpenseDeleted,
    MemberUpdate,
    Presence,
    Chat,
    Typing,
    Notification,
    GameInvite,
    GameUpdate,
    Achievement,
    Metrics,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::BudgetUpdate,
        EventKind::BudgetAlert,
        EventKind::ExpenseCreated,
        EventKind::ExpenseUpdated,
        EventKind::ExpenseDeleted,
        EventKind::MemberUpdate,
        EventKind::Presence,
        EventKind::Chat,
        EventKind::Typing,
        EventKind::Notification,
        EventKind::GameInvite,
        EventKind::GameUpdate,
        EventKind::Achievement,
        EventKind::Metrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::BudgetUpdate => "budget_update",
            EventKind::BudgetAlert => "budget_alert",
            EventKind::ExpenseCreated => "expense_created",
            EventKind::ExpenseUpdated => "expense_updated",
            EventKind::ExpenseDeleted => "expense_deleted",
            EventKind::MemberUpdate => "member_update",
            EventKind::Presence => "presence",
            EventKind::Chat => "chat",
            EventKind::Typing => "typing",
            EventKind::Notification => "notification",
            EventKind::GameInvite => "game_invite",
            EventKind::GameUpdate => "game_update",
            EventKind::Achievement => "achievement",
            EventKind::Metrics => "metrics",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A channel event. Stored events carry the channel's epoch and their offset; relayed ones
/// (`typing`, `presence`, `metrics`) carry neither.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Milliseconds since the Unix epoch, when the event was published.
    pub ts: i64,
    pub data: Value,
}

/// Server → client frames other than channel events.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    Connected {
        client_id: String,
        node_id: String,
        heartbeat_ms: u64,
    },
    Subscribed {
        id: String,
        channel: String,
        epoch: String,
        offset: u64,
        recovered: bool,
    },
    Unsubscribed {
        id: String,
        channel: String,
    },
    Ack {
        id: String,
        offset: u64,
    },
    Heartbeat {
        t: f64,
        server_time: i64,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        code: String,
        message: String,
    },
}

/// Anything the server sends.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerFrame {
    Control(Control),
    Event(Event),
}

impl ServerFrame {
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_str(text)?;
        let is_event = value
            .get("type")
            .and_then(Value::as_str)
            .and_then(EventKind::parse)
            .is_some();
        if is_event {
            serde_json::from_value(value).map(ServerFrame::Event)
        } else {
            serde_json::from_value(value).map(ServerFrame::Control)
        }
    }

    pub fn to_json(&self) -> String {
        match self {
            ServerFrame::Control(c) => serde_json::to_string(c),
            ServerFrame::Event(e) => serde_json::to_string(e),
        }
        .unwrap_or_default()
    }
}

/// Channels by kind: `family:<id>`, `user:<id>`, `admin:metrics`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Family(uuid::Uuid),
    User(uuid::Uuid),
    AdminMetrics,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Self> {
        if s == "admin:metrics" {
            return Some(Channel::AdminMetrics);
        }
        let (kind, id) = s.split_once(':')?;
        let id = uuid::Uuid::parse_str(id).ok()?;
        match kind {
            "family" => Some(Channel::Family(id)),
            "user" => Some(Channel::User(id)),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Channel::Family(id) => format!("family:{id}"),
            Channel::User(id) => format!("user:{id}"),
            Channel::AdminMetrics => "admin:metrics".to_string(),
        }
    }
}

/// What a `typing` event carries.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TypingData {
    pub user_id: uuid::Uuid,
    pub display_name: String,
    pub on: bool,
}

/// What a `chat` event carries.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChatData {
    /// The sender's id for the message (`id` of its `chat` frame).
    pub client_id: String,
    pub user_id: uuid::Uuid,
    pub display_name: String,
    pub text: String,
}

/// What a `presence` event carries: everyone of the family online now.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PresenceData {
    pub online: Vec<uuid::Uuid>,
}

/// Who caused an event.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Actor {
    pub user_id: uuid::Uuid,
    pub display_name: String,
}

/// `expense_created`, `expense_updated`, `expense_deleted`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExpenseEvent {
    pub expense: crate::model::Expense,
    pub by: Actor,
}

/// `budget_update`: the month's lines after a change (`line` is the changed category's) and
/// its totals.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BudgetUpdate {
    pub month: String,
    pub line: Option<crate::model::BudgetLine>,
    pub lines: Vec<crate::model::BudgetLine>,
    pub totals: crate::model::Totals,
    pub by: Actor,
}

/// `budget_alert`: a category reached 80 % or 100 % of its limit (once per level and month).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BudgetAlert {
    pub month: String,
    pub category_id: uuid::Uuid,
    pub category_name: String,
    pub level: u8,
    pub percent_used: i64,
    pub spent_minor: i64,
    pub limit_minor: i64,
}

/// `member_update`: someone joined the family.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MemberUpdate {
    pub member: crate::model::Member,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_frames_parse_and_reject_unknown_types_and_fields() {
        let f: ClientFrame = serde_json::from_value(json!({
            "type": "subscribe", "id": "1", "channel": "family:x",
            "since": {"epoch": "e", "offset": 4}
        }))
        .unwrap();
        assert_eq!(
            f,
            ClientFrame::Subscribe {
                id: "1".into(),
                channel: "family:x".into(),
                since: Some(Position {
                    epoch: "e".into(),
                    offset: 4
                })
            }
        );
        assert!(serde_json::from_value::<ClientFrame>(json!({"type": "dance"})).is_err());
        assert!(serde_json::from_value::<ClientFrame>(json!({"type": "heartbeat"})).is_err());
        assert!(serde_json::from_value::<ClientFrame>(
            json!({"type": "heartbeat", "t": 1, "x": 2})
        )
        .is_err());
    }

    #[test]
    fn server_frames_round_trip_as_control_or_event() {
        let event = ServerFrame::Event(Event {
            kind: EventKind::ExpenseCreated,
            channel: "family:x".into(),
            epoch: Some("e1".into()),
            offset: Some(7),
            ts: 1,
            data: json!({"amount_minor": 5}),
        });
        let text = event.to_json();
        assert!(text.contains("\"type\":\"expense_created\""));
        assert_eq!(ServerFrame::parse(&text).unwrap(), event);
        let ack = ServerFrame::Control(Control::Ack {
            id: "c1".into(),
            offset: 3,
        });
        assert_eq!(ServerFrame::parse(&ack.to_json()).unwrap(), ack);
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn channels_are_family_user_or_admin_metrics() {
        let id = uuid::Uuid::new_v4();
        assert_eq!(
            Channel::parse(&format!("family:{id}")),
            Some(Channel::Family(id))
        );
        assert_eq!(
            Channel::parse(&format!("user:{id}")),
            Some(Channel::User(id))
        );
        assert_eq!(Channel::parse("admin:metrics"), Some(Channel::AdminMetrics));
        assert_eq!(Channel::parse("family:nope"), None);
        assert_eq!(Channel::parse(&format!("team:{id}")), None);
        assert_eq!(Channel::AdminMetrics.name(), "admin:metrics");
    }
}
