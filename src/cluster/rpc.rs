//! Node RPC over TCP: one request in, a stream of response items out.
//!
//! Owns the transport only: framing (length-delimited frames carrying
//! postcard), the secret-proving handshake, the client's connection pool and
//! request cancellation. It knows nothing of the messages: the protocol enum
//! lives with whoever implements [`Handler`] and calls [`Client::call`].
//!
//! Per connection, after the handshake: the client sends one request frame;
//! the server answers with item frames, then an `End` or an `Error` frame;
//! then the connection may carry the next request. One request at a time per
//! connection, so concurrent calls use separate connections.
//!
//! The request frame and the `End`/`Error` frame each carry a reading of
//! the sender's [`Clock`] (0 without one), which the receiver's clock
//! observes: a hybrid logical clock rides on every exchange.
//!
//! DESIGN: cancellation is the connection. A client that stops reading closes
//! the socket; the server watches the socket while it streams, drops the
//! request's item channel when it closes, and the handler's next
//! [`Sender::send`] fails. There is no cancel message, so a connection is
//! pooled again only after a response ended at a frame boundary.
//!
//! The handshake authenticates both ends but does not protect the traffic
//! after it (no encryption, no integrity, a relaying man in the middle is not
//! stopped); that is TLS's job (`tls`): with certificates configured, each
//! connection is TLS first and the handshake runs inside it.

mod client;
mod handshake;
mod server;
#[cfg(test)]
mod tests;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::codec::LengthDelimitedCodec;

use crate::error::{Error, Result};

pub use client::{Client, Responses};
pub use server::{rejected_connections, serve};
pub use tls::PeerTls;

/// What each end of a connection proves and checks: the cluster secret,
/// and TLS with the cluster CA when certificates are configured.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub secret: Arc<[u8]>,
    pub tls: Option<Arc<PeerTls>>,
}

impl From<Arc<[u8]>> for Credentials {
    /// The secret alone: plaintext connections.
    fn from(secret: Arc<[u8]>) -> Credentials {
        Credentials { secret, tls: None }
    }
}

/// Largest frame either side sends or accepts; a longer one is refused from
/// its length header, before any of it is buffered.
pub const MAX_FRAME: usize = 64 << 20;

/// Response items buffered per request before the handler's `send` waits.
const ITEM_BUFFER: usize = 16;

/// A clock whose readings travel with every request and every response's
/// end, each end's clock moving past the other's.
pub trait Clock: Send + Sync + 'static {
    /// A reading to send (sending is an event: the clock may advance).
    fn stamp(&self) -> i64;
    /// A reading that came from the other end.
    fn observe(&self, remote: i64);
}

/// Serves requests of type `Req`, answering each with a stream of `Resp` items.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    /// The request message, decoded from the request frame.
    type Req: serde::de::DeserializeOwned + Send + 'static;
    /// One response item.
    type Resp: serde::Serialize + Send + 'static;

    /// Answer one request by sending zero or more items to `out`; returning
    /// Err sends an error frame (the message text and the SQLSTATE from
    /// [`Error::sqlstate`]) that the client's stream yields as Err.
    ///
    /// `out.send(item).await` waits while the client is slow (a bounded
    /// channel of a few items) and returns Err once the client has gone away
    /// or cancelled, so the handler can stop. The handler runs on its own
    /// task; the request ends when it returns.
    async fn handle(&self, req: Self::Req, out: Sender<Self::Resp>) -> Result<()>;

    /// The clock that observes each request's reading and stamps each
    /// response's end; none by default.
    fn clock(&self) -> Option<&dyn Clock> {
        None
    }
}

/// Where a [`Handler`] sends the items of one response.
pub struct Sender<T> {
    items_tx: mpsc::Sender<T>,
}

impl<T> Sender<T> {
    /// Queue one item for the client, waiting while the queue is full.
    ///
    /// Fails with [`Error::Canceled`] once the request is over for the
    /// client: it disconnected, dropped the response stream, or the server
    /// could not send an earlier item.
    pub async fn send(&self, item: T) -> Result<()> {
        self.items_tx.send(item).await.map_err(|_| Error::Canceled)
    }

    /// Whether [`Sender::send`] would fail because the request is over.
    pub fn is_closed(&self) -> bool {
        self.items_tx.is_closed()
    }

    /// Resolves once the request is over for the client; for handlers that
    /// work a long time between items and want to stop early.
    pub async fn closed(&self) {
        self.items_tx.closed().await
    }
}

/// One frame of a response. Items are serialized in place (`Frame<&Resp>` on
/// the server, `Frame<Resp>` on the client); `End` and `Error` encode the
/// same whatever `T` is.
#[derive(Serialize, Deserialize)]
enum Frame<T> {
    Item(T),
    End {
        clock: i64,
    },
    Error {
        message: String,
        sqlstate: String,
        detail: Option<String>,
        hint: Option<String>,
        clock: i64,
    },
}

/// A request frame: the client's clock reading, then the request.
#[derive(Serialize, Deserialize)]
struct Request<T> {
    clock: i64,
    body: T,
}

/// The codec of every frame, handshake included, refusing frames over `max`.
fn codec(max: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(max)
        .new_codec()
}

/// Decode a whole frame body; trailing bytes mean the peers disagree on the
/// message type, which is an error rather than something to ignore.
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(format!("{} trailing bytes", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// A transport failure talking to `peer`.
fn peer_error(peer: SocketAddr, what: impl std::fmt::Display) -> Error {
    Error::Internal(format!("node {peer}: {what}"))
}

/// Rebuild the error a peer's handler returned from its message and SQLSTATE.
///
/// `Error` has no variant for "an error from elsewhere", so this picks the
/// variant with that SQLSTATE whose text fits the message (the one with the
/// most fixed text, when several do) and fills in its field. Where the
/// variant's text ends with its field, " (node PEER)" is appended so the peer
/// is named; otherwise the message is kept exact. An unknown SQLSTATE becomes
/// `Error::Internal` naming the peer and the code.
fn remote_error(peer: SocketAddr, message: &str, sqlstate: &str) -> Error {
    // Marks where the field sits in a variant's text.
    const HOLE: &str = "\u{0}";
    let mut best: Option<(usize, Error)> = None;
    for build in VARIANTS {
        let probe = build(HOLE.to_string());
        if probe.sqlstate() != sqlstate {
            continue;
        }
        let text = probe.to_string();
        let fitted = match text.split_once(HOLE) {
            None if text == message => Some((usize::MAX, probe)),
            None => None,
            Some((before, after)) => message
                .strip_prefix(before)
                .and_then(|m| m.strip_suffix(after))
                .map(|field| {
                    let field = if after.is_empty() {
                        format!("{field} (node {peer})")
                    } else {
                        field.to_string()
                    };
                    (before.len() + after.len(), build(field))
                }),
        };
        if let Some((fixed, error)) = fitted {
            if best.as_ref().is_none_or(|(b, _)| fixed > *b) {
                best = Some((fixed, error));
            }
        }
    }
    match best {
        Some((_, error)) => error,
        None => peer_error(peer, format!("{message} (SQLSTATE {sqlstate})")),
    }
}

/// Every `Error` variant, built from its one text field (unit variants ignore
/// it). A variant missing here arrives from a peer as `Error::Internal`.
const VARIANTS: &[fn(String) -> Error] = &[
    Error::Syntax,
    Error::NoSuchTable,
    Error::NoSuchColumn,
    Error::TableExists,
    Error::ObjectExists,
    Error::NoSuchObject,
    Error::UniqueViolation,
    Error::NotNullViolation,
    Error::CheckViolation,
    Error::ForeignKeyViolation,
    Error::InvalidForeignKey,
    Error::DependentObjects,
    Error::UndefinedColumn,
    Error::InvalidInput,
    Error::CharacterNotInRepertoire,
    Error::BadCopyFormat,
    Error::StringTooLong,
    Error::NumericOutOfRange,
    Error::DivisionByZero,
    Error::DatatypeMismatch,
    Error::NoSuchFunction,
    Error::Unsupported,
    Error::BadPassword,
    Error::PermissionDenied,
    Error::InvalidGrantOperation,
    Error::ObjectInUse,
    Error::CantChangeParameter,
    |_| Error::TransactionAborted,
    Error::InvalidTransactionState,
    Error::SerializationFailure,
    |_| Error::Canceled,
    |_| Error::StatementTimeout,
    Error::UnknownSetting,
    Error::InvalidParameter,
    Error::ProtocolViolation,
    Error::Internal,
    Error::AmbiguousColumn,
    Error::Grouping,
    Error::TooComplex,
    |_| Error::CardinalityViolation,
    Error::ReadOnlyTransaction,
    Error::NoTransaction,
    Error::NoSuchSavepoint,
    Error::DatetimeFieldOverflow,
    Error::InvalidDatetimeFormat,
    Error::StaleCopy,
    Error::ActiveTransaction,
    Error::LockNotAvailable,
    Error::InvalidEscapeSequence,
    Error::InvalidRegex,
    Error::InvalidRowCount,
    Error::InvalidOffset,
    |_| Error::ConflictTwice,
    Error::InvalidColumnReference,
    Error::WrongObjectType,
    Error::InvalidTableDefinition,
    Error::InvalidObjectDefinition,
    Error::DuplicateColumn,
    Error::NoSuchRelation,
    Error::SequenceLimit,
    Error::GeneratedAlways,
    Error::ColumnExists,
    Error::InvalidWidthBucket,
    |_| Error::MergeTwice,
    |m| Error::JsonPath("2203A", m),
    |m| Error::JsonPath("2203B", m),
    |m| Error::JsonPath("2203C", m),
    |m| Error::JsonPath("22033", m),
    |m| Error::JsonPath("22036", m),
    |m| Error::JsonPath("22038", m),
    |m| Error::JsonPath("22039", m),
    |m| Error::JsonPath("42704", m),
    Error::DuplicateFunction,
    Error::InvalidFunctionDefinition,
];
