//! `mosaic backup --to DIR`: the node seals every table everywhere and
//! names every live shard (`mosaic.backup_manifest()`); each shard file not
//! in `DIR/shards/` yet is copied there in chunks and checked against its
//! content id before it takes its name; `DIR/manifest.json` is written
//! last, so the folder's manifest only ever names shards it holds, and an
//! interrupted backup leaves the previous one whole.

use std::io::Write;
use std::path::Path;

use crate::client::{connect, sql_error, Progress, CHUNK_BYTES};
use crate::config::BackupArgs;
use crate::error::{Error, Result};
use crate::types::backup::Manifest;
use crate::types::shard::ShardId;

/// What a backup did.
#[derive(Debug, Default)]
pub struct Done {
    pub shards: usize,
    pub copied: usize,
    pub bytes: u64,
}

pub fn backup(args: &BackupArgs) -> Result<Done> {
    super::runtime()?.block_on(run(args))
}

async fn run(args: &BackupArgs) -> Result<Done> {
    let client = connect(&args.connect).await?;
    let row = client
        .query_one("SELECT mosaic.backup_manifest()", &[])
        .await
        .map_err(sql_error)?;
    let text: String = row.try_get(0).map_err(sql_error)?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::Internal(format!("the node's backup manifest does not parse: {e}")))?;
    let dir = &args.to;
    let shards_dir = dir.join("shards");
    std::fs::create_dir_all(&shards_dir)?;
    let wanted: Vec<_> = manifest
        .shards
        .iter()
        .filter(|s| !shards_dir.join(format!("{}.db", s.id)).exists())
        .collect();
    let total = wanted.iter().map(|s| s.byte_size).sum();
    let mut progress = Progress::new("backup", wanted.len(), total);
    let chunk = client
        .prepare("SELECT mosaic.backup_chunk($1::text, $2::int8)")
        .await
        .map_err(sql_error)?;
    let mut done = Done {
        shards: manifest.shards.len(),
        ..Done::default()
    };
    for s in wanted {
        let partial = shards_dir.join(format!("{}.db.partial", s.id));
        let mut file = std::fs::File::create(&partial)?;
        let mut offset = 0i64;
        loop {
            let row = client
                .query_one(&chunk, &[&s.id, &offset])
                .await
                .map_err(sql_error)?;
            let data: Vec<u8> = row.try_get(0).map_err(sql_error)?;
            file.write_all(&data)?;
            offset += data.len() as i64;
            progress.bytes(data.len() as u64);
            if data.len() < CHUNK_BYTES {
                break;
            }
        }
        file.sync_all()?;
        drop(file);
        keep_if_sound(&partial, &shards_dir.join(format!("{}.db", s.id)), &s.id)?;
        done.copied += 1;
        done.bytes += offset as u64;
        progress.shard_done();
    }
    progress.finish();
    write_atomically(&dir.join("manifest.json"), text.as_bytes())?;
    Ok(done)
}

/// Give the copied file at `partial` its name `dest` when it holds the
/// content `id` names; remove it and fail otherwise.
fn keep_if_sound(partial: &Path, dest: &Path, id: &str) -> Result<()> {
    let sound = crate::store::shard::verify(partial, &ShardId(id.to_string())).unwrap_or(false);
    if !sound {
        let _ = std::fs::remove_file(partial);
        return Err(Error::DataCorrupted(format!(
            "the copy of shard {id} does not hold the content its id names"
        )));
    }
    std::fs::rename(partial, dest)?;
    Ok(())
}

/// Write `bytes` to `path` so that a crash leaves the old file or the new
/// one, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.partial");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
