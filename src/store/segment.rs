//! `segments.db`: the node's open segments, shard manifest and tombstones.
//!
//! Every connection to it comes from `open`, which sets the pragmas that
//! make a committed transaction survive `kill -9` (WAL, synchronous=FULL)
//! and registers MosaicDB's SQL functions.

use std::path::Path;
use std::sync::Arc;

use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection};

use crate::error::{Error, Result};
use crate::store::clock::Hlc;
use crate::store::sequences::Sequences;
use crate::store::shard::{self, Row, ShardId, ShardMeta};
use crate::types::table::TableDef;
use crate::types::{Datum, PgType};

pub use crate::types::shard::LiveShard;

pub use crate::types::quote;
pub use batch::seal_full_shards;
pub use rebuild::{migrate_numeric, needs_rebuild, rebuild};
pub(crate) use rename::table_exists;
pub use rename::{rename, retag};

mod batch;
mod rebuild;
mod rename;

/// The tombstone set: in segments.db, and in each fragment worker's own
/// connection (the tombstones its statement sees of its one shard).
pub const TOMBSTONES: &str = "CREATE TABLE IF NOT EXISTS _mosaic_tombstones(
    shard_id TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY(shard_id, rid)) WITHOUT ROWID;";

/// Keys this node wrote while a member was unreachable, and what settling
/// them cost (see `exec::settle`).
///
/// `_mosaic_unsettled` holds, per table, unique key (its column names, a
/// JSON array) and value of it (the values encoded with postcard), the
/// newest version this node wrote or
/// deleted it at while some member could not be asked, and whether it
/// wrote a row then (`wrote`) or only removed one. `_mosaic_conflicts`
/// holds the versions settling tombstoned: the losing row and the winning
/// one (JSON objects; NULL for a delete), their homes and versions, and
/// why (`reason`: a newer version of the key, or the table created again
/// elsewhere, which takes this node's rows of the old one with it).
/// `_mosaic_unsettled_waits` names, per recorded value, the nodes the write
/// could not ask: the value is settled against each once it is live again
/// (a record without any, kept from before, waits for every node).
pub const SETTLEMENT: &str = "CREATE TABLE IF NOT EXISTS _mosaic_unsettled(
        table_name TEXT NOT NULL, columns TEXT NOT NULL, key BLOB NOT NULL,
        ver INTEGER NOT NULL, wrote INTEGER NOT NULL,
        PRIMARY KEY(table_name, columns, key)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS _mosaic_conflicts(
        table_name TEXT NOT NULL, key TEXT NOT NULL,
        loser_node TEXT NOT NULL, loser_version INTEGER NOT NULL, loser_row TEXT,
        winner_node TEXT, winner_version INTEGER NOT NULL, winner_row TEXT,
        settled_at INTEGER NOT NULL, reason TEXT NOT NULL,
        PRIMARY KEY(table_name, key, loser_node, loser_version)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS _mosaic_unsettled_waits(
        table_name TEXT NOT NULL, columns TEXT NOT NULL, key BLOB NOT NULL, node TEXT NOT NULL,
        PRIMARY KEY(table_name, columns, key, node)) WITHOUT ROWID;";

/// How long a connection waits for another's write lock.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub fn open(path: &Path, hlc: &Arc<Hlc>, sequences: &Arc<Sequences>) -> Result<Connection> {
    let conn = Connection::open(path).map_err(Error::from)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         PRAGMA case_sensitive_like=ON; PRAGMA foreign_keys=OFF;",
    )
    .map_err(Error::from)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(Error::from)?;
    register_functions(&conn, hlc.clone(), sequences.clone()).map_err(Error::from)?;
    rusqlite::vtab::series::load_module(&conn).map_err(Error::from)?;
    Ok(conn)
}

/// Functions every connection needs: MosaicDB's SQL functions, the row
/// version clock and serial sequences.
pub fn register_functions(
    conn: &Connection,
    hlc: Arc<Hlc>,
    sequences: Arc<Sequences>,
) -> rusqlite::Result<()> {
    crate::store::udf::register(conn)?;
    conn.create_scalar_function("mosaic_hlc", 0, FunctionFlags::SQLITE_UTF8, move |_| {
        Ok(hlc.now())
    })?;
    conn.create_scalar_function(
        "mosaic_nextval",
        1,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            let name: String = ctx.get(0)?;
            sequences.next(&name).map_err(crate::store::udf::fail)
        },
    )?;
    Ok(())
}

/// Create the manifest, tombstone and outbox tables, or bring those of an
/// older version up to date.
///
/// `_mosaic_shards.home` names the node that sealed a replica (NULL for
/// this node's own shards). `_mosaic_outbox` holds tombstones this node
/// committed that another holder (`node`) of the shard has not confirmed
/// yet, with the shard's `home` and the row's values (`row_values`, JSON),
/// so that the home, if it compacted the shard since, can find the row
/// again.
pub fn init(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _mosaic_shards(
             id TEXT PRIMARY KEY, table_name TEXT NOT NULL,
             tombstones INTEGER NOT NULL DEFAULT 0, sealed_at INTEGER NOT NULL, home TEXT);",
    )
    .map_err(Error::from)?;
    conn.execute_batch(TOMBSTONES)?;
    conn.execute_batch(SETTLEMENT).map_err(Error::from)?;
    conn.execute_batch(super::dropped::SCHEMA)?;
    let has = |table: &str, column: &str| -> Result<bool> {
        conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
            [table, column],
            |r| r.get(0),
        )
        .map_err(Error::from)
    };
    if !has("_mosaic_shards", "home")? {
        conn.execute_batch("ALTER TABLE _mosaic_shards ADD COLUMN home TEXT")
            .map_err(Error::from)?;
    }
    // A table's live shards in the order statements read them, from the
    // index alone (`live_shards`; it replaces an index on the name only).
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS _mosaic_shards_order
             ON _mosaic_shards(table_name, sealed_at, id, tombstones, home);
         DROP INDEX IF EXISTS _mosaic_shards_table;",
    )
    .map_err(Error::from)?;
    let outbox = "CREATE TABLE IF NOT EXISTS _mosaic_outbox(
             shard_id TEXT NOT NULL, rid INTEGER NOT NULL, node TEXT NOT NULL, home TEXT NOT NULL,
             table_name TEXT NOT NULL, row_values TEXT NOT NULL,
             PRIMARY KEY(shard_id, rid, node)) WITHOUT ROWID;";
    if has("_mosaic_outbox", "home")? && !has("_mosaic_outbox", "node")? {
        // One queued tombstone per shard, for its home only: now one per holder.
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             ALTER TABLE _mosaic_outbox RENAME TO _mosaic_outbox_old;
             {outbox}
             INSERT INTO _mosaic_outbox(shard_id, rid, node, home, table_name, row_values)
                 SELECT shard_id, rid, home, home, table_name, row_values FROM _mosaic_outbox_old;
             DROP TABLE _mosaic_outbox_old;
             COMMIT;"
        ))
        .map_err(Error::from)?;
    } else {
        conn.execute_batch(outbox).map_err(Error::from)?;
    }
    Ok(())
}

/// The SQLite column definitions of a table's open segment.
pub fn column_defs(def: &TableDef) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for col in &def.columns {
        let mut s = format!("{} {}", quote(&col.name), col.ty.sqlite_decl());
        // A NOT NULL domain's own CHECK comes first, as PostgreSQL checks
        // the domain before the column.
        let domain_not_null = col.domain.as_ref().is_some_and(|d| d.not_null);
        if col.not_null && !domain_not_null {
            s.push_str(" NOT NULL");
        }
        if let Some(d) = col.effective_default() {
            s.push_str(&format!(
                " DEFAULT ({})",
                crate::sql::default_to_sqlite(d, &col.ty)?
            ));
        }
        s.push_str(&domain_checks(col)?);
        if col.generated.is_some() {
            s.push_str(&format!(
                " GENERATED ALWAYS AS ({}) STORED",
                crate::sql::ddl::generated::to_sqlite(def, col)?
            ));
        }
        // SQLite stores 64-bit integers whatever the declared width.
        let range = match col.ty {
            PgType::Int2 => Some(("smallint", i16::MIN as i64, i16::MAX as i64)),
            PgType::Int4 => Some(("integer", i32::MIN as i64, i32::MAX as i64)),
            _ => None,
        };
        if let Some((name, lo, hi)) = range {
            s.push_str(&format!(
                " CONSTRAINT {} CHECK ({} BETWEEN {lo} AND {hi})",
                quote(&format!("{name} out of range")),
                quote(&col.name)
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// The SQLite CHECKs of a column's domain: NOT NULL, then each CHECK in
/// the order PostgreSQL applies them.
fn domain_checks(col: &crate::types::table::Column) -> Result<String> {
    let Some(d) = &col.domain else {
        return Ok(String::new());
    };
    let name = |c: Option<&str>| quote(&super::errors::domain_constraint_name(&d.name, c));
    let mut s = String::new();
    if d.not_null {
        s.push_str(&format!(
            " CONSTRAINT {} CHECK ({} IS NOT NULL)",
            name(None),
            quote(&col.name)
        ));
    }
    for c in d.checks_in_order() {
        s.push_str(&format!(
            " CONSTRAINT {} CHECK ({})",
            name(Some(&c.name)),
            crate::sql::domain::check_to_sqlite(&c.expr, &col.name, &col.ty)?
        ));
    }
    Ok(s)
}

/// Column definitions with their storage types (for temp tables that
/// hold a table's rows: SQLite compares by a column's affinity, and a
/// UNION of a typed and an untyped column has none).
pub fn typed_columns(def: &TableDef) -> Vec<String> {
    def.columns
        .iter()
        .map(|c| format!("{} {}", quote(&c.name), c.ty.sqlite_decl()))
        .collect()
}

/// Add `col` to the open segment of `table` (ALTER TABLE … ADD COLUMN).
/// NOT NULL is enforced by the segment only when the column has a default
/// (the rows already there take it); otherwise the caller checked that the
/// table is empty.
pub fn add_column(conn: &Connection, table: &str, col: &crate::types::table::Column) -> Result<()> {
    let mut spec = format!("{} {}", quote(&col.name), col.ty.sqlite_decl());
    if let Some(d) = col.effective_default() {
        spec.push_str(&format!(
            " DEFAULT ({})",
            crate::sql::default_to_sqlite(d, &col.ty)?
        ));
        if col.not_null {
            spec.push_str(" NOT NULL");
        }
    }
    // SQLite tests them against the rows already here.
    spec.push_str(&domain_checks(col)?);
    conn.execute_batch(&format!("ALTER TABLE {} ADD COLUMN {spec}", quote(table)))
        .map_err(Error::from)
}

/// Create the open segment of `def` if it does not exist yet.
pub fn create_table(conn: &Connection, def: &TableDef) -> Result<()> {
    let mut cols = vec![
        "_key INTEGER PRIMARY KEY AUTOINCREMENT".to_string(),
        "_ver INTEGER NOT NULL DEFAULT (mosaic_hlc())".to_string(),
    ];
    cols.extend(column_defs(def)?);
    let table_columns: Vec<(String, PgType)> = def
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    for (check, name) in def.checks.iter().zip(def.check_constraint_names()) {
        cols.push(format!(
            "CONSTRAINT {} CHECK ({})",
            quote(&super::errors::check_constraint_name(&def.name, &name)),
            crate::sql::check_to_sqlite(check, &table_columns)?
        ));
    }
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} ({}) STRICT;",
        def.segment(),
        cols.join(", ")
    );
    // An index lives in its table's schema (`temp` for a temporary table).
    let schema = def.segment_schema();
    // A write's checks find the rows its statement wrote by their version
    // (unique keys across shards, foreign keys): without this index each
    // check read the whole open segment, so a write cost grew with it.
    sql.push_str(&format!(
        "CREATE INDEX IF NOT EXISTS {schema}.{} ON {}(_ver);",
        quote(&version_index(&def.name)),
        quote(&def.name)
    ));
    for (i, key) in def.unique_keys().enumerate() {
        let name = if i == 0 && !def.primary_key.is_empty() {
            format!("{}_pkey", def.name)
        } else {
            format!("{}_{}_key", def.name, key_name(def, key))
        };
        sql.push_str(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {schema}.{} ON {}({});",
            quote(&name),
            quote(&def.name),
            key.iter()
                .map(|&c| quote(&def.columns[c].name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for idx in &def.indexes {
        // Expression indexes are built here even when not unique: a write
        // whose key expression fails (division by zero) fails as in
        // PostgreSQL.
        let keys = idx
            .columns
            .iter()
            .enumerate()
            .map(|(k, c)| match idx.expr(k) {
                Some(e) => crate::sql::index_expr::key_to_sqlite(e, def),
                None => Ok(quote(c)),
            })
            .collect::<Result<Vec<_>>>()?;
        let predicate = match &idx.predicate {
            Some(p) => format!(" WHERE {}", crate::sql::check_to_sqlite(p, &table_columns)?),
            None => String::new(),
        };
        sql.push_str(&format!(
            "CREATE {}INDEX IF NOT EXISTS {schema}.{} ON {}({}){predicate};",
            if idx.unique { "UNIQUE " } else { "" },
            quote(&def.index_storage_name(&idx.name)),
            quote(&def.name),
            keys.join(", ")
        ));
    }
    conn.execute_batch(&sql).map_err(Error::from)
}

/// The SQLite name of the index on an open segment's row versions (the
/// unit separator keeps it apart from the names users give indexes).
pub fn version_index(table: &str) -> String {
    format!("\x1fver {table}")
}

pub fn key_name(def: &TableDef, key: &[usize]) -> String {
    key.iter()
        .map(|&c| def.columns[c].name.as_str())
        .collect::<Vec<_>>()
        .join("_")
}

/// Drop a table's open segment, manifest entries and tombstones; returns
/// the shards that were live.
pub fn drop_table(conn: &Connection, name: &str) -> Result<Vec<ShardId>> {
    let shards = live_shards(conn, Some(name))?;
    conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?;
    let r = (|| -> rusqlite::Result<()> {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", quote(name)))?;
        for s in &shards {
            conn.execute(
                "DELETE FROM _mosaic_tombstones WHERE shard_id = ?1",
                [&s.id.0],
            )?;
        }
        conn.execute("DELETE FROM _mosaic_shards WHERE table_name = ?1", [name])?;
        conn.execute("DELETE FROM _mosaic_outbox WHERE table_name = ?1", [name])?;
        Ok(())
    })();
    finish(conn, r.map_err(Error::from))?;
    Ok(shards.into_iter().map(|s| s.id).collect())
}

/// Commit on success, roll back on failure.
pub fn finish<T>(conn: &Connection, r: Result<T>) -> Result<T> {
    match r {
        Ok(v) => {
            conn.execute_batch("COMMIT").map_err(Error::from)?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Live shards of one table (or of all tables), as this connection's
/// current transaction sees the manifest.
pub fn live_shards(conn: &Connection, table: Option<&str>) -> Result<Vec<LiveShard>> {
    let map = |r: &rusqlite::Row| {
        Ok(LiveShard {
            id: ShardId(r.get(0)?),
            table: r.get(1)?,
            tombstones: r.get(2)?,
            home: r.get(3)?,
        })
    };
    let rows = match table {
        Some(t) => conn
            .prepare_cached(
                "SELECT id, table_name, tombstones, home FROM _mosaic_shards WHERE table_name = ?1 ORDER BY sealed_at, id",
            )
            .and_then(|mut s| s.query_map([t], map)?.collect::<rusqlite::Result<Vec<_>>>()),
        None => conn
            .prepare_cached("SELECT id, table_name, tombstones, home FROM _mosaic_shards ORDER BY sealed_at, id")
            .and_then(|mut s| s.query_map([], map)?.collect::<rusqlite::Result<Vec<_>>>()),
    };
    rows.map_err(Error::from)
}

/// Whether the manifest names shard `id` (this node's own, or a copy).
pub fn holds(conn: &Connection, id: &ShardId) -> Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM _mosaic_shards WHERE id = ?1)",
        [&id.0],
        |r| r.get(0),
    )
    .map_err(Error::from)
}

/// Whether `table`'s open segment holds at least `rows` rows. The span of
/// its keys bounds the count from above (keys are unique), so a segment
/// far from full is known in two index lookups; only one that may be full
/// is counted (a scan). A commit asks this of every table it wrote.
pub fn holds_at_least(conn: &Connection, table: &str, rows: u64) -> Result<bool> {
    let t = quote(table);
    let span: Option<i64> = conn
        // One aggregate per SELECT: SQLite answers each from the key's
        // b-tree in one seek.
        .prepare_cached(&format!(
            "SELECT (SELECT max(_key) FROM {t}) - (SELECT min(_key) FROM {t}) + 1"
        ))
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(Error::from)?;
    if span.unwrap_or(0) < rows as i64 {
        return Ok(false);
    }
    Ok(count_rows(conn, table)? >= rows)
}

pub fn count_rows(conn: &Connection, table: &str) -> Result<u64> {
    conn.query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
    .map_err(Error::from)
}

pub fn max_int(conn: &Connection, table: &str, column: &str) -> Result<i64> {
    conn.query_row(
        &format!("SELECT max({}) FROM {}", quote(column), quote(table)),
        [],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|v| v.unwrap_or(0))
    .map_err(Error::from)
}

/// The oldest `limit` rows of `def`'s open segment, as a seal reads them,
/// and their keys.
pub fn oldest_rows(conn: &Connection, def: &TableDef, limit: u64) -> Result<(Vec<Row>, Vec<i64>)> {
    let sql = format!(
        "SELECT _key, _ver, {} FROM {} ORDER BY _key LIMIT {limit}",
        column_list(def),
        quote(&def.name)
    );
    read_rows(conn, &sql, [], def.columns.len())
}

/// `def`'s columns, quoted, as a select list.
fn column_list(def: &TableDef) -> String {
    let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
    cols.join(", ")
}

/// The rows `sql` reads (`_key, _ver`, then `ncols` values), and their keys.
fn read_rows(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    ncols: usize,
) -> Result<(Vec<Row>, Vec<i64>)> {
    let mut stmt = conn.prepare(sql).map_err(Error::from)?;
    let mut rows = stmt.query(params).map_err(Error::from)?;
    let (mut out, mut keys) = (Vec::new(), Vec::new());
    while let Some(r) = rows.next().map_err(Error::from)? {
        keys.push(r.get::<_, i64>(0).map_err(Error::from)?);
        let mut values = Vec::with_capacity(ncols);
        for i in 0..ncols {
            values.push(Datum::from_ref(r.get_ref(i + 2).map_err(Error::from)?));
        }
        out.push(Row {
            ver: r.get(1).map_err(Error::from)?,
            values,
        });
    }
    Ok((out, keys))
}

/// Live rows of a local shard (tombstoned rows left out), in the current
/// table schema's column order.
fn shard_rows(
    conn: &Connection,
    path: &Path,
    id: &ShardId,
    def: &TableDef,
    meta: &ShardMeta,
) -> Result<Vec<Row>> {
    let mut dead = std::collections::HashSet::new();
    {
        let mut stmt = conn
            .prepare("SELECT rid FROM _mosaic_tombstones WHERE shard_id = ?1")
            .map_err(Error::from)?;
        let rids = stmt
            .query_map([&id.0], |r| r.get::<_, i64>(0))
            .map_err(Error::from)?;
        for rid in rids {
            dead.insert(rid.map_err(Error::from)?);
        }
    }
    file_rows(path, def, meta, &dead)
}

/// The rows of the shard file at `path` but those `dead` names, in
/// `def`'s column order.
pub(crate) fn file_rows(
    path: &Path,
    def: &TableDef,
    meta: &ShardMeta,
    dead: &std::collections::HashSet<i64>,
) -> Result<Vec<Row>> {
    let src = Connection::open_with_flags(
        format!("file:{}?immutable=1", path.display()),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(Error::from)?;
    crate::store::udf::register(&src).map_err(Error::from)?;
    // Columns added after the shard was sealed read as their default;
    // renamed ones under the name the shard has.
    let cols: Vec<String> = def
        .columns
        .iter()
        .map(|c| shard::read_column(c, meta))
        .collect::<Result<_>>()?;
    let sql = format!(
        "SELECT _ver, _rid, {} FROM data ORDER BY _rid",
        cols.join(", ")
    );
    let mut stmt = src.prepare(&sql).map_err(Error::from)?;
    let mut rows = stmt.query([]).map_err(Error::from)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(Error::from)? {
        let rid: i64 = r.get(1).map_err(Error::from)?;
        if dead.contains(&rid) {
            continue;
        }
        let mut values = Vec::with_capacity(cols.len());
        for i in 0..cols.len() {
            values.push(Datum::from_ref(r.get_ref(i + 2).map_err(Error::from)?));
        }
        out.push(Row {
            ver: r.get(0).map_err(Error::from)?,
            values,
        });
    }
    Ok(out)
}

/// Seal the oldest `max_rows` rows of the open segment of `def` into a
/// shard (see `Store::seal`); the shard, and the last row key it took
/// (every row up to it left the open segment).
pub fn seal(
    conn: &Connection,
    def: &TableDef,
    shards_dir: &Path,
    origin: &str,
    max_rows: u64,
    meta_of: impl Fn(&ShardId) -> Result<Arc<ShardMeta>>,
) -> Result<Option<(ShardMeta, i64)>> {
    // Waiting out another writer too long is a serialization failure (a
    // transaction that asked a peer to seal while holding its own lock).
    conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?;
    let r = (|| -> Result<Option<(ShardMeta, i64)>> {
        let last_key: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT max(_key) FROM (SELECT _key FROM {} ORDER BY _key LIMIT ?1)",
                    quote(&def.name)
                ),
                [max_rows as i64],
                |r| r.get(0),
            )
            .map_err(Error::from)?;
        let Some(last_key) = last_key else {
            return Ok(None);
        };
        let rows = rows_between(conn, def, i64::MIN, last_key)?;
        let meta = install(conn, def, shards_dir, origin, rows, &meta_of)?;
        conn.execute_batch(&format!(
            "DELETE FROM {} WHERE _key <= {last_key}",
            quote(&def.name)
        ))
        .map_err(Error::from)?;
        Ok(Some((meta, last_key)))
    })();
    finish(conn, r).inspect(|sealed| {
        if sealed.is_some() {
            metrics::counter!(crate::observe::SEALS).increment(1);
        }
    })
}

/// Write `rows` of `def` as a shard and name it in the manifest, inside
/// the caller's write transaction.
///
/// Content addressing: identical rows with identical versions give an
/// identical id, which no seal makes twice (a sealed row leaves the
/// segment). Should a live shard have this id all the same, its live rows
/// are folded into this shard instead, so the result is a new, larger
/// shard and no row is lost or doubled.
pub(crate) fn install(
    conn: &Connection,
    def: &TableDef,
    shards_dir: &Path,
    origin: &str,
    mut rows: Vec<Row>,
    meta_of: &impl Fn(&ShardId) -> Result<Arc<ShardMeta>>,
) -> Result<ShardMeta> {
    let live: std::collections::HashSet<ShardId> = live_shards(conn, Some(&def.name))?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let meta = loop {
        let meta = shard::write_shard(shards_dir, origin, def, rows.clone())?;
        if !live.contains(&meta.id) {
            break meta;
        }
        let old = meta_of(&meta.id)?;
        let path = shard::shard_path(shards_dir, &meta.id);
        rows.extend(shard_rows(conn, &path, &meta.id, def, &old)?);
        retire(conn, &meta.id)?;
    };
    name_shard(conn, def, &meta.id)?;
    Ok(meta)
}

/// The open segment's rows with keys from `first` to `last`, in key order.
fn rows_between(conn: &Connection, def: &TableDef, first: i64, last: i64) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT _key, _ver, {} FROM {} WHERE _key BETWEEN ?1 AND ?2 ORDER BY _key",
        column_list(def),
        quote(&def.name)
    );
    read_rows(conn, &sql, [first, last], def.columns.len()).map(|(rows, _)| rows)
}

/// Name shard `id`, just sealed from `def`'s open segment, in the manifest.
fn name_shard(conn: &Connection, def: &TableDef, id: &ShardId) -> Result<()> {
    conn.execute(
        "INSERT INTO _mosaic_shards(id, table_name, tombstones, sealed_at) VALUES (?1, ?2, 0, ?3)",
        params![id.0, def.name, chrono::Utc::now().timestamp_micros()],
    )
    .map(drop)
    .map_err(Error::from)
}

/// Rewrite a shard without its tombstoned rows into a new shard that
/// supersedes it (or drop it when no row is left). Returns the new shard.
pub fn compact(
    conn: &Connection,
    def: &TableDef,
    shards_dir: &Path,
    origin: &str,
    id: &ShardId,
    meta_of: impl Fn(&ShardId) -> Result<Arc<ShardMeta>>,
) -> Result<Option<ShardMeta>> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from)?;
    let mut retired = false;
    let r = (|| -> Result<Option<ShardMeta>> {
        let still_live = live_shards(conn, Some(&def.name))?
            .into_iter()
            .any(|s| s.id == *id && s.tombstones > 0 && s.home.is_none());
        if !still_live {
            return Ok(None);
        }
        let old = meta_of(id)?;
        let rows = shard_rows(conn, &shard::shard_path(shards_dir, id), id, def, &old)?;
        retire(conn, id)?;
        retired = true;
        if rows.is_empty() {
            return Ok(None);
        }
        install(conn, def, shards_dir, origin, rows, &meta_of).map(Some)
    })();
    let compacted = finish(conn, r)?;
    metrics::counter!(crate::observe::COMPACTIONS).increment(u64::from(retired));
    Ok(compacted)
}

/// Take a shard out of the manifest (superseded); its file stays until the
/// next start, so readers with an older snapshot can still open it.
fn retire(conn: &Connection, id: &ShardId) -> Result<()> {
    conn.execute(
        "DELETE FROM _mosaic_tombstones WHERE shard_id = ?1",
        [&id.0],
    )
    .map_err(Error::from)?;
    conn.execute("DELETE FROM _mosaic_shards WHERE id = ?1", [&id.0])
        .map_err(Error::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key span answers for a segment far from full; one with gaps
    /// (rows deleted) is counted.
    #[test]
    fn holds_at_least_counts_what_the_key_span_cannot_decide() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(_key INTEGER PRIMARY KEY AUTOINCREMENT, v INT)")
            .unwrap();
        assert!(holds_at_least(&conn, "t", 0).unwrap());
        assert!(!holds_at_least(&conn, "t", 1).unwrap());
        for v in 0..10 {
            conn.execute("INSERT INTO t(v) VALUES (?1)", [v]).unwrap();
        }
        assert!(holds_at_least(&conn, "t", 10).unwrap());
        assert!(!holds_at_least(&conn, "t", 11).unwrap());
        conn.execute_batch("DELETE FROM t WHERE v BETWEEN 2 AND 6")
            .unwrap();
        assert!(holds_at_least(&conn, "t", 5).unwrap());
        assert!(!holds_at_least(&conn, "t", 6).unwrap());
        assert!(!holds_at_least(&conn, "t", 10).unwrap());
    }

    /// A segments.db from before replication: a manifest without `home`,
    /// an outbox with one row per tombstone for its home only.
    #[test]
    fn an_older_segments_db_is_brought_up_to_date() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE _mosaic_shards(
                 id TEXT PRIMARY KEY, table_name TEXT NOT NULL,
                 tombstones INTEGER NOT NULL DEFAULT 0, sealed_at INTEGER NOT NULL);
             CREATE TABLE _mosaic_outbox(
                 shard_id TEXT NOT NULL, rid INTEGER NOT NULL, table_name TEXT NOT NULL,
                 home TEXT NOT NULL, row_values TEXT NOT NULL, PRIMARY KEY(shard_id, rid)) WITHOUT ROWID;
             INSERT INTO _mosaic_shards VALUES ('s1', 't', 0, 1);
             INSERT INTO _mosaic_outbox VALUES ('s2', 7, 't', 'n2', '[1]');",
        )
        .unwrap();
        init(&conn).unwrap();
        init(&conn).unwrap();
        let shards = live_shards(&conn, None).unwrap();
        assert_eq!(shards.len(), 1);
        assert_eq!(
            shards[0].home, None,
            "a shard from before is this node's own"
        );
        let row: (String, i64, String, String, String, String) = conn
            .query_row(
                "SELECT shard_id, rid, node, home, table_name, row_values FROM _mosaic_outbox",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "s2".into(),
                7,
                "n2".into(),
                "n2".into(),
                "t".into(),
                "[1]".into()
            )
        );
        // One queued tombstone per holder now.
        conn.execute(
            "INSERT INTO _mosaic_outbox VALUES ('s2', 7, 'n3', 'n2', 't', '[1]')",
            [],
        )
        .unwrap();
    }
}
