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

#[derive(diesel::QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// How many times a blocked checkpoint is tried again, a quarter second apart.
const CHECKPOINT_TRIES: u32 = 20;

/// After a deleting transaction has committed: SQLite copies the WAL into the database and
/// truncates it (`wal_checkpoint(TRUNCATE)`), tried again while a reader holding an old snapshot
/// blocks it, and an error if it never completes (SQLite reports a blocked checkpoint as a row,
/// not as an error); PostgreSQL vacuums `tables` (which frees the space; it does not erase it).
pub fn after_delete(conn: &mut Conn, tables: &[&str]) -> diesel::QueryResult<()> {
    match conn {
        Conn::Sqlite(c) => {
            use diesel::RunQueryDsl;
            for _ in 0..CHECKPOINT_TRIES {
                let done: Checkpoint =
                    diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result(c)?;
                if done.busy == 0 && done.log == 0 {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            Err(diesel::result::Error::QueryBuilderError(
                "WAL 检查点被其他读者阻塞,未能截断 (wal_checkpoint(TRUNCATE) busy)".into(),
            ))
        }
        Conn::Postgres(c) => {
            for table in tables {
                // Names are the caller's constants, never input.
                c.batch_execute(&format!("VACUUM {table}"))?;
            }
            Ok(())
        }
    }
}

/// After a deleting transaction that follows other releases' history (the upgrade step): SQLite
/// rebuilds the whole file (`VACUUM`, so no free page keeps what any earlier release or
/// migration deleted without `secure_delete`) and then truncates the WAL; PostgreSQL vacuums
/// `tables`, as [`after_delete`].
pub fn rebuild(conn: &mut Conn, tables: &[&str]) -> diesel::QueryResult<()> {
    if let Conn::Sqlite(c) = conn {
        c.batch_execute("VACUUM")?;
    }
    after_delete(conn, tables)
}
