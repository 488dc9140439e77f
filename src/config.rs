//! One `Config`: command-line flags, each also read from its `MOSAIC_*`
//! environment variable, over an optional TOML file; checked once.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Parser)]
#[command(
    name = "mosaic",
    version,
    about = "MosaicDB: a masterless distributed SQL database that speaks PostgreSQL"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a node (the default).
    Serve(ServeArgs),
    /// Work with a configuration without starting a node.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Copy the cluster's catalog, sequences and every live shard into a
    /// folder, through a running node (a shard already there is kept).
    Backup(BackupArgs),
    /// Bring a backup back into a cluster without tables, through one of
    /// its nodes.
    Restore(RestoreArgs),
}

/// How `mosaic backup` and `mosaic restore` reach a node: as psql does,
/// from `--url` and then PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// postgresql://USER:PASSWORD@HOST:PORT/DBNAME; what it leaves out
    /// comes from the PG* variables, then localhost:5433, user mosaic.
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The backup folder (made if missing).
    #[arg(long)]
    pub to: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// A folder `mosaic backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read the flags, MOSAIC_* variables and --config file as a node
    /// would, load the TLS files they name, and print the settings they
    /// give; on the first error, say it (naming the key) and exit with 2.
    Check(ServeArgs),
}

#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeArgs {
    /// Data directory.
    #[arg(long, env = "MOSAIC_DATA")]
    pub data: Option<PathBuf>,
    /// PostgreSQL protocol address (TCP); port 0 lets the system choose.
    #[arg(long, env = "MOSAIC_LISTEN")]
    pub listen: Option<String>,
    /// Cluster address (SWIM on UDP, node RPC on TCP, same port).
    #[arg(long, env = "MOSAIC_CLUSTER_ADDR")]
    pub cluster_addr: Option<String>,
    /// The cluster address peers dial (IP:PORT), when it is not the one
    /// bound: behind NAT, or with --cluster-addr 0.0.0.0:PORT.
    #[arg(long, env = "MOSAIC_ADVERTISE_ADDR")]
    pub advertise_addr: Option<String>,
    /// Seed nodes, HOST:PORT,...
    #[arg(long, env = "MOSAIC_JOIN", value_delimiter = ',')]
    pub join: Option<Vec<String>>,
    /// Discovery: dns:NAME:PORT or lan.
    #[arg(long, env = "MOSAIC_DISCOVER")]
    pub discover: Option<String>,
    /// Node name (generated once and kept in the data directory by default).
    #[arg(long, env = "MOSAIC_NODE_NAME")]
    pub node_name: Option<String>,
    /// Shared secret of the cluster.
    #[arg(long, env = "MOSAIC_CLUSTER_SECRET")]
    pub cluster_secret: Option<String>,
    /// This node's certificate (PEM) for TLS between nodes.
    #[arg(long, env = "MOSAIC_CLUSTER_TLS_CERT")]
    pub cluster_tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--cluster-tls-cert`.
    #[arg(long, env = "MOSAIC_CLUSTER_TLS_KEY")]
    pub cluster_tls_key: Option<PathBuf>,
    /// The cluster CA (PEM): every node's certificate must chain to it.
    #[arg(long, env = "MOSAIC_CLUSTER_TLS_CA")]
    pub cluster_tls_ca: Option<PathBuf>,
    /// Seal an open segment into a shard at this many rows.
    #[arg(long, env = "MOSAIC_SHARD_MAX_ROWS")]
    pub shard_max_rows: Option<u64>,
    /// Seal a table's open segment after it has been idle this many seconds.
    #[arg(long, env = "MOSAIC_SEAL_IDLE_SECS")]
    pub seal_idle_secs: Option<u64>,
    /// Copies kept of each sealed shard.
    #[arg(long, env = "MOSAIC_REPLICATION_FACTOR")]
    pub replication_factor: Option<u32>,
    /// Copy every write to this node's unsealed rows to one other node
    /// before the client hears of it, so that they stay readable while
    /// this node is down (on by default).
    #[arg(long, env = "MOSAIC_UNSEALED_COPIES", num_args = 0..=1, default_missing_value = "true")]
    pub unsealed_copies: Option<bool>,
    /// Bytes of shard copies this node may keep beyond its replicas: the
    /// edge cache of shards it keeps reading from other nodes (0: none).
    #[arg(long, env = "MOSAIC_EDGE_CACHE_BYTES")]
    pub edge_cache_bytes: Option<u64>,
    /// Bytes of rows one statement may gather from its peers (beyond: 53200).
    #[arg(long, env = "MOSAIC_GATHER_LIMIT_BYTES")]
    pub gather_limit_bytes: Option<u64>,
    /// Bytes of query results over sealed shards kept for the next
    /// statement that asks the same (0: none kept).
    #[arg(long, env = "MOSAIC_RESULT_CACHE_BYTES")]
    pub result_cache_bytes: Option<u64>,
    /// Bytes of sealed shards' vectors kept in memory for
    /// nearest-neighbour queries (0: none; they read each shard's vec0
    /// index instead).
    #[arg(long, env = "MOSAIC_VECTOR_CACHE_BYTES")]
    pub vector_cache_bytes: Option<u64>,
    /// TLS certificate (PEM).
    #[arg(long, env = "MOSAIC_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "MOSAIC_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// `self-signed` to serve TLS with a certificate generated once into
    /// the data directory (for development).
    #[arg(long, env = "MOSAIC_TLS")]
    pub tls: Option<String>,
    /// Client connections served at once; more are refused (53300).
    #[arg(long, env = "MOSAIC_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,
    /// Refuse connections without TLS, except from loopback.
    #[arg(long, env = "MOSAIC_TLS_REQUIRED", num_args = 0..=1, default_missing_value = "true")]
    pub tls_required: Option<bool>,
    /// Login user of the bootstrap role.
    #[arg(long, env = "MOSAIC_USER")]
    pub user: Option<String>,
    /// Password of the bootstrap role (generated on first start when absent).
    #[arg(long, env = "MOSAIC_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Verify every shard this node holds against its id this often, in
    /// seconds (a damaged one is replaced from a healthy copy).
    #[arg(long, env = "MOSAIC_SCRUB_INTERVAL_SECS")]
    pub scrub_interval_secs: Option<u64>,
    /// On SIGTERM, wait at most this long, in seconds, for peers to copy
    /// each shard held here until it has the replication factor elsewhere.
    #[arg(long, env = "MOSAIC_SHUTDOWN_HANDOFF_SECS")]
    pub shutdown_handoff_secs: Option<u64>,
    /// Serve Prometheus metrics (/metrics) and health checks (/healthz,
    /// /readyz) over HTTP here; off when absent.
    #[arg(long, env = "MOSAIC_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// TOML configuration file; flags and environment win over it.
    #[arg(long, env = "MOSAIC_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

impl ServeArgs {
    /// Fill every unset field from `other`.
    fn or(self, other: ServeArgs) -> ServeArgs {
        ServeArgs {
            data: self.data.or(other.data),
            listen: self.listen.or(other.listen),
            cluster_addr: self.cluster_addr.or(other.cluster_addr),
            advertise_addr: self.advertise_addr.or(other.advertise_addr),
            join: self.join.or(other.join),
            discover: self.discover.or(other.discover),
            node_name: self.node_name.or(other.node_name),
            cluster_secret: self.cluster_secret.or(other.cluster_secret),
            cluster_tls_cert: self.cluster_tls_cert.or(other.cluster_tls_cert),
            cluster_tls_key: self.cluster_tls_key.or(other.cluster_tls_key),
            cluster_tls_ca: self.cluster_tls_ca.or(other.cluster_tls_ca),
            shard_max_rows: self.shard_max_rows.or(other.shard_max_rows),
            seal_idle_secs: self.seal_idle_secs.or(other.seal_idle_secs),
            replication_factor: self.replication_factor.or(other.replication_factor),
            unsealed_copies: self.unsealed_copies.or(other.unsealed_copies),
            edge_cache_bytes: self.edge_cache_bytes.or(other.edge_cache_bytes),
            gather_limit_bytes: self.gather_limit_bytes.or(other.gather_limit_bytes),
            result_cache_bytes: self.result_cache_bytes.or(other.result_cache_bytes),
            vector_cache_bytes: self.vector_cache_bytes.or(other.vector_cache_bytes),
            tls_cert: self.tls_cert.or(other.tls_cert),
            tls_key: self.tls_key.or(other.tls_key),
            tls: self.tls.or(other.tls),
            tls_required: self.tls_required.or(other.tls_required),
            max_connections: self.max_connections.or(other.max_connections),
            user: self.user.or(other.user),
            password: self.password.or(other.password),
            metrics_addr: self.metrics_addr.or(other.metrics_addr),
            scrub_interval_secs: self.scrub_interval_secs.or(other.scrub_interval_secs),
            shutdown_handoff_secs: self.shutdown_handoff_secs.or(other.shutdown_handoff_secs),
            config: self.config.or(other.config),
        }
    }
}

/// The validated configuration of one node.
#[derive(Debug, Clone)]
pub struct Config {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub cluster_addr: SocketAddr,
    /// What peers are told to dial, when not `cluster_addr`.
    pub advertise_addr: Option<SocketAddr>,
    pub join: Vec<String>,
    pub discover: Option<Discover>,
    /// The cluster secret; on a loopback cluster address a fixed one is
    /// used when none is given.
    pub cluster_secret: String,
    /// TLS between nodes, when configured.
    pub cluster_tls: Option<ClusterTls>,
    pub node_name: Option<String>,
    pub shard_max_rows: u64,
    /// How many live nodes keep a copy of each sealed shard.
    pub replication_factor: usize,
    /// Whether this node copies its unsealed rows to another node.
    pub unsealed_copies: bool,
    /// The edge cache's budget in bytes.
    pub edge_cache_bytes: u64,
    /// Bytes of rows one statement may gather from its peers.
    pub gather_limit_bytes: u64,
    /// Bytes of query results over sealed shards kept for reuse.
    pub result_cache_bytes: u64,
    /// Bytes of sealed shards' vectors kept in memory.
    pub vector_cache_bytes: u64,
    pub seal_idle_secs: u64,
    pub user: String,
    pub password: Option<String>,
    /// Where the Postgres port's TLS certificate comes from.
    pub tls: TlsSource,
    /// Connections without TLS are refused, except from loopback.
    pub tls_required: bool,
    /// Client connections served at once.
    pub max_connections: usize,
    /// Where /metrics, /healthz and /readyz are served, when they are.
    pub metrics_addr: Option<SocketAddr>,
    /// Seconds between two verifications of every shard held.
    pub scrub_interval_secs: u64,
    /// Seconds a stopping node waits for its shards to be copied.
    pub shutdown_handoff_secs: u64,
}

impl Config {
    /// The settings in force, by their mosaic.toml keys: a TOML value, or
    /// `# note` for what has no value to show (unset, generated, secret:
    /// secrets are only said to be set).
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let q = |s: &str| format!("{s:?}");
        let addr = |a: &SocketAddr| q(&a.to_string());
        let list = |v: &[String]| {
            format!(
                "[{}]",
                v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
            )
        };
        let secret = match self.cluster_secret.as_str() {
            LOOPBACK_SECRET => "# built in (loopback cluster address only)".to_string(),
            _ => "# set".to_string(),
        };
        let tls = match &self.tls {
            TlsSource::None => "# none".to_string(),
            TlsSource::SelfSigned => q("self-signed"),
            TlsSource::Files { cert, key } => format!(
                "# tls-cert = {}, tls-key = {}",
                q(&cert.display().to_string()),
                q(&key.display().to_string())
            ),
        };
        vec![
            ("data", q(&self.data.display().to_string())),
            ("listen", addr(&self.listen)),
            ("cluster-addr", addr(&self.cluster_addr)),
            (
                "advertise-addr",
                self.advertise_addr
                    .as_ref()
                    .map_or("# the cluster address".into(), addr),
            ),
            ("join", list(&self.join)),
            (
                "discover",
                match &self.discover {
                    None => "# none".into(),
                    Some(Discover::Lan) => q("lan"),
                    Some(Discover::Dns { name, port }) => q(&format!("dns:{name}:{port}")),
                },
            ),
            (
                "node-name",
                self.node_name
                    .as_deref()
                    .map_or("# generated once".into(), q),
            ),
            ("cluster-secret", secret),
            (
                "cluster-tls",
                if self.cluster_tls.is_some() {
                    "# on".into()
                } else {
                    "# off".into()
                },
            ),
            ("shard-max-rows", self.shard_max_rows.to_string()),
            ("seal-idle-secs", self.seal_idle_secs.to_string()),
            ("replication-factor", self.replication_factor.to_string()),
            ("unsealed-copies", self.unsealed_copies.to_string()),
            ("edge-cache-bytes", self.edge_cache_bytes.to_string()),
            ("gather-limit-bytes", self.gather_limit_bytes.to_string()),
            ("result-cache-bytes", self.result_cache_bytes.to_string()),
            ("vector-cache-bytes", self.vector_cache_bytes.to_string()),
            ("tls", tls),
            ("tls-required", self.tls_required.to_string()),
            ("max-connections", self.max_connections.to_string()),
            ("user", q(&self.user)),
            (
                "password",
                if self.password.is_some() {
                    "# set".into()
                } else {
                    "# generated on first start".into()
                },
            ),
            (
                "metrics-addr",
                self.metrics_addr.as_ref().map_or("# off".into(), addr),
            ),
            ("scrub-interval-secs", self.scrub_interval_secs.to_string()),
            (
                "shutdown-handoff-secs",
                self.shutdown_handoff_secs.to_string(),
            ),
        ]
    }
}

/// The Postgres port's TLS certificate and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// No TLS: SSLRequest is answered "no".
    None,
    /// PEM files given with `--tls-cert` and `--tls-key`.
    Files { cert: PathBuf, key: PathBuf },
    /// Generated once into `DATA/tls/` (`--tls self-signed`).
    SelfSigned,
}

impl TlsSource {
    fn of(args: &ServeArgs, keys: &Keys) -> Result<TlsSource> {
        match (&args.tls, &args.tls_cert, &args.tls_key) {
            (None, None, None) => Ok(TlsSource::None),
            (None, Some(cert), Some(key)) => Ok(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, Some(_), None) => Err(keys.error("tls-cert", |k| {
                format!("{} needs {}", k("tls-cert"), k("tls-key"))
            })),
            (None, None, Some(_)) => Err(keys.error("tls-key", |k| {
                format!("{} needs {}", k("tls-key"), k("tls-cert"))
            })),
            (Some(t), None, None) if t == "self-signed" => Ok(TlsSource::SelfSigned),
            (Some(t), None, None) => Err(keys.error("tls", |k| {
                format!(
                    "invalid {} {t:?}: the only value is self-signed (or give {} and {})",
                    k("tls"),
                    k("tls-cert"),
                    k("tls-key")
                )
            })),
            (Some(_), _, _) => Err(keys.error("tls", |k| {
                format!(
                    "{} self-signed and {}/{} exclude each other",
                    k("tls"),
                    k("tls-cert"),
                    k("tls-key")
                )
            })),
        }
    }
}

/// The PEM files of TLS between nodes: this node's certificate and key,
/// and the cluster CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

impl ClusterTls {
    fn of(args: &ServeArgs, keys: &Keys) -> Result<Option<ClusterTls>> {
        match (
            &args.cluster_tls_cert,
            &args.cluster_tls_key,
            &args.cluster_tls_ca,
        ) {
            (None, None, None) => Ok(None),
            (Some(cert), Some(key), Some(ca)) => Ok(Some(ClusterTls {
                cert: cert.clone(),
                key: key.clone(),
                ca: ca.clone(),
            })),
            _ => Err(keys.error("cluster-tls-cert", |k| {
                format!(
                    "{}, {} and {} go together",
                    k("cluster-tls-cert"),
                    k("cluster-tls-key"),
                    k("cluster-tls-ca")
                )
            })),
        }
    }
}

/// The secret of a cluster that only listens on loopback and was given none.
pub const LOOPBACK_SECRET: &str = "mosaic-loopback-cluster";

/// How a node finds peers besides its `--join` seeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discover {
    /// Every address `name` resolves to, re-resolved periodically (a
    /// Kubernetes headless service).
    Dns { name: String, port: u16 },
    /// UDP multicast announcements on the local network.
    Lan,
}

impl Discover {
    pub fn parse(s: &str) -> Result<Discover> {
        if s == "lan" {
            return Ok(Discover::Lan);
        }
        let bad = || {
            Error::InvalidParameter(format!(
                "invalid --discover {s:?}: expected dns:NAME:PORT or lan"
            ))
        };
        let rest = s.strip_prefix("dns:").ok_or_else(bad)?;
        let (name, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let port = port.parse().map_err(|_| bad())?;
        if name.is_empty() {
            return Err(bad());
        }
        Ok(Discover::Dns {
            name: name.to_string(),
            port,
        })
    }
}

/// How an error names a setting: `--key` when a flag or its `MOSAIC_*`
/// variable gave it, `FILE: key` when the TOML file did.
struct Keys<'a> {
    /// The flags and variables, before the file filled what they left unset.
    flags: &'a ServeArgs,
    file: Option<&'a std::path::Path>,
}

impl Keys<'_> {
    /// Whether a flag or variable gave `key`'s value (else the file did,
    /// or its default stands). The three cluster TLS files go together.
    fn by_flag(&self, key: &str) -> bool {
        let f = self.flags;
        match key {
            "listen" => f.listen.is_some(),
            "cluster-addr" => f.cluster_addr.is_some(),
            "advertise-addr" => f.advertise_addr.is_some(),
            "metrics-addr" => f.metrics_addr.is_some(),
            "discover" => f.discover.is_some(),
            "shard-max-rows" => f.shard_max_rows.is_some(),
            "replication-factor" => f.replication_factor.is_some(),
            "unsealed-copies" => f.unsealed_copies.is_some(),
            "max-connections" => f.max_connections.is_some(),
            "tls" => f.tls.is_some(),
            "tls-cert" => f.tls_cert.is_some(),
            "tls-key" => f.tls_key.is_some(),
            "tls-required" => f.tls_required.is_some(),
            "cluster-tls-cert" | "cluster-tls-key" | "cluster-tls-ca" => {
                f.cluster_tls_cert.is_some()
                    || f.cluster_tls_key.is_some()
                    || f.cluster_tls_ca.is_some()
            }
            _ => false,
        }
    }

    /// The error `what` says about the value of `key`, naming keys with
    /// the `k` it is given: as flags when a flag or variable gave that
    /// value, else as the file's keys after the file's name.
    fn error(&self, key: &str, what: impl FnOnce(&dyn Fn(&str) -> String) -> String) -> Error {
        match self.file.filter(|_| !self.by_flag(key)) {
            Some(file) => {
                Error::InvalidParameter(format!("{}: {}", file.display(), what(&|k| k.to_string())))
            }
            None => Error::InvalidParameter(what(&|k| format!("--{k}"))),
        }
    }

    /// `key`'s address, or `default` when it has none.
    fn addr(&self, key: &str, value: Option<String>, default: &str) -> Result<SocketAddr> {
        let v = value.unwrap_or_else(|| default.to_string());
        v.parse().map_err(|_| {
            self.error(key, |k| {
                format!("invalid {} {v:?}: expected IP:PORT", k(key))
            })
        })
    }

    /// `key`'s address when it has one.
    fn some_addr(&self, key: &str, value: Option<String>) -> Result<Option<SocketAddr>> {
        value.map(|v| self.addr(key, Some(v), "")).transpose()
    }

    fn at_least_one(&self, key: &str, n: u64) -> Result<()> {
        match n {
            0 => Err(self.error(key, |k| format!("{} must be at least 1", k(key)))),
            _ => Ok(()),
        }
    }
}

/// The flags and variables over the TOML file `--config` names, if any.
fn with_file(flags: &ServeArgs) -> Result<ServeArgs> {
    let Some(path) = &flags.config else {
        return Ok(flags.clone());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidParameter(format!("cannot read {}: {e}", path.display())))?;
    let file: ServeArgs = toml::from_str(&text)
        .map_err(|e| Error::InvalidParameter(format!("invalid config {}: {e}", path.display())))?;
    Ok(flags.clone().or(file))
}

impl Config {
    /// Merge flags/env over the TOML file (if any) and validate.
    pub fn from_args(flags: ServeArgs) -> Result<Config> {
        let args = with_file(&flags)?;
        let keys = Keys {
            flags: &flags,
            file: flags.config.as_deref(),
        };
        let tls = TlsSource::of(&args, &keys)?;
        let cluster_tls = ClusterTls::of(&args, &keys)?;
        let shard_max_rows = args.shard_max_rows.unwrap_or(100_000);
        keys.at_least_one("shard-max-rows", shard_max_rows)?;
        let replication_factor = args.replication_factor.unwrap_or(2);
        keys.at_least_one("replication-factor", replication_factor.into())?;
        let cluster_addr = keys.addr("cluster-addr", args.cluster_addr, "127.0.0.1:7946")?;
        let advertise_addr = keys.some_addr("advertise-addr", args.advertise_addr)?;
        if let Some(a) = advertise_addr.filter(|a| a.ip().is_unspecified() || a.port() == 0) {
            return Err(keys.error("advertise-addr", |k| {
                format!(
                    "{} {a} is no address a peer can dial: name an IP and a port",
                    k("advertise-addr")
                )
            }));
        }
        let loopback =
            cluster_addr.ip().is_loopback() && advertise_addr.is_none_or(|a| a.ip().is_loopback());
        let cluster_secret =
            match args.cluster_secret {
                Some(s) if !s.is_empty() => s,
                _ if loopback => LOOPBACK_SECRET.to_string(),
                _ => return Err(Error::InvalidParameter(
                    "--cluster-secret is required when --cluster-addr is not a loopback address"
                        .into(),
                )),
            };
        let discover = match args.discover.as_deref() {
            Some(d) => Some(Discover::parse(d).map_err(|_| {
                keys.error("discover", |k| {
                    format!(
                        "invalid {} {d:?}: expected dns:NAME:PORT or lan",
                        k("discover")
                    )
                })
            })?),
            None => None,
        };
        let tls_required = args.tls_required.unwrap_or(false);
        let max_connections = args.max_connections.unwrap_or(100);
        keys.at_least_one("max-connections", max_connections.into())?;
        if tls_required && tls == TlsSource::None {
            return Err(keys.error("tls-required", |k| {
                format!(
                    "{} needs a certificate: {} and {}, or {} self-signed",
                    k("tls-required"),
                    k("tls-cert"),
                    k("tls-key"),
                    k("tls")
                )
            }));
        }
        Ok(Config {
            metrics_addr: keys.some_addr("metrics-addr", args.metrics_addr)?,
            scrub_interval_secs: args.scrub_interval_secs.unwrap_or(3600),
            shutdown_handoff_secs: args.shutdown_handoff_secs.unwrap_or(20),
            data: args.data.unwrap_or_else(|| PathBuf::from("./mosaic-data")),
            listen: keys.addr("listen", args.listen, "127.0.0.1:5433")?,
            cluster_addr,
            advertise_addr,
            join: args.join.unwrap_or_default(),
            discover,
            cluster_secret,
            cluster_tls,
            node_name: args.node_name,
            shard_max_rows,
            replication_factor: replication_factor as usize,
            unsealed_copies: args.unsealed_copies.unwrap_or(true),
            edge_cache_bytes: args.edge_cache_bytes.unwrap_or(1 << 30),
            gather_limit_bytes: args.gather_limit_bytes.unwrap_or(1 << 30),
            result_cache_bytes: args.result_cache_bytes.unwrap_or(256 << 20),
            vector_cache_bytes: args.vector_cache_bytes.unwrap_or(512 << 20),
            seal_idle_secs: args.seal_idle_secs.unwrap_or(60),
            user: args.user.unwrap_or_else(|| "mosaic".to_string()),
            password: args.password,
            tls,
            tls_required,
            max_connections: max_connections as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mosaic.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:6000\"\nshard-max-rows = 7\n").unwrap();
        let args = ServeArgs {
            config: Some(path),
            shard_max_rows: Some(9),
            ..Default::default()
        };
        let cfg = Config::from_args(args).unwrap();
        assert_eq!(cfg.listen.port(), 6000);
        assert_eq!(cfg.shard_max_rows, 9);
    }

    #[test]
    fn discovery_forms_parse() {
        assert_eq!(Discover::parse("lan").unwrap(), Discover::Lan);
        assert_eq!(
            Discover::parse("dns:mosaic.default.svc:7946").unwrap(),
            Discover::Dns {
                name: "mosaic.default.svc".into(),
                port: 7946
            }
        );
        assert!(Discover::parse("dns:nohost").is_err());
        assert!(Discover::parse("mdns").is_err());
    }

    #[test]
    fn a_public_cluster_address_needs_a_secret() {
        let args = ServeArgs {
            cluster_addr: Some("0.0.0.0:7946".into()),
            ..Default::default()
        };
        assert!(Config::from_args(args).is_err());
    }

    #[test]
    fn an_advertised_address_is_one_a_peer_can_dial() {
        let with = |advertise: &str, secret: Option<&str>| {
            Config::from_args(ServeArgs {
                cluster_addr: Some("127.0.0.1:7946".into()),
                advertise_addr: Some(advertise.into()),
                cluster_secret: secret.map(String::from),
                ..Default::default()
            })
        };
        assert!(with("0.0.0.0:7946", Some("s")).is_err());
        assert!(with("10.0.0.7:0", Some("s")).is_err());
        // Peers outside loopback dial it: the built-in secret will not do.
        assert!(with("10.0.0.7:7946", None).is_err());
        let ok = with("10.0.0.7:7946", Some("s")).unwrap();
        assert_eq!(ok.advertise_addr, Some("10.0.0.7:7946".parse().unwrap()));
        assert!(with("127.0.0.1:7000", None).is_ok());
    }

    #[test]
    fn a_bad_address_is_an_error_naming_its_key() {
        let err = |args: ServeArgs| match Config::from_args(args) {
            Err(e) => e.to_string(),
            Ok(c) => panic!("accepted {c:?}"),
        };
        let e = err(ServeArgs {
            listen: Some("nowhere".into()),
            ..Default::default()
        });
        assert!(e.contains("invalid --listen \"nowhere\""), "{e}");
        let e = err(ServeArgs {
            cluster_addr: Some("nowhere".into()),
            ..Default::default()
        });
        assert!(e.contains("invalid --cluster-addr \"nowhere\""), "{e}");
        let e = err(ServeArgs {
            advertise_addr: Some("nowhere".into()),
            ..Default::default()
        });
        assert!(e.contains("invalid --advertise-addr \"nowhere\""), "{e}");

        // From the file: the file and the key as written there; a flag
        // that gives the value instead is named as the flag.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mosaic.toml");
        std::fs::write(
            &path,
            "metrics-addr = \"nowhere:9464\"\nshard-max-rows = 0\n",
        )
        .unwrap();
        let file = |args: ServeArgs| {
            err(ServeArgs {
                config: Some(path.clone()),
                ..args
            })
        };
        let e = file(ServeArgs {
            shard_max_rows: Some(5),
            ..Default::default()
        });
        let want = format!("{}: invalid metrics-addr \"nowhere:9464\"", path.display());
        assert!(e.contains(&want), "{e}");
        let e = file(ServeArgs::default());
        let want = format!("{}: shard-max-rows must be at least 1", path.display());
        assert!(e.contains(&want), "{e}");
        let e = file(ServeArgs {
            shard_max_rows: Some(5),
            metrics_addr: Some("127.0.0.1:x".into()),
            ..Default::default()
        });
        assert!(e.contains("invalid --metrics-addr \"127.0.0.1:x\""), "{e}");
    }
}
