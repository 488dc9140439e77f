//! Unsealed rows that outlive their node: every node copies the changes to
//! its open segments to one other node, its buddy, before the client hears
//! of them (`copy_unsealed`, after every commit that wrote, and every
//! 200 ms for what changed otherwise: seals, settling, TRUNCATE from a
//! peer), and the buddy keeps them in `copies.db` (`store::copies`). While
//! the node is down, statements read its unsealed rows from that copy
//! (`placement`, `Reads::open_copies`).
//!
//! The buddy is the first live node after this one in name order. A copy
//! has an epoch: a node sends its whole open segment to a new buddy (or
//! again, after a push was refused or failed) under a new epoch, then
//! announces (buddy, epoch) in its holdings to every live peer; each later
//! push carries the changes since the one before, numbered, and is applied
//! in order or refused. A reader asks the buddy for the epoch the node
//! announced and the buddy serves only that copy. While no buddy can be
//! reached the node announces none: its unsealed rows are then missing
//! while it is down (58000, as without copies), never read stale.
//!
//! A seal moves rows into a shard without marking them (`store::changes`),
//! so the copy keeps them until every live peer has been told of the
//! shard; only then does a push drop them (`trim_to`), and the shard is
//! sent to no other node before that (`Changes::held_back`). So a reader
//! that counts on the copy finds each row in the copy or in a shard it
//! knows of, never in both.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::cluster::membership::MemberState;
use crate::cluster::proto::{Request, Response};
use crate::cluster::{Cluster, SYNC_TIMEOUT, TOPIC_HOLDINGS};
use crate::error::{Error, Result};
use crate::store::changes::{read_rows, Marked, Sealed};
use crate::store::Conn;
use crate::types::unsealed::{copy_columns, Buddy, TableCopy, UnsealedPush};
use crate::types::Datum;

/// How often changes not followed by a commit's copy are copied.
const COPY_EVERY: Duration = Duration::from_millis(200);
/// After a failed copy, how long before the whole open segment is sent again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long a buddy may take to apply a push of changes (a commit waits
/// for it), and a whole copy.
const PUSH_TIMEOUT: Duration = Duration::from_secs(2);
const WHOLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What this node has copied where. One copy runs at a time: a commit
/// whose changes another copy took waits for it, and finds nothing left.
#[derive(Default)]
pub(super) struct Copier {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    conn: Option<Conn>,
    /// Where the copy is, complete up to push `seq`.
    buddy: Option<Buddy>,
    seq: u64,
    /// Each table as the copy has it: its oid and columns.
    sent: Sent,
    /// segments.db's schema version at the last copy.
    schema: i64,
    failed: Option<Instant>,
}

/// Each table as a copy has it, by name: its oid and columns.
type Sent = HashMap<String, (u32, Vec<(String, String)>)>;

impl Cluster {
    /// Where this node's unsealed rows are copied now.
    pub fn buddy(&self) -> Option<Buddy> {
        self.mine.lock().buddy.clone()
    }

    /// Copy what changed in this node's open segments to its buddy, and
    /// return once the buddy has it (or the copy failed: then the node
    /// announces that it has no copy, and says so in the log). Blocking.
    pub fn copy_unsealed(self: &Arc<Self>) {
        if !self.store.changes.is_on() {
            return;
        }
        let mut st = self.copier.state.lock();
        if let Err(e) = self.copy(&mut st) {
            tracing::warn!(error = %e, "copying unsealed rows to a buddy failed; they cannot be read while this node is down until a copy succeeds");
            st.failed = Some(Instant::now());
            st.sent.clear();
            self.store.changes.release_taken(true);
            if st.buddy.take().is_some() {
                self.announce_buddy(None);
            }
        }
    }

    /// The node this node's unsealed rows go to: the first live one after
    /// it in name order.
    fn choose_buddy(&self) -> Option<String> {
        let me = &self.store.node_name;
        let mut live: Vec<String> = self
            .members()
            .into_iter()
            .filter(|(_, s)| matches!(s, MemberState::Alive))
            .map(|(m, _)| m.name)
            .collect();
        live.sort();
        live.iter()
            .find(|n| *n > me)
            .or_else(|| live.first())
            .cloned()
    }

    fn copy(self: &Arc<Self>, st: &mut State) -> Result<()> {
        let marked = self.store.changes.take();
        let Some(want) = self.choose_buddy() else {
            // Nobody to copy to: no copy, nothing held back for one.
            self.store.changes.take_sealed();
            self.store.changes.release_taken(true);
            if st.buddy.take().is_some() {
                self.announce_buddy(None);
            }
            return Ok(());
        };
        if st.conn.is_none() {
            st.conn = Some(self.store.connect()?);
        }
        let current = st.buddy.as_ref().is_some_and(|b| b.node == want);
        if !current || marked.overflow {
            if st.failed.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
                return Ok(());
            }
            return self.copy_whole(st, &want);
        }
        if marked.keys.is_empty() && !self.store.changes.has_seals() {
            // Nothing marked: only a schema change (a table dropped or
            // rebuilt) could need copying.
            let conn = st
                .conn
                .as_ref()
                .ok_or_else(|| Error::Internal("no copier connection".into()))?;
            if schema_version(conn)? == st.schema {
                return Ok(());
            }
        }
        let (push, seals) = self.changes_since(st, marked)?;
        let Some(mut push) = push else {
            return Ok(());
        };
        if !seals.is_empty() {
            // Every live peer hears of the new shards before the copy
            // drops their rows.
            self.refresh_holdings()?;
            self.announce_holdings();
        }
        push.seq = st.seq + 1;
        match self.push_to(&want, &push)? {
            true => {
                st.seq += 1;
                self.store.changes.release(seals.iter().map(|s| &s.id));
                Ok(())
            }
            false => self.copy_whole(st, &want),
        }
    }

    /// Send `want` the whole open segment under a new epoch, then announce it.
    fn copy_whole(self: &Arc<Self>, st: &mut State, want: &str) -> Result<()> {
        let conn = st
            .conn
            .as_ref()
            .ok_or_else(|| Error::Internal("no copier connection".into()))?;
        // The seals taken: the whole copy is read after them, without
        // their rows.
        let (_, schema) = begin_reading(&self.store, conn)?;
        let r = (|| -> Result<(Vec<TableCopy>, Sent)> {
            let mut tables = Vec::new();
            let mut sent = HashMap::new();
            for def in self.store.catalog.tables() {
                if def.is_temp() {
                    continue;
                }
                let columns = copy_columns(&def);
                let (rows, _) = read_rows(conn, &def.name, &columns, None)?;
                sent.insert(def.name.clone(), (def.oid, columns.clone()));
                if !rows.is_empty() {
                    tables.push(TableCopy {
                        table: def.name.clone(),
                        columns,
                        whole: true,
                        rows,
                        ..Default::default()
                    });
                }
            }
            Ok((tables, sent))
        })();
        let _ = conn.batch("COMMIT");
        let (tables, sent) = r?;
        // The shards sealed so far are announced with the new copy, which
        // does not hold their rows.
        self.refresh_holdings()?;
        let epoch = self.store.hlc.now() as u64;
        let push = UnsealedPush {
            origin: self.store.node_name.clone(),
            epoch,
            seq: 1,
            whole: true,
            tables,
            dropped: vec![],
        };
        if !self.push_to(want, &push)? {
            return Err(Error::Internal(format!(
                "node {want} refused a whole copy of the unsealed rows"
            )));
        }
        let before = st.buddy.replace(Buddy {
            node: want.to_string(),
            epoch,
        });
        st.seq = 1;
        st.sent = sent;
        st.schema = schema;
        st.failed = None;
        self.announce_buddy(st.buddy.clone());
        // The new copy holds no row of a shard sealed before it was read,
        // and every live peer was just told of those shards.
        self.store.changes.release_taken(false);
        // The old buddy forgets its copy (best effort: one that is down
        // keeps a copy of an epoch nobody reads).
        if let Some(old) = before.filter(|b| b.node != want) {
            let req = Request::DropUnsealedCopy {
                origin: self.store.node_name.clone(),
            };
            let c = self.clone();
            self.runtime.spawn(async move {
                let _ =
                    tokio::task::spawn_blocking(move || c.on_peer(&old.node, &req, SYNC_TIMEOUT))
                        .await;
            });
        }
        Ok(())
    }

    /// The push carrying what changed since the last copy (`None` when
    /// nothing did), with the seals whose rows it drops.
    fn changes_since(
        &self,
        st: &mut State,
        marked: Marked,
    ) -> Result<(Option<UnsealedPush>, Vec<Sealed>)> {
        let conn = st
            .conn
            .as_ref()
            .ok_or_else(|| Error::Internal("no copier connection".into()))?;
        let (seals, schema) = begin_reading(&self.store, conn)?;
        let r = (|| -> Result<UnsealedPush> {
            let mut check: Vec<String> = marked.keys.keys().cloned().collect();
            check.extend(seals.iter().map(|s| s.table.clone()));
            if schema != st.schema {
                // A table dropped or rebuilt, or one whose rows came back
                // (`store::dropped`) unmarked: the whole copy of it.
                check.extend(st.sent.keys().cloned());
                check.extend(self.store.catalog.tables().iter().map(|t| t.name.clone()));
            }
            check.sort();
            check.dedup();
            let mut push = UnsealedPush {
                origin: self.store.node_name.clone(),
                epoch: st.buddy.as_ref().map_or(0, |b| b.epoch),
                ..Default::default()
            };
            for table in check {
                let def = self.store.catalog.table(&table).filter(|d| !d.is_temp());
                let Some(def) = def else {
                    if st.sent.remove(&table).is_some() {
                        push.dropped.push(table);
                    }
                    continue;
                };
                let columns = copy_columns(&def);
                let same = st.sent.get(&table) == Some(&(def.oid, columns.clone()));
                let trim_to = seals
                    .iter()
                    .filter(|s| s.table == table)
                    .map(|s| s.last_key)
                    .max();
                let keys = marked.keys.get(&table).filter(|_| same);
                let (rows, gone) = match keys {
                    Some(keys) => read_rows(conn, &table, &columns, Some(keys))?,
                    None if same => (vec![], vec![]),
                    None => read_rows(conn, &table, &columns, None)?,
                };
                if rows.is_empty() && trim_to.is_none() && !st.sent.contains_key(&table) {
                    // Nothing of it here to copy: the buddy need not
                    // know the table.
                    continue;
                }
                st.sent.insert(table.clone(), (def.oid, columns.clone()));
                if same && rows.is_empty() && gone.is_empty() && trim_to.is_none() {
                    continue;
                }
                push.tables.push(TableCopy {
                    table,
                    columns,
                    whole: !same,
                    rows,
                    gone,
                    trim_to,
                });
            }
            Ok(push)
        })();
        let _ = conn.batch("COMMIT");
        let push = r?;
        st.schema = schema;
        let empty = push.tables.is_empty() && push.dropped.is_empty();
        Ok(((!empty).then_some(push), seals))
    }

    /// Send one push to `node`: true once applied, false when refused.
    fn push_to(&self, node: &str, push: &UnsealedPush) -> Result<bool> {
        let timeout = if push.whole {
            WHOLE_TIMEOUT
        } else {
            PUSH_TIMEOUT
        };
        let req = Request::CopyUnsealed(push.clone());
        let items = self.call_peer(node, &req, timeout)?;
        Ok(!items.iter().any(|r| matches!(r, Response::Refused)))
    }

    /// Say where this node's unsealed rows are copied, to every live peer
    /// now (and by gossip to the others).
    fn announce_buddy(&self, buddy: Option<Buddy>) {
        {
            let mut mine = self.mine.lock();
            mine.buddy = buddy;
            mine.version = self.store.hlc.now() as u64;
        }
        self.announce_holdings();
    }

    /// Push this node's holdings to every live peer and wait for them (and
    /// gossip them to the others).
    fn announce_holdings(&self) {
        let holdings = self.mine.lock().clone();
        let version = holdings.version;
        self.push_holdings(holdings, "holdings");
        self.membership.broadcast(TOPIC_HOLDINGS, version, vec![]);
    }
}

/// Take the seals recorded so far and begin a read transaction on `conn`
/// that sees exactly those (no seal runs meanwhile); with segments.db's
/// schema version.
fn begin_reading(store: &crate::store::Store, conn: &Conn) -> Result<(Vec<Sealed>, i64)> {
    let _no_seal = store.seal_lock.lock();
    let seals = store.changes.take_sealed();
    conn.batch("BEGIN")?;
    match schema_version(conn) {
        Ok(v) => Ok((seals, v)),
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            // The seals go back for the next try.
            for s in seals {
                store.changes.sealed(&s.table, s.last_key, &s.id);
            }
            Err(e)
        }
    }
}

/// segments.db's schema version (it moves with every CREATE, ALTER, DROP).
fn schema_version(conn: &Conn) -> Result<i64> {
    let rows = conn.rows("PRAGMA main.schema_version", &[])?;
    Ok(match rows.first().and_then(|r| r.first()) {
        Some(Datum::Int(v)) => *v,
        _ => 0,
    })
}

/// Copy every `COPY_EVERY` what changed without a commit's copy.
pub(super) async fn keep_copying(cluster: Arc<Cluster>) {
    loop {
        tokio::time::sleep(COPY_EVERY).await;
        let c = cluster.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || c.copy_unsealed()).await {
            tracing::debug!(error = %e, "copy task failed");
        }
    }
}
