//! The connection handshake: each end proves it holds the cluster secret
//! without sending it, before any request is read.
//!
//! ```text
//! server → client   MAGIC ‖ Ns                          (Ns: 32 random bytes)
//! client → server   Nc ‖ HMAC(secret, "client" ‖ Ns ‖ Nc)
//! server → client   HMAC(secret, "server" ‖ Nc ‖ Ns)
//! ```
//!
//! Fresh nonces on both sides make each proof good for one connection only,
//! and the labels keep a proof from being reflected back at its sender. The
//! handshake frames are capped far below `MAX_FRAME`, so an unauthenticated
//! peer cannot make either side buffer a large frame.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Sink, SinkExt, Stream, StreamExt};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::time::Instant;

use super::peer_error;
use crate::error::{Error, Result};

/// Names the protocol and its version in the server's first frame.
const MAGIC: &[u8; 12] = b"MOSAIC-RPC-1";
const NONCE_LEN: usize = 32;
const MAC_LEN: usize = 32;
/// Longest frame either side reads during the handshake.
pub(super) const HANDSHAKE_MAX_FRAME: usize = 256;
/// How long each side waits for each step.
pub(super) const STEP_TIMEOUT: Duration = Duration::from_secs(5);

const CLOSED: &str = "connection closed during the handshake";

type HmacSha256 = Hmac<Sha256>;
type Nonce = [u8; NONCE_LEN];

/// HMAC-SHA256(secret, label ‖ first ‖ second), ready to finalize or verify.
fn keyed(secret: &[u8], label: &[u8], first: &[u8], second: &[u8]) -> Result<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret).map_err(Error::internal)?;
    mac.update(label);
    mac.update(first);
    mac.update(second);
    Ok(mac)
}

/// The proof a side sends: HMAC-SHA256(secret, label ‖ first ‖ second).
pub(super) fn proof(secret: &[u8], label: &[u8], first: &[u8], second: &[u8]) -> Result<Bytes> {
    let mac = keyed(secret, label, first, second)?;
    Ok(Bytes::copy_from_slice(&mac.finalize().into_bytes()))
}

fn nonce() -> Nonce {
    let mut nonce = [0; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    nonce
}

/// Server side: greet, check the client's proof, prove ourselves. Any error
/// means the connection must be closed.
pub(super) async fn accept<R, W>(
    reader: &mut R,
    writer: &mut W,
    secret: &[u8],
    peer: SocketAddr,
) -> Result<()>
where
    R: Stream<Item = std::io::Result<BytesMut>> + Unpin,
    W: Sink<Bytes, Error = std::io::Error> + Unpin,
{
    let deadline = || Instant::now() + STEP_TIMEOUT;
    let server_nonce = nonce();
    let hello = [MAGIC.as_slice(), &server_nonce].concat();
    write(writer, hello.into(), deadline(), peer).await?;

    let reply = read(reader, deadline(), peer, CLOSED).await?;
    if reply.len() != NONCE_LEN + MAC_LEN {
        return Err(peer_error(peer, "malformed handshake reply"));
    }
    let (client_nonce, client_proof) = reply.split_at(NONCE_LEN);
    keyed(secret, b"client", &server_nonce, client_nonce)?
        .verify_slice(client_proof)
        .map_err(|_| peer_error(peer, "client did not prove the cluster secret"))?;

    let ours = proof(secret, b"server", client_nonce, &server_nonce)?;
    write(writer, ours, deadline(), peer).await
}

/// Client side: answer the greeting with our proof and check the server's.
/// Each step waits at most five seconds and never past `deadline`.
pub(super) async fn connect<R, W>(
    reader: &mut R,
    writer: &mut W,
    secret: &[u8],
    peer: SocketAddr,
    deadline: Instant,
) -> Result<()>
where
    R: Stream<Item = std::io::Result<BytesMut>> + Unpin,
    W: Sink<Bytes, Error = std::io::Error> + Unpin,
{
    let step = || deadline.min(Instant::now() + STEP_TIMEOUT);
    let hello = read(reader, step(), peer, CLOSED).await?;
    let server_nonce = match hello.strip_prefix(MAGIC.as_slice()) {
        Some(nonce) if nonce.len() == NONCE_LEN => nonce.to_vec(),
        _ => {
            return Err(peer_error(
                peer,
                "not a MosaicDB RPC endpoint (bad greeting)",
            ))
        }
    };

    let client_nonce = nonce();
    let ours = proof(secret, b"client", &server_nonce, &client_nonce)?;
    let reply = [client_nonce.as_slice(), &ours].concat();
    write(writer, reply.into(), step(), peer).await?;

    let refused =
        "connection closed after our proof: the server refused it (wrong cluster secret?)";
    let theirs = read(reader, step(), peer, refused).await?;
    keyed(secret, b"server", &client_nonce, &server_nonce)?
        .verify_slice(&theirs)
        .map_err(|_| peer_error(peer, "server did not prove the cluster secret"))
}

/// Read one handshake frame; `on_close` says what the peer closing means here.
async fn read<R>(
    reader: &mut R,
    deadline: Instant,
    peer: SocketAddr,
    on_close: &str,
) -> Result<BytesMut>
where
    R: Stream<Item = std::io::Result<BytesMut>> + Unpin,
{
    match tokio::time::timeout_at(deadline, reader.next()).await {
        Err(_) => Err(peer_error(peer, "handshake timed out")),
        Ok(None) => Err(peer_error(peer, on_close)),
        Ok(Some(Err(e))) => Err(peer_error(peer, format!("handshake failed: {e}"))),
        Ok(Some(Ok(frame))) => Ok(frame),
    }
}

async fn write<W>(writer: &mut W, frame: Bytes, deadline: Instant, peer: SocketAddr) -> Result<()>
where
    W: Sink<Bytes, Error = std::io::Error> + Unpin,
{
    match tokio::time::timeout_at(deadline, writer.send(frame)).await {
        Err(_) => Err(peer_error(peer, "handshake timed out")),
        Ok(Err(e)) => Err(peer_error(peer, format!("handshake failed: {e}"))),
        Ok(Ok(())) => Ok(()),
    }
}
