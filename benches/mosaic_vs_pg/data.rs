//! The benchmark's data set: `bench_kv` rows generated from a seed, so
//! every system gets exactly the same rows, as COPY text for the servers and
//! as typed values for in-process SQLite.

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The table every system gets, in the common subset of both dialects.
pub const CREATE_TABLE: &str =
    "CREATE TABLE bench_kv (id bigint PRIMARY KEY, name text, grp int, val double precision)";

/// Distinct values of `grp`.
pub const GROUPS: i32 = 100;

/// One `bench_kv` row.
pub struct Row {
    pub id: i64,
    pub name: String,
    pub grp: i32,
    /// `val` in thousandths: printed as an exact decimal, so the text COPY
    /// and the f64 given to SQLite are the same number.
    pub val_milli: i64,
}

impl Row {
    pub fn val(&self) -> f64 {
        self.val_milli as f64 / 1000.0
    }
}

/// Rows with ids `1..=n`, the same for the same seed. About 0.1% of names
/// contain `x123`, which is what the LIKE scan looks for.
pub fn rows(n: u64, seed: u64) -> impl Iterator<Item = Row> {
    let mut rng = StdRng::seed_from_u64(seed);
    (1..=n as i64).map(move |id| Row {
        id,
        name: format!("item-{id}-x{}", rng.gen_range(0..1_000_000)),
        grp: rng.gen_range(0..GROUPS),
        val_milli: rng.gen_range(0..1_000_000),
    })
}

/// The rows as COPY text format, in chunks of about `chunk` bytes.
pub fn copy_text(n: u64, seed: u64, chunk: usize) -> Vec<Bytes> {
    let mut chunks = Vec::new();
    let mut buf = String::with_capacity(chunk + 128);
    for r in rows(n, seed) {
        buf.push_str(&format!(
            "{}\t{}\t{}\t{}.{:03}\n",
            r.id,
            r.name,
            r.grp,
            r.val_milli / 1000,
            r.val_milli % 1000
        ));
        if buf.len() >= chunk {
            chunks.push(Bytes::from(std::mem::take(&mut buf)));
            buf.reserve(chunk + 128);
        }
    }
    if !buf.is_empty() {
        chunks.push(Bytes::from(buf));
    }
    chunks
}
