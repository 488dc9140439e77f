//! Login: SCRAM-SHA-256 (and -PLUS over TLS) against every secret a role
//! may log in with: its password's verifier and the verifiers of its live
//! tokens (`auth::token`), which share the password's salt and iteration
//! count so one exchange can check them all. pgwire's SCRAM server checks
//! the first secret (and the channel binding and nonce); when the proof
//! does not match it, the others are tried against the same exchange.
//! After the proof, as in PostgreSQL, a role that may not log in is
//! refused (28000); a token login's perms go with the connection to its
//! session.

use async_trait::async_trait;
use base64::Engine as _;
use futures::Sink;
use pgwire::api::auth::mechanism::{AuthMechanism, AuthState};
use pgwire::api::auth::sasl::scram::ScramServerAuth;
use pgwire::api::auth::{
    protocol_negotiation, save_startup_parameters_to_metadata, AuthDriver, AuthOutcome,
    StartupHandler,
};
use pgwire::api::{ClientInfo, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::auth::token::Perms;
use crate::exec::engine::Engine;

const SCRAM: &str = "SCRAM-SHA-256";
const SCRAM_PLUS: &str = "SCRAM-SHA-256-PLUS";

/// What a login proved: with a token, the token's perms.
#[derive(Debug, Clone, Copy)]
pub struct LoginGrant {
    pub token: Option<Perms>,
}

/// The startup handler: pgwire's authentication driver around our SCRAM
/// mechanism.
pub struct Login {
    driver: AuthDriver<std::sync::Arc<super::params::ServerParameters>, LoginGrant>,
    scram: ScramServerAuth,
    engine: std::sync::Arc<Engine>,
}

impl Login {
    /// `cert_pem`: the TLS certificate, for SCRAM-SHA-256-PLUS (offered
    /// only on TLS connections, which get a `Login` of their own).
    pub fn new(
        params: std::sync::Arc<super::params::ServerParameters>,
        engine: std::sync::Arc<Engine>,
        cert_pem: Option<&[u8]>,
    ) -> PgWireResult<Login> {
        let mut scram = ScramServerAuth::new();
        if let Some(pem) = cert_pem {
            scram.configure_certificate(pem)?;
        }
        Ok(Login {
            driver: AuthDriver::new(params),
            scram,
            engine,
        })
    }

    fn mechanisms(&self) -> Vec<String> {
        let mut m = vec![SCRAM.to_string()];
        if self.scram.supports_channel_binding() {
            m.push(SCRAM_PLUS.to_string());
        }
        m
    }

    async fn finish<C>(&self, client: &mut C, outcome: AuthOutcome<LoginGrant>) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let AuthOutcome::Authenticated {
            identity,
            final_message,
        } = outcome
        else {
            return Ok(());
        };
        let user = user_of(client);
        if !self.engine.may_log_in(&user) {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "28000".into(),
                format!("role \"{user}\" is not permitted to log in"),
            ))));
        }
        if let Some(grant) = identity {
            client.session_extensions().insert(grant);
        }
        self.driver
            .complete_authentication(client, final_message)
            .await
    }
}

fn user_of<C: ClientInfo + ?Sized>(client: &C) -> String {
    client
        .metadata()
        .get(METADATA_USER)
        .cloned()
        .unwrap_or_default()
}

#[async_trait]
impl StartupHandler for Login {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let outcome = match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let mechanism = Box::new(Scram {
                    login: self.mechanisms(),
                    scram: self.scram.clone(),
                    engine: self.engine.clone(),
                    state: State::Start,
                });
                self.driver.begin_authentication(client, mechanism).await?
            }
            PgWireFrontendMessage::PasswordMessageFamily(m) => {
                self.driver.advance_authentication(client, m).await?
            }
            _ => return Ok(()),
        };
        self.finish(client, outcome).await
    }
}

enum State {
    Start,
    /// The server-first message went out; what the final message is
    /// checked against.
    FirstSent {
        waiting: Box<pgwire::api::auth::sasl::scram::ScramServerAuthWaitingForClientFinal>,
        client_first_bare: String,
        server_first: String,
        /// The secrets after the first, with the token perms of each.
        others: Vec<(String, Option<Perms>)>,
        first_perms: Option<Perms>,
    },
    Done,
}

struct Scram {
    login: Vec<String>,
    scram: ScramServerAuth,
    engine: std::sync::Arc<Engine>,
    state: State,
}

fn invalid(m: &str) -> PgWireError {
    PgWireError::InvalidScramMessage(m.to_string())
}

#[async_trait]
impl AuthMechanism<LoginGrant> for Scram {
    async fn begin(
        &mut self,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> PgWireResult<AuthState<LoginGrant>> {
        Ok(AuthState::InProgress(Authentication::SASL(
            self.login.clone(),
        )))
    }

    async fn next(
        &mut self,
        client: &(dyn ClientInfo + Send + Sync),
        message: PasswordMessageFamily,
    ) -> PgWireResult<AuthState<LoginGrant>> {
        let user = user_of(client);
        match std::mem::replace(&mut self.state, State::Done) {
            State::Start => {
                let first = super::screen::sasl_initial(message)?;
                if !self.login.contains(&first.auth_method) {
                    return Err(PgWireError::UnsupportedSASLAuthMethod(first.auth_method));
                }
                let data = first
                    .data
                    .ok_or_else(|| invalid("empty client-first message"))?;
                let mut secrets = self.engine.scram_secrets(&user).into_iter();
                let Some((verifier, first_perms)) = secrets.next() else {
                    return Err(PgWireError::InvalidPassword(user));
                };
                let secret = crate::auth::parse_verifier(&verifier)
                    .ok_or_else(|| PgWireError::InvalidPassword(user.clone()))?;
                let (server_first, waiting) = self
                    .scram
                    .on_client_first_message_with_secret(&data, secret)?;
                // client-first-message = gs2-header client-first-message-bare,
                // the header being two comma-ended fields.
                let text = std::str::from_utf8(&data).map_err(|_| invalid("not UTF-8"))?;
                let client_first_bare = text
                    .splitn(3, ',')
                    .nth(2)
                    .ok_or_else(|| invalid("no gs2 header"))?
                    .to_string();
                self.state = State::FirstSent {
                    waiting: Box::new(waiting),
                    client_first_bare,
                    server_first: server_first.clone(),
                    others: secrets.collect(),
                    first_perms,
                };
                Ok(AuthState::InProgress(Authentication::SASLContinue(
                    server_first.into(),
                )))
            }
            State::FirstSent {
                waiting,
                client_first_bare,
                server_first,
                others,
                first_perms,
            } => {
                let data = message.into_sasl_response()?.data;
                match waiting.on_client_final_message(&data) {
                    Ok(server_final) => Ok(AuthState::Ok {
                        final_message: Some(Authentication::SASLFinal(server_final.into())),
                        identity: Some(LoginGrant { token: first_perms }),
                    }),
                    // Channel binding and nonce checked out; only the
                    // proof did not match the first secret.
                    Err(PgWireError::InvalidPassword(_)) => {
                        let text = std::str::from_utf8(&data).map_err(|_| invalid("not UTF-8"))?;
                        let (without_proof, proof) =
                            text.rsplit_once(",p=").ok_or_else(|| invalid("no proof"))?;
                        let auth_message =
                            format!("{client_first_bare},{server_first},{without_proof}");
                        for (verifier, perms) in others {
                            if let Some(signature) =
                                crate::auth::check_proof(&verifier, &auth_message, proof)
                            {
                                let b64 = base64::engine::general_purpose::STANDARD;
                                return Ok(AuthState::Ok {
                                    final_message: Some(Authentication::SASLFinal(
                                        format!("v={}", b64.encode(signature)).into(),
                                    )),
                                    identity: Some(LoginGrant { token: perms }),
                                });
                            }
                        }
                        Err(PgWireError::InvalidPassword(user))
                    }
                    Err(e) => Err(e),
                }
            }
            State::Done => Err(PgWireError::InvalidSASLState),
        }
    }
}
