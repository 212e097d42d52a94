//! The bus: publishes channel events and keeps their order and recent history.
//!
//! Stored events get the next offset of their channel. With Redis, one script does it all
//! atomically, on every server alike: the next offset (`HINCRBY` on the channel's meta hash),
//! the append to the channel's stream (bounded to [`HISTORY`] entries), and the `PUBLISH` of
//! the finished frame to every server. The pub/sub channel carries the keys' hash tag
//! (`hearth:ch:{f:<id>}:family:<id>`), so on Redis Cluster it is a sharded channel of the
//! family's slot: `SPUBLISH` from the script, `SSUBSCRIBE` on the node owning the slot, and a
//! frame crosses only the one shard instead of every node of the cluster. A channel whose
//! meta is gone (expired, or Redis lost its data) starts a new epoch, so clients can tell that
//! the history they hold is void.
//! Embedded, the same happens in process.
//!
//! Every frame reaches this server's hub through one path (the subscription), so the hub sees
//! one channel's events in offset order.

use super::Frame;
use crate::redis::link::{RedisLink, RedisLinkError};
use crate::redis::pubsub::{Delivery, Subscriber};
use app::ws::{EventKind, Position};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Events kept per channel for recovery.
pub const HISTORY: usize = 1000;
/// A quiet channel's history lives this long (seconds); then a new epoch starts.
const HISTORY_TTL_S: u64 = 24 * 3600;
/// Idempotency keys (chat `id`s) live this long (seconds).
const IDEMPOTENCY_TTL_S: u64 = 24 * 3600;

const PUBLISH: &str = r#"
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
if ARGV[7] == '1' then
  local prev = redis.call('GET', idem)
  if prev then
    return {redis.call('HGET', meta, 'epoch') or '', prev, '1'}
  end
end
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'epoch', epoch, 'offset', 0)
end
local offset = redis.call('HINCRBY', meta, 'offset', 1)
local frame = '{"type":"' .. ARGV[4] .. '","channel":"' .. ARGV[1] .. '","epoch":"' .. epoch ..
  '","offset":' .. offset .. ',"ts":' .. ARGV[3] .. ',"data":' .. ARGV[5] .. '}'
redis.call('XADD', stream, 'MAXLEN', ARGV[6], offset .. '-1', 'f', frame)
redis.call('EXPIRE', meta, ARGV[8])
redis.call('EXPIRE', stream, ARGV[8])
if ARGV[7] == '1' then
  redis.call('SET', idem, offset, 'EX', ARGV[9])
end
redis.call(ARGV[10], ARGV[11], epoch .. ' ' .. offset .. ' ' .. ARGV[3] .. ' ' .. frame)
return {epoch, tostring(offset), '0'}
"#;

/// The channel's epoch (made if it has none) and its last offset, then the frames from
/// offset `ARGV[1]` on when `ARGV[2]` is the current epoch.
const HISTORY_SCRIPT: &str = r#"
local meta, stream = KEYS[1], KEYS[2]
if redis.call('HSETNX', meta, 'epoch', ARGV[3]) == 1 then
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'offset', 0)
  redis.call('EXPIRE', meta, ARGV[4])
end
local epoch = redis.call('HGET', meta, 'epoch')
local top = tonumber(redis.call('HGET', meta, 'offset') or '0')
local out = {epoch, tostring(top)}
local from = tonumber(ARGV[1])
if ARGV[2] == epoch and from >= 1 and from <= top then
  local entries = redis.call('XRANGE', stream, from .. '-1', '+')
  for _, e in ipairs(entries) do
    table.insert(out, e[2][2])
  end
end
return out
"#;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(transparent)]
    Redis(#[from] RedisLinkError),
    #[error("unexpected answer from redis")]
    Protocol,
}

/// Where a stored event landed; `duplicate` when its idempotency key was used before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub epoch: String,
    pub offset: u64,
    pub duplicate: bool,
}

/// A channel's position and, when asked for and still held, the frames after `since`.
pub struct Snapshot {
    pub position: Position,
    /// `None`: the history no longer holds what was asked for (or the epoch changed).
    pub missed: Option<Vec<Frame>>,
}

pub type Sink = Arc<dyn Fn(Frame) + Send + Sync>;

struct LocalChannel {
    epoch: Arc<str>,
    offset: u64,
    history: VecDeque<Frame>,
    idempotency: HashMap<String, u64>,
}

impl LocalChannel {
    /// A channel this process has not seen: a new epoch (history from before is void).
    fn new() -> Self {
        LocalChannel {
            epoch: new_epoch().into(),
            offset: 0,
            history: VecDeque::new(),
            idempotency: HashMap::new(),
        }
    }
}

enum Inner {
    Local {
        channels: Mutex<HashMap<String, LocalChannel>>,
        sink: OnceLock<Sink>,
    },
    Redis {
        link: RedisLink,
        subscriber: OnceLock<Subscriber>,
    },
}

pub struct Bus {
    inner: Inner,
}

/// The hash tag of a channel's keys and pub/sub channel: the family's (or user's) slot.
fn slot_tag(channel: &str) -> String {
    match channel.split_once(':') {
        Some(("family", id)) => format!("{{f:{id}}}"),
        Some(("user", id)) => format!("{{u:{id}}}"),
        _ => format!("{{{channel}}}"),
    }
}

/// Redis keys of a channel: its meta hash and stream, sharing the family's (or user's) slot.
fn keys(channel: &str) -> (String, String) {
    let tag = slot_tag(channel);
    (
        format!("hearth:stream:{tag}:meta"),
        format!("hearth:stream:{tag}"),
    )
}

/// The Redis pub/sub channel of a hub channel, in the same slot as its keys.
pub fn redis_channel(channel: &str) -> String {
    format!("hearth:ch:{}:{channel}", slot_tag(channel))
}

fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// The text of an event frame (the same field order as the Redis script builds).
pub fn frame_text(
    kind: EventKind,
    channel: &str,
    position: Option<(&str, u64)>,
    ts: i64,
    data: &str,
) -> String {
    match position {
        Some((epoch, offset)) => format!(
            r#"{{"type":"{}","channel":"{channel}","epoch":"{epoch}","offset":{offset},"ts":{ts},"data":{data}}}"#,
            kind.as_str()
        ),
        None => format!(
            r#"{{"type":"{}","channel":"{channel}","ts":{ts},"data":{data}}}"#,
            kind.as_str()
        ),
    }
}

/// Parses what the subscription carries: `<epoch> <offset> <ts> <frame>`, `-` for none.
pub fn parse_message(channel: &str, payload: &[u8]) -> Option<Frame> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.splitn(4, ' ');
    let epoch = parts.next()?;
    let offset = parts.next()?;
    let ts: i64 = parts.next()?.parse().ok()?;
    let frame = parts.next()?;
    let (_, channel) = channel.strip_prefix("hearth:ch:")?.split_once("}:")?;
    Some(Frame {
        channel: channel.into(),
        epoch: (epoch != "-").then(|| epoch.into()),
        offset: if offset == "-" {
            None
        } else {
            Some(offset.parse().ok()?)
        },
        ts,
        text: Utf8Bytes::from(frame.to_string()),
    })
}

impl Bus {
    pub fn new(link: Option<RedisLink>) -> Self {
        let inner = match link {
            None => Inner::Local {
                channels: Mutex::new(HashMap::new()),
                sink: OnceLock::new(),
            },
            Some(link) => Inner::Redis {
                link,
                subscriber: OnceLock::new(),
            },
        };
        Bus { inner }
    }

    /// Connects the bus to where frames go (the hub); `on_resync` runs whenever the Redis
    /// subscription (re)started and may have missed frames.
    pub fn start(&self, sink: Sink, on_resync: Arc<dyn Fn() + Send + Sync>) {
        match &self.inner {
            Inner::Local { sink: s, .. } => {
                let _ = s.set(sink);
            }
            Inner::Redis { link, subscriber } => {
                let handler: crate::redis::pubsub::Handler =
                    Arc::new(move |delivery| match delivery {
                        Delivery::Message { channel, payload } => {
                            if let Some(frame) = parse_message(channel, payload) {
                                sink(frame);
                            }
                        }
                        Delivery::Resynced => on_resync(),
                    });
                let _ = subscriber.set(Subscriber::spawn(link.clone(), Vec::new(), handler));
            }
        }
    }

    /// This server starts or stops receiving the channel's frames.
    pub async fn listen(&self, channel: &str, on: bool) {
        if let Inner::Redis { subscriber, .. } = &self.inner {
            if let Some(s) = subscriber.get() {
                let name = redis_channel(channel);
                if on {
                    s.subscribe_confirmed(name).await;
                } else {
                    s.unsubscribe(name);
                }
            }
        }
    }

    pub fn is_redis(&self) -> bool {
        matches!(self.inner, Inner::Redis { .. })
    }

    /// Stores and publishes an event; with `idempotency`, a key seen before gives the first
    /// publication's place back and publishes nothing.
    pub async fn publish(
        &self,
        channel: &str,
        kind: EventKind,
        data: &str,
        idempotency: Option<&str>,
    ) -> Result<Published, BusError> {
        let ts = crate::clock::now_ms();
        match &self.inner {
            Inner::Local { channels, sink } => {
                let mut channels = channels.lock().unwrap_or_else(|p| p.into_inner());
                let c = channels
                    .entry(channel.to_string())
                    .or_insert_with(LocalChannel::new);
                if let Some(&offset) = idempotency.and_then(|k| c.idempotency.get(k)) {
                    return Ok(Published {
                        epoch: c.epoch.to_string(),
                        offset,
                        duplicate: true,
                    });
                }
                c.offset += 1;
                let offset = c.offset;
                if let Some(k) = idempotency {
                    if c.idempotency.len() >= HISTORY * 10 {
                        c.idempotency.clear();
                    }
                    c.idempotency.insert(k.to_string(), offset);
                }
                let frame = Frame {
                    channel: channel.into(),
                    epoch: Some(c.epoch.clone()),
                    offset: Some(offset),
                    ts,
                    text: frame_text(kind, channel, Some((&c.epoch, offset)), ts, data).into(),
                };
                if c.history.len() == HISTORY {
                    c.history.pop_front();
                }
                c.history.push_back(frame.clone());
                let epoch = c.epoch.to_string();
                // Delivered under the lock, so one channel's frames reach the hub in order.
                if let Some(sink) = sink.get() {
                    sink(frame);
                }
                Ok(Published {
                    epoch,
                    offset,
                    duplicate: false,
                })
            }
            Inner::Redis { link, .. } => {
                static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
                let script = SCRIPT.get_or_init(|| redis::Script::new(PUBLISH));
                let (meta, stream) = keys(channel);
                let idem_key = format!("{meta}:idem:{}", idempotency.unwrap_or(""));
                let mut invocation = script.key(&meta);
                invocation
                    .key(&stream)
                    .key(&idem_key)
                    .arg(channel)
                    .arg(new_epoch())
                    .arg(ts)
                    .arg(kind.as_str())
                    .arg(data)
                    .arg(HISTORY)
                    .arg(if idempotency.is_some() { "1" } else { "0" })
                    .arg(HISTORY_TTL_S)
                    .arg(IDEMPOTENCY_TTL_S)
                    .arg(link.publish_command())
                    .arg(redis_channel(channel));
                let (epoch, offset, duplicate): (String, String, String) =
                    link.script(&invocation).await?;
                Ok(Published {
                    epoch,
                    offset: offset.parse().map_err(|_| BusError::Protocol)?,
                    duplicate: duplicate == "1",
                })
            }
        }
    }

    /// Sends an event that is not stored (typing, presence, metrics).
    pub async fn relay(&self, channel: &str, kind: EventKind, data: &str) -> Result<(), BusError> {
        let ts = crate::clock::now_ms();
        let text = frame_text(kind, channel, None, ts, data);
        match &self.inner {
            Inner::Local { sink, .. } => {
                if let Some(sink) = sink.get() {
                    sink(Frame {
                        channel: channel.into(),
                        epoch: None,
                        offset: None,
                        ts,
                        text: text.into(),
                    });
                }
                Ok(())
            }
            Inner::Redis { link, .. } => {
                link.query::<()>(
                    redis::cmd(link.publish_command())
                        .arg(redis_channel(channel))
                        .arg(format!("- - {ts} {text}")),
                )
                .await?;
                Ok(())
            }
        }
    }

    /// The channel's position, and the frames after `since` when it is asked for.
    pub async fn snapshot(
        &self,
        channel: &str,
        since: Option<&Position>,
    ) -> Result<Snapshot, BusError> {
        match &self.inner {
            Inner::Local { channels, .. } => {
                let mut channels = channels.lock().unwrap_or_else(|p| p.into_inner());
                let c = channels
                    .entry(channel.to_string())
                    .or_insert_with(LocalChannel::new);
                let position = Position {
                    epoch: c.epoch.to_string(),
                    offset: c.offset,
                };
                let missed = since.and_then(|s| {
                    if s.epoch != position.epoch || s.offset > c.offset {
                        return None;
                    }
                    let wanted = c.offset - s.offset;
                    let frames: Vec<Frame> = c
                        .history
                        .iter()
                        .filter(|f| f.offset.is_some_and(|o| o > s.offset))
                        .cloned()
                        .collect();
                    (frames.len() as u64 == wanted).then_some(frames)
                });
                Ok(Snapshot { position, missed })
            }
            Inner::Redis { link, .. } => {
                static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
                let script = SCRIPT.get_or_init(|| redis::Script::new(HISTORY_SCRIPT));
                let (meta, stream) = keys(channel);
                let from = since.map(|s| s.offset + 1).unwrap_or(0);
                let mut invocation = script.key(&meta);
                invocation
                    .key(&stream)
                    .arg(from)
                    .arg(since.map(|s| s.epoch.as_str()).unwrap_or(""))
                    .arg(new_epoch())
                    .arg(HISTORY_TTL_S);
                let out: Vec<String> = link.script(&invocation).await?;
                let mut out = out.into_iter();
                let epoch = out.next().ok_or(BusError::Protocol)?;
                let top: u64 = out
                    .next()
                    .and_then(|t| t.parse().ok())
                    .ok_or(BusError::Protocol)?;
                let position = Position {
                    epoch: epoch.clone(),
                    offset: top,
                };
                let missed = since.and_then(|s| {
                    if s.epoch != epoch || s.offset > top {
                        return None;
                    }
                    let texts: Vec<String> = out.collect();
                    if texts.len() as u64 != top - s.offset {
                        return None;
                    }
                    let epoch: Arc<str> = epoch.as_str().into();
                    Some(
                        texts
                            .into_iter()
                            .zip(s.offset + 1..)
                            .map(|(text, offset)| Frame {
                                channel: channel.into(),
                                epoch: Some(epoch.clone()),
                                offset: Some(offset),
                                ts: 0,
                                text: text.into(),
                            })
                            .collect(),
                    )
                });
                Ok(Snapshot { position, missed })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_position_time_and_frame() {
        assert_eq!(redis_channel("family:x"), "hearth:ch:{f:x}:family:x");
        assert_eq!(redis_channel("user:u"), "hearth:ch:{u:u}:user:u");
        assert_eq!(
            redis_channel("admin:metrics"),
            "hearth:ch:{admin:metrics}:admin:metrics"
        );
        let f = parse_message(
            &redis_channel("family:x"),
            br#"e1 7 1234 {"type":"chat","channel":"family:x"}"#,
        )
        .unwrap();
        assert_eq!(&*f.channel, "family:x");
        assert_eq!(f.epoch.as_deref(), Some("e1"));
        assert_eq!((f.offset, f.ts), (Some(7), 1234));
        assert_eq!(f.text.as_str(), r#"{"type":"chat","channel":"family:x"}"#);
        let relayed = parse_message(&redis_channel("admin:metrics"), b"- - 5 {}").unwrap();
        assert_eq!(&*relayed.channel, "admin:metrics");
        assert_eq!((relayed.epoch, relayed.offset), (None, None));
        assert!(parse_message("other", b"- - 5 {}").is_none());
        assert!(parse_message("hearth:ch:{f:x}:family:x", b"garbage").is_none());
        assert!(parse_message("hearth:ch:family:x", b"- - 5 {}").is_none());
    }

    #[test]
    fn frames_are_events_of_the_shared_protocol() {
        let text = frame_text(
            EventKind::BudgetUpdate,
            "family:x",
            Some(("e", 3)),
            9,
            r#"{"a":1}"#,
        );
        match app::ws::ServerFrame::parse(&text).unwrap() {
            app::ws::ServerFrame::Event(e) => {
                assert_eq!(e.kind, EventKind::BudgetUpdate);
                assert_eq!(
                    (e.epoch.as_deref(), e.offset, e.ts),
                    (Some("e"), Some(3), 9)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn embedded_offsets_rise_history_recovers_and_ids_are_idempotent() {
        let bus = Bus::new(None);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        bus.start(
            Arc::new(move |f: Frame| s.lock().unwrap().push(f.offset)),
            Arc::new(|| {}),
        );
        let first = bus
            .publish("family:a", EventKind::Chat, "{}", Some("m1"))
            .await
            .unwrap();
        assert_eq!(first.offset, 1);
        let again = bus
            .publish("family:a", EventKind::Chat, "{}", Some("m1"))
            .await
            .unwrap();
        assert_eq!((again.offset, again.duplicate), (1, true));
        for _ in 0..3 {
            bus.publish("family:a", EventKind::BudgetUpdate, "{}", None)
                .await
                .unwrap();
        }
        assert_eq!(
            *seen.lock().unwrap(),
            vec![Some(1), Some(2), Some(3), Some(4)]
        );
        let since = Position {
            epoch: first.epoch.clone(),
            offset: 2,
        };
        let snap = bus.snapshot("family:a", Some(&since)).await.unwrap();
        assert_eq!(snap.position.offset, 4);
        let missed: Vec<_> = snap.missed.unwrap().iter().map(|f| f.offset).collect();
        assert_eq!(missed, vec![Some(3), Some(4)]);
        let stale = Position {
            epoch: "other".into(),
            offset: 2,
        };
        assert!(bus
            .snapshot("family:a", Some(&stale))
            .await
            .unwrap()
            .missed
            .is_none());
        // Beyond the history: not recoverable.
        for _ in 0..HISTORY {
            bus.publish("family:a", EventKind::BudgetUpdate, "{}", None)
                .await
                .unwrap();
        }
        assert!(bus
            .snapshot("family:a", Some(&since))
            .await
            .unwrap()
            .missed
            .is_none());
    }
}
