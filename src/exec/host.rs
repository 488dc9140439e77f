//! The OS thread a client's connection lives on. PostgreSQL gives each
//! connection a process; MosaicDB gives each an OS thread that runs both
//! the connection's protocol loop (an async future, polled here) and its
//! session's blocking SQLite work, so a statement never crosses threads:
//! the connection hands the session a job and awaits it, the job runs on
//! this thread as soon as the connection waits, and the job's rows go back
//! through a bounded channel that the job drains, when it is full, by
//! polling the connection itself ([`wait_for`]).
//!
//! The connection's socket and timers stay registered with the node's
//! runtime (entered here): its workers watch them and wake this thread.
//! Sessions that serve no client (peers' requests, background settling)
//! run on a thread of their own that only takes jobs
//! (`SessionHandle::spawn`).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};

use crate::error::{Error, Result};
use crate::exec::Session;

/// Work for a session, run on its thread.
pub(crate) type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// Set when the node stops: hosts end their connections without polling
/// them again (the runtime their sockets and timers belong to is going).
static CLOSING: AtomicBool = AtomicBool::new(false);

/// Sends jobs to a session's thread and wakes it.
#[derive(Clone)]
pub(crate) struct JobSender {
    tx: mpsc::Sender<Job>,
    thread: std::thread::Thread,
}

impl JobSender {
    /// A channel whose jobs the thread `thread` takes.
    pub(crate) fn new(thread: std::thread::Thread) -> (JobSender, mpsc::Receiver<Job>) {
        let (tx, rx) = mpsc::channel();
        (JobSender { tx, thread }, rx)
    }

    pub(crate) fn send(&self, job: Job) -> Result<()> {
        self.tx.send(job).map_err(|_| gone())?;
        self.thread.unpark();
        Ok(())
    }
}

pub(crate) fn gone() -> Error {
    Error::Internal("session thread is gone".into())
}

/// Wakes the host when its connection can make progress.
struct Signal {
    woken: AtomicBool,
    thread: std::thread::Thread,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

type Connection = Pin<Box<dyn Future<Output = ()>>>;

/// A connection thread's state: the connection while it runs, and the
/// session once the connection has started one.
struct Host {
    signal: Arc<Signal>,
    waker: Waker,
    connection: RefCell<Option<Connection>>,
    session: RefCell<Option<Session>>,
    sender: JobSender,
    jobs: mpsc::Receiver<Job>,
}

thread_local! {
    static HOST: RefCell<Option<Rc<Host>>> = const { RefCell::new(None) };
}

/// Run the connection `start` makes on a thread of its own, with the
/// node's `runtime` entered, until it ends.
pub fn spawn_connection<F, S>(
    runtime: tokio::runtime::Handle,
    start: S,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    S: FnOnce() -> F + Send + 'static,
    F: Future<Output = ()> + 'static,
{
    std::thread::Builder::new()
        .name("connection".into())
        .stack_size(crate::sql::STACK_SIZE)
        .spawn(move || {
            let _entered = runtime.enter();
            let thread = std::thread::current();
            let signal = Arc::new(Signal {
                woken: AtomicBool::new(true),
                thread: thread.clone(),
            });
            let (sender, jobs) = JobSender::new(thread);
            let host = Rc::new(Host {
                waker: Waker::from(signal.clone()),
                signal,
                connection: RefCell::new(Some(Box::pin(start()))),
                session: RefCell::new(None),
                sender,
                jobs,
            });
            HOST.with(|h| *h.borrow_mut() = Some(host.clone()));
            host.run();
            // The connection is gone; its session ends with it.
            drop(host.session.borrow_mut().take());
            HOST.with(|h| h.borrow_mut().take());
        })
}

/// Stop polling connections: the node is stopping and its runtime goes
/// next. Each host drops its connection when it next wakes.
pub fn close_all() {
    CLOSING.store(true, Ordering::SeqCst);
}

impl Host {
    /// Poll the connection when woken and run the jobs that arrive, until
    /// the connection ends.
    fn run(&self) {
        loop {
            let mut busy = false;
            if self.signal.woken.swap(false, Ordering::AcqRel) {
                busy = true;
                if self.poll_connection() {
                    return;
                }
            }
            while let Ok(job) = self.jobs.try_recv() {
                busy = true;
                let mut session = self.session.borrow_mut();
                if let Some(s) = session.as_mut() {
                    job(s);
                    s.publish_txn_state();
                }
            }
            if self.connection.borrow().is_none() {
                return;
            }
            if !busy {
                std::thread::park();
            }
        }
    }

    /// Poll the connection once; whether it has ended.
    fn poll_connection(&self) -> bool {
        let Ok(mut slot) = self.connection.try_borrow_mut() else {
            return false;
        };
        let Some(connection) = slot.as_mut() else {
            return true;
        };
        if CLOSING.load(Ordering::SeqCst)
            || connection
                .as_mut()
                .poll(&mut Context::from_waker(&self.waker))
                .is_ready()
        {
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

/// Wait, inside a job, until `ready()`: on a connection's thread the
/// connection is polled meanwhile (it is what makes room in the channel
/// the job writes to). `None` on a thread that hosts no connection (the
/// caller blocks as usual); `Some(false)` when the connection ended first.
pub(crate) fn wait_for(ready: impl Fn() -> bool) -> Option<bool> {
    let host = HOST.with(|h| h.borrow().clone())?;
    if host.connection.try_borrow().is_err() {
        // Called while the connection is being polled: it cannot make
        // room, so waiting would never end.
        return Some(false);
    }
    loop {
        if ready() {
            return Some(true);
        }
        if host.signal.woken.swap(false, Ordering::AcqRel) {
            if host.poll_connection() {
                return Some(false);
            }
            continue;
        }
        std::thread::park();
    }
}
