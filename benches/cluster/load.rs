//! Loading a setup: CREATE TABLE at the first node, each node COPYs its
//! part of the rows (all at once), then MosaicDB seals and the test waits
//! until every node's registry shows every shard; PostgreSQL gets VACUUM
//! ANALYZE instead.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::SinkExt;
use tokio_postgres::Client;

use crate::server::{self, Outcome};
use crate::{data, server_error, Setup};

/// How long nodes get to see each other, a new table, or new shards.
const CONVERGE: Duration = Duration::from_secs(60);
/// COPY data goes out in messages of about this size, cut at row ends.
const CHUNK: usize = 256 * 1024;

/// What the load took and left behind.
pub struct Loaded {
    /// Wall seconds from the first COPY to the last CommandComplete.
    pub copy_s: f64,
    /// `mosaic.seal` or `VACUUM ANALYZE`, seconds.
    pub post_load_s: f64,
    /// MosaicDB: sealed shards of bench_kv per node (home_node), as the
    /// first node's registry lists them.
    pub shards: Vec<(String, i64, i64)>,
}

/// Cuts the COPY text of `rows` rows (one line each) into `parts` runs of
/// consecutive lines, each in line-aligned chunks.
pub fn split(all: &Bytes, rows: u64, parts: usize) -> Vec<Vec<Bytes>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = 0u64;
    let mut pos = 0;
    for p in 1..=parts {
        let end_line = rows * p as u64 / parts as u64;
        while line < end_line {
            pos += all[pos..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(all.len() - pos, |i| i + 1);
            line += 1;
        }
        out.push(chunks(all.slice(start..pos)));
        start = pos;
    }
    out
}

fn chunks(text: Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + CHUNK).min(text.len());
        if let Some(nl) = text[end..].iter().position(|b| *b == b'\n') {
            end += nl + 1;
        } else {
            end = text.len();
        }
        out.push(text.slice(start..end));
        start = end;
    }
    out
}

pub async fn run(
    s: &Setup,
    clients: &[Client],
    parts: &[Vec<Bytes>],
    rows: u64,
) -> Outcome<Loaded> {
    if s.mosaic && clients.len() > 1 {
        eprintln!(
            "{}: waiting for every node to see the others alive",
            s.label
        );
        for c in clients {
            let want = clients.len().to_string();
            wait_for(
                c,
                "SELECT count(*) FROM mosaic.nodes WHERE state = 'alive'",
                &want,
            )
            .await?;
        }
    }
    exec(&clients[0], data::CREATE_TABLE).await?;
    for c in &clients[1..] {
        // DDL spreads by gossip; COPY into a node that has not seen the
        // table yet would fail.
        wait_for(
            c,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'bench_kv'",
            "1",
        )
        .await?;
    }

    eprintln!(
        "{}: COPY {rows} rows into {} node(s) at once",
        s.label,
        clients.len()
    );
    let start = Instant::now();
    let copies = clients.iter().zip(parts).map(|(c, p)| copy(c, p));
    let copied: u64 = futures::future::try_join_all(copies).await?.iter().sum();
    let copy_s = start.elapsed().as_secs_f64();
    if copied != rows {
        return Err(format!("COPY reported {copied} rows, not {rows}"));
    }

    let post = if s.mosaic {
        "SELECT mosaic.seal('bench_kv')"
    } else {
        "VACUUM ANALYZE bench_kv"
    };
    let start = Instant::now();
    exec(&clients[0], post).await?;
    let post_load_s = start.elapsed().as_secs_f64();

    let mut shards = Vec::new();
    if s.mosaic {
        // Every node lists every shard, all rows, before anything is timed.
        let want = format!("{rows}");
        for c in clients {
            wait_for(
                c,
                "SELECT sum(row_count) FROM mosaic.shards WHERE table_name = 'bench_kv' AND sealed",
                &want,
            )
            .await?;
        }
        let sql = "SELECT home_node, count(*), sum(row_count) FROM mosaic.shards \
                   WHERE table_name = 'bench_kv' GROUP BY home_node ORDER BY home_node";
        for row in server::text_rows(&clients[0], sql).await? {
            let f: Vec<&str> = row.split(" | ").collect();
            if let [node, n, r] = f[..] {
                shards.push((
                    node.to_string(),
                    n.parse().unwrap_or(-1),
                    r.parse().unwrap_or(-1),
                ));
            }
        }
    }
    for c in clients {
        let n = server::count_rows(c).await?;
        if n != rows as i64 {
            return Err(format!("count(*) is {n}, not {rows}"));
        }
    }
    Ok(Loaded {
        copy_s,
        post_load_s,
        shards,
    })
}

async fn exec(client: &Client, sql: &str) -> Outcome<()> {
    client
        .simple_query(sql)
        .await
        .map(|_| ())
        .map_err(|e| format!("{sql}: {}", server_error(&e)))
}

async fn copy(client: &Client, chunks: &[Bytes]) -> Outcome<u64> {
    let sql = "COPY bench_kv (id, name, grp, val) FROM STDIN";
    let run = async {
        let sink = client.copy_in(sql).await?;
        futures::pin_mut!(sink);
        for chunk in chunks {
            sink.send(chunk.clone()).await?;
        }
        sink.finish().await
    };
    run.await
        .map_err(|e| format!("{sql}: {}", server_error(&e)))
}

/// Polls `sql` until its one value is `want`.
async fn wait_for(client: &Client, sql: &str, want: &str) -> Outcome<()> {
    let start = Instant::now();
    loop {
        let got = server::text_rows(client, sql).await?;
        if got.first().map(String::as_str) == Some(want) {
            return Ok(());
        }
        if start.elapsed() > CONVERGE {
            return Err(format!(
                "`{sql}` gave {got:?}, not {want}, after {CONVERGE:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
