//! Prepared statements by name: the names the client gave Parse (so
//! DEALLOCATE ALL can drop them; pgwire's store cannot list its entries)
//! and DEALLOCATE, which drops a protocol-level statement here or leaves
//! an SQL-level one (PREPARE) to the session.

use parking_lot::Mutex;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore};
use pgwire::error::PgWireResult;

use super::{fail_statement, to_pg};
use crate::error::Error;
use crate::exec::{self, Prepared, SessionHandle};

/// Names of the statements the client prepared with Parse, so that
/// DEALLOCATE ALL can drop them (pgwire's store cannot list its entries).
#[derive(Default)]
pub(crate) struct StatementNames(Mutex<std::collections::BTreeSet<String>>);

/// Remember a statement name the client prepared.
pub(crate) fn note_statement<C: ClientInfo>(client: &C, name: &str) {
    if name != pgwire::api::DEFAULT_NAME && !name.is_empty() {
        let names = client
            .session_extensions()
            .get_or_insert_with(StatementNames::default);
        names.0.lock().insert(name.to_string());
    }
}

/// DEALLOCATE: drop the named statement (26000 when there is none), or
/// every statement the client prepared by name. Runs before the statement
/// executes; the session only answers its command tag.
pub(super) async fn deallocate<C>(
    client: &C,
    session: &SessionHandle,
    p: &Prepared,
) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore,
    C::PortalStore: PortalStore,
{
    let exec::Kind::Deallocate(target) = &p.kind else {
        return Ok(());
    };
    if session.txn_state() == exec::TxnState::Failed {
        // The session refuses it with 25P02.
        return Ok(());
    }
    let names = client
        .session_extensions()
        .get_or_insert_with(StatementNames::default);
    match target {
        Some(name) => {
            if client.portal_store().get_statement(name).is_none() {
                // A statement of SQL's PREPARE, which the session drops.
                let n = name.clone();
                if session
                    .run(move |s| s.has_sql_statement(&n))
                    .await
                    .map_err(to_pg)?
                {
                    return Ok(());
                }
                fail_statement(session).await?;
                return Err(to_pg(Error::NoSuchPreparedStatement(format!(
                    "prepared statement \"{name}\" does not exist"
                ))));
            }
            client.portal_store().rm_statement(name);
            names.0.lock().remove(name);
        }
        None => {
            for name in std::mem::take(&mut *names.0.lock()) {
                client.portal_store().rm_statement(&name);
            }
        }
    }
    Ok(())
}
