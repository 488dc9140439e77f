//! The serving half: accept, handshake, then run requests one at a time per
//! connection, each handler on its own task feeding a bounded item channel.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinSet};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::handshake::{self, HANDSHAKE_MAX_FRAME};
use super::tls::{ReadHalf, WriteHalf};
use super::{codec, decode, Credentials, Frame, Handler, Sender, ITEM_BUFFER, MAX_FRAME};
use crate::error::{Error, Result};

type Reader = FramedRead<ReadHalf, LengthDelimitedCodec>;
type Writer = FramedWrite<WriteHalf, LengthDelimitedCodec>;

/// How long `serve` lets open requests finish after shutdown before it
/// drops their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Process-wide: a static rather than a handle `serve` returns, so every
/// `serve` in the process adds to the same count.
static REJECTED: AtomicU64 = AtomicU64::new(0);

/// Connections refused because their TLS or secret handshake failed (no
/// certificate from the cluster CA, wrong secret, garbage, timeout, closed
/// early), summed over every [`serve`] in this
/// process since it started.
pub fn rejected_connections() -> u64 {
    REJECTED.load(Ordering::Relaxed)
}

/// Accept connections on `listener` until `shutdown` resolves; each
/// connection must pass TLS (when `credentials` has it) and the handshake
/// first.
///
/// After `shutdown`, idle connections are closed at once and requests in
/// progress get a few seconds to finish before their connections are
/// dropped; `serve` returns when all are gone.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    credentials: impl Into<Credentials>,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()> + Send,
) {
    serve_with(listener, credentials, handler, shutdown, MAX_FRAME).await
}

/// [`serve`] with another frame limit (tests use a small one).
pub(super) async fn serve_with<H: Handler>(
    listener: TcpListener,
    credentials: impl Into<Credentials>,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()> + Send,
    max_frame: usize,
) {
    let credentials = Arc::new(credentials.into());
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let connection = serve_connection(
                        stream,
                        peer,
                        Arc::clone(&credentials),
                        Arc::clone(&handler),
                        max_frame,
                        stop.clone(),
                    );
                    connections.spawn(connection);
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    warn!("rpc accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next() => {}
        }
    }
    drop(listener);
    stop.cancel();
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        debug!(
            "rpc shutdown: dropping {} busy connections",
            connections.len()
        );
    }
}

async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    credentials: Arc<Credentials>,
    handler: Arc<H>,
    max_frame: usize,
    stop: CancellationToken,
) {
    if let Err(e) = stream.set_nodelay(true) {
        debug!(%peer, "rpc set_nodelay failed: {e}");
    }
    let shaken = tokio::select! {
        shaken = accept(stream, peer, &credentials, max_frame) => shaken,
        () = stop.cancelled() => return,
    };
    let (mut reader, mut writer) = match shaken {
        Ok(halves) => halves,
        Err(e) => {
            // Counted before the socket closes, so a refused client that
            // sees the close also sees the count.
            REJECTED.fetch_add(1, Ordering::Relaxed);
            debug!(%peer, "rpc connection refused: {e}");
            return;
        }
    };
    reader.decoder_mut().set_max_frame_length(max_frame);

    loop {
        let frame = tokio::select! {
            frame = reader.next() => frame,
            () = stop.cancelled() => return,
        };
        let request = match frame {
            Some(Ok(request)) => request,
            None => return,
            Some(Err(e)) => {
                debug!(%peer, "rpc connection dropped: {e}");
                return;
            }
        };
        let served = serve_request(&mut reader, &mut writer, &handler, &request, max_frame);
        if let Err(e) = served.await {
            debug!(%peer, "rpc request abandoned: {e}");
            return;
        }
    }
}

/// TLS (when configured) and the secret handshake on a new connection;
/// TLS gets the handshake's time limit too.
async fn accept(
    stream: TcpStream,
    peer: SocketAddr,
    credentials: &Credentials,
    max_frame: usize,
) -> Result<(Reader, Writer)> {
    let (read_half, write_half) = match &credentials.tls {
        Some(tls) => tokio::time::timeout(handshake::STEP_TIMEOUT, tls.accept(stream))
            .await
            .map_err(|_| Error::internal("TLS handshake timed out"))?
            .map_err(|e| Error::internal(format!("TLS handshake failed: {e}")))?,
        None => super::tls::plain(stream),
    };
    let mut reader = FramedRead::new(read_half, codec(HANDSHAKE_MAX_FRAME));
    let mut writer = FramedWrite::new(write_half, codec(max_frame));
    if let Err(e) = handshake::accept(&mut reader, &mut writer, &credentials.secret, peer).await {
        // A clean close (TLS's close_notify too), which the client reads
        // as the refusal it is.
        let _ = tokio::time::timeout(
            handshake::STEP_TIMEOUT,
            SinkExt::<Bytes>::close(&mut writer),
        )
        .await;
        return Err(e);
    }
    Ok((reader, writer))
}

/// Run one request through to its `End` or `Error` frame. Err means the
/// connection is unusable (the client went away, or a write failed); the
/// handler is then left to notice through its failing `send`.
async fn serve_request<H: Handler>(
    reader: &mut Reader,
    writer: &mut Writer,
    handler: &Arc<H>,
    request: &[u8],
    max_frame: usize,
) -> Result<()> {
    let req: H::Req = match decode::<super::Request<H::Req>>(request) {
        Ok(req) => {
            if let Some(clock) = handler.clock() {
                clock.observe(req.clock);
            }
            req.body
        }
        Err(e) => {
            let refused = Error::ProtocolViolation(format!("undecodable RPC request: {e}"));
            return finish(reader, writer, Err(refused), handler.clock()).await;
        }
    };
    let (items_tx, mut items_rx) = mpsc::channel(ITEM_BUFFER);
    let handling = Arc::clone(handler);
    let mut task = tokio::spawn(async move { handling.handle(req, Sender { items_tx }).await });

    let outcome = 'serve: loop {
        tokio::select! {
            frame = reader.next() => return Err(gone(frame)),
            Some(item) = items_rx.recv() => match encode_item(&item, max_frame) {
                Ok(frame) => {
                    let flush = items_rx.is_empty();
                    watched(reader, feed(writer, frame, flush)).await?;
                }
                Err(e) => break Err(e),
            },
            joined = &mut task => {
                // Items queued before the handler returned still go out, in order.
                while let Ok(item) = items_rx.try_recv() {
                    match encode_item(&item, max_frame) {
                        Ok(frame) => watched(reader, feed(writer, frame, false)).await?,
                        Err(e) => break 'serve Err(e),
                    }
                }
                break joined.unwrap_or_else(|e| Err(crashed(e)));
            }
        }
    };
    // A handler still running (its response failed) now fails its next send.
    drop(items_rx);
    finish(reader, writer, outcome, handler.clock()).await
}

/// Send the `End` frame, or the `Error` frame for `outcome`'s error, with
/// a reading of `clock`.
async fn finish(
    reader: &mut Reader,
    writer: &mut Writer,
    outcome: Result<()>,
    clock: Option<&dyn super::Clock>,
) -> Result<()> {
    let clock = clock.map_or(0, |c| c.stamp());
    let frame: Frame<()> = match outcome {
        Ok(()) => Frame::End { clock },
        Err(e) => Frame::Error {
            message: e.to_string(),
            sqlstate: e.sqlstate().to_string(),
            detail: e.detail().map(str::to_string),
            hint: e.hint().map(str::to_string),
            clock,
        },
    };
    let bytes = postcard::to_stdvec(&frame).map_err(Error::internal)?;
    watched(reader, writer.send(Bytes::from(bytes))).await
}

/// One item's frame; an item too big for a frame fails the response, not
/// the connection.
fn encode_item<T: serde::Serialize>(item: &T, max_frame: usize) -> Result<Bytes> {
    let bytes = postcard::to_stdvec(&Frame::Item(item))
        .map_err(|e| Error::internal(format!("cannot encode an RPC response item: {e}")))?;
    if bytes.len() > max_frame {
        return Err(Error::internal(format!(
            "RPC response item of {} bytes exceeds the {max_frame}-byte frame limit",
            bytes.len()
        )));
    }
    Ok(bytes.into())
}

/// Queue a frame, flushing when asked (when no other item is waiting, so a
/// fast handler's items share writes and a slow one's go out at once).
async fn feed(writer: &mut Writer, frame: Bytes, flush: bool) -> std::io::Result<()> {
    writer.feed(frame).await?;
    if flush {
        SinkExt::<Bytes>::flush(writer).await?;
    }
    Ok(())
}

/// Run a write while watching the read half. A client sends nothing during a
/// response, so anything there (its close, usually) ends the request; this is
/// also what frees a write stuck on a client that stopped reading.
async fn watched(
    reader: &mut Reader,
    write: impl Future<Output = std::io::Result<()>>,
) -> Result<()> {
    tokio::select! {
        written = write => written.map_err(|e| Error::internal(format!("write failed: {e}"))),
        frame = reader.next() => Err(gone(frame)),
    }
}

/// Why a client's read half produced something mid-request.
fn gone(frame: Option<std::io::Result<BytesMut>>) -> Error {
    match frame {
        None => Error::internal("client closed the connection"),
        Some(Err(e)) => Error::internal(format!("read failed: {e}")),
        Some(Ok(_)) => Error::internal("client sent a frame during a response"),
    }
}

fn crashed(e: JoinError) -> Error {
    if e.is_panic() {
        Error::internal("RPC handler panicked")
    } else {
        Error::internal("RPC handler was cancelled")
    }
}
