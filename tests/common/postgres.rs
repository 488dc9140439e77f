//! A throwaway PostgreSQL 15 server for tests that compare MosaicDB with the
//! real thing: `initdb` into a temp dir, `pg_ctl start` on a free loopback
//! port, trust authentication, `C.UTF-8` locale (code-point order, Unicode
//! case mapping). Dropping it stops the server and removes the directory.
//!
//! The binaries come from `scripts/install-test-deps.sh`; a missing one
//! fails the test with that hint rather than skipping it. PostgreSQL refuses
//! to run as root, so under root the server runs as the `postgres` user the
//! Debian package creates.

use std::path::{Path, PathBuf};
use std::process::Command;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Postgres {
    port: u16,
    data: PathBuf,
    as_postgres: bool,
    // Declared last so the directory outlives the server.
    dir: tempfile::TempDir,
}

impl Postgres {
    pub fn start() -> Postgres {
        let initdb = Path::new(PG_BIN).join("initdb");
        assert!(
            initdb.exists(),
            "{} is missing: run scripts/install-test-deps.sh",
            initdb.display()
        );
        let dir = tempfile::tempdir().expect("temp dir for PostgreSQL");
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()));
        }
        let data = dir.path().join("data");
        let port = free_port();
        let server = Postgres {
            port,
            data,
            as_postgres,
            dir,
        };
        let data = server.data.display().to_string();
        server.pg(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c timezone=UTC",
            server.dir.path().display()
        );
        let log = server.dir.path().join("server.log").display().to_string();
        server.pg(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
        server
    }

    pub fn conn_string(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Runs one of the server's binaries to completion.
    fn pg(&self, tool: &str, args: &[&str]) {
        run(self.command(tool).args(args));
    }

    /// One of the server's binaries, as `postgres` under root.
    fn command(&self, tool: &str) -> Command {
        let path = Path::new(PG_BIN).join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
