//! The OS thread a client's connection lives on. PostgreSQL gives each
//! connection a process; MosaicDB gives each an OS thread that runs both
//! the connection's protocol loop (an async future) and its session's
//! blocking SQLite work, so a statement never crosses threads.
//!
//! The thread has a runtime of its own (current-thread: its socket, its
//! timers), which polls the connection until the connection has handed
//! the session a job; the jobs then run outside the runtime, and the
//! runtime polls the connection again. A job whose rows fill the channel
//! to the connection waits by polling the connection until it has taken
//! them ([`wait_for`]). Jobs run outside the runtime so that they may
//! block as sessions do, on the node's runtime for the cluster's calls
//! too; what must run beside a job (a statement's timeout) goes to the
//! node's runtime ([`background`]).
//!
//! Sessions that serve no client (peers' requests, background settling)
//! run on a thread of their own that only takes jobs
//! (`SessionHandle::spawn`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Waker};

use crate::error::{Error, Result};
use crate::exec::Session;

/// Work for a session, run on its thread.
pub(crate) type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// Sends jobs to a session's thread.
#[derive(Clone)]
pub(crate) struct JobSender {
    tx: mpsc::Sender<Job>,
    /// A connection's thread: woken through its runtime for a job that
    /// comes from another thread.
    host: Option<Arc<Doorbell>>,
}

impl JobSender {
    /// A channel for a thread that waits on its jobs alone.
    pub(crate) fn new() -> (JobSender, mpsc::Receiver<Job>) {
        let (tx, rx) = mpsc::channel();
        (JobSender { tx, host: None }, rx)
    }

    pub(crate) fn send(&self, job: Job) -> Result<()> {
        self.tx.send(job).map_err(|_| gone())?;
        if let Some(bell) = &self.host {
            bell.ring();
        }
        Ok(())
    }
}

pub(crate) fn gone() -> Error {
    Error::Internal("session thread is gone".into())
}

/// Wakes a connection's runtime when a job arrives from another thread.
struct Doorbell {
    thread: std::thread::ThreadId,
    /// The waker of the runtime's current wait.
    waker: parking_lot::Mutex<Option<Waker>>,
}

impl Doorbell {
    fn ring(&self) {
        // On the host's own thread the runtime looks at the jobs after
        // each poll of the connection.
        if std::thread::current().id() == self.thread {
            return;
        }
        if let Some(w) = self.waker.lock().as_ref() {
            w.wake_by_ref();
        }
    }
}

type Connection = Pin<Box<dyn Future<Output = ()>>>;

/// A connection thread's state: its runtime, the connection while it
/// runs, and the session once the connection has started one.
struct Host {
    runtime: tokio::runtime::Runtime,
    /// The node's runtime: what must run beside a job goes there.
    node: tokio::runtime::Handle,
    connection: RefCell<Option<Connection>>,
    session: RefCell<Option<Session>>,
    sender: JobSender,
    bell: Arc<Doorbell>,
    jobs: mpsc::Receiver<Job>,
    queued: RefCell<VecDeque<Job>>,
}

thread_local! {
    static HOST: RefCell<Option<Rc<Host>>> = const { RefCell::new(None) };
}

/// Run the connection that `start` makes of `tcp` on a thread of its own,
/// with a runtime of its own, until it ends; `node` is the node's runtime.
pub fn spawn_connection<F, S>(
    node: tokio::runtime::Handle,
    tcp: std::net::TcpStream,
    start: S,
) -> std::io::Result<()>
where
    S: FnOnce(tokio::net::TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + 'static,
{
    std::thread::Builder::new()
        .name("connection".into())
        .stack_size(crate::sql::STACK_SIZE)
        .spawn(move || {
            let _node = node.enter();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let tcp = runtime.and_then(|r| {
                let tcp = r.block_on(async { tokio::net::TcpStream::from_std(tcp) })?;
                Ok((r, tcp))
            });
            let (runtime, tcp) = match tcp {
                Ok(both) => both,
                Err(e) => {
                    tracing::warn!(error = %e, "a connection's runtime or socket failed");
                    return;
                }
            };
            let (tx, jobs) = mpsc::channel();
            let bell = Arc::new(Doorbell {
                thread: std::thread::current().id(),
                waker: parking_lot::Mutex::new(None),
            });
            let host = Rc::new(Host {
                connection: RefCell::new(Some(Box::pin(start(tcp)))),
                runtime,
                node,
                session: RefCell::new(None),
                sender: JobSender {
                    tx,
                    host: Some(bell.clone()),
                },
                bell,
                jobs,
                queued: RefCell::new(VecDeque::new()),
            });
            HOST.with(|h| *h.borrow_mut() = Some(host.clone()));
            host.run();
            // The connection is gone; its session ends with it.
            drop(host.session.borrow_mut().take());
            HOST.with(|h| h.borrow_mut().take());
        })
        .map(drop)
}

impl Host {
    /// Poll the connection and run the jobs it hands over, until it ends.
    fn run(&self) {
        loop {
            let ended = self.runtime.block_on(std::future::poll_fn(|cx| {
                *self.bell.waker.lock() = Some(cx.waker().clone());
                if self.poll_connection(cx) {
                    return Poll::Ready(true);
                }
                match self.queue().is_empty() {
                    true => Poll::Pending,
                    false => Poll::Ready(false),
                }
            }));
            if ended {
                return;
            }
            loop {
                // Not `while let`: the queue's borrow would last through
                // the job.
                let Some(job) = self.queue().pop_front() else {
                    break;
                };
                let mut session = self.session.borrow_mut();
                if let Some(s) = session.as_mut() {
                    job(s);
                    s.publish_txn_state();
                }
            }
            if self.connection.borrow().is_none() {
                return;
            }
        }
    }

    /// The jobs waiting, those just sent among them.
    fn queue(&self) -> std::cell::RefMut<'_, VecDeque<Job>> {
        let mut queued = self.queued.borrow_mut();
        queued.extend(self.jobs.try_iter());
        queued
    }

    /// Poll the connection once; whether it has ended.
    fn poll_connection(&self, cx: &mut Context) -> bool {
        let Ok(mut slot) = self.connection.try_borrow_mut() else {
            return false;
        };
        let Some(connection) = slot.as_mut() else {
            return true;
        };
        if connection.as_mut().poll(cx).is_ready() {
            *slot = None;
            return true;
        }
        false
    }
}

/// Make the session `make` builds this thread's, when this is a
/// connection's thread without one yet: the jobs sent through the sender
/// returned run here. Otherwise `make` comes back unused.
pub(crate) fn adopt<M>(make: M) -> std::result::Result<Result<JobSender>, M>
where
    M: FnOnce() -> Result<Session>,
{
    let Some(host) = HOST.with(|h| h.borrow().clone()) else {
        return Err(make);
    };
    let Ok(mut slot) = host.session.try_borrow_mut() else {
        return Err(make);
    };
    if slot.is_some() {
        return Err(make);
    }
    Ok(make().map(|s| {
        *slot = Some(s);
        host.sender.clone()
    }))
}

/// Wait, inside a job, until `ready()`: on a connection's thread its
/// runtime polls the connection meanwhile (it is what makes room in the
/// channel the job writes to). `None` on a thread that hosts no
/// connection (the caller blocks as usual); `Some(false)` when the
/// connection ended first.
pub(crate) fn wait_for(ready: impl Fn() -> bool) -> Option<bool> {
    let host = HOST.with(|h| h.borrow().clone())?;
    if host.connection.try_borrow().is_err() {
        // Called while the connection is being polled: it cannot make
        // room, so waiting would never end.
        return Some(false);
    }
    Some(host.runtime.block_on(std::future::poll_fn(|cx| {
        if ready() {
            return Poll::Ready(true);
        }
        if host.poll_connection(cx) {
            return Poll::Ready(false);
        }
        match ready() {
            true => Poll::Ready(true),
            false => Poll::Pending,
        }
    })))
}

/// The runtime for work that must run beside a session's jobs (a
/// statement's timer): the node's, also from a connection's thread, whose
/// own runtime is idle while a job runs.
pub(crate) fn background() -> tokio::runtime::Handle {
    HOST.with(|h| h.borrow().as_ref().map(|host| host.node.clone()))
        .unwrap_or_else(tokio::runtime::Handle::current)
}
