//! SWIM membership (foca) over UDP: who is in the cluster, who is suspect or
//! down, and small versioned broadcasts that ride on the gossip. It owns the
//! UDP side of the cluster port (the RPC listens on TCP on the same port),
//! foca, its timers and peer discovery (seeds, DNS, LAN multicast). It
//! reports through an event channel and a members snapshot, and must not
//! touch the registry, the RPC or storage.
//!
//! DESIGN
//!
//! - One task owns foca, the socket and the timers. Timers go into one
//!   `BTreeMap<(Instant, seq), Timer>` and the task `select!`s over the
//!   socket, the earliest timer, commands and discovered addresses: foca
//!   needs its timers in order, which a sleep per timer would not give.
//! - Every datagram is `HMAC-SHA256(secret, body) || body`, checked before
//!   foca sees anything (`envelope`). Datagrams stay within 1400 bytes.
//!   The MAC proves a packet comes from a holder of the secret; it does not
//!   stop replays, which SWIM's incarnation numbers mostly make harmless.
//! - A member's foca address is its *name*, so a node that restarts (newer
//!   `incarnation`, maybe new IP) replaces its old self instead of living
//!   beside it. Seeds and discovered peers are only socket addresses, and
//!   foca only accepts an announce addressed to the receiver's name, so we
//!   first ask the address who it is (`Probe`), then announce to the
//!   `Ident` that comes back.

mod broadcasts;
mod discovery;
mod driver;
mod envelope;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Discover;
use crate::error::{Error, Result};
use driver::{Command, Io, Node};
use envelope::Auth;

/// How long `leave` waits for the goodbye to be sent.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(1);

/// A member's identity (foca's `Identity`).
///
/// `name` is what foca keys members by: two identities with the same name
/// are the same node, and the higher `incarnation` wins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// The `--node-name`, stable across restarts.
    pub name: String,
    /// UDP gossip and TCP RPC (same port).
    pub cluster_addr: SocketAddr,
    /// Where clients connect with the PostgreSQL protocol.
    pub pg_addr: SocketAddr,
    /// Wall-clock milliseconds at start (bumped by one on each automatic
    /// rejoin), so a restarted node wins over its old self. A clock set
    /// back across a restart would lose that race until the old identity is
    /// forgotten.
    pub incarnation: u64,
}

impl foca::Identity for Member {
    type Addr = String;

    /// Declared down while alive (a long pause, a partition): come back
    /// as the next incarnation.
    fn renew(&self) -> Option<Self> {
        Some(Member {
            incarnation: self.incarnation.checked_add(1)?,
            ..self.clone()
        })
    }

    fn addr(&self) -> String {
        self.name.clone()
    }

    /// The higher incarnation wins; addresses break a tie (two processes
    /// started with one name in the same millisecond) so every node picks
    /// the same one.
    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        (self.incarnation, self.cluster_addr, self.pg_addr)
            > (
                adversary.incarnation,
                adversary.cluster_addr,
                adversary.pg_addr,
            )
    }
}

/// What this node believes of another member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberState {
    Alive,
    /// Missed a probe; declared down unless it answers soon.
    Suspect,
    Down,
    /// Said goodbye (`Membership::leave`) before going.
    Left,
}

impl MemberState {
    /// "alive", "suspect", "down" or "left".
    pub fn as_str(&self) -> &'static str {
        match self {
            MemberState::Alive => "alive",
            MemberState::Suspect => "suspect",
            MemberState::Down => "down",
            MemberState::Left => "left",
        }
    }
}

/// A change in the cluster, in the order this node learnt it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A member became alive. Also sent when a live member restarted (same
    /// name, higher incarnation, possibly new addresses).
    Up(Member),
    /// A member was declared down or left.
    Down(Member),
    /// A custom broadcast from `origin` (node name), delivered once per new
    /// (origin, topic, version). Never sent for this node's own broadcasts.
    Message {
        origin: String,
        topic: String,
        version: u64,
        payload: Vec<u8>,
    },
}

/// Everything `Membership::start` needs.
pub struct MembershipOptions {
    /// Already bound by the caller (same port as the node's RPC listener).
    pub socket: UdpSocket,
    /// This node.
    pub me: Member,
    /// Cluster secret: every packet carries an HMAC-SHA256 keyed by it.
    pub secret: Vec<u8>,
    /// "host:port", resolved with `tokio::net::lookup_host` on each try.
    pub seeds: Vec<String>,
    pub discover: Option<Discover>,
}

/// What the gossip task shares with the handle.
struct Shared {
    me: Mutex<Member>,
    members: Mutex<Vec<(Member, MemberState)>>,
    /// Alive or suspect members, besides us.
    active: AtomicUsize,
    rejected: AtomicU64,
}

/// A running membership: a handle on the gossip task. Dropping the last
/// handle stops the task without saying goodbye (as a crash would).
pub struct Membership {
    shared: Arc<Shared>,
    commands_tx: UnboundedSender<Command>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Membership {
    /// Starts the gossip task (and discovery); events go to `events`.
    ///
    /// Fails outside a tokio runtime or with an empty secret. A LAN
    /// discovery socket that cannot be opened is logged, not an error.
    pub fn start(
        opts: MembershipOptions,
        events: UnboundedSender<Event>,
    ) -> Result<Arc<Membership>> {
        // Spawning and `UdpSocket::from_std` need a runtime; say so rather than panic.
        let runtime = tokio::runtime::Handle::try_current().map_err(Error::internal)?;
        let MembershipOptions {
            socket,
            me,
            secret,
            seeds,
            discover,
        } = opts;
        let auth = Auth::new(&secret)?;
        if me.cluster_addr.ip().is_unspecified() {
            tracing::warn!(addr = %me.cluster_addr, "cluster address is unspecified; peers cannot reach this node");
        }
        let shared = Arc::new(Shared {
            me: Mutex::new(me.clone()),
            members: Mutex::new(Vec::new()),
            active: AtomicUsize::new(0),
            rejected: AtomicU64::new(0),
        });
        let node = Node::new(me.clone(), auth, shared.clone(), events)?;
        let (dns, lan) = match discover {
            Some(Discover::Dns { name, port }) => (Some(format!("{name}:{port}")), None),
            Some(Discover::Lan) => match discovery::lan_socket(me.cluster_addr) {
                Ok(lan) => (None, Some(lan)),
                Err(e) => {
                    tracing::warn!(error = %e, "LAN discovery unavailable (multicast); continuing without it");
                    (None, None)
                }
            },
            None => (None, None),
        };
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (found_tx, found_rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        if !seeds.is_empty() || dns.is_some() {
            let resolver = discovery::resolve_peers(seeds, dns, shared.clone(), found_tx);
            tasks.push(runtime.spawn(resolver));
        }
        let io = Io { socket, lan };
        tasks.push(runtime.spawn(driver::run(node, io, commands_rx, found_rx)));
        tracing::info!(node = %me.name, addr = %me.cluster_addr, "gossip started");
        Ok(Arc::new(Membership {
            shared,
            commands_tx,
            tasks: Mutex::new(tasks),
        }))
    }

    /// This node's current identity (its incarnation grows on a rejoin).
    pub fn me(&self) -> Member {
        self.shared.me.lock().clone()
    }

    /// Every member this node knows besides itself, with its state; down
    /// and left members stay listed while SWIM remembers them (a day).
    pub fn members(&self) -> Vec<(Member, MemberState)> {
        self.shared.members.lock().clone()
    }

    /// Disseminates a small payload to every member through foca's custom
    /// broadcasts; they get `Event::Message` once. A newer `version` for the
    /// same (my name, topic) replaces an older one still queued; a version
    /// not above the last one sent for that topic is dropped. Versions must
    /// keep growing across restarts of this node (derive them from
    /// `me().incarnation` or a clock), since peers remember the newest.
    ///
    /// Delivery is best effort, like all gossip: each node passes a message
    /// on a few times, so a node that joins after that never gets it.
    /// Re-broadcast what newcomers need (on `Event::Up`, say) or fetch it by
    /// RPC.
    ///
    /// A payload up to 1000 bytes fits when topic and node name stay under
    /// ~100 bytes together; a larger one is dropped with a warning.
    pub fn broadcast(&self, topic: &str, version: u64, payload: Vec<u8>) {
        let command = Command::Broadcast {
            topic: topic.to_string(),
            version,
            payload,
        };
        if self.commands_tx.send(command).is_err() {
            tracing::debug!(topic, "broadcast after the gossip task stopped");
        }
    }

    /// Datagrams dropped because their MAC was missing or wrong, or because
    /// they could not be decoded.
    pub fn rejected_packets(&self) -> u64 {
        self.shared.rejected.load(Ordering::Relaxed)
    }

    /// Leaves the cluster gracefully (best effort, bounded by ~1 s), then
    /// stops the task.
    pub async fn leave(&self) {
        let (done_tx, done_rx) = oneshot::channel();
        if self.commands_tx.send(Command::Leave(done_tx)).is_ok() {
            let _ = tokio::time::timeout(LEAVE_TIMEOUT, done_rx).await;
        }
        self.stop();
    }

    fn stop(&self) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.stop();
    }
}
