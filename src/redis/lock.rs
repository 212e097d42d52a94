//! Distributed locks: `SET hearth:lock:<name> <token> NX PX <ttl>` with a random owner token,
//! released by a Lua script only by its owner, plus a fencing counter that rises with every
//! acquisition so work done under a lost lock can be told apart. Embedded: the same in process.

use crate::redis::link::RedisLink;
use rand::RngCore as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub name: String,
    pub token: String,
    /// Rises by one with every acquisition of this lock, on every server.
    pub fencing: u64,
}

pub struct Locks {
    redis: Option<RedisLink>,
    release: redis::Script,
    local: Mutex<HashMap<String, (String, Instant)>>,
    local_fence: AtomicU64,
}

fn token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Locks {
    pub fn new(redis: Option<RedisLink>) -> Self {
        Self {
            redis,
            release: redis::Script::new(RELEASE),
            local: Mutex::new(HashMap::new()),
            local_fence: AtomicU64::new(0),
        }
    }

    /// Takes the lock for `ttl` if nobody holds it. With Redis configured but down nobody
    /// gets it: background work waits rather than running twice.
    pub async fn try_acquire(&self, name: &str, ttl: Duration) -> Option<Guard> {
        let token = token();
        match &self.redis {
            Some(redis) => {
                let key = format!("hearth:lock:{name}");
                let set: Option<String> = redis
                    .query(
                        redis::cmd("SET")
                            .arg(&key)
                            .arg(&token)
                            .arg("NX")
                            .arg("PX")
                            .arg(ttl.as_millis() as u64),
                    )
                    .await
                    .ok()?;
                set?;
                let fencing: u64 = redis
                    .query(redis::cmd("INCR").arg(format!("{key}:fence")))
                    .await
                    .ok()?;
                Some(Guard {
                    name: name.to_string(),
                    token,
                    fencing,
                })
            }
            None => {
                let now = Instant::now();
                let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
                if local.get(name).is_some_and(|(_, until)| *until > now) {
                    return None;
                }
                local.insert(name.to_string(), (token.clone(), now + ttl));
                Some(Guard {
                    name: name.to_string(),
                    token,
                    fencing: self.local_fence.fetch_add(1, Ordering::Relaxed) + 1,
                })
            }
        }
    }

    /// Releases the lock if `guard` still owns it; `false` when it had expired or moved on.
    pub async fn release(&self, guard: &Guard) -> bool {
        match &self.redis {
            Some(redis) => {
                let mut invocation = self.release.key(format!("hearth:lock:{}", guard.name));
                invocation.arg(&guard.token);
                matches!(redis.script::<i64>(&invocation).await, Ok(1))
            }
            None => {
                let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
                match local.get(&guard.name) {
                    Some((token, _)) if *token == guard.token => {
                        local.remove(&guard.name);
                        true
                    }
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_owner_at_a_time_and_fencing_rises() {
        let locks = Locks::new(None);
        let a = locks
            .try_acquire("job", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(locks
            .try_acquire("job", Duration::from_secs(10))
            .await
            .is_none());
        let stranger = Guard {
            token: "not-yours".into(),
            ..a.clone()
        };
        assert!(!locks.release(&stranger).await);
        assert!(locks.release(&a).await);
        let b = locks
            .try_acquire("job", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(b.fencing > a.fencing);
    }

    #[tokio::test]
    async fn an_expired_lock_can_be_taken() {
        let locks = Locks::new(None);
        let a = locks
            .try_acquire("job", Duration::from_millis(1))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let b = locks
            .try_acquire("job", Duration::from_secs(10))
            .await
            .unwrap();
        assert!(
            !locks.release(&a).await,
            "the old owner cannot release the new one's lock"
        );
        assert!(locks.release(&b).await);
    }
}
