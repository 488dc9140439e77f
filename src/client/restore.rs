//! `mosaic restore --from DIR`: the backup's catalog first
//! (`mosaic.restore_catalog`, which refuses a cluster that has tables),
//! then each shard file in chunks, which the node checks against its
//! content id and seals again as its own without the tombstoned rows. The
//! cluster's replication then spreads the shards as it does any other.

use std::io::Read;

use crate::client::{connect, sql_error, Progress, CHUNK_BYTES};
use crate::config::RestoreArgs;
use crate::error::{Error, Result};
use crate::types::backup::Manifest;
use crate::types::shard::ShardId;

/// What a restore did.
#[derive(Debug, Default)]
pub struct Done {
    pub catalog: String,
    pub shards: usize,
    pub bytes: u64,
}

pub fn restore(args: &RestoreArgs) -> Result<Done> {
    super::runtime()?.block_on(run(args))
}

async fn run(args: &RestoreArgs) -> Result<Done> {
    let dir = &args.from;
    let text = std::fs::read_to_string(dir.join("manifest.json")).map_err(|e| {
        Error::InvalidParameter(format!(
            "{} holds no backup (manifest.json: {e})",
            dir.display()
        ))
    })?;
    let mut manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::InvalidParameter(format!("manifest.json does not parse: {e}")))?;
    let shards = std::mem::take(&mut manifest.shards);
    let file_of = |id: &str| dir.join("shards").join(format!("{id}.db"));
    // Every file is there and sound before the cluster is touched (the
    // node checks each again as it takes it in).
    let mut checking = Progress::new("checking", shards.len(), 0);
    for s in &shards {
        let path = file_of(&s.id);
        if !path.exists() {
            return Err(Error::InvalidParameter(format!(
                "the backup lacks the file of shard {} (shards/{}.db)",
                s.id, s.id
            )));
        }
        if !crate::store::shard::verify(&path, &ShardId(s.id.clone())).unwrap_or(false) {
            return Err(Error::DataCorrupted(format!(
                "the backup's file of shard {} does not hold the content its id names",
                s.id
            )));
        }
        checking.shard_done();
    }
    checking.finish();
    let client = connect(&args.connect).await?;
    let catalog = serde_json::to_string(&manifest).map_err(Error::internal)?;
    let row = client
        .query_one("SELECT mosaic.restore_catalog($1::text)", &[&catalog])
        .await
        .map_err(sql_error)?;
    let mut done = Done {
        catalog: row.try_get(0).map_err(sql_error)?,
        ..Done::default()
    };
    let chunk = client
        .prepare("SELECT mosaic.restore_chunk($1::text, $2::int8, $3::bytea)")
        .await
        .map_err(sql_error)?;
    let finish = client
        .prepare("SELECT mosaic.restore_shard($1::text, $2::text)")
        .await
        .map_err(sql_error)?;
    let total = shards.iter().map(|s| s.byte_size).sum();
    let mut progress = Progress::new("restore", shards.len(), total);
    let mut buf = vec![0u8; CHUNK_BYTES];
    for s in &shards {
        let mut file = std::fs::File::open(file_of(&s.id))?;
        let mut offset = 0i64;
        loop {
            let n = read_full(&mut file, &mut buf)?;
            let data: &[u8] = &buf[..n];
            client
                .query_one(&chunk, &[&s.id, &offset, &data])
                .await
                .map_err(sql_error)?;
            offset += n as i64;
            progress.bytes(n as u64);
            if n < CHUNK_BYTES {
                break;
            }
        }
        let tombstones = serde_json::to_string(&s.tombstones).map_err(Error::internal)?;
        client
            .query_one(&finish, &[&s.id, &tombstones])
            .await
            .map_err(sql_error)?;
        done.shards += 1;
        done.bytes += offset as u64;
        progress.shard_done();
    }
    progress.finish();
    Ok(done)
}

/// Fill `buf` from `file` as far as it goes; how many bytes.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
