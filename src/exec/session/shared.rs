//! What a session shares with its async handle and its connection loop:
//! interrupts, transaction state, notices, timeouts and notifications.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::exec::{next_id, TxnState};

/// What a session shares with its async handle: the interrupt handles of
/// every SQLite connection working for its current statement (its own, and
/// fragment workers'), and its statement_timeout.
#[derive(Default)]
pub struct Shared {
    interrupts: parking_lot::Mutex<Vec<(u64, crate::store::Interrupt)>>,
    pub timeout_ms: AtomicU64,
    /// The session's transaction state after its last statement (0 idle,
    /// 1 in a block, 2 failed), for ReadyForQuery.
    txn_state: std::sync::atomic::AtomicU8,
    /// Notices and warnings of the current statement, for the client
    /// (NoticeResponse).
    notices: parking_lot::Mutex<Vec<Notice>>,
    /// Cancelled with the current statement: stops waiting for peers.
    pub(super) cancel: parking_lot::Mutex<tokio_util::sync::CancellationToken>,
    /// Notifications for the client (`cluster::notify`).
    pub inbox: Arc<crate::cluster::notify::Inbox>,
    /// idle_in_transaction_session_timeout and idle_session_timeout, in
    /// milliseconds (0: none), for the connection loop.
    idle_in_transaction_ms: AtomicU64,
    idle_ms: AtomicU64,
    /// What pg_stat_activity shows of the session (`exec::backends`).
    pub(crate) activity: parking_lot::Mutex<crate::exec::backends::Activity>,
    /// Set by pg_terminate_backend; `terminating` wakes the connection.
    pub(crate) terminated: std::sync::atomic::AtomicBool,
    pub(crate) terminating: tokio::sync::Notify,
    /// A statement ended with the FATAL error that says so.
    pub(crate) fatal_told: std::sync::atomic::AtomicBool,
    /// The session's `search_path` setting as it stands, for the catalog
    /// functions (`exec::pg_catalog`'s lookups: `::regclass`,
    /// `pg_table_is_visible`, `current_schema`).
    pub(crate) search_path: Arc<parking_lot::RwLock<String>>,
    /// Rows the running statement sent its client so far.
    pub(crate) rows_sent: AtomicU64,
}

impl Shared {
    /// The session's settings changed: its timeouts and application_name
    /// as they say now.
    pub(crate) fn take_settings(&self, settings: &crate::exec::settings::Settings) {
        let path = settings.get("search_path").unwrap_or_default();
        if *self.search_path.read() != path {
            *self.search_path.write() = path;
        }
        let name = settings.get("application_name").unwrap_or_default();
        if self.activity.lock().application_name != name {
            self.activity.lock().application_name = name;
        }
        let ms = |name| settings.millis(name);
        self.timeout_ms
            .store(ms("statement_timeout"), Ordering::Relaxed);
        self.idle_in_transaction_ms
            .store(ms("idle_in_transaction_session_timeout"), Ordering::Relaxed);
        self.idle_ms
            .store(ms("idle_session_timeout"), Ordering::Relaxed);
    }

    /// How long the session may wait for its client now (0: for ever):
    /// idle_in_transaction_session_timeout inside a transaction block,
    /// idle_session_timeout outside.
    pub fn idle_limit_ms(&self) -> u64 {
        match self.txn_state() {
            TxnState::Idle => self.idle_ms.load(Ordering::Relaxed),
            _ => self.idle_in_transaction_ms.load(Ordering::Relaxed),
        }
    }

    /// The transaction state ReadyForQuery must report.
    pub fn txn_state(&self) -> TxnState {
        match self.txn_state.load(Ordering::Relaxed) {
            1 => TxnState::InBlock,
            2 => TxnState::Failed,
            _ => TxnState::Idle,
        }
    }

    pub(super) fn set_txn_state(&self, t: TxnState) {
        let v = match t {
            TxnState::Idle => 0,
            TxnState::InBlock => 1,
            TxnState::Failed => 2,
        };
        self.txn_state.store(v, Ordering::Relaxed);
    }

    /// Queue a WARNING (01000) for the client.
    pub fn warn(&self, message: String) {
        self.warn_with("01000", message);
    }

    /// Queue a WARNING with SQLSTATE `code` for the client.
    pub fn warn_with(&self, code: &'static str, message: String) {
        self.notices.lock().push(Notice {
            severity: "WARNING",
            code,
            message,
        });
    }

    /// Queue a NOTICE with SQLSTATE `code` for the client (see
    /// `Session::notice`, which heeds client_min_messages).
    pub fn notice(&self, code: &'static str, message: String) {
        self.notices.lock().push(Notice {
            severity: "NOTICE",
            code,
            message,
        });
    }

    /// The notices and warnings queued since the last call.
    pub fn take_notices(&self) -> Vec<Notice> {
        std::mem::take(&mut *self.notices.lock())
    }

    /// What cancels the current statement's requests to peers.
    pub fn cancel_token(&self) -> tokio_util::sync::CancellationToken {
        self.cancel.lock().clone()
    }

    /// Interrupt every connection working for the session (a cancel).
    pub fn interrupt_all(&self) {
        self.cancel.lock().cancel();
        for (_, h) in self.interrupts.lock().iter() {
            h.interrupt();
        }
    }

    /// Register a connection's interrupt handle until the guard drops.
    pub fn register(self: &Arc<Self>, conn: &crate::store::Conn) -> InterruptGuard {
        let id = next_id();
        self.interrupts.lock().push((id, conn.interrupt_handle()));
        InterruptGuard {
            shared: self.clone(),
            id,
        }
    }
}

/// Keeps a connection cancellable while it works for a session.
pub struct InterruptGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        self.shared.interrupts.lock().retain(|(i, _)| *i != self.id);
    }
}

/// A NoticeResponse for the client: its severity (NOTICE, WARNING), its
/// SQLSTATE and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
}
