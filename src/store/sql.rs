//! The one SQL implementation of [`Store`](super::Store), expanded for each database by
//! `store_impl!`. The SQL is the dialect SQLite and PostgreSQL share (`$n` parameters,
//! `ON CONFLICT`, TEXT ids, BIGINT numbers), so both databases run the very same statements.

use super::{parse_uuid, StoreError, StoreResult, UserRecord};
use app::model::{Expense, Role};
use chrono::{DateTime, SecondsFormat};

pub(super) type UserRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
);
pub(super) type FamilyRow = (String, String, String, String, String, i64);
pub(super) type ExpenseRow = (
    String,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
);

pub(super) const USER_COLUMNS: &str =
    "id, email, password_hash, display_name, family_id, role, created_at";
pub(super) const FAMILY_COLUMNS: &str = "id, name, currency, timezone, invite_code, created_at";
/// An expense's columns, with the name of who logged it (a subquery, so that `RETURNING`
/// gives it too).
pub(super) const EXPENSE_COLUMNS: &str =
    "id, category_id, amount_minor, note, spent_on, created_by, \
     COALESCE((SELECT display_name FROM users WHERE users.id = expenses.created_by), ''), \
     created_at, updated_at, version, recurring_id";

pub(super) type RuleRow = (
    String,
    String,
    String,
    i64,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
);

pub(super) const RULE_COLUMNS: &str = "id, family_id, category_id, amount_minor, note, every, \
     starts_on, ends_on, next_on, last_on, created_by, created_at, updated_at";

pub(super) fn rule(row: RuleRow) -> StoreResult<super::RuleRecord> {
    let (
        id,
        family_id,
        category_id,
        amount_minor,
        note,
        every,
        starts_on,
        ends_on,
        next_on,
        last_on,
        created_by,
        created_at_ms,
        updated_at_ms,
    ) = row;
    Ok(super::RuleRecord {
        id: parse_uuid(&id)?,
        family_id: parse_uuid(&family_id)?,
        category_id: parse_uuid(&category_id)?,
        amount_minor,
        note,
        every: app::model::Every::parse(&every)
            .ok_or_else(|| StoreError::Corrupt(format!("bad rule period {every:?}")))?,
        starts_on: day(&starts_on)?,
        ends_on: ends_on.as_deref().map(day).transpose()?,
        next_on: next_on.as_deref().map(day).transpose()?,
        last_on: last_on.as_deref().map(day).transpose()?,
        created_by: parse_uuid(&created_by)?,
        created_at_ms,
        updated_at_ms,
    })
}

pub(super) type ChallengeRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    String,
    String,
    i64,
);

pub(super) const CHALLENGE_COLUMNS: &str =
    "id, family_id, created_by, kind, category_id, limit_minor, starts_on, ends_on, status, created_at";

fn day(s: &str) -> StoreResult<chrono::NaiveDate> {
    app::model::parse_day(s).ok_or_else(|| StoreError::Corrupt(format!("bad day {s:?}")))
}

/// A challenge row with its participants (from `(challenge id, user id)` pairs).
pub(super) fn challenge(
    row: ChallengeRow,
    members: &[(String, String)],
) -> StoreResult<super::ChallengeRecord> {
    let (
        id,
        family_id,
        created_by,
        kind,
        category_id,
        limit_minor,
        starts_on,
        ends_on,
        status,
        created_at_ms,
    ) = row;
    let participants = members
        .iter()
        .filter(|(c, _)| *c == id)
        .map(|(_, u)| parse_uuid(u))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(super::ChallengeRecord {
        id: parse_uuid(&id)?,
        family_id: parse_uuid(&family_id)?,
        created_by: parse_uuid(&created_by)?,
        kind: app::model::ChallengeKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("bad challenge kind {kind:?}")))?,
        category_id: category_id.as_deref().map(parse_uuid).transpose()?,
        limit_minor,
        starts_on: day(&starts_on)?,
        ends_on: day(&ends_on)?,
        status: app::model::ChallengeStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("bad challenge status {status:?}")))?,
        created_at_ms,
        participants,
    })
}

pub(super) fn user(row: UserRow) -> StoreResult<UserRecord> {
    let (id, email, password_hash, display_name, family_id, role, created_at_ms) = row;
    Ok(UserRecord {
        id: parse_uuid(&id)?,
        email,
        password_hash,
        display_name,
        family_id: family_id.as_deref().map(parse_uuid).transpose()?,
        role: role.as_deref().and_then(Role::parse),
        created_at_ms,
    })
}

pub(super) fn family(row: FamilyRow) -> StoreResult<super::FamilyRecord> {
    let (id, name, currency, timezone, invite_code, created_at_ms) = row;
    Ok(super::FamilyRecord {
        id: parse_uuid(&id)?,
        name,
        currency,
        timezone,
        invite_code,
        created_at_ms,
    })
}

pub(super) type ChatRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
);
pub(super) const CHAT_COLUMNS: &str = "family_id, user_id, client_id, body, created_at, epoch, seq";

pub(super) fn chat(row: ChatRow) -> StoreResult<super::ChatRecord> {
    let (family_id, user_id, client_id, text, created_at_ms, epoch, seq) = row;
    Ok(super::ChatRecord {
        family_id: parse_uuid(&family_id)?,
        user_id: parse_uuid(&user_id)?,
        client_id,
        text,
        created_at_ms,
        position: epoch.zip(seq).map(|(e, s)| (e, s as u64)),
    })
}

pub(super) fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn expense(row: ExpenseRow) -> StoreResult<Expense> {
    let (
        id,
        category_id,
        amount_minor,
        note,
        spent_on,
        created_by,
        created_by_name,
        created_at,
        updated_at,
        version,
        recurring_id,
    ) = row;
    Ok(Expense {
        id: parse_uuid(&id)?,
        category_id: parse_uuid(&category_id)?,
        amount_minor,
        note,
        spent_on,
        created_by: parse_uuid(&created_by)?,
        created_by_name,
        created_at: rfc3339(created_at),
        updated_at: rfc3339(updated_at),
        version,
        recurring_id: recurring_id.as_deref().map(parse_uuid).transpose()?,
    })
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub(super) fn unique_or(e: sqlx::Error, code: &'static str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(code)
    } else {
        e.into()
    }
}

/// The statement that inserts a new expense (`bind_expense!` gives its parameters) and
/// returns it.
pub(super) fn insert_expense() -> String {
    format!(
        "INSERT INTO expenses (id, family_id, category_id, amount_minor, note, spent_on, created_by, \
         created_at, updated_at, version, body_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9) \
         RETURNING {EXPENSE_COLUMNS}"
    )
}

/// Binds a `NewExpenseRecord` to `insert_expense()`'s parameters.
macro_rules! bind_expense {
    ($query:expr, $e:expr) => {
        $query
            .bind($e.id.to_string())
            .bind($e.family_id.to_string())
            .bind($e.category_id.to_string())
            .bind($e.amount_minor)
            .bind(&$e.note)
            .bind($e.spent_on.to_string())
            .bind($e.created_by.to_string())
            .bind($e.now_ms)
            .bind(&$e.body_hash)
    };
}
pub(super) use bind_expense;

/// Binds a `RuleRecord`'s first ten columns of `RULE_COLUMNS` (id … `last_on`) to `$1`–`$10`;
/// creating and changing a rule both start with them.
macro_rules! bind_rule {
    ($query:expr, $r:expr) => {
        $query
            .bind($r.id.to_string())
            .bind($r.family_id.to_string())
            .bind($r.category_id.to_string())
            .bind($r.amount_minor)
            .bind(&$r.note)
            .bind($r.every.as_str())
            .bind($r.starts_on.to_string())
            .bind($r.ends_on.map(|d| d.to_string()))
            .bind($r.next_on.map(|d| d.to_string()))
            .bind($r.last_on.map(|d| d.to_string()))
    };
}
pub(super) use bind_rule;

/// Returns `NotFound` from the enclosing method unless the category (any `Display`) is the
/// family's, read within the transaction `tx`.
macro_rules! family_has_category {
    ($tx:ident, $family:expr, $category:expr) => {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM categories WHERE family_id = $1 AND id = $2")
                .bind($family.to_string())
                .bind($category.to_string())
                .fetch_optional(&mut *$tx)
                .await?;
        if found.is_none() {
            return Err($crate::store::StoreError::NotFound);
        }
    };
}
pub(super) use family_has_category;

/// Implements `Store` for a type with a `pool` field of any sqlx database; `$begin` opens a
/// write transaction (SQLite takes its write lock up front, so a transaction that reads
/// before it writes never fails on a snapshot another writer has moved on from).
macro_rules! store_impl {
    ($store:ty, $begin:expr) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            async fn ping(&self) -> $crate::store::StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            fn pool_use(&self) -> (u32, u32) {
                (self.pool.size(), self.pool.num_idle() as u32)
            }

            async fn create_user(&self, u: &$crate::store::UserRecord) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, email, password_hash, display_name, family_id, role, created_at) \
                     VALUES ($1, $2, $3, $4, NULL, NULL, $5)",
                )
                .bind(u.id.to_string())
                .bind(&u.email)
                .bind(&u.password_hash)
                .bind(&u.display_name)
                .bind(u.created_at_ms)
                .execute(&self.pool)
                .await
                .map_err(|e| sql::unique_or(e, "email_taken"))?;
                Ok(())
            }

            async fn user_by_email(&self, email: &str) -> $crate::store::StoreResult<Option<$crate::store::UserRecord>> {
                let row: Option<sql::UserRow> =
                    sqlx::query_as(&format!("SELECT {} FROM users WHERE email = $1", sql::USER_COLUMNS))
                        .bind(email)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(sql::user).transpose()
            }

            async fn user_by_id(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::UserRecord>> {
                let row: Option<sql::UserRow> =
                    sqlx::query_as(&format!("SELECT {} FROM users WHERE id = $1", sql::USER_COLUMNS))
                        .bind(id.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(sql::user).transpose()
            }

            async fn create_family(
                &self,
                f: &$crate::store::FamilyRecord,
                owner: uuid::Uuid,
                categories: &[app::model::Category],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                sqlx::query(
                    "INSERT INTO families (id, name, currency, timezone, invite_code, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(f.id.to_string())
                .bind(&f.name)
                .bind(&f.currency)
                .bind(&f.timezone)
                .bind(&f.invite_code)
                .bind(f.created_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(|e| sql::unique_or(e, "invite_code_taken"))?;
                let joined = sqlx::query("UPDATE users SET family_id = $1, role = 'owner' WHERE id = $2 AND family_id IS NULL")
                    .bind(f.id.to_string())
                    .bind(owner.to_string())
                    .execute(&mut *tx)
                    .await?;
                if joined.rows_affected() != 1 {
                    return Err($crate::store::StoreError::Conflict("already_in_family"));
                }
                // One millisecond apart, so they list in the order given.
                for (c, at) in categories.iter().zip(f.created_at_ms..) {
                    sqlx::query("INSERT INTO categories (id, family_id, name, color, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(c.id.to_string())
                        .bind(f.id.to_string())
                        .bind(&c.name)
                        .bind(&c.color)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn family(&self, id: uuid::Uuid) -> $crate::store::StoreResult<Option<$crate::store::FamilyRecord>> {
                let row: Option<sql::FamilyRow> =
                    sqlx::query_as(&format!("SELECT {} FROM families WHERE id = $1", sql::FAMILY_COLUMNS))
                        .bind(id.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(sql::family).transpose()
            }

            async fn recently_active_families(
                &self,
                since_ms: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::FamilyRecord>> {
                let rows: Vec<sql::FamilyRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM families WHERE id IN \
                     (SELECT DISTINCT family_id FROM expenses WHERE updated_at >= $1) \
                     ORDER BY created_at, id LIMIT $2",
                    sql::FAMILY_COLUMNS
                ))
                .bind(since_ms)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::family).collect()
            }

            async fn family_by_invite(&self, code: &str) -> $crate::store::StoreResult<Option<$crate::store::FamilyRecord>> {
                let row: Option<sql::FamilyRow> =
                    sqlx::query_as(&format!("SELECT {} FROM families WHERE invite_code = $1", sql::FAMILY_COLUMNS))
                        .bind(code)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(sql::family).transpose()
            }

            async fn join_family(&self, user: uuid::Uuid, family: uuid::Uuid) -> $crate::store::StoreResult<()> {
                let done = sqlx::query("UPDATE users SET family_id = $1, role = 'member' WHERE id = $2 AND family_id IS NULL")
                    .bind(family.to_string())
                    .bind(user.to_string())
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err($crate::store::StoreError::Conflict("already_in_family"))
                }
            }

            async fn members(&self, family: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::UserRecord>> {
                let rows: Vec<sql::UserRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM users WHERE family_id = $1 ORDER BY created_at, id",
                    sql::USER_COLUMNS
                ))
                .bind(family.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::user).collect()
            }

            async fn categories(&self, family: uuid::Uuid) -> $crate::store::StoreResult<Vec<app::model::Category>> {
                let rows: Vec<(String, String, String)> =
                    sqlx::query_as("SELECT id, name, color FROM categories WHERE family_id = $1 ORDER BY created_at, name")
                        .bind(family.to_string())
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(id, name, color)| Ok(app::model::Category { id: $crate::store::parse_uuid(&id)?, name, color }))
                    .collect()
            }

            async fn create_category(&self, family: uuid::Uuid, c: &app::model::Category) -> $crate::store::StoreResult<()> {
                sqlx::query("INSERT INTO categories (id, family_id, name, color, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(c.id.to_string())
                    .bind(family.to_string())
                    .bind(&c.name)
                    .bind(&c.color)
                    .bind(chrono::Utc::now().timestamp_millis())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| sql::unique_or(e, "category_exists"))?;
                Ok(())
            }

            async fn update_category(&self, family: uuid::Uuid, c: &app::model::Category) -> $crate::store::StoreResult<()> {
                let done = sqlx::query("UPDATE categories SET name = $1, color = $2 WHERE id = $3 AND family_id = $4")
                    .bind(&c.name)
                    .bind(&c.color)
                    .bind(c.id.to_string())
                    .bind(family.to_string())
                    .execute(&self.pool)
                    .await
                    .map_err(|e| sql::unique_or(e, "category_exists"))?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err($crate::store::StoreError::NotFound)
                }
            }

            async fn delete_category(
                &self,
                family: uuid::Uuid,
                id: uuid::Uuid,
                move_to: Option<uuid::Uuid>,
                now_ms: i64,
            ) -> $crate::store::StoreResult<Vec<app::model::Expense>> {
                let (family, id) = (family.to_string(), id.to_string());
                let mut tx = self.pool.begin_with($begin).await?;
                let of_family = "SELECT id FROM categories WHERE family_id = $1 AND id = $2";
                let found: Option<(String,)> = sqlx::query_as(of_family)
                    .bind(&family)
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err($crate::store::StoreError::NotFound);
                }
                let moved = match move_to {
                    None => {
                        let mut uses = [0i64; 3];
                        for (n, table) in uses.iter_mut().zip(["expenses", "challenges", "recurring_rules"]) {
                            let (count,): (i64,) = sqlx::query_as(&format!(
                                "SELECT COUNT(*) FROM {table} WHERE family_id = $1 AND category_id = $2"
                            ))
                            .bind(&family)
                            .bind(&id)
                            .fetch_one(&mut *tx)
                            .await?;
                            *n = count;
                        }
                        if uses != [0, 0, 0] {
                            return Err($crate::store::StoreError::CategoryInUse {
                                expenses: uses[0],
                                challenges: uses[1],
                                rules: uses[2],
                            });
                        }
                        Vec::new()
                    }
                    Some(target) => {
                        let target = target.to_string();
                        let found: Option<(String,)> = sqlx::query_as(of_family)
                            .bind(&family)
                            .bind(&target)
                            .fetch_optional(&mut *tx)
                            .await?;
                        if found.is_none() || target == id {
                            return Err($crate::store::StoreError::BadReference("move_to"));
                        }
                        // Challenges and rules go to the target; limits too, for the months it
                        // has none (the rest are deleted with the category, below).
                        for moving in [
                            "UPDATE challenges SET category_id = $3 WHERE family_id = $1 AND category_id = $2",
                            "UPDATE recurring_rules SET category_id = $3 WHERE family_id = $1 AND category_id = $2",
                            "UPDATE budget_limits SET category_id = $3 \
                             WHERE family_id = $1 AND category_id = $2 AND month NOT IN \
                             (SELECT month FROM budget_limits WHERE family_id = $1 AND category_id = $3)",
                        ] {
                            sqlx::query(moving)
                                .bind(&family)
                                .bind(&id)
                                .bind(&target)
                                .execute(&mut *tx)
                                .await?;
                        }
                        let rows: Vec<sql::ExpenseRow> = sqlx::query_as(&format!(
                            "UPDATE expenses SET category_id = $3, updated_at = $4, version = version + 1 \
                             WHERE family_id = $1 AND category_id = $2 RETURNING {}",
                            sql::EXPENSE_COLUMNS
                        ))
                        .bind(&family)
                        .bind(&id)
                        .bind(&target)
                        .bind(now_ms)
                        .fetch_all(&mut *tx)
                        .await?;
                        rows.into_iter().map(sql::expense).collect::<Result<Vec<_>, _>>()?
                    }
                };
                // What else names the category: its remaining limits and the alerts it raised.
                for table in ["budget_limits", "budget_alerts"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE family_id = $1 AND category_id = $2"))
                        .bind(&family)
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("DELETE FROM categories WHERE family_id = $1 AND id = $2")
                    .bind(&family)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(moved)
            }

            async fn set_limit(
                &self,
                family: uuid::Uuid,
                category: uuid::Uuid,
                month: &str,
                limit_minor: i64,
            ) -> $crate::store::StoreResult<()> {
                // The category must be this family's: the insert selects it from the family.
                let done = sqlx::query(
                    "INSERT INTO budget_limits (family_id, category_id, month, limit_minor) \
                     SELECT family_id, id, $3, $4 FROM categories WHERE family_id = $1 AND id = $2 \
                     ON CONFLICT (family_id, category_id, month) DO UPDATE SET limit_minor = excluded.limit_minor",
                )
                .bind(family.to_string())
                .bind(category.to_string())
                .bind(month)
                .bind(limit_minor)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err($crate::store::StoreError::NotFound)
                }
            }

            async fn limits_until(&self, family: uuid::Uuid, month: &str) -> $crate::store::StoreResult<Vec<$crate::store::LimitRecord>> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT category_id, month, limit_minor FROM budget_limits WHERE family_id = $1 AND month <= $2 ORDER BY month",
                )
                .bind(family.to_string())
                .bind(month)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(c, month, limit_minor)| {
                        Ok($crate::store::LimitRecord { category_id: $crate::store::parse_uuid(&c)?, month, limit_minor })
                    })
                    .collect()
            }

            async fn spent_by_category(
                &self,
                family: uuid::Uuid,
                from: chrono::NaiveDate,
                until: chrono::NaiveDate,
            ) -> $crate::store::StoreResult<Vec<(uuid::Uuid, i64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT category_id, CAST(SUM(amount_minor) AS BIGINT) FROM expenses \
                     WHERE family_id = $1 AND spent_on >= $2 AND spent_on < $3 GROUP BY category_id",
                )
                .bind(family.to_string())
                .bind(from.to_string())
                .bind(until.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|(c, s)| Ok(($crate::store::parse_uuid(&c)?, s))).collect()
            }

            async fn search_expenses(
                &self,
                family: uuid::Uuid,
                search: &$crate::store::ExpenseSearch,
            ) -> $crate::store::StoreResult<Vec<app::model::Expense>> {
                // LIKE's own characters in the text are matched as themselves.
                let pattern = search.text.as_deref().map(|t| {
                    let escaped = t
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    format!("%{escaped}%")
                });
                let after = search.after.as_ref();
                let rows: Vec<sql::ExpenseRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM expenses WHERE family_id = $1 AND spent_on >= $2 AND spent_on < $3 \
                     AND ($4 = '' OR LOWER(COALESCE(note, '')) LIKE $4 ESCAPE '\\') \
                     AND ($5 = '' OR category_id = $5) AND ($6 = '' OR created_by = $6) \
                     AND amount_minor >= $7 AND amount_minor <= $8 \
                     AND ($9 = '' OR spent_on < $9 OR (spent_on = $9 AND \
                          (created_at < $10 OR (created_at = $10 AND id > $11)))) \
                     ORDER BY spent_on DESC, created_at DESC, id LIMIT $12",
                    sql::EXPENSE_COLUMNS
                ))
                .bind(family.to_string())
                .bind(search.from.map(|d| d.to_string()).unwrap_or_else(|| "0000-01-01".into()))
                .bind(search.until.map(|d| d.to_string()).unwrap_or_else(|| "9999-12-31".into()))
                .bind(pattern.unwrap_or_default())
                .bind(search.category.map(|c| c.to_string()).unwrap_or_default())
                .bind(search.member.map(|m| m.to_string()).unwrap_or_default())
                .bind(search.min_minor.unwrap_or(i64::MIN))
                .bind(search.max_minor.unwrap_or(i64::MAX))
                .bind(after.map(|a| a.spent_on.to_string()).unwrap_or_default())
                .bind(after.map(|a| a.created_at_ms).unwrap_or(0))
                .bind(after.map(|a| a.id.to_string()).unwrap_or_default())
                .bind(search.limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::expense).collect()
            }

            async fn spent_by_month(
                &self,
                family: uuid::Uuid,
                from: chrono::NaiveDate,
                until: chrono::NaiveDate,
            ) -> $crate::store::StoreResult<Vec<(String, uuid::Uuid, i64)>> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT SUBSTR(spent_on, 1, 7), category_id, CAST(SUM(amount_minor) AS BIGINT) \
                     FROM expenses WHERE family_id = $1 AND spent_on >= $2 AND spent_on < $3 \
                     GROUP BY SUBSTR(spent_on, 1, 7), category_id",
                )
                .bind(family.to_string())
                .bind(from.to_string())
                .bind(until.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(m, c, s)| Ok((m, $crate::store::parse_uuid(&c)?, s)))
                    .collect()
            }

            async fn spent_by_member(
                &self,
                family: uuid::Uuid,
                from: chrono::NaiveDate,
                until: chrono::NaiveDate,
            ) -> $crate::store::StoreResult<Vec<app::model::MemberSpent>> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT u.id, u.display_name, CAST(COALESCE(SUM(e.amount_minor), 0) AS BIGINT) \
                     FROM users u LEFT JOIN expenses e ON e.created_by = u.id AND e.family_id = $1 \
                     AND e.spent_on >= $2 AND e.spent_on < $3 \
                     WHERE u.family_id = $1 GROUP BY u.id, u.display_name, u.created_at \
                     ORDER BY u.created_at, u.id",
                )
                .bind(family.to_string())
                .bind(from.to_string())
                .bind(until.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(id, display_name, spent_minor)| {
                        Ok(app::model::MemberSpent {
                            user_id: $crate::store::parse_uuid(&id)?,
                            display_name,
                            spent_minor,
                        })
                    })
                    .collect()
            }

            async fn expenses(
                &self,
                family: uuid::Uuid,
                from: chrono::NaiveDate,
                until: chrono::NaiveDate,
                category: Option<uuid::Uuid>,
                member: Option<uuid::Uuid>,
            ) -> $crate::store::StoreResult<Vec<app::model::Expense>> {
                let rows: Vec<sql::ExpenseRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM expenses WHERE family_id = $1 AND spent_on >= $2 AND spent_on < $3 \
                     AND ($4 = '' OR category_id = $4) AND ($5 = '' OR created_by = $5) \
                     ORDER BY spent_on DESC, created_at DESC, id",
                    sql::EXPENSE_COLUMNS
                ))
                .bind(family.to_string())
                .bind(from.to_string())
                .bind(until.to_string())
                .bind(category.map(|c| c.to_string()).unwrap_or_default())
                .bind(member.map(|m| m.to_string()).unwrap_or_default())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::expense).collect()
            }

            async fn insert_expense(&self, e: &$crate::store::NewExpenseRecord) -> $crate::store::StoreResult<$crate::store::Inserted> {
                let existing = |row: Option<(String, String, sql::ExpenseRow)>| -> $crate::store::StoreResult<Option<$crate::store::Inserted>> {
                    match row {
                        None => Ok(None),
                        Some((family_id, body_hash, row)) if family_id == e.family_id.to_string() && body_hash == e.body_hash => {
                            Ok(Some($crate::store::Inserted::Existing(sql::expense(row)?)))
                        }
                        Some(_) => Err($crate::store::StoreError::Conflict("duplicate_id")),
                    }
                };
                let lookup = format!(
                    "SELECT family_id, body_hash, {} FROM expenses WHERE id = $1",
                    sql::EXPENSE_COLUMNS
                );
                let mut tx = self.pool.begin_with($begin).await?;
                type Found = (String, String, String, String, i64, Option<String>, String, String, String, i64, i64, i64, Option<String>);
                let row: Option<Found> =
                    sqlx::query_as(&lookup).bind(e.id.to_string()).fetch_optional(&mut *tx).await?;
                let split = |r: Found| {
                    (r.0, r.1, (r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12))
                };
                if let Some(found) = existing(row.map(split))? {
                    return Ok(found);
                }
                sql::family_has_category!(tx, e.family_id, e.category_id);
                let insert = sql::insert_expense();
                let inserted: Result<sql::ExpenseRow, sqlx::Error> =
                    sql::bind_expense!(sqlx::query_as(&insert), e).fetch_one(&mut *tx).await;
                match inserted {
                    Ok(row) => {
                        tx.commit().await?;
                        Ok($crate::store::Inserted::Created(sql::expense(row)?))
                    }
                    // Another request with the same id committed first: answer as a replay would.
                    Err(err) if sql::is_unique_violation(&err) => {
                        drop(tx);
                        let row = sqlx::query_as(&lookup).bind(e.id.to_string()).fetch_optional(&self.pool).await?;
                        existing(row.map(split))?.ok_or($crate::store::StoreError::Conflict("duplicate_id"))
                    }
                    Err(err) => Err(err.into()),
                }
            }

            async fn import_expenses(&self, expenses: &[$crate::store::NewExpenseRecord]) -> $crate::store::StoreResult<Vec<app::model::Expense>> {
                let insert = sql::insert_expense();
                let mut tx = self.pool.begin_with($begin).await?;
                let mut saved = Vec::with_capacity(expenses.len());
                for e in expenses {
                    let row: sql::ExpenseRow = sql::bind_expense!(sqlx::query_as(&insert), e)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| sql::unique_or(e, "duplicate_id"))?;
                    saved.push(sql::expense(row)?);
                }
                tx.commit().await?;
                Ok(saved)
            }

            async fn update_expense(
                &self,
                family: uuid::Uuid,
                id: uuid::Uuid,
                version: i64,
                changes: &$crate::store::ExpenseChanges,
                now_ms: i64,
            ) -> $crate::store::StoreResult<app::model::Expense> {
                let mut tx = self.pool.begin_with($begin).await?;
                let current: Option<sql::ExpenseRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM expenses WHERE family_id = $1 AND id = $2",
                    sql::EXPENSE_COLUMNS
                ))
                .bind(family.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let current = sql::expense(current.ok_or($crate::store::StoreError::NotFound)?)?;
                if current.version != version {
                    return Err($crate::store::StoreError::VersionConflict(Box::new(current)));
                }
                if let Some(c) = changes.category_id {
                    sql::family_has_category!(tx, family, c);
                }
                let note = match &changes.note {
                    Some(n) => n.clone(),
                    None => current.note.clone(),
                };
                let row: Option<sql::ExpenseRow> = sqlx::query_as(&format!(
                    "UPDATE expenses SET category_id = $1, amount_minor = $2, note = $3, spent_on = $4, \
                     updated_at = $5, version = version + 1 \
                     WHERE family_id = $6 AND id = $7 AND version = $8 RETURNING {}",
                    sql::EXPENSE_COLUMNS
                ))
                .bind(changes.category_id.unwrap_or(current.category_id).to_string())
                .bind(changes.amount_minor.unwrap_or(current.amount_minor))
                .bind(note)
                .bind(changes.spent_on.map(|d| d.to_string()).unwrap_or(current.spent_on.clone()))
                .bind(now_ms)
                .bind(family.to_string())
                .bind(id.to_string())
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
                match row {
                    Some(row) => {
                        tx.commit().await?;
                        sql::expense(row)
                    }
                    None => Err($crate::store::StoreError::VersionConflict(Box::new(current))),
                }
            }

            async fn delete_expense(&self, family: uuid::Uuid, id: uuid::Uuid) -> $crate::store::StoreResult<app::model::Expense> {
                let row: Option<sql::ExpenseRow> = sqlx::query_as(&format!(
                    "DELETE FROM expenses WHERE family_id = $1 AND id = $2 RETURNING {}",
                    sql::EXPENSE_COLUMNS
                ))
                .bind(family.to_string())
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
                sql::expense(row.ok_or($crate::store::StoreError::NotFound)?)
            }

            async fn rules(&self, family: uuid::Uuid) -> $crate::store::StoreResult<Vec<$crate::store::RuleRecord>> {
                let rows: Vec<sql::RuleRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM recurring_rules WHERE family_id = $1 ORDER BY created_at, id",
                    sql::RULE_COLUMNS
                ))
                .bind(family.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::rule).collect()
            }

            async fn create_rule(&self, r: &$crate::store::RuleRecord) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                sql::family_has_category!(tx, r.family_id, r.category_id);
                let insert = format!(
                    "INSERT INTO recurring_rules ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    sql::RULE_COLUMNS
                );
                sql::bind_rule!(sqlx::query(&insert), r)
                .bind(r.created_by.to_string())
                .bind(r.created_at_ms)
                .bind(r.updated_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(|e| sql::unique_or(e, "duplicate_id"))?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_rule(&self, r: &$crate::store::RuleRecord) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                sql::family_has_category!(tx, r.family_id, r.category_id);
                let update = "UPDATE recurring_rules SET category_id = $3, amount_minor = $4, note = $5, every = $6, \
                     starts_on = $7, ends_on = $8, next_on = $9, last_on = $10, updated_at = $11 \
                     WHERE id = $1 AND family_id = $2";
                let updated = sql::bind_rule!(sqlx::query(update), r)
                .bind(r.updated_at_ms)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn delete_rule(&self, family: uuid::Uuid, id: uuid::Uuid) -> $crate::store::StoreResult<()> {
                let (family, id) = (family.to_string(), id.to_string());
                let mut tx = self.pool.begin_with($begin).await?;
                sqlx::query("UPDATE expenses SET recurring_id = NULL WHERE family_id = $1 AND recurring_id = $2")
                    .bind(&family)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                let deleted = sqlx::query("DELETE FROM recurring_rules WHERE family_id = $1 AND id = $2")
                    .bind(&family)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                if deleted.rows_affected() == 0 {
                    return Err($crate::store::StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn due_rules(&self, until: chrono::NaiveDate, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::RuleRecord>> {
                let rows: Vec<sql::RuleRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM recurring_rules WHERE next_on IS NOT NULL AND next_on <= $1 \
                     ORDER BY next_on, id LIMIT $2",
                    sql::RULE_COLUMNS
                ))
                .bind(until.to_string())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(sql::rule).collect()
            }

            async fn make_occurrence(
                &self,
                r: &$crate::store::RuleRecord,
                e: &$crate::store::NewExpenseRecord,
                next_on: Option<chrono::NaiveDate>,
            ) -> $crate::store::StoreResult<Option<app::model::Expense>> {
                let Some(day) = r.next_on else { return Ok(None) };
                let (family, id, day) = (r.family_id.to_string(), r.id.to_string(), day.to_string());
                let mut tx = self.pool.begin_with($begin).await?;
                // Only from where the rule stands now: a concurrent change or run moved it on.
                let moved = sqlx::query(
                    "UPDATE recurring_rules SET next_on = $4, last_on = $3 \
                     WHERE family_id = $1 AND id = $2 AND next_on = $3",
                )
                .bind(&family)
                .bind(&id)
                .bind(&day)
                .bind(next_on.map(|d| d.to_string()))
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() == 0 {
                    return Ok(None);
                }
                let row: Option<sql::ExpenseRow> = sqlx::query_as(&format!(
                    "INSERT INTO expenses (id, family_id, category_id, amount_minor, note, spent_on, created_by, \
                     created_at, updated_at, version, body_hash, recurring_id, occurrence) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9, $10, $6) \
                     ON CONFLICT (recurring_id, occurrence) DO NOTHING RETURNING {}",
                    sql::EXPENSE_COLUMNS
                ))
                .bind(e.id.to_string())
                .bind(&family)
                .bind(e.category_id.to_string())
                .bind(e.amount_minor)
                .bind(&e.note)
                .bind(&day)
                .bind(e.created_by.to_string())
                .bind(e.now_ms)
                .bind(&e.body_hash)
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
                // Made already (by an earlier version of the rule): the rule still moves on.
                tx.commit().await?;
                row.map(sql::expense).transpose()
            }

            async fn insert_chat(&self, m: &$crate::store::ChatRecord) -> $crate::store::StoreResult<$crate::store::ChatInsert> {
                let inserted = sqlx::query(
                    "INSERT INTO chat_messages (family_id, user_id, client_id, body, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (family_id, user_id, client_id) DO NOTHING",
                )
                .bind(m.family_id.to_string())
                .bind(m.user_id.to_string())
                .bind(&m.client_id)
                .bind(&m.text)
                .bind(m.created_at_ms)
                .execute(&self.pool)
                .await?;
                if inserted.rows_affected() == 1 {
                    return Ok($crate::store::ChatInsert::Created);
                }
                let row: sql::ChatRow = sqlx::query_as(&format!(
                    "SELECT {} FROM chat_messages WHERE family_id = $1 AND user_id = $2 AND client_id = $3",
                    sql::CHAT_COLUMNS
                ))
                .bind(m.family_id.to_string())
                .bind(m.user_id.to_string())
                .bind(&m.client_id)
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::store::ChatInsert::Existing(sql::chat(row)?))
            }

            async fn set_chat_position(
                &self,
                family: uuid::Uuid,
                user: uuid::Uuid,
                client_id: &str,
                epoch: &str,
                offset: u64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE chat_messages SET epoch = $1, seq = $2 WHERE family_id = $3 AND user_id = $4 AND client_id = $5")
                    .bind(epoch)
                    .bind(offset as i64)
                    .bind(family.to_string())
                    .bind(user.to_string())
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn chat_history(&self, family: uuid::Uuid, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::ChatRecord>> {
                let rows: Vec<sql::ChatRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM chat_messages WHERE family_id = $1 ORDER BY created_at DESC, client_id DESC LIMIT $2",
                    sql::CHAT_COLUMNS
                ))
                .bind(family.to_string())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut messages = rows.into_iter().map(sql::chat).collect::<$crate::store::StoreResult<Vec<_>>>()?;
                messages.reverse();
                Ok(messages)
            }

            async fn raise_alert(
                &self,
                family: uuid::Uuid,
                category: uuid::Uuid,
                month: &str,
                level: u8,
                at_ms: i64,
            ) -> $crate::store::StoreResult<bool> {
                let inserted = sqlx::query(
                    "INSERT INTO budget_alerts (family_id, category_id, month, level, raised_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (family_id, category_id, month, level) DO NOTHING",
                )
                .bind(family.to_string())
                .bind(category.to_string())
                .bind(month)
                .bind(i64::from(level))
                .bind(at_ms)
                .execute(&self.pool)
                .await?;
                Ok(inserted.rows_affected() == 1)
            }

            async fn create_challenge(&self, c: &$crate::store::ChallengeRecord) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                sqlx::query(
                    "INSERT INTO challenges (id, family_id, created_by, kind, category_id, limit_minor, starts_on, ends_on, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(c.id.to_string())
                .bind(c.family_id.to_string())
                .bind(c.created_by.to_string())
                .bind(c.kind.as_str())
                .bind(c.category_id.map(|id| id.to_string()))
                .bind(c.limit_minor)
                .bind(c.starts_on.to_string())
                .bind(c.ends_on.to_string())
                .bind(c.status.as_str())
                .bind(c.created_at_ms)
                .execute(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO challenge_members (challenge_id, user_id, joined_at) VALUES ($1, $2, $3)")
                    .bind(c.id.to_string())
                    .bind(c.created_by.to_string())
                    .bind(c.created_at_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn challenges(&self, family: uuid::Uuid, limit: i64) -> $crate::store::StoreResult<Vec<$crate::store::ChallengeRecord>> {
                let rows: Vec<sql::ChallengeRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM challenges WHERE family_id = $1 ORDER BY created_at DESC, id LIMIT $2",
                    sql::CHALLENGE_COLUMNS
                ))
                .bind(family.to_string())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let members: Vec<(String, String)> = sqlx::query_as(
                    "SELECT m.challenge_id, m.user_id FROM challenge_members m \
                     JOIN challenges c ON c.id = m.challenge_id WHERE c.family_id = $1 ORDER BY m.joined_at, m.user_id",
                )
                .bind(family.to_string())
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| sql::challenge(row, &members)).collect()
            }

            async fn join_challenge(
                &self,
                family: uuid::Uuid,
                challenge: uuid::Uuid,
                user: uuid::Uuid,
                at_ms: i64,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin_with($begin).await?;
                let found: Option<(String,)> = sqlx::query_as("SELECT id FROM challenges WHERE id = $1 AND family_id = $2")
                    .bind(challenge.to_string())
                    .bind(family.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err($crate::store::StoreError::NotFound);
                }
                sqlx::query(
                    "INSERT INTO challenge_members (challenge_id, user_id, joined_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (challenge_id, user_id) DO NOTHING",
                )
                .bind(challenge.to_string())
                .bind(user.to_string())
                .bind(at_ms)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn settle_challenge(
                &self,
                family: uuid::Uuid,
                challenge: uuid::Uuid,
                status: app::model::ChallengeStatus,
            ) -> $crate::store::StoreResult<bool> {
                let settled = sqlx::query("UPDATE challenges SET status = $1 WHERE id = $2 AND family_id = $3 AND status = 'active'")
                    .bind(status.as_str())
                    .bind(challenge.to_string())
                    .bind(family.to_string())
                    .execute(&self.pool)
                    .await?;
                Ok(settled.rows_affected() == 1)
            }

            async fn award(&self, family: uuid::Uuid, key: &str, title: &str, at_ms: i64) -> $crate::store::StoreResult<bool> {
                let inserted = sqlx::query(
                    "INSERT INTO achievements (family_id, key, title, awarded_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (family_id, key) DO NOTHING",
                )
                .bind(family.to_string())
                .bind(key)
                .bind(title)
                .bind(at_ms)
                .execute(&self.pool)
                .await?;
                Ok(inserted.rows_affected() == 1)
            }

            async fn achievements(&self, family: uuid::Uuid) -> $crate::store::StoreResult<Vec<(String, String, i64)>> {
                Ok(sqlx::query_as("SELECT key, title, awarded_at FROM achievements WHERE family_id = $1 ORDER BY awarded_at DESC, key")
                    .bind(family.to_string())
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}

pub(super) use store_impl;
