//! The commands that are clients of a running node rather than a node:
//! `mosaic backup` and `mosaic restore`. They connect as psql does and
//! speak only SQL to the node (the functions of `exec::backup`); the files
//! they write and read are checked with the store's own shard
//! verification.

mod backup;
mod restore;
mod tls;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use tokio_postgres::config::Host;

use crate::config::ConnectArgs;
use crate::error::{Error, Result};

pub use backup::backup;
pub use restore::restore;

/// Bytes per chunk, as the node sends them (`exec::backup::CHUNK_BYTES`);
/// a shorter chunk is a file's last.
const CHUNK_BYTES: usize = 1 << 20;

/// The connection settings: `--url` first, then PGHOST, PGPORT, PGUSER,
/// PGPASSWORD and PGDATABASE for what it leaves out, then the node's
/// defaults (localhost:5433, user mosaic); and the TLS mode and root
/// certificate (`tls::split`).
fn connect_config(
    args: &ConnectArgs,
) -> Result<(tokio_postgres::Config, tls::Mode, Option<String>)> {
    let (url, mode, root) = tls::split(args.url.as_deref())?;
    let mut cfg = match &url {
        Some(url) => url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| Error::InvalidParameter(format!("--url: {e}")))?,
        None => tokio_postgres::Config::new(),
    };
    cfg.ssl_mode(mode.ssl_mode());
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if cfg.get_hosts().is_empty() {
        cfg.host(env("PGHOST").as_deref().unwrap_or("localhost"));
    }
    if cfg.get_ports().is_empty() {
        let port = match env("PGPORT") {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| Error::InvalidParameter(format!("PGPORT: \"{p}\" is not a port")))?,
            None => 5433,
        };
        cfg.port(port);
    }
    if cfg.get_user().is_none() {
        cfg.user(env("PGUSER").as_deref().unwrap_or("mosaic"));
    }
    if cfg.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            cfg.password(p);
        }
    }
    if cfg.get_dbname().is_none() {
        if let Some(d) = env("PGDATABASE") {
            cfg.dbname(d);
        }
    }
    Ok((cfg, mode, root))
}

/// A connection to the node `args` name, driven on the current runtime.
async fn connect(args: &ConnectArgs) -> Result<tokio_postgres::Client> {
    let (cfg, mode, root) = connect_config(args)?;
    let target = match (cfg.get_hosts().first(), cfg.get_ports().first()) {
        (Some(Host::Tcp(h)), Some(p)) => format!("{h}:{p}"),
        _ => "the node".to_string(),
    };
    let refused = |e: tokio_postgres::Error| {
        Error::Unavailable(format!("cannot connect to {target}: {}", db_error(&e)))
    };
    match tls::connector(mode, root.as_deref())? {
        None => {
            let (client, connection) = cfg.connect(tokio_postgres::NoTls).await.map_err(refused)?;
            tokio::spawn(drive(connection));
            Ok(client)
        }
        Some(tls) => {
            let (client, connection) = cfg.connect(tls).await.map_err(refused)?;
            tokio::spawn(drive(connection));
            Ok(client)
        }
    }
}

/// Run a connection until it ends.
async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let Err(e) = connection.await {
        tracing::warn!(error = %e, "connection to the node ended");
    }
}

/// A client error as the node said it: its message and SQLSTATE.
fn db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            // The cause, too: "error performing TLS handshake: invalid
            // peer certificate: …".
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text = format!("{text}: {c}");
                cause = c.source();
            }
            text
        }
    }
}

fn sql_error(e: tokio_postgres::Error) -> Error {
    Error::Unavailable(format!("the node answered: {}", db_error(&e)))
}

/// Progress of a long transfer: a bar on a terminal, otherwise a log line
/// every few seconds.
struct Progress {
    what: &'static str,
    bar: Option<indicatif::ProgressBar>,
    total_shards: usize,
    shards: usize,
    bytes: u64,
    last_line: Instant,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(5);

    fn new(what: &'static str, total_shards: usize, total_bytes: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total_bytes);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        let p = Progress {
            what,
            bar,
            total_shards,
            shards: 0,
            bytes: 0,
            last_line: Instant::now(),
        };
        if total_shards > 0 {
            p.show();
        }
        p
    }

    fn bytes(&mut self, n: u64) {
        self.bytes += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.last_line.elapsed() >= Self::EVERY {
            self.last_line = Instant::now();
            self.show();
        }
    }

    fn shard_done(&mut self) {
        self.shards += 1;
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{}: shard {}/{}",
                self.what, self.shards, self.total_shards
            ));
        }
    }

    fn show(&self) {
        match &self.bar {
            Some(bar) => bar.set_message(format!(
                "{}: shard {}/{}",
                self.what, self.shards, self.total_shards
            )),
            None => eprintln!(
                "{}: {}/{} shards, {} bytes so far",
                self.what, self.shards, self.total_shards, self.bytes
            ),
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The runtime a command's connection runs on.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::internal)
}
