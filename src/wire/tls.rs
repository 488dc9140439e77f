//! TLS on the PostgreSQL port (rustls through pgwire): the certificate and
//! key from `--tls-cert`/`--tls-key`, or, with `--tls self-signed`, one
//! generated once into `DATA/tls/` for development. Both the SSLRequest
//! handshake and PostgreSQL 17's direct TLS (ALPN `postgresql`) are
//! served. A certificate the node cannot use stops it at start, with the
//! reason; nothing is silently left out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pgwire::tokio::tokio_rustls::rustls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{Config, TlsSource};
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

/// The node's TLS, as its configuration asks for it (`None`: plaintext).
pub fn load(config: &Config) -> Result<Option<Tls>> {
    let (cert_path, key_path) = match &config.tls {
        TlsSource::None => return Ok(None),
        TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSource::SelfSigned => self_signed(&config.data, config.listen)?,
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
        required: config.tls_required,
    }))
}

/// `DATA/tls/cert.pem` and `key.pem`, generated on first use: a
/// self-signed certificate for localhost, 127.0.0.1, ::1 and the listen
/// address. Clients must not verify it (`sslmode=require`).
fn self_signed(data: &Path, listen: std::net::SocketAddr) -> Result<(PathBuf, PathBuf)> {
    let dir = data.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(&dir)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    let ip = listen.ip();
    if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
        names.push(ip.to_string());
    }
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::Internal(format!("generating a TLS certificate: {e}")))?;
    write_private(&key, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, made.cert.pem())?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}

/// Write a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    Ok(())
}
