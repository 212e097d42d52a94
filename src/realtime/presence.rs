//! Presence: a user is online while any of their connections, on any server, is open.
//!
//! Each server counts its own connections per (family, user). With Redis, it keeps one entry
//! per (user, server) in the family's sorted set `hearth:presence:{f:<id>}`, scored with an
//! expiry time it pushes forward every [`REFRESH`]; a server that dies stops refreshing, and
//! its entries fall out within [`ENTRY_TTL`]. Expiry times are set and compared in Redis's
//! own clock (`TIME`, in the scripts), so servers whose clocks differ agree on who is online.
//! Server ids are new on every start, so a restarted server never brings its old entries back.
//!
//! Joins and leaves are coalesced: a change marks the family, and every [`COALESCE`] the
//! marked families' online lists are computed; a `presence` event goes out only when a list
//! differs from the last one sent (compared in Redis, so servers do not repeat each other).

use super::Hub;
use crate::redis::link::RedisLink;
use app::ws::{EventKind, PresenceData};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, OnceLock, Weak};
use std::time::Duration;
use uuid::Uuid;

pub const REFRESH: Duration = Duration::from_secs(3);
pub const ENTRY_TTL: Duration = Duration::from_secs(10);
pub const COALESCE: Duration = Duration::from_millis(150);

/// Now, in milliseconds, by Redis's clock.
macro_rules! redis_now {
    () => {
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    };
}

/// Sets an entry's expiry to `ARGV[1]` milliseconds from now.
const STAY_SCRIPT: &str = concat!(
    redis_now!(),
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])\nreturn 1\n"
);

/// Drops expired entries, lists the users online, and answers the list only when it differs
/// from the last one announced (`ARGV[1]` = `1`).
const ONLINE_SCRIPT: &str = concat!(
    redis_now!(),
    r#"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local seen, users = {}, {}
for _, m in ipairs(members) do
  local u = string.match(m, '^([^|]+)|')
  if u and not seen[u] then
    seen[u] = true
    table.insert(users, u)
  end
end
table.sort(users)
local list = table.concat(users, ',')
if ARGV[1] == '1' then
  if redis.call('GET', KEYS[2]) == list then
    return false
  end
  redis.call('SET', KEYS[2], list, 'EX', 86400)
end
return list
"#
);

pub struct Presence {
    redis: Option<RedisLink>,
    node_id: String,
    /// This server's open connections per (family, user).
    local: Mutex<HashMap<(Uuid, Uuid), usize>>,
    /// Families whose list may have changed.
    dirty: Mutex<HashSet<Uuid>>,
    /// Embedded: the last list announced per family.
    announced: Mutex<HashMap<Uuid, BTreeSet<Uuid>>>,
    script: OnceLock<redis::Script>,
    stay: OnceLock<redis::Script>,
}

fn key(family: Uuid) -> String {
    format!("hearth:presence:{{f:{family}}}")
}

impl Presence {
    pub fn new(redis: Option<RedisLink>, node_id: String) -> Self {
        Presence {
            redis,
            node_id,
            local: Mutex::new(HashMap::new()),
            dirty: Mutex::new(HashSet::new()),
            announced: Mutex::new(HashMap::new()),
            script: OnceLock::new(),
            stay: OnceLock::new(),
        }
    }

    fn member(&self, user: Uuid) -> String {
        format!("{user}|{}", self.node_id)
    }

    /// Keeps `user`'s entry for [`ENTRY_TTL`] from now (Redis's now).
    async fn stay(&self, redis: &RedisLink, family: Uuid, user: Uuid) {
        let script = self.stay.get_or_init(|| redis::Script::new(STAY_SCRIPT));
        let mut invocation = script.key(key(family));
        invocation
            .arg(ENTRY_TTL.as_millis() as u64)
            .arg(self.member(user));
        let _ = redis.script::<i64>(&invocation).await;
    }

    /// A connection of `user` opened.
    pub async fn join(&self, family: Uuid, user: Uuid) {
        let first = {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            let n = local.entry((family, user)).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            if let Some(redis) = &self.redis {
                self.stay(redis, family, user).await;
            }
            self.mark(family);
        }
    }

    /// A connection of `user` closed.
    pub async fn leave(&self, family: Uuid, user: Uuid) {
        let last = {
            let mut local = self.local.lock().unwrap_or_else(|p| p.into_inner());
            match local.get_mut(&(family, user)) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    local.remove(&(family, user));
                    true
                }
                None => false,
            }
        };
        if last {
            if let Some(redis) = &self.redis {
                let _ = redis
                    .query::<()>(redis::cmd("ZREM").arg(key(family)).arg(self.member(user)))
                    .await;
            }
            self.mark(family);
        }
    }

    /// Distinct users with a connection on this server.
    pub fn local_users(&self) -> usize {
        self.local
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .map(|(_, u)| *u)
            .collect::<HashSet<_>>()
            .len()
    }

    fn mark(&self, family: Uuid) {
        self.dirty
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(family);
    }

    fn local_online(&self, family: Uuid) -> BTreeSet<Uuid> {
        self.local
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|(f, _)| *f == family)
            .map(|(_, u)| *u)
            .collect()
    }

    /// Who of the family is online now, on any server.
    pub async fn online(&self, family: Uuid) -> BTreeSet<Uuid> {
        match self.list(family, false).await {
            Some(users) => users,
            None => self.local_online(family),
        }
    }

    /// The online list; with `announce`, `Some` only when it differs from the last announced.
    /// `None` too when Redis cannot answer.
    async fn list(&self, family: Uuid, announce: bool) -> Option<BTreeSet<Uuid>> {
        let Some(redis) = &self.redis else {
            let users = self.local_online(family);
            if announce {
                let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
                if announced.get(&family) == Some(&users) {
                    return None;
                }
                announced.insert(family, users.clone());
            }
            return Some(users);
        };
        let script = self
            .script
            .get_or_init(|| redis::Script::new(ONLINE_SCRIPT));
        let mut invocation = script.key(key(family));
        invocation
            .key(format!("{}:announced", key(family)))
            .arg(if announce { "1" } else { "0" });
        let list: Option<String> = redis.script(&invocation).await.ok()?;
        Some(
            list?
                .split(',')
                .filter_map(|u| Uuid::parse_str(u).ok())
                .collect(),
        )
    }

    /// Pushes this server's entries' expiry forward.
    async fn refresh(&self) {
        let Some(redis) = &self.redis else { return };
        let entries: Vec<(Uuid, Uuid)> = self
            .local
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied()
            .collect();
        for (family, user) in entries {
            self.stay(redis, family, user).await;
        }
    }
}

/// The presence event's text for a list.
pub fn event_data(users: &BTreeSet<Uuid>) -> String {
    serde_json::to_string(&PresenceData {
        online: users.iter().copied().collect(),
    })
    .unwrap_or_default()
}

/// Runs the refresher and the coalesced announcements for as long as the hub lives.
pub fn spawn(hub: Weak<Hub>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(COALESCE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_refresh = std::time::Instant::now();
        loop {
            tick.tick().await;
            let Some(hub) = hub.upgrade() else { return };
            let p = &hub.presence;
            if last_refresh.elapsed() >= REFRESH {
                last_refresh = std::time::Instant::now();
                p.refresh().await;
                // Entries of servers that died expire: recheck every family listened to here.
                for channel in hub.channel_names() {
                    if let Some(id) = channel
                        .strip_prefix("family:")
                        .and_then(|id| Uuid::parse_str(id).ok())
                    {
                        p.mark(id);
                    }
                }
            }
            let dirty: Vec<Uuid> = p
                .dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain()
                .collect();
            for family in dirty {
                if let Some(users) = p.list(family, true).await {
                    let channel = format!("family:{family}");
                    if let Err(e) = hub
                        .bus
                        .relay(&channel, EventKind::Presence, &event_data(&users))
                        .await
                    {
                        tracing::debug!(error = %e, "presence not announced");
                    }
                }
            }
        }
    });
}
