//! Reading the peers' data: a table reference's remote part (plan::RemoteScan)
//! is fetched from every live peer into a temp table, and a fragment split
//! runs its fragment on every peer. What no reachable node can answer
//! fails the statement, naming the shards, or with
//! `mosaic.partial_results` on, becomes a WARNING.

use crate::cluster::PeerRows;
use crate::error::{Error, Result};
use crate::exec::{errors, Session};
use crate::plan::RemoteScan;
use crate::sql::types::Datum;
use crate::store::segment::quote;

/// Run `sql` on every peer for `tables`; accept what is missing only when
/// the session allows partial results.
pub fn query(sess: &Session, tables: &[String], sql: &str, params: &[Datum]) -> Result<PeerRows> {
    let Some(cluster) = sess.cluster.clone() else {
        return Ok(PeerRows::default());
    };
    let answer = cluster.query_peers(tables, sql, params)?;
    if !answer.missing.is_empty() {
        let what = answer.missing.join("; ");
        if sess.settings.get("mosaic.partial_results").as_deref() == Some("on") {
            sess.shared
                .warn(format!("partial results: could not read {what}"));
        } else {
            return Err(Error::Unavailable(format!(
                "could not read {what}; SET mosaic.partial_results = on to get the rows that can be read"
            )));
        }
    }
    Ok(answer)
}

/// Fill `temp.<r.temp>` with the peers' rows of a table reference.
pub fn fill(sess: &mut Session, r: &RemoteScan, params: &[Datum]) -> Result<()> {
    let answer = query(sess, std::slice::from_ref(&r.table.name), &r.sql, params)?;
    let cols: Vec<String> = r.table.columns.iter().map(|c| quote(&c.name)).collect();
    sess.conn
        .execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{t}; CREATE TEMP TABLE {t} ({});",
            cols.join(", "),
            t = quote(&r.temp)
        ))
        .map_err(errors::map)?;
    insert_rows(sess, &r.temp, cols.len(), &answer.rows)
}

/// Insert rows into a temp table of `width` columns.
pub fn insert_rows(sess: &Session, temp: &str, width: usize, rows: &[Vec<Datum>]) -> Result<()> {
    let insert = format!(
        "INSERT INTO temp.{} VALUES ({})",
        quote(temp),
        (1..=width)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut st = sess.conn.prepare_cached(&insert).map_err(errors::map)?;
    for row in rows {
        if row.len() != width {
            return Err(Error::Internal(format!(
                "a peer answered {} columns where {width} were expected",
                row.len()
            )));
        }
        st.execute(rusqlite::params_from_iter(row.iter()))
            .map_err(errors::map)?;
    }
    Ok(())
}

/// Refuse `what` (UPDATE, DELETE) on `table` while any other node holds
/// rows of it: changing rows on other nodes is not built yet, and a
/// statement that silently skipped them would be wrong.
pub fn ensure_local(sess: &Session, table: &str, what: &str) -> Result<()> {
    if !sess.has_peers() {
        return Ok(());
    }
    let sql = format!("SELECT 1 FROM {} LIMIT 1", quote(table));
    let answer = query(sess, &[table.to_string()], &sql, &[])?;
    if answer.rows.is_empty() {
        return Ok(());
    }
    Err(Error::Unsupported(format!(
        "{what} of table \"{table}\" while other nodes hold rows of it (this node can change only its own rows so far)"
    )))
}
