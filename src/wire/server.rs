//! The pgwire server: the handler set, cancel requests, and the accept
//! loop.

use super::*;

/// Cancel requests: interrupt the session's running statement.
pub struct Canceller {
    sessions: Arc<Sessions>,
}

#[async_trait]
impl CancelHandler for Canceller {
    async fn on_cancel_request(&self, req: CancelRequest) {
        let key = (req.pid, req.secret_key.to_bytes().to_vec());
        let session = self.sessions.lock().get(&key).and_then(|w| w.upgrade());
        if let Some(s) = session {
            s.cancel();
        }
    }
}

type Login = login::Login;

/// The pgwire handler set for one server.
pub struct Handlers {
    backend: Arc<Backend>,
    /// SCRAM-SHA-256 for plaintext connections: never offers -PLUS, which
    /// libpq refuses outside TLS.
    startup: Arc<Login>,
    /// With TLS: SCRAM-SHA-256-PLUS too, bound to the certificate.
    startup_tls: Option<Arc<Login>>,
    tls: Option<super::tls::Tls>,
    canceller: Arc<Canceller>,
    /// Client connections served at once, and the most allowed.
    active: Arc<std::sync::atomic::AtomicUsize>,
    /// Failed logins by address.
    backoff: super::backoff::Backoff,
    max_connections: usize,
}

impl Handlers {
    pub fn new(
        engine: Arc<Engine>,
        tls: Option<super::tls::Tls>,
        max_connections: usize,
    ) -> PgWireResult<Handlers> {
        let backend = Backend::new(engine.clone(), max_connections);
        let mut params = DefaultServerParameterProvider::default();
        params.server_version = exec::settings::SERVER_VERSION.to_string();
        params.time_zone = "UTC".into();
        params.date_style = "ISO, MDY".into();
        let params = Arc::new(params::ServerParameters { base: params });
        let startup = Arc::new(Login::new(params.clone(), engine.clone(), None)?);
        let startup_tls = match &tls {
            Some(t) => Some(Arc::new(Login::new(params, engine, Some(&t.cert_pem))?)),
            None => None,
        };
        let canceller = Arc::new(Canceller {
            sessions: backend.sessions.clone(),
        });
        Ok(Handlers {
            backend,
            startup,
            startup_tls,
            tls,
            canceller,
            active: Default::default(),
            backoff: Default::default(),
            max_connections,
        })
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.backend.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.backend.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        self.backend.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.canceller.clone()
    }
}

/// Serve PostgreSQL connections from `listener` until `shutdown` resolves.
pub async fn serve(
    engine: Arc<Engine>,
    tls: Option<super::tls::Tls>,
    max_connections: usize,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> crate::error::Result<()> {
    let handlers = Arc::new(
        Handlers::new(engine, tls, max_connections)
            .map_err(|e| crate::error::Error::InvalidParameter(format!("TLS certificate: {e}")))?,
    );
    let runtime = tokio::runtime::Handle::current();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    let h = handlers.clone();
                    // Each connection runs on a thread of its own, with
                    // its session (`exec::host`).
                    let spawned = tcp.into_std().and_then(|tcp| {
                        crate::exec::host::spawn_connection(runtime.clone(), tcp, move |tcp| async move {
                            if let Err(e) = connection(tcp, h).await {
                                tracing::debug!(error = %e, "connection ended with an error");
                            }
                        })
                    });
                    if let Err(e) = spawned {
                        tracing::warn!(error = %e, "no thread for a connection");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
    Ok(())
}

/// How long a client may take to start up and log in.
const STARTUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// One client connection, as pgwire's `process_socket` runs it, except
/// that a session waiting for its client also waits for notifications
/// (LISTEN) and sends them at once, as PostgreSQL does.
async fn connection(tcp: tokio::net::TcpStream, handlers: Arc<Handlers>) -> std::io::Result<()> {
    use pgwire::api::PgWireConnectionState as State;
    use pgwire::messages::PgWireFrontendMessage;
    use pgwire::tokio::server::{negotiate_tls, process_error, process_message};

    let startup = tokio::time::sleep(STARTUP_TIMEOUT);
    tokio::pin!(startup);
    let acceptor = handlers.tls.as_ref().map(|t| t.acceptor.clone());
    let socket = tokio::select! {
        _ = &mut startup => return Ok(()),
        socket = negotiate_tls(tcp, acceptor) => socket?,
    };
    let Some(mut socket) = socket else {
        return Ok(());
    };
    let secure = socket.is_secure();
    let refuse = !secure
        && handlers.tls.as_ref().is_some_and(|t| t.required)
        && !socket.socket_addr().ip().is_loopback();
    let login = match (&handlers.startup_tls, secure) {
        (Some(tls_login), true) => tls_login.clone(),
        _ => handlers.startup.clone(),
    };
    // Held from the startup message to the end of the connection.
    let mut _slot: Option<Slot> = None;
    let (simple, extended, copy, cancel) = (
        handlers.simple_query_handler(),
        handlers.extended_query_handler(),
        handlers.copy_handler(),
        handlers.cancel_handler(),
    );
    loop {
        if ended_by_terminate(&mut socket).await? {
            break;
        }
        let phase = phase_of(socket.state());
        let starting = phase != Some(super::screen::Phase::Ready);
        let ready = matches!(socket.state(), State::ReadyForQuery);
        let idle = (ready.then(|| socket.session_extensions().get::<SessionHandle>())).flatten();
        let idle_limit = idle.as_ref().map_or(0, |s| s.idle_limit_ms());
        let msg = tokio::select! {
            _ = &mut startup, if starting => None,
            incoming = super::screen::incoming(&mut socket, phase) => match incoming? {
                super::screen::Incoming::Message(msg) => msg,
                super::screen::Incoming::Refused { error, fatal, skip, extended } => {
                    refuse_frame(&mut socket, error, fatal, skip, extended).await?;
                    if fatal {
                        break;
                    }
                    continue;
                }
            },
            () = tokio::time::sleep(std::time::Duration::from_millis(idle_limit)), if idle_limit > 0 => {
                let in_block = idle.as_ref().is_some_and(|s| s.txn_state() != exec::TxnState::Idle);
                idle_timeout(&mut socket, in_block).await?;
                break;
            }
            () = terminated(idle.as_deref()), if idle.is_some() => continue,
            () = arrived(idle.as_deref()), if idle.is_some() => {
                if let Some(s) = &idle {
                    send_notifications(&mut socket, s).await.map_err(std::io::Error::other)?;
                    socket.flush().await?;
                }
                continue;
            }
        };
        let Some(Ok(msg)) = msg else {
            break;
        };
        // A Terminate ends the connection; a CancelRequest comes on a
        // connection of its own, which ends with it.
        if matches!(msg, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_extended = match socket.state() {
            State::CopyInProgress(extended) => extended,
            _ => msg.is_extended_query(),
        };
        if let PgWireFrontendMessage::Startup(startup) = &msg {
            if refuse {
                refuse_plaintext(&mut socket, startup).await?;
                break;
            }
            match Slot::take(&handlers) {
                Some(taken) => _slot = Some(taken),
                None => {
                    too_many(&mut socket).await?;
                    break;
                }
            }
        }
        let is_cancel = matches!(msg, PgWireFrontendMessage::CancelRequest(_));
        let r = process_message(
            msg,
            &mut socket,
            login.clone(),
            simple.clone(),
            extended.clone(),
            copy.clone(),
            cancel.clone(),
        )
        .await;
        if starting {
            pace_login(&handlers, &socket, r.as_ref().err()).await;
        }
        if let Err(e) = r {
            let e = login_failure(&socket, e);
            let fatal = e.is_fatal();
            process_error(&mut socket, e, is_extended).await?;
            if fatal {
                break;
            }
        }
        if is_cancel {
            break;
        }
    }
    Ok(())
}

/// Whether pg_terminate_backend ended the connection's session: its
/// running statement ended with the FATAL error, or finished first and the
/// FATAL follows it.
async fn ended_by_terminate<S>(socket: &mut S) -> std::io::Result<bool>
where
    S: Sink<PgWireBackendMessage, Error = std::io::Error> + ClientInfo + Unpin,
{
    let Some(s) = socket.session_extensions().get::<SessionHandle>() else {
        return Ok(false);
    };
    if !s.is_terminated() {
        return Ok(false);
    }
    if !s.took_fatal() {
        terminate(socket).await?;
    }
    Ok(true)
}

/// pg_terminate_backend ended the session: FATAL 57P01, as PostgreSQL
/// ends a backend it sends SIGTERM.
async fn terminate<S>(socket: &mut S) -> std::io::Result<()>
where
    S: Sink<PgWireBackendMessage, Error = std::io::Error> + Unpin,
{
    let e = crate::error::Error::Terminated;
    send_fatal(socket, e.sqlstate(), &e.to_string()).await
}

async fn terminated(session: Option<&SessionHandle>) {
    match session {
        Some(s) => s.terminated().await,
        None => std::future::pending().await,
    }
}

/// How frames are screened in connection state `state`: not at all
/// before the startup packet (pgwire checks it), as login messages during
/// the login, then as any message.
fn phase_of(state: pgwire::api::PgWireConnectionState) -> Option<super::screen::Phase> {
    use pgwire::api::PgWireConnectionState as State;
    match state {
        State::AwaitingStartup => None,
        State::AuthenticationInProgress => Some(super::screen::Phase::Authenticating),
        _ => Some(super::screen::Phase::Ready),
    }
}

/// After a message of the login: a login that failed waits as the
/// address's failures so far say (`wire::backoff`); one that succeeded
/// clears them.
async fn pace_login<C: ClientInfo>(handlers: &Handlers, client: &C, error: Option<&PgWireError>) {
    let ip = client.socket_addr().ip();
    match error {
        Some(e) if e.is_fatal() || matches!(e, PgWireError::InvalidPassword(_)) => {
            tokio::time::sleep(handlers.backoff.failed(ip)).await
        }
        Some(_) => {}
        None if matches!(
            client.state(),
            pgwire::api::PgWireConnectionState::ReadyForQuery
        ) =>
        {
            handlers.backoff.succeeded(ip)
        }
        None => {}
    }
}

/// One of the `max_connections` a node serves at once.
struct Slot(Arc<std::sync::atomic::AtomicUsize>);

impl Slot {
    fn take(handlers: &Handlers) -> Option<Slot> {
        use std::sync::atomic::Ordering;
        let active = handlers.active.clone();
        let before = active.fetch_add(1, Ordering::SeqCst);
        if before >= handlers.max_connections {
            active.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        metrics::counter!(crate::observe::CONNECTIONS_TOTAL).increment(1);
        metrics::gauge!(crate::observe::CONNECTIONS).increment(1.0);
        Some(Slot(active))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        metrics::gauge!(crate::observe::CONNECTIONS).decrement(1.0);
    }
}

/// idle_in_transaction_session_timeout or idle_session_timeout ran out:
/// the connection ends (its open transaction rolls back), as PostgreSQL
/// ends it.
async fn idle_timeout<S>(socket: &mut S, in_block: bool) -> std::io::Result<()>
where
    S: Sink<PgWireBackendMessage, Error = std::io::Error> + Unpin,
{
    let (code, message) = match in_block {
        true => (
            "25P03",
            "terminating connection due to idle-in-transaction timeout",
        ),
        false => (
            "57P05",
            "terminating connection due to idle-session timeout",
        ),
    };
    send_fatal(socket, code, message).await
}

/// A FATAL error for the client, sent at once: the connection ends next.
async fn send_fatal<S>(socket: &mut S, code: &str, message: &str) -> std::io::Result<()>
where
    S: Sink<PgWireBackendMessage, Error = std::io::Error> + Unpin,
{
    let info = ErrorInfo::new("FATAL".into(), code.into(), message.into());
    socket
        .send(PgWireBackendMessage::ErrorResponse(info.into()))
        .await?;
    socket.flush().await
}

/// A frame `screen` refused: its error, then (when the connection goes
/// on, the frame's `skip` bytes dropped unread) ReadyForQuery, or for an
/// extended-protocol message nothing until Sync. A statement refused
/// inside a transaction block fails the block, as any error does.
async fn refuse_frame<T, C>(
    socket: &mut tokio_util::codec::Framed<T, C>,
    error: Box<ErrorInfo>,
    fatal: bool,
    skip: usize,
    extended: bool,
) -> std::io::Result<()>
where
    tokio_util::codec::Framed<T, C>:
        Sink<PgWireBackendMessage, Error = std::io::Error> + ClientInfo + Unpin,
{
    use bytes::Buf;
    let buffered = socket.read_buffer().len();
    socket.read_buffer_mut().advance(skip.min(buffered));
    let session = socket.session_extensions().get::<SessionHandle>();
    if let (Some(s), false) = (&session, fatal) {
        super::fail_statement(s)
            .await
            .map_err(std::io::Error::other)?;
    }
    socket
        .send(PgWireBackendMessage::ErrorResponse((*error).into()))
        .await?;
    if extended {
        socket.set_state(pgwire::api::PgWireConnectionState::AwaitingSync);
    } else if !fatal {
        let status = session.as_deref().map_or(
            pgwire::messages::response::TransactionStatus::Idle,
            super::status_of,
        );
        socket
            .send(PgWireBackendMessage::ReadyForQuery(
                pgwire::messages::response::ReadyForQuery::new(status),
            ))
            .await?;
    }
    socket.flush().await
}

/// More clients than `--max-connections`: PostgreSQL's answer.
async fn too_many<S>(socket: &mut S) -> std::io::Result<()>
where
    S: Sink<PgWireBackendMessage, Error = std::io::Error> + Unpin,
{
    let info = ErrorInfo::new(
        "FATAL".into(),
        "53300".into(),
        "sorry, too many clients already".into(),
    );
    socket
        .send(PgWireBackendMessage::ErrorResponse(info.into()))
        .await?;
    socket.flush().await
}

/// A failed SCRAM login names the startup user, as PostgreSQL's message
/// does: libpq leaves the user out of SCRAM's own messages.
fn login_failure<C: ClientInfo>(client: &C, e: PgWireError) -> PgWireError {
    match e {
        PgWireError::InvalidPassword(_) => {
            let user = client
                .metadata()
                .get(METADATA_USER)
                .cloned()
                .unwrap_or_default();
            PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "28P01".into(),
                format!("password authentication failed for user \"{user}\""),
            )))
        }
        other => other,
    }
}

/// `--tls-required`: a plaintext login from another host ends with
/// PostgreSQL's answer to a connection no pg_hba.conf line allows.
async fn refuse_plaintext<S>(
    socket: &mut S,
    startup: &pgwire::messages::startup::Startup,
) -> std::io::Result<()>
where
    S: ClientInfo + Sink<PgWireBackendMessage, Error = std::io::Error> + Unpin,
{
    let param = |k: &str| startup.parameters.get(k).cloned().unwrap_or_default();
    let user = param("user");
    let database = match param("database") {
        d if d.is_empty() => user.clone(),
        d => d,
    };
    let message = format!(
        "no pg_hba.conf entry for host \"{}\", user \"{user}\", database \"{database}\", no encryption",
        socket.socket_addr().ip()
    );
    let info = ErrorInfo::new("FATAL".into(), "28000".into(), message);
    socket
        .send(PgWireBackendMessage::ErrorResponse(info.into()))
        .await?;
    socket.flush().await
}

/// Resolves once a notification arrived for the session.
async fn arrived(session: Option<&SessionHandle>) {
    match session {
        Some(s) => s.notification_arrived().await,
        None => std::future::pending().await,
    }
}
