//! The link to Redis: one multiplexed connection (a `ConnectionManager` for a single server,
//! a cluster connection for Redis Cluster, a connection to the master the sentinels name)
//! with short, explicit timeouts, reconnecting with backoff in the background, and a health
//! probe every second. When Redis is down the rest
//! of Hearth sees `is_up() == false` at once and degrades instead of waiting on timeouts.

use crate::config::RedisSettings;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelServerType};
use redis::AsyncConnectionConfig;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, ScriptInvocation};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, OnceCell};

/// Every command answers within this or counts as a failure.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum RedisLinkError {
    #[error("redis is down")]
    Down,
    #[error("redis timed out")]
    Timeout,
    #[error("redis: {0}")]
    Command(#[from] RedisError),
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    /// Connected in the background; empty until the cluster first answers.
    Cluster(Arc<OnceCell<ClusterConnection>>),
    /// The master the sentinels name, asked again whenever it stops answering.
    Sentinel(Arc<SentinelMaster>),
}

struct SentinelMaster {
    client: tokio::sync::Mutex<SentinelClient>,
    current: std::sync::RwLock<Option<(String, MultiplexedConnection)>>,
}

impl SentinelMaster {
    fn connection(&self) -> Option<MultiplexedConnection> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, c)| c.clone())
    }

    /// Asks the sentinels for the master and connects to it when it moved (after a failover)
    /// or when there is no connection yet.
    async fn follow(&self) -> Result<(), RedisError> {
        let client = self.client.lock().await.async_get_client().await?;
        let addr = client.get_connection_info().addr().to_string();
        let known = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(a, _)| a.clone());
        if known.as_deref() != Some(addr.as_str()) {
            let config = AsyncConnectionConfig::new()
                .set_response_timeout(Some(COMMAND_TIMEOUT))
                .set_connection_timeout(Some(CONNECT_TIMEOUT));
            let conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            tracing::info!(master = %addr, "following the master the sentinels name");
            *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some((addr, conn));
        }
        Ok(())
    }
}

/// Where a dedicated pub/sub connection comes from (pub/sub needs its own connection).
#[derive(Clone)]
enum PubSubSource {
    Client(redis::Client),
    /// The cluster's nodes: a cluster connection speaking RESP3 subscribes sharded channels
    /// on the node owning their slot and plain ones anywhere.
    Nodes(Arc<Vec<String>>),
    Sentinel(Arc<SentinelMaster>),
}

#[derive(Clone)]
pub struct RedisLink {
    connection: Connection,
    pubsub: PubSubSource,
    mode: &'static str,
    up: Arc<AtomicBool>,
    changes: watch::Sender<bool>,
}

impl RedisLink {
    /// Builds the link for the settings (`None` when embedded). Never fails for a Redis that
    /// is down: the link starts down and keeps trying.
    pub fn connect(settings: &RedisSettings) -> Result<Option<Self>, RedisError> {
        let (connection, pubsub, mode) = match settings {
            RedisSettings::Embedded => return Ok(None),
            RedisSettings::Single { url } => {
                let client = redis::Client::open(url.expose())?;
                let pubsub = PubSubSource::Client(client.clone());
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(COMMAND_TIMEOUT))
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(Duration::from_secs(2))
                    .set_number_of_retries(3);
                (
                    Connection::Single(ConnectionManager::new_lazy_with_config(client, config)?),
                    pubsub,
                    "single",
                )
            }
            RedisSettings::Cluster { nodes } => {
                let cell = Arc::new(OnceCell::new());
                let builder =
                    ClusterClientBuilder::new(nodes.iter().map(|n| format!("redis://{n}")))
                        .connection_timeout(CONNECT_TIMEOUT)
                        .response_timeout(COMMAND_TIMEOUT);
                let client = builder.build()?;
                let target = cell.clone();
                tokio::spawn(async move {
                    let mut delay = Duration::from_millis(100);
                    loop {
                        match client.get_async_connection().await {
                            Ok(conn) => {
                                let _ = target.set(conn);
                                return;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "redis cluster not reachable yet");
                                tokio::time::sleep(delay).await;
                                delay = (delay * 2).min(Duration::from_secs(5));
                            }
                        }
                    }
                });
                (
                    Connection::Cluster(cell),
                    PubSubSource::Nodes(Arc::new(nodes.clone())),
                    "cluster",
                )
            }
            RedisSettings::Sentinel { sentinels, master } => {
                let client = SentinelClient::build(
                    sentinels.iter().map(|s| format!("redis://{s}")).collect(),
                    master.clone(),
                    None,
                    SentinelServerType::Master,
                )?;
                let master = Arc::new(SentinelMaster {
                    client: tokio::sync::Mutex::new(client),
                    current: std::sync::RwLock::new(None),
                });
                (
                    Connection::Sentinel(master.clone()),
                    PubSubSource::Sentinel(master),
                    "sentinel",
                )
            }
        };
        let (changes, _) = watch::channel(false);
        let link = RedisLink {
            connection,
            pubsub,
            mode,
            up: Arc::new(AtomicBool::new(false)),
            changes,
        };
        link.spawn_probe();
        Ok(Some(link))
    }

    pub fn mode(&self) -> &'static str {
        self.mode
    }

    /// `SPUBLISH` on Cluster (the channel's frames stay in its slot's shard), else `PUBLISH`.
    pub fn publish_command(&self) -> &'static str {
        match self.pubsub {
            PubSubSource::Nodes(_) => "SPUBLISH",
            _ => "PUBLISH",
        }
    }

    /// The cluster's nodes when this is Redis Cluster (pub/sub then goes through a RESP3
    /// cluster connection instead of [`RedisLink::pubsub_connection`]).
    pub fn cluster_nodes(&self) -> Option<Arc<Vec<String>>> {
        match &self.pubsub {
            PubSubSource::Nodes(nodes) => Some(nodes.clone()),
            _ => None,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Waits until the probe has seen Redis answer, at most `max`.
    pub async fn wait_until_up(&self, max: Duration) -> bool {
        let mut changes = self.changes.subscribe();
        let wait = async {
            while !self.is_up() {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(max, wait).await;
        self.is_up()
    }

    /// Fires with `true` each time Redis comes back after being down.
    pub fn subscribe_changes(&self) -> watch::Receiver<bool> {
        self.changes.subscribe()
    }

    fn set_up(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        if was != up {
            if up {
                tracing::info!(mode = self.mode, "redis is up");
            } else {
                tracing::warn!(mode = self.mode, "redis is down; serving degraded");
            }
            let _ = self.changes.send(up);
        }
    }

    fn spawn_probe(&self) {
        let link = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Connection::Sentinel(master) = &link.connection {
                    if let Err(e) = master.follow().await {
                        tracing::warn!(error = %e, "the sentinels name no reachable master");
                    }
                }
                let ok = link.exec_cmd::<String>(&redis::cmd("PING")).await.is_ok();
                link.set_up(ok);
            }
        });
    }

    fn finish<T>(
        &self,
        outcome: Result<Result<T, RedisError>, tokio::time::error::Elapsed>,
    ) -> Result<T, RedisLinkError> {
        match outcome {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout()
                {
                    self.set_up(false);
                }
                Err(RedisLinkError::Command(e))
            }
            Err(_) => {
                self.set_up(false);
                Err(RedisLinkError::Timeout)
            }
        }
    }

    async fn exec_cmd<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisLinkError> {
        with_connection!(self, c => cmd.query_async(&mut c))
    }

    /// Runs a command; fails fast with `Down` while the probe says Redis is down.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisLinkError> {
        if !self.is_up() {
            return Err(RedisLinkError::Down);
        }
        self.exec_cmd(cmd).await
    }

    pub async fn pipeline<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T, RedisLinkError> {
        if !self.is_up() {
            return Err(RedisLinkError::Down);
        }
        with_connection!(self, c => pipe.query_async(&mut c))
    }

    pub async fn script<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, RedisLinkError> {
        if !self.is_up() {
            return Err(RedisLinkError::Down);
        }
        with_connection!(self, c => invocation.invoke_async(&mut c))
    }

    /// A new dedicated pub/sub connection to the server or the current master, within the
    /// connect timeout. Not for Cluster: there a RESP3 cluster connection subscribes each
    /// channel on its slot's node (`crate::redis::pubsub`).
    pub async fn pubsub_connection(&self) -> Result<redis::aio::PubSub, RedisLinkError> {
        let connect = |client: redis::Client| async move {
            match tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await {
                Ok(Ok(p)) => Ok(p),
                Ok(Err(e)) => Err(RedisLinkError::Command(e)),
                Err(_) => Err(RedisLinkError::Timeout),
            }
        };
        match &self.pubsub {
            PubSubSource::Client(client) => connect(client.clone()).await,
            PubSubSource::Sentinel(master) => {
                let client = master.client.lock().await.async_get_client().await?;
                connect(client).await
            }
            PubSubSource::Nodes(_) => Err(RedisLinkError::Command(RedisError::from((
                redis::ErrorKind::Client,
                "a cluster subscribes through a cluster connection",
            )))),
        }
    }

    /// `INFO` fields as text (for the admin statistics).
    pub async fn info(&self) -> Result<String, RedisLinkError> {
        self.query(&redis::cmd("INFO")).await
    }
}

/// Runs `$body` with a fresh clone of the connection bound to `$c`, under the command timeout.
macro_rules! with_connection {
    ($link:expr, $c:ident => $body:expr) => {{
        match &$link.connection {
            Connection::Single(manager) => {
                let mut $c = manager.clone();
                let outcome = tokio::time::timeout(COMMAND_TIMEOUT, $body).await;
                $link.finish(outcome)
            }
            Connection::Sentinel(master) => match master.connection() {
                Some(conn) => {
                    let mut $c = conn;
                    let outcome = tokio::time::timeout(COMMAND_TIMEOUT, $body).await;
                    $link.finish(outcome)
                }
                None => Err(RedisLinkError::Down),
            },
            Connection::Cluster(cell) => match cell.get() {
                Some(conn) => {
                    let mut $c = conn.clone();
                    let outcome = tokio::time::timeout(COMMAND_TIMEOUT, $body).await;
                    $link.finish(outcome)
                }
                None => Err(RedisLinkError::Down),
            },
        }
    }};
}
use with_connection;
