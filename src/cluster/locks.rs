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
use std::hash::Hash;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::cluster::membership::{Member, MemberState};
use crate::cluster::proto::Request;
use crate::cluster::{Cluster, SYNC_TIMEOUT};
use crate::error::{Error, Result};
use crate::types::coordination::LockMode;

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

/// `e` of a request to the arbiter, saying that `what` could not be locked.
pub(crate) fn arbiter_silent(what: &str, e: Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(format!(
            "{what} cannot be locked: the node that arbitrates row locks and advisory locks did not answer ({m})"
        )),
        other => other,
    }
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
    /// The node that arbitrates row locks and advisory locks (`None`: this
    /// one): the first by name of this node and every member known that
    /// has not left. `what` names what cannot be locked without it.
    pub(crate) fn lock_arbiter(&self, what: &str) -> Result<Option<Member>> {
        let first = self
            .members()
            .into_iter()
            .filter(|(_, s)| *s != MemberState::Left)
            .min_by(|a, b| a.0.name.cmp(&b.0.name));
        match first {
            Some((m, MemberState::Down)) if m.name < self.store.node_name => {
                Err(Error::Unavailable(format!(
                    "{what} cannot be locked: node {}, which arbitrates row locks and advisory locks, is down",
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
        let arbiter = self.lock_arbiter("rows")?;
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
                    .lock_tables(tables, &node, g.token, nowait, LOCK_WAIT),
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
        if !grant.granted_by(&self.lock_arbiter("rows")?) {
            return Err(lost());
        }
        let held = match &grant.arbiter {
            None => self
                .row_locks
                .holds_tables(&grant.tables, &node, grant.token),
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
            None => self.row_locks.release_tables(&node, grant.token),
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
            .map_err(|e| arbiter_silent("rows", e))
    }
}

/// One lock holder somewhere in the cluster: a transaction (row locks) or
/// a session (advisory locks), named by its node and a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Holder {
    pub node: String,
    pub token: u64,
}

/// Why a lock was not granted.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal<K> {
    /// Another holder has it (asked with NOWAIT).
    Busy(K),
    /// The wait ran out.
    TimedOut,
}

/// The arbiter's side: who holds each key (a table's row lock, an advisory
/// lock), in which mode, and who waits for one, in arrival order: a lock
/// goes to the longest waiter that wants it, so a busy queue starves no
/// worker.
#[derive(Debug)]
pub struct LockTable<K> {
    state: Mutex<State<K>>,
    released: Notify,
}

impl<K> Default for LockTable<K> {
    fn default() -> Self {
        LockTable {
            state: Mutex::new(State {
                held: HashMap::new(),
                waiting: Vec::new(),
                next_ticket: 0,
            }),
            released: Notify::new(),
        }
    }
}

#[derive(Debug)]
struct State<K> {
    held: HashMap<K, Vec<(Holder, LockMode)>>,
    /// Waiting requests: arrival ticket and what they want.
    waiting: Vec<(u64, Vec<(K, LockMode)>)>,
    next_ticket: u64,
}

impl<K: Eq + Hash> State<K> {
    /// Whether `me` holds `key` in `mode` already.
    fn holds(&self, key: &K, mode: LockMode, me: &Holder) -> bool {
        self.held
            .get(key)
            .is_some_and(|hs| hs.iter().any(|(h, m)| h == me && *m == mode))
    }

    /// Whether another holder's lock on `key` excludes `mode`.
    fn blocked(&self, key: &K, mode: LockMode, me: &Holder) -> bool {
        self.held
            .get(key)
            .is_some_and(|hs| hs.iter().any(|(h, m)| h != me && m.conflicts(mode)))
    }
}

/// Takes a waiting request out of the queue however its wait ends (granted,
/// failed, or the asker gone), and wakes the others: one behind it may go.
struct Waiting<'a, K> {
    table: &'a LockTable<K>,
    ticket: u64,
}

impl<K> Drop for Waiting<'_, K> {
    fn drop(&mut self) {
        self.table
            .state
            .lock()
            .waiting
            .retain(|(t, _)| *t != self.ticket);
        self.table.released.notify_waiters();
    }
}

impl<K: Eq + Hash + Clone> LockTable<K> {
    /// Give `me` every one of `wants` (all or none), waiting up to `wait`
    /// for conflicting holders to let go and for those who asked before.
    /// Holding a key in a mode already is holding it: asking again waits
    /// for nobody.
    pub async fn acquire(
        &self,
        wants: &[(K, LockMode)],
        me: &Holder,
        nowait: bool,
        wait: Duration,
    ) -> std::result::Result<(), Refusal<K>> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut queued: Option<Waiting<'_, K>> = None;
        loop {
            // Registered before looking, so a release in between wakes us.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut st = self.state.lock();
                let busy = wants
                    .iter()
                    .find(|(k, m)| st.blocked(k, *m, me))
                    .map(|(k, _)| k.clone());
                // What this holder holds already is no one else's to wait for.
                let needed: Vec<&(K, LockMode)> =
                    wants.iter().filter(|(k, m)| !st.holds(k, *m, me)).collect();
                let mine = queued.as_ref().map_or(u64::MAX, |q| q.ticket);
                let ahead = st.waiting.iter().any(|(t, ws)| {
                    *t < mine
                        && ws
                            .iter()
                            .any(|(k, m)| needed.iter().any(|(k2, m2)| k == k2 && m.conflicts(*m2)))
                });
                match busy {
                    None if !ahead => {
                        for (k, m) in needed.into_iter().cloned().collect::<Vec<_>>() {
                            st.held.entry(k).or_default().push((me.clone(), m));
                        }
                        return Ok(());
                    }
                    _ if nowait => {
                        let k = busy.unwrap_or_else(|| wants[0].0.clone());
                        return Err(Refusal::Busy(k));
                    }
                    _ if queued.is_none() => {
                        let ticket = st.next_ticket;
                        st.next_ticket += 1;
                        st.waiting.push((ticket, wants.to_vec()));
                        queued = Some(Waiting {
                            table: self,
                            ticket,
                        });
                    }
                    _ => {}
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return Err(Refusal::TimedOut);
            }
        }
    }

    /// Whether `me` still holds every one of `keys` (in any mode).
    pub fn holds(&self, keys: &[K], me: &Holder) -> bool {
        let st = self.state.lock();
        keys.iter().all(|k| {
            st.held
                .get(k)
                .is_some_and(|hs| hs.iter().any(|(h, _)| h == me))
        })
    }

    /// `me` lets go of `key` in `mode` (nothing if it did not hold it).
    pub fn release_one(&self, key: &K, mode: LockMode, me: &Holder) {
        self.release_where(|k, h, m| k == key && h == me && m == mode);
    }

    /// The holder ended (its transaction or session): its locks go.
    pub fn release(&self, me: &Holder) {
        self.release_where(|_, h, _| h == me);
    }

    /// `node` went down or restarted: whatever it held goes.
    pub fn release_node(&self, node: &str) {
        self.release_where(|_, h, _| h.node == node);
    }

    /// Every lock held now.
    pub fn held(&self) -> Vec<(K, Holder, LockMode)> {
        let st = self.state.lock();
        st.held
            .iter()
            .flat_map(|(k, hs)| hs.iter().map(move |(h, m)| (k.clone(), h.clone(), *m)))
            .collect()
    }

    fn release_where(&self, gone: impl Fn(&K, &Holder, LockMode) -> bool) {
        let released = {
            let mut st = self.state.lock();
            let mut released = false;
            st.held.retain(|k, hs| {
                let before = hs.len();
                hs.retain(|(h, m)| !gone(k, h, *m));
                released |= hs.len() != before;
                !hs.is_empty()
            });
            released
        };
        if released {
            self.released.notify_waiters();
        }
    }
}

/// Row locks: a table's name, always exclusive (see the module's DESIGN).
pub type RowLockTable = LockTable<String>;

impl LockTable<String> {
    /// Give `tables`' row locks to transaction `token` of `node`: 55P03
    /// when one is busy and `nowait`, 40001 when the wait runs out.
    pub async fn lock_tables(
        &self,
        tables: &[String],
        node: &str,
        token: u64,
        nowait: bool,
        wait: Duration,
    ) -> Result<()> {
        let wants: Vec<(String, LockMode)> = tables
            .iter()
            .map(|t| (t.clone(), LockMode::Exclusive))
            .collect();
        let me = Holder {
            node: node.to_string(),
            token,
        };
        self.acquire(&wants, &me, nowait, wait)
            .await
            .map_err(|r| match r {
                Refusal::Busy(t) => Error::LockNotAvailable(format!(
                    "could not obtain lock on row in relation \"{t}\""
                )),
                Refusal::TimedOut => Error::SerializationFailure(format!(
                    "could not lock rows of \"{}\": other transactions held them for {} s",
                    tables.join("\", \""),
                    wait.as_secs()
                )),
            })
    }

    /// Whether transaction `token` of `node` still holds every one of `tables`.
    pub fn holds_tables(&self, tables: &[String], node: &str, token: u64) -> bool {
        self.holds(
            tables,
            &Holder {
                node: node.to_string(),
                token,
            },
        )
    }

    /// Transaction `token` of `node` ended: its row locks go.
    pub fn release_tables(&self, node: &str, token: u64) {
        self.release(&Holder {
            node: node.to_string(),
            token,
        })
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
        let locks = std::sync::Arc::new(RowLockTable::default());
        let jobs = names(&["jobs"]);
        let wait = Duration::from_secs(5);
        locks.lock_tables(&jobs, "a", 1, false, wait).await.unwrap();
        // Taking it again is fine; another transaction with NOWAIT fails.
        locks.lock_tables(&jobs, "a", 1, true, wait).await.unwrap();
        let e = locks
            .lock_tables(&jobs, "b", 1, true, wait)
            .await
            .unwrap_err();
        assert_eq!(e.sqlstate(), "55P03");
        let e = locks
            .lock_tables(&jobs, "b", 1, false, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(e.sqlstate(), "40001");
        // A waiter gets the lock once the holder ends.
        let l = locks.clone();
        let j = jobs.clone();
        let waiter = tokio::spawn(async move { l.lock_tables(&j, "b", 2, false, wait).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        locks.release_tables("a", 1);
        waiter.await.unwrap().unwrap();
        assert!(locks.holds_tables(&jobs, "b", 2));
        assert!(!locks.holds_tables(&jobs, "a", 1));
        // A node that goes down loses what it held.
        locks.release_node("b");
        locks.lock_tables(&jobs, "c", 7, true, wait).await.unwrap();
    }

    /// Waiters get the lock in the order they asked for it.
    #[tokio::test]
    async fn waiters_are_served_in_arrival_order() {
        let locks = std::sync::Arc::new(RowLockTable::default());
        let jobs = names(&["jobs"]);
        let wait = Duration::from_secs(5);
        locks.lock_tables(&jobs, "a", 0, false, wait).await.unwrap();
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for token in 1..=4u64 {
            let (l, j, o) = (locks.clone(), jobs.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                l.lock_tables(&j, "b", token, false, wait).await.unwrap();
                o.lock().push(token);
                tokio::time::sleep(Duration::from_millis(5)).await;
                l.release_tables("b", token);
            }));
            // Each asks after the one before is queued.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A newcomer with NOWAIT does not jump the queue; the holder itself
        // takes what it holds again without waiting behind the queue.
        assert!(locks.lock_tables(&jobs, "c", 9, true, wait).await.is_err());
        locks.lock_tables(&jobs, "a", 0, true, wait).await.unwrap();
        locks.release_tables("a", 0);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock(), vec![1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn tables_are_taken_all_or_none() {
        let locks = RowLockTable::default();
        let wait = Duration::from_millis(20);
        locks
            .lock_tables(&names(&["b"]), "n", 1, false, wait)
            .await
            .unwrap();
        assert!(locks
            .lock_tables(&names(&["a", "b"]), "n", 2, true, wait)
            .await
            .is_err());
        assert!(
            locks
                .lock_tables(&names(&["a"]), "n", 3, true, wait)
                .await
                .is_ok(),
            "a failed attempt must not keep the tables it could take"
        );
    }
}
