//! TLS on the PostgreSQL port (rustls through pgwire): the certificate and
//! key from `--tls-cert`/`--tls-key`, or, with `--tls self-signed`, the
//! ones `node` generated once into `DATA/tls/` for development. Both the SSLRequest
//! handshake and PostgreSQL 17's direct TLS (ALPN `postgresql`) are
//! served. A certificate the node cannot use stops it at start, with the
//! reason; nothing is silently left out.

use std::path::PathBuf;
use std::sync::Arc;

use pgwire::tokio::tokio_rustls::rustls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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
    let cert_pem = std::fs::read(&cert_path).map_err(|e| {
        bad(format!(
            "cannot read TLS certificate {}: {e}",
            cert_path.display()
        ))
    })?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| {
            bad(format!(
                "invalid TLS certificate {}: {e}",
                cert_path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(bad(format!(
            "no certificate in {} (PEM expected)",
            cert_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| bad(format!("invalid TLS key {}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
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
