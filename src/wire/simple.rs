//! The simple protocol's Query message, as pgwire answers it, except that
//! ReadyForQuery reports the session's own transaction state: pgwire's
//! bookkeeping cannot see ROLLBACK TO SAVEPOINT leave a failed block.

use std::fmt::Debug;

use futures::{Sink, SinkExt};
use pgwire::api::query::{send_execution_response, send_query_response, SimpleQueryHandler};
use pgwire::api::results::Response;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::response::{EmptyQueryResponse, ReadyForQuery};
use pgwire::messages::simplequery::Query;
use pgwire::messages::PgWireBackendMessage;

use super::Backend;

pub async fn query<C>(backend: &Backend, client: &mut C, query: Query) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
        return Err(PgWireError::NotReadyForQuery);
    }
    client.set_state(PgWireConnectionState::QueryInProgress);
    let text = query.query;
    if text.chars().all(|c| c == ';' || c.is_whitespace()) {
        client
            .feed(PgWireBackendMessage::EmptyQueryResponse(
                EmptyQueryResponse::new(),
            ))
            .await?;
    } else {
        for r in backend.do_query(client, &text).await? {
            match r {
                Response::EmptyQuery => {
                    client
                        .feed(PgWireBackendMessage::EmptyQueryResponse(
                            EmptyQueryResponse::new(),
                        ))
                        .await?;
                }
                Response::Query(results) => send_query_response(client, results, true).await?,
                Response::Execution(tag)
                | Response::TransactionStart(tag)
                | Response::TransactionEnd(tag) => send_execution_response(client, tag).await?,
                Response::Error(e) => {
                    client
                        .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                        .await?;
                }
                Response::CopyIn(result) => {
                    pgwire::api::copy::send_copy_in_response(client, result).await?;
                    client.set_state(PgWireConnectionState::CopyInProgress(false));
                }
                Response::CopyOut(result) => {
                    pgwire::api::copy::send_copy_out_response(client, result).await?;
                }
                Response::CopyBoth(result) => {
                    pgwire::api::copy::send_copy_both_response(client, result).await?;
                    client.set_state(PgWireConnectionState::CopyInProgress(false));
                }
            }
        }
    }
    let session = backend.session(client).await?;
    if session.is_terminated() {
        // The connection ends here (`server`), without ReadyForQuery.
        client.flush().await?;
        return Ok(());
    }
    let status = super::status_of(&session);
    client.set_transaction_status(status);
    super::send_notifications(client, &session).await?;
    super::params::report_changes(client).await?;
    // During COPY FROM STDIN, ReadyForQuery follows the copy's end.
    if !matches!(client.state(), PgWireConnectionState::CopyInProgress(_)) {
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
    }
    Ok(())
}
