//! `hearth backup <file>` and `hearth restore [--force] <file>`: copies of the SQLite store.
//!
//! A backup is SQLite's `VACUUM INTO`: one consistent snapshot of the database (one read
//! transaction), taken while the server keeps serving and writing (WAL mode: the writer does not
//! wait for it), written to a new file that is complete or absent. A restore checks the file
//! (SQLite's integrity check, a Hearth database, not from a newer Hearth), puts it in place of
//! the configured database in one rename, and runs the migrations forward, so a backup of an
//! older version restores into this one. PostgreSQL has `pg_dump` and `pg_restore` for this
//! (DEPLOY.md).

use crate::config::DatabaseSettings;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore are for the SQLite store; for PostgreSQL use pg_dump and \
         pg_restore (DEPLOY.md)"
    )]
    Postgres,
    #[error("{0} already exists (a backup never overwrites a file)")]
    TargetExists(PathBuf),
    #[error("there is no database at {0}")]
    NoDatabase(PathBuf),
    #[error(
        "{0} exists: stop the server that uses it, then run `hearth restore --force <file>` to \
         replace it"
    )]
    WouldReplace(PathBuf),
    #[error("{file} is not a Hearth backup: {why}")]
    NotABackup { file: PathBuf, why: String },
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Migrate(#[from] crate::store::StoreError),
}

/// What a backup or a restored database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub families: i64,
    pub users: i64,
    pub expenses: i64,
    pub bytes: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} families, {} people, {} expenses ({} bytes)",
            self.families, self.users, self.expenses, self.bytes
        )
    }
}

fn sqlite_path(settings: &DatabaseSettings) -> Result<&Path, BackupError> {
    match settings {
        DatabaseSettings::Sqlite { path } => Ok(path),
        DatabaseSettings::Postgres { .. } => Err(BackupError::Postgres),
    }
}

async fn open(path: &Path, read_only: bool) -> Result<SqliteConnection, BackupError> {
    if !path.is_file() {
        return Err(BackupError::NoDatabase(path.to_path_buf()));
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(10));
    Ok(options.connect().await?)
}

async fn summarise(connection: &mut SqliteConnection, path: &Path) -> Result<Summary, BackupError> {
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    let mut counts = [0i64; 3];
    for (slot, table) in counts.iter_mut().zip(["families", "users", "expenses"]) {
        *slot = sqlx::query_scalar(&count(table))
            .fetch_one(&mut *connection)
            .await?;
    }
    Ok(Summary {
        families: counts[0],
        users: counts[1],
        expenses: counts[2],
        bytes: std::fs::metadata(path)?.len(),
    })
}

/// Writes a consistent copy of the configured SQLite database to `to`, a new file.
pub async fn backup(settings: &DatabaseSettings, to: &Path) -> Result<Summary, BackupError> {
    let from = sqlite_path(settings)?;
    if to.exists() {
        return Err(BackupError::TargetExists(to.to_path_buf()));
    }
    let mut source = open(from, true).await?;
    // Written under a temporary name and renamed: the named file is a whole backup or absent.
    let partial = with_suffix(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    let written = sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut source)
        .await;
    source.close().await?;
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    std::fs::rename(&partial, to)?;
    let mut copy = open(to, true).await?;
    let summary = summarise(&mut copy, to).await;
    copy.close().await?;
    summary
}

/// Puts the backup `from` in place of the configured SQLite database (which must not exist
/// unless `force`), then migrates it forward.
pub async fn restore(
    settings: &DatabaseSettings,
    from: &Path,
    force: bool,
) -> Result<Summary, BackupError> {
    let to = sqlite_path(settings)?;
    check(from).await?;
    if to.exists() && !force {
        return Err(BackupError::WouldReplace(to.to_path_buf()));
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let incoming = with_suffix(to, ".restoring");
    std::fs::copy(from, &incoming)?;
    std::fs::File::open(&incoming)?.sync_all()?;
    // The replaced database's write-ahead log belongs to it, not to the backup.
    for stale in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(to, stale));
    }
    std::fs::rename(&incoming, to)?;
    // Forward to this version's schema (and back to WAL mode, as the server runs it).
    let store = crate::store::SqliteStore::open(to).await?;
    drop(store);
    let mut restored = open(to, true).await?;
    let summary = summarise(&mut restored, to).await;
    restored.close().await?;
    summary
}

/// A backup must be a sound SQLite file holding a Hearth schema no newer than this binary's.
async fn check(file: &Path) -> Result<(), BackupError> {
    let not_a_backup = |why: String| BackupError::NotABackup {
        file: file.to_path_buf(),
        why,
    };
    let mut connection = open(file, true)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    if integrity != "ok" {
        return Err(not_a_backup(format!("integrity check: {integrity}")));
    }
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
        .fetch_all(&mut connection)
        .await
        .map_err(|_| not_a_backup("no migrations table".into()))?;
    let known: Vec<i64> = crate::store::MIGRATOR.iter().map(|m| m.version).collect();
    if versions.is_empty() {
        return Err(not_a_backup("no migration was applied".into()));
    }
    if let Some(newer) = versions.iter().find(|v| !known.contains(v)) {
        return Err(not_a_backup(format!(
            "it was made by a newer Hearth (migration {newer}); upgrade this binary first"
        )));
    }
    connection.close().await?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
