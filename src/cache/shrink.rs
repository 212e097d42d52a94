//! Making cached entries smaller when there is time. An entry is stored with a brotli form
//! made fast (quality 4), so that the request that missed is answered at once; then it is
//! offered here, and one background worker makes the brotli form again for size (quality
//! 11) and swaps it in, in L1 (only if the key still holds that very entry) and in Redis
//! (`SET … XX KEEPTTL`: only while the key lives, keeping its TTL). Rendered pages the same,
//! in process. The identity bytes never change, so a swapped entry answers exactly what the
//! old one did, in fewer bytes and with the new form's own ETag.
//!
//! The worker spends at most a quarter of one core (it rests three times as long as it
//! worked) and its queue is bounded: under a run of writes, entries that do not get their
//! turn keep their fast form, which is 3–20 % larger (BENCHMARKS.md, "Compressed entries").

use super::pages::{CachedPage, Pages};
use super::CachedResponse;
use crate::redis::link::RedisLink;
use moka::ops::compute::Op;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// Entries waiting for the worker; more are not offered until it catches up.
const QUEUE: usize = 256;

/// An entry to make smaller, with the key it was stored under.
pub enum Job {
    Entry {
        key: String,
        entry: Arc<CachedResponse>,
    },
    Page {
        key: String,
        page: Arc<CachedPage>,
    },
}

type Entries = moka::future::Cache<String, Arc<CachedResponse>, crate::FastHash>;

/// Where the worker swaps what it made.
pub struct Targets {
    pub l1: Option<Entries>,
    pub pages: Option<Pages>,
    pub redis: Option<RedisLink>,
    /// The per-thread fronts of L1 hold the old entry: retired after a swap.
    pub front: Arc<crate::cache::front::Front>,
}

pub struct Shrinker {
    jobs: mpsc::Sender<Job>,
}

impl Shrinker {
    /// Starts the worker (on the current Tokio runtime).
    pub fn spawn(targets: Targets) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(work(queue, targets));
        Self { jobs }
    }

    /// Offers an entry; dropped when the queue is full.
    pub fn offer(&self, job: Job) {
        let _ = self.jobs.try_send(job);
    }
}

async fn work(mut queue: mpsc::Receiver<Job>, targets: Targets) {
    while let Some(job) = queue.recv().await {
        let started = Instant::now();
        match job {
            Job::Entry { key, entry } => {
                let old = entry.clone();
                let Ok(Some(smaller)) = tokio::task::spawn_blocking(move || entry.smaller()).await
                else {
                    continue;
                };
                let smaller = Arc::new(smaller);
                if let Some(l1) = &targets.l1 {
                    if swap(l1, &key, &old, smaller.clone()).await {
                        targets.front.retire_all();
                    }
                }
                if let Some(redis) = &targets.redis {
                    let _ = redis
                        .query::<()>(
                            redis::cmd("SET")
                                .arg(&key)
                                .arg(smaller.encode())
                                .arg("XX")
                                .arg("KEEPTTL"),
                        )
                        .await;
                }
            }
            Job::Page { key, page } => {
                let old = page.clone();
                let Ok(Some(smaller)) = tokio::task::spawn_blocking(move || page.smaller()).await
                else {
                    continue;
                };
                if let Some(pages) = &targets.pages {
                    swap(pages, &key, &old, Arc::new(smaller)).await;
                }
            }
        }
        tokio::time::sleep(started.elapsed() * 3).await;
    }
}

/// Replaces `old` under `key` with `new`, only if `key` still holds `old`.
pub(crate) async fn swap<V: Send + Sync + 'static>(
    cache: &moka::future::Cache<String, Arc<V>, crate::FastHash>,
    key: &str,
    old: &Arc<V>,
    new: Arc<V>,
) -> bool {
    let old = old.clone();
    let result = cache
        .entry(key.to_string())
        .and_compute_with(move |current| {
            let same = current.is_some_and(|c| Arc::ptr_eq(c.value(), &old));
            std::future::ready(if same { Op::Put(new) } else { Op::Nop })
        })
        .await;
    matches!(result, moka::ops::compute::CompResult::ReplacedWith(_))
}
