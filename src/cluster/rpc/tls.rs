//! TLS between nodes: mutual, with a cluster CA.
//!
//! When the node is given `--cluster-tls-cert/-key/-ca`, every RPC
//! connection is TLS 1.3 (rustls, ring) before the secret handshake runs
//! inside it: the traffic is encrypted and its integrity protected, and a
//! relay cannot splice two connections together.
//!
//! DESIGN: the cluster CA is the membership credential. Each side checks
//! that the other's certificate chains to the CA and nothing about its
//! name: nodes reach each other by IP address, which in a container
//! platform changes with every restart, and a certificate per address
//! would make that unworkable. A server checks its clients the same way
//! (rustls's client verifier checks no name either). So any holder of a
//! certificate the cluster CA signed counts as a node; keep that CA for
//! the cluster alone. The cluster secret is bound to the CA (`bind`), so
//! gossip keeps out a node of another CA as it keeps out one without the
//! secret: every node must be given the same CA file.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::auth::certs;
use crate::error::{Error, Result};

/// The read side of a connection, plain or TLS.
pub(super) type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;
/// The write side of a connection, plain or TLS.
pub(super) type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// A node's TLS toward its peers: its certificate and key, and the
/// cluster CA every peer's certificate must chain to.
pub struct PeerTls {
    connector: TlsConnector,
    acceptor: TlsAcceptor,
    /// SHA-256 over the cluster CA certificates, in their file's order.
    ca_digest: [u8; 32],
}

impl std::fmt::Debug for PeerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerTls").finish_non_exhaustive()
    }
}

fn bad(m: String) -> Error {
    Error::InvalidParameter(m)
}

impl PeerTls {
    /// From PEM files: the node's certificate chain, its key, and the
    /// cluster CA. Whatever is wrong with them stops the node at start.
    pub fn load(cert: &Path, key: &Path, ca: &Path) -> Result<PeerTls> {
        let chain = certs::certificates(
            &certs::read(cert, "cluster TLS certificate")?,
            cert,
            "cluster TLS certificate",
        )?;
        let key = certs::private_key(key, "cluster TLS key")?;
        let cas = certs::certificates(&certs::read(ca, "cluster CA")?, ca, "cluster CA")?;
        PeerTls::new(chain, key, cas).map_err(|e| bad(format!("{e} (cluster CA {})", ca.display())))
    }

    /// From parsed parts (tests build them in memory).
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
        cas: Vec<CertificateDer<'static>>,
    ) -> Result<PeerTls> {
        let mut roots = RootCertStore::empty();
        let mut ca_digest = Sha256::new();
        for ca in cas {
            ca_digest.update((ca.len() as u64).to_be_bytes());
            ca_digest.update(&ca);
            roots
                .add(ca)
                .map_err(|e| bad(format!("unusable cluster CA: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(roots);
        let mismatch = |e: rustls::Error| {
            bad(format!(
                "the cluster TLS certificate and key do not go together: {e}"
            ))
        };
        let clients = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| bad(format!("cluster CA: {e}")))?;
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| bad(format!("cluster TLS: {e}")))?
            .with_client_cert_verifier(clients)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(mismatch)?;
        let client = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| bad(format!("cluster TLS: {e}")))?
            .dangerous()
            // Chained to the cluster CA, whatever name it carries (see the
            // module's DESIGN).
            .with_custom_certificate_verifier(Arc::new(certs::ServerCertificate::new(
                Some(roots),
                false,
                provider,
            )))
            .with_client_auth_cert(chain, key)
            .map_err(mismatch)?;
        Ok(PeerTls {
            connector: TlsConnector::from(Arc::new(client)),
            acceptor: TlsAcceptor::from(Arc::new(server)),
            ca_digest: ca_digest.finalize().into(),
        })
    }

    /// The key that stands for the cluster secret when TLS is on: the
    /// secret bound to the cluster CA. Gossip and the RPC handshake use
    /// it, so a node with the secret but another CA (or none) is no member
    /// at all, rather than a member no one can reach.
    pub fn bind(&self, secret: &[u8]) -> Result<Arc<[u8]>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(Error::internal)?;
        mac.update(b"mosaic cluster CA");
        mac.update(&self.ca_digest);
        Ok(Arc::from(&mac.finalize().into_bytes()[..]))
    }

    /// TLS as the client of `peer` over `stream`.
    pub(super) async fn connect(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> std::io::Result<(ReadHalf, WriteHalf)> {
        // Not checked (see the module's DESIGN); rustls wants one.
        let name = ServerName::IpAddress(peer.ip().into());
        let tls = self.connector.connect(name, stream).await?;
        Ok(halves(tls))
    }

    /// TLS as the server of `stream`.
    pub(super) async fn accept(&self, stream: TcpStream) -> std::io::Result<(ReadHalf, WriteHalf)> {
        let tls = self.acceptor.accept(stream).await?;
        Ok(halves(tls))
    }
}

fn halves<S: AsyncRead + AsyncWrite + Send + 'static>(stream: S) -> (ReadHalf, WriteHalf) {
    let (r, w) = tokio::io::split(stream);
    (Box::new(r), Box::new(w))
}

/// A plain connection's halves.
pub(super) fn plain(stream: TcpStream) -> (ReadHalf, WriteHalf) {
    let (r, w) = stream.into_split();
    (Box::new(r), Box::new(w))
}
