//! What the nearest-neighbour benches share (`#[path]`-included by
//! benches/vector_knn.rs and benches/geometry_knn.rs): a connection, a
//! COPY of text lines, and the median of timed runs.

use std::time::Duration;

use futures::SinkExt;
use tokio_postgres::{Client, NoTls};

pub async fn connect(conn: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(conn, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {conn}: {e}"));
    tokio::spawn(connection);
    client
}

/// `copy` (a `COPY … FROM STDIN`) fed `lines` of COPY text, each ending
/// in a newline, in chunks of about a megabyte.
pub async fn copy_lines(client: &Client, copy: &str, lines: impl Iterator<Item = String>) {
    let sink = client.copy_in(copy).await.expect("copy");
    let mut sink = Box::pin(sink);
    let mut buf = String::new();
    for line in lines {
        buf.push_str(&line);
        if buf.len() > 1 << 20 {
            sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                .await
                .expect("copy data");
        }
    }
    sink.send(bytes::Bytes::from(buf)).await.expect("copy data");
    sink.as_mut().finish().await.expect("copy done");
}

/// The median of `times` in milliseconds (NaN for none).
pub fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}
