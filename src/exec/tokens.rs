//! Tokens for a session: `mosaic.issue_token`, `mosaic.revoke_token`,
//! `mosaic.rotate_token_key`, and the SCRAM secrets a role logs in with.
//!
//! The cluster keeps, as catalog settings spread to every node:
//! - `token_key/<id>`: the signing keys (hex), never removed, so that
//!   rotating the key leaves live tokens valid; `token_key_current` names
//!   the one new tokens are signed with;
//! - `token/<token id>`: a live token's user, perms, expiry and SCRAM
//!   verifier (never the token), removed when it is revoked.
//!
//! A token's verifier is made with the salt and iteration count of its
//! role's password verifier, so one SCRAM exchange checks the password and
//! every token; a password changed since (a new salt) ends the role's
//! older tokens.

use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::auth::token::{self, Claims, Perms};
use crate::error::{Error, Result};
use crate::store::Store;

const CURRENT_KEY: &str = "token_key_current";
const KEY_PREFIX: &str = "token_key/";
const TOKEN_PREFIX: &str = "token/";
/// The longest lifetime a token may be given: one year.
const MAX_TTL: i64 = 366 * 24 * 3600;

/// What the cluster keeps of a live token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub user: String,
    pub perms: Perms,
    pub expires: i64,
    pub verifier: String,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The secrets `user` may log in with, password first, then its live
/// tokens' (with their perms); all share one salt and iteration count.
pub fn scram_secrets(store: &Store, user: &str) -> Vec<(String, Option<Perms>)> {
    let Some(role) = store.catalog.role(user) else {
        return vec![];
    };
    let mut out: Vec<(String, Option<Perms>)> =
        role.verifier.into_iter().map(|v| (v, None)).collect();
    let now = now();
    for (_, json) in store.catalog.settings(TOKEN_PREFIX).unwrap_or_default() {
        let Ok(t) = serde_json::from_str::<TokenRecord>(&json) else {
            continue;
        };
        if t.user == user && t.expires > now {
            out.push((t.verifier, Some(t.perms)));
        }
    }
    let salt = out.first().and_then(|(v, _)| crate::auth::salt_of(v));
    out.retain(|(v, _)| crate::auth::salt_of(v) == salt);
    out
}

/// The session's side of the token functions.
pub struct SessionTokens {
    pub store: Arc<Store>,
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The session's current role.
    pub role: Arc<RwLock<String>>,
    /// The perms of the token the session logged in with, if it did.
    pub perms: Arc<RwLock<Option<Perms>>>,
}

impl SessionTokens {
    fn denied(what: &str) -> Error {
        Error::PermissionDenied(format!("permission denied to {what}"))
    }

    fn is_superuser(&self) -> bool {
        let role = self.role.read().clone();
        self.store.catalog.with_roles(|r| r.is_superuser(&role))
    }

    /// What a token-login session may not do with tokens.
    fn check_session(&self, wanted: Perms) -> Result<()> {
        match *self.perms.read() {
            Some(Perms::Read) => Err(Self::denied("issue or revoke tokens with a read token")),
            Some(held) if wanted > held => Err(Self::denied(
                "issue a token with more perms than the token this session logged in with",
            )),
            _ => Ok(()),
        }
    }

    fn push(&self) {
        if let Some(c) = &self.cluster {
            c.catalog_changed();
        }
    }

    fn put(&self, name: &str, value: Option<&str>) -> Result<()> {
        let hlc = self.store.hlc.now();
        self.store.catalog.put_setting(name, value, hlc)
    }

    /// The current signing key, made on first use.
    fn current_key(&self) -> Result<(String, Vec<u8>)> {
        if let Some(id) = self.store.catalog.setting(CURRENT_KEY)? {
            if let Some(key) = self.key(&id)? {
                return Ok((id, key));
            }
        }
        let id = self.new_key()?;
        let key = self
            .key(&id)?
            .ok_or_else(|| Error::Internal("a new token key vanished".into()))?;
        Ok((id, key))
    }

    fn key(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .store
            .catalog
            .setting(&format!("{KEY_PREFIX}{id}"))?
            .and_then(|hex| token::key_bytes(&hex)))
    }

    /// Remove the verifiers of tokens that expired (done as tokens are
    /// issued, and spread with the catalog like any removal).
    fn forget_expired(&self) -> Result<()> {
        let now = now();
        for (name, json) in self.store.catalog.settings(TOKEN_PREFIX)? {
            let expired =
                serde_json::from_str::<TokenRecord>(&json).map_or(true, |t| t.expires <= now);
            if expired {
                self.put(&name, None)?;
            }
        }
        Ok(())
    }

    fn new_key(&self) -> Result<String> {
        let id = token::new_id();
        self.put(&format!("{KEY_PREFIX}{id}"), Some(&token::new_key()))?;
        self.put(CURRENT_KEY, Some(&id))?;
        Ok(id)
    }
}

impl crate::store::udf::tokens::Tokens for SessionTokens {
    fn issue(&self, user: &str, perms: &str, ttl_seconds: i64) -> Result<String> {
        let perms = Perms::parse(perms)?;
        self.check_session(perms)?;
        let me = self.role.read().clone();
        if me != user && !self.is_superuser() {
            return Err(Self::denied(&format!("issue a token for role \"{user}\"")));
        }
        let Some(role) = self.store.catalog.role(user) else {
            return Err(Error::NoSuchObject(format!(
                "role \"{user}\" does not exist"
            )));
        };
        if !role.login {
            return Err(Error::InvalidParameter(format!(
                "role \"{user}\" is not permitted to log in"
            )));
        }
        if !(1..=MAX_TTL).contains(&ttl_seconds) {
            return Err(Error::InvalidParameter(format!(
                "token lifetime must be between 1 and {MAX_TTL} seconds"
            )));
        }
        let (key_id, key) = self.current_key()?;
        let claims = Claims {
            user: user.to_string(),
            perms,
            expires: now() + ttl_seconds,
            key_id,
            nonce: token::new_id(),
        };
        let text = token::sign(&claims, &key);
        // The password's salt when there is one, else the live tokens'.
        let salt = scram_secrets(&self.store, user)
            .first()
            .and_then(|(v, _)| crate::auth::salt_of(v))
            .unwrap_or_else(|| (rand::random::<[u8; 16]>().to_vec(), 4096));
        let record = TokenRecord {
            user: user.to_string(),
            perms,
            expires: claims.expires,
            verifier: crate::auth::verifier_with_salt(&text, &salt.0, salt.1),
        };
        let json = serde_json::to_string(&record).map_err(Error::internal)?;
        self.put(
            &format!("{TOKEN_PREFIX}{}", token::token_id(&text)),
            Some(&json),
        )?;
        self.forget_expired()?;
        self.push();
        Ok(text)
    }

    fn revoke(&self, text: &str) -> Result<bool> {
        self.check_session(Perms::Read)?;
        let claims = token::verify(text, |id| self.key(id).ok().flatten())
            .map_err(|_| Error::InvalidParameter("invalid token".into()))?;
        let me = self.role.read().clone();
        if me != claims.user && !self.is_superuser() {
            return Err(Self::denied(&format!(
                "revoke a token of role \"{}\"",
                claims.user
            )));
        }
        let name = format!("{TOKEN_PREFIX}{}", token::token_id(text));
        if self.store.catalog.setting(&name)?.is_none() {
            return Ok(false);
        }
        self.put(&name, None)?;
        self.push();
        Ok(claims.expires > now())
    }

    fn rotate_key(&self) -> Result<String> {
        if self.perms.read().is_some_and(|p| p != Perms::Admin) || !self.is_superuser() {
            return Err(Self::denied("rotate the token key"));
        }
        let id = self.new_key()?;
        self.push();
        Ok(id)
    }
}
