//! Signed-in family members by session id, for a few seconds, so the hot read path needs no
//! session or database lookup. Only successful lookups are kept, and sign-out on this server
//! drops its entry at once; a sign-out on another server takes effect here within
//! [`MEMBER_TTL`]. moka holds the entries, with a per-thread front (`crate::cache::front`) before
//! it for the sessions a thread has just served: a thread-local front took 7 % more cached
//! reads per second out of the same two cores (BENCHMARKS.md, cache run 9).

use super::FamilyMember;
use crate::cache::front::Front;
use std::time::{Duration, Instant};

pub const MEMBER_TTL: Duration = Duration::from_secs(5);

pub struct MemberCache {
    shared: moka::sync::Cache<String, Stamped, crate::FastHash>,
    front: Front,
}

#[derive(Clone)]
struct Stamped {
    member: FamilyMember,
    /// When it was read from the store: a front copy expires with the entry it copies.
    at: Instant,
}

impl Default for MemberCache {
    fn default() -> Self {
        Self {
            shared: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(MEMBER_TTL)
                .build_with_hasher(crate::FastHash::default()),
            front: Front::default(),
        }
    }
}

impl MemberCache {
    /// The member signed in with `session`, if known and read from the store less than
    /// [`MEMBER_TTL`] before `now`.
    pub fn get(&self, session: &str, now: Instant) -> Option<FamilyMember> {
        let current = |entry: &Stamped| now.saturating_duration_since(entry.at) < MEMBER_TTL;
        let generation = self.front.generation();
        if let Some(entry) = self.front.get(session, generation, current) {
            return Some(entry.member);
        }
        let entry = self.shared.get(session).filter(current)?;
        let member = entry.member.clone();
        self.front.keep(session, generation, entry);
        Some(member)
    }

    /// Keeps a member just read from the store.
    pub fn insert(&self, session: String, member: FamilyMember) {
        let at = Instant::now();
        self.shared.insert(session, Stamped { member, at });
    }

    /// Forgets a session (sign-out, a new session replacing it), in every thread's front too.
    pub fn invalidate(&self, session: &str) {
        self.shared.invalidate(session);
        self.front.retire_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FamilyRecord, UserRecord};
    use app::model::Role;

    fn member(name: &str) -> FamilyMember {
        let family = uuid::Uuid::new_v4();
        let user = UserRecord {
            id: uuid::Uuid::new_v4(),
            email: format!("{name}@example.org"),
            display_name: name.into(),
            password_hash: String::new(),
            family_id: Some(family),
            role: Some(Role::Owner),
            created_at_ms: 0,
        };
        let family = FamilyRecord {
            id: family,
            name: "Tests".into(),
            currency: "EUR".into(),
            timezone: "UTC".into(),
            invite_code: "ABCDEFGHJK".into(),
            created_at_ms: 0,
        };
        FamilyMember::new(user, family, Role::Owner)
    }

    #[test]
    fn members_are_kept_for_their_time_and_forgotten_everywhere_on_invalidation() {
        let cache = MemberCache::default();
        let now = Instant::now();
        assert!(cache.get("s1", now).is_none());
        cache.insert("s1".into(), member("ann"));
        let ann = cache.get("s1", now).expect("kept");
        assert_eq!(ann.user.display_name, "ann");
        // Served from this thread's front now, and still only within its time.
        assert!(cache.get("s1", now).is_some());
        let later = Instant::now() + MEMBER_TTL;
        assert!(cache.get("s1", later).is_none(), "expired");

        // Sign-out: gone from the front of every thread, this one included.
        let other =
            std::thread::scope(|s| s.spawn(|| cache.get("s1", now).is_some()).join().unwrap());
        assert!(other, "another thread reads it too");
        cache.invalidate("s1");
        assert!(cache.get("s1", now).is_none());
        let other =
            std::thread::scope(|s| s.spawn(|| cache.get("s1", now).is_some()).join().unwrap());
        assert!(!other);

        // Another cache (another server in the same process) never sees this one's members.
        cache.insert("s2".into(), member("bob"));
        assert!(cache.get("s2", now).is_some());
        assert!(MemberCache::default().get("s2", now).is_none());
    }
}
