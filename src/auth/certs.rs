//! Certificates and keys read from PEM files, for TLS on the Postgres port
//! and between nodes. Every failure names the file and what is wrong with
//! it, since it stops the node at start.

use std::path::Path;

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

fn bad(m: String) -> Error {
    Error::InvalidParameter(m)
}

/// The file's bytes, or why it cannot be read.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| bad(format!("cannot read {what} {}: {e}", path.display())))
}

/// The certificates of a PEM file: a chain, leaf first, or the CAs to
/// trust. At least one.
pub fn certificates(pem: &[u8], path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("invalid {what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(bad(format!(
            "no certificate in {} (PEM expected)",
            path.display()
        )));
    }
    Ok(certs)
}

/// The private key of a PEM file.
pub fn private_key(path: &Path, what: &str) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| bad(format!("invalid {what} {}: {e}", path.display())))
}

/// A server's certificate is good when it chains to `roots` (any when
/// there are none, as libpq's `prefer` and `require`) and, with
/// `check_name`, names the host connected to. The handshake's signatures
/// are checked whatever the roots. Used toward a node by `mosaic backup`
/// and `restore` (as sslmode says) and between nodes (the cluster CA,
/// any name).
#[derive(Debug)]
pub struct ServerCertificate {
    roots: Option<Arc<RootCertStore>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertificate {
    pub fn new(
        roots: Option<Arc<RootCertStore>>,
        check_name: bool,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> ServerCertificate {
        ServerCertificate {
            roots,
            check_name,
            provider,
        }
    }
}

impl ServerCertVerifier for ServerCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &cert,
            roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        )?;
        if self.check_name {
            rustls::client::verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
