//! One dedicated Redis subscriber connection per server, shared by everything that listens
//! (cache invalidation now, the realtime bus later). It keeps a set of channels, subscribes
//! to them again after every reconnect, and pings through the subscription every second so a
//! connection that died silently (no FIN, a partition) is noticed and replaced.
//!
//! Messages published while the subscriber was away are lost to it, so every (re)connect is
//! reported as [`Delivery::Resynced`]: listeners drop what they learnt from the stream.
//!
//! On Redis Cluster the subscriber is a cluster connection speaking RESP3: a channel named
//! with a hash tag (`hearth:ch:{f:<id>}:…`, published with `SPUBLISH`) is a sharded channel,
//! subscribed with `SSUBSCRIBE` on the node that owns its slot; a plain one
//! (`hearth:invalidate`) with `SUBSCRIBE`, which a cluster broadcasts to every node. Any node
//! that drops its connection ends the session and a new one subscribes everything again.

use crate::redis::link::RedisLink;
use futures::StreamExt;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{PushKind, Value};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const PROBE_EVERY: Duration = Duration::from_secs(1);
const PROBE_TIMEOUT: Duration = Duration::from_millis(750);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub enum Delivery<'a> {
    Message {
        channel: &'a str,
        payload: &'a [u8],
    },
    /// Subscribed (again) to every channel; anything published before may have been missed.
    Resynced,
}

pub type Handler = Arc<dyn Fn(Delivery<'_>) + Send + Sync>;

enum Command {
    /// With a sender to tell when Redis confirmed the subscription.
    Subscribe(String, Option<tokio::sync::oneshot::Sender<()>>),
    Unsubscribe(String),
}

/// The handle: cheap to clone; the connection lives in a background task.
#[derive(Clone)]
pub struct Subscriber {
    commands: mpsc::UnboundedSender<Command>,
    live: Arc<AtomicBool>,
}

impl Subscriber {
    pub fn spawn(link: RedisLink, channels: Vec<String>, handler: Handler) -> Self {
        let (commands, rx) = mpsc::unbounded_channel();
        let live = Arc::new(AtomicBool::new(false));
        tokio::spawn(run(
            link,
            channels.into_iter().collect(),
            rx,
            handler,
            live.clone(),
        ));
        Subscriber { commands, live }
    }

    /// True while subscribed and answering probes: what was published reaches this server.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Subscribes and waits until Redis confirmed it (or, while disconnected, until the
    /// channel is in the set the next connection subscribes to), at most a second.
    pub async fn subscribe_confirmed(&self, channel: impl Into<String>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self
            .commands
            .send(Command::Subscribe(channel.into(), Some(tx)))
            .is_ok()
        {
            let _ = tokio::time::timeout(Duration::from_secs(1), rx).await;
        }
    }

    pub fn unsubscribe(&self, channel: impl Into<String>) {
        let _ = self.commands.send(Command::Unsubscribe(channel.into()));
    }
}

async fn run(
    link: RedisLink,
    mut channels: HashSet<String>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    handler: Handler,
    live: Arc<AtomicBool>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        // Commands that came while disconnected only change the set.
        while let Ok(command) = commands.try_recv() {
            apply(&mut channels, command);
        }
        let outcome = session(
            &link,
            &mut channels,
            &mut commands,
            &handler,
            &live,
            &mut backoff,
        )
        .await;
        live.store(false, Ordering::Release);
        match outcome {
            // Every handle is gone: nobody listens any more.
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "redis subscriber lost; resubscribing");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// One connection's life: subscribe everything, then deliver, obey commands and probe until
/// it fails (`Err`) or every handle is gone (`Ok`).
async fn session(
    link: &RedisLink,
    channels: &mut HashSet<String>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    handler: &Handler,
    live: &AtomicBool,
    backoff: &mut Duration,
) -> Result<(), String> {
    let mut conn = Connection::open(link).await.map_err(|e| e.to_string())?;
    tokio::time::timeout(PROBE_TIMEOUT, conn.subscribe_all(channels))
        .await
        .map_err(|_| "subscribe timed out".to_string())?
        .map_err(|e| e.to_string())?;
    live.store(true, Ordering::Release);
    handler(Delivery::Resynced);
    *backoff = Duration::from_millis(100);
    let mut probe = tokio::time::interval(PROBE_EVERY);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    probe.tick().await;
    loop {
        tokio::select! {
            incoming = conn.next() => match incoming {
                Incoming::Message(m) => handler(Delivery::Message {
                    channel: m.get_channel_name(),
                    payload: m.get_payload_bytes(),
                }),
                Incoming::Push(p) => {
                    if let (PushKind::Message | PushKind::SMessage, [Value::BulkString(channel), Value::BulkString(payload)]) =
                        (&p.kind, p.data.as_slice())
                    {
                        if let Ok(channel) = std::str::from_utf8(channel) {
                            handler(Delivery::Message { channel, payload });
                        }
                    }
                }
                Incoming::Lost => return Err("subscriber connection closed".to_string()),
            },
            command = commands.recv() => {
                let Some(command) = command else { return Ok(()) };
                match command {
                    Command::Subscribe(c, confirm) => {
                        conn.subscribe(&c).await.map_err(|e| e.to_string())?;
                        channels.insert(c);
                        if let Some(confirm) = confirm {
                            let _ = confirm.send(());
                        }
                    }
                    Command::Unsubscribe(c) => {
                        conn.unsubscribe(&c).await.map_err(|e| e.to_string())?;
                        channels.remove(&c);
                    }
                }
            }
            _ = probe.tick() => {
                match tokio::time::timeout(PROBE_TIMEOUT, conn.ping()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return Err(e.to_string()),
                    Err(_) => return Err("subscriber stopped answering".to_string()),
                }
            }
        }
    }
}

/// A subscriber connection: a plain pub/sub connection, or a cluster connection whose
/// messages arrive as RESP3 pushes.
enum Connection {
    Single {
        sink: redis::aio::PubSubSink,
        stream: redis::aio::PubSubStream,
    },
    Cluster {
        conn: ClusterConnection,
        pushes: mpsc::UnboundedReceiver<redis::PushInfo>,
    },
}

enum Incoming {
    Message(redis::Msg),
    Push(redis::PushInfo),
    Lost,
}

/// Channels named with a hash tag are sharded channels on a cluster.
fn sharded(channel: &str) -> bool {
    channel.contains('{')
}

async fn cluster_subscribe(conn: &mut ClusterConnection, channel: &str) -> redis::RedisResult<()> {
    if sharded(channel) {
        conn.ssubscribe(channel).await
    } else {
        conn.subscribe(channel).await
    }
}

impl Connection {
    async fn open(link: &RedisLink) -> Result<Self, crate::redis::link::RedisLinkError> {
        let Some(nodes) = link.cluster_nodes() else {
            let (sink, stream) = link.pubsub_connection().await?.split();
            return Ok(Connection::Single { sink, stream });
        };
        let (tx, pushes) = mpsc::unbounded_channel();
        let client = ClusterClientBuilder::new(nodes.iter().map(|n| format!("redis://{n}")))
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(tx)
            .connection_timeout(PROBE_TIMEOUT)
            .response_timeout(PROBE_TIMEOUT)
            .build()?;
        let conn = tokio::time::timeout(PROBE_TIMEOUT, client.get_async_connection())
            .await
            .map_err(|_| crate::redis::link::RedisLinkError::Timeout)??;
        Ok(Connection::Cluster { conn, pushes })
    }

    async fn subscribe_all(&mut self, channels: &HashSet<String>) -> redis::RedisResult<()> {
        match self {
            Connection::Single { sink, .. } if !channels.is_empty() => {
                sink.subscribe(channels.iter().collect::<Vec<_>>()).await
            }
            Connection::Single { .. } => Ok(()),
            // One command per channel (each goes to its slot's node), all in flight at once.
            Connection::Cluster { conn, .. } => {
                let each = channels.iter().map(|c| {
                    let mut conn = conn.clone();
                    async move { cluster_subscribe(&mut conn, c).await }
                });
                futures::future::try_join_all(each).await.map(drop)
            }
        }
    }

    async fn subscribe(&mut self, channel: &str) -> redis::RedisResult<()> {
        match self {
            Connection::Single { sink, .. } => sink.subscribe(channel).await,
            Connection::Cluster { conn, .. } => cluster_subscribe(conn, channel).await,
        }
    }

    async fn unsubscribe(&mut self, channel: &str) -> redis::RedisResult<()> {
        match self {
            Connection::Single { sink, .. } => sink.unsubscribe(channel).await,
            Connection::Cluster { conn, .. } if sharded(channel) => {
                conn.sunsubscribe(channel).await
            }
            Connection::Cluster { conn, .. } => conn.unsubscribe(channel).await,
        }
    }

    /// Through the subscription itself (on a cluster: every master).
    async fn ping(&mut self) -> redis::RedisResult<()> {
        match self {
            Connection::Single { sink, .. } => sink.ping::<Value>().await.map(drop),
            Connection::Cluster { conn, .. } => redis::cmd("PING")
                .query_async::<Value>(conn)
                .await
                .map(drop),
        }
    }

    /// The next message; a cluster node that lost its connection ends the session (its
    /// subscriptions may have missed messages, which only a full resync makes good).
    async fn next(&mut self) -> Incoming {
        match self {
            Connection::Single { stream, .. } => match stream.next().await {
                Some(m) => Incoming::Message(m),
                None => Incoming::Lost,
            },
            Connection::Cluster { pushes, .. } => match pushes.recv().await {
                Some(p) if p.kind == PushKind::Disconnection => Incoming::Lost,
                Some(p) => Incoming::Push(p),
                None => Incoming::Lost,
            },
        }
    }
}

/// A command while disconnected: only the set changes (the next connection subscribes to it).
fn apply(channels: &mut HashSet<String>, command: Command) {
    match command {
        Command::Subscribe(c, confirm) => {
            channels.insert(c);
            if let Some(confirm) = confirm {
                let _ = confirm.send(());
            }
        }
        Command::Unsubscribe(c) => {
            channels.remove(&c);
        }
    }
}
