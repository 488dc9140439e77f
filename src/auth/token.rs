//! Tokens: signed, self-describing credentials that work as a role's
//! password. A token reads `mosaic1.<payload>.<mac>` (both base64url):
//! the payload is the canonical encoding of its claims (format version,
//! key id, expiry, perms, nonce, user) and the MAC is HMAC-SHA256 under the
//! named key over a domain tag and the payload. The MAC is checked, in
//! constant time, before anything in the payload but the key id (which
//! only chooses the key) is read.
//!
//! A client never sends the token itself: it logs in with it as the
//! password through SCRAM, against the verifier the cluster keeps for the
//! token until it expires.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const PREFIX: &str = "mosaic1.";
/// What the MAC covers before the payload, so that no other HMAC made
/// with the key can pass for a token.
const DOMAIN: &[u8] = b"mosaic-token-v1\0";
/// Tokens are short; anything longer is not one (and is not decoded).
const MAX_LEN: usize = 1024;

/// What a token lets its holder do, within what its user may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Perms {
    /// Queries only.
    Read,
    /// Queries and INSERT, UPDATE, DELETE, COPY FROM.
    Write,
    /// Everything the user may do, issuing tokens included.
    Admin,
}

impl Perms {
    pub fn parse(s: &str) -> Result<Perms> {
        match s {
            "read" => Ok(Perms::Read),
            "write" => Ok(Perms::Write),
            "admin" => Ok(Perms::Admin),
            _ => Err(Error::InvalidParameter(format!(
                "invalid token perms \"{s}\" (read, write or admin)"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Perms::Read => "read",
            Perms::Write => "write",
            Perms::Admin => "admin",
        }
    }
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub user: String,
    pub perms: Perms,
    /// Seconds since the Unix epoch.
    pub expires: i64,
    pub key_id: String,
    /// Random, so that two tokens with the same claims differ.
    pub nonce: String,
}

impl Claims {
    /// The canonical encoding the MAC covers: fields joined by NUL (no
    /// field can hold one), the user last.
    fn payload(&self) -> Vec<u8> {
        format!(
            "1\0{}\0{}\0{}\0{}\0{}",
            self.key_id,
            self.expires,
            self.perms.name(),
            self.nonce,
            self.user
        )
        .into_bytes()
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

fn mac(key: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(DOMAIN);
    m.update(payload);
    m
}

/// The token for `claims`, signed with `key`.
pub fn sign(claims: &Claims, key: &[u8]) -> String {
    let payload = claims.payload();
    let tag = mac(key, &payload).finalize().into_bytes();
    format!("{PREFIX}{}.{}", b64().encode(&payload), b64().encode(tag))
}

/// Why a token is refused (the login fails the same way whatever it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    UnknownKey,
    BadMac,
}

/// The claims of `token` once its MAC checks out under the key `key_of`
/// gives for its key id. Expiry and revocation are the caller's to check.
pub fn verify(
    token: &str,
    key_of: impl Fn(&str) -> Option<Vec<u8>>,
) -> std::result::Result<Claims, Refused> {
    if token.len() > MAX_LEN {
        return Err(Refused::Malformed);
    }
    let rest = token.strip_prefix(PREFIX).ok_or(Refused::Malformed)?;
    let (payload, tag) = rest.split_once('.').ok_or(Refused::Malformed)?;
    let payload = b64().decode(payload).map_err(|_| Refused::Malformed)?;
    let tag = b64().decode(tag).map_err(|_| Refused::Malformed)?;
    let mut fields = payload.splitn(6, |b| *b == 0);
    if fields.next() != Some(b"1") {
        return Err(Refused::Malformed);
    }
    let key_id = fields
        .next()
        .and_then(|k| std::str::from_utf8(k).ok())
        .ok_or(Refused::Malformed)?;
    let key = key_of(key_id).ok_or(Refused::UnknownKey)?;
    mac(&key, &payload)
        .verify_slice(&tag)
        .map_err(|_| Refused::BadMac)?;
    // Trusted from here on.
    let text = |f: Option<&[u8]>| {
        f.and_then(|b| std::str::from_utf8(b).ok())
            .map(str::to_string)
            .ok_or(Refused::Malformed)
    };
    let expires = text(fields.next())?
        .parse()
        .map_err(|_| Refused::Malformed)?;
    let perms = Perms::parse(&text(fields.next())?).map_err(|_| Refused::Malformed)?;
    let nonce = text(fields.next())?;
    let user = text(fields.next())?;
    Ok(Claims {
        user,
        perms,
        expires,
        key_id: key_id.to_string(),
        nonce,
    })
}

/// A token's id: the hex SHA-256 of its text, under which the cluster
/// keeps its verifier (and its revocation).
pub fn token_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random signing key, hex.
pub fn new_key() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random nonce or key id, hex.
pub fn new_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key bytes of a hex key.
pub fn key_bytes(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text is refused or verified without a panic; only a token
        /// signed with the key verifies.
        #[test]
        fn any_text_is_judged_without_a_panic(text in ".{0,200}", raw in proptest::collection::vec(any::<u8>(), 0..120)) {
            let key = b"k".to_vec();
            prop_assert!(verify(&text, |_| Some(key.clone())).is_err());
            let forged = format!("{PREFIX}{}.{}", b64().encode(&raw), b64().encode(&raw));
            prop_assert!(verify(&forged, |_| Some(key.clone())).is_err());
        }
    }

    fn claims() -> Claims {
        Claims {
            user: "al|ice".into(),
            perms: Perms::Read,
            expires: 4_000_000_000,
            key_id: "k1".into(),
            nonce: new_id(),
        }
    }

    #[test]
    fn a_signed_token_verifies_under_its_key_only() {
        let key = key_bytes(&new_key()).unwrap();
        let t = sign(&claims(), &key);
        assert_eq!(
            verify(&t, |k| (k == "k1").then(|| key.clone())),
            Ok(claims_of(&t))
        );
        assert_eq!(verify(&t, |_| None), Err(Refused::UnknownKey));
        let other = key_bytes(&new_key()).unwrap();
        assert_eq!(verify(&t, |_| Some(other.clone())), Err(Refused::BadMac));
        assert_ne!(token_id(&t), token_id(&sign(&claims(), &key)));
    }

    fn claims_of(t: &str) -> Claims {
        let rest = t.strip_prefix(PREFIX).unwrap();
        let payload = b64().decode(rest.split_once('.').unwrap().0).unwrap();
        let s = String::from_utf8(payload).unwrap();
        let f: Vec<&str> = s.splitn(6, '\0').collect();
        Claims {
            key_id: f[1].into(),
            expires: f[2].parse().unwrap(),
            perms: Perms::parse(f[3]).unwrap(),
            nonce: f[4].into(),
            user: f[5].into(),
        }
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let key = key_bytes(&new_key()).unwrap();
        let t = sign(&claims(), &key);
        let (head, tag) = t.rsplit_once('.').unwrap();
        // A payload changed to say admin keeps the old MAC: refused.
        let mut c = claims_of(&t);
        c.perms = Perms::Admin;
        let forged = format!("{PREFIX}{}.{tag}", b64().encode(c.payload()));
        assert_eq!(verify(&forged, |_| Some(key.clone())), Err(Refused::BadMac));
        for bad in [
            "",
            "mosaic1.",
            "mosaic1.x.y",
            &format!("{head}.AAAA"),
            &"a".repeat(5000),
        ] {
            assert!(verify(bad, |_| Some(key.clone())).is_err(), "{bad}");
        }
    }
}
