//! Storage: one diesel schema over SQLite (bundled, the embedded default) and PostgreSQL.
//!
//! Queries take `&mut Conn` so they compose inside a caller's transaction. Every multi-row change
//! goes through [`write_transaction`], which on SQLite begins with `BEGIN IMMEDIATE` so that
//! concurrent writers queue on the busy timeout instead of failing with `SQLITE_BUSY` half-way.

pub mod audit;
pub mod campaigns;
pub mod enterprises;
pub mod interactions;
pub mod invitations;
pub mod leases;
pub mod outbox;
pub mod oversight;
pub mod purge;
pub mod ratings;
pub mod responses;
pub mod results;
pub mod schema;
pub mod sessions;
pub mod units;
pub mod users;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either backend; the same queries run on both.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same query code on the backend's own connection, for statements the
/// multi-backend cannot express (multi-row inserts, `COPY`).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}

/// A pool of [`Conn`]s; handlers and commands check one out per unit of work.
pub type Pool = r2d2::Pool<ConnectionManager<Conn>>;
/// A pooled connection.
pub type PooledConn = r2d2::PooledConnection<ConnectionManager<Conn>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Why the database could not be reached or prepared. Messages are for the operator.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("数据库地址无法识别: {0} (database URL must start with sqlite:// or postgres://)")]
    UnknownScheme(String),
    #[error("无法连接数据库 {url}: {source}")]
    Connect {
        url: String,
        source: diesel::ConnectionError,
    },
    #[error("数据库连接池错误: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("数据库迁移失败: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// A database URL whose scheme was checked (MultiConnection::establish hides the real error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (or `:memory:`), without the `sqlite://` prefix.
    Sqlite(String),
    /// The full `postgres://` URL, passed to libpq.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH` or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(DbError::UnknownScheme(url.to_owned()));
            }
            Ok(Self::Sqlite(path.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(DbError::UnknownScheme(redact_url(url)))
        }
    }

    /// Opens one connection with the per-connection settings applied.
    pub fn connect(&self) -> Result<Conn, DbError> {
        let mut conn = match self {
            Self::Sqlite(path) => {
                Conn::Sqlite(SqliteConnection::establish(path).map_err(|source| {
                    DbError::Connect {
                        url: path.clone(),
                        source,
                    }
                })?)
            }
            Self::Postgres(url) => Conn::Postgres(PgConnection::establish(url).map_err(
                |source| DbError::Connect {
                    url: redact_url(url),
                    source,
                },
            )?),
        };
        configure(&mut conn)?;
        Ok(conn)
    }

    /// A pool of `size` connections, each configured like [`DatabaseUrl::connect`].
    pub fn pool(&self, size: u32) -> Result<Pool, DbError> {
        let url = match self {
            Self::Sqlite(path) => path.clone(),
            Self::Postgres(url) => url.clone(),
        };
        // Fail with the real error before the pool hides it behind a timeout.
        drop(self.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(Configure))
            .build(ConnectionManager::<Conn>::new(url))?;
        Ok(pool)
    }

    /// True for SQLite.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Hides the password of a `postgres://user:password@host` URL, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}://{}:***{}",
                    &url[..scheme_end],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// SQLite: WAL, `synchronous=FULL` (an acknowledged commit survives power loss), a busy timeout and
/// foreign keys on. PostgreSQL: times are UTC.
fn configure(conn: &mut Conn) -> Result<(), diesel::result::Error> {
    match conn {
        // The busy timeout comes first: switching to WAL needs a lock that another
        // connection may hold, and without the timeout that fails at once with SQLITE_BUSY.
        Conn::Sqlite(c) => c.batch_execute(
            "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        ),
        Conn::Postgres(c) => c.batch_execute("SET TIME ZONE 'UTC'"),
    }
}

/// Lets commits on this one connection return before the disk has them: SQLite
/// `synchronous = NORMAL` (with WAL a crash never corrupts the file but may lose the last commits),
/// PostgreSQL `synchronous_commit = off`. Only for throwaway data: `qiping demo` runs its bulk
/// steps (imports, invitations, the mail dispatcher) on such a connection, while the server's
/// connections, which store the answers, keep the durable default.
pub fn relax_durability(conn: &mut Conn) -> Result<(), diesel::result::Error> {
    match conn {
        Conn::Sqlite(c) => c.batch_execute("PRAGMA synchronous = NORMAL"),
        Conn::Postgres(c) => c.batch_execute("SET synchronous_commit = off"),
    }
}

#[derive(Debug)]
struct Configure;

impl CustomizeConnection<Conn, r2d2::Error> for Configure {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        configure(conn).map_err(r2d2::Error::QueryError)
    }
}

/// Applies pending migrations of the connection's backend; returns the names applied.
pub fn migrate(conn: &mut Conn) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        Conn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        Conn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Runs `f` in one transaction that lands whole or not at all. On SQLite the outermost
/// transaction is `BEGIN IMMEDIATE` (it takes the write lock up front, so it waits on the busy
/// timeout rather than failing at its first write); nested calls become savepoints.
pub fn write_transaction<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Conn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let top_level_sqlite = match conn {
        Conn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map_err(E::from)?
            .is_none(),
        Conn::Postgres(_) => false,
    };
    if !top_level_sqlite {
        return conn.transaction(f);
    }
    if let Conn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let outcome = f(conn);
    if let Conn::Sqlite(c) = conn {
        match &outcome {
            Ok(_) => AnsiTransactionManager::commit_transaction(c)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
        }
    }
    outcome
}

/// The current time in UTC, as stored.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_checked_before_connecting() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://qiping.db").ok(),
            Some(DatabaseUrl::Sqlite("qiping.db".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("mysql://x"),
            Err(DbError::UnknownScheme(_))
        ));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact_url("postgres://qiping:s3cret@db:5432/q"),
            "postgres://qiping:***@db:5432/q"
        );
        assert_eq!(redact_url("postgres://db/q"), "postgres://db/q");
    }
}
