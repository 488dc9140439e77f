//! The cluster: SWIM membership over UDP (`membership`), the node RPC over
//! TCP on the same port (`rpc`, messages in `proto`), the registry of which
//! node holds which shard, and the catalog spreading from node to node.
//!
//! Every node answers for its own data: its open segments and the shards
//! it sealed. Sealed shards are also copied to other nodes (`replication`,
//! `placement`, `cache`). A query on any node asks the live peers that may
//! hold matching rows (`placement::peers_for`) to run the query's
//! per-table part over their own data, and over the copies it gives them
//! to read for nodes that are down, and merges the answers with its own
//! (which include its own copies), exactly as it merges its local sources.
//! The registry (each node's announced holdings) is what says who holds
//! what, and names what a query cannot reach.
//!
//! The catalog is last-writer-wins per object by hybrid logical clock: a
//! DDL statement pushes the catalog to every live peer before it returns
//! (so the next statement, on any node, sees the table), announces it by
//! gossip, and a periodic pull from every peer repairs whatever was missed
//! (a node that was down, a node that joins later).

pub mod advisory;
pub(crate) mod backup;
pub use backup::furthest;
mod cache;
mod dropped;
mod handoff;
pub mod locks;
pub mod membership;
pub mod notify;
mod placement;
pub mod proto;
mod registry;
mod replication;
pub mod rpc;
mod scrub;
pub mod service;
mod unsealed;

pub use placement::{Reads, ShardHealth};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::types::Datum;
use membership::{Event, Member, MemberState, Membership, MembershipOptions};
use proto::{Holdings, Request, Response};
use registry::{announce, load_registry};

/// How long a catalog or registry exchange with one peer may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a peer may take to produce each batch of a query's rows.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often this node checks whether its holdings changed.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(500);
/// How often every peer's catalog and holdings are pulled regardless.
const ANTI_ENTROPY_EVERY: Duration = Duration::from_secs(10);

const TOPIC_HOLDINGS: &str = "holdings";
const TOPIC_CATALOG: &str = "catalog";

pub struct Cluster {
    pub store: Arc<Store>,
    membership: Arc<Membership>,
    /// The cluster secret, and TLS toward peers when configured.
    credentials: rpc::Credentials,
    clients: Mutex<HashMap<SocketAddr, rpc::Client>>,
    runtime: tokio::runtime::Handle,
    /// Every other node's holdings, by node name, as last announced.
    registry: RwLock<HashMap<String, Holdings>>,
    /// This node's holdings as last announced.
    mine: Mutex<Holdings>,
    /// The connection `refresh_holdings` reads the manifest with.
    holdings_conn: Mutex<Option<crate::store::Conn>>,
    /// Tables open here (unsealed rows, or a transaction writing them)
    /// that every live peer was told of before the write went on
    /// (`will_write`, `written`); a reading's gossip reaches peers later.
    pushed: Mutex<std::collections::HashSet<String>>,
    /// Tombstone digests of this node's shards (see registry::Digests).
    digests: Mutex<registry::Digests>,
    /// For each replica held here: the version of its home's holdings
    /// when this node took it (see `replication`).
    fetched: Mutex<HashMap<String, u64>>,
    /// Which tables this node reads through its peers (the edge cache).
    heat: cache::Heat,
    /// Metadata of other nodes' shards, by id, for deciding which peers a
    /// query needs (`placement::peers_for`).
    metas: RwLock<HashMap<String, Arc<crate::types::shard::ShardMeta>>>,
    /// Shard ids whose metadata is being fetched.
    metas_asked: Mutex<std::collections::HashSet<String>>,
    /// Each peer's recent round-trip time (holdings pulls, smoothed): which
    /// holder serves a copy.
    latency: Mutex<HashMap<String, Duration>>,
    /// Bumped whenever the registry changes: what `reads` is cached by.
    registry_changes: std::sync::atomic::AtomicU64,
    /// The last `reads` decided, with what it was decided from.
    reads_cache: Mutex<Option<(placement::ReadsKey, Arc<Reads>)>>,
    /// The row locks this node arbitrates, when it does (`locks`).
    row_locks: locks::RowLockTable,
    /// The advisory locks this node arbitrates, when it does (`advisory`).
    advisory: advisory::AdvisoryTable,
    /// Who listens on which channel, here and on the peers (`notify`).
    notifier: notify::Notifier,
    /// Bytes of rows one request may gather from the peers.
    gather_limit: u64,
    /// Whether this node has pulled a peer's catalog since it started, or
    /// has no peer to pull from (no seeds, no discovery, no node known).
    caught_up: std::sync::atomic::AtomicBool,
    /// `--replication-factor`: live holders each sealed shard should have.
    replication_factor: usize,
    /// Where this node's unsealed rows are copied (`unsealed`).
    copier: unsealed::Copier,
    /// Which nodes confirmed each DROP whose table's data is kept here.
    dropped_confirmed: dropped::Confirmed,
}

/// A peer's whole answer to `req`, its rows counted against `budget`
/// (shared by the request's calls to every peer) as they arrive: beyond
/// it the statement fails with 53200 and the call is dropped, which
/// cancels it on the peer.
async fn gather(
    client: &rpc::Client,
    req: &Request,
    budget: &std::sync::atomic::AtomicI64,
) -> Result<Vec<Response>> {
    use futures::StreamExt;
    let mut responses = client.call::<Request, Response>(req, QUERY_TIMEOUT).await?;
    let mut items = Vec::new();
    while let Some(item) = responses.next().await {
        let item = item?;
        if let Response::Rows(rows) = &item {
            let bytes: usize = rows.iter().map(|r| row_bytes(r)).sum();
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            let left = budget.fetch_sub(bytes, std::sync::atomic::Ordering::AcqRel) - bytes;
            if left < 0 {
                return Err(Error::OutOfMemory("out of memory".into()).with_detail(
                    "The rows this statement gathers from other nodes exceed --gather-limit-bytes.",
                ));
            }
        }
        items.push(item);
    }
    Ok(items)
}

/// Roughly what a row takes in memory.
fn row_bytes(row: &[Datum]) -> usize {
    24 + row
        .iter()
        .map(|d| match d {
            Datum::Text(t) => 24 + t.len(),
            Datum::Blob(b) => 24 + b.len(),
            _ => 16,
        })
        .sum::<usize>()
}

/// What the peers answered for one request.
#[derive(Debug, Default)]
pub struct PeerRows {
    /// The rows of each node that answered.
    pub nodes: Vec<(String, Vec<Vec<Datum>>)>,
    /// What could not be read, one line per unreachable node holding data.
    pub missing: Vec<String>,
    /// The live peers that did not answer.
    pub unreachable: Vec<String>,
}

impl PeerRows {
    /// Every node's rows together.
    pub fn into_rows(self) -> Vec<Vec<Datum>> {
        self.nodes.into_iter().flat_map(|(_, r)| r).collect()
    }
}

/// Bind the cluster port: TCP for the RPC and UDP for gossip on the same
/// port number. With port 0 the system picks a TCP port, which may be
/// taken for UDP; then another is tried.
pub async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, tokio::net::UdpSocket)> {
    let mut last = None;
    for _ in 0..20 {
        let tcp = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Error::InvalidParameter(format!("cannot bind cluster address {addr}: {e}"))
        })?;
        let bound = tcp.local_addr()?;
        match tokio::net::UdpSocket::bind(bound).await {
            Ok(udp) => return Ok((tcp, udp)),
            Err(e) if addr.port() == 0 => last = Some(e),
            Err(e) => {
                return Err(Error::InvalidParameter(format!(
                    "cannot bind cluster address {addr} (UDP): {e}"
                )))
            }
        }
    }
    Err(Error::InvalidParameter(format!(
        "cannot bind cluster address {addr} for both TCP and UDP: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

impl Cluster {
    /// Join the cluster and serve the node RPC on `tcp`, until `shutdown`.
    pub async fn start(
        store: Arc<Store>,
        config: &Config,
        peers: Arc<dyn service::PeerService>,
        tcp: tokio::net::TcpListener,
        udp: tokio::net::UdpSocket,
        pg_addr: SocketAddr,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<Arc<Cluster>> {
        let tls = match &config.cluster_tls {
            Some(files) => Some(Arc::new(rpc::PeerTls::load(
                &files.cert,
                &files.key,
                &files.ca,
            )?)),
            None => None,
        };
        let secret: Arc<[u8]> = match &tls {
            Some(tls) => tls.bind(config.cluster_secret.as_bytes())?,
            None => Arc::from(config.cluster_secret.as_bytes()),
        };
        let credentials = rpc::Credentials {
            secret: secret.clone(),
            tls,
        };
        let me = Member {
            name: store.node_name.clone(),
            cluster_addr: config.advertise_addr.unwrap_or(tcp.local_addr()?),
            pg_addr,
            incarnation: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let membership = Membership::start(
            MembershipOptions {
                socket: udp,
                me,
                secret: secret.to_vec(),
                seeds: config.join.clone(),
                discover: config.discover.clone(),
            },
            tx,
        )?;
        let registry = load_registry(&store);
        // With no seed, no discovery and no other node on record, there is
        // no catalog to wait for.
        let alone = config.join.is_empty()
            && config.discover.is_none()
            && registry.keys().all(|n| *n == store.node_name);
        let cluster = Arc::new(Cluster {
            store: store.clone(),
            membership,
            credentials: credentials.clone(),
            clients: Mutex::new(HashMap::new()),
            runtime: tokio::runtime::Handle::current(),
            registry: RwLock::new(registry),
            mine: Mutex::new(Holdings::default()),
            holdings_conn: Mutex::new(None),
            pushed: Mutex::new(Default::default()),
            digests: Mutex::new(Default::default()),
            fetched: Mutex::new(HashMap::new()),
            heat: cache::Heat::default(),
            metas: RwLock::new(HashMap::new()),
            metas_asked: Mutex::new(std::collections::HashSet::new()),
            latency: Mutex::new(HashMap::new()),
            registry_changes: std::sync::atomic::AtomicU64::new(0),
            reads_cache: Mutex::new(None),
            row_locks: locks::RowLockTable::default(),
            advisory: Default::default(),
            notifier: Default::default(),
            gather_limit: config.gather_limit_bytes,
            caught_up: alone.into(),
            replication_factor: config.replication_factor,
            copier: Default::default(),
            dropped_confirmed: Default::default(),
        });
        tokio::spawn(rpc::serve(
            tcp,
            credentials,
            Arc::new(service::Service::new(
                Arc::downgrade(&cluster),
                peers,
                cluster.store.hlc.clone(),
            )),
            shutdown,
        ));
        tokio::spawn(events(cluster.clone(), rx));
        tokio::spawn(announce(cluster.clone()));
        tokio::spawn(anti_entropy(cluster.clone()));
        tokio::spawn(notify::watch_suspicion(cluster.clone()));
        tokio::spawn(unsealed::keep_copying(cluster.clone()));
        tokio::spawn(replication::maintain(
            cluster.clone(),
            config.replication_factor,
            config.edge_cache_bytes,
        ));
        tokio::spawn(scrub::run(
            cluster.clone(),
            Duration::from_secs(config.scrub_interval_secs.max(1)),
        ));
        Ok(cluster)
    }

    /// Every other node this node knows, with its state.
    pub fn members(&self) -> Vec<(Member, MemberState)> {
        self.membership.members()
    }

    /// The peers to ask: alive or merely suspected.
    pub(crate) fn live_peers(&self) -> Vec<Member> {
        self.members()
            .into_iter()
            .filter(|(_, s)| matches!(s, MemberState::Alive | MemberState::Suspect))
            .map(|(m, _)| m)
            .collect()
    }

    /// Whether this node has the cluster's catalog as far as it can know:
    /// it pulled a peer's since it started, or it has no peer to ask.
    pub fn caught_up(&self) -> bool {
        self.caught_up.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Other nodes membership knows now, by state (`alive`, `suspect`,
    /// `down`, `left`), for the metrics.
    pub fn member_states(&self) -> [(&'static str, usize); 4] {
        let mut counts = [("alive", 0), ("suspect", 0), ("down", 0), ("left", 0)];
        for (_, s) in self.members() {
            if let Some(c) = counts.iter_mut().find(|(n, _)| *n == s.as_str()) {
                c.1 += 1;
            }
        }
        counts
    }

    /// Gossip datagrams dropped since the node started.
    pub fn gossip_dropped(&self) -> u64 {
        self.membership.rejected_packets()
    }

    /// Leave the cluster (on shutdown).
    pub async fn leave(&self) {
        self.membership.leave().await;
    }

    /// A statement on this node read `tables` through its peers.
    pub fn touch(&self, tables: &[String]) {
        self.heat.touch(tables);
    }

    /// Every other node's announced holdings.
    pub fn registry(&self) -> HashMap<String, Holdings> {
        self.registry.read().clone()
    }

    fn client(&self, addr: SocketAddr) -> rpc::Client {
        self.clients
            .lock()
            .entry(addr)
            .or_insert_with(|| {
                let clock: Arc<dyn rpc::Clock> = self.store.hlc.clone();
                rpc::Client::clocked(addr, self.credentials.clone(), clock)
            })
            .clone()
    }

    /// Run a read-only query over every live peer's own data and collect
    /// their rows. Blocking: called from a session thread. A peer that
    /// cannot be reached is asked once more; one that still cannot, and
    /// the data on nodes that are not live that no live node has a copy
    /// of, is named in `missing`. An error the query itself raised on a
    /// peer (a division by zero, say) is the statement's error.
    pub fn query_peers(&self, tables: &[String], sql: &str, params: &[Datum]) -> Result<PeerRows> {
        let req = Request::Query {
            sql: sql.to_string(),
            params: params.to_vec(),
            replicas: vec![],
            skip: vec![],
            times: None,
            open_of: vec![],
            asker_live: vec![],
        };
        self.ask_peers(&self.reads(), tables, &req, None, false, None)
    }

    /// Send `req` (a `Query` or `Scan`, answered with `Rows`) to the live
    /// peers of `reads`, or to those of them in `only` (the others hold
    /// nothing the request can match), as `query_peers` does; each peer is
    /// told which replicas it reads besides its own shards.
    pub fn ask_peers(
        &self,
        reads: &Reads,
        tables: &[String],
        req: &Request,
        only: Option<&[String]>,
        copies: bool,
        cancel: Option<tokio_util::sync::CancellationToken>,
    ) -> Result<PeerRows> {
        let peers: Vec<Member> = reads
            .peers
            .iter()
            .map(|(m, _)| m.clone())
            .filter(|p| only.is_none_or(|o| o.contains(&p.name)))
            .collect();
        let budget = Arc::new(std::sync::atomic::AtomicI64::new(
            i64::try_from(self.gather_limit).unwrap_or(i64::MAX),
        ));
        let mut asking: Vec<String> = reads.peers.iter().map(|(m, _)| m.name.clone()).collect();
        asking.push(self.store.node_name.clone());
        let calls = peers.iter().map(|p| {
            let client = self.client(p.cluster_addr);
            let mut req = req.clone();
            if let Request::Query {
                replicas,
                skip,
                open_of,
                asker_live,
                ..
            }
            | Request::Scan {
                replicas,
                skip,
                open_of,
                asker_live,
                ..
            } = &mut req
            {
                *replicas = reads.replicas_for(&p.name, tables);
                *skip = reads.skip_for(&p.name, tables);
                if copies {
                    *open_of = reads.open_of(&p.name, tables);
                }
                *asker_live = asking.clone();
            }
            let budget = budget.clone();
            async move {
                let req = &req;
                let mut last = None;
                for _ in 0..2 {
                    match gather(&client, req, &budget).await {
                        Ok(items) => return Ok(items),
                        // A peer that has not heard of the table yet holds none of it.
                        Err(Error::NoSuchTable(_)) => return Ok(vec![]),
                        Err(e) if !unreachable(&e) => return Err(e),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| Error::Internal("no answer".into())))
            }
        });
        let cancel = cancel.unwrap_or_default();
        // A cancel or statement timeout drops the calls, which closes their
        // connections; each peer then cancels its part.
        let answers = self.runtime.block_on(async {
            tokio::select! {
                answers = futures::future::join_all(calls) => Ok(answers),
                _ = cancel.cancelled() => Err(Error::Canceled),
            }
        })?;
        let mut out = PeerRows::default();
        for (peer, answer) in peers.iter().zip(answers) {
            match answer {
                Ok(items) => {
                    let mut rows = Vec::new();
                    for item in items {
                        if let Response::Rows(r) = item {
                            rows.extend(r);
                        }
                    }
                    out.nodes.push((peer.name.clone(), rows));
                }
                Err(e) if !unreachable(&e) => return Err(e),
                Err(e) => {
                    out.unreachable.push(peer.name.clone());
                    out.missing
                        .push(self.describe_unreachable(reads, &peer.name, tables, &e))
                }
            }
        }
        out.missing.extend(reads.missing_for(tables));
        let asked: Vec<String> = peers.iter().map(|p| p.name.clone()).collect();
        out.missing
            .extend(reads.uncopied_for(tables, copies, &asked, &self.store.node_name));
        Ok(out)
    }

    /// After DDL: push the catalog to every live peer and wait (bounded)
    /// for them to apply it, so the next statement on any node sees it;
    /// also announce it by gossip for any peer the push missed. Blocking.
    pub fn catalog_changed(&self) {
        let entries = match self.store.catalog.entries() {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the catalog to push it");
                return;
            }
        };
        let version = entries.iter().map(|e| e.hlc()).max().unwrap_or(0);
        self.membership
            .broadcast(TOPIC_CATALOG, version as u64, vec![]);
        for (name, r) in self.on_peers(&Request::ApplyCatalog(entries), SYNC_TIMEOUT) {
            if let Err(e) = r {
                tracing::warn!(peer = %name, error = %e, "catalog push failed; gossip will repair it");
            }
        }
    }

    /// Send `req` to every live peer at once and collect each answer.
    /// Blocking: called from a session thread.
    pub fn on_peers(
        &self,
        req: &Request,
        timeout: Duration,
    ) -> Vec<(String, Result<Vec<Response>>)> {
        let peers = self.live_peers();
        let calls = peers.iter().map(|p| {
            let client = self.client(p.cluster_addr);
            async move { (p.name.clone(), client.call_all(req, timeout).await) }
        });
        self.runtime.block_on(futures::future::join_all(calls))
    }

    /// Run `req` on the live peer named `node`.
    pub fn on_peer(&self, node: &str, req: &Request, timeout: Duration) -> Result<()> {
        self.call_peer(node, req, timeout)
            .map(|_| ())
            .map_err(|e| match e {
                Error::Internal(m) => Error::Unavailable(format!("node {node}: {m}")),
                other => other,
            })
    }

    /// `req`'s whole answer from the live peer named `node`. Blocking.
    fn call_peer(&self, node: &str, req: &Request, timeout: Duration) -> Result<Vec<Response>> {
        let peer = self
            .live_peers()
            .into_iter()
            .find(|p| p.name == node)
            .ok_or_else(|| Error::Unavailable(format!("node {node} is not reachable")))?;
        let client = self.client(peer.cluster_addr);
        self.runtime.block_on(client.call_all(req, timeout))
    }

    /// Run `req` on every live peer; the first failure is the error.
    pub fn on_all_peers(&self, req: &Request, timeout: Duration) -> Result<()> {
        for (name, r) in self.on_peers(req, timeout) {
            r.map_err(|e| Error::Unavailable(format!("node {name}: {e}")))?;
        }
        Ok(())
    }

    /// Pull `peer`'s catalog and apply what is newer.
    async fn pull_catalog(self: &Arc<Self>, peer: &Member) -> Result<()> {
        let items: Vec<Response> = self
            .client(peer.cluster_addr)
            .call_all(&Request::Catalog, SYNC_TIMEOUT)
            .await?;
        for item in items {
            if let Response::Catalog(entries) = item {
                let c = self.clone();
                let peer = peer.name.clone();
                tokio::task::spawn_blocking(move || c.take_catalog(&peer, &entries))
                    .await
                    .map_err(Error::internal)??;
            }
        }
        self.caught_up
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn sync_with(self: &Arc<Self>, peer: &Member) {
        if let Err(e) = self.pull_catalog(peer).await {
            tracing::debug!(peer = %peer.name, error = %e, "catalog pull failed");
        }
        if let Err(e) = self.pull_holdings(peer).await {
            tracing::debug!(peer = %peer.name, error = %e, "holdings pull failed");
        }
        self.choose_seq_slot();
        let c = self.clone();
        let _ = tokio::task::spawn_blocking(move || c.advance_sequences()).await;
    }
}

/// Every request to a peer and every answer carries the node's hybrid
/// logical clock (`store::clock`).
impl rpc::Clock for crate::store::clock::Hlc {
    fn stamp(&self) -> i64 {
        self.now()
    }

    fn observe(&self, remote: i64) {
        crate::store::clock::Hlc::observe(self, remote)
    }
}

/// Whether `e` says the peer could not be reached (as opposed to an error
/// of the work it was asked to do).
fn unreachable(e: &Error) -> bool {
    matches!(e, Error::Internal(_) | Error::Unavailable(_))
}

fn entry_name(e: &crate::store::catalog::Entry) -> String {
    match e {
        crate::store::catalog::Entry::Table { name, def, .. } => {
            format!(
                "table {name}{}",
                if def.is_none() { " (dropped)" } else { "" }
            )
        }
        crate::store::catalog::Entry::Role { name, .. } => format!("role {name}"),
        crate::store::catalog::Entry::Setting { name, .. } => format!("setting {name}"),
    }
}

/// React to membership: sync with a node that comes up, and pull what a
/// gossip announcement says changed.
async fn events(cluster: Arc<Cluster>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Event>) {
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::Up(m) => {
                // Up again after a restart: its transactions are gone.
                cluster.row_locks.release_node(&m.name);
                cluster.advisory.release_node(&m.name);
                cluster.notify_membership(&m, true);
                cluster.node_event(&m.name, "up");
                let c = cluster.clone();
                tokio::spawn(async move {
                    c.reassert_advisory(Some(&m.name)).await;
                    c.sync_with(&m).await;
                    // Tombstones queued for it while it was away.
                    c.flush_outbox().await;
                });
            }
            Event::Down(m) => {
                tracing::warn!(member = %m.name, "member down");
                cluster.row_locks.release_node(&m.name);
                cluster.advisory.release_node(&m.name);
                cluster.notify_membership(&m, false);
                let left = cluster
                    .members()
                    .iter()
                    .any(|(x, s)| x.name == m.name && *s == MemberState::Left);
                cluster.node_event(&m.name, if left { "left" } else { "down" });
                let c = cluster.clone();
                tokio::spawn(async move { c.reassert_advisory(None).await });
            }
            Event::Message {
                origin,
                topic,
                version,
                ..
            } => {
                let Some(peer) = cluster
                    .members()
                    .into_iter()
                    .map(|(m, _)| m)
                    .find(|m| m.name == origin)
                else {
                    continue;
                };
                let c = cluster.clone();
                match topic.as_str() {
                    TOPIC_HOLDINGS => {
                        let known = c
                            .registry
                            .read()
                            .get(&origin)
                            .map(|h| h.version)
                            .unwrap_or(0);
                        if version > known {
                            tokio::spawn(async move {
                                if let Err(e) = c.pull_holdings(&peer).await {
                                    tracing::debug!(peer = %peer.name, error = %e, "holdings pull failed");
                                }
                            });
                        }
                    }
                    TOPIC_CATALOG => {
                        tokio::spawn(async move {
                            if let Err(e) = c.pull_catalog(&peer).await {
                                tracing::debug!(peer = %peer.name, error = %e, "catalog pull failed");
                            }
                        });
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Pull every peer's catalog and holdings now and then, whatever gossip
/// delivered.
async fn anti_entropy(cluster: Arc<Cluster>) {
    loop {
        tokio::time::sleep(ANTI_ENTROPY_EVERY).await;
        for peer in cluster.live_peers() {
            cluster.sync_with(&peer).await;
        }
        cluster.flush_outbox().await;
        // Dropped tables' data no node can want any more (kept from before
        // a restart, or on a node that has no peer to pull from).
        let c = cluster.clone();
        let _ = tokio::task::spawn_blocking(move || c.purge_confirmed()).await;
    }
}

impl Cluster {
    /// Deliver committed tombstones to the other holders of their shards,
    /// and forget each once its node has applied it. What cannot be
    /// delivered now stays queued; the cluster retries it periodically and
    /// when a node comes up. Blocking.
    pub fn deliver_outbox(&self, conn: &crate::store::Conn) -> Result<()> {
        let mut batches: std::collections::BTreeMap<(String, String), Vec<proto::Tombstone>> =
            Default::default();
        for o in conn.outbox()? {
            batches
                .entry((o.node, o.table))
                .or_default()
                .push(o.tombstone);
        }
        let live: std::collections::HashSet<String> =
            self.live_peers().into_iter().map(|m| m.name).collect();
        for ((node, table), rows) in batches {
            if !live.contains(&node) {
                continue;
            }
            let req = proto::Request::Tombstones {
                table: table.clone(),
                rows: rows.clone(),
            };
            match self.on_peer(&node, &req, QUERY_TIMEOUT) {
                Ok(()) => conn.outbox_delivered(&node, &rows)?,
                Err(e) => {
                    tracing::warn!(node = %node, table = %table, error = %e, "tombstones not delivered yet; will retry");
                }
            }
        }
        Ok(())
    }

    /// Deliver queued tombstones to the live nodes they are for.
    async fn flush_outbox(self: &Arc<Self>) {
        let c = self.clone();
        let delivered = tokio::task::spawn_blocking(move || -> Result<()> {
            let conn = c.store.connect()?;
            c.deliver_outbox(&conn)
        })
        .await;
        if let Ok(Err(e)) = delivered {
            tracing::warn!(error = %e, "delivering queued tombstones failed");
        }
    }
}
