//! The realtime hub: WebSocket connections, their channel subscriptions, and delivery of the
//! bus's frames to them.
//!
//! - A frame is written to each subscriber's socket by the task that delivers it (encoded
//!   once, the same bytes for every socket; `wire`); only what the kernel does not take at once
//!   waits in the connection's bounded queue. A connection whose queue is full is closed with
//!   4008 (it reconnects and recovers), so one slow client never holds up the others.
//! - This server listens to a channel on the bus while it has at least one local subscriber
//!   (one Redis subscription per channel per server).
//! - Frames of a channel arrive in offset order; a gap (a frame lost by the subscription) is
//!   filled from the channel's history before the frame that revealed it, and a connection
//!   never gets an offset twice.
//! - A subscription with `since` is recovered without loss or duplicates: frames arriving
//!   while the history is read are held back, then sent after it.

pub mod bus;
pub mod metrics;
pub mod presence;
pub mod wire;

use app::ws::{Control, EventKind, Position};
use bus::{Bus, BusError};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Utf8Bytes;
use wire::{Refused, Wire};

/// One frame on its way to clients: the JSON text is built once and shared.
#[derive(Clone, Debug)]
pub struct Frame {
    pub channel: Arc<str>,
    pub epoch: Option<Arc<str>>,
    pub offset: Option<u64>,
    /// When it was published (ms since the Unix epoch), for the delivery latency.
    pub ts: i64,
    pub text: Utf8Bytes,
}

/// Tells a connection's writer to close with a code.
#[derive(Default)]
pub struct Closer {
    code: AtomicU16,
    notify: Notify,
}

impl Closer {
    pub fn close(&self, code: u16) {
        if self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // Both the reader and the writer wait for this.
            self.notify.notify_waiters();
        }
    }

    pub fn code(&self) -> u16 {
        self.code.load(Ordering::Acquire)
    }

    pub async fn closed(&self) -> u16 {
        loop {
            let notified = self.notify.notified();
            let code = self.code();
            if code != 0 {
                return code;
            }
            notified.await;
        }
    }
}

impl Conn {
    /// Closes the connection with `code`: its reader and its writer both wake.
    pub fn close(&self, code: u16) {
        self.closer.close(code);
    }
}

#[derive(Clone)]
pub struct Conn {
    pub id: u64,
    pub wire: Arc<Wire>,
    pub closer: Arc<Closer>,
}

enum SubState {
    /// Recovery in progress: frames wait here.
    Holding(Vec<Frame>),
    /// The last offset sent (frames at or below it are not sent again).
    Live(u64),
}

struct Sub {
    conn: Conn,
    state: SubState,
}

#[derive(Default)]
struct ChannelState {
    subs: HashMap<u64, Sub>,
    /// The last stored frame this server passed on.
    last: Option<(Arc<str>, u64)>,
    /// Frames waiting for the write delay to pass (with `WEBSOCKET_WRITE_DELAY` only).
    pending: Vec<Frame>,
}

pub struct Hub {
    pub node_id: String,
    pub bus: Bus,
    channels: Mutex<HashMap<String, ChannelState>>,
    /// Every open connection with the channels it is subscribed to (so closing one touches
    /// only its own channels, and shutdown closes them all).
    conns: Mutex<HashMap<u64, (Conn, Vec<String>)>>,
    next_id: AtomicU64,
    pub heartbeat: std::time::Duration,
    /// How long a channel's frames wait to leave together (zero: each leaves at once).
    write_delay: std::time::Duration,
    /// This hub, for the write delay's timers.
    me: Weak<Hub>,
    pub metrics: metrics::Metrics,
    pub presence: presence::Presence,
    /// Frames from the bus, handled in order by one task (it may fill gaps from Redis).
    incoming: mpsc::UnboundedSender<Incoming>,
}

enum Incoming {
    Frame(Frame),
    Resynced,
}

impl Hub {
    pub fn new(
        node_id: String,
        redis: Option<crate::redis::link::RedisLink>,
        heartbeat: std::time::Duration,
        write_delay: std::time::Duration,
    ) -> Arc<Self> {
        let (incoming, rx) = mpsc::unbounded_channel();
        let hub = Arc::new_cyclic(|me| Hub {
            presence: presence::Presence::new(redis.clone(), node_id.clone()),
            node_id,
            bus: Bus::new(redis),
            channels: Mutex::new(HashMap::new()),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            heartbeat,
            write_delay,
            me: me.clone(),
            metrics: metrics::Metrics::default(),
            incoming,
        });
        if hub.bus.is_redis() {
            let frames = hub.incoming.clone();
            let resyncs = hub.incoming.clone();
            hub.bus.start(
                Arc::new(move |f| {
                    let _ = frames.send(Incoming::Frame(f));
                }),
                Arc::new(move || {
                    let _ = resyncs.send(Incoming::Resynced);
                }),
            );
            tokio::spawn(dispatch(Arc::downgrade(&hub), rx));
        } else {
            // Embedded: the bus hands frames over in order, under its lock.
            let weak = Arc::downgrade(&hub);
            hub.bus.start(
                Arc::new(move |f| {
                    if let Some(hub) = weak.upgrade() {
                        hub.deliver(f);
                    }
                }),
                Arc::new(|| {}),
            );
        }
        presence::spawn(Arc::downgrade(&hub));
        hub
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn open(&self, conn: &Conn) {
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(conn.id, (conn.clone(), Vec::new()));
    }

    /// The connection is gone: drop its subscriptions (and the bus's, when it was the last).
    pub async fn close(&self, conn_id: u64) {
        let subscribed = self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&conn_id)
            .map(|(_, channels)| channels)
            .unwrap_or_default();
        for channel in subscribed {
            self.unsubscribe(conn_id, &channel).await;
        }
    }

    /// Closes every connection with `code` (4001 on shutdown).
    pub fn close_all(&self, code: u16) {
        for conn in self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            conn.0.close(code);
        }
    }

    pub fn connection_count(&self) -> usize {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Subscribes `conn` to `channel`, recovering from `since` when given. Returns the
    /// `subscribed` answer; the recovered frames are queued right after it, then live ones.
    pub async fn subscribe(
        &self,
        conn: &Conn,
        id: String,
        channel: &str,
        since: Option<Position>,
    ) -> Result<(), BusError> {
        let first = {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            let c = channels.entry(channel.to_string()).or_default();
            let first = c.subs.is_empty();
            c.subs.insert(
                conn.id,
                Sub {
                    conn: conn.clone(),
                    state: SubState::Holding(Vec::new()),
                },
            );
            first
        };
        if let Some((_, list)) = self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&conn.id)
        {
            if !list.iter().any(|c| c == channel) {
                list.push(channel.to_string());
            }
        }
        if first {
            self.bus.listen(channel, true).await;
        }
        let snapshot = match self.bus.snapshot(channel, since.as_ref()).await {
            Ok(s) => s,
            Err(e) => {
                self.unsubscribe(conn.id, channel).await;
                return Err(e);
            }
        };
        let recovered = snapshot.missed.is_some();
        if since.is_some() {
            if recovered {
                self.metrics.recoveries.fetch_add(1, Ordering::Relaxed);
            } else {
                self.metrics
                    .recovery_failures
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        let answer = Control::Subscribed {
            id,
            channel: channel.to_string(),
            epoch: snapshot.position.epoch.clone(),
            offset: snapshot.position.offset,
            recovered,
        };
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let Some(sub) = channels
            .get_mut(channel)
            .and_then(|c| c.subs.get_mut(&conn.id))
        else {
            return Ok(());
        };
        let held = match std::mem::replace(&mut sub.state, SubState::Live(0)) {
            SubState::Holding(held) => held,
            SubState::Live(_) => Vec::new(),
        };
        let mut last = snapshot.position.offset;
        self.send(conn, control_text(&answer));
        for frame in snapshot.missed.unwrap_or_default() {
            if let Some(o) = frame.offset {
                last = last.max(o);
            }
            self.send(conn, frame.text);
        }
        for frame in held {
            match frame.offset {
                Some(o) if o <= last => {}
                Some(o) => {
                    last = o;
                    self.send(conn, frame.text);
                }
                None => {
                    self.send(conn, frame.text);
                }
            }
        }
        sub.state = SubState::Live(last);
        Ok(())
    }

    pub async fn unsubscribe(&self, conn_id: u64, channel: &str) {
        if let Some((_, list)) = self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&conn_id)
        {
            list.retain(|c| c != channel);
        }
        let emptied = {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            match channels.get_mut(channel) {
                Some(c) => {
                    c.subs.remove(&conn_id);
                    let empty = c.subs.is_empty();
                    if empty {
                        channels.remove(channel);
                    }
                    empty
                }
                None => false,
            }
        };
        if emptied {
            self.bus.listen(channel, false).await;
        }
    }

    /// Channels with local subscribers.
    pub fn channel_names(&self) -> Vec<String> {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// Sends a text to one connection; a full queue closes it as too slow.
    pub fn send(&self, conn: &Conn, text: Utf8Bytes) -> bool {
        let sent = self.send_frame(conn, &wire::text_frame(&text));
        if sent {
            self.metrics.messages_out.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Sends an encoded frame (not counted: the caller counts); a full queue closes the
    /// connection as too slow.
    fn send_frame(&self, conn: &Conn, frame: &Bytes) -> bool {
        self.sent(conn, conn.wire.send(frame))
    }

    /// Whether a frame went out (or waits to); a connection whose queue is full is closed as
    /// too slow.
    fn sent(&self, conn: &Conn, result: Result<(), Refused>) -> bool {
        match result {
            Ok(()) => true,
            Err(Refused::Shut) => false,
            Err(Refused::Full) => {
                if conn.closer.code() == 0 {
                    self.metrics.slow_closed.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(conn = conn.id, "closing a client too slow to keep up");
                }
                conn.close(app::ws::close::TOO_SLOW);
                false
            }
        }
    }

    pub fn has_local_subscribers(&self, channel: &str) -> bool {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(channel)
            .is_some_and(|c| !c.subs.is_empty())
    }

    /// Sends a frame to this server's subscribers only (figures about this server).
    pub fn deliver_local(&self, frame: Frame) {
        self.deliver_frame(frame);
    }

    /// Passes a frame of the bus to this server's subscribers of its channel.
    fn deliver(&self, frame: Frame) {
        let now = crate::clock::now_ms();
        self.metrics.record_delivery(now - frame.ts);
        self.deliver_frame(frame);
    }

    fn deliver_frame(&self, frame: Frame) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let Some(c) = channels.get_mut(&*frame.channel) else {
            return;
        };
        if let (Some(epoch), Some(offset)) = (&frame.epoch, frame.offset) {
            c.last = Some((epoch.clone(), offset));
        }
        if self.write_delay.is_zero() {
            self.fan_out(c, std::slice::from_ref(&frame));
            return;
        }
        // The first frame of a batch starts its timer; the rest join it.
        if c.pending.is_empty() {
            let (hub, channel, delay) = (self.me.clone(), frame.channel.clone(), self.write_delay);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Some(hub) = hub.upgrade() {
                    hub.flush(&channel);
                }
            });
        }
        c.pending.push(frame);
    }

    /// Sends the frames a channel's write delay held back. When the channel was left and
    /// subscribed again meanwhile, an old timer sends the new batch early and the new
    /// batch's own timer finds nothing.
    fn flush(&self, channel: &str) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = channels.get_mut(channel) {
            let frames = std::mem::take(&mut c.pending);
            if !frames.is_empty() {
                self.fan_out(c, &frames);
            }
        }
    }

    /// Passes `frames`, in order, to the channel's subscribers: a recovering one holds them;
    /// a live one gets, in one write, each frame above the last offset it got. Each frame is
    /// encoded once, and the subscribers that get all of them (nearly always every one) get
    /// the same bytes in one batched submission (`wire::send_each`).
    fn fan_out(&self, c: &mut ChannelState, frames: &[Frame]) {
        let encoded: Vec<Bytes> = frames.iter().map(|f| wire::text_frame(&f.text)).collect();
        let mut everything = Vec::with_capacity(c.subs.len());
        let mut sent = 0;
        for sub in c.subs.values_mut() {
            let last = match &mut sub.state {
                SubState::Holding(held) => {
                    held.extend_from_slice(frames);
                    continue;
                }
                SubState::Live(last) => last,
            };
            // `None` while the subscriber takes every frame; the indices it takes otherwise.
            let mut taken: Option<Vec<usize>> = None;
            for (i, frame) in frames.iter().enumerate() {
                let fresh = match frame.offset {
                    Some(o) if o <= *last => false,
                    Some(o) => {
                        *last = o;
                        true
                    }
                    None => true,
                };
                match (&mut taken, fresh) {
                    (None, false) => taken = Some((0..i).collect()),
                    (Some(t), true) => t.push(i),
                    _ => {}
                }
            }
            match taken {
                None => everything.push(&sub.conn),
                Some(t) if t.is_empty() => {}
                Some(t) => {
                    let bytes = joined(t.iter().map(|&i| &encoded[i]));
                    if self.sent(&sub.conn, sub.conn.wire.send(&bytes)) {
                        sent += t.len();
                    }
                }
            }
        }
        let all = joined(encoded.iter());
        let wires: Vec<&Wire> = everything.iter().map(|conn| &*conn.wire).collect();
        let mut results = Vec::with_capacity(wires.len());
        wire::send_each(&wires, &all, &mut results);
        let took_all = everything
            .iter()
            .zip(results)
            .filter(|(conn, result)| self.sent(conn, *result))
            .count();
        sent += took_all * frames.len();
        self.metrics
            .messages_out
            .fetch_add(sent as u64, Ordering::Relaxed);
    }

    /// What this server last passed on for the channel.
    fn last_of(&self, channel: &str) -> Option<(Arc<str>, u64)> {
        self.channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(channel)
            .and_then(|c| c.last.clone())
    }

    /// Where the channel's history stands now (`None` when the bus cannot say). Read before
    /// the data a page renders, so the page's connection can resume from there: whatever is
    /// published after the read is replayed to it, whatever before is in the data.
    pub async fn position(&self, channel: &str) -> Option<Position> {
        match self.bus.snapshot(channel, None).await {
            Ok(s) => Some(s.position),
            Err(e) => {
                tracing::warn!(error = %e, channel, "channel position not read");
                None
            }
        }
    }

    /// Publishes a family event after a committed change; a failure is logged (the change is
    /// in the database, clients catch up by reloading on `recovered:false`).
    pub async fn family_event(
        &self,
        family: uuid::Uuid,
        kind: EventKind,
        data: &impl serde::Serialize,
    ) {
        let channel = format!("family:{family}");
        let Ok(data) = serde_json::to_string(data) else {
            return;
        };
        if let Err(e) = self.bus.publish(&channel, kind, &data, None).await {
            tracing::warn!(error = %e, channel, kind = kind.as_str(), "event not published");
        }
    }
}

/// Encoded frames one after another, for one write (one frame: itself, not copied).
fn joined<'a>(mut frames: impl Iterator<Item = &'a Bytes>) -> Bytes {
    let Some(first) = frames.next() else {
        return Bytes::new();
    };
    let Some(second) = frames.next() else {
        return first.clone();
    };
    let mut out = bytes::BytesMut::from(&first[..]);
    out.extend_from_slice(second);
    for frame in frames {
        out.extend_from_slice(frame);
    }
    out.freeze()
}

pub fn control_text(control: &Control) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(control).unwrap_or_default())
}

/// With Redis: passes frames on in arrival order, filling any gap from the history first.
async fn dispatch(hub: Weak<Hub>, mut rx: mpsc::UnboundedReceiver<Incoming>) {
    while let Some(incoming) = rx.recv().await {
        let Some(hub) = hub.upgrade() else { return };
        match incoming {
            Incoming::Frame(frame) => {
                if let (Some(epoch), Some(offset)) = (&frame.epoch, frame.offset) {
                    match hub.last_of(&frame.channel) {
                        Some((last_epoch, last)) if last_epoch == *epoch && offset <= last => {
                            continue;
                        }
                        Some((last_epoch, last)) if last_epoch == *epoch && offset > last + 1 => {
                            fill_gap(&hub, &frame.channel, &last_epoch, last, offset).await;
                        }
                        Some((last_epoch, _)) if last_epoch != *epoch => {
                            // A new epoch: the history clients hold is void.
                            let position = Position {
                                epoch: epoch.to_string(),
                                offset: offset - 1,
                            };
                            tell_to_reload(&hub, &frame.channel, &position);
                        }
                        _ => {}
                    }
                }
                hub.deliver(frame);
            }
            Incoming::Resynced => {
                // The subscription was down: whatever was published meanwhile is in history.
                for channel in hub.channel_names() {
                    if let Some((epoch, last)) = hub.last_of(&channel) {
                        fill_gap(&hub, &channel, &epoch, last, u64::MAX).await;
                    }
                }
            }
        }
    }
}

/// Delivers the frames after `last` and before `until` from the channel's history.
async fn fill_gap(hub: &Hub, channel: &str, epoch: &str, last: u64, until: u64) {
    let since = Position {
        epoch: epoch.to_string(),
        offset: last,
    };
    match hub.bus.snapshot(channel, Some(&since)).await {
        Ok(snapshot) => match snapshot.missed {
            Some(frames) => {
                for frame in frames.into_iter().filter(|f| f.offset < Some(until)) {
                    hub.deliver(frame);
                }
            }
            None => {
                // History lost: tell the channel's clients to reload over HTTP.
                tell_to_reload(hub, channel, &snapshot.position);
            }
        },
        Err(e) => tracing::warn!(error = %e, channel, "could not fill a gap"),
    }
}

/// Sends `subscribed` with `recovered:false` (reload over HTTP) at the channel's new position.
fn tell_to_reload(hub: &Hub, channel: &str, position: &Position) {
    let text = control_text(&Control::Subscribed {
        id: String::new(),
        channel: channel.to_string(),
        epoch: position.epoch.clone(),
        offset: position.offset,
        recovered: false,
    });
    let mut channels = hub.channels.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = channels.get_mut(channel) {
        c.last = Some((position.epoch.as_str().into(), position.offset));
        for sub in c.subs.values_mut() {
            if let SubState::Live(last) = &mut sub.state {
                *last = position.offset;
            }
            hub.send(&sub.conn, text.clone());
        }
    }
}
