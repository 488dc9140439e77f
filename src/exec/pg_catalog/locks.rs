//! `pg_locks`: the advisory locks granted in the cluster, as the node that
//! arbitrates them knows them. MosaicDB has no other lock PostgreSQL
//! would list (its row locks are per table, `exec::locks`), so the view
//! lists advisory locks only; `pid` is the holding session's backend pid
//! on its own node.

use super::objects::derived_oid;
use super::relations::Rows;
use super::rows::{b, i, row, t};
use crate::error::Result;
use crate::exec::Session;
use crate::types::table::TableDef;
use crate::types::Datum;

pub(super) fn locks(sess: &Session, def: &TableDef) -> Result<Rows> {
    let Some(cluster) = &sess.cluster else {
        return Ok(Vec::new());
    };
    let database = derived_oid("database", "mosaic");
    Ok(cluster
        .advisory_locks()?
        .into_iter()
        .map(|l| {
            let (classid, objid, objsubid) = l.key.pg_locks_ids();
            row(
                def,
                vec![
                    ("locktype", t("advisory")),
                    ("database", i(database)),
                    ("relation", Datum::Null),
                    ("page", Datum::Null),
                    ("tuple", Datum::Null),
                    ("transactionid", Datum::Null),
                    ("classid", i(classid)),
                    ("objid", i(objid)),
                    ("objsubid", i(objsubid)),
                    ("pid", i(l.pid)),
                    ("mode", t(l.mode.pg_name())),
                    ("granted", b(true)),
                    ("fastpath", b(false)),
                ],
            )
        })
        .collect())
}
