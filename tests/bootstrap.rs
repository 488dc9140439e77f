//! First start without MOSAIC_PASSWORD: the node generates a password,
//! writes it to DATA/initial-password (mode 0600, and only there: the
//! catalog keeps a SCRAM verifier), and that password logs in.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_generated_password_is_written_once_and_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--cluster-addr",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(&data)
        .env_remove("MOSAIC_PASSWORD")
        .env_remove("MOSAIC_USER")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node_json = data.join("node.json");
    let start = Instant::now();
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(&node_json) {
            break t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node never became ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let info: serde_json::Value = serde_json::from_str(&text).unwrap();
    let addr = info["pg_addr"].as_str().unwrap().to_string();
    let (host, port) = addr.rsplit_once(':').unwrap();

    let path = data.join("initial-password");
    let password = std::fs::read_to_string(&path).unwrap().trim().to_string();
    assert!(password.len() >= 16, "{password:?}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let catalog = std::fs::read(data.join("catalog.db")).unwrap();
    assert!(
        !catalog
            .windows(password.len())
            .any(|w| w == password.as_bytes()),
        "the password must not be stored"
    );

    let conn = format!("host={host} port={port} user=mosaic password={password} dbname=mosaic");
    let (client, connection) = tokio_postgres::connect(&conn, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    let wrong = format!("host={host} port={port} user=mosaic password=wrong dbname=mosaic");
    let err = tokio_postgres::connect(&wrong, tokio_postgres::NoTls)
        .await
        .err()
        .expect("a wrong password must be refused");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INVALID_PASSWORD)
    );
    let _ = child.kill();
    let _ = child.wait();
}
