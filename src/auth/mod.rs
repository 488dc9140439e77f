//! Authentication: SCRAM-SHA-256 verifiers for roles. Only the salted
//! verifier (PostgreSQL's `SCRAM-SHA-256$iter:salt$stored:server` format)
//! is ever stored, never a password.

pub mod certs;
pub mod token;

use base64::Engine;
use pgwire::api::auth::sasl::scram::ScramSecret;

/// A new verifier for `password` (random salt, 4096 iterations, SASLprep).
pub fn make_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// A verifier for `password` with a given salt and iteration count (the
/// role's tokens share its password's, so one SCRAM exchange can check
/// them all).
pub fn verifier_with_salt(password: &str, salt: &[u8], iterations: usize) -> String {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let salted = pgwire::api::auth::sasl::scram::gen_salted_password(password, salt, iterations);
    let hmac = |msg: &[u8]| {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&salted).expect("HMAC takes keys of any length");
        m.update(msg);
        m.finalize().into_bytes()
    };
    let stored_key = Sha256::digest(hmac(b"Client Key"));
    let server_key = hmac(b"Server Key");
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

/// SCRAM's check of a client proof against a stored verifier: the server
/// signature to send back when `proof` (base64) proves the secret behind
/// `verifier` for `auth_message`, else `None`.
pub fn check_proof(verifier: &str, auth_message: &str, proof: &str) -> Option<Vec<u8>> {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let ScramSecret::Verifier {
        stored_key,
        server_key,
        ..
    } = parse_verifier(verifier)?
    else {
        return None;
    };
    let proof = base64::engine::general_purpose::STANDARD
        .decode(proof)
        .ok()?;
    if proof.len() != stored_key.len() {
        return None;
    }
    let hmac = |key: &[u8]| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
        m.update(auth_message.as_bytes());
        Some(m.finalize().into_bytes().to_vec())
    };
    let signature = hmac(&stored_key)?;
    let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
    let computed = Sha256::digest(&client_key);
    // Compared without an early exit.
    let differ = computed
        .iter()
        .zip(&stored_key)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (differ == 0).then(|| hmac(&server_key)).flatten()
}

/// The salt and iteration count of a stored verifier.
pub fn salt_of(v: &str) -> Option<(Vec<u8>, usize)> {
    match parse_verifier(v)? {
        ScramSecret::Verifier {
            salt, iterations, ..
        } => Some((salt, iterations)),
        ScramSecret::SaltedPassword { .. } => None,
    }
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
        let (salt, iterations) = salt_of(&v).expect("salt");
        let again = verifier_with_salt("s3cret-pw", &salt, iterations);
        assert_eq!(
            again, v,
            "the same salt and password give the same verifier"
        );
    }
}
