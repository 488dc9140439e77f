//! The async face of a session. Each session runs on one thread that owns
//! its SQLite connection (blocking code never runs on the runtime's
//! workers): its client connection's (`exec::host`), or one of its own.
//! Jobs go to it over a channel and rows come back in batches over a
//! bounded channel, so a slow client backpressures the query and memory
//! stays bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};
use crate::exec::backends::Backends;
use crate::exec::host::{self, JobSender};
use crate::exec::{Outcome, Prepared, Session};
use crate::store::Store;
use crate::types::Datum;

const BATCH_ROWS: usize = 256;
const BATCHES_IN_FLIGHT: usize = 4;
/// COPY FROM STDIN data is handed to the session thread in chunks of at
/// least this many bytes: clients send a CopyData message per line
/// (pgbench, psql's `\copy`), and a trip to the session thread per line
/// cost more than the line's parsing and insert.
const COPY_CHUNK_BYTES: usize = 256 * 1024;

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
    /// The end that came with the last batch.
    end: Option<Result<Outcome>>,
    rx: mpsc::Receiver<Msg>,
}

/// What the session thread sends: full batches, then the last rows with
/// the end, in one message (a statement whose rows fit one batch, a point
/// select, wakes its connection once).
enum Msg {
    Rows(Vec<Vec<Datum>>),
    Last(Vec<Vec<Datum>>, Result<Outcome>),
    /// The statement was prepared, not run.
    NotRun,
}

/// What a job on the session thread gives [`SessionHandle::start`]: a
/// statement to run with its parameters, or one to hand back unrun.
enum Step {
    Run(Arc<Prepared>, Vec<Datum>),
    Return(Arc<Prepared>),
}

impl RowStream {
    pub async fn next(&mut self) -> Option<Event> {
        if let Some(ev) = self.first.take() {
            return Some(ev);
        }
        if let Some(end) = self.end.take() {
            return Some(Event::End(end));
        }
        let msg = self.rx.recv().await?;
        Some(self.event(msg))
    }

    /// `msg` as the event it starts with, its end kept for the next call.
    fn event(&mut self, msg: Msg) -> Event {
        match msg {
            Msg::Rows(rows) => Event::Rows(rows),
            Msg::Last(rows, end) if rows.is_empty() => Event::End(end),
            Msg::Last(rows, end) => {
                self.end = Some(end);
                Event::Rows(rows)
            }
            Msg::NotRun => Event::End(Err(Error::Internal("statement not run".into()))),
        }
    }

    /// Stop the statement: the session thread sees the channel closed.
    pub fn close(&mut self) {
        self.first = None;
        self.end = None;
        self.rx.close();
    }
}

pub struct SessionHandle {
    jobs: JobSender,
    shared: Arc<crate::exec::Shared>,
    timed_out: Arc<AtomicBool>,
    /// COPY data received and not yet handed to the session.
    copy_pending: parking_lot::Mutex<Vec<u8>>,
}

impl SessionHandle {
    /// Start a session for `user`: on this thread when it is a client
    /// connection's (`exec::host`), else on a thread of its own; with
    /// `cluster`, its queries read the peers' data too.
    /// With `listed`, the session is a client's: `pg_stat_activity`
    /// lists it in those backends, with that client address.
    pub async fn spawn(
        store: Arc<Store>,
        user: String,
        pid: i32,
        cluster: Option<Arc<crate::cluster::Cluster>>,
        listed: Option<(Arc<Backends>, Option<std::net::SocketAddr>)>,
    ) -> Result<SessionHandle> {
        let shared = Arc::new(crate::exec::Shared::default());
        {
            let mut a = shared.activity.lock();
            a.user = user.clone();
            a.backend_start = crate::types::datetime::clock_micros();
            a.state_change = a.backend_start;
            a.client = listed.as_ref().and_then(|(_, addr)| *addr);
        }
        let backends = listed.map(|(b, _)| b);
        let for_session = shared.clone();
        let make = move || Session::new(store, user, pid, for_session, cluster, backends);
        let jobs = match host::adopt(make) {
            Ok(adopted) => adopted?,
            Err(make) => Self::own_thread(pid, make).await?,
        };
        Ok(SessionHandle {
            jobs,
            shared,
            timed_out: Arc::new(AtomicBool::new(false)),
            copy_pending: parking_lot::Mutex::new(Vec::new()),
        })
    }

    /// A thread that runs the session `make` builds and takes its jobs
    /// until every sender is gone.
    async fn own_thread(
        pid: i32,
        make: impl FnOnce() -> Result<Session> + Send + 'static,
    ) -> Result<JobSender> {
        let (ready_tx, ready_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name(format!("session-{pid}"))
            .stack_size(crate::sql::STACK_SIZE)
            .spawn(move || {
                let (jobs, rx) = JobSender::new();
                let mut sess = match make() {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(jobs));
                while let Ok(job) = rx.recv() {
                    job(&mut sess);
                    sess.publish_txn_state();
                }
            })
            .map_err(Error::internal)?;
        ready_rx
            .await
            .map_err(|_| Error::Internal("session thread failed to start".into()))?
    }

    /// Run `f` on the session thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Box::new(move |s| {
            let _ = tx.send(f(s));
        }))?;
        rx.await.map_err(|_| host::gone())
    }

    /// A CopyData message of COPY FROM STDIN: kept until a chunk's worth
    /// has arrived, then handed to the session, which waits for it (so a
    /// client faster than the inserts is held back by TCP).
    pub async fn copy_data(&self, data: &[u8]) -> Result<()> {
        let chunk = {
            let mut pending = self.copy_pending.lock();
            pending.extend_from_slice(data);
            if pending.len() < COPY_CHUNK_BYTES {
                return Ok(());
            }
            std::mem::take(&mut *pending)
        };
        self.run(move |s| crate::exec::copy::data(s, &chunk)).await
    }

    /// CopyDone: the data still kept, then the end of the copy, in one
    /// trip; the number of rows copied.
    pub async fn copy_done(&self) -> Result<usize> {
        let chunk = std::mem::take(&mut *self.copy_pending.lock());
        self.run(move |s| {
            if !chunk.is_empty() {
                crate::exec::copy::data(s, &chunk);
            }
            crate::exec::copy::done(s)
        })
        .await?
    }

    /// CopyFail: the data kept is dropped with the copy.
    pub async fn copy_fail(&self) -> Result<()> {
        self.copy_pending.lock().clear();
        self.run(crate::exec::copy::fail).await
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
        let (_, exec) = self.start(move |_| Ok(Step::Run(p, params))).await?;
        exec.ok_or_else(|| Error::Internal("statement not run".into()))
    }

    /// A statement of a simple Query: prepared and executed in one trip to
    /// the session thread, as a statement run once (its compiled SQL is
    /// not kept). A DEALLOCATE comes back prepared, not run (the
    /// connection's own statements go first). A FETCH is described by its
    /// cursor's columns.
    pub async fn prepare_and_execute(
        &self,
        parsed: crate::exec::Parsed,
    ) -> Result<(Arc<Prepared>, Option<Execution>)> {
        let (p, exec) = self
            .start(move |s| {
                // A query whose constants lift runs as the session's
                // prepared form of its shape (`exec::lifted`).
                if let Some((p, params)) = s.prepare_lifted(&parsed) {
                    return Ok(Step::Run(p, params));
                }
                let mut p = s
                    .prepare_parsed(parsed)
                    .inspect_err(|_| s.fail_statement())?;
                p.id = crate::exec::ONE_SHOT;
                if matches!(p.kind, crate::exec::Kind::Deallocate(_)) {
                    return Ok(Step::Return(Arc::new(p)));
                }
                let p = crate::exec::cursor::describe(s, &p).unwrap_or(p);
                Ok(Step::Run(Arc::new(p), vec![]))
            })
            .await?;
        let p = p.ok_or_else(|| Error::Internal("statement not prepared".into()))?;
        Ok((p, exec))
    }

    /// Run `step` on the session thread, then the statement it gives (if
    /// any) with its rows streamed back; the statement, and its execution
    /// when it ran.
    async fn start(
        &self,
        step: impl FnOnce(&mut Session) -> Result<Step> + Send + 'static,
    ) -> Result<(Option<Arc<Prepared>>, Option<Execution>)> {
        // Data of a copy that ended without CopyDone or CopyFail (a
        // protocol error) must not become the next copy's first bytes.
        self.copy_pending.lock().clear();
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
        let (tx, rx) = mpsc::channel(BATCHES_IN_FLIGHT);
        // Written before the first message is sent, read after it came.
        let slot = Arc::new(parking_lot::Mutex::new(None));
        let prepared = slot.clone();
        let shared = self.shared.clone();
        self.jobs.send(Box::new(move |s| {
            let (p, params) = match step(s) {
                Ok(Step::Run(p, params)) => (p, params),
                Ok(Step::Return(p)) => {
                    *prepared.lock() = Some(p);
                    let _ = deliver(&tx, Msg::NotRun);
                    return;
                }
                Err(e) => {
                    let _ = deliver(&tx, Msg::Last(vec![], Err(e)));
                    return;
                }
            };
            *prepared.lock() = Some(p.clone());
            let mut batch = Vec::new();
            let mut sink = |row: Vec<Datum>| {
                shared.rows_sent.fetch_add(1, Ordering::Relaxed);
                batch.push(row);
                if batch.len() >= BATCH_ROWS {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                    deliver(&tx, Msg::Rows(full)).map_err(|()| Error::Canceled)?;
                }
                Ok(())
            };
            let r = s.execute(&p, &params, &mut sink);
            if r.is_err() {
                batch.clear();
            }
            if let Some(t) = timer {
                t.abort();
            }
            let _ = deliver(&tx, Msg::Last(batch, fix(r)));
        }))?;
        let mut stream = RowStream {
            first: None,
            end: None,
            rx,
        };
        let Some(msg) = stream.rx.recv().await else {
            return Err(host::gone());
        };
        let p = slot.lock().take();
        if matches!(msg, Msg::NotRun) {
            return Ok((p, None));
        }
        let exec = match stream.event(msg) {
            Event::End(Err(e)) => return Err(e),
            Event::End(Ok(o)) => Execution::Done(o),
            first => {
                stream.first = Some(first);
                Execution::Rows(stream)
            }
        };
        Ok((p, Some(exec)))
    }

    fn arm_timeout(&self, ms: u64) -> Option<tokio::task::AbortHandle> {
        if ms == 0 {
            return None;
        }
        let shared = self.shared.clone();
        let flag = self.timed_out.clone();
        Some(
            host::background()
                .spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                    flag.store(true, Ordering::Relaxed);
                    shared.interrupt_all();
                })
                .abort_handle(),
        )
    }
}

/// Send `msg` to the statement's connection, waiting while the channel is
/// full: on a connection's own thread by polling the connection, which
/// takes the batches (`host::wait_for`), elsewhere by blocking. `Err` when
/// the connection stopped listening.
fn deliver(tx: &mpsc::Sender<Msg>, msg: Msg) -> std::result::Result<(), ()> {
    let msg = match tx.try_send(msg) {
        Ok(()) => return Ok(()),
        Err(mpsc::error::TrySendError::Closed(_)) => return Err(()),
        Err(mpsc::error::TrySendError::Full(msg)) => msg,
    };
    match host::wait_for(|| tx.capacity() > 0 || tx.is_closed()) {
        None => tx.blocking_send(msg).map_err(drop),
        Some(true) => tx.try_send(msg).map_err(drop),
        Some(false) => Err(()),
    }
}
