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

    // What is wrong, naming the key; exit status 2. A value from the file
    // is named by the file and its key there.
    let bad_path = dir.path().join("bad.toml");
    let bad_file = bad_path.to_str().unwrap();
    let bad_with = |body: &str, args: &[&str], env: &[(&str, &str)]| {
        std::fs::write(&bad_path, body).unwrap();
        let mut all = vec!["--config", bad_file, "--data", data];
        all.extend_from_slice(args);
        let o = check(&all, env);
        assert_eq!(o.status.code(), Some(2), "{body}");
        text(&o).1
    };
    let bad = |body: &str| bad_with(body, &[], &[]);
    let says = |err: String, want: &str| assert!(err.contains(want), "no {want:?} in: {err}");
    says(bad("shard-maxrows = 5\n"), "unknown field `shard-maxrows`");
    says(
        bad("shard-max-rows = \"many\"\n"),
        "shard-max-rows = \"many\"",
    );
    says(
        bad("replication-factor = 0\n"),
        &format!("{bad_file}: replication-factor must be at least 1"),
    );
    says(
        bad("listen = \"nowhere\"\n"),
        &format!("{bad_file}: invalid listen \"nowhere\": expected IP:PORT"),
    );
    for key in ["cluster-addr", "advertise-addr", "metrics-addr"] {
        says(
            bad(&format!("{key} = \"10.0.0.1\"\n")),
            &format!("{bad_file}: invalid {key} \"10.0.0.1\": expected IP:PORT"),
        );
    }
    says(
        bad("advertise-addr = \"0.0.0.0:7946\"\ncluster-secret = \"s\"\n"),
        &format!("{bad_file}: advertise-addr 0.0.0.0:7946 is no address a peer can dial"),
    );
    says(
        bad("discover = \"mdns\"\n"),
        &format!("{bad_file}: invalid discover \"mdns\""),
    );
    // The same keys given by a flag or a variable are named as flags, the
    // file notwithstanding.
    says(
        bad_with(
            "cluster-addr = \"127.0.0.1:7946\"\n",
            &["--cluster-addr", "x:1"],
            &[],
        ),
        "invalid --cluster-addr \"x:1\": expected IP:PORT",
    );
    says(
        bad_with(
            "replication-factor = 2\n",
            &[],
            &[("MOSAIC_REPLICATION_FACTOR", "0")],
        ),
        "--replication-factor must be at least 1",
    );
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

    // The Kubernetes ConfigMap's mosaic.toml, with what the StatefulSet
    // puts in a pod's environment (the pod's IP, DNS discovery, secrets).
    let toml = configmap_toml(&format!("{root}/deploy/kubernetes/configmap.yaml"));
    let file = dir.path().join("mosaic.toml");
    std::fs::write(&file, &toml).unwrap();
    let o = check(
        &[
            "--config",
            file.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        &[
            ("MOSAIC_NODE_NAME", "mosaic-0"),
            ("MOSAIC_CLUSTER_ADDR", "10.244.1.7:7946"),
            (
                "MOSAIC_DISCOVER",
                "dns:mosaic-headless.mosaic.svc.cluster.local:7946",
            ),
            ("MOSAIC_CLUSTER_SECRET", "s3cret"),
            ("MOSAIC_PASSWORD", "pw"),
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}\n{toml}");
    for line in [
        "listen = \"0.0.0.0:5432\"",
        "metrics-addr = \"0.0.0.0:9464\"",
        "cluster-addr = \"10.244.1.7:7946\"",
        "replication-factor = 2",
    ] {
        assert!(out.lines().any(|l| l == line), "no {line:?} in:\n{out}");
    }
}

/// The text of `data: mosaic.toml: |` in a ConfigMap: the block's lines,
/// less their indentation.
fn configmap_toml(path: &str) -> String {
    let yaml = std::fs::read_to_string(path).unwrap();
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "mosaic.toml: |");
    assert!(lines.next().is_some(), "no `mosaic.toml: |` in {path}");
    let block: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect();
    assert!(!block.is_empty(), "`mosaic.toml: |` is empty in {path}");
    let mut toml = block
        .iter()
        .map(|l| l.get(4..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    toml.push('\n');
    toml
}
