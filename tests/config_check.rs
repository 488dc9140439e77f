//! `mosaic config check`: the settings flags, MOSAIC_* variables and a
//! mosaic.toml give, or the error a node would stop on, naming the key,
//! with exit status 2. The example configurations in deploy/ pass it.

use std::process::{Command, Output};

fn check(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mosaic"));
    cmd.env_clear().args(["config", "check"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run mosaic config check")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn config_check_prints_the_settings_or_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let file = dir.path().join("mosaic.toml");
    std::fs::write(
        &file,
        "shard-max-rows = 1000\nmetrics-addr = \"127.0.0.1:9999\"\njoin = [\"a:1\", \"b:2\"]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    // The file's settings, with a flag and a variable winning over it.
    let o = check(
        &["--config", file, "--data", data, "--shard-max-rows", "7"],
        &[("MOSAIC_MAX_CONNECTIONS", "12")],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for line in [
        "shard-max-rows = 7",
        "max-connections = 12",
        "metrics-addr = \"127.0.0.1:9999\"",
        "join = [\"a:1\", \"b:2\"]",
        "# password: generated on first start",
    ] {
        assert!(out.lines().any(|l| l == line), "no {line:?} in:\n{out}");
    }
    assert!(
        !std::path::Path::new(data).exists(),
        "a check creates nothing"
    );

    // What is wrong, naming the key; exit status 2.
    let bad = |body: &str| {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, body).unwrap();
        let o = check(&["--config", path.to_str().unwrap(), "--data", data], &[]);
        assert_eq!(o.status.code(), Some(2), "{body}");
        text(&o).1
    };
    assert!(bad("shard-maxrows = 5\n").contains("unknown field `shard-maxrows`"));
    assert!(bad("shard-max-rows = \"many\"\n").contains("shard-max-rows = \"many\""));
    assert!(bad("replication-factor = 0\n").contains("--replication-factor must be at least 1"));
    assert!(bad("listen = \"nowhere\"\n").contains("invalid listen address: nowhere"));
    let o = check(
        &[
            "--data",
            data,
            "--tls-cert",
            "/no/such/cert.pem",
            "--tls-key",
            "/no/such/key.pem",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("/no/such/cert.pem"), "{}", text(&o).1);
    let o = check(&["--data", data, "--cluster-addr", "10.1.2.3:7946"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--cluster-secret is required"));
}

#[test]
fn the_example_configurations_in_deploy_pass_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = env!("CARGO_MANIFEST_DIR");
    let o = check(
        &[
            "--config",
            &format!("{root}/deploy/systemd/mosaic.toml"),
            "--data",
            data.to_str().unwrap(),
        ],
        &[
            ("MOSAIC_CLUSTER_SECRET", "s3cret"),
            ("MOSAIC_PASSWORD", "pw"),
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("metrics-addr = \"0.0.0.0:9464\""), "{out}");
    assert!(out.contains("# password: set"), "{out}");
}
