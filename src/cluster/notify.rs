//! LISTEN/NOTIFY between the sessions of this node and of every node
//! (`exec::coordination` keeps a session's channels and its transaction's
//! notifications until commit).
//!
//! DESIGN: each node knows which channels its own sessions listen on and,
//! for each peer, the channels the peer's sessions listen on (the peer
//! says so whenever that set changes, and again to a node that comes up).
//! A committed notification goes to this node's listeners at once, and to
//! each peer that listens on its channel through that peer's queue: one
//! task per peer sends the queue in order, so a session's notifications
//! arrive in commit order. A peer hears of a new channel before the LISTEN
//! that opened it returns, so a NOTIFY committed after a LISTEN reaches
//! it. The set a node announces carries a clock reading, so a late
//! announcement never replaces a newer one. Delivery is best effort
//! across a failure, as in PostgreSQL a listener's notifications are lost
//! with its connection: a peer that cannot be reached loses what was sent
//! to it meanwhile.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{mpsc, Notify};

use crate::cluster::membership::Member;
use crate::cluster::proto::{Request, Response, ShardInfo};
use crate::cluster::{Cluster, SYNC_TIMEOUT};
use crate::types::coordination::Notification;

/// One session's notifications not yet sent to its client.
#[derive(Debug, Default)]
pub struct Inbox {
    queue: Mutex<VecDeque<Notification>>,
    wake: Notify,
}

/// Notifications one session keeps for a client that does not read them;
/// beyond this the newest are dropped (and logged), so that a stalled
/// client cannot grow the node's memory without end.
const INBOX_MAX: usize = 100_000;

impl Inbox {
    fn push(&self, n: Notification) {
        {
            let mut q = self.queue.lock();
            if q.len() >= INBOX_MAX {
                tracing::warn!(channel = %n.channel, "a listening client reads no notifications; dropping one");
                return;
            }
            q.push_back(n);
        }
        self.wake.notify_one();
    }

    /// What arrived since the last call, oldest first.
    pub fn take(&self) -> Vec<Notification> {
        self.queue.lock().drain(..).collect()
    }

    /// Resolves once something arrived (at once if something did since the
    /// last wait).
    pub async fn arrived(&self) {
        self.wake.notified().await
    }
}

/// A session listening: its id and where its notifications go.
type Listener = (u64, Arc<Inbox>);

/// Who listens on what, here and on each peer.
#[derive(Debug, Default)]
pub struct Notifier {
    /// This node's listening sessions by channel.
    local: Mutex<HashMap<String, Vec<Listener>>>,
    /// Each peer's channels, with the clock reading of its announcement.
    peers: Mutex<HashMap<String, (i64, BTreeSet<String>)>>,
    /// Each peer's queue of notifications to send, in commit order.
    outbound: Mutex<HashMap<String, mpsc::UnboundedSender<Vec<Notification>>>>,
}

impl Notifier {
    /// Give `notes` to this node's sessions that listen on their channels.
    pub fn deliver(&self, notes: &[Notification]) {
        let local = self.local.lock();
        for n in notes {
            for (_, inbox) in local.get(&n.channel).into_iter().flatten() {
                inbox.push(n.clone());
            }
        }
    }

    /// A peer's announcement of its channels (the newest wins).
    pub fn peer_listens(&self, node: &str, version: i64, channels: Vec<String>) {
        let mut peers = self.peers.lock();
        let entry = peers.entry(node.to_string()).or_default();
        if version >= entry.0 {
            *entry = (version, channels.into_iter().collect());
        }
    }

    /// The channels this node's sessions listen on.
    fn channels(&self) -> Vec<String> {
        let mut c: Vec<String> = self.local.lock().keys().cloned().collect();
        c.sort();
        c
    }
}

impl Cluster {
    /// Session `session` listens on `channel` from now on; the peers know
    /// before this returns.
    pub fn listen(&self, session: u64, inbox: &Arc<Inbox>, channel: &str) {
        let new_channel = {
            let mut local = self.notifier.local.lock();
            let sessions = local.entry(channel.to_string()).or_default();
            if !sessions.iter().any(|(s, _)| *s == session) {
                sessions.push((session, inbox.clone()));
            }
            sessions.len() == 1
        };
        if new_channel {
            self.runtime.block_on(self.announcement(self.live_peers()));
        }
    }

    /// Session `session` stops listening on `channels` (all of them when
    /// `None`).
    pub fn unlisten(&self, session: u64, channels: Option<&[String]>) {
        let gone = {
            let mut local = self.notifier.local.lock();
            let before = local.len();
            local.retain(|ch, sessions| {
                if channels.is_none_or(|c| c.contains(ch)) {
                    sessions.retain(|(s, _)| *s != session);
                }
                !sessions.is_empty()
            });
            local.len() != before
        };
        if gone {
            // Not waited for: a notification sent meanwhile finds no one.
            self.runtime.spawn(self.announcement(self.live_peers()));
        }
    }

    /// Committed notifications: to this node's listeners, and to each peer
    /// that listens on their channels.
    pub fn publish(&self, notes: Vec<Notification>) {
        self.notifier.deliver(&notes);
        let peers = self.notifier.peers.lock().clone();
        for (node, (_, channels)) in peers {
            let theirs: Vec<Notification> = notes
                .iter()
                .filter(|n| channels.contains(&n.channel))
                .cloned()
                .collect();
            if !theirs.is_empty() {
                self.send_notes(&node, theirs);
            }
        }
    }

    /// Queue `notes` for `node`, starting its sender on first use.
    fn send_notes(&self, node: &str, notes: Vec<Notification>) {
        let mut outbound = self.notifier.outbound.lock();
        if let Some(tx) = outbound.get(node) {
            if tx.send(notes.clone()).is_ok() {
                return;
            }
        }
        let Some(peer) = self.live_peers().into_iter().find(|m| m.name == node) else {
            return;
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<Notification>>();
        let _ = tx.send(notes);
        outbound.insert(node.to_string(), tx);
        let client = self.client(peer.cluster_addr);
        self.runtime.spawn(async move {
            while let Some(mut notes) = rx.recv().await {
                while let Ok(more) = rx.try_recv() {
                    notes.extend(more);
                }
                let req = Request::Notify { notes };
                if let Err(e) = client
                    .call_all::<Request, Response>(&req, SYNC_TIMEOUT)
                    .await
                {
                    tracing::warn!(peer = %peer.name, error = %e, "sending notifications failed");
                }
            }
        });
    }

    /// Telling `peers` which channels this node's sessions listen on now.
    fn announcement(
        &self,
        peers: Vec<Member>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let req = Arc::new(Request::Listening {
            node: self.store.node_name.clone(),
            version: self.store.hlc.now(),
            channels: self.notifier.channels(),
        });
        let calls: Vec<_> = peers
            .into_iter()
            .map(|p| {
                let client = self.client(p.cluster_addr);
                let req = req.clone();
                async move {
                    if let Err(e) = client
                        .call_all::<Request, Response>(&req, SYNC_TIMEOUT)
                        .await
                    {
                        tracing::warn!(peer = %p.name, error = %e, "announcing channels failed");
                    }
                }
            })
            .collect();
        async move {
            futures::future::join_all(calls).await;
        }
    }

    /// Membership: `m` came up (perhaps restarted, at a new address): it
    /// hears which channels this node listens on. Or `m` went down: what
    /// it listened on is forgotten (it says again when it is back).
    pub(crate) fn notify_membership(&self, m: &Member, up: bool) {
        self.notifier.outbound.lock().remove(&m.name);
        if up {
            self.runtime.spawn(self.announcement(vec![m.clone()]));
        } else {
            self.notifier.peers.lock().remove(&m.name);
        }
    }
}

/// The channel of node events (`{"event": "up", "node": …, "seen_by": …}`).
pub const NODES_CHANNEL: &str = "mosaic_nodes";
/// The channel of shard events (`{"event": "sealed", "shard": …, …}`).
pub const SHARDS_CHANNEL: &str = "mosaic_shards";

impl Cluster {
    /// A membership event as this node saw it, for its own listeners on
    /// `mosaic_nodes` (every node sees membership, and says what it saw).
    pub(crate) fn node_event(&self, node: &str, event: &str) {
        let payload = serde_json::json!({
            "event": event,
            "node": node,
            "seen_by": self.store.node_name,
        });
        self.notifier.deliver(&[Notification {
            channel: NODES_CHANNEL.into(),
            payload: payload.to_string(),
            pid: 0,
        }]);
    }

    /// What changed in this node's shards between two readings of its
    /// holdings, on `mosaic_shards` for listeners on every node: a shard
    /// of its own appeared (`sealed`, or `compacted` when shards of the
    /// same table went at once) or went (`removed`), a copy of another
    /// node's appeared (`replicated`: a replica or an edge-cache copy) or
    /// went (`evicted`).
    pub(crate) fn shard_events(&self, before: &[ShardInfo], after: &[ShardInfo]) {
        let me = &self.store.node_name;
        let ids = |l: &[ShardInfo]| l.iter().map(|s| s.id.clone()).collect::<BTreeSet<_>>();
        let (was, is) = (ids(before), ids(after));
        let gone: Vec<&ShardInfo> = before.iter().filter(|s| !is.contains(&s.id)).collect();
        let new: Vec<&ShardInfo> = after.iter().filter(|s| !was.contains(&s.id)).collect();
        let own = |s: &ShardInfo| s.home.is_empty() || s.home == *me;
        let mut notes = Vec::new();
        for (s, appeared) in new
            .iter()
            .map(|s| (s, true))
            .chain(gone.iter().map(|s| (s, false)))
        {
            let event = match (appeared, own(s)) {
                (true, true) if gone.iter().any(|g| own(g) && g.table == s.table) => "compacted",
                (true, true) => "sealed",
                (false, true) => "removed",
                (true, false) => "replicated",
                (false, false) => "evicted",
            };
            let payload = serde_json::json!({
                "event": event,
                "shard": s.id,
                "table": s.table,
                "node": me,
                "home": if own(s) { me } else { &s.home },
                "rows": s.live_rows,
            });
            notes.push(Notification {
                channel: SHARDS_CHANNEL.into(),
                payload: payload.to_string(),
                pid: 0,
            });
        }
        if !notes.is_empty() {
            self.publish(notes);
        }
    }
}

/// How often membership is looked at for suspicion (foca says when a
/// member is up or down, not when it is suspected).
const SUSPICION_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Say on `mosaic_nodes` when a member becomes suspect, and when a suspect
/// one is alive again (`alive`) rather than declared down.
pub(crate) async fn watch_suspicion(cluster: Arc<Cluster>) {
    use crate::cluster::membership::MemberState;
    let mut suspect: BTreeSet<String> = BTreeSet::new();
    loop {
        tokio::time::sleep(SUSPICION_EVERY).await;
        let members = cluster.members();
        for (m, state) in &members {
            match (state, suspect.contains(&m.name)) {
                (MemberState::Suspect, false) => {
                    suspect.insert(m.name.clone());
                    cluster.node_event(&m.name, "suspect");
                }
                (MemberState::Alive, true) => {
                    suspect.remove(&m.name);
                    cluster.node_event(&m.name, "alive");
                }
                (MemberState::Suspect | MemberState::Alive, _) => {}
                // Down or left: its own event says so.
                (_, _) => {
                    suspect.remove(&m.name);
                }
            }
        }
        suspect.retain(|n| members.iter().any(|(m, _)| &m.name == n));
    }
}
