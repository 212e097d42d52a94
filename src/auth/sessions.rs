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
    /// Which of `users` made an authenticated request within `window`.
    async fn recently_active(&self, users: &[Uuid], window: Duration) -> Vec<bool>;
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
    last_seen: HashMap<Uuid, Instant>,
    created_since_sweep: usize,
}

impl Inner {
    /// Drops expired sessions now and then, so the map cannot grow without bound.
    fn sweep(&mut self, now: Instant) {
        self.created_since_sweep += 1;
        if self.created_since_sweep >= 1024 {
            self.created_since_sweep = 0;
            self.sessions.retain(|_, (_, expires)| *expires > now);
            self.last_seen
                .retain(|_, seen| now.duration_since(*seen) < SESSION_TTL);
        }
    }
}

#[async_trait]
impl SessionStore for InProcessSessions {
    async fn create(&self, user_id: Uuid) -> Session {
        let id = new_session_id();
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.sweep(now);
        inner
            .sessions
            .insert(id.clone(), (user_id, now + SESSION_TTL));
        inner.last_seen.insert(user_id, now);
        Session { id, user_id }
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
        inner.last_seen.insert(user_id, now);
        Some(Session {
            id: id.to_string(),
            user_id,
        })
    }

    async fn delete(&self, id: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.sessions.remove(id);
    }

    async fn recently_active(&self, users: &[Uuid], window: Duration) -> Vec<bool> {
        let now = Instant::now();
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        users
            .iter()
            .map(|u| {
                inner
                    .last_seen
                    .get(u)
                    .is_some_and(|seen| now.duration_since(*seen) < window)
            })
            .collect()
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

    #[tokio::test]
    async fn activity_marks_users_online() {
        let store = InProcessSessions::default();
        let (seen, unseen) = (Uuid::new_v4(), Uuid::new_v4());
        store.create(seen).await;
        assert_eq!(
            store
                .recently_active(&[seen, unseen], Duration::from_secs(60))
                .await,
            vec![true, false]
        );
    }
}
