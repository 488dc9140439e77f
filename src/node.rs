//! A node: open the store, make sure the bootstrap role exists, serve the
//! PostgreSQL protocol, seal idle segments in the background, and shut
//! down cleanly on SIGTERM or Ctrl-C: stop accepting clients, let running
//! statements finish, seal and hand shards off to peers, leave.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::Cluster;
use crate::config::{Config, TlsSource};
use crate::error::{Error, Result};
use crate::store::catalog::Role;
use crate::store::{Addrs, Store, StoreOptions};

pub fn run(config: Config) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mosaic")
        .thread_stack_size(crate::sql::STACK_SIZE)
        .build()
        .map_err(Error::internal)?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> Result<()> {
    // Health answers from the start: alive, not ready yet.
    let health = Arc::new(crate::observe::Health::default());
    let metrics_addr = match config.metrics_addr {
        Some(addr) => Some(serve_metrics(addr, health.clone()).await?),
        None => None,
    };
    let store = Store::open(
        &config.data,
        StoreOptions {
            shard_max_rows: config.shard_max_rows,
            result_cache_bytes: config.result_cache_bytes,
            vector_cache_bytes: config.vector_cache_bytes,
            // Not a flag: only tests of clock skew set it.
            clock_skew_ms: std::env::var("MOSAIC_CLOCK_SKEW_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            unsealed_copies: config.unsealed_copies,
        },
        config.node_name.clone(),
    )?;
    bootstrap_role(&store, &config)?;
    if config.cluster_secret == crate::config::LOOPBACK_SECRET {
        tracing::warn!(
            "no --cluster-secret: using the built-in secret, which only a loopback cluster address allows"
        );
    }
    // A certificate the node cannot use stops it here, before it listens.
    let tls_files = match &config.tls {
        TlsSource::None => None,
        TlsSource::Files { cert, key } => Some((cert.clone(), key.clone())),
        TlsSource::SelfSigned => Some(self_signed(&config.data, config.listen)?),
    };
    let tls = crate::wire::tls::load(tls_files, config.tls_required)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| Error::InvalidParameter(format!("cannot listen on {}: {e}", config.listen)))?;
    let (cluster_tcp, cluster_udp) = crate::cluster::bind(config.cluster_addr).await?;
    let addrs = Addrs {
        pg: listener.local_addr()?.to_string(),
        cluster: cluster_tcp.local_addr()?.to_string(),
    };
    *store.addrs.write() = addrs.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop_rpc = stop_rx.clone();
    let cluster = Cluster::start(
        store.clone(),
        &config,
        Arc::new(crate::exec::peer::PeerHandler::new(store.clone())),
        cluster_tcp,
        cluster_udp,
        listener.local_addr()?,
        async move {
            let _ = stop_rpc.wait_for(|s| *s).await;
        },
    )
    .await?;
    write_node_json(&config.data, &store.node_name, &addrs, metrics_addr)?;
    tracing::info!(node = %store.node_name, pg = %addrs.pg, cluster = %addrs.cluster, data = %config.data.display(), "MosaicDB node ready");
    health.refresh_with(scrape_gauges(store.clone(), cluster.clone()));
    let readiness = tokio::spawn(become_ready(cluster.clone(), health.clone()));

    let sealer = tokio::spawn(seal_idle(
        store.clone(),
        Duration::from_secs(config.seal_idle_secs.max(1)),
    ));
    let settler = tokio::spawn(crate::exec::settle::run(store.clone(), cluster.clone()));
    let engine = crate::exec::engine::Engine::new(store.clone(), Some(cluster.clone()));
    let stopping = health.clone();
    let shutdown = async move {
        shutdown_signal().await;
        readiness.abort();
        stopping.set_ready(false);
    };
    crate::wire::serve(
        engine.clone(),
        tls,
        config.max_connections,
        listener,
        shutdown,
    )
    .await?;
    tracing::info!("shutting down");
    drain(&engine).await;
    sealer.abort();
    settler.abort();
    // Rows and shards stay readable while this node is away.
    let hand_off = Duration::from_secs(config.shutdown_handoff_secs);
    cluster.hand_off(config.replication_factor, hand_off).await;
    cluster.leave().await;
    let _ = stop_tx.send(true);
    let _ = std::fs::remove_file(config.data.join("node.json"));
    Ok(())
}

/// What a node would find wrong at start without starting (`mosaic config
/// check`): the TLS files it names, loaded, and a data directory it can
/// write (or, not made yet, a parent it can make it in). It creates
/// nothing.
pub fn check(config: &Config) -> Result<()> {
    if let TlsSource::Files { cert, key } = &config.tls {
        crate::wire::tls::load(Some((cert.clone(), key.clone())), config.tls_required)?;
    }
    if let Some(files) = &config.cluster_tls {
        crate::cluster::rpc::PeerTls::load(&files.cert, &files.key, &files.ca)?;
    }
    let data = &config.data;
    let dir = match data.is_dir() {
        true => data.clone(),
        false => {
            let parent = data.parent().filter(|p| !p.as_os_str().is_empty());
            parent.map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        }
    };
    let probe = dir.join(format!(".mosaic-config-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        Error::InvalidParameter(format!(
            "data directory {}: cannot write in {}: {e}",
            data.display(),
            dir.display()
        ))
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Create the bootstrap role on first start; a configured password always
/// wins, otherwise one is generated once and written to
/// DATA/initial-password (mode 0600).
fn bootstrap_role(store: &Store, config: &Config) -> Result<()> {
    let existing = store.catalog.role(&config.user);
    let password = match (&config.password, &existing) {
        (Some(p), _) => p.clone(),
        (None, Some(_)) => return Ok(()),
        (None, None) => {
            let p = crate::auth::generate_password();
            let path = config.data.join("initial-password");
            write_private(&path, &format!("{p}\n"))?;
            eprintln!(
                "mosaic: generated password for user \"{}\": {p} (also in {})",
                config.user,
                path.display()
            );
            p
        }
    };
    // A configured password is the bootstrap user's, whatever ALTER ROLE
    // changed since; its other attributes and memberships stay.
    let verifier = crate::auth::make_verifier(&password);
    let role = match existing {
        Some(r) => Role {
            verifier: Some(verifier),
            superuser: true,
            login: true,
            bootstrap: true,
            ..r
        },
        None => Role::bootstrap(&config.user, verifier),
    };
    store
        .catalog
        .put_role(&config.user, Some(&role), store.hlc.now())
}

/// `DATA/tls/cert.pem` and `key.pem`, generated on first use: a
/// self-signed certificate for localhost, 127.0.0.1, ::1 and the listen
/// address. Clients must not verify it (`sslmode=require`).
fn self_signed(data: &Path, listen: std::net::SocketAddr) -> Result<(PathBuf, PathBuf)> {
    let dir = data.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(&dir)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
    let ip = listen.ip();
    if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
        names.push(ip.to_string());
    }
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::Internal(format!("generating a TLS certificate: {e}")))?;
    write_private(&key, &made.signing_key.serialize_pem())?;
    std::fs::write(&cert, made.cert.pem())?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// DATA/node.json, written atomically once the node is ready.
fn write_node_json(
    dir: &Path,
    name: &str,
    addrs: &Addrs,
    metrics: Option<std::net::SocketAddr>,
) -> Result<()> {
    let json = serde_json::json!({
        "node_name": name,
        "pg_addr": addrs.pg,
        "cluster_addr": addrs.cluster,
        "metrics_addr": metrics.map(|a| a.to_string()),
        "pid": std::process::id(),
    });
    let tmp = dir.join("node.json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&json).map_err(Error::internal)?,
    )?;
    std::fs::rename(&tmp, dir.join("node.json"))?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Seal open segments that stopped changing: a table whose segment has
/// rows and the same row count as one interval ago is sealed.
async fn seal_idle(store: Arc<Store>, every: Duration) {
    let mut last: std::collections::HashMap<String, u64> = Default::default();
    loop {
        tokio::time::sleep(every).await;
        let s = store.clone();
        let prev = last.clone();
        let r = tokio::task::spawn_blocking(move || s.seal_idle(&prev)).await;
        match r {
            Ok(Ok(counts)) => last = counts,
            Ok(Err(e)) => tracing::warn!(error = %e, "idle seal failed"),
            Err(e) => tracing::warn!(error = %e, "idle seal task failed"),
        }
    }
}

/// Install the metrics recorder and serve /metrics, /healthz and /readyz
/// on `addr`; the address bound.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    health: Arc<crate::observe::Health>,
) -> Result<std::net::SocketAddr> {
    let handle = crate::observe::install()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::InvalidParameter(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr()?;
    tokio::spawn(crate::observe::serve(listener, handle, health));
    tracing::info!(addr = %bound, "serving metrics and health");
    Ok(bound)
}

/// How long a node that cannot reach any peer waits before it serves
/// what it has (a node cut off still answers).
const CATCH_UP_GRACE: Duration = Duration::from_secs(5);

/// Ready once the node has the cluster's catalog (`Cluster::caught_up`),
/// or after `CATCH_UP_GRACE` without a peer to pull it from.
async fn become_ready(cluster: Arc<Cluster>, health: Arc<crate::observe::Health>) {
    let started = std::time::Instant::now();
    while !cluster.caught_up() && started.elapsed() < CATCH_UP_GRACE {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    health.set_ready(true);
}

/// The gauges a scrape reads: members by state, gossip dropped, damaged
/// shards, rows not sealed yet.
fn scrape_gauges(store: Arc<Store>, cluster: Arc<Cluster>) -> impl Fn() + Send + Sync {
    move || {
        for (state, n) in cluster.member_states() {
            metrics::gauge!(crate::observe::MEMBERS, "state" => state).set(n as f64);
        }
        metrics::counter!(crate::observe::GOSSIP_DROPPED).absolute(cluster.gossip_dropped());
        metrics::gauge!(crate::observe::DAMAGED_SHARDS).set(store.damaged_shards().len() as f64);
        match store.open_rows() {
            Ok(rows) => metrics::gauge!(crate::observe::OPEN_SEGMENT_ROWS).set(rows as f64),
            Err(e) => tracing::warn!(error = %e, "cannot count open-segment rows"),
        }
    }
}

/// How long a stopping node lets running statements finish.
const DRAIN: Duration = Duration::from_secs(10);

/// On shutdown, once no new client is accepted: let the statements that
/// run finish (up to `DRAIN`) and their results reach their clients.
async fn drain(engine: &crate::exec::engine::Engine) {
    let started = std::time::Instant::now();
    let mut waited = false;
    while engine.running_statements() > 0 && started.elapsed() < DRAIN {
        waited = true;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if waited {
        // The last rows are on their way to the client.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
