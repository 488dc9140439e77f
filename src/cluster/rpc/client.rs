//! The calling half: a small pool of authenticated connections to one peer,
//! and the stream of one response.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, SinkExt, Stream, StreamExt};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use super::handshake::{self, HANDSHAKE_MAX_FRAME};
use super::tls::{ReadHalf, WriteHalf};
use super::{codec, decode, peer_error, remote_error, Credentials, Frame, MAX_FRAME};
use crate::error::{Error, Result};

/// Idle connections kept per peer. More are opened while calls overlap;
/// those coming back to a full pool are closed.
const POOL_IDLE: usize = 4;

/// A client for one peer address with a small pool of authenticated
/// connections. Clones share the pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    peer: SocketAddr,
    credentials: Credentials,
    max_frame: usize,
    /// Connections at a request boundary, most recently used last. The lock
    /// is only held to push or pop, never across an await.
    idle: Mutex<Vec<Conn>>,
    opened: AtomicU64,
    /// Stamps requests and observes responses' readings (`Client::clocked`).
    clock: Option<Arc<dyn super::Clock>>,
}

/// One authenticated connection.
struct Conn {
    reader: FramedRead<ReadHalf, LengthDelimitedCodec>,
    writer: FramedWrite<WriteHalf, LengthDelimitedCodec>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("peer", &self.inner.peer)
            .field("idle", &self.inner.idle.lock().len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the node at `addr`, proving `credentials` on each
    /// connection. Connects lazily, on the first call.
    pub fn new(addr: SocketAddr, credentials: impl Into<Credentials>) -> Client {
        Client::with_max_frame(addr, credentials, MAX_FRAME, None)
    }

    /// [`Client::new`] whose requests carry readings of `clock`, which
    /// observes each response's.
    pub fn clocked(
        addr: SocketAddr,
        credentials: impl Into<Credentials>,
        clock: Arc<dyn super::Clock>,
    ) -> Client {
        Client::with_max_frame(addr, credentials, MAX_FRAME, Some(clock))
    }

    /// [`Client::new`] with another frame limit (tests use a small one).
    pub(super) fn with_max_frame(
        addr: SocketAddr,
        credentials: impl Into<Credentials>,
        max_frame: usize,
        clock: Option<Arc<dyn super::Clock>>,
    ) -> Client {
        Client {
            inner: Arc::new(Inner {
                peer: addr,
                credentials: credentials.into(),
                max_frame,
                idle: Mutex::new(Vec::new()),
                opened: AtomicU64::new(0),
                clock,
            }),
        }
    }

    /// The peer this client calls.
    pub fn addr(&self) -> SocketAddr {
        self.inner.peer
    }

    /// Connections this client and its clones have opened (handshake
    /// passed); with the call count, shows how well the pool is reused.
    pub fn connections_opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// Send `req` and return the stream of response items.
    ///
    /// Each item waits at most `timeout`; for the first that includes
    /// connecting and the handshake. Dropping the stream before it ends
    /// cancels the request on the server (the connection is closed, not
    /// reused; the server's handler sees its `send` fail). A connection goes
    /// back to the pool only when its response ended at a frame boundary
    /// (`End`, or an error frame). Failures name the peer. Nothing is retried:
    /// once the request is sent it may have run.
    ///
    /// `req` is encoded before this returns, so the future borrows nothing.
    pub fn call<Req, Resp>(
        &self,
        req: &Req,
        timeout: Duration,
    ) -> impl Future<Output = Result<Responses<Resp>>> + Send + 'static
    where
        Req: Serialize,
        Resp: DeserializeOwned + Send + 'static,
    {
        let deadline = deadline_after(timeout);
        let request = self.inner.encode_request(req);
        let inner = Arc::clone(&self.inner);
        async move {
            let request = request?;
            let peer = inner.peer;
            let failed = || {
                metrics::counter!(crate::observe::PEER_REQUESTS, "outcome" => "failed").increment(1)
            };
            let mut conn = match inner.take_idle() {
                Some(conn) => conn,
                None => inner.connect(deadline).await.inspect_err(|_| failed())?,
            };
            match tokio::time::timeout_at(deadline, conn.writer.send(request)).await {
                Err(_) => {
                    failed();
                    return Err(peer_error(peer, "timed out sending the request"));
                }
                Ok(Err(e)) => {
                    failed();
                    return Err(peer_error(peer, format!("sending the request failed: {e}")));
                }
                Ok(Ok(())) => {}
            }
            metrics::counter!(crate::observe::PEER_REQUESTS, "outcome" => "sent").increment(1);
            let reading = Reading {
                conn,
                inner,
                timeout,
                deadline,
            };
            let items = futures::stream::unfold(Some(reading), |reading| async move {
                next_item(reading?).await
            });
            Ok(Responses {
                items: Box::pin(items.fuse()),
            })
        }
    }

    /// [`Client::call`], collecting every item; the first Err ends it.
    pub fn call_all<Req, Resp>(
        &self,
        req: &Req,
        timeout: Duration,
    ) -> impl Future<Output = Result<Vec<Resp>>> + Send + 'static
    where
        Req: Serialize,
        Resp: DeserializeOwned + Send + 'static,
    {
        let call = self.call(req, timeout);
        async move {
            let mut responses = call.await?;
            let mut items = Vec::new();
            while let Some(item) = responses.next().await {
                items.push(item?);
            }
            Ok(items)
        }
    }
}

impl Inner {
    fn encode_request<Req: Serialize>(&self, req: &Req) -> Result<Bytes> {
        let framed = super::Request {
            clock: self.clock.as_ref().map_or(0, |c| c.stamp()),
            body: req,
        };
        let bytes = postcard::to_stdvec(&framed)
            .map_err(|e| Error::internal(format!("cannot encode an RPC request: {e}")))?;
        if bytes.len() > self.max_frame {
            return Err(Error::internal(format!(
                "RPC request of {} bytes exceeds the {}-byte frame limit",
                bytes.len(),
                self.max_frame
            )));
        }
        Ok(bytes.into())
    }

    /// The most recently used idle connection still open, if any.
    fn take_idle(&self) -> Option<Conn> {
        loop {
            let mut conn = self.idle.lock().pop()?;
            // An idle connection has nothing to read. If it has, that is
            // almost always its close (the peer restarted or shut down), so
            // it is dropped here rather than failing the call.
            if conn.reader.next().now_or_never().is_none() {
                return Some(conn);
            }
        }
    }

    /// A clock reading from the server.
    fn observe(&self, remote: i64) {
        if let Some(clock) = &self.clock {
            clock.observe(remote);
        }
    }

    fn put_back(&self, conn: Conn) {
        let mut idle = self.idle.lock();
        if idle.len() < POOL_IDLE {
            idle.push(conn);
        }
    }

    async fn connect(&self, deadline: Instant) -> Result<Conn> {
        let peer = self.peer;
        let stream = match tokio::time::timeout_at(deadline, TcpStream::connect(peer)).await {
            Err(_) => return Err(peer_error(peer, "connect timed out")),
            Ok(Err(e)) => return Err(peer_error(peer, format!("connect failed: {e}"))),
            Ok(Ok(stream)) => stream,
        };
        stream.set_nodelay(true).map_err(|e| peer_error(peer, e))?;
        let (read_half, write_half) = match &self.credentials.tls {
            Some(tls) => match tokio::time::timeout_at(deadline, tls.connect(stream, peer)).await {
                Err(_) => return Err(peer_error(peer, "TLS handshake timed out")),
                Ok(Err(e)) => return Err(peer_error(peer, format!("TLS handshake failed: {e}"))),
                Ok(Ok(halves)) => halves,
            },
            None => super::tls::plain(stream),
        };
        let mut conn = Conn {
            reader: FramedRead::new(read_half, codec(HANDSHAKE_MAX_FRAME)),
            writer: FramedWrite::new(write_half, codec(self.max_frame)),
        };
        handshake::connect(
            &mut conn.reader,
            &mut conn.writer,
            &self.credentials.secret,
            peer,
            deadline,
        )
        .await?;
        conn.reader
            .decoder_mut()
            .set_max_frame_length(self.max_frame);
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(conn)
    }
}

/// The items of one response, in order. Ends after the last item, or right
/// after yielding an Err. Dropping it early cancels the request.
pub struct Responses<Resp> {
    items: Pin<Box<dyn Stream<Item = Result<Resp>> + Send>>,
}

impl<Resp> Stream for Responses<Resp> {
    type Item = Result<Resp>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().items.poll_next_unpin(cx)
    }
}

impl<Resp> std::fmt::Debug for Responses<Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responses").finish_non_exhaustive()
    }
}

/// `timeout` from now; a timeout too long to add (`Duration::MAX` for "no
/// limit") means thirty years.
fn deadline_after(timeout: Duration) -> Instant {
    const NEVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or(now + NEVER)
}

/// A response being read: the connection it arrives on and when the next
/// item is due.
struct Reading {
    conn: Conn,
    inner: Arc<Inner>,
    timeout: Duration,
    deadline: Instant,
}

/// The next item and the state to read the one after it (`None` once the
/// response is over); `None` overall when it ended cleanly.
async fn next_item<Resp: DeserializeOwned>(
    mut reading: Reading,
) -> Option<(Result<Resp>, Option<Reading>)> {
    let peer = reading.inner.peer;
    // Sent, but no whole answer came back: the request failed too.
    let failed = |what: String| {
        metrics::counter!(crate::observe::PEER_REQUESTS, "outcome" => "failed").increment(1);
        Some((Err(peer_error(peer, what)), None))
    };
    let bytes = match tokio::time::timeout_at(reading.deadline, reading.conn.reader.next()).await {
        Err(_) => return failed(format!("no response within {:?}", reading.timeout)),
        Ok(None) => return failed("connection closed mid-response".to_string()),
        Ok(Some(Err(e))) => return failed(format!("reading the response failed: {e}")),
        Ok(Some(Ok(bytes))) => bytes,
    };
    match decode::<Frame<Resp>>(&bytes) {
        Ok(Frame::Item(item)) => {
            reading.deadline = deadline_after(reading.timeout);
            Some((Ok(item), Some(reading)))
        }
        Ok(Frame::End { clock }) => {
            reading.inner.observe(clock);
            reading.inner.put_back(reading.conn);
            None
        }
        Ok(Frame::Error {
            message,
            sqlstate,
            detail,
            hint,
            clock,
        }) => {
            reading.inner.observe(clock);
            reading.inner.put_back(reading.conn);
            let mut e = remote_error(peer, &message, &sqlstate);
            if let Some(d) = detail {
                e = e.with_detail(d);
            }
            if let Some(h) = hint {
                e = e.with_hint(h);
            }
            Some((Err(e), None))
        }
        Err(e) => failed(format!("undecodable response: {e}")),
    }
}
