//! Advisory locks across the cluster (`pg_advisory_lock` and its family;
//! `exec::coordination` keeps a session's own counts of them).
//!
//! DESIGN: the node that arbitrates row locks (`locks`) arbitrates
//! advisory locks too, for the same reasons: every node names the same
//! arbiter, so the two sides of a partition never both grant a key, and
//! the side without the arbiter fails (58000) rather than guess. The
//! arbiter's table holds (key, mode) per session; a session asks only
//! when it takes a key in a mode for the first time and lets go only when
//! its last hold of it ends, so the arbiter never counts. A session's
//! locks go when it ends, and all of a node's when membership declares
//! the node down or restarted.
//!
//! A wait has no end of its own (as in PostgreSQL): the asker asks again
//! every `POLL`, and stops when its statement is cancelled or times out.
//! A request the asker gave up on may still be granted at the arbiter, so
//! giving up always sends a release of what was asked (harmless when
//! nothing was granted).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::locks::{arbiter_silent, Holder, LockTable, Refusal};
use crate::cluster::proto::{Request, Response};
use crate::cluster::{Cluster, SYNC_TIMEOUT};
use crate::error::{Error, Result};
use crate::types::coordination::{AdvisoryKey, LockMode};

/// How long one request to the arbiter waits before the asker asks again.
pub(crate) const POLL: Duration = Duration::from_secs(20);

/// The advisory locks this node arbitrates, when it does, with the backend
/// pid of each holding session (for `pg_locks`); and those this node's own
/// sessions hold, to tell an arbiter that starts with an empty table.
#[derive(Debug, Default)]
pub struct AdvisoryTable {
    pub(crate) locks: LockTable<AdvisoryKey>,
    pids: parking_lot::Mutex<std::collections::HashMap<Holder, i32>>,
    /// This node's sessions' locks: (session token, pid) → (key, mode)s.
    own: parking_lot::Mutex<OwnLocks>,
    /// The arbiter as of the last membership change.
    arbiter: parking_lot::Mutex<Option<String>>,
}

type OwnLocks = BTreeMap<(u64, i32), BTreeSet<(AdvisoryKey, LockMode)>>;

/// One session's claim on the cluster's advisory locks.
#[derive(Debug, Clone)]
pub struct AdvisorySession {
    pub token: u64,
    pub pid: i32,
}

/// An advisory lock held somewhere in the cluster.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HeldLock {
    pub key: AdvisoryKey,
    pub mode: LockMode,
    pub node: String,
    pub pid: i32,
}

impl AdvisoryTable {
    /// Serve a lock request; `Ok(false)`: busy (with `nowait`) or not yet
    /// granted within `wait`.
    pub async fn lock(
        &self,
        key: AdvisoryKey,
        mode: LockMode,
        holder: Holder,
        pid: i32,
        nowait: bool,
        wait: Duration,
    ) -> bool {
        self.pids.lock().insert(holder.clone(), pid);
        match self
            .locks
            .acquire(&[(key, mode)], &holder, nowait, wait)
            .await
        {
            Ok(()) => true,
            Err(Refusal::Busy(_) | Refusal::TimedOut) => false,
        }
    }

    pub fn unlock(&self, key: AdvisoryKey, mode: LockMode, holder: &Holder) {
        self.locks.release_one(&key, mode, holder);
    }

    /// A session ended: all its locks go.
    pub fn end_session(&self, holder: &Holder) {
        self.locks.release(holder);
        self.pids.lock().remove(holder);
    }

    /// A node went down or restarted: its sessions' locks go.
    pub fn release_node(&self, node: &str) {
        self.locks.release_node(node);
        self.pids.lock().retain(|h, _| h.node != node);
    }

    pub fn held(&self) -> Vec<HeldLock> {
        let pids = self.pids.lock();
        let mut out: Vec<HeldLock> = self
            .locks
            .held()
            .into_iter()
            .map(|(key, h, mode)| HeldLock {
                key,
                mode,
                pid: pids.get(&h).copied().unwrap_or(0),
                node: h.node,
            })
            .collect();
        out.sort_by(|a, b| (a.key, a.mode, &a.node, a.pid).cmp(&(b.key, b.mode, &b.node, b.pid)));
        out
    }
}

impl Cluster {
    fn holder(&self, s: &AdvisorySession) -> Holder {
        Holder {
            node: self.store.node_name.clone(),
            token: s.token,
        }
    }

    /// Take `key` in `mode` for session `s`: `Ok(false)` when `nowait` and
    /// another session holds it; otherwise wait until granted or `cancel`.
    pub fn advisory_lock(
        &self,
        s: &AdvisorySession,
        key: AdvisoryKey,
        mode: LockMode,
        nowait: bool,
        cancel: &CancellationToken,
    ) -> Result<bool> {
        let holder = self.holder(s);
        loop {
            let arbiter = self.lock_arbiter("advisory locks")?;
            let asked = async {
                match &arbiter {
                    None => Ok(self
                        .advisory
                        .lock(key, mode, holder.clone(), s.pid, nowait, POLL)
                        .await),
                    Some(a) => {
                        let req = Request::LockAdvisory {
                            key,
                            mode,
                            node: holder.node.clone(),
                            token: holder.token,
                            pid: s.pid,
                            nowait,
                        };
                        let client = self.client(a.cluster_addr);
                        match client
                            .call_all::<Request, Response>(&req, POLL + SYNC_TIMEOUT)
                            .await
                        {
                            Ok(items) => Ok(matches!(items.first(), Some(Response::Done))),
                            Err(e) => Err(arbiter_silent("advisory locks", internal(e))),
                        }
                    }
                }
            };
            let r = self.runtime.block_on(async {
                tokio::select! {
                    r = asked => Some(r),
                    _ = cancel.cancelled() => None,
                }
            });
            match r {
                Some(Ok(true)) => {
                    let mut own = self.advisory.own.lock();
                    own.entry((s.token, s.pid)).or_default().insert((key, mode));
                    return Ok(true);
                }
                Some(Ok(false)) if nowait => return Ok(false),
                Some(Ok(false)) => continue,
                Some(Err(e)) => {
                    self.advisory_unlock(s, key, mode);
                    return Err(e);
                }
                None => {
                    self.advisory_unlock(s, key, mode);
                    return Err(Error::Canceled);
                }
            }
        }
    }

    /// Session `s` lets go of `key` in `mode`; waits for the arbiter, so a
    /// lock asked for next is asked after this release.
    pub fn advisory_unlock(&self, s: &AdvisorySession, key: AdvisoryKey, mode: LockMode) {
        if let Some(held) = self.advisory.own.lock().get_mut(&(s.token, s.pid)) {
            held.remove(&(key, mode));
        }
        let holder = self.holder(s);
        // Here too, as advisory_end_session: this node's table holds it
        // when this node arbitrates (or did).
        self.advisory.unlock(key, mode, &holder);
        self.tell_arbiter(Request::UnlockAdvisory {
            key,
            mode,
            node: holder.node.clone(),
            token: holder.token,
        });
    }

    /// Session `s` ended: every advisory lock it held goes.
    pub fn advisory_end_session(&self, s: &AdvisorySession) {
        self.advisory.own.lock().remove(&(s.token, s.pid));
        let holder = self.holder(s);
        self.advisory.end_session(&holder);
        self.tell_arbiter(Request::EndAdvisorySession {
            node: holder.node,
            token: holder.token,
        });
    }

    /// Membership changed (`restarted`: a node that came up, perhaps with
    /// an empty table): when the arbiter is now another node than before,
    /// or the arbiter itself came up, tell it the locks this node's
    /// sessions hold, so that it grants them to no one else. One taken
    /// meanwhile by another session is logged: the two sessions then both
    /// believe they hold it.
    pub(crate) async fn reassert_advisory(&self, restarted: Option<&str>) {
        let Ok(arbiter) = self.lock_arbiter("advisory locks") else {
            return;
        };
        let name = arbiter
            .as_ref()
            .map_or(self.store.node_name.clone(), |m| m.name.clone());
        let changed = {
            let mut last = self.advisory.arbiter.lock();
            let changed = last.as_deref() != Some(name.as_str());
            *last = Some(name.clone());
            changed
        };
        if !changed && restarted != Some(name.as_str()) {
            return;
        }
        let own = self.advisory.own.lock().clone();
        for ((token, pid), held) in own {
            for (key, mode) in held {
                let kept = match &arbiter {
                    None => {
                        let holder = Holder {
                            node: self.store.node_name.clone(),
                            token,
                        };
                        let table = &self.advisory;
                        table
                            .lock(key, mode, holder, pid, true, Duration::ZERO)
                            .await
                    }
                    Some(a) => {
                        let req = Request::LockAdvisory {
                            key,
                            mode,
                            node: self.store.node_name.clone(),
                            token,
                            pid,
                            nowait: true,
                        };
                        let client = self.client(a.cluster_addr);
                        let r = client
                            .call_all::<Request, Response>(&req, SYNC_TIMEOUT)
                            .await;
                        matches!(r.as_deref(), Ok([Response::Done]))
                    }
                };
                if !kept {
                    tracing::warn!(arbiter = %name, ?key, "an advisory lock held here could not be kept at the new arbiter");
                }
            }
        }
    }

    /// Every advisory lock granted in the cluster, as the arbiter knows them.
    pub fn advisory_locks(&self) -> Result<Vec<HeldLock>> {
        match self.lock_arbiter("advisory locks")? {
            None => Ok(self.advisory.held()),
            Some(a) => {
                let client = self.client(a.cluster_addr);
                let items = self
                    .runtime
                    .block_on(
                        client.call_all::<Request, Response>(&Request::AdvisoryLocks, SYNC_TIMEOUT),
                    )
                    .map_err(|e| arbiter_silent("advisory locks", internal(e)))?;
                match items.into_iter().next() {
                    Some(Response::AdvisoryLocks(held)) => Ok(held),
                    _ => Err(Error::Internal("the arbiter sent no advisory locks".into())),
                }
            }
        }
    }

    /// Send `req` to the arbiter when it is a peer, and wait for its answer
    /// (a failure is logged: the arbiter lets go of this node's locks when
    /// it takes it for down).
    fn tell_arbiter(&self, req: Request) {
        let Ok(Some(a)) = self.lock_arbiter("advisory locks") else {
            return;
        };
        let client = self.client(a.cluster_addr);
        let r = self
            .runtime
            .block_on(client.call_all::<Request, Response>(&req, SYNC_TIMEOUT));
        if let Err(e) = r {
            tracing::warn!(arbiter = %a.name, error = %e, "releasing advisory locks failed");
        }
    }
}

fn internal(e: Error) -> Error {
    match e {
        Error::Internal(m) => Error::Unavailable(m),
        other => other,
    }
}
