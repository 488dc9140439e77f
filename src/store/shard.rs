//! Immutable, content-addressed shards.
//!
//! A shard is a SQLite file `DATA/shards/<id>.db` holding rows of one table
//! as they were at seal time. Its id is the lowercase unpadded base32 of the
//! SHA-256 of a canonical encoding of the sealing node, the table schema
//! (name, column names and types) and the rows in canonical order, each
//! with its version; never of the file's bytes, which SQLite does not make
//! deterministic. So an id names one seal of rows for good: the same
//! values written again (after a TRUNCATE) carry new versions and make a
//! new id, and two nodes never make the same one.
//!
//! File layout:
//! - `data(_rid INTEGER PRIMARY KEY, _ver INTEGER NOT NULL, <columns>)`:
//!   `_rid` is the row's 1-based ordinal in canonical order (the row key
//!   tombstones name); `_ver` the hybrid-logical-clock version of the write
//!   that made the row. Declared indexes are created.
//! - `_meta(k TEXT PRIMARY KEY, v BLOB)`: `meta` → the JSON of `ShardMeta`.
//!
//! Written to a temporary name, fsynced, then renamed: a crash leaves either
//! no file or a complete one.

//!
//! DESIGN: values are normalized to their column's storage class before they
//! are hashed or written (`normalize`: what SQLite's affinity would do, -0.0
//! as 0.0, NaN as NULL), so the id computed from rows in memory equals the
//! id recomputed from the file by `verify`. Values SQLite would convert in
//! ways we do not mirror (text in a numeric column, a real in a text column)
//! are refused by `write_shard`; STRICT open segments never hold them.

mod columns;
#[cfg(test)]
mod tests;

pub(crate) use columns::old_numeric_value;
pub use columns::{converted, missing_column, read_column};

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::types::table::TableDef;
use crate::types::{Datum, PgType, Storage};

use crate::types::quote;
use crate::types::shard::ColumnStats;
use crate::types::shard::{encode, normalize, stats};
pub use crate::types::shard::{ShardId, ShardMeta};

/// One row handed to `write_shard`: its version and its values in the
/// table's column order.
#[derive(Debug, Clone)]
pub struct Row {
    pub ver: i64,
    pub values: Vec<Datum>,
}

impl AsRef<[Datum]> for Row {
    fn as_ref(&self) -> &[Datum] {
        &self.values
    }
}

/// SQL reading the live rows of one shard of `def`, with `_rid` first when
/// `with_rid`. Columns the shard predates read as their default. It ends
/// in a WHERE exactly when the shard has tombstones (`types::shard::narrow`
/// relies on it).
pub fn source(def: &TableDef, meta: &ShardMeta, tombstones: i64, with_rid: bool) -> Result<String> {
    narrowed_source(def, meta, tombstones, with_rid, None)
}

/// `source` with only the rows `narrow` (a condition on `_rid`, such as
/// `plan::rtree_condition` gives) lets through.
pub fn narrowed_source(
    def: &TableDef,
    meta: &ShardMeta,
    tombstones: i64,
    with_rid: bool,
    narrow: Option<&str>,
) -> Result<String> {
    let sql = source_with(
        def,
        meta,
        tombstones,
        if with_rid { &["_rid"] } else { &[] },
    )?;
    Ok(match narrow {
        Some(c) => crate::types::shard::narrow(&sql, tombstones, c),
        None => sql,
    })
}

/// `source` with `_rid` and `_ver` (each row's version) first.
pub fn versioned_source(def: &TableDef, meta: &ShardMeta, tombstones: i64) -> Result<String> {
    source_with(def, meta, tombstones, &["_rid", "_ver"])
}

fn source_with(
    def: &TableDef,
    meta: &ShardMeta,
    tombstones: i64,
    first: &[&str],
) -> Result<String> {
    let mut cols: Vec<String> = first.iter().map(|c| c.to_string()).collect();
    for c in &def.columns {
        cols.push(read_column(c, meta)?);
    }
    let mut sql = format!(
        "SELECT {} FROM {}.data",
        cols.join(", "),
        quote(&crate::types::shard::attach_name(&meta.id))
    );
    if tombstones > 0 {
        sql.push_str(" WHERE ");
        sql.push_str(&crate::types::shard::skip_tombstoned(
            &crate::types::shard::literal(&meta.id.0),
        ));
    }
    Ok(sql)
}

/// Path of a shard file inside the shards directory.
pub fn shard_path(shards_dir: &Path, id: &ShardId) -> PathBuf {
    shards_dir.join(format!("{}.db", id.0))
}

/// The content id of `rows` sealed under `table`'s schema by `origin`.
pub fn shard_id(table: &TableDef, origin: &str, rows: &[Row]) -> ShardId {
    canonicalize(table, origin, rows.to_vec()).id
}

/// Rows normalized and put in canonical order, with the id they hash to.
struct Canonical {
    id: ShardId,
    digest: [u8; 32],
    schema_hash: String,
    rows: Vec<Row>,
}

fn columns_of(table: &TableDef) -> Vec<(String, PgType)> {
    table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect()
}

fn schema_bytes(table: &str, columns: &[(String, PgType)]) -> Vec<u8> {
    encode::encode_schema(table, columns.iter().map(|(n, t)| (n.as_str(), t)))
}

fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD
        .encode(bytes)
        .to_ascii_lowercase()
}

fn encode_row(values: &[Datum]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode::encode_into(v, &mut out);
    }
    out
}

/// SHA-256 over the origin (when there is one) and the schema part, then
/// each row framed by its length and followed by its version (when the
/// shard's id covers versions; see `ShardMeta::versioned`).
fn digest<'a>(
    origin: &str,
    schema: &[u8],
    rows: impl Iterator<Item = (&'a [u8], Option<i64>)>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    if !origin.is_empty() {
        h.update(b"origin");
        h.update(
            u32::try_from(origin.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        h.update(origin.as_bytes());
    }
    h.update(schema);
    for (r, ver) in rows {
        let len = u32::try_from(r.len()).unwrap_or(u32::MAX);
        h.update(len.to_be_bytes());
        h.update(r);
        if let Some(ver) = ver {
            h.update(ver.to_be_bytes());
        }
    }
    h.finalize().into()
}

fn canonicalize(table: &TableDef, origin: &str, rows: Vec<Row>) -> Canonical {
    let columns = columns_of(table);
    let mut keyed: Vec<(Vec<u8>, Vec<u8>, Row)> = rows
        .into_iter()
        .map(|mut row| {
            for (v, (_, ty)) in row.values.iter_mut().zip(&columns) {
                // Only numbers can change (a text or a blob would be
                // copied for nothing).
                if matches!(v, Datum::Int(_) | Datum::Real(_)) {
                    *v = normalize(ty.storage(), v);
                }
            }
            let mut pk = Vec::new();
            for &i in &table.primary_key {
                encode::encode_into(row.values.get(i).unwrap_or(&Datum::Null), &mut pk);
            }
            let whole = encode_row(&row.values);
            (pk, whole, row)
        })
        .collect();
    keyed.sort_by(|a, b| (&a.0, &a.1, a.2.ver).cmp(&(&b.0, &b.1, b.2.ver)));
    let schema = schema_bytes(&table.name, &columns);
    let digest = digest(
        origin,
        &schema,
        keyed.iter().map(|k| (k.1.as_slice(), Some(k.2.ver))),
    );
    Canonical {
        id: ShardId(base32(&digest)),
        digest,
        schema_hash: base32(&Sha256::digest(&schema)),
        rows: keyed.into_iter().map(|k| k.2).collect(),
    }
}

/// Refuse rows SQLite would not store as given (see the module's DESIGN).
fn check_rows(table: &TableDef, rows: &[Row]) -> Result<()> {
    for c in &table.columns {
        if c.name == "_rid" || c.name == "_ver" {
            return Err(Error::Unsupported(format!(
                "column name \"{}\" in a sealed shard",
                c.name
            )));
        }
    }
    for row in rows {
        if row.values.len() != table.columns.len() {
            return Err(Error::Internal(format!(
                "row of {} values sealed into table {} of {} columns",
                row.values.len(),
                table.name,
                table.columns.len()
            )));
        }
        for (v, c) in row.values.iter().zip(&table.columns) {
            let ok = match (c.ty.storage(), v) {
                (Storage::Integer | Storage::Real, Datum::Text(_)) => false,
                (Storage::Text, Datum::Real(f)) => f.is_nan(),
                _ => true,
            };
            if !ok {
                return Err(Error::DatatypeMismatch(format!(
                    "value {v:?} cannot be sealed into column {} of type {}",
                    c.name,
                    c.ty.display_name()
                )));
            }
        }
    }
    Ok(())
}

/// Write `rows` of `table` as a new shard file in `shards_dir` and return its
/// metadata. If a shard with the same id already exists, it is reused.
pub fn write_shard(
    shards_dir: &Path,
    origin: &str,
    table: &TableDef,
    rows: Vec<Row>,
) -> Result<ShardMeta> {
    check_rows(table, &rows)?;
    let canon = canonicalize(table, origin, rows);
    let path = shard_path(shards_dir, &canon.id);
    if path.exists() {
        match read_meta(&path) {
            Ok(meta) if meta.id == canon.id && meta.row_count == canon.rows.len() as u64 => {
                return Ok(meta)
            }
            Ok(_) | Err(_) => {
                tracing::warn!(shard = %canon.id, "existing shard file is damaged; rewriting it")
            }
        }
    }
    let columns = columns_of(table);
    let mut meta = ShardMeta {
        id: canon.id.clone(),
        table: table.name.clone(),
        schema_hash: canon.schema_hash.clone(),
        row_count: canon.rows.len() as u64,
        byte_size: 0,
        columns: stats::column_stats(&columns, &canon.rows, &canon.digest)?,
        origin: origin.to_string(),
        versioned: true,
    };
    let tmp = shards_dir.join(format!(
        "{}.db.tmp-{:016x}",
        canon.id,
        rand::random::<u64>()
    ));
    let built = build_file(&tmp, table, &canon.rows, &mut meta).and_then(|()| {
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, &path)?;
        Ok(())
    });
    if let Err(e) = built {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(shards_dir)?.sync_all()?;
    Ok(meta)
}

fn db_err(e: rusqlite::Error) -> Error {
    Error::Internal(format!("shard file: {e}"))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn build_file(path: &Path, table: &TableDef, rows: &[Row], meta: &mut ShardMeta) -> Result<()> {
    let conn = Connection::open(path).map_err(db_err)?;
    // Indexes on numeric columns use its collation.
    crate::store::udf::register(&conn).map_err(db_err)?;
    conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;")
        .map_err(db_err)?;
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), c.ty.sqlite_decl()))
        .collect();
    let mut ddl = String::from("CREATE TABLE data(_rid INTEGER PRIMARY KEY, _ver INTEGER NOT NULL");
    for c in &cols {
        ddl.push_str(", ");
        ddl.push_str(c);
    }
    ddl.push_str(");\nCREATE TABLE _meta(k TEXT PRIMARY KEY, v BLOB);");
    conn.execute_batch(&ddl).map_err(db_err)?;
    insert_rows(&conn, table.columns.len() + 2, rows)?;
    for sql in index_ddl(table) {
        conn.execute_batch(&sql).map_err(db_err)?;
    }
    rtrees(&conn, table, rows, meta)?;
    vec_indexes(&conn, table, rows, meta)?;
    // Store the metadata, then its own size, until the size stops moving.
    for _ in 0..4 {
        let json = serde_json::to_vec(meta).map_err(Error::internal)?;
        conn.execute(
            "INSERT OR REPLACE INTO _meta(k, v) VALUES ('meta', ?1)",
            [&json],
        )
        .map_err(db_err)?;
        let size: i64 = conn
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let size = u64::try_from(size).unwrap_or(0);
        if size == meta.byte_size {
            break;
        }
        meta.byte_size = size;
    }
    conn.execute_batch("COMMIT;").map_err(db_err)?;
    conn.close().map_err(|(_, e)| db_err(e))
}

/// Insert `rows` into `data` (`width` columns: `_rid`, `_ver`, then the
/// values), row ids from 1, several rows to a statement
/// (`store::rows_per_insert`).
fn insert_rows(conn: &Connection, width: usize, rows: &[Row]) -> Result<()> {
    let per = crate::store::rows_per_insert(width);
    let statement = |n: usize| {
        format!(
            "INSERT INTO data VALUES {}",
            crate::store::value_rows(width, n)
        )
    };
    let mut many = conn.prepare(&statement(per)).map_err(db_err)?;
    let mut single = conn.prepare(&statement(1)).map_err(db_err)?;
    let rids: Vec<i64> = (1..=rows.len() as i64).collect();
    let mut params: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(per * width);
    for (chunk, ids) in rows.chunks(per).zip(rids.chunks(per)) {
        params.clear();
        for (row, rid) in chunk.iter().zip(ids) {
            params.push(rid);
            params.push(&row.ver);
            params.extend(row.values.iter().map(|v| v as &dyn rusqlite::ToSql));
        }
        if chunk.len() == per {
            many.execute(params.as_slice()).map_err(db_err)?;
        } else {
            for one in params.chunks(width) {
                single.execute(one).map_err(db_err)?;
            }
        }
    }
    Ok(())
}

/// An R*Tree of the boxes of each geometry column whose values have an
/// extent (`types::geometry::Extent`): row ids by box, so a spatial
/// predicate reads only the rows whose box can match
/// (`plan::rtree_condition`). SQLite keeps its coordinates as 32-bit
/// floats rounded outwards, so each stored box holds its geometry.
fn rtrees(conn: &Connection, table: &TableDef, rows: &[Row], meta: &ShardMeta) -> Result<()> {
    for (i, c) in table.columns.iter().enumerate() {
        if !meta.column(&c.name).is_some_and(|s| s.has_rtree()) {
            continue;
        }
        let name = crate::types::shard::rtree_name(&c.name);
        conn.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {name} USING rtree(id, minx, maxx, miny, maxy)"
        ))
        .map_err(db_err)?;
        let mut insert = conn
            .prepare(&format!("INSERT INTO {name} VALUES (?1, ?2, ?3, ?4, ?5)"))
            .map_err(db_err)?;
        for (rid, row) in (1i64..).zip(rows) {
            let Some(Datum::Blob(b)) = row.values.get(i) else {
                continue;
            };
            let Some((x0, y0, x1, y1)) = crate::types::geometry::stored_bbox(b) else {
                continue;
            };
            insert
                .execute(rusqlite::params![rid, x0, x1, y0, y1])
                .map_err(db_err)?;
        }
    }
    Ok(())
}

/// A sqlite-vec `vec0` table of each vector column whose values all have
/// one number of dimensions (`ColumnStats::vectors`): each row's vector
/// under its row id, kept in the file so it travels and is replaced with
/// the shard. A nearest-neighbour query takes its candidates from it and
/// checks them by the exact distance (`plan::nearest`).
fn vec_indexes(conn: &Connection, table: &TableDef, rows: &[Row], meta: &ShardMeta) -> Result<()> {
    for (i, c) in table.columns.iter().enumerate() {
        let Some(dims) = meta.column(&c.name).and_then(|s| s.vec_index()) else {
            continue;
        };
        let name = crate::types::shard::vec_index_name(&c.name);
        conn.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {name} USING vec0(v float[{dims}])"
        ))
        .map_err(db_err)?;
        let mut insert = conn
            .prepare(&format!("INSERT INTO {name}(rowid, v) VALUES (?1, ?2)"))
            .map_err(db_err)?;
        for (rid, row) in (1i64..).zip(rows) {
            if let Some(Datum::Blob(b)) = row.values.get(i) {
                insert.execute(rusqlite::params![rid, b]).map_err(db_err)?;
            }
        }
    }
    Ok(())
}

/// Give an existing shard the indexes `table` declares now (after CREATE
/// INDEX or ALTER TABLE … ADD PRIMARY KEY). Its rows, and so its id and
/// metadata, do not change; the file is rebuilt under a temporary name and
/// renamed over the old one, so a reader that has the old file open keeps
/// reading it unchanged.
pub fn add_indexes(shards_dir: &Path, id: &ShardId, table: &TableDef) -> Result<()> {
    let path = shard_path(shards_dir, id);
    let tmp = shards_dir.join(format!("{}.db.tmp-{:016x}", id, rand::random::<u64>()));
    let built = (|| -> Result<()> {
        fs::copy(&path, &tmp)?;
        let conn = Connection::open(&tmp).map_err(db_err)?;
        crate::store::udf::register(&conn).map_err(db_err)?;
        conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
            .map_err(db_err)?;
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('data')")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .map_err(db_err)?;
        for sql in index_ddl(table) {
            // An index on a column the shard predates cannot be built here.
            let sql = sql.replacen("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1);
            let cols = sql.rsplit('(').next().unwrap_or_default();
            let known = cols
                .trim_end_matches(')')
                .split(", ")
                .all(|c| columns.iter().any(|k| quote_ident(k) == c));
            if known {
                conn.execute_batch(&sql).map_err(db_err)?;
            }
        }
        conn.close().map_err(|(_, e)| db_err(e))?;
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, &path)?;
        Ok(())
    })();
    if built.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    built?;
    File::open(shards_dir)?.sync_all()?;
    Ok(())
}

/// CREATE INDEX statements: the declared indexes, and one on the primary key
/// unless a declared index already covers exactly its columns.
fn index_ddl(table: &TableDef) -> Vec<String> {
    let mut out = Vec::new();
    let mut lists: Vec<Vec<String>> = Vec::new();
    for ix in &table.indexes {
        if !ix.in_shards() {
            continue;
        }
        if ix.columns.is_empty() || ix.columns.iter().any(|c| table.column_index(c).is_none()) {
            tracing::warn!(index = %ix.name, "index names a column the table lacks; not built");
            continue;
        }
        let cols: Vec<String> = ix.columns.iter().map(|c| quote_ident(c)).collect();
        out.push(format!(
            "CREATE INDEX {} ON data({})",
            quote_ident(&ix.name),
            cols.join(", ")
        ));
        lists.push(ix.columns.clone());
    }
    let pk: Vec<String> = table
        .primary_key
        .iter()
        .filter_map(|&i| table.columns.get(i).map(|c| c.name.clone()))
        .collect();
    let pk_name = "_pk";
    if !pk.is_empty() && !lists.contains(&pk) && !table.indexes.iter().any(|ix| ix.name == pk_name)
    {
        let cols: Vec<String> = pk.iter().map(|c| quote_ident(c)).collect();
        out.push(format!(
            "CREATE INDEX {pk_name} ON data({})",
            cols.join(", ")
        ));
    }
    out
}

/// Open a shard file read-only. The file is immutable, so SQLite may skip
/// locking and change detection.
pub fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        file_uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    crate::store::udf::register(&conn).map_err(db_err)?;
    Ok(conn)
}

/// `file:` URI for `path` with `immutable=1`, percent-encoding every byte
/// that could end the path part.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Read the metadata stored inside a shard file.
pub fn read_meta(path: &Path) -> Result<ShardMeta> {
    if !path.is_file() {
        return Err(Error::Internal(format!(
            "shard file {} is missing",
            path.display()
        )));
    }
    let conn = open_read_only(path)?;
    meta_of(&conn)
}

fn meta_of(conn: &Connection) -> Result<ShardMeta> {
    let json: Vec<u8> = conn
        .query_row("SELECT v FROM _meta WHERE k = 'meta'", [], |r| {
            Ok(r.get_ref(0)?.as_bytes()?.to_vec())
        })
        .map_err(db_err)?;
    serde_json::from_slice(&json).map_err(|e| Error::Internal(format!("shard metadata: {e}")))
}

/// Check that the shard file at `path` holds exactly the content `expected`
/// names: its rows (in `_rid` order) and recorded schema hash to `expected`,
/// and its stored metadata matches what those rows give. `Ok(false)` for a
/// file with other or damaged content; `Err` only when it cannot be read.
pub fn verify(path: &Path, expected: &ShardId) -> Result<bool> {
    File::open(path)?;
    match recompute(path) {
        Ok((meta, fresh)) => Ok(&meta.id == expected
            && &fresh.id == expected
            && meta.row_count == fresh.row_count
            && meta.schema_hash == fresh.schema_hash
            && same_stats(&meta.columns, &fresh.columns)),
        Err(e) => {
            tracing::debug!(shard = %expected, error = %e, "shard file fails verification");
            Ok(false)
        }
    }
}

fn same_stats(a: &[ColumnStats], b: &[ColumnStats]) -> bool {
    match (serde_json::to_vec(a), serde_json::to_vec(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The stored metadata, and the metadata the file's rows give.
fn recompute(path: &Path) -> Result<(ShardMeta, ShardMeta)> {
    let conn = open_read_only(path)?;
    let meta = meta_of(&conn)?;
    let columns: Vec<(String, PgType)> = meta
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    let mut sql = String::from("SELECT _rid, _ver");
    for (name, _) in &columns {
        sql.push_str(", ");
        sql.push_str(&quote_ident(name));
    }
    sql.push_str(" FROM data ORDER BY _rid");
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    let mut values: Vec<Vec<Datum>> = Vec::new();
    let mut encoded: Vec<(Vec<u8>, Option<i64>)> = Vec::new();
    while let Some(r) = rows.next().map_err(db_err)? {
        let rid: i64 = r.get(0).map_err(db_err)?;
        if rid != values.len() as i64 + 1 {
            return Err(Error::Internal(format!(
                "shard row ids are not 1..n at {rid}"
            )));
        }
        let ver: i64 = r.get(1).map_err(db_err)?;
        let row = (2..=columns.len() + 1)
            .map(|i| r.get_ref(i).map(Datum::from_ref))
            .collect::<rusqlite::Result<Vec<Datum>>>()
            .map_err(db_err)?;
        encoded.push((encode_row(&row), meta.versioned.then_some(ver)));
        values.push(row);
    }
    let schema = schema_bytes(&meta.table, &columns);
    let digest = digest(
        &meta.origin,
        &schema,
        encoded.iter().map(|(row, ver)| (row.as_slice(), *ver)),
    );
    let fresh = ShardMeta {
        id: ShardId(base32(&digest)),
        table: meta.table.clone(),
        schema_hash: base32(&Sha256::digest(&schema)),
        row_count: values.len() as u64,
        byte_size: meta.byte_size,
        columns: stats::column_stats(&columns, &values, &digest)?,
        origin: meta.origin.clone(),
        versioned: meta.versioned,
    };
    check_indexes(&conn, &fresh, &values)?;
    Ok((meta, fresh))
}

/// That the vec0 tables and R*Trees `build_file` made from the rows hold
/// what those rows give (an error naming the index otherwise): queries
/// trust them to list every row that can be near (`plan::nearest`) or
/// match (`plan::rtree_condition`), so verification covers them too.
/// A vec0 table must hold each row's vector exactly; an R*Tree each row's
/// box or a larger one (it keeps 32-bit floats rounded outwards).
fn check_indexes(conn: &Connection, meta: &ShardMeta, values: &[Vec<Datum>]) -> Result<()> {
    let damaged = |index: String| {
        Error::DataCorrupted(format!(
            "shard index {index} does not match the shard's rows"
        ))
    };
    for (i, c) in meta.columns.iter().enumerate() {
        let blobs = || {
            (1i64..)
                .zip(values)
                .filter_map(move |(rid, row)| match row.get(i) {
                    Some(Datum::Blob(b)) => Some((rid, b.as_slice())),
                    _ => None,
                })
        };
        if c.vec_index().is_some() {
            let name = crate::types::shard::vec_index_name(&c.name);
            let mut st = conn
                .prepare(&format!("SELECT rowid, v FROM {name} ORDER BY rowid"))
                .map_err(db_err)?;
            let stored = st
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(db_err)?;
            let same = stored.len() == blobs().count()
                && (stored.iter().zip(blobs())).all(|((r, v), (rid, b))| *r == rid && v == b);
            if !same {
                return Err(damaged(name));
            }
        }
        if c.has_rtree() {
            let name = crate::types::shard::rtree_name(&c.name);
            let mut st = conn
                .prepare(&format!(
                    "SELECT id, minx, maxx, miny, maxy FROM {name} ORDER BY id"
                ))
                .map_err(db_err)?;
            let stored = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        [r.get::<_, f64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(db_err)?;
            let boxes = blobs()
                .filter_map(|(rid, b)| crate::types::geometry::stored_bbox(b).map(|bb| (rid, bb)));
            let mut stored = stored.into_iter();
            for (rid, (x0, y0, x1, y1)) in boxes {
                let holds = stored.next().is_some_and(|(id, [minx, maxx, miny, maxy])| {
                    id == rid && minx <= x0 && maxx >= x1 && miny <= y0 && maxy >= y1
                });
                if !holds {
                    return Err(damaged(name));
                }
            }
            if stored.next().is_some() {
                return Err(damaged(name));
            }
        }
    }
    Ok(())
}
