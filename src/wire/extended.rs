//! The extended protocol's Parse, Bind, Describe and Execute, answered
//! without a flush each, with the transaction status taken from the session: PostgreSQL buffers these replies until Sync or Flush, and a
//! socket write per message costs a wake-up of the client every time.
//! (pgwire's defaults `send`, i.e. flush, after each; the logic is
//! otherwise theirs.)

use std::fmt::Debug;
use std::sync::Arc;

use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::portal::{Portal, PortalExecutionState};
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::results::{
    DescribePortalResponse, DescribeResponse, DescribeStatementResponse, QueryResponse, Response,
    Tag,
};
use pgwire::api::stmt::StoredStatement;
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, DEFAULT_NAME};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::data::{NoData, ParameterDescription};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Describe, Execute, Parse, ParseComplete, PortalSuspended,
    TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT,
};
use pgwire::messages::response::EmptyQueryResponse;
use pgwire::messages::PgWireBackendMessage;

use super::Backend;
use crate::exec::Prepared;

pub async fn parse<C>(backend: &Backend, client: &mut C, message: Parse) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Arc<Prepared>>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let name = message
        .name
        .clone()
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let parsed = match StoredStatement::parse(client, &message, backend.query_parser()).await {
        Ok(parsed) => parsed,
        Err(e) => {
            backend.fail_statement(client).await?;
            return Err(e);
        }
    };
    super::statements::note_statement(client, &name);
    match parsed {
        Some(stmt) => client.portal_store().put_statement(Arc::new(stmt)),
        None => client.portal_store().put_empty_statement(&name),
    }
    client
        .feed(PgWireBackendMessage::ParseComplete(ParseComplete::new()))
        .await?;
    Ok(())
}

pub async fn bind<C>(client: &mut C, message: Bind) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Arc<Prepared>>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let statement_name = message.statement_name.as_deref().unwrap_or(DEFAULT_NAME);
    let portal_name = message.portal_name.as_deref().unwrap_or(DEFAULT_NAME);
    match client.portal_store().get_statement(statement_name) {
        Some(Entry::Value(statement)) => {
            let expected = statement.statement.params.len();
            if message.parameters.len() != expected {
                return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                    "ERROR".to_owned(),
                    "08P01".to_owned(),
                    format!(
                        "bind message supplies {} parameters, but prepared statement \"{statement_name}\" requires {expected}",
                        message.parameters.len()
                    ),
                ))));
            }
            let portal = Portal::try_new(&message, statement)?;
            client.portal_store().put_portal(Arc::new(portal));
        }
        Some(Entry::Empty) => {
            if !message.parameters.is_empty() {
                return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                    "ERROR".to_owned(),
                    "08P01".to_owned(),
                    format!(
                        "bind message supplies {} parameters, but prepared statement \"{statement_name}\" requires 0",
                        message.parameters.len()
                    ),
                ))));
            }
            client.portal_store().put_empty_portal(portal_name);
        }
        None => return Err(PgWireError::StatementNotFound(statement_name.to_owned())),
    }
    client
        .feed(PgWireBackendMessage::BindComplete(BindComplete::new()))
        .await?;
    Ok(())
}

/// Describe, as pgwire answers it, except that a statement with
/// parameters and no result columns gets NoData: pgwire sends an empty
/// RowDescription there, which JDBC takes for a query, counting 0 rows for
/// every INSERT of a batch.
pub async fn describe<C>(backend: &Backend, client: &mut C, message: Describe) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Arc<Prepared>>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    if message.target_type != TARGET_TYPE_BYTE_STATEMENT
        && client.portal_store().get_portal(name).is_none()
    {
        // A cursor DECLAREd in SQL is a portal too (psycopg describes it
        // by name before it fetches).
        let session = backend.session(client).await?;
        let cursor = name.to_string();
        let columns = session
            .run(move |s| s.cursor_columns(&cursor))
            .await
            .map_err(super::to_pg)?;
        if let Some(columns) = columns {
            let p = Prepared {
                id: 0,
                stmt: None,
                kind: crate::exec::Kind::Query,
                params: vec![],
                columns,
                needs: vec![],
                inlined: None,
                text: None,
            };
            let fields: Vec<_> = super::fields(&p, None).iter().map(Into::into).collect();
            client
                .feed(PgWireBackendMessage::RowDescription(
                    pgwire::messages::data::RowDescription::new(fields),
                ))
                .await?;
            return Ok(());
        }
    }
    // pgwire's own answer, fed rather than sent: the reply goes out with
    // the rest at Sync or Flush, one write instead of two.
    // (`feed_describe` sends NoData for a statement without result
    // columns.)
    match message.target_type {
        TARGET_TYPE_BYTE_STATEMENT => match client.portal_store().get_statement(name) {
            Some(Entry::Value(stmt)) => {
                let response = backend.do_describe_statement(client, &stmt).await?;
                feed_describe(client, &response).await
            }
            Some(Entry::Empty) => {
                feed_describe(client, &DescribeStatementResponse::no_data()).await
            }
            None => Err(PgWireError::StatementNotFound(name.to_owned())),
        },
        TARGET_TYPE_BYTE_PORTAL => match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal)) => {
                let response = backend.do_describe_portal(client, &portal).await?;
                feed_describe(client, &response).await
            }
            Some(Entry::Empty) => feed_describe(client, &DescribePortalResponse::no_data()).await,
            None => Err(PgWireError::PortalNotFound(name.to_owned())),
        },
        other => Err(PgWireError::InvalidTargetType(other)),
    }
}

/// A Describe's ParameterDescription (of a statement) and RowDescription,
/// or NoData when there are no result columns (also for a statement with
/// parameters, where pgwire would send an empty RowDescription), queued
/// for the next flush.
async fn feed_describe<C, R>(client: &mut C, response: &R) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    R: DescribeResponse,
{
    if let Some(types) = response.parameters() {
        let oids = types.iter().map(|t| t.oid()).collect();
        client
            .feed(PgWireBackendMessage::ParameterDescription(
                ParameterDescription::new(oids),
            ))
            .await?;
    }
    if response.fields().is_empty() {
        client
            .feed(PgWireBackendMessage::NoData(NoData::new()))
            .await?;
    } else {
        let fields = response.fields().iter().map(Into::into).collect();
        client
            .feed(PgWireBackendMessage::RowDescription(
                pgwire::messages::data::RowDescription::new(fields),
            ))
            .await?;
    }
    Ok(())
}

pub async fn execute<C>(backend: &Backend, client: &mut C, message: Execute) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Arc<Prepared>>,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
        return Err(PgWireError::NotReadyForQuery);
    }
    client.set_state(PgWireConnectionState::QueryInProgress);
    let portal_name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    let max_rows = message.max_rows as usize;
    let portal = match client.portal_store().get_portal(portal_name) {
        Some(Entry::Value(portal)) => portal,
        Some(Entry::Empty) => {
            client
                .feed(PgWireBackendMessage::EmptyQueryResponse(
                    EmptyQueryResponse::new(),
                ))
                .await?;
            client.set_state(PgWireConnectionState::ReadyForQuery);
            return Ok(());
        }
        None => return Err(PgWireError::PortalNotFound(portal_name.to_owned())),
    };
    let fresh = matches!(*portal.state().lock().await, PortalExecutionState::Initial);
    let needs_fetch = if fresh {
        match backend.do_query(client, portal.as_ref(), max_rows).await? {
            Response::Query(results) => {
                portal.start(results).await;
                true
            }
            Response::EmptyQuery => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        EmptyQueryResponse::new(),
                    ))
                    .await?;
                false
            }
            Response::Execution(tag) => {
                client
                    .feed(PgWireBackendMessage::CommandComplete(tag.into()))
                    .await?;
                false
            }
            Response::TransactionStart(tag) => {
                client
                    .feed(PgWireBackendMessage::CommandComplete(tag.into()))
                    .await?;
                false
            }
            Response::TransactionEnd(tag) => {
                client
                    .feed(PgWireBackendMessage::CommandComplete(tag.into()))
                    .await?;
                client.portal_store().rm_portal(DEFAULT_NAME);
                false
            }
            Response::Error(err) => {
                client
                    .feed(PgWireBackendMessage::ErrorResponse((*err).into()))
                    .await?;
                false
            }
            Response::CopyIn(result) => {
                client.set_state(PgWireConnectionState::CopyInProgress(true));
                pgwire::api::copy::send_copy_in_response(client, result).await?;
                false
            }
            Response::CopyOut(result) => {
                pgwire::api::copy::send_copy_out_response(client, result).await?;
                false
            }
            Response::CopyBoth(result) => {
                client.set_state(PgWireConnectionState::CopyInProgress(true));
                pgwire::api::copy::send_copy_both_response(client, result).await?;
                false
            }
        }
    } else {
        true
    };
    if needs_fetch {
        let (mut response, suspended) = match max_rows {
            0 => (rest(&portal).await?, false),
            _ => {
                let fetched = portal.fetch(max_rows).await?;
                (fetched.response, fetched.suspended)
            }
        };
        let command_tag = response.command_tag().to_owned();
        let mut rows = 0;
        while let Some(row) = response.data_rows().next().await {
            client.feed(PgWireBackendMessage::DataRow(row?)).await?;
            rows += 1;
        }
        if suspended {
            client
                .feed(PgWireBackendMessage::PortalSuspended(PortalSuspended::new()))
                .await?;
        } else {
            client
                .feed(PgWireBackendMessage::CommandComplete(
                    Tag::new(&command_tag).with_rows(rows).into(),
                ))
                .await?;
        }
    }
    if !matches!(client.state(), PgWireConnectionState::CopyInProgress(_)) {
        client.set_state(PgWireConnectionState::ReadyForQuery);
        // The session knows its transaction state (ROLLBACK TO, for one,
        // leaves a failed block, which pgwire's bookkeeping cannot follow).
        client.set_transaction_status(super::status_of(&*backend.session(client).await?));
    }
    super::params::report_changes(client).await?;
    Ok(())
}

/// All the rows a portal has left, taken as they come (the portal is done):
/// pgwire's `fetch(0)` would gather them into memory first, where a slow
/// client must slow the statement instead.
async fn rest(portal: &Portal<Arc<Prepared>>) -> PgWireResult<QueryResponse> {
    let state = portal.state();
    let mut state = state.lock().await;
    match std::mem::replace(&mut *state, PortalExecutionState::Finished) {
        PortalExecutionState::Suspended(response) => Ok(response),
        PortalExecutionState::Finished => Ok(QueryResponse::new(
            Arc::new(vec![]),
            futures::stream::empty(),
        )),
        PortalExecutionState::Initial => {
            *state = PortalExecutionState::Initial;
            Err(PgWireError::PortalNotStarted)
        }
    }
}
