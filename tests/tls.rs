//! TLS on the PostgreSQL port, with psql (libpq) as the client:
//! `--tls self-signed` serves `sslmode=require`, a certificate from a test
//! CA passes `sslmode=verify-full`, SCRAM-SHA-256-PLUS binds the login to
//! the TLS channel (`channel_binding=require`) and is never offered on a
//! plaintext connection, and a flag the node cannot honour stops it at
//! start. Between nodes, TLS with a cluster CA carries every RPC and keeps
//! out a node without a certificate the CA signed.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{TestNode, PASSWORD, USER};

/// psql with a libpq connection string to `node` plus `extra` keywords.
fn psql(node: &TestNode, extra: &str, sql: &str) -> Output {
    let (host, port) = node.pg_addr().rsplit_once(':').expect("host:port");
    let host = if extra.contains("verify-full") {
        "localhost"
    } else {
        host
    };
    let conn = format!("host={host} port={port} user={USER} dbname=mosaic {extra}");
    Command::new("psql")
        .args([&conn, "-X", "-A", "-t", "-c", sql])
        .env("PGPASSWORD", PASSWORD)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("run psql (scripts/install-test-deps.sh installs it)")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn err(out: &Output) -> String {
    assert!(!out.status.success(), "psql should have failed");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn self_signed_serves_tls_and_channel_binding() {
    let node = TestNode::start_with(&["--tls", "self-signed"]);
    let tls = node.data_dir().join("tls");
    assert!(tls.join("cert.pem").exists() && tls.join("key.pem").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tls.join("key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the key is readable by others: {mode:o}");

    assert_eq!(ok(&psql(&node, "sslmode=require", "SELECT 1")), "1");
    // SCRAM-SHA-256-PLUS: the login is bound to this TLS channel.
    assert_eq!(
        ok(&psql(
            &node,
            "sslmode=require channel_binding=require",
            "SELECT 2"
        )),
        "2"
    );
    // Plaintext still works from loopback, and never offers -PLUS (libpq
    // would refuse a server that did).
    assert_eq!(ok(&psql(&node, "sslmode=disable", "SELECT 3")), "3");
    assert!(err(&psql(
        &node,
        "sslmode=disable channel_binding=require",
        "SELECT 4"
    ))
    .contains("channel binding required"));
    // A wrong password is still refused over TLS.
    let out = Command::new("psql")
        .args([
            &format!(
                "host=127.0.0.1 port={} user={USER} dbname=mosaic sslmode=require",
                node.pg_addr().rsplit_once(':').unwrap().1
            ),
            "-c",
            "SELECT 5",
        ])
        .env("PGPASSWORD", "wrong")
        .output()
        .unwrap();
    assert!(
        err(&out).contains(&format!(
            "FATAL:  password authentication failed for user \"{USER}\""
        )),
        "{out:?}"
    );
    // The certificate is made once and kept across restarts.
    let before = std::fs::read(tls.join("cert.pem")).unwrap();
    let mut node = node;
    node.restart();
    assert_eq!(std::fs::read(tls.join("cert.pem")).unwrap(), before);
    assert_eq!(ok(&psql(&node, "sslmode=require", "SELECT 6")), "6");
}

/// A CA called `ca_name` and a certificate it signed for localhost, as PEM
/// files in `dir`:
/// (ca.pem, cert.pem, key.pem).
fn test_ca(dir: &Path, ca_name: &str) -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer).unwrap();
    let path = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    (
        path("ca.pem", ca_cert.pem()),
        path("cert.pem", cert.pem()),
        path("key.pem", key.serialize_pem()),
    )
}

#[test]
fn a_certificate_from_a_ca_passes_verify_full() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_ca(dir.path(), "MosaicDB test CA");
    let node = TestNode::start_with(&["--tls-cert", &cert, "--tls-key", &key, "--tls-required"]);
    let verify = format!("sslmode=verify-full sslrootcert={ca}");
    assert_eq!(ok(&psql(&node, &verify, "SELECT 1")), "1");
    assert_eq!(
        ok(&psql(
            &node,
            &format!("{verify} channel_binding=require"),
            "SELECT 2"
        )),
        "2"
    );
    // Another CA's client does not trust it.
    let other = tempfile::tempdir().unwrap();
    let (other_ca, _, _) = test_ca(other.path(), "Another CA");
    let out = psql(
        &node,
        &format!("sslmode=verify-full sslrootcert={other_ca}"),
        "SELECT 3",
    );
    assert!(err(&out).contains("certificate verify failed"), "{out:?}");
    // --tls-required leaves loopback free to connect without TLS.
    assert_eq!(ok(&psql(&node, "sslmode=disable", "SELECT 4")), "4");
    // psycopg (libpq too, through Python) verifies it the same way.
    let port = node.pg_addr().rsplit_once(':').unwrap().1.to_string();
    let script = "import sys, psycopg\n\
        c = psycopg.connect(sys.argv[1])\n\
        print(c.pgconn.ssl_in_use, c.execute('SELECT 40 + 2').fetchone()[0])\n";
    let dsn = format!(
        "host=localhost port={port} user={USER} password={PASSWORD} dbname=mosaic \
         sslmode=verify-full sslrootcert={ca} channel_binding=require"
    );
    let out = Command::new("python3")
        .args(["-c", script, &dsn])
        .output()
        .expect("run python3 (scripts/install-test-deps.sh installs psycopg)");
    assert_eq!(ok(&out), "True 42");
}

/// What the node prints when it refuses to start with `args`.
fn refused_start(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .arg("--data")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--cluster-addr", "127.0.0.1:0"])
        .args(args)
        .env("MOSAIC_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} started");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn flags_the_node_cannot_honour_stop_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem").display().to_string();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let garbage = garbage.display().to_string();
    for (args, says) in [
        (vec!["--tls-cert", &missing], "--tls-cert needs --tls-key"),
        (vec!["--tls", "on"], "the only value is self-signed"),
        (vec!["--tls-required"], "--tls-required needs a certificate"),
        (
            vec!["--tls-cert", &missing, "--tls-key", &missing],
            "cannot read TLS certificate",
        ),
        (
            vec!["--tls-cert", &garbage, "--tls-key", &garbage],
            "no certificate in",
        ),
        (
            vec![
                "--cluster-tls-cert",
                &missing,
                "--cluster-tls-key",
                &missing,
            ],
            "--cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca go together",
        ),
        (
            vec![
                "--cluster-tls-cert",
                &garbage,
                "--cluster-tls-key",
                &garbage,
                "--cluster-tls-ca",
                &garbage,
            ],
            "no certificate in",
        ),
    ] {
        let stderr = refused_start(&args);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// This machine's first IPv4 address that is not loopback.
fn outside_address() -> String {
    let out = Command::new("hostname")
        .arg("-I")
        .output()
        .expect("run hostname -I");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .expect("this test needs a non-loopback IPv4 address on this machine (hostname -I)")
        .to_string()
}

#[test]
fn tls_required_refuses_plaintext_from_other_hosts() {
    let node = TestNode::start_with(&[
        "--tls",
        "self-signed",
        "--tls-required",
        "--listen",
        "0.0.0.0:0",
    ]);
    let port = node.pg_addr().rsplit_once(':').unwrap().1.to_string();
    let ip = outside_address();
    let run = |mode: &str| {
        Command::new("psql")
            .args([
                &format!("host={ip} port={port} user={USER} dbname=mosaic sslmode={mode}"),
                "-X",
                "-A",
                "-t",
                "-c",
                "SELECT 1",
            ])
            .env("PGPASSWORD", PASSWORD)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .unwrap()
    };
    assert_eq!(ok(&run("require")), "1");
    let refused = err(&run("disable"));
    assert!(
        refused.contains(&format!(
            "no pg_hba.conf entry for host \"{ip}\", user \"{USER}\", database \"mosaic\", no encryption"
        )),
        "{refused}"
    );
}

/// Two nodes with TLS between them and a node of another CA: rows cross
/// between the two (queries and shard copies travel over TLS RPC), the
/// third is kept out.
#[tokio::test(flavor = "multi_thread")]
async fn nodes_talk_over_tls_with_a_cluster_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_ca(dir.path(), "MosaicDB cluster CA");
    let tls = [
        "--cluster-tls-cert",
        &cert,
        "--cluster-tls-key",
        &key,
        "--cluster-tls-ca",
        &ca,
        "--shard-max-rows",
        "10",
    ];
    let nodes = common::start_cluster(&["ct1", "ct2"], &tls).await;
    let a = nodes[0].client().await;
    a.batch_execute(
        "CREATE TABLE over_tls (id int PRIMARY KEY, v text);
         INSERT INTO over_tls SELECT g, 'row ' || g FROM generate_series(1, 95) g",
    )
    .await
    .unwrap();
    let b = nodes[1].client().await;
    common::wait_rows(
        &b,
        "SELECT count(*), sum(id) FROM over_tls",
        &["95", "4560"],
    )
    .await;
    let row = b
        .query_one("SELECT v FROM over_tls WHERE id = 77", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "row 77");

    // A node whose certificate another CA signed, though it has the
    // cluster secret, is no member: the secret is bound to the CA.
    let other = tempfile::tempdir().unwrap();
    let (other_ca, other_cert, other_key) = test_ca(other.path(), "Another CA");
    let seed = nodes[0].cluster_addr().to_string();
    let stranger = TestNode::start_with(&[
        "--node-name",
        "ct3",
        "--join",
        &seed,
        "--cluster-tls-cert",
        &other_cert,
        "--cluster-tls-key",
        &other_key,
        "--cluster-tls-ca",
        &other_ca,
    ]);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for (node, members) in [(&nodes[0], "2"), (&stranger, "1")] {
        let rows =
            common::simple_rows(&node.client().await, "SELECT count(*) FROM mosaic.nodes").await;
        assert_eq!(rows[0][0].as_deref(), Some(members), "{}", node.pg_addr());
    }
    let c = stranger.client().await;
    let err = c
        .query_one("SELECT count(*) FROM over_tls", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("42P01"), "{err}");
    // The cluster's own nodes go on answering.
    let row = a
        .query_one("SELECT count(*) FROM over_tls", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 95);
}

/// `mosaic backup` over TLS, its URL saying how as libpq's does.
fn backup(node: &TestNode, host: &str, query: &str, to: &Path) -> Output {
    let port = node.pg_addr().rsplit_once(':').unwrap().1;
    Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT")
        .args([
            "backup",
            "--to",
            to.to_str().unwrap(),
            "--url",
            &format!("postgresql://{USER}:{PASSWORD}@{host}:{port}/mosaic?{query}"),
        ])
        .output()
        .expect("run mosaic backup")
}

#[test]
fn backup_connects_over_tls_as_libpq_would() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_ca(dir.path(), "MosaicDB test CA");
    let node = TestNode::start_with(&["--tls-cert", &cert, "--tls-key", &key, "--tls-required"]);
    let to = dir.path().join("backup");
    // Channel binding needs TLS: the login itself shows TLS is in use.
    let full = format!("sslmode=verify-full&sslrootcert={ca}&channel_binding=require");
    let out = backup(&node, "localhost", &full, &to);
    assert!(ok(&out).starts_with("backup: 0 shards"), "{out:?}");
    let ca_only = format!("sslmode=verify-ca&sslrootcert={ca}&channel_binding=require");
    ok(&backup(&node, "127.0.0.1", &ca_only, &to));
    ok(&backup(
        &node,
        "127.0.0.1",
        "sslmode=require&channel_binding=require",
        &to,
    ));
    // The certificate names localhost, not 127.0.0.1.
    let out = backup(&node, "127.0.0.1", &full, &to);
    assert!(err(&out).contains("certificate"), "{out:?}");
    // Another CA's client does not trust it.
    let other = tempfile::tempdir().unwrap();
    let (other_ca, _, _) = test_ca(other.path(), "Another CA");
    let out = backup(
        &node,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other_ca}"),
        &to,
    );
    assert!(err(&out).contains("certificate"), "{out:?}");
    // Without TLS there is no channel to bind to.
    let out = backup(
        &node,
        "127.0.0.1",
        "sslmode=disable&channel_binding=require",
        &to,
    );
    assert!(!out.status.success(), "{out:?}");
}
