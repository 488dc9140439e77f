//! What a statement reads, gathered for the planner: the I/O half of
//! planning. `plan` is pure; these functions read the manifest in the
//! statement's own transaction, the shards' metadata and the peers'
//! holdings into a `plan::Snapshot`.

use std::collections::HashSet;
use std::sync::Arc;

use sqlparser::ast::Statement;

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::plan::{Peers, ShardSource, Snapshot, TableSources};
use crate::types::quote;
use crate::types::shard::{LiveShard, ShardMeta};
use crate::types::table::TableDef;

/// The live shards of `table` this statement reads, with their metadata,
/// as the session's current transaction sees the manifest: this node's
/// own but those a peer reads from its copy (`reads.scope.skip`), and the
/// copies of other nodes' shards it reads itself (`reads.scope.copies`).
/// A shard the statement counts on that left the manifest since fails it
/// with `Error::StaleCopy` (it runs again, decided anew).
pub fn live_shards(sess: &Session, def: &TableDef) -> Result<Vec<(LiveShard, Arc<ShardMeta>)>> {
    // A temporary table has no shards: its rows are its session's own.
    if def.is_temp() {
        return Ok(vec![]);
    }
    let table = def.name.as_str();
    let scope = &sess.reads.scope;
    let all = sess.conn.live_shards(Some(table))?;
    let mut skip = HashSet::new();
    for (t, id) in scope.skip.iter().filter(|(t, _)| t == table) {
        if !all.iter().any(|s| s.home.is_none() && s.id.0 == *id) {
            return Err(Error::StaleCopy(format!("{id} of table {t}")));
        }
        skip.insert(id.as_str());
    }
    // A copy the statement counts on that left the manifest since (retired,
    // evicted): nobody else reads it, so the statement must run again.
    for (id, _) in scope.copies.iter().filter(|(_, t)| *t == table) {
        if !all.iter().any(|s| s.home.is_some() && s.id.0 == *id) {
            return Err(Error::StaleCopy(format!("{id} of table {table}")));
        }
    }
    all.into_iter()
        .filter(|s| match &s.home {
            None => !skip.contains(s.id.0.as_str()),
            Some(_) => scope.copies.contains_key(&s.id.0),
        })
        .map(|s| {
            let m = sess.store.meta(&s.id)?;
            Ok((s, m))
        })
        .collect()
}

/// `live_shards` as the planner takes them; with `sql`, each with the SQL
/// that reads its live rows.
pub fn shard_sources(sess: &Session, def: &TableDef, sql: bool) -> Result<Vec<ShardSource>> {
    live_shards(sess, def)?
        .into_iter()
        .map(|(shard, meta)| {
            let sql = if sql {
                crate::store::shard::source(def, &meta, shard.tombstones, false)?
            } else {
                String::new()
            };
            Ok(ShardSource { shard, meta, sql })
        })
        .collect()
}

/// The copies of down nodes' unsealed rows of `def` this node reads
/// (`scope.open_of`), each as (origin, SQL reading its rows with `def`'s
/// columns in order). A copy that is not here at the epoch the statement
/// counts on, or that holds other columns than `def` (the table changed
/// since its node went down), fails the statement with 58000.
pub fn open_copies(sess: &Session, def: &TableDef) -> Result<Vec<(String, String)>> {
    use crate::store::copies::{self, CopyRead};
    let open_of = &sess.reads.scope.open_of;
    if open_of.is_empty() || def.is_temp() {
        return Ok(vec![]);
    }
    sess.conn.attach_copies()?;
    let me = &sess.store.node_name;
    let mut out = Vec::new();
    for (origin, epoch) in open_of {
        let unreadable = |why: &str| {
            Error::Unavailable(format!(
                "could not read the unsealed rows on node {origin} (node is not reachable; {why})"
            ))
        };
        match copies::read(&sess.conn, origin, *epoch, &def.name)? {
            CopyRead::NotHere => {
                return Err(unreadable(&format!(
                    "node {me} no longer holds the copy of them that node {origin} announced"
                )))
            }
            CopyRead::Empty => {}
            CopyRead::Table(copy, columns) => {
                if columns != crate::types::unsealed::copy_columns(def) {
                    return Err(unreadable(&format!(
                        "their copy on node {me} was taken before table {} changed",
                        def.name
                    )));
                }
                let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
                out.push((
                    origin.clone(),
                    format!(
                        "SELECT {} FROM {}.{}",
                        cols.join(", "),
                        copies::ATTACHED_AS,
                        quote(&copy)
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// What the peers hold of `table`; `None` on a node alone.
pub fn peers(sess: &Session, def: &TableDef) -> Result<Option<Peers>> {
    if def.is_temp() {
        return Ok(None);
    }
    crate::exec::remote::refuse_renamed_in_block(sess, std::slice::from_ref(&def.name))?;
    let Some(cluster) = sess.cluster.as_ref() else {
        return Ok(None);
    };
    Ok(Some(cluster.peer_shards(&sess.reads, &def.name)))
}

/// Everything the planner needs for `stmt`: each table it names, with its
/// sources. With `to_run`, the plan will run: each shard comes with the SQL
/// that reads it, and the peers' holdings are gathered; without, only the
/// plan's shape (this node's shards) is wanted.
pub fn snapshot(sess: &Session, stmt: &Statement, to_run: bool) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    for name in crate::plan::relations(stmt) {
        let Some(def) = sess.catalog().table(&name) else {
            continue;
        };
        let sources = TableSources {
            shards: shard_sources(sess, &def, to_run)?,
            peers: if to_run { peers(sess, &def)? } else { None },
            open_copies: open_copies(sess, &def)?
                .into_iter()
                .map(|(_, sql)| sql)
                .collect(),
            def,
        };
        snapshot.tables.insert(name, sources);
    }
    Ok(snapshot)
}
