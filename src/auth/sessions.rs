//! Server-side sessions behind [`SessionStore`]: the cookie holds only a random id. The
//! in-process store serves embedded mode; a Redis store takes its place when Redis is on.

use async_trait::async_trait;
use base64::Engine as _;
use rand::RngCore as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Sessions live 14 days after their last use.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: String,
    pub user_id: Uuid,
}

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// A new session with a fresh random id.
    async fn create(&self, user_id: Uuid) -> Session;
    /// The live session with this id, its life extended (sliding expiry).
    async fn get(&self, id: &str) -> Option<Session>;
    async fn delete(&self, id: &str);
}

/// 256 random bits, URL-safe.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Default)]
pub struct InProcessSessions {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    sessions: HashMap<String, (Uuid, Instant)>,
    created_since_sweep: usize,
}

impl Inner {
    /// Drops expired sessions now and then, so the map cannot grow without bound.
    fn sweep(&mut self, now: Instant) {
        self.created_since_sweep += 1;
        if self.created_since_sweep >= 1024 {
            self.created_since_sweep = 0;
            self.sessions.retain(|_, (_, expires)| *expires > now);
        }
    }
}

impl InProcessSessions {
    /// Keeps a session under a known id (the Redis store mirrors into this one).
    pub fn insert(&self, session: &Session) {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.sweep(now);
        inner
            .sessions
            .insert(session.id.clone(), (session.user_id, now + SESSION_TTL));
    }
}

#[async_trait]
impl SessionStore for InProcessSessions {
    async fn create(&self, user_id: Uuid) -> Session {
        let session = Session {
            id: new_session_id(),
            user_id,
        };
        self.insert(&session);
        session
    }

    async fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let user_id = match inner.sessions.get_mut(id) {
            Some((user, expires)) if *expires > now => {
                *expires = now + SESSION_TTL;
                *user
            }
            Some(_) => {
                inner.sessions.remove(id);
                return None;
            }
            None => return None,
        };
        Some(Session {
            id: id.to_string(),
            user_id,
        })
    }

    async fn delete(&self, id: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.sessions.remove(id);
    }
}

/// Sessions in Redis (`hearth:sess:<id>` with a sliding TTL), shared by every server. A
/// local mirror of the sessions this server has seen keeps signed-in people signed in while
/// Redis is down.
pub struct RedisSessions {
    link: crate::redis::link::RedisLink,
    local: InProcessSessions,
}

impl RedisSessions {
    pub fn new(link: crate::redis::link::RedisLink) -> Self {
        Self {
            link,
            local: InProcessSessions::default(),
        }
    }
}

/// The value of a signed-out session's key.
const TOMBSTONE: &str = "-";

impl RedisSessions {
    async fn store(&self, session: &Session) {
        // Two commands, not a pipeline: on Cluster the keys live in different slots.
        let set = redis::cmd("SET")
            .arg(session_key(&session.id))
            .arg(session.user_id.to_string())
            .arg("EX")
            .arg(SESSION_TTL.as_secs())
            .clone();
        if let Err(e) = self.link.query::<()>(&set).await {
            tracing::warn!(error = %e, "session kept in process only: Redis unavailable");
        }
    }
}

fn session_key(id: &str) -> String {
    format!("hearth:sess:{id}")
}

#[async_trait]
impl SessionStore for RedisSessions {
    async fn create(&self, user_id: Uuid) -> Session {
        let session = self.local.create(user_id).await;
        self.store(&session).await;
        session
    }

    async fn get(&self, id: &str) -> Option<Session> {
        let getex = redis::cmd("GETEX")
            .arg(session_key(id))
            .arg("EX")
            .arg(SESSION_TTL.as_secs())
            .clone();
        match self.link.query::<Option<String>>(&getex).await {
            Ok(Some(user)) if user == TOMBSTONE => {
                self.local.delete(id).await;
                None
            }
            Ok(Some(user)) => {
                let user_id = Uuid::parse_str(&user).ok()?;
                let session = Session {
                    id: id.to_string(),
                    user_id,
                };
                self.local.insert(&session);
                Some(session)
            }
            // Redis lost it (a restart without persistence): this server still knows the
            // session, so it writes it back rather than signing the person out.
            Ok(None) => {
                let session = self.local.get(id).await?;
                self.store(&session).await;
                Some(session)
            }
            Err(_) => self.local.get(id).await,
        }
    }

    async fn delete(&self, id: &str) {
        self.local.delete(id).await;
        // A tombstone, not a DEL: other servers must tell "signed out" from "Redis lost it".
        let tombstone = redis::cmd("SET")
            .arg(session_key(id))
            .arg(TOMBSTONE)
            .arg("EX")
            .arg(SESSION_TTL.as_secs())
            .clone();
        if let Err(e) = self.link.query::<()>(&tombstone).await {
            tracing::warn!(error = %e, "could not delete the session in Redis");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_is_found_until_deleted_and_ids_differ() {
        let store = InProcessSessions::default();
        let user = Uuid::new_v4();
        let a = store.create(user).await;
        let b = store.create(user).await;
        assert_ne!(a.id, b.id);
        assert_eq!(a.id.len(), 43);
        assert_eq!(store.get(&a.id).await.unwrap().user_id, user);
        store.delete(&a.id).await;
        assert!(store.get(&a.id).await.is_none());
        assert!(store.get(&b.id).await.is_some());
        assert!(store.get("made-up").await.is_none());
    }
}
