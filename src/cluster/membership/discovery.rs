//! Finding peers to announce to: `--join` seeds and `--discover dns:…`
//! names are resolved here, off the gossip task so a slow resolver never
//! delays a probe; `--discover lan` gets its multicast socket here. What to
//! do with an address (skip it, probe it) is the driver's business.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{interval, timeout, MissedTickBehavior};

use super::Shared;

/// Multicast group of `--discover lan` announcements (organisation-local
/// scope, so routers do not forward it).
pub(super) const LAN_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 77, 77);

/// UDP port of `--discover lan` announcements, shared by every node on a
/// host through SO_REUSEADDR/SO_REUSEPORT.
pub(super) const LAN_PORT: u16 = 7947;

/// How often seeds are retried while no other member is alive.
const SEED_RETRY: Duration = Duration::from_secs(2);

/// `--discover dns` names are resolved every this many seed ticks (~10 s).
const DNS_EVERY_TICKS: u64 = 5;

/// A resolver that takes longer than this is skipped until the next tick.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Resolves seeds (at start, then every 2 s while no member is alive) and
/// the DNS discovery name (at start, then every ~10 s), sending whatever
/// addresses came back to the driver. Ends when the driver is gone.
pub(super) async fn resolve_peers(
    seeds: Vec<String>,
    dns: Option<String>,
    shared: Arc<Shared>,
    found_tx: UnboundedSender<Vec<SocketAddr>>,
) {
    let mut tick = interval(SEED_RETRY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for round in 0u64.. {
        tick.tick().await;
        let mut found = Vec::new();
        if round == 0 || shared.active.load(Ordering::Relaxed) == 0 {
            for seed in &seeds {
                found.extend(resolve(seed, round == 0).await);
            }
        }
        if let Some(name) = &dns {
            if round % DNS_EVERY_TICKS == 0 {
                found.extend(resolve(name, round == 0).await);
            }
        }
        if found_tx.is_closed() || (!found.is_empty() && found_tx.send(found).is_err()) {
            return;
        }
    }
}

/// Every address `target` ("host:port") resolves to; failures are logged
/// (at warn the first time, debug on retries) and yield nothing.
async fn resolve(target: &str, first: bool) -> Vec<SocketAddr> {
    let failure = match timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host(target)).await {
        Ok(Ok(addrs)) => return addrs.collect(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_string(),
    };
    if first {
        tracing::warn!(peer = target, error = %failure, "cannot resolve peer address");
    } else {
        tracing::debug!(peer = target, error = %failure, "cannot resolve peer address");
    }
    Vec::new()
}

/// Joins the LAN discovery group. `interface` is our cluster IP when it is
/// a real IPv4 address, so announcements leave through the interface the
/// cluster uses; otherwise the kernel picks one.
pub(super) fn lan_socket(cluster_addr: SocketAddr) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};

    let interface = match cluster_addr {
        SocketAddr::V4(addr) if !addr.ip().is_loopback() && !addr.ip().is_unspecified() => {
            *addr.ip()
        }
        _ => Ipv4Addr::UNSPECIFIED,
    };
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, LAN_PORT).into())?;
    socket.join_multicast_v4(&LAN_GROUP, &interface)?;
    if !interface.is_unspecified() {
        socket.set_multicast_if_v4(&interface)?;
    }
    // Nodes on one host must hear each other too.
    socket.set_multicast_loop_v4(true)?;
    socket.set_multicast_ttl_v4(1)?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}
