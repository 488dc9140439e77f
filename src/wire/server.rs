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

/// The pgwire handler set for one server.
pub struct Handlers {
    backend: Arc<Backend>,
    startup: Arc<SASLAuthStartupHandler<params::ServerParameters>>,
    canceller: Arc<Canceller>,
}

impl Handlers {
    pub fn new(engine: Arc<Engine>) -> Handlers {
        let backend = Backend::new(engine.clone());
        let mut params = DefaultServerParameterProvider::default();
        params.server_version = exec::settings::SERVER_VERSION.to_string();
        params.time_zone = "UTC".into();
        params.date_style = "ISO, MDY".into();
        let scram = ScramAuth::new(Arc::new(auth::RoleSource { engine }));
        let params = params::ServerParameters { base: params };
        let startup = Arc::new(SASLAuthStartupHandler::new(Arc::new(params)).with_scram(scram));
        let canceller = Arc::new(Canceller {
            sessions: backend.sessions.clone(),
        });
        Handlers {
            backend,
            startup,
            canceller,
        }
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
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let handlers = Arc::new(Handlers::new(engine));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    let h = handlers.clone();
                    tokio::spawn(async move {
                        if let Err(e) = pgwire::tokio::process_socket(tcp, None, h).await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }
}
