//! The real `pgbench` against a real node, unmodified: `pgbench -i` at scale
//! 1, then short runs of the TPC-B-like default script under each query
//! mode and of the select-only script, with zero failed transactions, and
//! finally the TPC-B invariant checked with SQL. pgbench must be installed
//! (scripts/install-test-deps.sh); a missing pgbench fails this test rather
//! than skipping it.

mod common;

use std::process::Command;

use common::TestNode;

/// Runs pgbench against the node and returns its stdout and stderr together,
/// failing unless it exits successfully.
fn pgbench(node: &TestNode, args: &[&str]) -> String {
    let out = Command::new("pgbench")
        .args(args)
        .arg(node.conn_string())
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run pgbench ({e}); install it with scripts/install-test-deps.sh")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "pgbench {args:?} failed: {}\n{text}",
        out.status
    );
    text
}

/// The number after `label` on its line of pgbench's report.
fn reported(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` in pgbench output:\n{text}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in `{line}`"))
}

/// A timed run: it must commit some transactions and fail none.
fn run(node: &TestNode, args: &[&str]) {
    let mut all = vec!["-T", "10", "-c", "2"];
    all.extend_from_slice(args);
    let text = pgbench(node, &all);
    assert_eq!(
        reported(&text, "number of failed transactions:"),
        0,
        "pgbench {all:?}:\n{text}"
    );
    assert!(
        reported(&text, "number of transactions actually processed:") > 0,
        "pgbench {all:?} committed nothing:\n{text}"
    );
}

#[tokio::test]
async fn pgbench_initialises_and_runs_every_query_mode() {
    let node = TestNode::start();
    let init = pgbench(&node, &["-i", "-s", "1"]);
    assert!(init.contains("done in"), "pgbench -i:\n{init}");

    // The first run vacuums and truncates pgbench_history as pgbench does by
    // default; later runs keep the history (-n) so that it accounts for
    // every balance change since initialisation.
    run(&node, &["-M", "simple"]);
    run(&node, &["-n", "-M", "extended"]);
    run(&node, &["-n", "-M", "prepared"]);
    run(&node, &["-n", "-S", "-M", "prepared"]);

    let client = node.client().await;
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM pgbench_accounts),
                    (SELECT sum(abalance) FROM pgbench_accounts),
                    (SELECT coalesce(sum(delta), 0) FROM pgbench_history),
                    (SELECT count(*) FROM pgbench_history),
                    (SELECT sum(bbalance) FROM pgbench_branches),
                    (SELECT sum(tbalance) FROM pgbench_tellers)",
            &[],
        )
        .await
        .expect("invariant query");
    let (accounts, abalance, delta, history, bbalance, tbalance): (i64, i64, i64, i64, i64, i64) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
    );
    assert_eq!(accounts, 100_000);
    assert!(history > 0, "no history rows");
    assert_eq!(
        abalance, delta,
        "sum(abalance) != sum(delta) over {history} transactions"
    );
    assert_eq!(bbalance, delta, "branch balances drifted");
    assert_eq!(tbalance, delta, "teller balances drifted");
}

/// `pgbench -i --foreign-keys` declares its five FOREIGN KEYs (checking
/// the rows already loaded), and the default script runs under them.
#[tokio::test]
async fn pgbench_runs_with_foreign_keys() {
    let node = TestNode::start();
    let init = pgbench(&node, &["-i", "-s", "1", "--foreign-keys"]);
    assert!(
        init.contains("creating foreign keys"),
        "pgbench -i:\n{init}"
    );
    run(&node, &["-T", "5", "-M", "prepared"]);
    let client = node.client().await;
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'",
            &[],
        )
        .await
        .expect("count constraints")
        .get(0);
    assert_eq!(n, 5);
    let e = client
        .simple_query("INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (1, 1, 999999, 0)")
        .await
        .expect_err("an account that does not exist");
    assert_eq!(e.code().map(|c| c.code()), Some("23503"), "{e:?}");
}
