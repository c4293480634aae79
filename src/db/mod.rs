//! Storage: one diesel schema over SQLite (bundled, the embedded default) and PostgreSQL.
//!
//! Queries take `&mut Conn` so they compose inside a caller's transaction. Every multi-row change
//! goes through [`write_transaction`], which on SQLite begins with `BEGIN IMMEDIATE` so that
//! concurrent writers queue on the busy timeout instead of failing with `SQLITE_BUSY` half-way.

pub mod answers;
pub mod audit;
pub mod ballots;
pub mod campaigns;
pub mod enterprises;
pub mod interactions;
pub mod invitations;
pub mod leases;
pub mod moderation;
pub mod outbox;
pub mod oversight;
pub mod problems;
pub mod progress;
pub mod purge;
pub mod ratings;
pub mod registry_search;
pub mod results;
pub mod schema;
pub mod scrub;
pub mod sessions;
pub mod sign_in_names;
pub mod survey_units;
pub mod survey_views;
pub mod units;
pub mod upgrade;
pub mod users;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2;
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
pub type Pool = r2d2::Pool<Manager>;
/// A pooled connection.
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Opens the pool's connections with [`DatabaseUrl::connect`], so that a failure says why (diesel's
/// manager for a MultiConnection reports every failure, a refused connection included, as
/// "Invalid connection url for multiconnection": no help to an operator during an outage).
#[derive(Debug)]
pub struct Manager(DatabaseUrl);

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = DbError;

    fn connect(&self) -> Result<Conn, DbError> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        r2d2::R2D2Connection::is_broken(conn)
    }
}

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

    /// A pool of `size` connections, each configured like [`DatabaseUrl::connect`]; a checkout
    /// waits at most 10 s.
    pub fn pool(&self, size: u32) -> Result<Pool, DbError> {
        self.pool_with_timeout(size, Duration::from_secs(10))
    }

    /// The same, with a checkout waiting at most `timeout` (then [`r2d2::PoolError`]).
    pub fn pool_with_timeout(&self, size: u32, timeout: Duration) -> Result<Pool, DbError> {
        // Fail with the real error before the pool hides it behind a timeout.
        drop(self.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .connection_timeout(timeout.max(Duration::from_millis(100)))
            .build(Manager(self.clone()))?;
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

/// SQLite's page cache of this connection: `kib` KiB, or SQLite's default (2,000 KiB) with
/// `None`. A transaction that writes millions of rows (the close of a province) keeps its indexes'
/// hot pages in memory with a larger one, instead of writing a page to the WAL again each time it
/// is evicted. PostgreSQL: nothing (its buffers are the server's).
pub fn page_cache(conn: &mut Conn, kib: Option<usize>) -> Result<(), diesel::result::Error> {
    match conn {
        Conn::Sqlite(c) => c.batch_execute(&format!(
            "PRAGMA cache_size = -{}",
            kib.unwrap_or(2000).max(1)
        )),
        Conn::Postgres(_) => Ok(()),
    }
}

/// Applies pending migrations of the connection's backend; returns the names applied. Refuses,
/// changing nothing, what a pending migration could not apply (see [`check_before_migrating`]).
pub fn migrate(conn: &mut Conn) -> Result<Vec<String>, DbError> {
    let pending: Vec<String> = match conn {
        Conn::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        Conn::Postgres(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    check_before_migrating(conn, &pending)?;
    let applied = match conn {
        Conn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        Conn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

#[derive(diesel::QueryableByName)]
struct OpenPeriod {
    #[diesel(sql_type = diesel::sql_types::Text)]
    period: String,
}

/// What the data must allow before the pending migrations run, so that none fails half-way on it:
/// `000008_discard_and_views` allows one campaign under way at a time, and an earlier release let
/// an office open two.
fn check_before_migrating(conn: &mut Conn, pending: &[String]) -> Result<(), DbError> {
    if !pending
        .iter()
        .any(|m| m.contains("000008_discard_and_views"))
    {
        return Ok(());
    }
    // A database without campaigns yet (a new one) has nothing to check.
    let Ok(open) =
        diesel::sql_query("SELECT period FROM campaigns WHERE state = 'open' ORDER BY period")
            .load::<OpenPeriod>(conn)
    else {
        return Ok(());
    };
    if open.len() > 1 {
        let periods: Vec<String> = open.into_iter().map(|p| p.period).collect();
        return Err(DbError::Migration(format!(
            "{} 的评议活动同时处于进行中,新版本同一时间只允许进行一期评议。\
             请先用当前版本截止其中较早的一期(qiping campaign close PERIOD),再运行 qiping migrate;\
             数据库未作任何改动",
            periods.join("、")
        )));
    }
    Ok(())
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

/// One round trip that does nothing: does the database answer?
pub fn ping(conn: &mut Conn) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// Rolls back whatever transaction a caught panic left open on `conn` (the unwinding skipped the
/// rollback), so the connection can be used again; without it every later write would land in a
/// transaction that never commits.
pub fn abandon_open_transaction(conn: &mut Conn) -> QueryResult<()> {
    fn unwind<C>(c: &mut C) -> QueryResult<()>
    where
        C: Connection<TransactionManager = AnsiTransactionManager>,
    {
        while AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()?
            .is_some()
        {
            AnsiTransactionManager::rollback_transaction(c)?;
        }
        Ok(())
    }
    match conn {
        Conn::Sqlite(c) => unwind(c),
        Conn::Postgres(c) => unwind(c),
    }
}

/// Why a statement failed for a reason outside the request: the database is out of reach or
/// cannot store anything now. Such a failure is temporary for the client (503, try again), and
/// the operator needs the reason, not the SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The connection to the server was lost or could not be used.
    ConnectionLost,
    /// SQLite: the disk holding the database file is full (`SQLITE_FULL`).
    DiskFull,
    /// SQLite: the file or its folder cannot be written (`SQLITE_READONLY`, `SQLITE_CANTOPEN`).
    ReadOnly,
    /// SQLite: the file could not be read or written (`SQLITE_IOERR`).
    IoError,
    /// SQLite: another process held the write lock past the busy timeout.
    Busy,
    /// No pooled connection within the pool's timeout: the server refuses connections, or every
    /// connection is busy.
    NoConnection,
}

impl Unavailable {
    /// Classifies a diesel error; `None` for errors that are the request's or the code's fault.
    pub fn of(e: &diesel::result::Error) -> Option<Self> {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        let (kind, info) = match e {
            Error::DatabaseError(kind, info) => (kind, info),
            // A statement failed with the connection and so did the ROLLBACK after it: diesel
            // gives up on the transaction (pg_outage.rs met this mid-batch).
            Error::BrokenTransactionManager => return Some(Self::ConnectionLost),
            Error::RollbackErrorOnCommit { commit_error, .. } => return Self::of(commit_error),
            _ => return None,
        };
        match kind {
            Kind::ClosedConnection | Kind::UnableToSendCommand => {
                return Some(Self::ConnectionLost);
            }
            Kind::Unknown => {}
            _ => return None,
        }
        // SQLite reports these with kind Unknown; its messages are fixed strings (sqlite3ErrStr).
        let message = info.message();
        if message.contains("database or disk is full") {
            Some(Self::DiskFull)
        } else if message.contains("readonly database") || message.contains("unable to open") {
            Some(Self::ReadOnly)
        } else if message.contains("disk I/O error") {
            Some(Self::IoError)
        } else if message.contains("database is locked") {
            Some(Self::Busy)
        } else if message.contains("terminating connection")
            || message.contains("server closed the connection")
            || message.contains("no connection to the server")
        {
            Some(Self::ConnectionLost)
        } else {
            None
        }
    }

    /// What the operator reads (zh-CN, with the SQLite term for searching).
    pub fn describe(self) -> &'static str {
        match self {
            Self::ConnectionLost => "与数据库的连接已断开",
            Self::DiskFull => "数据库所在磁盘已满 (database or disk is full)",
            Self::ReadOnly => "数据库文件或其所在目录只读,无法写入 (readonly database)",
            // SQLite reports a full disk this way too when the WAL index (`-shm`) cannot grow.
            Self::IoError => {
                "读写数据库文件时发生磁盘错误 (disk I/O error),请检查磁盘是否已满或损坏"
            }
            Self::Busy => "数据库被其他进程长时间锁定 (database is locked)",
            Self::NoConnection => "在等待时限内未能取得数据库连接",
        }
    }
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
    fn a_pooled_connection_that_fails_says_why_and_hides_the_password() {
        use diesel::r2d2::ManageConnection;
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let url = DatabaseUrl::parse("postgres://qiping:s3cret@127.0.0.1:1/q").expect("url");
        let Err(error) = Manager(url).connect() else {
            panic!("nothing listens on port 1");
        };
        let message = error.to_string();
        assert!(message.contains("127.0.0.1"), "{message}");
        assert!(message.contains("refused"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }

    #[test]
    fn a_connection_lost_mid_transaction_is_unavailable_not_internal() {
        use diesel::result::{DatabaseErrorKind, Error};
        assert_eq!(
            Unavailable::of(&Error::BrokenTransactionManager),
            Some(Unavailable::ConnectionLost)
        );
        let lost = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        assert_eq!(Unavailable::of(&lost), Some(Unavailable::ConnectionLost));
        let full = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database or disk is full".to_owned()),
        );
        assert_eq!(Unavailable::of(&full), Some(Unavailable::DiskFull));
        assert_eq!(Unavailable::of(&Error::NotFound), None);
        let unique = Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert_eq!(Unavailable::of(&unique), None);
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
