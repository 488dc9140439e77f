//! The functions `mosaic backup` and `mosaic restore` call over an
//! ordinary connection (superuser only, outside transaction blocks):
//!
//! - `mosaic.backup_manifest()`: seal every table on every node, then the
//!   manifest (`types::backup::Manifest`) as JSON: the catalog, where each
//!   sequence stands, every live shard with its tombstones.
//! - `mosaic.backup_chunk(id, offset)`: up to `CHUNK_BYTES` of a shard's
//!   file (fewer at its end), fetched from a holder when this node has no
//!   copy.
//! - `mosaic.restore_catalog(manifest)`: on a cluster without tables, the
//!   backup's catalog, stamped now so it wins everywhere, with floors that
//!   keep new object ids and sequence values past the restored ones.
//! - `mosaic.restore_chunk(id, offset, bytes)` and
//!   `mosaic.restore_shard(id, tombstones)`: a shard file sent in chunks,
//!   then checked against its id and sealed again here, without the
//!   tombstoned rows; its new id.

use crate::error::{Error, Result};
use crate::exec::query::AdminArg;
use crate::exec::{Column, Outcome, RowSink, Session, TxnState};
use crate::store::catalog::Entry;
use crate::types::backup::{Manifest, FORMAT, OID_FLOOR_SETTING, SEQUENCE_FLOOR_SETTING};
use crate::types::shard::ShardId;
use crate::types::{Datum, PgType};

/// Bytes of a shard file per `mosaic.backup_chunk`.
pub const CHUNK_BYTES: usize = 1 << 20;

/// The result column of backup function `function`.
pub fn column(function: &str) -> Column {
    let name = function.trim_start_matches("mosaic.");
    let ty = match name {
        "backup_chunk" => PgType::Bytea,
        "restore_chunk" => PgType::Int8,
        _ => PgType::Text,
    };
    Column {
        name: name.into(),
        ty,
    }
}

pub fn run(
    sess: &mut Session,
    function: &str,
    args: &[AdminArg],
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Outcome> {
    if !sess.is_superuser() {
        return Err(Error::PermissionDenied(format!(
            "must be superuser to run {function}()"
        )));
    }
    if sess.txn != TxnState::Idle {
        return Err(Error::ActiveTransaction(format!(
            "{function}() cannot run inside a transaction block"
        )));
    }
    let values: Vec<Datum> = args.iter().map(|a| a.value(params)).collect();
    let text = |i: usize| match values.get(i) {
        Some(Datum::Text(t)) => Ok(t.clone()),
        _ => Err(Error::InvalidParameter(format!(
            "argument {} of {function}() must be non-null text",
            i + 1
        ))),
    };
    let int = |i: usize| match values.get(i) {
        Some(Datum::Int(n)) if *n >= 0 => Ok(*n as u64),
        _ => Err(Error::InvalidParameter(format!(
            "argument {} of {function}() must be a non-negative integer",
            i + 1
        ))),
    };
    let out = match function {
        "mosaic.backup_manifest" => Datum::Text(manifest(sess)?),
        "mosaic.backup_chunk" => Datum::Blob(backup_chunk(sess, &shard_id(&text(0)?)?, int(1)?)?),
        "mosaic.restore_catalog" => Datum::Text(restore_catalog(sess, &text(0)?)?),
        "mosaic.restore_chunk" => {
            let bytes = match values.get(2) {
                Some(Datum::Blob(b)) => b.as_slice(),
                _ => {
                    return Err(Error::InvalidParameter(format!(
                        "argument 3 of {function}() must be non-null bytea"
                    )))
                }
            };
            let (id, offset) = (shard_id(&text(0)?)?, int(1)?);
            let path = sess.store.transfer_path(&id, "restore");
            crate::store::append_chunk(&path, offset, bytes)?;
            Datum::Int((offset + bytes.len() as u64) as i64)
        }
        "mosaic.restore_shard" => restore_shard(sess, &shard_id(&text(0)?)?, &text(1)?)?,
        other => return Err(Error::Internal(format!("no backup function {other}"))),
    };
    sink(vec![out])?;
    Ok(Outcome::Rows { count: 1 })
}

/// A shard id as a client wrote it: the lowercase base32 a content id is
/// (it names files, so nothing else passes).
fn shard_id(text: &str) -> Result<ShardId> {
    let valid = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
    if !valid {
        return Err(Error::InvalidParameter(format!(
            "\"{text}\" is not a shard id"
        )));
    }
    Ok(ShardId(text.to_string()))
}

fn manifest(sess: &mut Session) -> Result<String> {
    let taken_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let tables: Vec<String> = sess
        .store
        .catalog
        .tables()
        .into_iter()
        .filter(|t| !t.is_temp())
        .map(|t| t.name.clone())
        .collect();
    // Sealing first leaves few rows to carry unsealed; the cut itself
    // does not depend on it.
    for table in &tables {
        sess.seal_everywhere(table)?;
    }
    let (cuts, open, sequences) = match sess.cluster.clone() {
        Some(c) => c.with_commits_paused(|| {
            let (cuts, open) = c.backup_cut(&tables)?;
            Ok((cuts, open, c.sequence_floors()?))
        })?,
        None => {
            let (cut, open) = sess.store.backup_cut(&tables)?;
            let floors = crate::cluster::furthest(sess.store.sequence_positions());
            (vec![cut], open, floors)
        }
    };
    let shards = sess.store.assemble_backup(cuts, open)?;
    let entries: Vec<Entry> = sess
        .store
        .catalog
        .entries()?
        .into_iter()
        .filter(|e| match e {
            Entry::Table { def, .. } => def.as_ref().is_some_and(|d| !d.is_temp()),
            _ => true,
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT,
        taken_at,
        node: sess.store.node_name.clone(),
        catalog: serde_json::to_value(entries).map_err(Error::internal)?,
        sequences,
        shards,
    };
    serde_json::to_string(&manifest).map_err(Error::internal)
}

/// A chunk of shard `id`'s file: this node's own file while it has one
/// (shard files never change, and a shard compacted away since the
/// manifest keeps its file until the next start), else a copy fetched
/// from a holder, removed once its last chunk is read.
fn backup_chunk(sess: &Session, id: &ShardId, offset: u64) -> Result<Vec<u8>> {
    let own = sess.store.shard_path(id);
    let (path, copy) = if own.exists() {
        (own, false)
    } else {
        let path = sess.store.transfer_path(id, "backup");
        if !path.exists() {
            let Some(c) = sess.cluster.as_ref() else {
                return Err(Error::InvalidParameter(format!(
                    "shard {id} is not held on this node"
                )));
            };
            c.copy_for_backup(&id.0)?;
        }
        (path, true)
    };
    let bytes = crate::store::read_chunk(&path, offset, CHUNK_BYTES)?;
    if copy && bytes.len() < CHUNK_BYTES {
        let _ = std::fs::remove_file(&path);
    }
    Ok(bytes)
}

fn restore_catalog(sess: &mut Session, text: &str) -> Result<String> {
    let manifest: Manifest = serde_json::from_str(text)
        .map_err(|e| Error::InvalidParameter(format!("the backup manifest does not parse: {e}")))?;
    if manifest.format != FORMAT {
        return Err(Error::InvalidParameter(format!(
            "the backup is in format {}; this build reads format {FORMAT}",
            manifest.format
        )));
    }
    if let Some(rel) = sess
        .store
        .catalog
        .objects()
        .into_iter()
        .find(|r| !r.is_temp())
    {
        return Err(Error::ObjectNotInState(format!(
            "a backup is restored into a cluster without tables, views, sequences or types; this one has \"{}\"",
            rel.name
        )));
    }
    let entries: Vec<Entry> = serde_json::from_value(manifest.catalog).map_err(|e| {
        Error::InvalidParameter(format!("the backup's catalog does not parse: {e}"))
    })?;
    let store = sess.store.clone();
    let mut max_oid = 0u32;
    let mut applied = 0usize;
    for entry in entries {
        // Stamped now, so that every node takes the backup's version of an
        // object this cluster has too (its roles, its settings).
        let hlc = store.hlc.now();
        let entry = match entry {
            Entry::Table { def: None, .. } => continue,
            Entry::Table { name, def, .. } => {
                max_oid = max_oid.max(def.as_ref().map_or(0, |d| d.oid));
                Entry::Table { name, def, hlc }
            }
            Entry::Role { name, role, .. } => Entry::Role { name, role, hlc },
            Entry::Setting { name, value, .. } => Entry::Setting { name, value, hlc },
        };
        applied += usize::from(store.apply_entry(&entry)?);
    }
    let mut floors = vec![Entry::Setting {
        name: OID_FLOOR_SETTING.into(),
        value: Some(max_oid.to_string()),
        hlc: store.hlc.now(),
    }];
    for f in &manifest.sequences {
        floors.push(Entry::Setting {
            name: format!("{SEQUENCE_FLOOR_SETTING}{}.{}", f.owner_oid, f.key),
            value: Some(serde_json::to_string(f).map_err(Error::internal)?),
            hlc: store.hlc.now(),
        });
    }
    for floor in &floors {
        store.apply_entry(floor)?;
    }
    if let Some(c) = sess.cluster.as_ref() {
        c.catalog_changed();
    }
    Ok(format!(
        "restored {applied} catalog objects and {} sequence positions",
        manifest.sequences.len()
    ))
}

fn restore_shard(sess: &Session, id: &ShardId, tombstones: &str) -> Result<Datum> {
    let tombstones: Vec<i64> = serde_json::from_str(tombstones).map_err(|e| {
        Error::InvalidParameter(format!("the tombstones of shard {id} do not parse: {e}"))
    })?;
    let path = sess.store.transfer_path(id, "restore");
    if !path.exists() {
        return Err(Error::InvalidParameter(format!(
            "no file of shard {id} was sent (mosaic.restore_chunk)"
        )));
    }
    let meta = sess.store.import_shard(&path, id, &tombstones)?;
    if let Some(c) = sess.cluster.as_ref() {
        c.refresh_holdings()?;
    }
    Ok(match meta {
        Some(m) => Datum::Text(m.id.0.clone()),
        None => Datum::Null,
    })
}
