//! A per-thread front for a shared in-process cache (moka): each thread keeps the few
//! entries it served last and answers them again without asking the shared cache, whose
//! bookkeeping of every read (access order, expiry clock) is memory both cores write. On a
//! run of cached reads that bookkeeping cost more than any other part of the cache
//! (BENCHMARKS.md, cache run 9).
//!
//! A front never serves longer than its cache would: the caller says which entries are still
//! usable (their own expiry travels with them), and every invalidation of the cache retires
//! what all the fronts hold (`retire_all` bumps a generation, read before the shared cache is
//! asked, so an entry read before an invalidation is never kept under the generation after it).

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Entries a thread keeps, over all the fronts of the process (the oldest goes first).
const PER_THREAD: usize = 16;

pub struct Front {
    /// Tells this cache's entries from another's (a test process runs several servers).
    id: u64,
    generation: AtomicU64,
}

struct Slot {
    front: u64,
    generation: u64,
    key: Box<str>,
    value: Box<dyn Any>,
}

thread_local! {
    static SLOTS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

impl Default for Front {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }
}

impl Front {
    /// The generation to read under: taken before the shared cache is asked.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The cache was invalidated (wholly or in part): nothing the fronts hold is used again.
    pub fn retire_all(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// This thread's entry for `key`, if it was kept under `generation` and is `usable`.
    pub fn get<V: Clone + 'static>(
        &self,
        key: &str,
        generation: u64,
        usable: impl FnOnce(&V) -> bool,
    ) -> Option<V> {
        SLOTS.with_borrow(|slots| {
            slots
                .iter()
                .find(|s| s.front == self.id && s.generation == generation && *s.key == *key)
                .and_then(|s| s.value.downcast_ref::<V>())
                .filter(|v| usable(v))
                .cloned()
        })
    }

    /// Keeps what the shared cache answered for `key` (read under `generation`).
    pub fn keep<V: 'static>(&self, key: &str, generation: u64, value: V) {
        SLOTS.with_borrow_mut(|slots| {
            slots.retain(|s| !(s.front == self.id && *s.key == *key));
            if slots.len() >= PER_THREAD {
                slots.remove(0);
            }
            slots.push(Slot {
                front: self.id,
                generation,
                key: key.into(),
                value: Box::new(value),
            });
        });
    }

    #[cfg(test)]
    fn held(&self) -> usize {
        SLOTS.with_borrow(|slots| slots.iter().filter(|s| s.front == self.id).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_front_answers_its_thread_until_retired_and_keeps_a_bounded_few() {
        let front = Front::default();
        let g = front.generation();
        assert_eq!(front.get::<u32>("a", g, |_| true), None);
        front.keep("a", g, 7u32);
        assert_eq!(front.get::<u32>("a", g, |_| true), Some(7));
        assert_eq!(front.get::<u32>("a", g, |v| *v > 7), None, "not usable");
        assert_eq!(front.get::<String>("a", g, |_| true), None, "another type");
        let other = std::thread::scope(|s| s.spawn(|| front.get::<u32>("a", g, |_| true)).join());
        assert_eq!(other.unwrap(), None, "each thread has its own");
        assert_eq!(
            Front::default().get::<u32>("a", 0, |_| true),
            None,
            "and each front"
        );

        front.retire_all();
        let g2 = front.generation();
        assert_eq!(front.get::<u32>("a", g2, |_| true), None, "retired");
        // Kept under the generation before the retirement: never answered after it.
        front.keep("b", g, 1u32);
        assert_eq!(front.get::<u32>("b", front.generation(), |_| true), None);

        for i in 0..(PER_THREAD * 2) {
            front.keep(&format!("k{i}"), g2, i);
        }
        assert_eq!(front.held(), PER_THREAD);
        assert_eq!(
            front.get::<usize>(&format!("k{}", PER_THREAD * 2 - 1), g2, |_| true),
            Some(PER_THREAD * 2 - 1)
        );
        assert_eq!(
            front.get::<usize>("k0", g2, |_| true),
            None,
            "the oldest went first"
        );
    }
}
