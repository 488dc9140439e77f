//! A session's side of LISTEN/NOTIFY and advisory locks: what it listens
//! on, the notifications its open transaction will send, and how many
//! times it holds each advisory lock (the cluster keeps who holds what:
//! `cluster::notify`, `cluster::advisory`).
//!
//! As in PostgreSQL, LISTEN, UNLISTEN and NOTIFY take effect when the
//! transaction commits and not at all when it rolls back (a savepoint
//! rolled back to takes back what came after it); notifications identical
//! in channel and payload within one transaction are sent once. An
//! advisory lock is held as many times as it was taken: a session-level
//! hold until as many unlocks (or `pg_advisory_unlock_all`, or the end of
//! the session), a transaction-level hold until the transaction ends. The
//! cluster hears only of a key's first hold in a mode and of its last
//! release.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::cluster::advisory::AdvisorySession;
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::exec::session::Shared;
use crate::exec::Outcome;
use crate::store::udf::coordination::Coordination;
use crate::types::coordination::{AdvisoryKey, LockMode, Notification};

/// LISTEN, UNLISTEN and NOTIFY as statements.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    Listen(String),
    /// `None`: `UNLISTEN *`.
    Unlisten(Option<String>),
    Notify {
        channel: String,
        payload: String,
    },
}

impl Signal {
    pub fn of(stmt: &sqlparser::ast::Statement) -> Option<Signal> {
        use sqlparser::ast::Statement as S;
        let name = crate::sql::ident_name;
        Some(match stmt {
            S::LISTEN { channel } => Signal::Listen(name(channel)),
            S::UNLISTEN { channel } if channel.quote_style.is_none() && channel.value == "*" => {
                Signal::Unlisten(None)
            }
            S::UNLISTEN { channel } => Signal::Unlisten(Some(name(channel))),
            S::NOTIFY { channel, payload } => Signal::Notify {
                channel: name(channel),
                payload: payload.clone().unwrap_or_default(),
            },
            _ => return None,
        })
    }
}

/// A session's listening, pending notifications and advisory holds.
pub struct Coordinator {
    cluster: Option<Arc<Cluster>>,
    hlc: Arc<crate::store::clock::Hlc>,
    me: AdvisorySession,
    shared: Arc<Shared>,
    state: Mutex<State>,
}

/// What a savepoint takes back: (name, listens, notes, transaction-level
/// holds per key).
type Mark = (String, usize, usize, BTreeMap<(AdvisoryKey, LockMode), u32>);

#[derive(Debug, Default)]
struct State {
    /// Holds per (key, mode): (session-level, transaction-level) counts.
    holds: BTreeMap<(AdvisoryKey, LockMode), (u32, u32)>,
    /// The channels listened on, as committed, in the order first listened.
    listening: Vec<String>,
    /// The open transaction's LISTEN (true) and UNLISTEN (false; `None`:
    /// every channel), in order.
    listens: Vec<(Option<String>, bool)>,
    /// The open transaction's notifications, in order.
    notes: Vec<Notification>,
    /// At each user savepoint: its name, the lengths of `listens` and
    /// `notes`, and the transaction-level advisory holds.
    marks: Vec<Mark>,
    /// The open transaction's id, once asked for.
    xid: Option<i64>,
}

impl Coordinator {
    pub fn new(
        cluster: Option<Arc<Cluster>>,
        hlc: Arc<crate::store::clock::Hlc>,
        pid: i32,
        shared: Arc<Shared>,
    ) -> Arc<Coordinator> {
        Arc::new(Coordinator {
            cluster,
            hlc,
            me: AdvisorySession {
                token: rand::random(),
                pid,
            },
            shared,
            state: Mutex::new(State::default()),
        })
    }

    fn cluster(&self, what: &str) -> Result<&Arc<Cluster>> {
        self.cluster
            .as_ref()
            .ok_or_else(|| Error::Unsupported(format!("{what} in a query run for another node")))
    }

    /// LISTEN, UNLISTEN or NOTIFY in the open transaction.
    pub fn signal(&self, s: &Signal) -> Result<Outcome> {
        let mut st = self.state.lock();
        let tag = match s {
            Signal::Listen(ch) => {
                st.listens.push((Some(ch.clone()), true));
                "LISTEN"
            }
            Signal::Unlisten(ch) => {
                st.listens.push((ch.clone(), false));
                "UNLISTEN"
            }
            Signal::Notify { channel, payload } => {
                st.notes
                    .push(Notification::new(channel, payload, self.me.pid)?);
                "NOTIFY"
            }
        };
        Ok(Outcome::Command(tag.into()))
    }

    /// SAVEPOINT, RELEASE or ROLLBACK TO `name` succeeded. Rolling back to
    /// a savepoint takes back the LISTENs, notifications and
    /// transaction-level advisory locks that came after it.
    pub fn savepoint(&self, verb: &str, name: &str) {
        let released = {
            let mut st = self.state.lock();
            let at = st.marks.iter().rposition(|m| m.0 == name);
            match (verb, at) {
                ("SAVEPOINT", _) => {
                    let xact = st.holds.iter().map(|(k, c)| (*k, c.1)).collect();
                    let mark = (name.to_string(), st.listens.len(), st.notes.len(), xact);
                    st.marks.push(mark);
                    Vec::new()
                }
                ("RELEASE", Some(i)) => {
                    st.marks.truncate(i);
                    Vec::new()
                }
                ("ROLLBACK TO", Some(i)) => {
                    let (_, listens, notes, xact) = st.marks[i].clone();
                    st.marks.truncate(i + 1);
                    st.listens.truncate(listens);
                    st.notes.truncate(notes);
                    let mut released = Vec::new();
                    st.holds.retain(|k, (session, x)| {
                        *x = xact.get(k).copied().unwrap_or(0).min(*x);
                        let keep = *session > 0 || *x > 0;
                        if !keep {
                            released.push(*k);
                        }
                        keep
                    });
                    released
                }
                _ => Vec::new(),
            }
        };
        self.release(&released);
    }

    /// The transaction ended: committed, its LISTENs take effect and its
    /// notifications go out; either way its advisory holds end.
    pub fn end_transaction(&self, committed: bool) {
        let (released, listens, notes) = {
            let mut st = self.state.lock();
            let mut released = Vec::new();
            st.holds.retain(|k, (session, xact)| {
                *xact = 0;
                if *session == 0 {
                    released.push(*k);
                }
                *session > 0
            });
            st.marks.clear();
            st.xid = None;
            let listens = std::mem::take(&mut st.listens);
            let notes = std::mem::take(&mut st.notes);
            (released, listens, notes)
        };
        self.release(&released);
        if committed && (!listens.is_empty() || !notes.is_empty()) {
            self.apply_listens(listens);
            self.publish(notes);
        }
    }

    fn apply_listens(&self, listens: Vec<(Option<String>, bool)>) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let (added, removed) = {
            let mut st = self.state.lock();
            let before = st.listening.clone();
            for (ch, listen) in listens {
                match (ch, listen) {
                    (Some(ch), true) if !st.listening.contains(&ch) => st.listening.push(ch),
                    (Some(ch), false) => st.listening.retain(|c| *c != ch),
                    (None, _) => st.listening.clear(),
                    _ => {}
                }
            }
            let now = &st.listening;
            let added: Vec<String> = now
                .iter()
                .filter(|c| !before.contains(c))
                .cloned()
                .collect();
            let removed: Vec<String> = before
                .iter()
                .filter(|c| !now.contains(c))
                .cloned()
                .collect();
            (added, removed)
        };
        if !removed.is_empty() {
            cluster.unlisten(self.me.token, Some(&removed));
        }
        for ch in added {
            cluster.listen(self.me.token, &self.shared.inbox, &ch);
        }
    }

    fn publish(&self, notes: Vec<Notification>) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let mut once: Vec<Notification> = Vec::with_capacity(notes.len());
        for n in notes {
            if !once.contains(&n) {
                once.push(n);
            }
        }
        if !once.is_empty() {
            cluster.publish(once);
        }
    }

    /// Let the cluster know the session no longer holds `keys`.
    fn release(&self, keys: &[(AdvisoryKey, LockMode)]) {
        if let Some(c) = &self.cluster {
            for (key, mode) in keys {
                c.advisory_unlock(&self.me, *key, *mode);
            }
        }
    }

    /// DISCARD ALL (never inside a block): the session listens to nothing
    /// and holds no session-level advisory lock.
    pub fn discard(&self) {
        self.apply_listens(vec![(None, false)]);
        let _ = self.advisory_unlock_all();
    }

    /// The session ended: it listens no more and holds nothing.
    pub fn end_session(&self) {
        let (listened, held) = {
            let st = self.state.lock();
            (!st.listening.is_empty(), !st.holds.is_empty())
        };
        if let Some(c) = &self.cluster {
            if listened {
                c.unlisten(self.me.token, None);
            }
            if held {
                c.advisory_end_session(&self.me);
            }
        }
    }
}

impl Coordination for Coordinator {
    fn transaction_id(&self) -> i64 {
        let hlc = self.hlc.clone();
        *self.state.lock().xid.get_or_insert_with(|| hlc.now())
    }

    fn advisory_lock(
        &self,
        key: AdvisoryKey,
        mode: LockMode,
        xact: bool,
        try_lock: bool,
    ) -> Result<bool> {
        let held = self.state.lock().holds.contains_key(&(key, mode));
        if !held {
            let cluster = self.cluster("advisory locks")?;
            let cancel = self.shared.cancel_token();
            if !cluster.advisory_lock(&self.me, key, mode, try_lock, &cancel)? {
                return Ok(false);
            }
        }
        let mut st = self.state.lock();
        let counts = st.holds.entry((key, mode)).or_default();
        match xact {
            true => counts.1 += 1,
            false => counts.0 += 1,
        }
        Ok(true)
    }

    fn advisory_unlock(&self, key: AdvisoryKey, mode: LockMode) -> Result<bool> {
        let last = {
            let mut st = self.state.lock();
            let Some(counts) = st.holds.get_mut(&(key, mode)).filter(|c| c.0 > 0) else {
                drop(st);
                self.shared
                    .warn(format!("you don't own a lock of type {}", mode.pg_name()));
                return Ok(false);
            };
            counts.0 -= 1;
            let last = *counts == (0, 0);
            if last {
                st.holds.remove(&(key, mode));
            }
            last
        };
        if last {
            self.release(&[(key, mode)]);
        }
        Ok(true)
    }

    fn advisory_unlock_all(&self) -> Result<()> {
        let released = {
            let mut st = self.state.lock();
            let mut released = Vec::new();
            st.holds.retain(|k, (session, xact)| {
                *session = 0;
                if *xact == 0 {
                    released.push(*k);
                }
                *xact > 0
            });
            released
        };
        self.release(&released);
        Ok(())
    }

    fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        let n = Notification::new(channel, payload, self.me.pid)?;
        self.state.lock().notes.push(n);
        Ok(())
    }

    fn listening_channels(&self) -> Vec<String> {
        self.state.lock().listening.clone()
    }

    fn sleep(&self, seconds: f64) -> Result<()> {
        if seconds.is_nan() || seconds <= 0.0 {
            return Ok(());
        }
        let cancel = self.shared.cancel_token();
        let _waiting = self.shared.waiting(("Timeout", "PgSleep"));
        let until = Instant::now() + Duration::from_secs_f64(seconds.min(1e9));
        loop {
            if cancel.is_cancelled() {
                return Err(Error::Canceled);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(Duration::from_millis(10)));
        }
    }
}
