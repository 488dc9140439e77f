//! The PostgreSQL protocol, through pgwire: startup with SCRAM-SHA-256, the
//! simple and extended query protocols, COPY FROM STDIN and cancel
//! requests. This layer turns protocol messages into `exec` calls and
//! `exec` results into protocol messages; it never touches SQLite.

mod backoff;
mod copy;
mod encode;
mod extended;
mod login;
mod params;
pub mod screen;
mod server;
mod simple;
mod statements;
pub mod tls;

pub use server::{serve, Handlers};

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use futures::{stream, Sink, SinkExt, StreamExt};
use parking_lot::Mutex;
use pgwire::api::auth::DefaultServerParameterProvider;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    CopyResponse, DescribePortalResponse, DescribeStatementResponse, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::data::DataRow;
use pgwire::messages::PgWireBackendMessage;

use crate::error::Error;
use crate::exec::engine::Engine;
use crate::exec::handle::Event;
use crate::exec::{self, Execution, Outcome, Prepared, SessionHandle};
use crate::types::zone::Zone;
use crate::types::{Datum, PgType};

/// An `Error` as the ErrorResponse the client sees.
pub fn to_pg(e: Error) -> PgWireError {
    let severity = if matches!(e, Error::BadPassword(_) | Error::Terminated) {
        "FATAL"
    } else {
        "ERROR"
    };
    let mut info = error_info(e);
    info.severity = severity.to_string();
    PgWireError::UserError(Box::new(info))
}

/// Live sessions by (pid, secret key), for cancel requests.
type Sessions = Mutex<HashMap<(i32, Vec<u8>), Weak<SessionHandle>>>;

/// Everything a connection's handlers share.
pub struct Backend {
    engine: Arc<Engine>,
    parser: Arc<Parser>,
    sessions: Arc<Sessions>,
    /// `--max-connections`, which sessions show as `max_connections`.
    max_connections: usize,
}

impl Backend {
    pub fn new(engine: Arc<Engine>, max_connections: usize) -> Arc<Backend> {
        Arc::new(Backend {
            parser: Arc::new(Parser {
                engine: engine.clone(),
            }),
            engine,
            sessions: Arc::new(Mutex::new(HashMap::new())),
            max_connections,
        })
    }

    /// This connection's session, started on first use.
    async fn session<C: ClientInfo>(&self, client: &C) -> PgWireResult<Arc<SessionHandle>> {
        if let Some(s) = client.session_extensions().get::<SessionHandle>() {
            return Ok(s);
        }
        let user = client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default();
        let (pid, key) = client.pid_and_secret_key();
        let handle = (self.engine)
            .spawn_session(user, pid, Some(client.socket_addr()))
            .await
            .map_err(to_pg)?;
        let token = client
            .session_extensions()
            .get::<login::LoginGrant>()
            .and_then(|g| g.token);
        if token.is_some() {
            handle
                .run(move |s| s.set_token_perms(token))
                .await
                .map_err(to_pg)?;
        }
        let startup = params::startup_params(client);
        let max_connections = self.max_connections.to_string();
        let (settings, refused) = handle
            .run(move |s| {
                s.settings().server_fact("max_connections", max_connections);
                s.identity_settings();
                let refused = s
                    .settings()
                    .apply_startup(startup.iter().map(|(k, v)| (&**k, &**v)));
                s.settings_changed();
                (s.settings().share(), refused)
            })
            .await
            .map_err(to_pg)?;
        for (name, e) in refused {
            tracing::debug!(setting = %name, error = %e, "startup parameter left out");
        }
        client
            .session_extensions()
            .insert(params::Reporter::start(settings));
        client.session_extensions().insert(handle);
        let s = client
            .session_extensions()
            .get::<SessionHandle>()
            .ok_or_else(|| to_pg(Error::Internal("session vanished".into())))?;
        let mut sessions = self.sessions.lock();
        sessions.retain(|_, w| w.strong_count() > 0);
        sessions.insert((pid, key.to_bytes().to_vec()), Arc::downgrade(&s));
        Ok(s)
    }

    /// Aborts the client's transaction block after a Parse error.
    pub(crate) async fn fail_statement<C: ClientInfo>(&self, client: &C) -> PgWireResult<()> {
        fail_statement(&*self.session(client).await?).await
    }
}

/// The transaction status ReadyForQuery reports for a session.
pub(crate) fn status_of(s: &SessionHandle) -> pgwire::messages::response::TransactionStatus {
    use pgwire::messages::response::TransactionStatus as T;
    match s.txn_state() {
        exec::TxnState::Idle => T::Idle,
        exec::TxnState::InBlock => T::Transaction,
        exec::TxnState::Failed => T::Error,
    }
}

/// Parses statements for the extended protocol.
pub struct Parser {
    engine: Arc<Engine>,
}

fn fields(p: &Prepared, format: Option<&Format>) -> Vec<FieldInfo> {
    p.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let fmt = format
                .map(|f| f.format_for(i))
                .unwrap_or(pgwire::api::results::FieldFormat::Text);
            FieldInfo::new(c.name.clone(), None, None, c.ty.wire_type(), fmt)
        })
        .collect()
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Arc<Prepared>;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Arc<Prepared>>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let declared: Vec<Option<PgType>> = types
            .iter()
            .map(|t| t.as_ref().and_then(|t| PgType::from_oid(t.oid())))
            .collect();
        // On the session's thread, where its open block's DDL is visible.
        let mut stmts = match client.session_extensions().get::<SessionHandle>() {
            Some(session) => {
                let sql = sql.to_string();
                session
                    .run(move |s| s.prepare(&sql, &declared))
                    .await
                    .map_err(to_pg)?
            }
            None => self.engine.prepare(sql, &declared),
        }
        .map_err(to_pg)?;
        match stmts.len() {
            0 => Ok(None),
            1 => Ok(stmts.pop().map(|mut p| {
                p.text = Some(Arc::from(sql));
                Arc::new(p)
            })),
            _ => Err(to_pg(Error::Syntax(
                "cannot insert multiple commands into a prepared statement".into(),
            ))),
        }
    }

    fn get_parameter_types(&self, stmt: &Arc<Prepared>) -> PgWireResult<Vec<Type>> {
        Ok(stmt.params.iter().map(|t| t.wire_type()).collect())
    }

    fn get_result_schema(
        &self,
        stmt: &Arc<Prepared>,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(fields(stmt, format))
    }
}

/// A binary parameter declared with a type MosaicDB lacks (interval, time,
/// arrays, …) that would otherwise be read as text: its bytes are not text,
/// so it is refused rather than stored as garbage.
fn unsupported_binary<'a>(declared: Option<&'a Type>, ty: &PgType) -> Option<&'a Type> {
    let t = declared?;
    let text_like = matches!(t.oid(), 0 | 19 | 705); // unspecified, name, unknown
    (PgType::from_oid(t.oid()).is_none() && !text_like && *ty == PgType::Text).then_some(t)
}

/// Decode the bound parameters of a portal into stored values.
fn bind_params(portal: &Portal<Arc<Prepared>>, zone: Zone) -> PgWireResult<Vec<Datum>> {
    let p = &portal.statement.statement;
    (0..portal.parameter_len())
        .map(|i| {
            let declared = portal.statement.parameter_types.get(i).cloned().flatten();
            let ty = declared
                .as_ref()
                .and_then(|t| PgType::from_oid(t.oid()))
                .or_else(|| p.params.get(i).cloned())
                .unwrap_or(PgType::Text);
            match &portal.parameters[i] {
                None => Ok(Datum::Null),
                Some(bytes) => {
                    let r = if portal.parameter_format.is_binary(i) {
                        match unsupported_binary(declared.as_ref(), &ty) {
                            Some(t) => Err(Error::Unsupported(format!(
                                "binary parameter of type {}",
                                t.name()
                            ))),
                            None if is_text_like(&ty) => {
                                crate::types::utf8_text(bytes).and_then(|_| ty.parse_binary(bytes))
                            }
                            None => ty.parse_binary(bytes),
                        }
                    } else {
                        crate::types::utf8_text(bytes).and_then(|s| ty.parse_text_in(s, zone))
                    };
                    r.map_err(to_pg)
                }
            }
        })
        .collect()
}

/// Turn an execution into a pgwire response; `buffer` collects all rows
/// first (needed when another statement must run before they are read).
/// Send the warnings a statement queued (NoticeResponse, before its result).
async fn send_notices<C>(client: &mut C, session: &SessionHandle) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    for n in session.take_notices() {
        // A notice's DETAIL follows its message (`Session::notice`).
        let (message, detail) = match n.message.split_once("\nDETAIL:  ") {
            Some((m, d)) => (m.to_string(), Some(d.to_string())),
            None => (n.message, None),
        };
        let mut info = ErrorInfo::new(n.severity.to_string(), n.code.to_string(), message);
        info.detail = detail;
        client
            .feed(PgWireBackendMessage::NoticeResponse(info.into()))
            .await?;
    }
    Ok(())
}

/// Types whose binary form is their text.
fn is_text_like(ty: &PgType) -> bool {
    matches!(
        ty,
        PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_) | PgType::Json | PgType::Enum(_)
    )
}

/// The notifications that arrived for an idle session (LISTEN), which
/// PostgreSQL sends before ReadyForQuery and whenever the session waits
/// for its client; a session inside a transaction block gets them once
/// the block ends.
pub(crate) async fn send_notifications<C>(
    client: &mut C,
    session: &SessionHandle,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if session.txn_state() != exec::TxnState::Idle {
        return Ok(());
    }
    for n in session.take_notifications() {
        let message =
            pgwire::messages::response::NotificationResponse::new(n.pid, n.channel, n.payload);
        client
            .feed(PgWireBackendMessage::NotificationResponse(message))
            .await?;
    }
    Ok(())
}

async fn respond(
    p: &Prepared,
    exec: Execution,
    format: Option<&Format>,
    buffer: bool,
    zone: Zone,
) -> PgWireResult<Response> {
    if let exec::Kind::CopyTo(spec) = &p.kind {
        return Ok(copy::copy_out(p, spec.clone(), exec, zone));
    }
    let schema = Arc::new(fields(p, format));
    match exec {
        Execution::Done(outcome) => Ok(match outcome {
            Outcome::Rows { .. } => {
                let mut q = QueryResponse::new(schema, stream::empty());
                q.set_command_tag(p.row_tag());
                Response::Query(q)
            }
            Outcome::Command(tag) => Response::Execution(Tag::new(&tag)),
            Outcome::TxnStart(tag) => Response::TransactionStart(Tag::new(&tag)),
            Outcome::TxnEnd(tag) => Response::TransactionEnd(Tag::new(&tag)),
            Outcome::CopyIn { columns, binary } => {
                let format = if binary { 1 } else { 0 };
                Response::CopyIn(CopyResponse::new(format, columns, stream::empty()))
            }
        }),
        Execution::Rows(mut rx) => {
            let enc = encode::RowEncoder::new(
                schema.clone(),
                p.columns.iter().map(|c| c.ty.clone()).collect(),
                zone,
            );
            let rows: futures::stream::BoxStream<'static, PgWireResult<DataRow>> = if buffer {
                let mut all = Vec::new();
                while let Some(ev) = rx.next().await {
                    match ev {
                        Event::Rows(batch) => {
                            for r in batch {
                                all.push(enc.encode(&r));
                            }
                        }
                        Event::End(Err(e)) => return Err(to_pg(e)),
                        Event::End(Ok(_)) => break,
                    }
                }
                stream::iter(all).boxed()
            } else {
                stream::unfold(
                    (rx, enc, Vec::<Vec<Datum>>::new().into_iter()),
                    |(mut rx, enc, mut pending)| async move {
                        loop {
                            if let Some(r) = pending.next() {
                                let row = enc.encode(&r);
                                return Some((row, (rx, enc, pending)));
                            }
                            match rx.next().await? {
                                Event::Rows(batch) => pending = batch.into_iter(),
                                Event::End(Ok(_)) => return None,
                                Event::End(Err(e)) => {
                                    rx.close();
                                    return Some((
                                        Err(to_pg(e)),
                                        (rx, enc, Vec::new().into_iter()),
                                    ));
                                }
                            }
                        }
                    },
                )
                .boxed()
            };
            let mut q = QueryResponse::new(schema, rows);
            q.set_command_tag(p.row_tag());
            Ok(Response::Query(q))
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for Backend {
    async fn on_query<C>(
        &self,
        client: &mut C,
        query: pgwire::messages::simplequery::Query,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        simple::query(self, client, query).await
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client).await?;
        session.query_arrives(query);
        let script = match exec::parse_script(query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(error_info(e)))]),
        };
        let several = script.len() > 1;
        // PostgreSQL runs a multi-statement query as one implicit
        // transaction. DDL and mosaic.seal are not transactional in
        // MosaicDB, so a script holding one runs statement by statement.
        let implicit = several
            && script.iter().all(|p| match p {
                exec::Parsed::Statement(s) => !exec::is_non_transactional(s),
                exec::Parsed::Noop(_) => true,
            });
        if implicit {
            session
                .run(|s| s.begin_implicit())
                .await
                .map_err(to_pg)?
                .map_err(to_pg)?;
        }
        let mut out = Vec::with_capacity(script.len());
        let mut ok = true;
        for parsed in script {
            // Prepared and run in one trip to the session, unless the
            // statement is a DEALLOCATE, which this side runs first.
            let r = match session.prepare_and_execute(parsed).await {
                Ok((p, Some(exec))) => Ok((p, exec)),
                Ok((p, None)) => match statements::deallocate(client, &session, &p).await {
                    Ok(()) => session.execute(p.clone(), vec![]).await.map(|e| (p, e)),
                    Err(e) => {
                        out.push(match e {
                            PgWireError::UserError(info) => Response::Error(info),
                            e => return Err(e),
                        });
                        ok = false;
                        break;
                    }
                },
                Err(e) => Err(e),
            };
            send_notices(client, &session).await?;
            let r = match r {
                Ok((p, exec)) => {
                    discard_all(&session, &p).await?;
                    respond(&p, exec, None, several, params::zone(client)).await
                }
                Err(e) => Err(to_pg(e)),
            };
            match r {
                Ok(resp) => {
                    let copy = matches!(resp, Response::CopyIn(_));
                    out.push(resp);
                    if copy {
                        break;
                    }
                }
                Err(PgWireError::UserError(info)) => {
                    out.push(Response::Error(info));
                    ok = false;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if implicit {
            session
                .run(move |s| s.end_implicit(ok))
                .await
                .map_err(to_pg)?
                .map_err(to_pg)?;
        }
        Ok(out)
    }
}

/// DISCARD ALL also returns every setting to the session's defaults, as
/// PostgreSQL's RESET ALL does (poolers send it between clients).
async fn discard_all(session: &SessionHandle, p: &Prepared) -> PgWireResult<()> {
    use sqlparser::ast::{DiscardObject, Statement};
    match &p.stmt {
        Some(Statement::Discard {
            object_type: DiscardObject::ALL,
        }) => session.run(|s| s.discard_all()).await.map_err(to_pg)?,
        Some(Statement::Discard {
            object_type: DiscardObject::SEQUENCES,
        }) => session
            .run(|s| s.discard_sequences())
            .await
            .map_err(to_pg)?,
        // DISCARD TEMP drops the session's temporary tables.
        Some(Statement::Discard {
            object_type: DiscardObject::TEMP,
        }) => session
            .run(|s| s.discard_temp())
            .await
            .map_err(to_pg)?
            .map_err(to_pg)?,
        _ => {}
    }
    Ok(())
}

/// A FETCH's result columns are its cursor's, known only to the session
/// (and only once DECLARE ran): `p` with them, for RowDescription.
async fn with_cursor_columns(
    session: &SessionHandle,
    p: Arc<Prepared>,
) -> PgWireResult<Arc<Prepared>> {
    if !matches!(&p.kind, exec::Kind::Fetch(f) if !f.move_only) {
        return Ok(p);
    }
    let q = p.clone();
    let described = session
        .run(move |s| exec::cursor::describe(s, &q))
        .await
        .map_err(to_pg)?;
    Ok(described.map_or(p, Arc::new))
}

/// Marks the session's transaction block failed after an error that came
/// before execution (parse, bind).
async fn fail_statement(session: &SessionHandle) -> PgWireResult<()> {
    session.run(|s| s.fail_statement()).await.map_err(to_pg)
}

/// An `Error` as ErrorResponse fields: DETAIL, HINT and the position each
/// in their own field, as PostgreSQL sends them.
fn error_info(e: Error) -> ErrorInfo {
    let mut info = ErrorInfo::new("ERROR".to_string(), e.sqlstate().to_string(), e.to_string());
    info.detail = e.detail().map(str::to_string);
    info.hint = e.hint().map(str::to_string);
    info.position = e.position().map(|p| p.to_string());
    info
}

#[async_trait]
impl ExtendedQueryHandler for Backend {
    type Statement = Arc<Prepared>;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn on_parse<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Parse,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        extended::parse(self, client, message).await
    }

    async fn on_bind<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Bind,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        extended::bind(client, message).await
    }

    async fn on_describe<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Describe,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        extended::describe(self, client, message).await
    }

    async fn on_execute<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Execute,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        extended::execute(self, client, message).await
    }

    async fn on_sync<C>(
        &self,
        client: &mut C,
        _message: pgwire::messages::extendedquery::Sync,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        client.portal_store().rm_portal(pgwire::api::DEFAULT_NAME);
        if let Some(session) = client.session_extensions().get::<SessionHandle>() {
            send_notifications(client, &session).await?;
        }
        let status = client.transaction_status();
        client
            .send(PgWireBackendMessage::ReadyForQuery(
                pgwire::messages::response::ReadyForQuery::new(status),
            ))
            .await?;
        client.flush().await?;
        Ok(())
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Arc<Prepared>>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client).await?;
        let params = match bind_params(portal, params::zone(client)) {
            Ok(params) => params,
            Err(e) => {
                fail_statement(&session).await?;
                return Err(e);
            }
        };
        let p = with_cursor_columns(&session, portal.statement.statement.clone()).await?;
        statements::deallocate(client, &session, &p).await?;
        let exec = session.execute(p.clone(), params).await;
        send_notices(client, &session).await?;
        let exec = exec.map_err(to_pg)?;
        discard_all(&session, &p).await?;
        let zone = params::zone(client);
        respond(
            &p,
            exec,
            Some(&portal.result_column_format),
            max_rows > 0,
            zone,
        )
        .await
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        stmt: &StoredStatement<Arc<Prepared>>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client).await?;
        let p = &with_cursor_columns(&session, stmt.statement.clone()).await?;
        let params = (0..p.params.len())
            .map(|i| {
                stmt.parameter_types
                    .get(i)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| p.params[i].wire_type())
            })
            .collect();
        Ok(DescribeStatementResponse::new(params, fields(p, None)))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Arc<Prepared>>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.session(client).await?;
        let p = with_cursor_columns(&session, portal.statement.statement.clone()).await?;
        Ok(DescribePortalResponse::new(fields(
            &p,
            Some(&portal.result_column_format),
        )))
    }
}
