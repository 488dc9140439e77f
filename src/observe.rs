//! What a node shows of itself to operators: the metrics it counts, in
//! Prometheus's text format, and its health, on `--metrics-addr` (off by
//! default): `GET /metrics`, `/healthz` (200 while the process answers)
//! and `/readyz` (200 while it serves clients and has caught up with the
//! cluster's catalog, 503 before and once it is shutting down).
//!
//! Any layer counts through the `metrics` facade with the names below;
//! without `--metrics-addr` no recorder is installed and counting costs
//! next to nothing. Gauges that describe state (members, open-segment
//! rows) are read when Prometheus scrapes, by the `refresh` the node sets.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Response, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::{Error, Result};

/// Client connections open now (gauge).
pub const CONNECTIONS: &str = "mosaic_connections";
/// Client connections accepted since start.
pub const CONNECTIONS_TOTAL: &str = "mosaic_connections_total";
/// Statements run, by `kind` and `outcome` (ok, error).
pub const STATEMENTS: &str = "mosaic_statements_total";
/// How long statements took, by `kind` (histogram, seconds).
pub const STATEMENT_SECONDS: &str = "mosaic_statement_duration_seconds";
/// Requests to peers, by `outcome`: sent, retried (a statement ran again
/// without a peer that did not answer), failed (not sent, or sent and no
/// whole answer came back: the connection broke or the time ran out).
pub const PEER_REQUESTS: &str = "mosaic_peer_requests_total";
/// Shards a statement skipped by their metadata (bloom filters, zone maps).
pub const SHARDS_PRUNED: &str = "mosaic_shards_pruned_total";
/// Shards a statement read.
pub const SHARDS_READ: &str = "mosaic_shards_read_total";
/// Compiled SQL found in a session's cache (statements and peer fragments).
pub const FRAGMENT_CACHE_HITS: &str = "mosaic_fragment_cache_hits_total";
pub const FRAGMENT_CACHE_MISSES: &str = "mosaic_fragment_cache_misses_total";
/// A fragment's rows over a sealed shard found kept from an earlier
/// statement (`--result-cache-bytes`), or computed and offered to it.
pub const RESULT_CACHE_HITS: &str = "mosaic_result_cache_hits_total";
pub const RESULT_CACHE_MISSES: &str = "mosaic_result_cache_misses_total";
/// Bytes of shards copied to this node from its peers.
pub const REPLICATED_BYTES: &str = "mosaic_replicated_bytes_total";
/// Reads of another node's shard from a copy the edge cache keeps here
/// (one copied because this node read it often); reads of the replicas
/// `--replication-factor` places here are not counted.
pub const EDGE_CACHE_HITS: &str = "mosaic_edge_cache_hits_total";
/// Copies the edge cache let go to stay within --edge-cache-bytes.
pub const EDGE_CACHE_EVICTIONS: &str = "mosaic_edge_cache_evictions_total";
/// Other nodes membership knows, by `state` (alive, suspect, down).
pub const MEMBERS: &str = "mosaic_members";
/// Gossip datagrams dropped (forged, malformed, from another cluster).
pub const GOSSIP_DROPPED: &str = "mosaic_gossip_packets_dropped_total";
/// Rows in this node's open segments, not sealed into shards yet (gauge).
pub const OPEN_SEGMENT_ROWS: &str = "mosaic_open_segment_rows";
/// Shards found damaged and not replaced by a healthy copy yet (gauge).
pub const DAMAGED_SHARDS: &str = "mosaic_damaged_shards";
/// Open segments sealed into shards.
pub const SEALS: &str = "mosaic_seals_total";
/// Shards rewritten without their deleted rows (or dropped, when no row
/// was left).
pub const COMPACTIONS: &str = "mosaic_compactions_total";

/// Statement latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// Install the recorder every `metrics::counter!` of the process goes
/// to, and describe the metrics.
pub fn install() -> Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(STATEMENT_SECONDS.into()), BUCKETS)
        .map_err(|e| Error::Internal(format!("metrics: {e}")))?
        .install_recorder()
        .map_err(|e| Error::Internal(format!("metrics: {e}")))?;
    describe();
    // Every counter shows from the first scrape, at 0 until it moves.
    for name in [
        CONNECTIONS_TOTAL,
        SHARDS_PRUNED,
        SHARDS_READ,
        FRAGMENT_CACHE_HITS,
        FRAGMENT_CACHE_MISSES,
        RESULT_CACHE_HITS,
        RESULT_CACHE_MISSES,
        REPLICATED_BYTES,
        EDGE_CACHE_HITS,
        EDGE_CACHE_EVICTIONS,
        GOSSIP_DROPPED,
        SEALS,
        COMPACTIONS,
    ] {
        metrics::counter!(name).increment(0);
    }
    for outcome in ["sent", "retried", "failed"] {
        metrics::counter!(PEER_REQUESTS, "outcome" => outcome).increment(0);
    }
    metrics::gauge!(CONNECTIONS).set(0.0);
    metrics::gauge!(DAMAGED_SHARDS).set(0.0);
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(CONNECTIONS, "Client connections open now");
    describe_counter!(CONNECTIONS_TOTAL, "Client connections accepted");
    describe_counter!(STATEMENTS, "Statements run, by kind and outcome");
    describe_histogram!(
        STATEMENT_SECONDS,
        Unit::Seconds,
        "Statement latency, by kind"
    );
    describe_counter!(PEER_REQUESTS, "Requests to peers: sent, retried, failed");
    describe_counter!(SHARDS_PRUNED, "Shards skipped by their metadata");
    describe_counter!(SHARDS_READ, "Shards read");
    describe_counter!(FRAGMENT_CACHE_HITS, "Compiled SQL found in the cache");
    describe_counter!(FRAGMENT_CACHE_MISSES, "Compiled SQL not in the cache");
    describe_counter!(RESULT_CACHE_HITS, "Shard fragment rows found kept");
    describe_counter!(RESULT_CACHE_MISSES, "Shard fragment rows computed");
    describe_counter!(REPLICATED_BYTES, Unit::Bytes, "Shard bytes copied here");
    describe_counter!(
        EDGE_CACHE_HITS,
        "Reads of edge-cache copies (shards copied here because they were read often)"
    );
    describe_counter!(EDGE_CACHE_EVICTIONS, "Edge-cache copies let go");
    describe_gauge!(MEMBERS, "Other nodes, by membership state");
    describe_counter!(GOSSIP_DROPPED, "Gossip datagrams dropped");
    describe_gauge!(OPEN_SEGMENT_ROWS, "Rows not sealed into shards yet");
    describe_gauge!(DAMAGED_SHARDS, "Damaged shards not replaced yet");
    describe_counter!(SEALS, "Open segments sealed into shards");
    describe_counter!(COMPACTIONS, "Shards rewritten without their deleted rows");
}

/// What `/readyz` answers, and what a scrape refreshes first.
#[derive(Default)]
pub struct Health {
    ready: AtomicBool,
    refresh: parking_lot::Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
}

impl Health {
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Run `f` (blocking work allowed) before each scrape renders.
    pub fn refresh_with(&self, f: impl Fn() + Send + Sync + 'static) {
        *self.refresh.lock() = Some(Arc::new(f));
    }
}

/// Serve `/metrics`, `/healthz` and `/readyz` on `listener` for ever.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    health: Arc<Health>,
) {
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "metrics accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let (handle, health) = (handle.clone(), health.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let (handle, health) = (handle.clone(), health.clone());
                async move { Ok::<_, Infallible>(answer(req, &handle, &health).await) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}

async fn answer<B>(
    req: Request<B>,
    handle: &PrometheusHandle,
    health: &Health,
) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n".into());
    }
    match req.uri().path() {
        "/metrics" => {
            let refresh = health.refresh.lock().clone();
            if let Some(f) = refresh {
                let _ = tokio::task::spawn_blocking(move || f()).await;
            }
            let mut r = text(StatusCode::OK, handle.render());
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" if health.is_ready() => text(StatusCode::OK, "ready\n".into()),
        "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n".into()),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r
}
