//! TLS on the PostgreSQL port (rustls through pgwire): the certificate and
//! key from `--tls-cert`/`--tls-key`, or, with `--tls self-signed`, the
//! ones `node` generated once into `DATA/tls/` for development. Both the SSLRequest
//! handshake and PostgreSQL 17's direct TLS (ALPN `postgresql`) are
//! served. A certificate the node cannot use stops it at start, with the
//! reason; nothing is silently left out.

use std::path::PathBuf;
use std::sync::Arc;

use pgwire::tokio::tokio_rustls::rustls;

use crate::auth::certs;
use crate::error::{Error, Result};

/// What the connection loop needs to serve TLS.
pub struct Tls {
    pub acceptor: pgwire::tokio::TlsAcceptor,
    /// The certificate chain as PEM, which SCRAM-SHA-256-PLUS binds to.
    pub cert_pem: Vec<u8>,
    /// Connections without TLS are refused, except from loopback.
    pub required: bool,
}

fn bad(m: String) -> Error {
    Error::InvalidParameter(m)
}

/// The node's TLS from a PEM certificate chain and key (`None`:
/// plaintext); `required`: `--tls-required`.
pub fn load(files: Option<(PathBuf, PathBuf)>, required: bool) -> Result<Option<Tls>> {
    let Some((cert_path, key_path)) = files else {
        return Ok(None);
    };
    let cert_pem = certs::read(&cert_path, "TLS certificate")?;
    let chain = certs::certificates(&cert_pem, &cert_path, "TLS certificate")?;
    let key = certs::private_key(&key_path, "TLS key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            bad(format!(
                "the TLS certificate and key do not go together: {e}"
            ))
        })?;
    // PostgreSQL 17's direct TLS names this protocol; SSLRequest clients
    // offer none, which rustls accepts.
    cfg.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Some(Tls {
        acceptor: pgwire::tokio::TlsAcceptor::from(Arc::new(cfg)),
        cert_pem,
        required,
    }))
}
