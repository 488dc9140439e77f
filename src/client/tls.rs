//! TLS toward the node, as libpq's `sslmode` and `sslrootcert` say (in
//! `--url`, else PGSSLMODE and PGSSLROOTCERT): `disable`; `prefer` (the
//! default: TLS when the node offers it) and `require` (TLS or nothing),
//! which check no certificate unless a root certificate is given, as
//! libpq does; `verify-ca` (the certificate chains to the root) and
//! `verify-full` (and names the host). tokio-postgres knows only the first
//! three modes and no root certificate, so both are taken out of the URL
//! here and the checking is done by the verifier below.

use std::path::Path;
use std::sync::Arc;

use tokio_postgres::config::SslMode;
use tokio_rustls::rustls;
use tokio_rustls::rustls::RootCertStore;

use crate::auth::certs::ServerCertificate;
use crate::error::{Error, Result};

/// The `sslmode` values libpq knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(text: &str) -> Result<Mode> {
        Ok(match text {
            "disable" => Mode::Disable,
            "allow" | "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(Error::InvalidParameter(format!(
                    "invalid sslmode value: \"{other}\""
                )))
            }
        })
    }

    /// What tokio-postgres is told.
    pub fn ssl_mode(self) -> SslMode {
        match self {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }
}

/// A connection string without `sslmode` and `sslrootcert` (URL or
/// `key=value` form), and the mode and root certificate: those it named,
/// else PGSSLMODE and PGSSLROOTCERT, else `prefer` and none.
pub fn split(conn: Option<&str>) -> Result<(Option<String>, Mode, Option<String>)> {
    let (mut mode, mut root) = (None, None);
    let mut take = |key: &str, value: String| match key {
        "sslmode" => mode = Some(value),
        _ => root = Some(value),
    };
    let is_ours = |key: &str| key == "sslmode" || key == "sslrootcert";
    let rest = conn.map(|conn| match conn.split_once('?') {
        Some((base, query)) if conn.contains("://") => {
            let mut kept = Vec::new();
            for pair in query.split('&') {
                match pair.split_once('=') {
                    Some((k, v)) if is_ours(k) => take(k, percent_decoded(v)),
                    _ => kept.push(pair),
                }
            }
            match kept.is_empty() {
                true => base.to_string(),
                false => format!("{base}?{}", kept.join("&")),
            }
        }
        _ if conn.contains("://") => conn.to_string(),
        _ => {
            let mut kept = Vec::new();
            for word in conn.split_whitespace() {
                match word.split_once('=') {
                    Some((k, v)) if is_ours(k) => take(k, v.to_string()),
                    _ => kept.push(word),
                }
            }
            kept.join(" ")
        }
    });
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mode = Mode::parse(&mode.or_else(|| env("PGSSLMODE")).unwrap_or("prefer".into()))?;
    Ok((rest, mode, root.or_else(|| env("PGSSLROOTCERT"))))
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The TLS connector for `mode` (none for `disable`), checking the node's
/// certificate against `root` (a PEM file) as the mode says.
pub fn connector(
    mode: Mode,
    root: Option<&str>,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>> {
    if mode == Mode::Disable {
        return Ok(None);
    }
    let roots = match root {
        Some(path) => {
            let path = Path::new(path);
            let pem = crate::auth::certs::read(path, "root certificate")?;
            let mut roots = RootCertStore::empty();
            for cert in crate::auth::certs::certificates(&pem, path, "root certificate")? {
                roots
                    .add(cert)
                    .map_err(|e| Error::InvalidParameter(format!("unusable root certificate: {e}")))?;
            }
            Some(Arc::new(roots))
        }
        None if matches!(mode, Mode::VerifyCa | Mode::VerifyFull) => {
            return Err(Error::InvalidParameter(
                "sslmode verify-ca and verify-full need a root certificate (sslrootcert or PGSSLROOTCERT)"
                    .into(),
            ))
        }
        None => None,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = ServerCertificate::new(roots, mode == Mode::VerifyFull, provider.clone());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::InvalidParameter(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_sslrootcert_leave_the_connection_string() {
        let (rest, mode, root) =
            split(Some("postgresql://u@h:1/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x"))
                .unwrap();
        assert_eq!(
            rest.as_deref(),
            Some("postgresql://u@h:1/db?application_name=x")
        );
        assert_eq!(mode, Mode::VerifyFull);
        assert_eq!(root.as_deref(), Some("/tmp/ca.pem"));
        let (rest, mode, _) = split(Some("host=h sslmode=require user=u")).unwrap();
        assert_eq!(rest.as_deref(), Some("host=h user=u"));
        assert_eq!(mode, Mode::Require);
        assert!(split(Some("postgresql://h/db?sslmode=sometimes")).is_err());
    }
}
