//! The two-level cache: an in-process L1 (moka) in front of Redis (L2), invalidated by tag
//! versions. A cached value's key holds the version of its family's tag; a mutation bumps
//! the version after its commit, so every server's next read misses the old entries without
//! any key scan. Embedded mode keeps the versions in process.
//!
//! With Redis, the bump (`INCR`) and its announcement (`PUBLISH hearth:invalidate`) are one
//! script, so every server's subscriber hears of a new version before the writer is even
//! answered; a server serves L1 hits from the versions it heard of, with no Redis round trip.
//! A version it has not heard of yet is read with one `GET` and then followed by pub/sub.
//! Whenever its subscription was interrupted, a server forgets every version it learnt and
//! flushes L1, since it may have missed announcements.
//!
//! While a configured Redis is down the versions cannot be checked: L1 entries are served as
//! `STALE`, misses go to the database uncached (`BYPASS`), and the bumps Redis missed are
//! replayed when it returns.
//!
//! Every entry has its data type's TTL (see [`ttl_for`]); an L1 hit on an entry in the last
//! fifth of its life is served and refreshed in the background (stale-while-revalidate), so
//! hot entries do not expire under load.

pub mod coding;
pub mod front;
pub mod pages;
pub mod shrink;
pub mod stats;

use crate::redis::link::RedisLink;
use crate::redis::pubsub::{Delivery, Subscriber};
use axum::http::HeaderValue;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Where tag bumps are announced.
const INVALIDATE_CHANNEL: &str = "hearth:invalidate";

/// `INCR` the tag version and announce it, in one step.
const BUMP_SCRIPT: &str = r#"
local v = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. v)
return v
"#;

/// The paths of the cached reads the front door answers: static paths, whose path is their
/// route template. (Insights are not among them: their rate limit counts every request.)
pub mod paths {
    pub const CATEGORIES: &str = "/api/categories";
    pub const BUDGETS: &str = "/api/budgets";
    pub const EXPENSES: &str = "/api/expenses";
    pub const FRONT_DOOR: [&str; 3] = [CATEGORIES, BUDGETS, EXPENSES];
}

/// The TTL of each data type, from the configured default: categories change rarely, budgets and expenses are the hot path, insights are heavy and read seldom.
pub fn ttl_for(route: &str, default: Duration) -> Duration {
    match route {
        "/api/categories" => default * 4,
        "/api/insights" => default / 4,
        _ => default,
    }
}

/// Identity bodies above this size are stored lz4-compressed in Redis.
const COMPRESS_ABOVE: usize = 1024;

/// The framing of the entries in Redis, part of every key: bumped whenever `encode` changes,
/// so that during a rolling upgrade servers of two versions never read each other's entries
/// (an older server would take the compressed forms for the body).
const ENTRY_FORMAT: &str = "e2";

/// The `encode` flags: the identity body is lz4-compressed; the compressed forms follow;
/// the brotli form was made for size ([`coding::Level::Small`]).
const FLAG_LZ4: u8 = 1;
const FLAG_FORMS: u8 = 2;
const FLAG_SMALL: u8 = 4;

/// One cached HTTP response (only 200s without `Set-Cookie` are cached), in each content
/// coding it is sent in (see [`coding`]).
#[derive(Clone, Debug)]
pub struct CachedResponse {
    /// Header values, validated once when stored rather than on every hit.
    pub content_type: HeaderValue,
    pub etag: HeaderValue,
    /// The identity bytes. Shared, so a hit answers without copying the body.
    pub body: axum::body::Bytes,
    /// The brotli and gzip forms, compressed when the entry was made (brotli again, for
    /// size, by the [`shrink::Shrinker`]).
    pub br: coding::Encoded,
    pub gzip: coding::Encoded,
    pub level: coding::Level,
    /// How long it lives (its data type's TTL).
    pub ttl: Duration,
    /// When this server stored or loaded it.
    pub created: Instant,
}

/// Equal content; when and for how long it was stored do not matter.
impl PartialEq for CachedResponse {
    fn eq(&self, other: &Self) -> bool {
        self.content_type == other.content_type
            && self.etag == other.etag
            && self.body == other.body
            && self.br == other.br
            && self.gzip == other.gzip
    }
}

impl CachedResponse {
    /// An entry for `body`, with its compressed forms (made fast).
    pub fn new(content_type: HeaderValue, body: axum::body::Bytes, ttl: Duration) -> Self {
        let etag = etag_of(&body);
        let fast = coding::Level::Fast;
        CachedResponse {
            br: coding::Encoded::of(&body, &etag, coding::Coding::Br, fast),
            gzip: coding::Encoded::of(&body, &etag, coding::Coding::Gzip, fast),
            level: fast,
            content_type,
            etag,
            body,
            ttl,
            created: Instant::now(),
        }
    }

    /// A JSON body as the API answers it, with its strong ETag.
    pub fn json(body: Vec<u8>, ttl: Duration) -> Self {
        Self::new(
            HeaderValue::from_static("application/json"),
            body.into(),
            ttl,
        )
    }

    /// The same entry with its brotli form made for size; `None` when it was already, or
    /// when that form is no smaller.
    pub fn smaller(&self) -> Option<Self> {
        if self.level == coding::Level::Small {
            return None;
        }
        let small = coding::Level::Small;
        let br = coding::Encoded::of(&self.body, &self.etag, coding::Coding::Br, small);
        (br.body.len() < self.br.body.len()).then(|| CachedResponse {
            br,
            level: small,
            ..self.clone()
        })
    }

    /// The representation in `coding`: its bytes and ETag.
    pub fn representation(&self, coding: coding::Coding) -> (&axum::body::Bytes, &HeaderValue) {
        match coding {
            coding::Coding::Identity => (&self.body, &self.etag),
            coding::Coding::Br => (&self.br.body, &self.br.etag),
            coding::Coding::Gzip => (&self.gzip.body, &self.gzip.etag),
        }
    }

    /// Bytes held in memory, all representations together (L1's weigher).
    pub fn weight(&self) -> usize {
        self.body.len() + self.br.body.len() + self.gzip.body.len() + 192
    }

    /// In the last fifth of its life: serve it, but compute a fresh one in the background.
    pub fn wants_refresh(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.created) > self.ttl / 5 * 4
    }

    /// Compact framing for Redis: flags, content type and ETag, the brotli and gzip forms as
    /// they are (already compressed), each length-prefixed, then the identity body (lz4 with
    /// its size prepended when large).
    pub fn encode(&self) -> Vec<u8> {
        let compressed = self.body.len() > COMPRESS_ABOVE;
        let mut out = Vec::with_capacity(
            self.body.len() / 2 + self.br.body.len() + self.gzip.body.len() + 64,
        );
        let small = self.level == coding::Level::Small;
        out.push(
            FLAG_FORMS | if compressed { FLAG_LZ4 } else { 0 } | if small { FLAG_SMALL } else { 0 },
        );
        for s in [
            self.content_type.as_bytes(),
            self.etag.as_bytes(),
            &self.br.body,
            &self.gzip.body,
        ] {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s);
        }
        if compressed {
            out.extend_from_slice(&lz4_flex::compress_prepend_size(&self.body));
        } else {
            out.extend_from_slice(&self.body);
        }
        out
    }

    /// Reads what `encode` wrote (entries of another framing live under other keys: see
    /// [`ENTRY_FORMAT`]).
    pub fn decode(bytes: &[u8], ttl: Duration) -> Option<Self> {
        let (&flags, mut rest) = bytes.split_first()?;
        if flags & !(FLAG_LZ4 | FLAG_FORMS | FLAG_SMALL) != 0 || flags & FLAG_FORMS == 0 {
            return None;
        }
        let level = if flags & FLAG_SMALL != 0 {
            coding::Level::Small
        } else {
            coding::Level::Fast
        };
        let mut field = || -> Option<&[u8]> {
            let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            let s = rest.get(4..4 + len)?;
            rest = &rest[4 + len..];
            Some(s)
        };
        let content_type = HeaderValue::from_bytes(field()?).ok()?;
        let etag = HeaderValue::from_bytes(field()?).ok()?;
        let br = axum::body::Bytes::copy_from_slice(field()?);
        let gzip = axum::body::Bytes::copy_from_slice(field()?);
        let body: axum::body::Bytes = if flags & FLAG_LZ4 != 0 {
            lz4_flex::decompress_size_prepended(rest).ok()?
        } else {
            rest.to_vec()
        }
        .into();
        Some(CachedResponse {
            br: coding::Encoded::with(br, &etag, coding::Coding::Br, level),
            gzip: coding::Encoded::with(gzip, &etag, coding::Coding::Gzip, level),
            content_type,
            etag,
            body,
            level,
            ttl,
            created: Instant::now(),
        })
    }
}

/// A strong validator: a hash of the body and its length.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    HeaderValue::from_str(&format!("\"{:016x}-{:x}\"", h.finish(), body.len()))
        .expect("hex digits and quotes are a valid header value")
}

/// A key without its version and day: where the last good answer of that request is kept.
fn fallback_key(key: &str) -> String {
    let is_version = |p: &str| {
        p.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let is_day = |p: &str| {
        p.strip_prefix('d')
            .is_some_and(|d| app::model::parse_day(d).is_some())
    };
    key.split(':')
        .filter(|part| !is_version(part) && !is_day(part))
        .collect::<Vec<_>>()
        .join(":")
}

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Redis is configured and answering (or Hearth is embedded): versions are current.
    Current(u64),
    /// Redis is down: the last version this server knew.
    Degraded(u64),
}

pub struct Cache {
    l1: moka::future::Cache<String, Arc<CachedResponse>, crate::FastHash>,
    l1_enabled: bool,
    redis: Option<RedisLink>,
    /// Tag versions: authoritative when embedded; with Redis, the ones heard of since the
    /// subscription last (re)started (and, while Redis is down, the last ones known).
    versions: Mutex<HashMap<String, u64, crate::FastHash>>,
    /// Bumped at every (re)subscription: a `GET` that started before one must not be kept.
    generation: AtomicU64,
    subscriber: OnceLock<Subscriber>,
    /// Keys being refreshed in the background (stale-while-revalidate), so each refreshes once.
    refreshing: Mutex<HashSet<String>>,
    /// Tags bumped while Redis was down, replayed when it returns (or when one is read
    /// first); `owing` says, without the lock, whether any are left.
    missed_bumps: Mutex<HashSet<String>>,
    owing: AtomicBool,
    ttl: Duration,
    /// The last good answer per key without version and day, for stale-if-error.
    last_good: moka::future::Cache<String, Arc<CachedResponse>, crate::FastHash>,
    pub stats: stats::CacheStats,
    /// Each thread's last few L1 entries (`crate::cache::front`); retired with every invalidation.
    front: Arc<crate::cache::front::Front>,
    /// Makes stored entries' brotli forms again for size, in the background.
    shrinker: shrink::Shrinker,
    /// Rendered pages ([`pages`]), beside L1 and flushed with it; `None` when L1 is off.
    pub pages: Option<pages::Pages>,
}

/// L1 entries live for their own TTL.
struct EntryTtl;

impl moka::Expiry<String, Arc<CachedResponse>> for EntryTtl {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Arc<CachedResponse>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    /// A replaced entry (a refresh) starts a whole new life.
    fn expire_after_update(
        &self,
        _key: &String,
        value: &Arc<CachedResponse>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// A family's tag, `family:<id>`, kept on the stack: every cached request builds one.
pub struct FamilyTag([u8; FAMILY_TAG_LEN]);

const FAMILY_TAG_LEN: usize = "family:".len() + uuid::fmt::Hyphenated::LENGTH;

impl std::ops::Deref for FamilyTag {
    type Target = str;

    fn deref(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

pub fn family_tag(family: Uuid) -> FamilyTag {
    let mut tag = [0; FAMILY_TAG_LEN];
    let (prefix, id) = tag.split_at_mut("family:".len());
    prefix.copy_from_slice(b"family:");
    family.as_hyphenated().encode_lower(id);
    FamilyTag(tag)
}

/// Appends `day` as `YYYY-MM-DD` (what `Display` writes), without the formatting machinery.
fn push_day(out: &mut String, day: chrono::NaiveDate) {
    use chrono::Datelike as _;
    let year = day.year();
    if !(1000..=9999).contains(&year) {
        use std::fmt::Write as _;
        let _ = write!(out, "{day}");
        return;
    }
    out.push_str(itoa::Buffer::new().format(year));
    for part in [day.month(), day.day()] {
        out.push('-');
        out.push(char::from(b'0' + (part / 10) as u8));
        out.push(char::from(b'0' + (part % 10) as u8));
    }
}

/// Keys carry the family in a hash tag so that a family's keys share a Cluster slot.
fn tag_key(tag: &str) -> String {
    match tag.strip_prefix("family:") {
        Some(id) => format!("hearth:tag:{{f:{id}}}:family"),
        None => format!("hearth:tag:{{{tag}}}"),
    }
}

impl Cache {
    pub fn new(redis: Option<RedisLink>, ttl: Duration, l1_max_bytes: u64) -> Arc<Self> {
        let l1 = moka::future::Cache::builder()
            .max_capacity(l1_max_bytes)
            .weigher(|k: &String, v: &Arc<CachedResponse>| {
                (k.len() + v.weight()).try_into().unwrap_or(u32::MAX)
            })
            .expire_after(EntryTtl)
            .build_with_hasher(crate::FastHash::default());
        let pages = (l1_max_bytes > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(l1_max_bytes / 2)
                .weigher(|k: &String, v: &Arc<pages::CachedPage>| {
                    (k.len() + v.weight()).try_into().unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build_with_hasher(crate::FastHash::default())
        });
        let front = Arc::new(crate::cache::front::Front::default());
        let shrinker = shrink::Shrinker::spawn(shrink::Targets {
            l1: (l1_max_bytes > 0).then(|| l1.clone()),
            pages: pages.clone(),
            redis: redis.clone(),
            front: front.clone(),
        });
        let cache = Arc::new(Cache {
            l1,
            l1_enabled: l1_max_bytes > 0,
            redis,
            versions: Mutex::new(HashMap::default()),
            generation: AtomicU64::new(0),
            subscriber: OnceLock::new(),
            refreshing: Mutex::new(HashSet::new()),
            missed_bumps: Mutex::new(HashSet::new()),
            owing: AtomicBool::new(false),
            ttl,
            last_good: moka::future::Cache::builder()
                .max_capacity(l1_max_bytes / 4)
                .weigher(|k: &String, v: &Arc<CachedResponse>| {
                    (k.len() + v.weight()).try_into().unwrap_or(u32::MAX)
                })
                .time_to_live(ttl * 24)
                .build_with_hasher(crate::FastHash::default()),
            stats: stats::CacheStats::default(),
            front,
            shrinker,
            pages,
        });
        if let Some(link) = &cache.redis {
            let weak = Arc::downgrade(&cache);
            let handler: crate::redis::pubsub::Handler = Arc::new(move |delivery| {
                if let Some(cache) = weak.upgrade() {
                    cache.heard(delivery);
                }
            });
            let subscriber =
                Subscriber::spawn(link.clone(), vec![INVALIDATE_CHANNEL.to_string()], handler);
            let _ = cache.subscriber.set(subscriber);
            let mut changes = link.subscribe_changes();
            let weak = Arc::downgrade(&cache);
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let up = *changes.borrow_and_update();
                    let Some(cache) = weak.upgrade() else { return };
                    if up {
                        cache.heal().await;
                    }
                }
            });
        }
        cache
    }

    /// `CACHE_DEFAULT_TTL`.
    pub fn default_ttl(&self) -> Duration {
        self.ttl
    }

    pub fn redis(&self) -> Option<&RedisLink> {
        self.redis.as_ref()
    }

    pub async fn l1_entries(&self) -> u64 {
        // moka counts lazily; settle the pending inserts first.
        self.l1.run_pending_tasks().await;
        self.l1.entry_count()
    }

    /// What the subscriber heard: a new version of a tag, or that it (re)subscribed.
    fn heard(&self, delivery: Delivery<'_>) {
        match delivery {
            Delivery::Message { payload, .. } => {
                let Some((tag, version)) = std::str::from_utf8(payload)
                    .ok()
                    .and_then(|p| p.rsplit_once(' '))
                    .and_then(|(tag, v)| Some((tag, v.parse::<u64>().ok()?)))
                else {
                    return;
                };
                let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
                match versions.get_mut(tag) {
                    Some(known) => *known = (*known).max(version),
                    None => {
                        versions.insert(tag.to_string(), version);
                    }
                }
            }
            Delivery::Resynced => {
                let first = self.generation.fetch_add(1, Ordering::AcqRel) == 0;
                self.versions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clear();
                if !first {
                    self.flush_l1();
                    tracing::info!("invalidation stream resumed: versions forgotten, L1 flushed");
                }
            }
        }
    }

    /// Redis is back: replay the bumps it missed and forget what L1 learnt meanwhile.
    async fn heal(&self) {
        let missed: Vec<String> = self
            .missed_bumps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        for tag in missed {
            self.bump(&tag).await;
        }
        self.flush_l1();
        tracing::info!("cache healed after a Redis outage");
    }

    /// Drops everything held in process: L1, the threads' fronts and the rendered pages.
    fn flush_l1(&self) {
        self.l1.invalidate_all();
        self.front.retire_all();
        if let Some(pages) = &self.pages {
            pages.invalidate_all();
        }
    }

    /// Whether Redis missed the tag's last bump.
    fn owes(&self, tag: &str) -> bool {
        self.owing.load(Ordering::Acquire)
            && self
                .missed_bumps
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(tag)
    }

    fn known_version(&self, tag: &str) -> Option<u64> {
        self.versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(tag)
            .copied()
    }

    /// Keeps `version` unless a newer one is known.
    fn learn(&self, tag: &str, version: u64) {
        let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
        let known = versions.entry(tag.to_string()).or_insert(version);
        *known = (*known).max(version);
    }

    fn subscribed(&self) -> bool {
        self.subscriber.get().is_some_and(Subscriber::is_live)
    }

    /// The tag's version when it is known without asking Redis (embedded, Redis down, or
    /// heard of since the subscription started): the common case, and no future to await.
    pub fn version_at_hand(&self, tag: &str) -> Option<Lookup> {
        let Some(redis) = &self.redis else {
            return Some(Lookup::Current(self.known_version(tag).unwrap_or(0)));
        };
        if !redis.is_up() {
            return Some(Lookup::Degraded(self.known_version(tag).unwrap_or(0)));
        }
        if self.owes(tag) {
            return None; // Redis's version is behind until the missed bump is replayed
        }
        if self.subscribed() {
            return self.known_version(tag).map(Lookup::Current);
        }
        None
    }

    /// The tag's current version.
    pub async fn version(&self, tag: &str) -> Lookup {
        if self.owes(tag) && self.redis.as_ref().is_some_and(|r| r.is_up()) {
            // Redis is back but has not had this tag's bump yet (the heal may still be on
            // its way): replay it before any read trusts Redis's version.
            if let Some(v) = self.bump(tag).await {
                return Lookup::Current(v);
            }
        }
        if let Some(lookup) = self.version_at_hand(tag) {
            return lookup;
        }
        let Some(redis) = &self.redis else {
            return Lookup::Current(0);
        };
        let generation = self.generation.load(Ordering::Acquire);
        match redis
            .query::<Option<u64>>(redis::cmd("GET").arg(tag_key(tag)))
            .await
        {
            Ok(v) => {
                let v = v.unwrap_or(0);
                // Followed from now on, unless the subscription restarted meanwhile (then the
                // value may predate a bump the new subscription will never announce).
                if self.subscribed() && self.generation.load(Ordering::Acquire) == generation {
                    self.learn(tag, v);
                }
                Lookup::Current(v)
            }
            Err(_) => Lookup::Degraded(self.known_version(tag).unwrap_or(0)),
        }
    }

    /// Invalidates everything cached under the tag, on every server. Returns the new
    /// version, or `None` when Redis missed the bump (it is replayed when Redis returns).
    pub async fn bump(&self, tag: &str) -> Option<u64> {
        let Some(redis) = &self.redis else {
            let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
            let v = versions.entry(tag.to_string()).or_insert(0);
            *v += 1;
            return Some(*v);
        };
        static SCRIPT: OnceLock<redis::Script> = OnceLock::new();
        let script = SCRIPT.get_or_init(|| redis::Script::new(BUMP_SCRIPT));
        let mut invocation = script.key(tag_key(tag));
        invocation.arg(INVALIDATE_CHANNEL).arg(tag);
        match redis.script::<u64>(&invocation).await {
            Ok(v) => {
                self.learn(tag, v);
                if self.owing.load(Ordering::Acquire) {
                    let mut missed = self.missed_bumps.lock().unwrap_or_else(|p| p.into_inner());
                    missed.remove(tag);
                    self.owing.store(!missed.is_empty(), Ordering::Release);
                }
                Some(v)
            }
            Err(e) => {
                tracing::warn!(error = %e, tag, "tag bump missed Redis; replayed on recovery");
                // This server at least stops serving what it holds for the tag.
                let mut versions = self.versions.lock().unwrap_or_else(|p| p.into_inner());
                *versions.entry(tag.to_string()).or_insert(0) += 1;
                drop(versions);
                let mut missed = self.missed_bumps.lock().unwrap_or_else(|p| p.into_inner());
                missed.insert(tag.to_string());
                self.owing.store(true, Ordering::Release);
                None
            }
        }
    }

    /// Marks `key` as being refreshed; false when a refresh of it is already running.
    pub(crate) fn start_refresh(&self, key: &str) -> bool {
        self.refreshing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string())
    }

    pub(crate) fn end_refresh(&self, key: &str) {
        self.refreshing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// L1's entry for `key`. The thread's front answers an entry in the first four fifths
    /// of its life; after that L1 itself is asked (a refresh may have replaced the entry).
    pub async fn get_l1(&self, key: &str, now: Instant) -> Option<Arc<CachedResponse>> {
        if !self.l1_enabled {
            return None;
        }
        let generation = self.front.generation();
        let young = |entry: &Arc<CachedResponse>| !entry.wants_refresh(now);
        if let Some(entry) = self.front.get(key, generation, young) {
            return Some(entry);
        }
        let entry = self.l1.get(key).await?;
        self.front.keep(key, generation, entry.clone());
        Some(entry)
    }

    pub async fn get_l2(&self, key: &str, ttl: Duration) -> Option<Arc<CachedResponse>> {
        let redis = self.redis.as_ref()?;
        let bytes: Option<Vec<u8>> = redis.query(redis::cmd("GET").arg(key)).await.ok()?;
        let value = Arc::new(CachedResponse::decode(&bytes?, ttl)?);
        if self.l1_enabled {
            self.l1.insert(key.to_string(), value.clone()).await;
        }
        Some(value)
    }

    /// Stores in both levels; the Redis TTL gets ±10 % jitter so entries do not expire together.
    pub async fn put(&self, key: &str, value: Arc<CachedResponse>) {
        if self.l1_enabled {
            self.l1.insert(key.to_string(), value.clone()).await;
            self.last_good
                .insert(fallback_key(key), value.clone())
                .await;
        }
        if let Some(redis) = &self.redis {
            let base = value.ttl.as_millis() as u64;
            let jitter = rand::random::<u64>() % (base / 5 + 1);
            let ttl_ms = base - base / 10 + jitter;
            let _ = redis
                .query::<()>(
                    redis::cmd("SET")
                        .arg(key)
                        .arg(value.encode())
                        .arg("PX")
                        .arg(ttl_ms),
                )
                .await;
        }
        self.shrinker.offer(shrink::Job::Entry {
            key: key.to_string(),
            entry: value,
        });
    }

    /// Offers a page just stored to be made smaller in the background.
    pub(crate) fn shrink_page(&self, key: String, page: Arc<pages::CachedPage>) {
        self.shrinker.offer(shrink::Job::Page { key, page });
    }

    /// The last good answer for `key`'s request, whatever version or day it was for.
    pub async fn last_good(&self, key: &str) -> Option<Arc<CachedResponse>> {
        self.last_good.get(&fallback_key(key)).await
    }

    /// Loads `key` into L1 with `init`, once for all concurrent callers (single-flight).
    pub(crate) async fn l1_load<E: Send + Sync + 'static>(
        &self,
        key: &str,
        init: impl std::future::Future<Output = Result<Arc<CachedResponse>, E>>,
    ) -> Result<Arc<CachedResponse>, Arc<E>> {
        self.l1.try_get_with(key.to_string(), init).await
    }

    /// Clears one tag (by bumping it) or everything this server caches plus every tag
    /// version it knows. Returns how many L1 entries were dropped.
    pub async fn clear(&self, tag: Option<&str>) -> u64 {
        self.l1.run_pending_tasks().await;
        let before = self.l1.entry_count();
        match tag {
            Some(tag) => {
                self.bump(tag).await;
                let scope = match tag.strip_prefix("family:") {
                    Some(id) => format!("{{f:{id}}}"),
                    None => tag.to_string(),
                };
                let keys: Vec<String> = self
                    .l1
                    .iter()
                    .filter(|(k, _)| k.contains(&scope))
                    .map(|(k, _)| (*k).clone())
                    .collect();
                for k in &keys {
                    self.l1.invalidate(k).await;
                }
                self.front.retire_all();
                return keys.len() as u64;
            }
            None => {
                let tags: Vec<String> = self
                    .versions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .keys()
                    .cloned()
                    .collect();
                for tag in tags {
                    self.bump(&tag).await;
                }
                self.flush_l1();
            }
        }
        self.l1.run_pending_tasks().await;
        before.saturating_sub(self.l1.entry_count())
    }

    /// The cache key of a family-scoped response: method, route, sorted query, family and
    /// the family's tag version.
    pub fn key(
        family: Uuid,
        version: u64,
        day: chrono::NaiveDate,
        route: &str,
        query: Option<&str>,
    ) -> String {
        let query = query.unwrap_or("");
        // Already in order (the common case: one parameter): the query is the key as it is.
        let sorted = query
            .split('&')
            .zip(query.split('&').skip(1))
            .all(|(a, b)| a <= b);
        let normalized;
        let query = if sorted {
            query
        } else {
            let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            pairs.sort();
            normalized = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            &normalized
        };
        // Written piece by piece: this runs on every cached request.
        let mut key = String::with_capacity(80 + route.len() + query.len());
        key.push_str("hearth:cache:{f:");
        key.push_str(
            family
                .as_hyphenated()
                .encode_lower(&mut Uuid::encode_buffer()),
        );
        key.push_str("}:v");
        key.push_str(itoa::Buffer::new().format(version));
        key.push_str(":d");
        push_day(&mut key, day);
        key.push(':');
        key.push_str(ENTRY_FORMAT);
        key.push_str(":GET:");
        key.push_str(route);
        key.push('?');
        key.push_str(query);
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_large_bodies_shrink() {
        let ttl = Duration::from_secs(60);
        let small = CachedResponse::json(b"{}".to_vec(), ttl);
        assert_eq!(CachedResponse::decode(&small.encode(), ttl), Some(small));
        let large = CachedResponse::json("{\"a\":1}".repeat(500).into_bytes(), ttl);
        let encoded = large.encode();
        assert!(encoded.len() < large.body.len() / 4);
        assert_eq!(CachedResponse::decode(&encoded, ttl), Some(large.clone()));
        assert_eq!(CachedResponse::decode(&[1, 0], ttl), None);
        // Made for size: smaller, the same identity, and it survives the trip too.
        let varied = (0..200)
            .map(|i| format!("{{\"note\":\"item {i}\",\"amount_minor\":{}}}", i * 37))
            .collect::<Vec<_>>()
            .join(",");
        let large = CachedResponse::json(varied.into_bytes(), ttl);
        let small = large.smaller().expect("quality 11 beats quality 4 here");
        assert!(small.br.body.len() < large.br.body.len());
        assert_ne!(small.br.etag, large.br.etag);
        assert_eq!((&small.body, &small.etag), (&large.body, &large.etag));
        assert_eq!(
            CachedResponse::decode(&small.encode(), ttl),
            Some(small.clone())
        );
        assert!(small.smaller().is_none(), "once is enough");
    }

    #[test]
    fn entries_of_another_framing_are_not_read() {
        let ttl = Duration::from_secs(60);
        let entry = CachedResponse::json(b"{\"a\":1}".to_vec(), ttl);
        let mut bytes = entry.encode();
        assert_eq!(CachedResponse::decode(&bytes, ttl), Some(entry));
        bytes[0] &= !FLAG_FORMS;
        assert_eq!(
            CachedResponse::decode(&bytes, ttl),
            None,
            "the framing before"
        );
        assert_eq!(
            CachedResponse::decode(&[0x80, 0, 0, 0, 0], ttl),
            None,
            "unknown flags"
        );
    }

    #[tokio::test]
    async fn a_stored_entry_is_made_smaller_in_the_background() {
        let cache = Cache::new(None, Duration::from_secs(60), 1 << 20);
        let body = (0..200)
            .map(|i| format!("{{\"note\":\"item {i}\",\"amount_minor\":{}}}", i * 37))
            .collect::<Vec<_>>()
            .join(",");
        let entry = Arc::new(CachedResponse::json(
            body.into_bytes(),
            Duration::from_secs(60),
        ));
        cache.put("k", entry.clone()).await;
        let now = Instant::now;
        let deadline = now() + Duration::from_secs(10);
        let swapped = loop {
            let current = cache.get_l1("k", now()).await.unwrap();
            if current.level == coding::Level::Small {
                break current;
            }
            assert!(now() < deadline, "never made smaller");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!((&swapped.body, &swapped.etag), (&entry.body, &entry.etag));
        assert!(swapped.br.body.len() < entry.br.body.len());
        // A newer entry under the key is never replaced by an older one made smaller.
        let newer = Arc::new(CachedResponse::json(
            b"{}".to_vec(),
            Duration::from_secs(60),
        ));
        cache.l1.insert("k".into(), newer.clone()).await;
        assert!(!shrink::swap(&cache.l1, "k", &entry, swapped).await);
        assert_eq!(cache.l1.get("k").await.unwrap(), newer);
    }

    #[test]
    fn keys_sort_the_query_and_carry_the_family_hash_tag() {
        let f = Uuid::nil();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let a = Cache::key(
            f,
            3,
            day,
            "/api/expenses",
            Some("month=2026-03&category_id=x"),
        );
        let b = Cache::key(
            f,
            3,
            day,
            "/api/expenses",
            Some("category_id=x&month=2026-03"),
        );
        assert_eq!(a, b);
        assert!(a.starts_with(&format!("hearth:cache:{{f:{f}}}:v3:d2026-03-01:")));
        assert_ne!(
            a,
            Cache::key(
                f,
                3,
                day.succ_opt().unwrap(),
                "/api/expenses",
                Some("month=2026-03&category_id=x")
            )
        );
        assert_ne!(
            a,
            Cache::key(
                f,
                4,
                day,
                "/api/expenses",
                Some("month=2026-03&category_id=x")
            )
        );
        assert_eq!(
            tag_key(&family_tag(f)),
            format!("hearth:tag:{{f:{f}}}:family")
        );
    }

    #[test]
    fn keys_and_tags_are_written_as_display_would() {
        let f = Uuid::new_v4();
        assert_eq!(&*family_tag(f), format!("family:{f}"));
        for (y, m, d) in [(2026, 3, 1), (2026, 12, 31), (999, 1, 9), (10000, 10, 10)] {
            let day = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut s = String::new();
            push_day(&mut s, day);
            assert_eq!(s, day.to_string());
            assert_eq!(
                Cache::key(f, 42, day, "/api/budgets", Some("month=2026-03")),
                format!("hearth:cache:{{f:{f}}}:v42:d{day}:e2:GET:/api/budgets?month=2026-03")
            );
        }
    }

    #[test]
    fn fallback_keys_drop_version_and_day_only() {
        // An id whose text starts like a version or a day must survive.
        let f = Uuid::parse_str("d2026031-0000-4000-8000-000000000000").unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let k1 = Cache::key(f, 3, day, "/api/budgets", Some("month=2026-03"));
        let k2 = Cache::key(
            f,
            9,
            day.succ_opt().unwrap(),
            "/api/budgets",
            Some("month=2026-03"),
        );
        assert_eq!(fallback_key(&k1), fallback_key(&k2));
        assert_eq!(
            fallback_key(&k1),
            format!("hearth:cache:{{f:{f}}}:e2:GET:/api/budgets?month=2026-03")
        );
        assert_ne!(
            fallback_key(&k1),
            fallback_key(&Cache::key(f, 3, day, "/api/expenses", None))
        );
    }

    #[tokio::test]
    async fn embedded_bumps_change_the_version() {
        let cache = Cache::new(None, Duration::from_secs(60), 1 << 20);
        let f = Uuid::new_v4();
        assert_eq!(cache.version(&family_tag(f)).await, Lookup::Current(0));
        assert_eq!(cache.bump(&family_tag(f)).await, Some(1));
        assert_eq!(cache.version(&family_tag(f)).await, Lookup::Current(1));
    }

    #[test]
    fn data_types_have_their_own_ttl_and_refresh_late_in_life() {
        let d = Duration::from_secs(3600);
        assert_eq!(ttl_for("/api/budgets", d), d);
        assert!(ttl_for("/api/categories", d) > d);
        assert!(ttl_for("/api/insights", d) < d);
        let mut entry = CachedResponse::json(b"{}".to_vec(), Duration::from_secs(10));
        assert!(!entry.wants_refresh(Instant::now()));
        entry.created -= Duration::from_secs(9);
        assert!(entry.wants_refresh(Instant::now()));
    }
}
