//! `pg_stat_activity`: this node's client sessions (`exec::backends`), as
//! PostgreSQL's lists the backends of one server. A role that may not see
//! another role's session (it is neither that role nor a member of
//! pg_read_all_stats) sees its pid and user, and `<insufficient
//! privilege>` for the query, as in PostgreSQL.

use super::objects::derived_oid;
use super::relations::Rows;
use super::rows::{i, row, t};
use crate::error::Result;
use crate::exec::Session;
use crate::types::datetime::timestamp_text;
use crate::types::table::TableDef;
use crate::types::Datum;

pub(super) fn activity(sess: &Session, def: &TableDef) -> Result<Rows> {
    let Some(backends) = &sess.backends else {
        return Ok(Vec::new());
    };
    let roles = super::oids_of(sess.roles());
    let oid_of = |name: &str| roles.iter().find(|(_, r)| r.name == name).map(|(o, _)| *o);
    let ts = |micros: Option<i64>| match micros.map(timestamp_text) {
        Some(Ok(text)) => Datum::Text(text),
        _ => Datum::Null,
    };
    let mut out = Vec::new();
    for (pid, shared) in backends.list() {
        let a = shared.activity.lock().clone();
        let state = a.state(shared.txn_state());
        let mut cells = vec![
            ("datid", i(derived_oid("database", "mosaic"))),
            ("datname", t("mosaic")),
            ("pid", i(pid)),
            ("leader_pid", Datum::Null),
            ("usesysid", oid_of(&a.user).map_or(Datum::Null, i)),
            ("usename", t(a.user.clone())),
            ("application_name", t(a.application_name.clone())),
            ("client_hostname", Datum::Null),
            ("backend_start", ts(Some(a.backend_start))),
            ("backend_xid", Datum::Null),
            ("backend_xmin", Datum::Null),
            ("query_id", Datum::Null),
            ("backend_type", t("client backend")),
        ];
        if !crate::exec::backends::may_see(sess, &a.user) {
            cells.extend([
                ("client_addr", Datum::Null),
                ("client_port", Datum::Null),
                ("xact_start", Datum::Null),
                ("query_start", Datum::Null),
                ("state_change", Datum::Null),
                ("wait_event_type", Datum::Null),
                ("wait_event", Datum::Null),
                ("state", Datum::Null),
                ("query", t("<insufficient privilege>")),
            ]);
            out.push(row(def, cells));
            continue;
        }
        // A session waiting for its client reads from it (ClientRead).
        let wait = match (a.running, a.wait) {
            (true, w) => w,
            (false, _) => Some(("Client", "ClientRead")),
        };
        cells.extend([
            (
                "client_addr",
                a.client.map_or(Datum::Null, |c| t(c.ip().to_string())),
            ),
            ("client_port", a.client.map_or(Datum::Null, |c| i(c.port()))),
            ("xact_start", ts(a.xact_start)),
            ("query_start", ts(a.query_start)),
            ("state_change", ts(Some(a.state_change))),
            ("wait_event_type", wait.map_or(Datum::Null, |w| t(w.0))),
            ("wait_event", wait.map_or(Datum::Null, |w| t(w.1))),
            ("state", t(state)),
            ("query", t(a.query.to_string())),
        ]);
        out.push(row(def, cells));
    }
    Ok(out)
}
