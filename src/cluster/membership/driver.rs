//! The gossip task. `Node` is foca plus the bookkeeping around it (timers,
//! envelope, events, the shared snapshot) and never touches a socket: each
//! input returns datagrams to send through `take_outbox`. `run` owns the
//! sockets and feeds a `Node` from one `select!`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{SocketAddr, SocketAddrV4};
use std::num::{NonZeroU32, NonZeroU8, NonZeroUsize};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use foca::{
    AccumulatingRuntime, Config, Foca, OwnedNotification, PeriodicParams, PostcardCodec, State,
    Timer,
};
use rand10::rngs::{StdRng, SysRng};
use rand10::SeedableRng;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tokio::time::{sleep, sleep_until, Instant};

use super::broadcasts::{self, Broadcasts};
use super::discovery::{LAN_GROUP, LAN_PORT};
use super::envelope::{Auth, Kind, Packet, MAX_DATAGRAM, MAX_GOSSIP_PACKET};
use super::{Event, Member, MemberState, Shared};
use crate::error::{Error, Result};

type Gossip = Foca<Member, PostcardCodec, StdRng, Broadcasts>;

/// What the `Membership` handle asks of the task.
pub(super) enum Command {
    Broadcast {
        topic: String,
        version: u64,
        payload: Vec<u8>,
    },
    Leave(oneshot::Sender<()>),
}

/// Foca's settings are sized for at least this many nodes: below it,
/// `new_lan` would send each update only once.
const MIN_CLUSTER_SIZE: u32 = 3;

/// Each update and broadcast is sent at least this many times (memberlist's
/// value for small clusters; foca's `new_lan` gives 2 for three nodes).
const MIN_TRANSMISSIONS: NonZeroU8 = NonZeroU8::MIN.saturating_add(3);

/// Ask one live member for its member list this often, so partitions heal
/// and a node that missed updates catches up (`new_lan` says 30 s).
const ANNOUNCE_EVERY: Duration = Duration::from_secs(10);

/// Announce to two members we believe down this often, so a partition that
/// made both sides declare the other down heals (`new_lan` says 65 s).
const ANNOUNCE_DOWN_EVERY: Duration = Duration::from_secs(20);

/// How often `--discover lan` announces us on the multicast group.
const LAN_EVERY: Duration = Duration::from_secs(3);

/// How often each node probes one member (`new_lan` says 1 s).
const PROBE_PERIOD: Duration = Duration::from_millis(300);

/// How long a direct probe waits for its answer before asking others to
/// probe indirectly (`new_lan` says 500 ms); a loopback or LAN round trip
/// is well under a millisecond, so this is all scheduling slack.
const PROBE_RTT: Duration = Duration::from_millis(150);

/// A suspected member is declared down after this many probe periods (up
/// to ten nodes; times log10 of the size beyond): the time it has to
/// refute the suspicion (`new_lan` says 4).
const SUSPICION_PERIODS: u32 = 2;

/// foca's configuration for a cluster of `cluster_size` nodes: `new_lan`
/// with faster probes (a dead or cut-off member is declared down in about
/// a second: found by a failed probe within one or two periods, then
/// suspected for two), the tweaks above, and room for our envelope in
/// each datagram.
fn config_for(cluster_size: u32) -> Config {
    let size = NonZeroU32::MIN.saturating_add(cluster_size.saturating_sub(1));
    let mut config = Config::new_lan(size);
    config.probe_period = PROBE_PERIOD;
    config.probe_rtt = PROBE_RTT;
    let scale = f64::max(1.0, f64::from(size.get()).log10());
    config.suspect_to_down_after = PROBE_PERIOD.mul_f64(scale * f64::from(SUSPICION_PERIODS));
    config.max_packet_size = NonZeroUsize::MIN.saturating_add(MAX_GOSSIP_PACKET - 1);
    config.max_transmissions = config.max_transmissions.max(MIN_TRANSMISSIONS);
    config.periodic_announce = Some(PeriodicParams {
        frequency: ANNOUNCE_EVERY,
        num_members: NonZeroUsize::MIN,
    });
    config.periodic_announce_to_down_members = Some(PeriodicParams {
        frequency: ANNOUNCE_DOWN_EVERY,
        num_members: NonZeroUsize::MIN.saturating_add(1),
    });
    config
}

/// Foca and everything around it that needs no socket.
pub(super) struct Node {
    foca: Gossip,
    runtime: AccumulatingRuntime<Member>,
    /// Foca's timers, due first first; `seq` keeps timers due at the same
    /// instant in submission order (foca requires in-order delivery).
    timers: BTreeMap<(Instant, u64), Timer<Member>>,
    timer_seq: u64,
    auth: Auth,
    /// New broadcasts from other nodes, filled by the `Broadcasts` handler.
    messages: mpsc::Receiver<Event>,
    shared: Arc<Shared>,
    events: UnboundedSender<Event>,
    /// When a valid datagram last came from each source address.
    last_heard: HashMap<SocketAddr, Instant>,
    /// Members that said they were leaving: name → the incarnation that left.
    left: HashMap<String, u64>,
    cluster_size: u32,
    outbox: Vec<(SocketAddr, Vec<u8>)>,
}

impl Node {
    pub(super) fn new(
        me: Member,
        auth: Auth,
        shared: Arc<Shared>,
        events: UnboundedSender<Event>,
    ) -> Result<Node> {
        let rng = StdRng::try_from_rng(&mut SysRng).map_err(Error::internal)?;
        let (inbox, messages) = mpsc::channel();
        let handler = Broadcasts::new(me.name.clone(), inbox);
        let foca = Foca::with_custom_broadcast(
            me,
            config_for(MIN_CLUSTER_SIZE),
            rng,
            PostcardCodec,
            handler,
        );
        Ok(Node {
            foca,
            runtime: AccumulatingRuntime::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            auth,
            messages,
            shared,
            events,
            last_heard: HashMap::new(),
            left: HashMap::new(),
            cluster_size: MIN_CLUSTER_SIZE,
            outbox: Vec::new(),
        })
    }

    /// Datagrams to send, framed.
    pub(super) fn take_outbox(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        std::mem::take(&mut self.outbox)
    }

    /// When the earliest timer is due.
    pub(super) fn next_timer(&self) -> Option<Instant> {
        self.timers.keys().next().map(|&(at, _)| at)
    }

    /// A datagram from the gossip socket or the LAN group.
    pub(super) fn handle_datagram(&mut self, datagram: &[u8], from: SocketAddr, now: Instant) {
        let packet = match self.auth.open(datagram) {
            Ok(packet) => packet,
            Err(why) => return self.reject(from, why),
        };
        self.last_heard.insert(from, now);
        match packet {
            Packet::Gossip(data) => {
                if let Err(e) = self.foca.handle_data(data, &mut self.runtime) {
                    self.gossip_error(e, from);
                }
            }
            Packet::Probe => self.send_ident(from),
            Packet::Ident(member) => self.announce_to(member),
            Packet::Leave(member) => self.mark_left(member),
        }
        self.drain(now);
    }

    /// Hands every timer due by `now` to foca, in order.
    pub(super) fn fire_timers(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let timer = entry.remove();
            if let Err(e) = self.foca.handle_timer(timer, &mut self.runtime) {
                tracing::debug!(error = %e, "gossip timer");
            }
            self.drain(now);
        }
    }

    /// Asks each address we have no live member at (and that is not us) who
    /// it is; the `Ident` reply gets an announce.
    pub(super) fn probe(&mut self, addrs: Vec<SocketAddr>) {
        let mut skip: HashSet<SocketAddr> = self
            .foca
            .iter_members()
            .map(|member| member.id().cluster_addr)
            .collect();
        skip.insert(self.foca.identity().cluster_addr);
        for addr in addrs {
            if skip.insert(addr) {
                tracing::debug!(peer = %addr, "probing a possible member");
                self.outbox.push((addr, self.auth.seal(Kind::Probe, &[])));
            }
        }
    }

    /// Queues a broadcast of ours and pushes it to a few members at once.
    pub(super) fn broadcast(&mut self, topic: &str, version: u64, payload: &[u8], now: Instant) {
        let origin = self.foca.identity().name.clone();
        let item = match broadcasts::encode(&origin, topic, version, payload) {
            Ok(item) => item,
            Err(e) => {
                tracing::warn!(topic, error = %e, "cannot encode broadcast");
                return;
            }
        };
        if item.len() > broadcasts::MAX_ITEM {
            tracing::warn!(topic, len = item.len(), "broadcast too large; dropped");
            return;
        }
        match self.foca.add_broadcast(&item) {
            Ok(true) => {
                if let Err(e) = self.foca.broadcast(&mut self.runtime) {
                    tracing::debug!(error = %e, "broadcast push");
                }
            }
            Ok(false) => {
                tracing::debug!(
                    topic,
                    version,
                    "broadcast not newer than the last one; dropped"
                )
            }
            Err(e) => tracing::warn!(topic, error = %e, "broadcast refused"),
        }
        self.drain(now);
    }

    /// Tells every live member we are leaving (directly, so they mark us
    /// `Left`, and through foca, which declares us down).
    pub(super) fn leave(&mut self, now: Instant) {
        let me = self.foca.identity().clone();
        match self.auth.seal_member(Kind::Leave, &me) {
            Ok(datagram) => {
                for member in self.foca.iter_members() {
                    self.outbox
                        .push((member.id().cluster_addr, datagram.clone()));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot encode leave"),
        }
        if let Err(e) = self.foca.leave_cluster(&mut self.runtime) {
            tracing::warn!(error = %e, "leaving the cluster");
        }
        self.drain(now);
        tracing::info!(node = %me.name, "left the cluster");
    }

    /// Our identity on the LAN discovery group.
    pub(super) fn lan_announcement(&self) -> Option<Vec<u8>> {
        self.auth
            .seal_member(Kind::Ident, self.foca.identity())
            .ok()
    }

    fn reject(&mut self, from: SocketAddr, why: &'static str) {
        self.shared.rejected.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(peer = %from, why, "dropped a gossip datagram");
    }

    fn gossip_error(&mut self, e: foca::Error, from: SocketAddr) {
        match e {
            foca::Error::Decode(_)
            | foca::Error::MalformedPacket
            | foca::Error::CustomBroadcast(_)
            | foca::Error::DataTooBig => {
                self.shared.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(peer = %from, error = %e, "dropped a malformed gossip packet");
            }
            e => tracing::debug!(peer = %from, error = %e, "gossip packet"),
        }
    }

    fn send_ident(&mut self, to: SocketAddr) {
        match self.auth.seal_member(Kind::Ident, self.foca.identity()) {
            Ok(datagram) => self.outbox.push((to, datagram)),
            Err(e) => tracing::warn!(error = %e, "cannot encode ident"),
        }
    }

    /// Announces to `member` unless it is us or already live with the same
    /// or a newer incarnation.
    fn announce_to(&mut self, member: Member) {
        if member.name == self.foca.identity().name {
            return;
        }
        let known = self.foca.iter_members().any(|live| {
            live.id().name == member.name && live.id().incarnation >= member.incarnation
        });
        if known {
            return;
        }
        tracing::debug!(member = %member.name, addr = %member.cluster_addr, "announcing");
        if let Err(e) = self.foca.announce(member, &mut self.runtime) {
            tracing::debug!(error = %e, "announce");
        }
    }

    /// A member's own word that it is leaving: mark it down now rather than
    /// wait for foca's gossip (only that exact identity: a newer incarnation
    /// wins over the down update).
    fn mark_left(&mut self, member: Member) {
        if member.name == self.foca.identity().name {
            return;
        }
        self.left.insert(member.name.clone(), member.incarnation);
        let down = foca::Member::new(member, 0, State::Down);
        if let Err(e) = self
            .foca
            .apply_many(std::iter::once(down), true, &mut self.runtime)
        {
            tracing::debug!(error = %e, "applying a leave");
        }
    }

    /// Takes everything foca produced: datagrams to the outbox, timers to
    /// the queue, notifications and new broadcasts to events; then refreshes
    /// the snapshot behind `Membership::members` and foca's sizing.
    fn drain(&mut self, now: Instant) {
        while let Some((to, data)) = self.runtime.to_send() {
            let datagram = self.auth.seal(Kind::Gossip, &data);
            self.outbox.push((to.cluster_addr, datagram));
        }
        while let Some((after, timer)) = self.runtime.to_schedule() {
            self.timer_seq += 1;
            // Foca's longest timer is a day (`remove_down_after`).
            let at = now.checked_add(after).unwrap_or(now);
            self.timers.insert((at, self.timer_seq), timer);
        }
        let mut up = Vec::new();
        let mut renamed = Vec::new();
        while let Some(notification) = self.runtime.to_notify() {
            self.notify(notification, now, &mut up, &mut renamed);
        }
        // A rename with no liveness change (a restart noticed before the old
        // process was declared down) raises no MemberUp, but whoever keys
        // members by name needs the new addresses and incarnation.
        for member in renamed {
            let live = self.foca.iter_members().any(|m| m.id() == &member);
            if live && !up.contains(&member) {
                tracing::info!(member = %member.name, incarnation = member.incarnation, "member restarted");
                self.emit(Event::Up(member));
            }
        }
        while let Ok(message) = self.messages.try_recv() {
            self.emit(message);
        }
        self.publish();
        self.resize();
    }

    fn notify(
        &mut self,
        notification: OwnedNotification<Member>,
        now: Instant,
        up: &mut Vec<Member>,
        renamed: &mut Vec<Member>,
    ) {
        match notification {
            OwnedNotification::MemberUp(member) => {
                tracing::info!(member = %member.name, addr = %member.cluster_addr, "member up");
                up.push(member.clone());
                self.emit(Event::Up(member));
            }
            OwnedNotification::MemberDown(member) => {
                let silent = self
                    .last_heard
                    .get(&member.cluster_addr)
                    .map(|&at| now.saturating_duration_since(at));
                let left = self.left.get(&member.name) == Some(&member.incarnation);
                tracing::info!(member = %member.name, silent_for = ?silent, left, "member down");
                self.emit(Event::Down(member));
            }
            OwnedNotification::Rename(old, new) => {
                tracing::debug!(member = %new.name, old = old.incarnation, new = new.incarnation, "new incarnation");
                renamed.push(new);
            }
            OwnedNotification::Active => tracing::info!("joined the cluster"),
            OwnedNotification::Idle => tracing::info!("no other member is alive"),
            OwnedNotification::Rejoin(me) => tracing::warn!(
                incarnation = me.incarnation,
                "the cluster declared this node down; rejoined with a new incarnation"
            ),
            OwnedNotification::Defunct => {
                tracing::debug!("this node is out of the cluster")
            }
        }
    }

    fn emit(&self, event: Event) {
        // Nobody listening is not an error: the node may be shutting down.
        let _ = self.events.send(event);
    }

    fn publish(&mut self) {
        let me = self.foca.identity().clone();
        let mut active = 0;
        let members: Vec<(Member, MemberState)> = self
            .foca
            .iter_membership_state()
            // Our own earlier incarnations are kept by foca as down members.
            .filter(|member| member.id().name != me.name)
            .map(|member| {
                let id = member.id();
                let state = match member.state() {
                    State::Alive => MemberState::Alive,
                    State::Suspect => MemberState::Suspect,
                    State::Down if self.left.get(&id.name) == Some(&id.incarnation) => {
                        MemberState::Left
                    }
                    State::Down => MemberState::Down,
                };
                if matches!(state, MemberState::Alive | MemberState::Suspect) {
                    active += 1;
                }
                (id.clone(), state)
            })
            .collect();
        if self.last_heard.len() > 2 * members.len() + 64 {
            let addrs: HashSet<SocketAddr> = members.iter().map(|(m, _)| m.cluster_addr).collect();
            self.last_heard.retain(|addr, _| addrs.contains(addr));
        }
        *self.shared.me.lock() = me;
        *self.shared.members.lock() = members;
        self.shared.active.store(active, Ordering::Relaxed);
    }

    /// Resizes foca's settings (transmissions, suspicion time) to the
    /// number of live nodes, as `Config::new_lan` is meant to be used.
    fn resize(&mut self) {
        let live = u32::try_from(self.foca.num_members()).unwrap_or(u32::MAX);
        let size = live.saturating_add(1).max(MIN_CLUSTER_SIZE);
        if size != self.cluster_size {
            match self.foca.set_config(config_for(size)) {
                Ok(()) => self.cluster_size = size,
                Err(e) => tracing::warn!(error = %e, "cannot resize gossip settings"),
            }
        }
    }
}

/// The sockets the task owns.
pub(super) struct Io {
    pub(super) socket: UdpSocket,
    pub(super) lan: Option<UdpSocket>,
}

/// Runs the node until `leave` or until the `Membership` handle is gone.
pub(super) async fn run(
    mut node: Node,
    io: Io,
    mut commands: UnboundedReceiver<Command>,
    mut found: UnboundedReceiver<Vec<SocketAddr>>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut lan_buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut lan_tick = tokio::time::interval(LAN_EVERY);
    let lan_group = SocketAddr::V4(SocketAddrV4::new(LAN_GROUP, LAN_PORT));
    let mut found_open = true;
    loop {
        let next_timer = node.next_timer();
        let far = Instant::now() + Duration::from_secs(3600);
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Broadcast { topic, version, payload }) => {
                    node.broadcast(&topic, version, &payload, Instant::now());
                }
                Some(Command::Leave(done)) => {
                    node.leave(Instant::now());
                    send_all(&io.socket, node.take_outbox()).await;
                    let _ = done.send(());
                    return;
                }
                None => return,
            },
            received = io.socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => node.handle_datagram(&buf[..len], from, Instant::now()),
                Err(e) => {
                    tracing::debug!(error = %e, "gossip receive");
                    // Never spin on a socket that keeps failing.
                    sleep(Duration::from_millis(10)).await;
                }
            },
            () = sleep_until(next_timer.unwrap_or(far)), if next_timer.is_some() => {
                node.fire_timers(Instant::now());
            }
            addrs = found.recv(), if found_open => match addrs {
                Some(addrs) => node.probe(addrs),
                None => found_open = false,
            },
            received = recv_lan(io.lan.as_ref(), &mut lan_buf) => match received {
                Ok((len, from)) => node.handle_datagram(&lan_buf[..len], from, Instant::now()),
                Err(e) => {
                    tracing::debug!(error = %e, "LAN discovery receive");
                    sleep(Duration::from_millis(10)).await;
                }
            },
            _ = lan_tick.tick(), if io.lan.is_some() => {
                if let (Some(lan), Some(datagram)) = (&io.lan, node.lan_announcement()) {
                    if let Err(e) = lan.send_to(&datagram, lan_group).await {
                        tracing::debug!(error = %e, "LAN discovery announce");
                    }
                }
            }
        }
        send_all(&io.socket, node.take_outbox()).await;
    }
}

async fn recv_lan(lan: Option<&UdpSocket>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match lan {
        Some(lan) => lan.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

async fn send_all(socket: &UdpSocket, outbox: Vec<(SocketAddr, Vec<u8>)>) {
    for (to, datagram) in outbox {
        if let Err(e) = socket.send_to(&datagram, to).await {
            tracing::debug!(peer = %to, error = %e, "gossip send");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keeps_detection_fast_and_packets_small() {
        for size in [1, 3, 10, 50] {
            let config = config_for(size);
            assert_eq!(config.max_packet_size.get(), MAX_GOSSIP_PACKET);
            assert!(config.max_transmissions >= MIN_TRANSMISSIONS);
            assert!(config.periodic_announce.is_some());
            assert_eq!(config.probe_period, PROBE_PERIOD);
            assert!(config.probe_rtt < config.probe_period);
        }
        assert_eq!(
            config_for(3).suspect_to_down_after,
            Duration::from_millis(600)
        );
        assert!(config_for(50).suspect_to_down_after > Duration::from_millis(600));
        // Resizing only changes what foca allows to change at runtime.
        let mut foca = Foca::new(
            Member {
                name: "n".into(),
                cluster_addr: "127.0.0.1:1".parse().unwrap(),
                pg_addr: "127.0.0.1:2".parse().unwrap(),
                incarnation: 1,
            },
            config_for(3),
            StdRng::seed_from_u64(1),
            PostcardCodec,
        );
        assert!(foca.set_config(config_for(40)).is_ok());
    }

    fn node(secret: &[u8]) -> Node {
        let me = Member {
            name: "me".into(),
            cluster_addr: "127.0.0.1:7000".parse().unwrap(),
            pg_addr: "127.0.0.1:5432".parse().unwrap(),
            incarnation: 1,
        };
        let shared = Arc::new(Shared {
            me: parking_lot::Mutex::new(me.clone()),
            members: parking_lot::Mutex::new(Vec::new()),
            active: Default::default(),
            rejected: Default::default(),
        });
        let (events, _) = tokio::sync::mpsc::unbounded_channel();
        Node::new(me, Auth::new(secret).unwrap(), shared, events).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn any_datagram_is_handled_without_panic(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500),
        ) {
            let auth = Auth::new(b"k").unwrap();
            let mut node = node(b"k");
            let from: SocketAddr = "127.0.0.1:9".parse().unwrap();
            let now = Instant::now();
            node.handle_datagram(&data, from, now);
            // Authentic envelopes around arbitrary bodies get past the MAC.
            node.handle_datagram(&auth.seal(Kind::Gossip, &data), from, now);
            node.handle_datagram(&auth.seal(Kind::Ident, &data), from, now);
            node.handle_datagram(&auth.seal(Kind::Leave, &data), from, now);
            node.fire_timers(now + Duration::from_secs(30));
            let _ = node.take_outbox();
            proptest::prop_assert!(node.shared.rejected.load(Ordering::Relaxed) >= 1);
        }
    }
}
