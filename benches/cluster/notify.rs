//! NOTIFY delivery latency: a listener on one node, a sender on the same
//! node or on another; the time from sending `NOTIFY` until the listener's
//! connection has the notification (the sender's commit included), one
//! notification at a time, after a short warm-up.

use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::server::Outcome;

const WARM_UP: usize = 20;

/// Median and 99th percentile in milliseconds over `samples` notifications.
pub async fn latency(listen: &str, send: &str, samples: usize) -> Outcome<(f64, f64)> {
    let (listener, mut connection) = tokio_postgres::connect(listen, NoTls)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(m)) = messages.next().await {
            if let AsyncMessage::Notification(n) = m {
                let _ = tx.send((Instant::now(), n.payload().to_string()));
            }
        }
    });
    listener
        .batch_execute("LISTEN bench_latency")
        .await
        .map_err(|e| format!("LISTEN: {e}"))?;
    let sender = crate::server::connect(send).await?;
    let mut ms = Vec::with_capacity(samples);
    for i in 0..WARM_UP + samples {
        let sent = Instant::now();
        sender
            .batch_execute(&format!("NOTIFY bench_latency, '{i}'"))
            .await
            .map_err(|e| format!("NOTIFY: {e}"))?;
        loop {
            let (at, payload) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .map_err(|_| format!("notification {i} did not arrive within 5 s"))?
                .ok_or("the listener's connection closed")?;
            if payload == i.to_string() {
                if i >= WARM_UP {
                    ms.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                }
                break;
            }
        }
    }
    ms.sort_by(f64::total_cmp);
    let p99 = ms[((ms.len() * 99) / 100).min(ms.len() - 1)];
    Ok((crate::server::median(&mut ms), p99))
}

/// The report's section: per setup, within the first node and, on a
/// cluster, from the first node to the last.
pub async fn section(setups: &[crate::Setup], samples: usize) -> String {
    let mut out = String::from(
        "\n### NOTIFY delivery latency\n\n\
         | setup | listener | sender | median ms | p99 ms |\n|---|---|---|---:|---:|\n",
    );
    for s in setups {
        let last = s.conns.len() - 1;
        let mut pairs = vec![(0, 0)];
        if last > 0 {
            pairs.push((last, 0));
        }
        for (l, w) in pairs {
            let cell = match latency(&s.conns[l], &s.conns[w], samples).await {
                Ok((median, p99)) => format!("{median:.3} | {p99:.3}"),
                Err(e) => format!("failed: {e} | "),
            };
            out.push_str(&format!(
                "| {} | node {} | node {} | {cell} |\n",
                s.label,
                l + 1,
                w + 1
            ));
        }
    }
    out
}
