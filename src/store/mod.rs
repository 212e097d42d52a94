//! The system of record: one [`Store`] trait with a SQLite and a PostgreSQL implementation
//! (the same SQL, in `sql.rs`), migrated at start-up. Every method that touches family data
//! takes the family id, so one family can never reach another's rows.

mod postgres;
mod sql;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use app::model::{Category, ChallengeKind, ChallengeStatus, Every, Expense, Role};
use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or state rule was broken; the code is the contract's error code.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A category still named by expenses, challenges or recurring rules (deleting it would
    /// orphan them).
    #[error("category in use by {expenses} expenses, {challenges} challenges and {rules} rules")]
    CategoryInUse {
        expenses: i64,
        challenges: i64,
        rules: i64,
    },
    /// The named field points at no row it may point at.
    #[error("{0} names nothing here")]
    BadReference(&'static str),
    /// The expense changed since the caller read it; here it is as it is now.
    #[error("version conflict")]
    VersionConflict(Box<Expense>),
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// No room left to write (SQLite's `SQLITE_FULL`, PostgreSQL's `disk_full`): nothing was
    /// written, and the same write may be sent again once there is room.
    #[error("database full: {0}")]
    Full(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(e),
            // The server going away or not there yet: PostgreSQL's "operator intervention"
            // (shutting down, starting up, crash shutdown) and "connection exception" classes,
            // and too many connections. The request may be tried again.
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|c| {
                    c.starts_with("57P") || c.starts_with("08") || c == "53300"
                }) =>
            {
                StoreError::Unavailable(e)
            }
            sqlx::Error::Database(ref db) if db.code().is_some_and(|c| is_full(&c)) => {
                StoreError::Full(e)
            }
            other => StoreError::Database(other),
        }
    }
}

/// Whether a database's error code says it has no room: PostgreSQL's SQLSTATE `53100`
/// (`disk_full`), SQLite's result code 13 (`SQLITE_FULL`, which it gives when the disk refuses
/// to grow the file; its extended codes keep 13 in the low byte).
fn is_full(code: &str) -> bool {
    code == "53100" || code.parse::<u32>().is_ok_and(|n| n & 0xff == 13)
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub family_id: Option<Uuid>,
    pub role: Option<Role>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FamilyRecord {
    pub id: Uuid,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    pub invite_code: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LimitRecord {
    pub category_id: Uuid,
    pub month: String,
    pub limit_minor: i64,
}

/// What `Store::search_expenses` looks for: every condition holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpenseSearch {
    /// Days in `[from, until)`.
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Text in the note, any case (ASCII case on SQLite).
    pub text: Option<String>,
    pub category: Option<Uuid>,
    pub member: Option<Uuid>,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
    /// Only what comes after this expense in the order (the previous page's last).
    pub after: Option<SearchPosition>,
    pub limit: i64,
}

/// An expense's place in the newest-first order: its day, creation time and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPosition {
    pub spent_on: NaiveDate,
    pub created_at_ms: i64,
    pub id: Uuid,
}

#[derive(Debug, Clone)]
pub struct NewExpenseRecord {
    pub id: Uuid,
    pub family_id: Uuid,
    pub category_id: Uuid,
    pub amount_minor: i64,
    pub note: Option<String>,
    pub spent_on: NaiveDate,
    pub created_by: Uuid,
    pub now_ms: i64,
    pub body_hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct ExpenseChanges {
    pub category_id: Option<Uuid>,
    pub amount_minor: Option<i64>,
    /// `Some(None)` clears the note.
    pub note: Option<Option<String>>,
    pub spent_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Created(Expense),
    /// The same id and body were sent before: this is that expense.
    Existing(Expense),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database does.
    async fn ping(&self) -> StoreResult<()>;

    /// Connections open in the pool, and how many of them are idle.
    fn pool_use(&self) -> (u32, u32);

    /// Fails with `Conflict("email_taken")` for an address already registered.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<UserRecord>>;

    /// Creates the family with its first categories and makes `owner` its owner, in one
    /// transaction; `Conflict("already_in_family")` if the owner has a family.
    async fn create_family(
        &self,
        family: &FamilyRecord,
        owner: Uuid,
        categories: &[Category],
    ) -> StoreResult<()>;
    async fn family(&self, id: Uuid) -> StoreResult<Option<FamilyRecord>>;
    /// Families with an expense changed since `since_ms`, at most `limit` of them.
    async fn recently_active_families(
        &self,
        since_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<FamilyRecord>>;
    async fn family_by_invite(&self, code: &str) -> StoreResult<Option<FamilyRecord>>;
    /// `Conflict("already_in_family")` if the user has a family.
    async fn join_family(&self, user: Uuid, family: Uuid) -> StoreResult<()>;
    async fn members(&self, family: Uuid) -> StoreResult<Vec<UserRecord>>;

    async fn categories(&self, family: Uuid) -> StoreResult<Vec<Category>>;
    /// `Conflict("category_exists")` for a name the family already uses.
    async fn create_category(&self, family: Uuid, category: &Category) -> StoreResult<()>;
    async fn update_category(&self, family: Uuid, category: &Category) -> StoreResult<()>;
    /// Deletes a category of the family in one transaction. Without `move_to`, only one
    /// that no expense, challenge or recurring rule names (else `CategoryInUse` with the
    /// counts); with it, its expenses (their version bumped), challenges and rules move there
    /// first, and its limits too for the months the target has none. Returns the moved expenses as they are now.
    /// `NotFound` for a category not the family's; `BadReference("move_to")` for a target
    /// that is not another category of the family.
    async fn delete_category(
        &self,
        family: Uuid,
        id: Uuid,
        move_to: Option<Uuid>,
        now_ms: i64,
    ) -> StoreResult<Vec<Expense>>;

    /// `NotFound` when the category is not the family's.
    async fn set_limit(
        &self,
        family: Uuid,
        category: Uuid,
        month: &str,
        limit_minor: i64,
    ) -> StoreResult<()>;
    /// Every limit set for a month up to and including `month`.
    async fn limits_until(&self, family: Uuid, month: &str) -> StoreResult<Vec<LimitRecord>>;
    /// Spending per category on days in `[from, until)`.
    async fn spent_by_category(
        &self,
        family: Uuid,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<(Uuid, i64)>>;

    /// What each category spent in each month (`YYYY-MM`) of `[from, until)`; months and
    /// categories without expenses are absent.
    async fn spent_by_month(
        &self,
        family: Uuid,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<(String, Uuid, i64)>>;

    /// Every member of the family with what they logged in `[from, until)` (0 included), in
    /// the order they joined.
    async fn spent_by_member(
        &self,
        family: Uuid,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<app::model::MemberSpent>>;

    /// The expenses `search` finds, newest first (as `expenses`), at most `search.limit`.
    async fn search_expenses(
        &self,
        family: Uuid,
        search: &ExpenseSearch,
    ) -> StoreResult<Vec<Expense>>;

    /// The expenses in `[from, until)`, of one category and one member when given.
    async fn expenses(
        &self,
        family: Uuid,
        from: NaiveDate,
        until: NaiveDate,
        category: Option<Uuid>,
        member: Option<Uuid>,
    ) -> StoreResult<Vec<Expense>>;
    /// Idempotent on the client's id: the same id and body give `Existing`, the same id with
    /// another body `Conflict("duplicate_id")`; `NotFound` for a category not the family's.
    async fn insert_expense(&self, expense: &NewExpenseRecord) -> StoreResult<Inserted>;
    /// Inserts all the expenses (of one family, categories checked by the caller) in one
    /// transaction: all of them or, on any error, none; `Conflict("duplicate_id")` when an
    /// id is taken (a replayed import, whose ids come from its key).
    async fn import_expenses(&self, expenses: &[NewExpenseRecord]) -> StoreResult<Vec<Expense>>;
    /// Applies `changes` when `version` is current: `VersionConflict` otherwise.
    async fn update_expense(
        &self,
        family: Uuid,
        id: Uuid,
        version: i64,
        changes: &ExpenseChanges,
        now_ms: i64,
    ) -> StoreResult<Expense>;
    async fn delete_expense(&self, family: Uuid, id: Uuid) -> StoreResult<Expense>;

    /// The family's recurring rules, oldest first.
    async fn rules(&self, family: Uuid) -> StoreResult<Vec<RuleRecord>>;
    /// `NotFound` when the category is not the family's, `Conflict("duplicate_id")` when the
    /// id is taken.
    async fn create_rule(&self, rule: &RuleRecord) -> StoreResult<()>;
    /// Writes every field of the rule but its creator and creation time; `NotFound` when the
    /// rule or the category is not the family's.
    async fn update_rule(&self, rule: &RuleRecord) -> StoreResult<()>;
    /// Deletes the rule; the expenses it made stay, no longer naming it. `NotFound` when the
    /// rule is not the family's.
    async fn delete_rule(&self, family: Uuid, id: Uuid) -> StoreResult<()>;
    /// Rules of any family with a day to make on or before `until`, at most `limit`.
    async fn due_rules(&self, until: NaiveDate, limit: i64) -> StoreResult<Vec<RuleRecord>>;
    /// Makes the rule's expense for its day `rule.next_on` and moves the rule on to `next_on`,
    /// in one transaction, if the rule still stands at that day: `None` when it does not (it
    /// was changed, deleted, or the day was made by another server meanwhile).
    async fn make_occurrence(
        &self,
        rule: &RuleRecord,
        expense: &NewExpenseRecord,
        next_on: Option<NaiveDate>,
    ) -> StoreResult<Option<Expense>>;

    /// Stores a chat message once per (family, user, client id): a resend gets the stored
    /// one back, with its place in the channel if it was published.
    async fn insert_chat(&self, message: &ChatRecord) -> StoreResult<ChatInsert>;
    /// Records where the message landed in the family channel.
    async fn set_chat_position(
        &self,
        family: Uuid,
        user: Uuid,
        client_id: &str,
        epoch: &str,
        offset: u64,
    ) -> StoreResult<()>;
    /// The family's latest messages, oldest first.
    async fn chat_history(&self, family: Uuid, limit: i64) -> StoreResult<Vec<ChatRecord>>;
    /// True the first time an alert for (category, month, level) is raised.
    async fn raise_alert(
        &self,
        family: Uuid,
        category: Uuid,
        month: &str,
        level: u8,
        at_ms: i64,
    ) -> StoreResult<bool>;

    /// Stores a challenge with its creator as the first participant.
    async fn create_challenge(&self, challenge: &ChallengeRecord) -> StoreResult<()>;
    /// The family's latest challenges, newest first, with their participants.
    async fn challenges(&self, family: Uuid, limit: i64) -> StoreResult<Vec<ChallengeRecord>>;
    /// Adds a participant (again is harmless); `NotFound` for a challenge not the family's.
    async fn join_challenge(
        &self,
        family: Uuid,
        challenge: Uuid,
        user: Uuid,
        at_ms: i64,
    ) -> StoreResult<()>;
    /// Settles an active challenge as won or lost: true for the one call that settled it.
    async fn settle_challenge(
        &self,
        family: Uuid,
        challenge: Uuid,
        status: ChallengeStatus,
    ) -> StoreResult<bool>;
    /// True the first time the family earns the achievement `key`.
    async fn award(&self, family: Uuid, key: &str, title: &str, at_ms: i64) -> StoreResult<bool>;
    /// The family's achievements, newest first: (key, title, awarded at).
    async fn achievements(&self, family: Uuid) -> StoreResult<Vec<(String, String, i64)>>;
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeRecord {
    pub id: Uuid,
    pub family_id: Uuid,
    pub created_by: Uuid,
    pub kind: ChallengeKind,
    pub category_id: Option<Uuid>,
    pub limit_minor: Option<i64>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: ChallengeStatus,
    pub created_at_ms: i64,
    pub participants: Vec<Uuid>,
}

/// A recurring rule as stored: `next_on` is the next day it makes an expense on (`None` once
/// it has ended), `last_on` the last day it made one for.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub id: Uuid,
    pub family_id: Uuid,
    pub category_id: Uuid,
    pub amount_minor: i64,
    pub note: Option<String>,
    pub every: Every,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub next_on: Option<NaiveDate>,
    pub last_on: Option<NaiveDate>,
    pub created_by: Uuid,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRecord {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub client_id: String,
    pub text: String,
    pub created_at_ms: i64,
    /// Set once published.
    pub position: Option<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChatInsert {
    Created,
    Existing(ChatRecord),
}

/// The schema, shared by both databases.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub(crate) async fn migrate<'a, A>(pool: A) -> StoreResult<()>
where
    A: sqlx::Acquire<'a>,
    <A::Connection as std::ops::Deref>::Target: sqlx::migrate::Migrate,
{
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StoreError::Database(e.into()))
}

pub(crate) fn parse_uuid(s: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("bad uuid {s:?}")))
}

#[cfg(test)]
mod tests {
    use super::is_full;

    #[test]
    fn a_full_disk_is_told_apart_by_its_code() {
        assert!(is_full("13"), "SQLITE_FULL");
        assert!(is_full("53100"), "PostgreSQL's disk_full");
        // SQLITE_BUSY, SQLITE_CONSTRAINT_UNIQUE (2067: 19 in the low byte), too many
        // connections, a unique violation.
        for other in ["5", "2067", "53300", "23505", "not a code"] {
            assert!(!is_full(other), "{other}");
        }
    }
}
