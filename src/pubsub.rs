//! One dedicated Redis subscriber connection per server, shared by everything that listens
//! (cache invalidation now, the realtime bus later). It keeps a set of channels, subscribes
//! to them again after every reconnect, and pings through the subscription every second so a
//! connection that died silently (no FIN, a partition) is noticed and replaced.
//!
//! Messages published while the subscriber was away are lost to it, so every (re)connect is
//! reported as [`Delivery::Resynced`]: listeners drop what they learnt from the stream.

use crate::redis_link::RedisLink;
use futures::StreamExt;
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
        let session = async {
            let (mut sink, mut stream) = link
                .pubsub_connection()
                .await
                .map_err(|e| e.to_string())?
                .split();
            if !channels.is_empty() {
                let all: Vec<&String> = channels.iter().collect();
                tokio::time::timeout(PROBE_TIMEOUT, sink.subscribe(all))
                    .await
                    .map_err(|_| "subscribe timed out".to_string())?
                    .map_err(|e| e.to_string())?;
            }
            live.store(true, Ordering::Release);
            handler(Delivery::Resynced);
            backoff = Duration::from_millis(100);
            let mut probe = tokio::time::interval(PROBE_EVERY);
            probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            probe.tick().await;
            loop {
                tokio::select! {
                    message = stream.next() => match message {
                        Some(m) => handler(Delivery::Message {
                            channel: m.get_channel_name(),
                            payload: m.get_payload_bytes(),
                        }),
                        None => return Err("subscriber connection closed".to_string()),
                    },
                    command = commands.recv() => {
                        let Some(command) = command else { return Ok(()) };
                        match command {
                            Command::Subscribe(c, confirm) => {
                                sink.subscribe(&c).await.map_err(|e| e.to_string())?;
                                channels.insert(c);
                                if let Some(confirm) = confirm {
                                    let _ = confirm.send(());
                                }
                            }
                            Command::Unsubscribe(c) => {
                                sink.unsubscribe(&c).await.map_err(|e| e.to_string())?;
                                channels.remove(&c);
                            }
                        }
                    }
                    _ = probe.tick() => {
                        match tokio::time::timeout(PROBE_TIMEOUT, sink.ping::<redis::Value>()).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => return Err(e.to_string()),
                            Err(_) => return Err("subscriber stopped answering".to_string()),
                        }
                    }
                }
            }
        };
        let outcome: Result<(), String> = session.await;
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
