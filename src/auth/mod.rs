//! Authentication: SCRAM-SHA-256 verifiers for roles. Only the salted
//! verifier (PostgreSQL's `SCRAM-SHA-256$iter:salt$stored:server` format)
//! is ever stored, never a password.

use base64::Engine;
use pgwire::api::auth::sasl::scram::ScramSecret;

/// A new verifier for `password` (random salt, 4096 iterations, SASLprep).
pub fn make_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// The SCRAM secret in a stored verifier, or `None` if it is malformed.
pub fn parse_verifier(v: &str) -> Option<ScramSecret> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let rest = v.strip_prefix("SCRAM-SHA-256$")?;
    let (iter_salt, keys) = rest.split_once('$')?;
    let (iter, salt) = iter_salt.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    Some(ScramSecret::Verifier {
        salt: b64.decode(salt).ok()?,
        iterations: iter.parse().ok()?,
        stored_key: b64.decode(stored).ok()?,
        server_key: b64.decode(server).ok()?,
    })
}

/// A random password for the bootstrap role when none is configured.
pub fn generate_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..24)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_parse_and_never_contain_the_password() {
        let v = make_verifier("s3cret-pw");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"));
        assert!(!v.contains("s3cret-pw"));
        match parse_verifier(&v) {
            Some(ScramSecret::Verifier {
                iterations,
                stored_key,
                server_key,
                salt,
            }) => {
                assert_eq!(iterations, 4096);
                assert_eq!(stored_key.len(), 32);
                assert_eq!(server_key.len(), 32);
                assert_eq!(salt.len(), 16);
            }
            _ => panic!("verifier did not parse"),
        }
        assert!(parse_verifier("md5abc").is_none());
    }
}
