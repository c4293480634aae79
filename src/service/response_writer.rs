//! Group commit: one writer thread takes the submissions queued by request handlers, stores all of
//! them in one transaction, commits, and only then acknowledges each.
//!
//! Why: with `synchronous=FULL` every SQLite commit waits for the disk, and concurrent writers
//! queue on the write lock; one commit for a batch pays that wait once. Why nothing acknowledged
//! can be lost: a handler answers 201 only after the writer's `COMMIT` has returned, and a commit
//! returns only once the WAL is synced to disk (`synchronous=FULL`; on PostgreSQL,
//! `synchronous_commit` on). If the commit fails, every submission of the batch gets the error
//! and none is acknowledged. A refused submission (a used link, a closed campaign) is refused
//! before it writes anything, and a submission that fails otherwise makes the writer run the
//! batch again with each submission in its own savepoint ([`store_all`]), so one failure does
//! not undo the others. The one-link-one-response guard is in [`response::store`].
//!
//! **Checkpoints off the commit path (SQLite).** By default SQLite copies the WAL back into the
//! database file inside whichever commit pushes the WAL past 1,000 pages, so that one batch waits
//! for the copy and its fsync. The writer's connection turns that off and a checkpointer thread
//! runs a passive checkpoint (which never blocks the writer) every [`CHECKPOINT_EVERY`]; readers
//! and the writer go on meanwhile, and the WAL stays small.

use std::sync::mpsc;
use std::thread;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use tokio::sync::oneshot;

use super::response::{self, OpenCampaigns, Prepared, SubmitError};
use crate::db::{Conn, Pool, PooledConn, Unavailable, write_transaction};

/// Most submissions committed together; bounds the time a batch holds the write lock.
pub const MAX_BATCH: usize = 256;

/// How often the checkpointer copies the WAL into the database file (SQLite).
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

type Reply = oneshot::Sender<Result<(), SubmitError>>;

/// The handle request handlers use; cloning it shares the one writer.
///
/// The queue is unbounded: what waits in it is bounded by the requests the server accepts at
/// once (each waits for its own answer), and a submission is never turned away for a full queue.
#[derive(Debug, Clone)]
pub struct ResponseWriter {
    queue: mpsc::Sender<(Prepared, Reply)>,
}

impl ResponseWriter {
    /// Starts the writer thread on a connection of `pool` (held while submissions keep coming),
    /// and on SQLite the checkpointer thread. The threads end when every handle is dropped.
    pub fn start(pool: Pool) -> Result<Self, std::io::Error> {
        let (queue, jobs) = mpsc::channel::<(Prepared, Reply)>();
        let (stopped, stop) = mpsc::channel::<()>();
        let writes = pool.clone();
        thread::Builder::new()
            .name("qiping-response-writer".into())
            .spawn(move || {
                run(&writes, jobs);
                drop(stopped);
            })?;
        thread::Builder::new()
            .name("qiping-checkpointer".into())
            .spawn(move || checkpointer(pool, stop))?;
        Ok(Self { queue })
    }

    /// Queues a prepared submission; the answer comes once it is committed (or refused). Waiting
    /// for it holds no thread.
    pub async fn store(&self, prepared: Prepared) -> Result<(), SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((prepared, reply))
            .map_err(|_| SubmitError::Internal("response writer stopped".into()))?;
        answer
            .await
            .map_err(|_| SubmitError::Internal("response writer stopped".into()))?
    }
}

fn run(pool: &Pool, jobs: mpsc::Receiver<(Prepared, Reply)>) {
    // The connection stays with the writer while submissions keep coming, so that its page
    // cache and prepared statements stay warm; it goes back to the pool whenever the queue runs
    // dry, and after a failed batch (the pool drops a broken one).
    let mut held: Option<PooledConn> = None;
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => {
                held = None;
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let outcomes = commit(pool, &mut held, &batch);
        tracing::debug!(
            size = batch.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "答卷批量提交"
        );
        for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
            // A handler that went away no longer needs its answer.
            let _ = reply.send(outcome);
        }
        next = jobs.try_recv().ok();
    }
}

/// Passive WAL checkpoints every [`CHECKPOINT_EVERY`] until the writer stops (SQLite only; on
/// PostgreSQL the thread ends at once).
fn checkpointer(pool: Pool, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let Ok(mut conn) = pool.get() else { continue };
        let Conn::Sqlite(c) = &mut *conn else { return };
        if let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!("WAL 检查点失败: {e}");
        }
    }
}

/// The writer's connection settings (SQLite; nothing on PostgreSQL): the checkpointer thread does
/// its checkpoints, and a 64 MiB page cache keeps the index pages random ids land on in memory
/// instead of reading them back from the file (the default is 2 MiB).
fn writer_settings(conn: &mut Conn) -> Result<(), diesel::result::Error> {
    match conn {
        Conn::Sqlite(c) => {
            c.batch_execute("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -65536")
        }
        Conn::Postgres(_) => Ok(()),
    }
}

/// Stores a batch in one transaction; returns one outcome per submission, all errors if the
/// transaction itself failed. A database out of reach (a lost connection, no pooled connection, a
/// full or read-only SQLite file) is [`SubmitError::Unavailable`], which clients see as 503 and
/// may retry: nothing of the batch was acknowledged.
fn commit(
    pool: &Pool,
    held: &mut Option<PooledConn>,
    batch: &[(Prepared, Reply)],
) -> Vec<Result<(), SubmitError>> {
    let conn = match held {
        Some(conn) => Ok(conn),
        None => pool
            .get()
            .map_err(|e| (Some(Unavailable::NoConnection), e.to_string()))
            .and_then(|mut conn| {
                writer_settings(&mut conn).map_err(|e| (Unavailable::of(&e), e.to_string()))?;
                Ok(held.insert(conn))
            }),
    };
    let attempt = conn.and_then(|conn| {
        match write_transaction(conn, |c| store_all(c, batch, false)) {
            Err(Abort::Retry) => write_transaction(conn, |c| store_all(c, batch, true)),
            quick => quick,
        }
        .map_err(|abort| match abort {
            Abort::Db(e) => (Unavailable::of(&e), e.to_string()),
            Abort::Retry => (None, "careful pass asked for a retry".into()),
        })
    });
    if attempt.is_err() {
        *held = None;
    }
    match attempt {
        Ok(outcomes) => outcomes
            .into_iter()
            .map(|outcome| match outcome {
                // A savepoint that failed because the database went away is not the
                // submission's fault either.
                Err(SubmitError::Db(e)) => Err(Unavailable::of(&e)
                    .map(SubmitError::Unavailable)
                    .unwrap_or(SubmitError::Db(e))),
                other => other,
            })
            .collect(),
        Err((reason, message)) => {
            tracing::error!(%message, "答卷批量写入失败,本批答卷均未保存");
            batch
                .iter()
                .map(|_| {
                    Err(match reason {
                        Some(reason) => SubmitError::Unavailable(reason),
                        None => SubmitError::Internal(message.clone()),
                    })
                })
                .collect()
        }
    }
}

/// Why a pass over a batch gave up its transaction.
enum Abort {
    /// The transaction itself failed.
    Db(diesel::result::Error),
    /// A submission failed after writing part of itself: the batch runs again, carefully.
    Retry,
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e)
    }
}

/// Stores every submission of a batch inside the caller's transaction.
///
/// The quick pass (`careful` false) runs them one after another without savepoints: a refused
/// submission (a used link, a closed campaign) is refused before it writes anything, so it needs
/// none, and a savepoint costs a copy of every page it touches. Any other failure may leave half
/// a submission written, so the quick pass gives up and the caller rolls the batch back and runs
/// it again carefully: each submission in its own savepoint, so that one failure does not undo
/// the others.
fn store_all(
    conn: &mut Conn,
    batch: &[(Prepared, Reply)],
    careful: bool,
) -> Result<Vec<Result<(), SubmitError>>, Abort> {
    let mut open = OpenCampaigns::default();
    let mut outcomes = Vec::with_capacity(batch.len());
    for (prepared, _) in batch {
        let outcome = if careful {
            conn.transaction(|c| response::store_in(c, &mut open, prepared))
        } else {
            let outcome = response::store_in(conn, &mut open, prepared);
            if let Err(e) = &outcome
                && !matches!(e, SubmitError::Used | SubmitError::Closed)
            {
                return Err(Abort::Retry);
            }
            outcome
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
