//! Login: SCRAM-SHA-256 against the role's stored verifier.

use async_trait::async_trait;
use pgwire::api::auth::sasl::scram::ScramSecret;
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::{PgWireError, PgWireResult};

use crate::store::Store;

#[derive(Debug)]
pub struct RoleSource {
    pub store: std::sync::Arc<Store>,
}

#[async_trait]
impl AuthSource for RoleSource {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_owned(),
        ))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default().to_owned();
        let role = self
            .store
            .catalog
            .role(&user)
            .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
        match role.and_then(|r| crate::auth::parse_verifier(&r.verifier)) {
            Some(secret) => Ok((secret, None)),
            None => Err(PgWireError::InvalidPassword(user)),
        }
    }
}
