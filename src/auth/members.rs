//! Signed-in family members by session id, for a few seconds, so the hot read path needs no
//! session or database lookup. Only successful lookups are kept, and sign-out on this server
//! drops its entry at once; a sign-out on another server takes effect here within
//! [`MEMBER_TTL`].
//!
//! moka holds the entries for the process. In front of it each thread keeps the few members
//! it served last: a request for a session the thread has just served reads memory no other
//! core writes (moka's own bookkeeping of every read does: a thread-local front took 7 % more
//! cached reads per second out of the same two cores, BENCHMARKS.md cache run 9). A front
//! entry lives no longer than the entry it copies (both carry the time it was read from the
//! store), and every invalidation bumps a generation that retires all the fronts' entries.

use super::FamilyMember;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const MEMBER_TTL: Duration = Duration::from_secs(5);

/// How many members a thread keeps in front of the shared cache.
const FRONT: usize = 8;

pub struct MemberCache {
    /// Tells this cache's entries from another's in a thread's front (a test process runs
    /// several servers).
    id: u64,
    shared: moka::sync::Cache<String, Stamped, crate::FastHash>,
    /// Bumped by every invalidation: what the fronts hold from before is not used again.
    generation: AtomicU64,
}

#[derive(Clone)]
struct Stamped {
    member: FamilyMember,
    /// When it was read from the store.
    at: Instant,
}

struct Front {
    cache: u64,
    generation: u64,
    session: Box<str>,
    entry: Stamped,
}

thread_local! {
    static FRONTS: RefCell<Vec<Front>> = const { RefCell::new(Vec::new()) };
}

impl Default for MemberCache {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shared: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(MEMBER_TTL)
                .build_with_hasher(crate::FastHash::default()),
            generation: AtomicU64::new(0),
        }
    }
}

impl MemberCache {
    /// The member signed in with `session`, if known and read from the store less than
    /// [`MEMBER_TTL`] before `now`.
    pub fn get(&self, session: &str, now: Instant) -> Option<FamilyMember> {
        let generation = self.generation.load(Ordering::Acquire);
        let current = |entry: &Stamped| now.saturating_duration_since(entry.at) < MEMBER_TTL;
        let near = FRONTS.with_borrow(|fronts| {
            fronts
                .iter()
                .find(|f| {
                    f.cache == self.id && f.generation == generation && *f.session == *session
                })
                .filter(|f| current(&f.entry))
                .map(|f| f.entry.member.clone())
        });
        if near.is_some() {
            return near;
        }
        let entry = self.shared.get(session).filter(current)?;
        let member = entry.member.clone();
        FRONTS.with_borrow_mut(|fronts| {
            fronts.retain(|f| !(f.cache == self.id && *f.session == *session));
            if fronts.len() >= FRONT {
                fronts.remove(0);
            }
            fronts.push(Front {
                cache: self.id,
                generation,
                session: session.into(),
                entry,
            });
        });
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
        self.generation.fetch_add(1, Ordering::Release);
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

    #[test]
    fn a_thread_keeps_only_its_last_few_members_in_front() {
        let cache = MemberCache::default();
        let now = Instant::now();
        for i in 0..(FRONT * 2) {
            cache.insert(format!("s{i}"), member(&format!("m{i}")));
            assert!(cache.get(&format!("s{i}"), now).is_some());
        }
        let kept = FRONTS.with_borrow(|f| f.iter().filter(|f| f.cache == cache.id).count());
        assert_eq!(kept, FRONT);
        // The ones pushed out of the front are still in the shared cache.
        assert_eq!(cache.get("s0", now).unwrap().user.display_name, "m0");
    }
}
