//! The async face of a session. Each session runs on a thread of its own
//! that owns its SQLite connection (blocking code never runs on the async
//! runtime); jobs go to it over a channel and rows come back in batches
//! over a bounded channel, so a slow client backpressures the query and
//! memory stays bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::exec::backends::Backends;
use crate::exec::{Outcome, Prepared, Session};
use crate::store::Store;
use crate::types::Datum;

const BATCH_ROWS: usize = 256;
const BATCHES_IN_FLIGHT: usize = 4;

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// A message of a running statement.
pub enum Event {
    Rows(Vec<Vec<Datum>>),
    End(Result<Outcome>),
}

/// How a statement started: rows to stream, or done.
pub enum Execution {
    /// Rows follow in batches; the last event is `End`.
    Rows(RowStream),
    Done(Outcome),
}

/// The events of a running statement, the first already received.
pub struct RowStream {
    first: Option<Event>,
    rx: mpsc::Receiver<Event>,
}

impl RowStream {
    pub async fn next(&mut self) -> Option<Event> {
        match self.first.take() {
            Some(ev) => Some(ev),
            None => self.rx.recv().await,
        }
    }

    /// Stop the statement: the session thread sees the channel closed.
    pub fn close(&mut self) {
        self.first = None;
        self.rx.close();
    }
}

pub struct SessionHandle {
    jobs: std::sync::mpsc::Sender<Job>,
    shared: Arc<crate::exec::Shared>,
    timed_out: Arc<AtomicBool>,
}

impl SessionHandle {
    /// Start a session thread for `user`; with `cluster`, its queries
    /// read the peers' data too.
    /// With `listed`, the session is a client's: `pg_stat_activity`
    /// lists it in those backends, with that client address.
    pub async fn spawn(
        store: Arc<Store>,
        user: String,
        pid: i32,
        cluster: Option<Arc<crate::cluster::Cluster>>,
        listed: Option<(Arc<Backends>, Option<std::net::SocketAddr>)>,
    ) -> Result<SessionHandle> {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let shared = Arc::new(crate::exec::Shared::default());
        {
            let mut a = shared.activity.lock();
            a.user = user.clone();
            a.backend_start = crate::types::datetime::clock_micros();
            a.state_change = a.backend_start;
            a.client = listed.as_ref().and_then(|(_, addr)| *addr);
        }
        let backends = listed.map(|(b, _)| b);
        let (ready_tx, ready_rx) = oneshot::channel();
        let for_session = shared.clone();
        std::thread::Builder::new()
            .name(format!("session-{pid}"))
            .stack_size(crate::sql::STACK_SIZE)
            .spawn(move || {
                let mut sess = match Session::new(store, user, pid, for_session, cluster, backends)
                {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                while let Ok(job) = rx.recv() {
                    job(&mut sess);
                    sess.publish_txn_state();
                }
            })
            .map_err(Error::internal)?;
        ready_rx
            .await
            .map_err(|_| Error::Internal("session thread failed to start".into()))??;
        Ok(SessionHandle {
            jobs,
            shared,
            timed_out: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Run `f` on the session thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |s| {
                let _ = tx.send(f(s));
            }))
            .map_err(|_| Error::Internal("session thread is gone".into()))?;
        rx.await
            .map_err(|_| Error::Internal("session thread is gone".into()))
    }

    /// The session's transaction state after its last statement.
    pub fn txn_state(&self) -> crate::exec::TxnState {
        self.shared.txn_state()
    }

    /// How long the session may wait for its client now, in milliseconds
    /// (0: for ever; the idle timeouts).
    pub fn idle_limit_ms(&self) -> u64 {
        self.shared.idle_limit_ms()
    }

    /// The notifications that arrived for the client since the last call
    /// (LISTEN/NOTIFY), oldest first.
    pub fn take_notifications(&self) -> Vec<crate::types::coordination::Notification> {
        self.shared.inbox.take()
    }

    /// Resolves once a notification arrived for the client (at once if one
    /// did since the last wait).
    pub async fn notification_arrived(&self) {
        self.shared.inbox.arrived().await
    }

    /// The warnings the session queued for the client.
    pub fn take_notices(&self) -> Vec<crate::exec::Notice> {
        self.shared.take_notices()
    }

    /// Interrupt the running statement (a cancel request).
    pub fn cancel(&self) {
        self.shared.interrupt_all();
    }

    /// The client sent a simple Query of this text.
    pub fn query_arrives(&self, text: &str) {
        self.shared.query_arrives(text);
    }

    /// Resolves once pg_terminate_backend ends the session.
    pub async fn terminated(&self) {
        self.shared.terminated().await
    }

    /// Whether pg_terminate_backend ended the session.
    pub fn is_terminated(&self) -> bool {
        self.shared.is_terminated()
    }

    /// Whether the client was told so already (its statement's error).
    pub fn took_fatal(&self) -> bool {
        self.shared.fatal_told.load(Ordering::SeqCst)
    }

    /// Execute a prepared statement. Row-returning statements stream; the
    /// first event is awaited here so that planning errors come back as
    /// errors before any row description is sent.
    pub async fn execute(&self, p: Arc<Prepared>, params: Vec<Datum>) -> Result<Execution> {
        let timer = self.arm_timeout(self.shared.timeout_ms.load(Ordering::Relaxed));
        let timed_out = self.timed_out.clone();
        let shared = self.shared.clone();
        let fix = move |r: Result<Outcome>| match r {
            Err(Error::Canceled) if shared.is_terminated() => {
                shared.fatal_told.store(true, Ordering::SeqCst);
                Err(Error::Terminated)
            }
            Err(Error::Canceled) if timed_out.swap(false, Ordering::Relaxed) => {
                Err(Error::StatementTimeout)
            }
            other => other,
        };
        if p.columns.is_empty() {
            let r = self
                .run(move |s| s.execute(&p, &params, &mut |_| Ok(())))
                .await;
            if let Some(t) = timer {
                t.abort();
            }
            return Ok(Execution::Done(fix(r?)?));
        }
        let (tx, mut rx) = mpsc::channel(BATCHES_IN_FLIGHT);
        let shared = self.shared.clone();
        self.jobs
            .send(Box::new(move |s| {
                let mut batch = Vec::with_capacity(BATCH_ROWS);
                let mut sink = |row: Vec<Datum>| {
                    shared.rows_sent.fetch_add(1, Ordering::Relaxed);
                    batch.push(row);
                    if batch.len() >= BATCH_ROWS {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                        tx.blocking_send(Event::Rows(full))
                            .map_err(|_| Error::Canceled)?;
                    }
                    Ok(())
                };
                let r = s.execute(&p, &params, &mut sink);
                if !batch.is_empty() && r.is_ok() {
                    let _ = tx.blocking_send(Event::Rows(batch));
                }
                if let Some(t) = timer {
                    t.abort();
                }
                let _ = tx.blocking_send(Event::End(fix(r)));
            }))
            .map_err(|_| Error::Internal("session thread is gone".into()))?;
        match rx.recv().await {
            Some(Event::End(Err(e))) => Err(e),
            Some(Event::End(Ok(o))) => Ok(Execution::Done(o)),
            Some(first) => Ok(Execution::Rows(RowStream {
                first: Some(first),
                rx,
            })),
            None => Err(Error::Internal("session thread is gone".into())),
        }
    }

    fn arm_timeout(&self, ms: u64) -> Option<tokio::task::AbortHandle> {
        if ms == 0 {
            return None;
        }
        let shared = self.shared.clone();
        let flag = self.timed_out.clone();
        Some(
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                flag.store(true, Ordering::Relaxed);
                shared.interrupt_all();
            })
            .abort_handle(),
        )
    }
}
