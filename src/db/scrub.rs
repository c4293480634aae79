//! Making deleted answers unreadable in the database's own files, not only in its tables.
//!
//! A deleted row stays readable in SQLite's free pages (unless `secure_delete` was on when it was
//! deleted) and in the WAL until a checkpoint truncates it; in PostgreSQL it stays in its table's
//! pages until `VACUUM` marks the space free (VACUUM frees, it does not erase: what was written
//! before may stay on the disk, and in every backup made meanwhile — which is why the sealed
//! ballots' guarantee rests on destroying the ballot key, not on this).

use diesel::connection::SimpleConnection;

use super::Conn;

/// SQLite: from now on this connection overwrites what it deletes with zeros
/// (`PRAGMA secure_delete`). Call it before the transaction that deletes. PostgreSQL: nothing.
pub fn overwrite_deleted(conn: &mut Conn) -> diesel::QueryResult<()> {
    match conn {
        Conn::Sqlite(c) => c.batch_execute("PRAGMA secure_delete = ON"),
        Conn::Postgres(_) => Ok(()),
    }
}

/// After a deleting transaction has committed: SQLite copies the WAL into the database and
/// truncates it (`wal_checkpoint(TRUNCATE)`; a reader still holding an old snapshot makes it wait
/// for the busy timeout); PostgreSQL vacuums `tables`.
pub fn after_delete(conn: &mut Conn, tables: &[&str]) -> diesel::QueryResult<()> {
    match conn {
        Conn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)"),
        Conn::Postgres(c) => {
            for table in tables {
                // Names are the caller's constants, never input.
                c.batch_execute(&format!("VACUUM {table}"))?;
            }
            Ok(())
        }
    }
}
