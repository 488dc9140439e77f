//! Certificates and keys read from PEM files, for TLS on the Postgres port
//! and between nodes. Every failure names the file and what is wrong with
//! it, since it stops the node at start.

use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

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
