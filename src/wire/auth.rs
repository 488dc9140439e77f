//! Login: SCRAM-SHA-256 against the role's stored verifier.

use async_trait::async_trait;
use pgwire::api::auth::sasl::scram::ScramSecret;
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::{PgWireError, PgWireResult};

use crate::exec::engine::Engine;

#[derive(Debug)]
pub struct RoleSource {
    pub engine: std::sync::Arc<Engine>,
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
        if !self.engine.may_log_in(&user) {
            // PostgreSQL says so after the password; here it is said
            // before the exchange (the role's existence is not secret to
            // whoever knows its name and that it cannot log in).
            return Err(PgWireError::UserError(Box::new(
                pgwire::error::ErrorInfo::new(
                    "FATAL".into(),
                    "28000".into(),
                    format!("role \"{user}\" is not permitted to log in"),
                ),
            )));
        }
        let verifier = self
            .engine
            .scram_verifier(&user)
            .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
        match verifier.and_then(|v| crate::auth::parse_verifier(&v)) {
            Some(secret) => Ok((secret, None)),
            None => Err(PgWireError::InvalidPassword(user)),
        }
    }
}
