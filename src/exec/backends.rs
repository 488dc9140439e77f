//! The client sessions a node serves, as `pg_stat_activity` lists them
//! and `pg_cancel_backend` / `pg_terminate_backend` signal them.
//!
//! Each session keeps its [`Activity`] in its `Shared` (what it runs, since
//! when, in which state); the node's [`Backends`] lists the sessions by
//! backend pid. Sessions run for peers (fragments) and background tasks
//! are not listed, as PostgreSQL's pg_stat_activity lists its client
//! backends only here.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use crate::error::{Error, Result};
use crate::exec::{Shared, TxnState};
use crate::store::Store;
use crate::types::datetime::{clock_micros, StatementTimes};

/// What one session is doing, for pg_stat_activity.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// The role that logged in.
    pub user: String,
    pub application_name: String,
    /// The client's address; `None` for a session not opened over TCP.
    pub client: Option<SocketAddr>,
    /// Microseconds since the Unix epoch.
    pub backend_start: i64,
    pub xact_start: Option<i64>,
    pub query_start: Option<i64>,
    pub state_change: i64,
    /// The last statement's text (the running one's while `running`).
    pub query: Arc<str>,
    /// The text the client sent for the next statement (a simple Query's).
    pub next_query: Option<Arc<str>>,
    pub running: bool,
    /// What the running statement waits for: (wait_event_type, wait_event).
    pub wait: Option<(&'static str, &'static str)>,
    /// The peers the running statement asked so far (`mosaic.queries`).
    pub peers: Vec<String>,
}

impl Activity {
    /// pg_stat_activity's `state` for a session in transaction state `txn`.
    pub fn state(&self, txn: TxnState) -> &'static str {
        match (self.running, txn) {
            (true, _) => "active",
            (false, TxnState::Idle) => "idle",
            (false, TxnState::InBlock) => "idle in transaction",
            (false, TxnState::Failed) => "idle in transaction (aborted)",
        }
    }
}

impl Shared {
    /// A statement starts at `times` (its statement_timestamp() and now());
    /// `text` is its own text when it has one (a Parse's).
    pub(crate) fn statement_starts(&self, text: Option<&Arc<str>>, times: StatementTimes) {
        let mut a = self.activity.lock();
        let sent = a.next_query.take();
        if let Some(t) = text.cloned().or(sent) {
            a.query = t;
        }
        a.running = true;
        a.wait = None;
        a.peers.clear();
        self.rows_sent
            .store(0, std::sync::atomic::Ordering::Relaxed);
        a.query_start = Some(times.statement);
        a.state_change = times.statement;
        a.xact_start = Some(times.transaction);
    }

    /// The statement ended, leaving transaction state `txn`.
    pub(crate) fn statement_ends(&self, txn: TxnState) {
        let mut a = self.activity.lock();
        a.running = false;
        a.wait = None;
        a.state_change = clock_micros();
        if txn == TxnState::Idle {
            a.xact_start = None;
        }
    }

    /// The client sent `text` (a simple Query, which may hold several
    /// statements): pg_stat_activity shows it whole.
    pub fn query_arrives(&self, text: &str) {
        self.activity.lock().next_query = Some(Arc::from(text));
    }

    /// The running statement asked these peers.
    pub(crate) fn asked(&self, peers: impl IntoIterator<Item = String>) {
        let mut a = self.activity.lock();
        for p in peers {
            if !a.peers.contains(&p) {
                a.peers.push(p);
            }
        }
    }

    /// The running statement waits for `event` until the guard drops.
    pub(crate) fn waiting(&self, event: (&'static str, &'static str)) -> WaitGuard<'_> {
        self.activity.lock().wait = Some(event);
        WaitGuard(self)
    }

    /// pg_terminate_backend: the statement is interrupted and the
    /// connection ends (57P01).
    pub fn terminate(&self) {
        self.terminated
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.interrupt_all();
        self.terminating.notify_waiters();
        self.terminating.notify_one();
    }

    /// Whether pg_terminate_backend ended the session.
    pub fn is_terminated(&self) -> bool {
        self.terminated.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once pg_terminate_backend ends the session.
    pub async fn terminated(&self) {
        while !self.is_terminated() {
            self.terminating.notified().await;
        }
    }
}

/// Clears a session's wait event when the wait ends.
pub struct WaitGuard<'a>(&'a Shared);

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.activity.lock().wait = None;
    }
}

/// Whether `sess`'s current role may see what a session of `user` runs:
/// it has that role's privileges or pg_read_all_stats' (PostgreSQL's rule
/// for pg_stat_activity).
pub(crate) fn may_see(sess: &crate::exec::Session, user: &str) -> bool {
    let me = sess.current_role();
    sess.with_roles(|r| r.has_privs_of(&me, user) || r.has_privs_of(&me, "pg_read_all_stats"))
}

/// The client sessions of this node, by backend pid.
#[derive(Default)]
pub struct Backends {
    sessions: parking_lot::Mutex<BTreeMap<i32, Weak<Shared>>>,
}

impl Backends {
    /// List a client session until its `Shared` goes, and give its
    /// statements pg_cancel_backend and pg_terminate_backend.
    pub(crate) fn enlist(
        self: &Arc<Self>,
        pid: i32,
        shared: &Arc<Shared>,
        store: &Arc<Store>,
        functions: &mut crate::store::udf::session::SessionFunctions,
    ) {
        let mut map = self.sessions.lock();
        map.retain(|_, w| w.strong_count() > 0);
        map.insert(pid, Arc::downgrade(shared));
        functions.signals = Some(Arc::new(Signals {
            backends: self.clone(),
            store: store.clone(),
            role: functions.role.clone(),
            shared: shared.clone(),
        }));
    }

    /// Every live session, by pid.
    pub fn list(&self) -> Vec<(i32, Arc<Shared>)> {
        let map = self.sessions.lock();
        map.iter()
            .filter_map(|(pid, w)| w.upgrade().map(|s| (*pid, s)))
            .collect()
    }

    fn get(&self, pid: i32) -> Option<Arc<Shared>> {
        self.sessions.lock().get(&pid).and_then(Weak::upgrade)
    }
}

/// pg_cancel_backend and pg_terminate_backend for one session's
/// statements: what its current role may signal (PostgreSQL's
/// `pg_signal_backend` rules).
pub struct Signals {
    pub backends: Arc<Backends>,
    pub store: Arc<Store>,
    /// The calling session's current role.
    pub role: Arc<parking_lot::RwLock<String>>,
    /// The calling session, for its WARNINGs.
    pub shared: Arc<Shared>,
}

impl Signals {
    /// The session `pid` if the caller may signal it; `None` (with
    /// PostgreSQL's WARNING) when no client session has that pid.
    fn target(&self, pid: i32, terminate: bool) -> Result<Option<Arc<Shared>>> {
        let Some(target) = self.backends.get(pid) else {
            self.shared
                .warn(format!("PID {pid} is not a PostgreSQL backend process"));
            return Ok(None);
        };
        let owner = target.activity.lock().user.clone();
        let me = self.role.read().clone();
        let (super_owner, allowed) = self.store.catalog.with_roles(|r| {
            (
                r.is_superuser(&owner),
                r.has_privs_of(&me, &owner) || r.has_privs_of(&me, "pg_signal_backend"),
            )
        });
        let me_super = self.store.catalog.with_roles(|r| r.is_superuser(&me));
        let denied = |m: &str| Err(Error::PermissionDenied(m.to_string()));
        match (super_owner && !me_super, allowed, terminate) {
            (true, _, false) => denied("must be a superuser to cancel superuser query"),
            (true, _, true) => denied("must be a superuser to terminate superuser process"),
            (false, false, false) => denied(
                "must be a member of the role whose query is being canceled or member of pg_signal_backend",
            ),
            (false, false, true) => denied(
                "must be a member of the role whose process is being terminated or member of pg_signal_backend",
            ),
            (false, true, _) => Ok(Some(target)),
        }
    }
}

impl crate::store::udf::signals::Signals for Signals {
    fn cancel(&self, pid: i32) -> Result<bool> {
        Ok(match self.target(pid, false)? {
            Some(s) => {
                s.interrupt_all();
                true
            }
            None => false,
        })
    }

    fn terminate(&self, pid: i32, timeout_ms: i64) -> Result<bool> {
        if timeout_ms < 0 {
            return Err(Error::InvalidParameter(
                "\"timeout\" must not be negative".into(),
            ));
        }
        let Some(target) = self.target(pid, true)? else {
            return Ok(false);
        };
        target.terminate();
        if timeout_ms == 0 {
            return Ok(true);
        }
        // With a timeout, wait until the session is gone (its Shared
        // dropped with its thread and connection).
        let weak = Arc::downgrade(&target);
        drop(target);
        let until = std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64);
        let cancel = self.shared.cancel_token();
        while weak.strong_count() > 0 {
            if cancel.is_cancelled() {
                return Err(Error::Canceled);
            }
            if std::time::Instant::now() >= until {
                // PostgreSQL's errmsg_plural: "1 millisecond".
                let unit = if timeout_ms == 1 {
                    "millisecond"
                } else {
                    "milliseconds"
                };
                self.shared.warn(format!(
                    "backend with PID {pid} did not terminate within {timeout_ms} {unit}"
                ));
                return Ok(false);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Ok(true)
    }
}

/// A statement of `kind` ended (`ok` or not) after running since `started`:
/// the statement metrics.
pub(crate) fn count_statement(kind: &crate::exec::Kind, ok: bool, started: std::time::Instant) {
    let kind = kind.metric_label();
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(crate::observe::STATEMENTS, "kind" => kind, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(crate::observe::STATEMENT_SECONDS, "kind" => kind)
        .record(started.elapsed().as_secs_f64());
}
