//! Row locks across the cluster (`SELECT … FOR UPDATE/SHARE` on a node
//! with peers; `exec::locks` says what a lock means on one node).
//!
//! DESIGN: one node arbitrates every row lock of the cluster: the first by
//! name of all nodes known, down ones included (`Cluster::lock_arbiter`).
//! Every node computes the same arbiter from the same membership, whether
//! it can reach it or not, so two sides of a partition never arbitrate
//! apart: the side without the arbiter cannot lock and says so (58000).
//! A lock covers a whole table, like the node's write lock that a locking
//! read takes locally: its holder is one transaction, named by its node and
//! a token, and a second locker waits (or, with NOWAIT, fails with 55P03).
//!
//! A holder keeps its locks until its transaction has committed and its
//! tombstones went out, so the next locker reads what it wrote. The
//! arbiter lets go of a node's locks when membership says the node went
//! down or restarted; a holder therefore asks, just before it commits,
//! whether it still holds them (`confirm`) and rolls back with 40001 if
//! not, so a lock taken over from a holder thought gone never lets two
//! transactions commit what one lock guarded. The arbiter keeps its table
//! in memory: if it restarts, every holder's confirmation fails the same
//! way.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::cluster::membership::{Member, MemberState};
use crate::cluster::proto::Request;
use crate::cluster::{Cluster, SYNC_TIMEOUT};
use crate::error::{Error, Result};

/// How long a locker waits for another transaction's row lock: as long as
/// a session waits for its own node's write lock.
pub const LOCK_WAIT: Duration = crate::store::segment::BUSY_TIMEOUT;

/// The row locks one transaction holds in the cluster.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The node that granted them (`None`: this one).
    arbiter: Option<Member>,
    token: u64,
    tables: Vec<String>,
}

/// What a holder whose locks were let go gets when it commits.
pub fn lost() -> Error {
    Error::SerializationFailure(
        "this transaction's row locks were let go (the node that arbitrates \
         them restarted or took this node for down)"
            .into(),
    )
}

impl Grant {
    /// Whether `arbiter` (as `Cluster::lock_arbiter` names it now) is the
    /// node that granted these locks.
    fn granted_by(&self, arbiter: &Option<Member>) -> bool {
        self.arbiter.as_ref().map(|m| &m.name) == arbiter.as_ref().map(|m| &m.name)
    }
}

impl Cluster {
    /// The node that arbitrates row locks (`None`: this one): the first by
    /// name of this node and every member known that has not left.
    fn lock_arbiter(&self) -> Result<Option<Member>> {
        let first = self
            .members()
            .into_iter()
            .filter(|(_, s)| *s != MemberState::Left)
            .min_by(|a, b| a.0.name.cmp(&b.0.name));
        match first {
            Some((m, MemberState::Down)) if m.name < self.store.node_name => {
                Err(Error::Unavailable(format!(
                    "rows cannot be locked: node {}, which arbitrates row locks, is down",
                    m.name
                )))
            }
            Some((m, _)) if m.name < self.store.node_name => Ok(Some(m)),
            _ => Ok(None),
        }
    }

    /// Lock `tables`' rows for the transaction that holds `grant` (a new
    /// one when `None`).
    pub fn lock_rows(
        &self,
        grant: &mut Option<Grant>,
        tables: &[String],
        nowait: bool,
    ) -> Result<()> {
        let arbiter = self.lock_arbiter()?;
        let g = grant.get_or_insert_with(|| Grant {
            arbiter: arbiter.clone(),
            token: rand::random(),
            tables: Vec::new(),
        });
        if !g.granted_by(&arbiter) {
            return Err(lost());
        }
        let node = self.store.node_name.clone();
        match &g.arbiter {
            None => self.runtime.block_on(
                self.row_locks
                    .acquire(tables, &node, g.token, nowait, LOCK_WAIT),
            )?,
            Some(a) => {
                let req = Request::LockRows {
                    tables: tables.to_vec(),
                    node,
                    token: g.token,
                    nowait,
                };
                self.ask_arbiter(a, &req, LOCK_WAIT + SYNC_TIMEOUT)?;
            }
        }
        for t in tables {
            if !g.tables.contains(t) {
                g.tables.push(t.clone());
            }
        }
        Ok(())
    }

    /// Just before the holder commits: whether its locks are still its own
    /// (40001 if not; see the module's DESIGN).
    pub fn confirm_rows(&self, grant: &Grant) -> Result<()> {
        let node = self.store.node_name.clone();
        if !grant.granted_by(&self.lock_arbiter()?) {
            return Err(lost());
        }
        let held = match &grant.arbiter {
            None => self.row_locks.holds(&grant.tables, &node, grant.token),
            Some(a) => {
                let req = Request::HoldsRows {
                    tables: grant.tables.clone(),
                    node,
                    token: grant.token,
                };
                self.ask_arbiter(a, &req, SYNC_TIMEOUT).is_ok()
            }
        };
        if held {
            Ok(())
        } else {
            Err(lost())
        }
    }

    /// The holder's transaction ended. Does not wait for the arbiter, which
    /// also lets go when it hears that this node went down.
    pub fn unlock_rows(&self, grant: Grant) {
        let node = self.store.node_name.clone();
        match grant.arbiter {
            None => self.row_locks.release(&node, grant.token),
            Some(a) => {
                let client = self.client(a.cluster_addr);
                let req = Request::UnlockRows {
                    node,
                    token: grant.token,
                };
                self.runtime.spawn(async move {
                    let r = client
                        .call_all::<Request, crate::cluster::proto::Response>(&req, SYNC_TIMEOUT)
                        .await;
                    if let Err(e) = r {
                        tracing::warn!(arbiter = %a.name, error = %e, "releasing row locks failed");
                    }
                });
            }
        }
    }

    fn ask_arbiter(&self, arbiter: &Member, req: &Request, timeout: Duration) -> Result<()> {
        self.on_peer(&arbiter.name, req, timeout)
            .map_err(|e| match e {
                Error::Unavailable(m) => Error::Unavailable(format!(
                    "rows cannot be locked: the node that arbitrates row locks did not answer ({m})"
                )),
                other => other,
            })
    }
}

/// One transaction somewhere in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    node: String,
    token: u64,
}

/// The arbiter's side: which transaction holds each table's row lock, and
/// who waits for one, in arrival order: a lock goes to the longest waiter
/// that wants it, so a busy queue starves no worker.
#[derive(Debug, Default)]
pub struct LockTable {
    state: Mutex<State>,
    released: Notify,
}

#[derive(Debug, Default)]
struct State {
    held: HashMap<String, Holder>,
    /// Waiting requests: arrival ticket and tables.
    waiting: Vec<(u64, Vec<String>)>,
    next_ticket: u64,
}

/// Takes a waiting request out of the queue however its wait ends (granted,
/// failed, or the asker gone), and wakes the others: one behind it may go.
struct Waiting<'a> {
    table: &'a LockTable,
    ticket: u64,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.table
            .state
            .lock()
            .waiting
            .retain(|(t, _)| *t != self.ticket);
        self.table.released.notify_waiters();
    }
}

impl LockTable {
    /// Give `tables` (all or none) to the transaction `token` of `node`,
    /// waiting up to `wait` for their holders to end and for those who
    /// asked before.
    pub async fn acquire(
        &self,
        tables: &[String],
        node: &str,
        token: u64,
        nowait: bool,
        wait: Duration,
    ) -> Result<()> {
        let me = Holder {
            node: node.to_string(),
            token,
        };
        let deadline = tokio::time::Instant::now() + wait;
        let mut queued: Option<Waiting<'_>> = None;
        loop {
            // Registered before looking, so a release in between wakes us.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut st = self.state.lock();
                let busy = tables
                    .iter()
                    .find(|t| st.held.get(*t).is_some_and(|h| *h != me))
                    .cloned();
                // Tables this transaction holds already are no one else's
                // to wait for.
                let needed: Vec<&String> = tables
                    .iter()
                    .filter(|t| st.held.get(*t) != Some(&me))
                    .collect();
                let mine = queued.as_ref().map_or(u64::MAX, |q| q.ticket);
                let ahead = st
                    .waiting
                    .iter()
                    .any(|(t, ts)| *t < mine && ts.iter().any(|x| needed.contains(&x)));
                match busy {
                    None if !ahead => {
                        for t in tables {
                            st.held.insert(t.clone(), me.clone());
                        }
                        return Ok(());
                    }
                    _ if nowait => {
                        let t = busy.unwrap_or_else(|| tables[0].clone());
                        return Err(Error::LockNotAvailable(format!(
                            "could not obtain lock on row in relation \"{t}\""
                        )));
                    }
                    _ if queued.is_none() => {
                        let ticket = st.next_ticket;
                        st.next_ticket += 1;
                        st.waiting.push((ticket, tables.to_vec()));
                        queued = Some(Waiting {
                            table: self,
                            ticket,
                        });
                    }
                    _ => {}
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return Err(Error::SerializationFailure(format!(
                    "could not lock rows of \"{}\": other transactions held them for {} s",
                    tables.join("\", \""),
                    wait.as_secs()
                )));
            }
        }
    }

    /// Whether the transaction still holds every one of `tables`.
    pub fn holds(&self, tables: &[String], node: &str, token: u64) -> bool {
        let st = self.state.lock();
        tables.iter().all(|t| {
            st.held
                .get(t)
                .is_some_and(|h| h.node == node && h.token == token)
        })
    }

    /// The transaction ended: its locks go.
    pub fn release(&self, node: &str, token: u64) {
        self.release_where(|h| h.node == node && h.token == token);
    }

    /// `node` went down or restarted: whatever it held goes.
    pub fn release_node(&self, node: &str) {
        self.release_where(|h| h.node == node);
    }

    fn release_where(&self, gone: impl Fn(&Holder) -> bool) {
        let released = {
            let mut st = self.state.lock();
            let before = st.held.len();
            st.held.retain(|_, h| !gone(h));
            before != st.held.len()
        };
        if released {
            self.released.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn a_second_holder_waits_fails_fast_or_times_out() {
        let locks = std::sync::Arc::new(LockTable::default());
        let jobs = names(&["jobs"]);
        let wait = Duration::from_secs(5);
        locks.acquire(&jobs, "a", 1, false, wait).await.unwrap();
        // Taking it again is fine; another transaction with NOWAIT fails.
        locks.acquire(&jobs, "a", 1, true, wait).await.unwrap();
        let e = locks.acquire(&jobs, "b", 1, true, wait).await.unwrap_err();
        assert_eq!(e.sqlstate(), "55P03");
        let e = locks
            .acquire(&jobs, "b", 1, false, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(e.sqlstate(), "40001");
        // A waiter gets the lock once the holder ends.
        let l = locks.clone();
        let j = jobs.clone();
        let waiter = tokio::spawn(async move { l.acquire(&j, "b", 2, false, wait).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        locks.release("a", 1);
        waiter.await.unwrap().unwrap();
        assert!(locks.holds(&jobs, "b", 2));
        assert!(!locks.holds(&jobs, "a", 1));
        // A node that goes down loses what it held.
        locks.release_node("b");
        locks.acquire(&jobs, "c", 7, true, wait).await.unwrap();
    }

    /// Waiters get the lock in the order they asked for it.
    #[tokio::test]
    async fn waiters_are_served_in_arrival_order() {
        let locks = std::sync::Arc::new(LockTable::default());
        let jobs = names(&["jobs"]);
        let wait = Duration::from_secs(5);
        locks.acquire(&jobs, "a", 0, false, wait).await.unwrap();
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for token in 1..=4u64 {
            let (l, j, o) = (locks.clone(), jobs.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                l.acquire(&j, "b", token, false, wait).await.unwrap();
                o.lock().push(token);
                tokio::time::sleep(Duration::from_millis(5)).await;
                l.release("b", token);
            }));
            // Each asks after the one before is queued.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A newcomer with NOWAIT does not jump the queue; the holder itself
        // takes what it holds again without waiting behind the queue.
        assert!(locks.acquire(&jobs, "c", 9, true, wait).await.is_err());
        locks.acquire(&jobs, "a", 0, true, wait).await.unwrap();
        locks.release("a", 0);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock(), vec![1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn tables_are_taken_all_or_none() {
        let locks = LockTable::default();
        let wait = Duration::from_millis(20);
        locks
            .acquire(&names(&["b"]), "n", 1, false, wait)
            .await
            .unwrap();
        assert!(locks
            .acquire(&names(&["a", "b"]), "n", 2, true, wait)
            .await
            .is_err());
        assert!(
            locks
                .acquire(&names(&["a"]), "n", 3, true, wait)
                .await
                .is_ok(),
            "a failed attempt must not keep the tables it could take"
        );
    }
}
