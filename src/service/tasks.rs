//! The background tasks of `qiping serve` (the mail dispatcher with the reminder schedule, the
//! problem deadlines) never die quietly. Each runs under [`supervise`]: one round at a time inside
//! `catch_unwind`; a round that fails or panics is logged, counted on the [`TaskBoard`] and tried
//! again after a backoff that doubles from one second up to five minutes (reset by the next round
//! that works). `/healthz?deep=1` reads the board: whether each task is alive and when it last
//! worked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::ServiceError;
use crate::db::{Conn, now};

/// The longest wait before a failed task is tried again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How one task is doing, as `/healthz?deep=1` shows it. Holds no error text: the reasons are in
/// the log, and this is answered to anyone who asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskHealth {
    pub name: String,
    /// The thread is running and has shown a sign of life within `stale_after_seconds`.
    pub alive: bool,
    /// `running`, `waiting` (between rounds), `backing_off` (after a failure), `not_started`.
    pub state: String,
    pub started_at: Option<NaiveDateTime>,
    /// The last sign of life: a round begun or ended, or a message handled.
    pub heartbeat_at: Option<NaiveDateTime>,
    /// The end of the last round that worked.
    pub last_success_at: Option<NaiveDateTime>,
    pub last_failure_at: Option<NaiveDateTime>,
    /// Failed or panicked rounds since start, each followed by a restart.
    pub failures: u64,
    pub stale_after_seconds: u64,
}

impl TaskHealth {
    fn new(name: &str, stale_after: Duration) -> Self {
        TaskHealth {
            name: name.to_owned(),
            alive: false,
            state: "not_started".into(),
            started_at: None,
            heartbeat_at: None,
            last_success_at: None,
            last_failure_at: None,
            failures: 0,
            stale_after_seconds: stale_after.as_secs(),
        }
    }
}

/// The tasks of one process and how each is doing; shared by the tasks and the web.
#[derive(Debug, Clone, Default)]
pub struct TaskBoard(Arc<Mutex<BTreeMap<String, TaskHealth>>>);

impl TaskBoard {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, TaskHealth>> {
        // A panic never happens while the lock is held; if it did, the data is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut TaskHealth)) {
        let mut tasks = self.lock();
        if let Some(task) = tasks.get_mut(name) {
            f(task);
        }
    }

    /// Records a task that was meant to run but could not start (the log says why).
    pub fn not_started(&self, name: &str) {
        self.lock()
            .insert(name.to_owned(), TaskHealth::new(name, Duration::ZERO));
    }

    /// A sign of life from inside a long round (e.g. after each message).
    pub fn heartbeat(&self, name: &str) {
        self.update(name, |t| t.heartbeat_at = Some(now()));
    }

    /// Every task, by name, with `alive` computed now.
    pub fn snapshot(&self) -> Vec<TaskHealth> {
        let at = now();
        self.lock()
            .values()
            .map(|t| {
                let mut t = t.clone();
                let stale = chrono::Duration::from_std(Duration::from_secs(t.stale_after_seconds))
                    .unwrap_or_default();
                t.alive = t.state != "not_started"
                    && t.state != "stopped"
                    && t.heartbeat_at.is_some_and(|h| at - h <= stale);
                t
            })
            .collect()
    }
}

/// Runs `round` every `every`, forever, on a thread named `name`: a round that returns an error
/// or panics is logged and the task restarts after a doubling backoff. `stale_after` is how long
/// a round may go without a heartbeat before the task counts as not alive (longer than the
/// longest quiet stretch of a healthy round).
pub fn supervise<F>(
    board: &TaskBoard,
    name: &str,
    every: Duration,
    stale_after: Duration,
    mut round: F,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnMut(&TaskBoard) -> Result<(), ServiceError> + Send + 'static,
{
    let mut health = TaskHealth::new(name, stale_after);
    health.state = "running".into();
    health.started_at = Some(now());
    health.heartbeat_at = health.started_at;
    board.lock().insert(name.to_owned(), health);
    let board = board.clone();
    let task = name.to_owned();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let mut backoff = Duration::from_secs(1);
            loop {
                board.update(&task, |t| {
                    t.state = "running".into();
                    t.heartbeat_at = Some(now());
                });
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| round(&board)));
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(panic) => Some(format!("程序出错(panic):{}", panic_text(panic.as_ref()))),
                };
                let wait = match failure {
                    None => {
                        backoff = Duration::from_secs(1);
                        board.update(&task, |t| {
                            let at = now();
                            t.state = "waiting".into();
                            t.heartbeat_at = Some(at);
                            t.last_success_at = Some(at);
                        });
                        every
                    }
                    Some(reason) => {
                        let wait = backoff;
                        tracing::error!(
                            task = %task,
                            retry_in_seconds = wait.as_secs(),
                            "后台任务出错,稍后重启: {reason}"
                        );
                        board.update(&task, |t| {
                            let at = now();
                            t.state = "backing_off".into();
                            t.heartbeat_at = Some(at);
                            t.last_failure_at = Some(at);
                            t.failures += 1;
                        });
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        wait
                    }
                };
                std::thread::sleep(wait);
            }
        })
}

/// Runs the work on one item (a message, a problem) so that an error or a panic fails that item
/// alone: `Ok(Ok(value))`, or `Ok(Err(reason))` for the caller to record on the item, or `Err`
/// when the database is out of reach — then nothing could be recorded, and the round stops to be
/// tried again.
pub fn one_item<T>(
    work: impl FnOnce() -> Result<T, ServiceError>,
) -> Result<Result<T, String>, ServiceError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(Ok(value)) => Ok(Ok(value)),
        Ok(Err(ServiceError::Db(e))) if crate::db::Unavailable::of(&e).is_some() => {
            Err(ServiceError::Db(e))
        }
        Ok(Err(e)) => Ok(Err(e.to_string())),
        Err(panic) => Ok(Err(format!(
            "程序出错(panic),已跳过这一项,其余照常处理:{}",
            panic_text(panic.as_ref())
        ))),
    }
}

/// [`one_item`] for work on a connection: after a caught panic any transaction the work left open
/// is rolled back, so the next item starts clean.
pub fn one_item_on<T>(
    conn: &mut Conn,
    work: impl FnOnce(&mut Conn) -> Result<T, ServiceError>,
) -> Result<Result<T, String>, ServiceError> {
    let outcome = one_item(|| work(&mut *conn));
    if matches!(outcome, Ok(Err(_))) {
        crate::db::abandon_open_transaction(conn)?;
    }
    outcome
}

/// The message of a caught panic (`panic!` with a string, or a formatted one).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(无说明)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_that_panics_is_restarted_and_the_task_stays_alive() {
        let board = TaskBoard::default();
        let mut rounds = 0;
        let _handle = supervise(
            &board,
            "test-task",
            Duration::from_millis(10),
            Duration::from_secs(60),
            move |_| {
                rounds += 1;
                match rounds {
                    1 => panic!("injected"),
                    2 => Err(ServiceError::Internal("injected".into())),
                    _ => Ok(()),
                }
            },
        )
        .expect("thread");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let task = board.snapshot().remove(0);
            if task.last_success_at.is_some() {
                assert_eq!(task.failures, 2);
                assert!(task.alive, "{task:?}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{task:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn a_task_that_could_not_start_is_not_alive() {
        let board = TaskBoard::default();
        board.not_started("mail-dispatcher");
        let task = &board.snapshot()[0];
        assert!(!task.alive);
        assert_eq!(task.state, "not_started");
    }
}
