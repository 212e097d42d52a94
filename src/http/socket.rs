//! `GET /ws`: one WebSocket connection. The upgrade is done here (RFC 6455's handshake, with
//! tungstenite's accept key) rather than by axum's extractor, so that the connection keeps its
//! TCP stream: frames go out through the connection's [`Wire`], written straight to the
//! socket by whoever sends them. A reader (this task) parses the client's frames with
//! tungstenite; a writer task drains what the kernel did not take at once, pings every
//! heartbeat interval, drops a client that stopped answering, and sends the close frame when
//! the hub asks for one.

use crate::error::ApiError;
use crate::http::net::Remote;
use crate::realtime::wire::{ping_frame, Wire};
use crate::realtime::{control_text, Closer, Conn, Hub};
use crate::state::AppState;
use crate::store::{ChatInsert, ChatRecord};
use app::ws::{close, Channel, ChatData, ClientFrame, Control, EventKind, TypingData};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message, Utf8Bytes};
use uuid::Uuid;

/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;

/// Not a close code on the wire: the client closed first (tungstenite answered its close
/// frame), so the server sends none of its own.
const PEER_CLOSED: u16 = 1;

/// A token bucket for one connection's frames: a burst of twice the rate, then
/// `WEBSOCKET_MAX_FRAMES_PER_SECOND` a second. Frames beyond it are answered `rate_limited`
/// and dropped (a chat flood would otherwise reach the database).
#[derive(Clone, Copy, Debug)]
pub struct FrameBudget {
    tokens: f64,
    per_second: f64,
    at: std::time::Instant,
}

impl FrameBudget {
    pub fn new(per_second: u64, now: std::time::Instant) -> Self {
        let per_second = per_second as f64;
        FrameBudget {
            tokens: 2.0 * per_second,
            per_second,
            at: now,
        }
    }

    /// Takes one frame's token; false when none is left.
    pub fn take(&mut self, now: std::time::Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(2.0 * self.per_second);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Who is connected (only what the connection needs, kept small for idle connections).
struct Peer {
    user_id: Uuid,
    display_name: String,
    family: Option<Uuid>,
    admin: bool,
}

/// A valid WebSocket upgrade request (RFC 6455, section 4.2.1): the accept key to answer with
/// and hyper's handle on the connection once the answer is out. Anything else at `/ws` is
/// answered 400 `malformed`.
pub struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let h = &parts.headers;
        let refuse = |why: &str| {
            ApiError::Malformed(format!(
                "This address takes WebSocket connections only ({why})."
            ))
        };
        if !has_token(h, header::CONNECTION, "upgrade")
            || !has_token(h, header::UPGRADE, "websocket")
        {
            return Err(refuse(
                "Connection: upgrade and Upgrade: websocket expected",
            ));
        }
        if h.get(header::SEC_WEBSOCKET_VERSION).map(|v| v.as_bytes()) != Some(b"13") {
            return Err(refuse("Sec-WebSocket-Version: 13 expected"));
        }
        let Some(key) = h.get(header::SEC_WEBSOCKET_KEY) else {
            return Err(refuse("Sec-WebSocket-Key missing"));
        };
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let accept = HeaderValue::from_str(&accept).map_err(|_| refuse("bad key"))?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(|| refuse("the connection cannot be upgraded"))?;
        Ok(Upgrade { accept, on_upgrade })
    }
}

impl Upgrade {
    /// Answers 101 and runs `connection` on the upgraded stream once hyper hands it over.
    fn accept<F, Fut>(self, connection: F) -> Response
    where
        F: FnOnce(Upgraded) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(async move {
            match self.on_upgrade.await {
                Ok(upgraded) => connection(upgraded).await,
                Err(e) => tracing::debug!(error = %e, "the WebSocket upgrade did not complete"),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = response.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept);
        response
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<Remote>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    if !crate::http::security::same_origin(&headers) {
        return ApiError::Forbidden("csrf", "The request came from another site.".into())
            .into_response();
    }
    let current = match crate::http::member::current_user(&state, &headers).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let peer = Peer {
        family: current.user.family_id,
        admin: state.settings.is_admin(&current.user.email),
        user_id: current.user.id,
        display_name: current.user.display_name,
    };
    let tcp = remote.tcp;
    upgrade.accept(move |upgraded| run(state, peer, upgraded, Wire::new(tcp)))
}

/// The stream tungstenite reads the client's frames from: hyper's upgraded connection. What
/// tungstenite writes itself (answers to pings and to a close) goes out through the wire, in
/// order with everything else.
struct Duplex {
    read: TokioIo<Upgraded>,
    wire: Arc<Wire>,
    closer: Arc<Closer>,
}

impl AsyncRead for Duplex {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for Duplex {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // tungstenite writes whole frames (its write buffer is off).
        Poll::Ready(match self.wire.send(&bytes::Bytes::copy_from_slice(buf)) {
            Ok(()) => Ok(buf.len()),
            Err(refused) => {
                if refused == crate::realtime::wire::Refused::Full {
                    self.closer.close(close::TOO_SLOW);
                }
                Err(io::ErrorKind::BrokenPipe.into())
            }
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn now_ms() -> i64 {
    crate::clock::now_ms()
}

/// The writer task: drains the wire, pings, and closes when asked.
async fn write(
    wire: Arc<Wire>,
    closer: Arc<Closer>,
    last_heard: Arc<AtomicI64>,
    heartbeat: Duration,
) {
    let mut ping = tokio::time::interval(heartbeat);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let code = loop {
        tokio::select! {
            biased;
            code = closer.closed() => break code,
            drained = wire.drain() => {
                if drained.is_err() {
                    // The socket failed: the reader stops too.
                    closer.close(1011);
                    return;
                }
            },
            _ = ping.tick() => {
                let silent_ms = now_ms() - last_heard.load(Ordering::Relaxed);
                if silent_ms > 2 * heartbeat.as_millis() as i64 + 1000 {
                    tracing::debug!(silent_ms, "dropping a client that stopped answering");
                    closer.close(close::GOING_AWAY);
                    break close::GOING_AWAY;
                }
                let _ = wire.send(&ping_frame());
            }
        }
    };
    if code != PEER_CLOSED {
        let reason = match code {
            close::GOING_AWAY => "server going away",
            close::TOO_SLOW => "too slow to keep up",
            close::TOO_BIG => "frame too large",
            close::FORBIDDEN => "forbidden",
            close::PROTOCOL => "protocol violation",
            _ => "closing",
        };
        wire.close(code, reason);
    }
    // The close frame (or tungstenite's answer to the client's) goes out before the socket
    // is dropped; a client that reads nothing more is given a second.
    let _ = tokio::time::timeout(Duration::from_secs(1), wire.flush()).await;
}

async fn run(state: AppState, peer: Peer, upgraded: Upgraded, wire: Wire) {
    let hub = state.hub.clone();
    let wire = Arc::new(wire);
    let conn = Conn {
        id: hub.next_id(),
        wire: wire.clone(),
        closer: Arc::new(Closer::default()),
    };
    hub.open(&conn);
    // The calls that reach Redis are boxed: their state would otherwise be part of this
    // task for the whole life of the connection, idle or not.
    if let Some(family) = peer.family {
        Box::pin(hub.presence.join(family, peer.user_id)).await;
    }
    // Small buffers: most connections are idle most of the time. tungstenite writes each
    // frame at once (into the wire).
    let config = WebSocketConfig::default()
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_message_size(Some(app::ws::MAX_FRAME_BYTES))
        .max_frame_size(Some(app::ws::MAX_FRAME_BYTES));
    let duplex = Duplex {
        read: TokioIo::new(upgraded),
        wire: wire.clone(),
        closer: conn.closer.clone(),
    };
    let mut stream =
        tokio_tungstenite::WebSocketStream::from_raw_socket(duplex, Role::Server, Some(config))
            .await;
    let last_heard = Arc::new(AtomicI64::new(now_ms()));
    let writer = tokio::spawn(write(
        wire,
        conn.closer.clone(),
        last_heard.clone(),
        hub.heartbeat,
    ));

    hub.send(
        &conn,
        control_text(&Control::Connected {
            client_id: format!("{}-{}", hub.node_id, conn.id),
            node_id: hub.node_id.clone(),
            heartbeat_ms: hub.heartbeat.as_millis() as u64,
        }),
    );

    let mut budget = FrameBudget::new(
        state.settings.ws_frames_per_second,
        std::time::Instant::now(),
    );
    let mut code = 1000;
    loop {
        let message = tokio::select! {
            m = stream.next() => m,
            _ = conn.closer.closed() => break,
        };
        let Some(message) = message else { break };
        last_heard.store(now_ms(), Ordering::Relaxed);
        match message {
            Ok(Message::Text(text)) => {
                hub.metrics.messages_in.fetch_add(1, Ordering::Relaxed);
                if !budget.take(std::time::Instant::now()) {
                    hub.send(
                        &conn,
                        error(
                            frame_id(text.as_str()),
                            "rate_limited",
                            "Too many frames; this one was dropped. Slow down.",
                        ),
                    );
                    continue;
                }
                // Boxed: an idle connection's task then stays small (the handler's state is
                // allocated only while a frame is handled).
                Box::pin(handle(&state, &hub, &conn, &peer, text.as_str())).await;
            }
            Ok(Message::Binary(_)) => {
                hub.send(
                    &conn,
                    error(None, "bad_frame", "Frames are JSON text, not binary."),
                );
            }
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Ok(Message::Close(_)) => {
                // tungstenite has queued its answer; this writes it into the wire.
                let _ = stream.flush().await;
                code = PEER_CLOSED;
                break;
            }
            Err(tungstenite::Error::Capacity(_)) => {
                code = close::TOO_BIG;
                break;
            }
            // Unmasked or malformed frames, text that is not UTF-8.
            Err(tungstenite::Error::Protocol(_) | tungstenite::Error::Utf8(_)) => {
                code = close::PROTOCOL;
                break;
            }
            Err(_) => break,
        }
    }
    conn.close(code);
    // The writer gives the close frame a second; should it hang anyway, it is aborted after
    // 2 s, which drops the socket.
    let mut writer = writer;
    if tokio::time::timeout(Duration::from_secs(2), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    Box::pin(hub.close(conn.id)).await;
    if let Some(family) = peer.family {
        Box::pin(hub.presence.leave(family, peer.user_id)).await;
    }
}

fn error(id: Option<String>, code: &str, message: &str) -> Utf8Bytes {
    control_text(&Control::Error {
        id,
        code: code.to_string(),
        message: message.to_string(),
    })
}

/// The `id` of a frame that failed to parse, when it has one, to echo in the error.
fn frame_id(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()?
        .get("id")?
        .as_str()
        .map(str::to_string)
}

/// May `peer` see `channel`?
fn allowed(peer: &Peer, channel: &Channel) -> bool {
    match channel {
        Channel::Family(id) => peer.family == Some(*id),
        Channel::User(id) => peer.user_id == *id,
        Channel::AdminMetrics => peer.admin,
    }
}

/// The channel named in a frame, when the peer may use it.
fn channel_for(peer: &Peer, name: &str) -> Result<Channel, (&'static str, &'static str)> {
    match Channel::parse(name) {
        Some(c) if allowed(peer, &c) => Ok(c),
        _ => Err(("forbidden", "You may not join that channel.")),
    }
}

/// A client's text frame as a frame, or the `error` frame's code and message for it: not
/// JSON (`malformed`), no type or a bad field (`bad_frame`), a type no client sends
/// (`unknown_type`).
pub fn read_frame(text: &str) -> Result<ClientFrame, (&'static str, String)> {
    serde_json::from_str(text).map_err(|e| match serde_json::from_str::<serde_json::Value>(text) {
        Err(_) => ("malformed", "The frame is not JSON.".to_string()),
        Ok(v) if v.get("type").and_then(|t| t.as_str()).is_none() => {
            ("bad_frame", "The frame has no type.".to_string())
        }
        Ok(v)
            if !matches!(
                v["type"].as_str(),
                Some("subscribe" | "unsubscribe" | "chat" | "typing" | "heartbeat")
            ) =>
        {
            ("unknown_type", "Unknown frame type.".to_string())
        }
        Ok(_) => ("bad_frame", format!("Invalid frame: {e}")),
    })
}

async fn handle(state: &AppState, hub: &Hub, conn: &Conn, peer: &Peer, text: &str) {
    let frame = match read_frame(text) {
        Ok(f) => f,
        Err((code, message)) => {
            hub.send(conn, error(frame_id(text), code, &message));
            return;
        }
    };
    match frame {
        ClientFrame::Heartbeat { t } => {
            hub.send(
                conn,
                control_text(&Control::Heartbeat {
                    t,
                    server_time: now_ms(),
                }),
            );
        }
        ClientFrame::Subscribe { id, channel, since } => {
            let parsed = match channel_for(peer, &channel) {
                Ok(c) => c,
                Err((code, message)) => {
                    hub.send(conn, error(Some(id), code, message));
                    return;
                }
            };
            if let Err(e) = hub.subscribe(conn, id.clone(), &channel, since).await {
                tracing::warn!(error = %e, channel, "subscribe failed");
                hub.send(
                    conn,
                    error(
                        Some(id),
                        "unavailable",
                        "The channel cannot be joined right now; retry.",
                    ),
                );
                return;
            }
            // A family channel starts with who is online now.
            if let Channel::Family(family) = parsed {
                let online = hub.presence.online(family).await;
                let text = crate::realtime::bus::frame_text(
                    EventKind::Presence,
                    &channel,
                    None,
                    now_ms(),
                    &crate::realtime::presence::event_data(&online),
                );
                hub.send(conn, text.into());
            }
        }
        ClientFrame::Unsubscribe { id, channel } => {
            hub.unsubscribe(conn.id, &channel).await;
            hub.send(conn, control_text(&Control::Unsubscribed { id, channel }));
        }
        ClientFrame::Typing { channel, on } => {
            if !matches!(channel_for(peer, &channel), Ok(Channel::Family(_))) {
                hub.send(conn, error(None, "forbidden", "You may not type there."));
                return;
            }
            let data = TypingData {
                user_id: peer.user_id,
                display_name: peer.display_name.clone(),
                on,
            };
            let data = serde_json::to_string(&data).unwrap_or_default();
            let _ = hub.bus.relay(&channel, EventKind::Typing, &data).await;
        }
        ClientFrame::Chat { id, channel, text } => {
            let family = match channel_for(peer, &channel) {
                Ok(Channel::Family(f)) => f,
                _ => {
                    hub.send(
                        conn,
                        error(Some(id), "forbidden", "You may not chat there."),
                    );
                    return;
                }
            };
            let text = text.trim().to_string();
            if text.is_empty()
                || text.chars().count() > MAX_CHAT_CHARS
                || id.is_empty()
                || id.len() > 100
            {
                hub.send(
                    conn,
                    error(
                        Some(id),
                        "invalid",
                        "text: 1 to 2000 characters; id: 1 to 100 characters",
                    ),
                );
                return;
            }
            match chat(state, hub, peer, family, &channel, &id, text).await {
                Ok(offset) => hub.send(conn, control_text(&Control::Ack { id, offset })),
                Err(message) => hub.send(conn, error(Some(id), "unavailable", message)),
            };
        }
    }
}

/// Stores the message (the database is its system of record), publishes it once, and
/// answers its offset; the same `id` again gives the same offset and no second message.
async fn chat(
    state: &AppState,
    hub: &Hub,
    peer: &Peer,
    family: Uuid,
    channel: &str,
    id: &str,
    text: String,
) -> Result<u64, &'static str> {
    let record = ChatRecord {
        family_id: family,
        user_id: peer.user_id,
        client_id: id.to_string(),
        text: text.clone(),
        created_at_ms: now_ms(),
        position: None,
    };
    let stored = state
        .store
        .insert_chat(&record)
        .await
        .map_err(|_| "The message could not be saved; send it again.")?;
    let text = match stored {
        ChatInsert::Existing(existing) => match existing.position {
            Some((_, offset)) => return Ok(offset),
            // Saved but not published yet (or the publication was lost): publish it now.
            None => existing.text,
        },
        ChatInsert::Created => text,
    };
    let data = ChatData {
        client_id: id.to_string(),
        user_id: peer.user_id,
        display_name: peer.display_name.clone(),
        text,
    };
    let data = serde_json::to_string(&data).unwrap_or_default();
    let idempotency = format!("chat:{}:{id}", peer.user_id);
    let published = hub
        .bus
        .publish(channel, EventKind::Chat, &data, Some(&idempotency))
        .await
        .map_err(|_| "The message is saved but could not be sent yet; send it again.")?;
    let _ = state
        .store
        .set_chat_position(family, peer.user_id, id, &published.epoch, published.offset)
        .await;
    Ok(published.offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_burst_then_a_steady_rate() {
        let t0 = Instant::now();
        let mut b = FrameBudget::new(30, t0);
        assert!((0..60).all(|_| b.take(t0)));
        assert!(!b.take(t0));
        // A fifth of a second refills six frames.
        let later = t0 + Duration::from_millis(200);
        assert!((0..6).all(|_| b.take(later)));
        assert!(!b.take(later));
    }

    /// Frames shaped like the protocol's, with every field of any type, and plain noise.
    fn frame_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let value = prop_oneof![
            Just(serde_json::Value::Null),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            "(family|user|admin):?[0-9a-f-]{0,36}".prop_map(serde_json::Value::from),
            ".{0,16}".prop_map(serde_json::Value::from),
        ];
        let kind = prop_oneof![
            Just("subscribe"),
            Just("unsubscribe"),
            Just("chat"),
            Just("typing"),
            Just("heartbeat"),
            Just("shout"),
        ];
        let fields = proptest::collection::btree_map(
            prop_oneof![
                Just("id"),
                Just("channel"),
                Just("text"),
                Just("on"),
                Just("t"),
                Just("since")
            ],
            value,
            0..5,
        );
        prop_oneof![
            (proptest::option::of(kind), fields).prop_map(|(kind, fields)| {
                let mut m: serde_json::Map<String, serde_json::Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                if let Some(kind) = kind {
                    m.insert("type".into(), kind.into());
                }
                serde_json::Value::Object(m).to_string()
            }),
            ".{0,40}",
        ]
    }

    proptest::proptest! {
        /// Any text a client sends is a frame or gets the protocol's error code (the
        /// connection stays): never a panic; a channel name of any shape parses or not.
        #[test]
        fn any_text_frame_is_read_or_gets_the_protocol_s_error(text in frame_text()) {
            match read_frame(&text) {
                Ok(ClientFrame::Subscribe { channel, .. } | ClientFrame::Chat { channel, .. }) => {
                    let _ = Channel::parse(&channel);
                }
                Ok(_) => {}
                Err((code, message)) => {
                    proptest::prop_assert!(["malformed", "bad_frame", "unknown_type"].contains(&code));
                    proptest::prop_assert!(!message.is_empty());
                }
            }
            let _ = frame_id(&text);
        }
    }
}
