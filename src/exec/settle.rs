//! One version per primary key, on every node, after a split.
//!
//! While a member is down or suspected, every write records the values of
//! unique keys (primary key, UNIQUE constraints, unique indexes) it wrote
//! and the primary-key values it removed, with its version and the nodes
//! it could not ask (`write::unsettled`): that write could not ask them
//! whether they hold the same value. Once one of those nodes is live
//! again (another may still be down), each node settles what it recorded
//! against the live nodes, a batch of values of one key at a time:
//!
//! 1. peers holding versions of those keys in their open segments seal
//!    them, so that each version is a row of a shard a tombstone can name;
//! 2. every node sends its own versions of the keys (`Request::Versions`:
//!    its open segment and the shards it sealed, so each version comes
//!    once, from its home);
//! 3. per key, the newest by (version, home node name) wins, counting this
//!    node's record as a version too: a record newer than every row is a
//!    delete that came last;
//! 4. every other version is tombstoned in one transaction of this node,
//!    delivered to every holder of its shard as a DELETE's tombstones are,
//!    and recorded in `_mosaic_conflicts` (`mosaic.conflicts`);
//! 5. the records wait for those nodes no more, and go once they wait for
//!    none (a node that is down settles its own records when it is back;
//!    records wait no more for a node forgotten).
//!
//! Every node that recorded a key settles it by the same rule, so the
//! outcome does not depend on which settles first: a version is only ever
//! tombstoned for a newer one, and the newest stays.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::exec::handle::SessionHandle;
use crate::exec::remote::{self, ShardRows};
use crate::exec::write::unsettled::encode_key;
use crate::exec::Session;
use crate::store::Store;
use crate::types::json::row_object;
use crate::types::table::TableDef;
use crate::types::Datum;

/// Keys settled per round trip.
const BATCH: usize = 200;

/// How often the node looks for keys to settle.
const EVERY: Duration = Duration::from_millis(500);

/// The process id of the session that settles (client sessions count up
/// from 1, peers' sessions are -1).
const SETTLE_PID: i32 = -2;

/// Settle this node's recorded keys whenever a node they wait for is
/// live; runs for the life of the node.
pub async fn run(store: Arc<Store>, cluster: Arc<Cluster>) {
    let mut handle: Option<SessionHandle> = None;
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let h = match handle.take() {
            Some(h) => h,
            None => {
                let spawned = SessionHandle::spawn(
                    store.clone(),
                    "mosaic".into(),
                    SETTLE_PID,
                    Some(cluster.clone()),
                    None,
                )
                .await;
                match spawned {
                    Ok(h) => h,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot start the settling session");
                        continue;
                    }
                }
            }
        };
        match h.run(settle_all).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(versions = n, "settled versions written during a split"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "settling keys written during a split failed; will retry")
            }
            Err(e) => {
                tracing::warn!(error = %e, "the settling session ended");
                continue;
            }
        }
        handle = Some(h);
    }
}

/// Settle a batch of every recorded key's values; returns how many
/// versions were tombstoned.
fn settle_all(sess: &mut Session) -> Result<usize> {
    let Some(c) = sess.cluster.clone() else {
        return Ok(0);
    };
    let any = sess
        .conn
        .exists("SELECT 1 FROM main._mosaic_unsettled", &[])?;
    sess.store.unsettled.looked(any);
    if !any {
        return Ok(0);
    }
    sess.reads = c.reads();
    // Records wait for the nodes their write could not ask: those live
    // now, or every node for a record without any (kept from before).
    // Nodes forgotten since are waited for no more.
    let live: Vec<String> = sess
        .reads
        .peers
        .iter()
        .map(|(m, _)| m.name.clone())
        .collect();
    let mut known: Vec<String> = c.registry().into_keys().collect();
    known.extend(live.iter().cloned());
    sess.conn.execute(
        "DELETE FROM main._mosaic_unsettled_waits
         WHERE node NOT IN (SELECT value FROM json_each(?1))",
        &[Datum::Text(json_list(&known)?)],
    )?;
    let ready = Ready {
        live: json_list(&live)?,
        all_alive: c.all_known_alive(),
    };
    let keys: Vec<(String, String)> = sess
        .conn
        .rows(
            &format!(
                "SELECT DISTINCT table_name, columns FROM main._mosaic_unsettled AS u WHERE {}",
                Ready::CONDITION
            ),
            &ready.params(),
        )?
        .into_iter()
        .filter_map(|r| match (r.first(), r.get(1)) {
            (Some(Datum::Text(t)), Some(Datum::Text(c))) => Some((t.clone(), c.clone())),
            _ => None,
        })
        .collect();
    let mut settled = 0;
    for (table, columns) in keys {
        settled += settle_key(sess, &table, &columns, &ready)?;
    }
    Ok(settled)
}

/// How long a statement waits for settling before it fails with 40001.
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// Before a statement runs: while this node holds records of keys of the
/// tables it names, written during a split, that wait for a node live now
/// (settling is about to compare them, and both sides' versions may be
/// visible until it has), wait for settling; inside a transaction block
/// (whose snapshot would not see it), or after `SETTLE_WAIT`, fail with
/// 40001 rather than show a key twice.
pub fn wait_settled(sess: &Session, stmt: &sqlparser::ast::Statement) -> Result<()> {
    if !sess.store.unsettled.may_exist() {
        return Ok(());
    }
    wait_settled_for(sess, &crate::plan::relations(stmt))
}

/// `wait_settled` for a statement naming `tables`.
pub fn wait_settled_for(sess: &Session, tables: &[String]) -> Result<()> {
    let Some(c) = sess
        .cluster
        .as_ref()
        .filter(|_| sess.store.unsettled.may_exist())
    else {
        return Ok(());
    };
    if tables.is_empty() {
        return Ok(());
    }
    let tables = json_list(tables)?;
    let started = std::time::Instant::now();
    loop {
        // The nodes this statement may read, or that the peer asking for
        // it reads: any of them may hold the other side's versions.
        let mut live: Vec<String> = c.live_peers().into_iter().map(|m| m.name).collect();
        live.extend(sess.reads.asker_live.iter().cloned());
        let pending = sess.conn.rows(
            "SELECT table_name FROM main._mosaic_unsettled_waits
             WHERE table_name IN (SELECT value FROM json_each(?1))
               AND node IN (SELECT value FROM json_each(?2)) LIMIT 1",
            &[Datum::Text(tables.clone()), Datum::Text(json_list(&live)?)],
        )?;
        let Some(Datum::Text(table)) = pending
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
        else {
            return Ok(());
        };
        if sess.txn != crate::exec::TxnState::Idle || started.elapsed() >= SETTLE_WAIT {
            return Err(Error::SerializationFailure(format!(
                "rows of table \"{table}\" written on both sides of a network split are being settled"
            ))
            .with_hint("Run the statement again in a moment."));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Which records can be settled now: those waiting for a live node
/// (`live`, a JSON array), and with `all_alive` those waiting for none.
struct Ready {
    live: String,
    all_alive: bool,
}

impl Ready {
    /// Over `_mosaic_unsettled AS u`, `$1` the live nodes, `$2` whether
    /// every known node is live.
    const CONDITION: &'static str = "(EXISTS (SELECT 1 FROM main._mosaic_unsettled_waits AS w
            WHERE w.table_name = u.table_name AND w.columns = u.columns AND w.key = u.key
              AND w.node IN (SELECT value FROM json_each(?1)))
        OR (?2 AND NOT EXISTS (SELECT 1 FROM main._mosaic_unsettled_waits AS w
            WHERE w.table_name = u.table_name AND w.columns = u.columns AND w.key = u.key)))";

    fn params(&self) -> Vec<Datum> {
        vec![
            Datum::Text(self.live.clone()),
            Datum::Int(self.all_alive as i64),
        ]
    }
}

fn json_list(names: &[String]) -> Result<String> {
    serde_json::to_string(names).map_err(|e| Error::Internal(format!("encoding names: {e}")))
}

/// One recorded key: its values, as `_mosaic_unsettled` keeps them, the
/// newest version this node wrote or removed it at, and which it did.
struct Record {
    blob: Vec<u8>,
    key: Vec<Datum>,
    ver: i64,
    wrote: bool,
}

/// One version of a row, at its home.
struct Version {
    node: String,
    /// None: in the node's open segment.
    shard: Option<String>,
    rid: i64,
    ver: i64,
    values: Vec<Datum>,
}

/// Settle a batch of the recorded values of one unique key (`columns`,
/// the JSON array `_mosaic_unsettled` keeps) of `table`.
fn settle_key(sess: &mut Session, table: &str, columns: &str, ready: &Ready) -> Result<usize> {
    let names: Vec<String> = serde_json::from_str(columns).unwrap_or_default();
    let found = sess.catalog().table(table).and_then(|def| {
        let key: Option<Vec<usize>> = names.iter().map(|n| def.column_index(n)).collect();
        key.filter(|k| !k.is_empty()).map(|k| (def, k))
    });
    let Some((def, key)) = found else {
        // The table or the key is gone: nothing left to settle.
        sess.conn.execute(
            "DELETE FROM main._mosaic_unsettled WHERE table_name = ?1 AND columns = ?2",
            &[
                Datum::Text(table.to_string()),
                Datum::Text(columns.to_string()),
            ],
        )?;
        return Ok(0);
    };
    let records = records(sess, table, columns, ready)?;
    let keys: Vec<Vec<Datum>> = records.iter().map(|r| r.key.clone()).collect();
    let (filter, params) = remote::key_filter(&def, &key, &keys);
    remote::seal_peers_first(sess, &def.name, Some(filter.clone()), &params)?;
    let versions = versions(sess, &def, &filter, &params)?;
    let mut by_key: HashMap<Vec<u8>, Vec<&Version>> = HashMap::new();
    for v in &versions {
        let values: Vec<Datum> = (key.iter())
            .map(|&c| v.values.get(c).cloned().unwrap_or(Datum::Null))
            .collect();
        by_key.entry(encode_key(&values)?).or_default().push(v);
    }
    let me = sess.store.node_name.clone();
    let mut plan = Settlement {
        columns: columns.to_string(),
        live: ready.live.clone(),
        ..Default::default()
    };
    for rec in &records {
        let found = by_key.get(&rec.blob).map(Vec::as_slice).unwrap_or(&[]);
        plan.decide(&def, &key, &me, rec, found)?;
    }
    let n = plan.losers.iter().filter(|(at, _)| at.is_some()).count();
    sess.in_statement(true, |sess| plan.apply(sess, &def, &me))?;
    sess.deliver_tombstones();
    Ok(n)
}

/// Up to `BATCH` of this node's records of one key of `table` that can be
/// settled now.
fn records(sess: &Session, table: &str, columns: &str, ready: &Ready) -> Result<Vec<Record>> {
    let mut params = ready.params();
    params.extend([
        Datum::Text(table.to_string()),
        Datum::Text(columns.to_string()),
        Datum::Int(BATCH as i64),
    ]);
    let rows = sess.conn.rows(
        &format!(
            "SELECT key, ver, wrote FROM main._mosaic_unsettled AS u
             WHERE table_name = ?3 AND columns = ?4 AND {} ORDER BY key LIMIT ?5",
            Ready::CONDITION
        ),
        &params,
    )?;
    let mut out = Vec::new();
    for r in rows {
        let (Some(Datum::Blob(blob)), Some(Datum::Int(ver)), Some(Datum::Int(wrote))) =
            (r.first(), r.get(1), r.get(2))
        else {
            continue;
        };
        let key: Vec<Datum> = postcard::from_bytes(blob)
            .map_err(|e| Error::Internal(format!("decoding a recorded key: {e}")))?;
        out.push(Record {
            blob: blob.clone(),
            key,
            ver: *ver,
            wrote: *wrote != 0,
        });
    }
    Ok(out)
}

/// Every node's own versions of the rows matching `filter`, this one's
/// included.
fn versions(
    sess: &mut Session,
    def: &Arc<TableDef>,
    filter: &str,
    params: &[Datum],
) -> Result<Vec<Version>> {
    let mut nodes = remote::versions(sess, def, filter, params)?;
    let mine = crate::exec::remote::scan_local(
        sess,
        &def.name,
        Some(filter),
        params,
        false,
        Some(def.columns.clone()),
        Some(def.oid),
    )?;
    nodes.push((sess.store.node_name.clone(), mine));
    let mut out = Vec::new();
    for (node, rows) in nodes {
        for mut row in rows {
            if row.len() < 3 {
                continue;
            }
            let values = row.split_off(3);
            let (Datum::Int(rid), Datum::Int(ver)) = (&row[1], &row[2]) else {
                continue;
            };
            let shard = match &row[0] {
                Datum::Text(s) => Some(s.clone()),
                _ => None,
            };
            out.push(Version {
                node: node.clone(),
                shard,
                rid: *rid,
                ver: *ver,
                values,
            });
        }
    }
    Ok(out)
}

/// What one pass over a batch of records does.
#[derive(Default)]
struct Settlement {
    /// The key settled (`_mosaic_unsettled.columns`).
    columns: String,
    /// Versions to tombstone (None: a delete that lost, nothing to
    /// tombstone), with their conflict row.
    losers: Vec<(Option<LoserAt>, Conflict)>,
    /// Records settled against the live nodes (`live`, a JSON array):
    /// they wait for those no more, and go once they wait for none.
    done: Vec<Vec<u8>>,
    live: String,
}

/// Where a losing version lives.
enum LoserAt {
    /// This node's open segment, by row key.
    OwnSegment(i64),
    /// A shard: (home node, shard id, row key, values).
    Shard(String, String, i64, Vec<Datum>),
}

/// One row of `mosaic.conflicts`.
struct Conflict {
    key: String,
    loser_node: String,
    loser_ver: i64,
    /// None: a delete that lost to a newer write.
    loser_row: Option<String>,
    winner_node: String,
    winner_ver: i64,
    winner_row: Option<String>,
}

impl Settlement {
    /// Settle one recorded key against the versions the nodes hold.
    fn decide(
        &mut self,
        def: &TableDef,
        key: &[usize],
        me: &str,
        rec: &Record,
        found: &[&Version],
    ) -> Result<()> {
        let winner = found
            .iter()
            .map(|v| (v.ver, v.node.as_str(), Some(*v)))
            .chain(std::iter::once((rec.ver, me, None)))
            // A row beats this node's record of writing it (same version).
            .max_by(|a, b| (a.0, a.1, a.2.is_some()).cmp(&(b.0, b.1, b.2.is_some())))
            .ok_or_else(|| Error::Internal("no version".into()))?;
        let all: Vec<usize> = (0..def.columns.len()).collect();
        let winner_row = match winner.2 {
            Some(w) => Some(row_object(&def.columns, &all, &w.values)?),
            None => None,
        };
        let mut waiting = false;
        for v in found {
            if (v.ver, v.node.as_str()) >= (winner.0, winner.1) {
                continue;
            }
            let at = match (&v.shard, v.node == me) {
                (Some(shard), _) => {
                    LoserAt::Shard(v.node.clone(), shard.clone(), v.rid, v.values.clone())
                }
                (None, true) => LoserAt::OwnSegment(v.rid),
                // Written there since its node sealed: the next pass.
                (None, false) => {
                    waiting = true;
                    continue;
                }
            };
            let conflict = Conflict {
                key: row_object(&def.columns, key, &v.values)?,
                loser_node: v.node.clone(),
                loser_ver: v.ver,
                loser_row: Some(row_object(&def.columns, &all, &v.values)?),
                winner_node: winner.1.to_string(),
                winner_ver: winner.0,
                winner_row: winner_row.clone(),
            };
            self.losers.push((Some(at), conflict));
        }
        // A delete (or an UPDATE that moved the key away) loses to a newer
        // version that stays. (A row this node wrote that lost is one of
        // the versions above, or another node tombstoned and recorded it.)
        if !rec.wrote && winner.2.is_some() {
            self.losers.push((
                None,
                Conflict {
                    key: row_object(&def.columns, key, &key_row(def, key, &rec.key))?,
                    loser_node: me.to_string(),
                    loser_ver: rec.ver,
                    loser_row: None,
                    winner_node: winner.1.to_string(),
                    winner_ver: winner.0,
                    winner_row,
                },
            ));
        }
        if !waiting {
            self.done.push(rec.blob.clone());
        }
        Ok(())
    }

    /// Tombstone the losers, record them, drop the settled records: in the
    /// session's write transaction.
    fn apply(&self, sess: &mut Session, def: &Arc<TableDef>, me: &str) -> Result<()> {
        let mut shards: ShardRows = Default::default();
        for (at, _) in &self.losers {
            let Some(at) = at else { continue };
            match at {
                LoserAt::OwnSegment(key) => {
                    sess.conn.execute(
                        &format!("DELETE FROM {} WHERE _key = ?1", def.segment()),
                        &[Datum::Int(*key)],
                    )?;
                }
                LoserAt::Shard(node, shard, rid, values) => {
                    let mut row = vec![Datum::Int(*rid)];
                    row.extend(values.iter().cloned());
                    shards
                        .entry((node.clone(), shard.clone()))
                        .or_default()
                        .push(row);
                }
            }
        }
        for r in remote::load_shards(sess, def, shards)? {
            sess.conn.batch(&format!(
                "DELETE FROM temp._mosaic_rids; INSERT OR IGNORE INTO temp._mosaic_rids SELECT _rid FROM temp.{};",
                crate::types::quote(&r.temp)
            ))?;
            let sender = (r.node != me).then_some(r.node.as_str());
            let src = remote::remote_shard_source(def, &r);
            remote::tombstone_rows(sess, def, &r.shard, &src, sender)?;
        }
        let now = chrono::Utc::now().timestamp_micros();
        for (_, c) in &self.losers {
            sess.conn.execute(
                "INSERT OR IGNORE INTO main._mosaic_conflicts(table_name, key, loser_node,
                     loser_version, loser_row, winner_node, winner_version, winner_row, settled_at,
                     reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'newer version')",
                &[
                    Datum::Text(def.name.clone()),
                    Datum::Text(c.key.clone()),
                    Datum::Text(c.loser_node.clone()),
                    Datum::Int(c.loser_ver),
                    c.loser_row.clone().map(Datum::Text).unwrap_or(Datum::Null),
                    Datum::Text(c.winner_node.clone()),
                    Datum::Int(c.winner_ver),
                    c.winner_row.clone().map(Datum::Text).unwrap_or(Datum::Null),
                    Datum::Int(now),
                ],
            )?;
        }
        for blob in &self.done {
            let params = [
                Datum::Text(def.name.clone()),
                Datum::Blob(blob.clone()),
                Datum::Text(self.columns.clone()),
                Datum::Text(self.live.clone()),
            ];
            sess.conn.execute(
                "DELETE FROM main._mosaic_unsettled_waits
                 WHERE table_name = ?1 AND columns = ?3 AND key = ?2
                   AND node IN (SELECT value FROM json_each(?4))",
                &params,
            )?;
            sess.conn.execute(
                "DELETE FROM main._mosaic_unsettled AS u
                 WHERE table_name = ?1 AND columns = ?3 AND key = ?2
                   AND NOT EXISTS (SELECT 1 FROM main._mosaic_unsettled_waits AS w
                       WHERE w.table_name = u.table_name AND w.columns = u.columns
                         AND w.key = u.key)",
                &params,
            )?;
        }
        Ok(())
    }
}

/// A row of `def` holding `values` in the columns `key` (the rest NULL).
fn key_row(def: &TableDef, key: &[usize], values: &[Datum]) -> Vec<Datum> {
    let mut row = vec![Datum::Null; def.columns.len()];
    for (&c, v) in key.iter().zip(values) {
        row[c] = v.clone();
    }
    row
}
