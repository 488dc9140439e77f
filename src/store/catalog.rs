//! The catalog: table definitions and roles, kept in `DATA/catalog.db` and
//! mirrored in memory for the planner. Each object carries the hybrid
//! logical clock of its last change so catalogs can later merge
//! last-writer-wins across nodes.
//!
//! Uncommitted DDL (see `exec::ddl`) reaches the catalog in two places:
//!
//! - *Staged* definitions: an open transaction block's table changes,
//!   owned by its session, which reads the catalog through a [`View`]
//!   (its staged definitions over the committed ones). Whatever thread
//!   does the session's work sees the same; every other session sees the
//!   committed catalog only.
//! - The *journal*: `_mosaic_ddl` in `segments.db`, written inside the
//!   block's SQLite transaction, one row per change. It commits or rolls
//!   back with the block's rows, so it is what decides whether a DDL
//!   committed. After the commit, [`Catalog::publish`] writes the changes
//!   to `catalog.db` and memory; a crash before that is repaired at start
//!   by [`Catalog::replay_journal`]. Applying a journal row follows the
//!   same last-writer-wins rule as an entry from another node, so applying
//!   it twice, or after a newer change, does nothing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::types::table::TableDef;

pub use crate::types::role::Role;

/// One change of a transaction block, as the journal holds it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The journal row (`_mosaic_ddl.seq`).
    pub seq: i64,
    pub name: String,
    pub object: Object,
    pub hlc: i64,
}

/// What a journal row changes: a table (or view, sequence, type) or a
/// role, with its new definition, or `None` once dropped.
#[derive(Debug, Clone)]
pub enum Object {
    Table(Option<Arc<TableDef>>),
    Role(Option<Arc<Role>>),
}

impl Object {
    /// The journal's `kind` column.
    fn kind(&self) -> &'static str {
        match self {
            Object::Table(_) => "table",
            Object::Role(_) => "role",
        }
    }

    fn to_json(&self) -> Result<Option<String>> {
        let json = match self {
            Object::Table(def) => def.as_deref().map(serde_json::to_string),
            Object::Role(role) => role.as_deref().map(serde_json::to_string),
        };
        json.transpose().map_err(Error::internal)
    }

    fn from_json(kind: &str, json: Option<&str>) -> Result<Object> {
        let corrupt = |e: String| Error::Internal(format!("corrupt DDL journal entry: {e}"));
        match kind {
            "table" => json
                .map(|d| serde_json::from_str::<TableDef>(d).map(Arc::new))
                .transpose()
                .map(Object::Table)
                .map_err(|e| corrupt(e.to_string())),
            "role" => json
                .map(|d| serde_json::from_str::<Role>(d).map(Arc::new))
                .transpose()
                .map(Object::Role)
                .map_err(|e| corrupt(e.to_string())),
            other => Err(corrupt(format!("unknown kind {other:?}"))),
        }
    }
}

/// A block's uncommitted view of the tables it changed: the definition
/// each now has, or `None` for one it dropped.
pub type Staged = HashMap<String, Option<Arc<TableDef>>>;

/// The qualifier a session's statements give `public.t` while its
/// temporary `t` shadows it (see `exec::ddl::temp`).
pub const SHADOWED_SCHEMA: &str = "mosaic_public";

/// A session's temporary tables, by name: its own, over every other
/// relation it sees (`pg_temp` first in the search path).
pub type Temps = HashMap<String, Arc<TableDef>>;

pub struct Catalog {
    db: Mutex<Connection>,
    tables: RwLock<HashMap<String, Arc<TableDef>>>,
    /// The roles, as `roles` in `catalog.db` holds them (dropped ones
    /// left out).
    roles: RwLock<HashMap<String, Role>>,
    /// The highest journal row published to `catalog.db`; rows up to it
    /// may be deleted from the journal.
    published: AtomicI64,
    /// How many created schemas there are (`types::schema`): while none
    /// is, statements need no name resolution (`exec::ddl::schema`).
    schemas: std::sync::atomic::AtomicUsize,
    /// Bumped by every change to a table definition, staged ones included
    /// (compiled SQL depends on them).
    version: AtomicU64,
    /// Held from reading an object's clock to writing its new version, so
    /// that two changes of one object arriving together (a peer's push and
    /// a gossip pull, or a local commit) cannot let the older one land
    /// last. See [`Catalog::changing`].
    changing: Mutex<()>,
}

impl Catalog {
    pub fn open(path: &Path) -> Result<Catalog> {
        let db = Connection::open(path).map_err(Error::from)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS tables(name TEXT PRIMARY KEY, def TEXT NOT NULL, hlc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS roles(name TEXT PRIMARY KEY, verifier TEXT NOT NULL, perms TEXT NOT NULL, hlc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS dropped(name TEXT PRIMARY KEY, hlc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS cluster_settings(name TEXT PRIMARY KEY, value TEXT, hlc INTEGER NOT NULL);",
        )
        .map_err(Error::from)?;
        let roles = roles::load_roles(&db)?;
        let mut tables = HashMap::new();
        {
            let mut stmt = db.prepare("SELECT def FROM tables").map_err(Error::from)?;
            let defs = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(Error::from)?;
            for def in defs {
                let def: TableDef = serde_json::from_str(&def.map_err(Error::from)?)
                    .map_err(|e| Error::Internal(format!("corrupt catalog entry: {e}")))?;
                tables.insert(def.name.clone(), Arc::new(def));
            }
        }
        let schemas = schema_count(&tables);
        Ok(Catalog {
            db: Mutex::new(db),
            schemas: std::sync::atomic::AtomicUsize::new(schemas),
            tables: RwLock::new(tables),
            roles: RwLock::new(roles),
            published: AtomicI64::new(0),
            version: AtomicU64::new(0),
            changing: Mutex::new(()),
        })
    }

    /// A committed table. A session sees its own open block's DDL too,
    /// through its [`View`].
    pub fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        self.relation(name).filter(|d| d.is_table())
    }

    /// A committed relation of any kind (table, view).
    pub fn relation(&self, name: &str) -> Option<Arc<TableDef>> {
        self.object(name).filter(|d| d.is_relation())
    }

    /// A committed object of the relation namespace: a relation or a type.
    pub fn object(&self, name: &str) -> Option<Arc<TableDef>> {
        self.tables.read().get(name).cloned()
    }

    /// The catalog as a session sees it: `staged` (its open block's
    /// uncommitted definitions) over the committed tables.
    pub fn view<'a>(&'a self, staged: &'a Staged) -> View<'a> {
        View {
            catalog: self,
            staged,
            temps: None,
        }
    }

    /// The version of the table definitions; any change bumps it.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// A table definition changed (committed, or staged or dropped by a
    /// session's open block): compiled SQL that depended on the catalog
    /// must be compiled again.
    pub fn touch(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Every committed table, by name.
    pub fn tables(&self) -> Vec<Arc<TableDef>> {
        let mut v = self.relations();
        v.retain(|d| d.is_table());
        v
    }

    /// Every committed relation of any kind, by name.
    pub fn relations(&self) -> Vec<Arc<TableDef>> {
        let mut v = self.objects();
        v.retain(|d| d.is_relation());
        v
    }

    /// Every committed object (relations and types), by name.
    pub fn objects(&self) -> Vec<Arc<TableDef>> {
        let mut v: Vec<_> = self.tables.read().values().cloned().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Insert or replace a table definition.
    pub fn put_table(&self, def: TableDef, hlc: i64) -> Result<Arc<TableDef>> {
        let json = serde_json::to_string(&def).map_err(Error::internal)?;
        {
            let db = self.db.lock();
            db.execute(
                "INSERT OR REPLACE INTO tables(name, def, hlc) VALUES (?1, ?2, ?3)",
                params![def.name, json, hlc],
            )
            .map_err(Error::from)?;
            db.execute("DELETE FROM dropped WHERE name = ?1", [&def.name])
                .map_err(Error::from)?;
        }
        let def = Arc::new(def);
        let mut tables = self.tables.write();
        tables.insert(def.name.clone(), def.clone());
        self.schemas.store(schema_count(&tables), Ordering::Release);
        drop(tables);
        self.touch();
        Ok(def)
    }

    /// Drop a table definition, remembering when (so that the drop wins
    /// over older definitions arriving from other nodes).
    pub fn drop_table(&self, name: &str, hlc: i64) -> Result<()> {
        {
            let db = self.db.lock();
            db.execute("DELETE FROM tables WHERE name = ?1", [name])
                .map_err(Error::from)?;
            db.execute(
                "INSERT OR REPLACE INTO dropped(name, hlc) VALUES (?1, ?2)",
                params![name, hlc],
            )
            .map_err(Error::from)?;
        }
        let mut tables = self.tables.write();
        tables.remove(name);
        self.schemas.store(schema_count(&tables), Ordering::Release);
        drop(tables);
        self.touch();
        Ok(())
    }

    /// A fresh object id (pg_class.oid and friends). In a cluster
    /// (`slot` given, see `store::sequences`) the n-th id a node hands
    /// out is `16384 + n * stride + slot`, so no two nodes make the same
    /// id; a lone node counts 16384, 16385, … (the n-th id of a node that
    /// joins later is above all it made alone).
    pub fn next_oid(&self, slot: Option<(i64, i64)>) -> Result<u32> {
        const FIRST: i64 = 16384;
        let db = self.db.lock();
        let cur: Option<String> = db
            .query_row("SELECT v FROM meta WHERE k = 'oid_counter'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(Error::from)?;
        let n = match cur.and_then(|v| v.parse::<i64>().ok()) {
            Some(n) => n,
            // Catalogs before the counter kept the next id itself.
            None => db
                .query_row("SELECT v FROM meta WHERE k = 'next_oid'", [], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
                .map_err(Error::from)?
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(0, |next| next - FIRST),
        };
        let (slot, stride) = slot.unwrap_or((0, 1));
        // Above every id a restored backup brought back.
        let floor: i64 = db
            .query_row(
                "SELECT value FROM cluster_settings WHERE name = ?1",
                [crate::types::backup::OID_FLOOR_SETTING],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map_err(Error::from)?
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut n = n.max((floor - FIRST - slot).div_euclid(stride) + 1);
        // Past the oids of the built-in types that live among user objects.
        let reserved = crate::types::builtin::RESERVED_OIDS;
        if reserved.contains(&(FIRST + n * stride + slot)) {
            n = (*reserved.end() - FIRST - slot).div_euclid(stride) + 1;
        }
        let oid = FIRST + n * stride + slot;
        let oid =
            u32::try_from(oid).map_err(|_| Error::Internal("object ids are exhausted".into()))?;
        db.execute(
            "INSERT OR REPLACE INTO meta(k, v) VALUES ('oid_counter', ?1)",
            [(n + 1).to_string()],
        )
        .map_err(Error::from)?;
        Ok(oid)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.db
            .lock()
            .query_row("SELECT v FROM meta WHERE k = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(Error::from)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO meta(k, v) VALUES (?1, ?2)",
                [key, value],
            )
            .map_err(Error::from)?;
        Ok(())
    }
}

/// The journal of uncommitted DDL in `segments.db` (see the module doc).
pub fn init_journal(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _mosaic_ddl(
             seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
             def TEXT, hlc INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'table');",
    )
    .map_err(Error::from)?;
    // Journals from before roles were journaled have no kind: all tables.
    let has_kind = conn
        .prepare("SELECT 1 FROM pragma_table_info('_mosaic_ddl') WHERE name = 'kind'")
        .and_then(|mut st| st.exists([]))
        .map_err(Error::from)?;
    if !has_kind {
        conn.execute_batch("ALTER TABLE _mosaic_ddl ADD COLUMN kind TEXT NOT NULL DEFAULT 'table'")
            .map_err(Error::from)?;
    }
    Ok(())
}

impl Catalog {
    /// Write a change to the journal, inside the transaction open on
    /// `conn` (a session's connection to `segments.db`). Rows already
    /// published are cleared on the way, under the same write lock.
    pub fn journal(
        &self,
        conn: &crate::store::Conn,
        name: &str,
        object: Object,
        hlc: i64,
    ) -> Result<Change> {
        self.journal_on(conn.db(), name, object, hlc)
    }

    fn journal_on(
        &self,
        conn: &Connection,
        name: &str,
        object: Object,
        hlc: i64,
    ) -> Result<Change> {
        conn.execute(
            "DELETE FROM main._mosaic_ddl WHERE seq <= ?1",
            [self.published.load(Ordering::Acquire)],
        )
        .map_err(Error::from)?;
        conn.execute(
            "INSERT INTO main._mosaic_ddl(name, def, hlc, kind) VALUES (?1, ?2, ?3, ?4)",
            params![name, object.to_json()?, hlc, object.kind()],
        )
        .map_err(Error::from)?;
        Ok(Change {
            seq: conn.last_insert_rowid(),
            name: name.to_string(),
            object,
            hlc,
        })
    }

    /// The right to change committed objects: whoever compares an
    /// object's clock with a new version's and then writes it holds this
    /// throughout (last writer wins must compare and write as one step).
    /// Taken before the store's writer connection, never after.
    pub fn changing(&self) -> parking_lot::MutexGuard<'_, ()> {
        self.changing.lock()
    }

    /// Apply committed journal rows to `catalog.db` and memory, in order.
    pub fn publish(&self, changes: &[Change]) -> Result<()> {
        for c in changes {
            let _changing = self.changing();
            self.apply_change(c)?;
            self.published.fetch_max(c.seq, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Last writer wins, as for an entry from another node.
    fn apply_change(&self, c: &Change) -> Result<()> {
        let entry = match &c.object {
            Object::Table(_) => Entry::Table {
                name: c.name.clone(),
                def: None,
                hlc: c.hlc,
            },
            Object::Role(_) => Entry::Role {
                name: c.name.clone(),
                role: None,
                hlc: c.hlc,
            },
        };
        if self.hlc_of(&entry)? >= c.hlc {
            return Ok(());
        }
        match &c.object {
            Object::Table(Some(def)) => self.put_table((**def).clone(), c.hlc).map(|_| ()),
            Object::Table(None) => self.drop_table(&c.name, c.hlc),
            Object::Role(role) => self.put_role(&c.name, role.as_deref(), c.hlc),
        }
    }

    /// At start, publish what the journal holds (DDL whose block committed
    /// just before a crash), then empty it. `conn` is the node's writer.
    pub fn replay_journal(&self, conn: &Connection) -> Result<()> {
        let changes = {
            let mut st = conn
                .prepare("SELECT seq, name, def, hlc, kind FROM main._mosaic_ddl ORDER BY seq")
                .map_err(Error::from)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .map_err(Error::from)?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, name, def, hlc, kind) = row.map_err(Error::from)?;
                out.push(Change {
                    seq,
                    name,
                    object: Object::from_json(&kind, def.as_deref())?,
                    hlc,
                });
            }
            out
        };
        if !changes.is_empty() {
            tracing::info!(
                changes = changes.len(),
                "publishing DDL committed before the last stop"
            );
        }
        self.publish(&changes)?;
        conn.execute("DELETE FROM main._mosaic_ddl", [])
            .map_err(Error::from)?;
        Ok(())
    }
}

/// One object of the catalog as it travels between nodes; the newer
/// hybrid logical clock wins per object.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Entry {
    /// A table definition, or `None` once dropped.
    Table {
        name: String,
        def: Option<Box<TableDef>>,
        hlc: i64,
    },
    /// A role, or `None` once dropped.
    Role {
        name: String,
        role: Option<Box<Role>>,
        hlc: i64,
    },
    /// A cluster-wide value (token signing keys, live tokens' verifiers),
    /// or `None` once removed.
    Setting {
        name: String,
        value: Option<String>,
        hlc: i64,
    },
}

impl Entry {
    pub fn hlc(&self) -> i64 {
        match self {
            Entry::Table { hlc, .. } | Entry::Role { hlc, .. } | Entry::Setting { hlc, .. } => *hlc,
        }
    }
}

impl Catalog {
    /// Every object (tables, dropped tables, roles, settings) with its
    /// clock.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let db = self.db.lock();
        let tables = rows(&db, "SELECT name, def, hlc FROM tables", |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })?;
        let mut out = Vec::new();
        for (name, def, hlc) in tables {
            let def: TableDef = serde_json::from_str(&def)
                .map_err(|e| Error::Internal(format!("corrupt catalog entry: {e}")))?;
            out.push(Entry::Table {
                name,
                def: Some(Box::new(def)),
                hlc,
            });
        }
        out.extend(rows(&db, "SELECT name, hlc FROM dropped", |r| {
            Ok(Entry::Table {
                name: r.get(0)?,
                def: None,
                hlc: r.get(1)?,
            })
        })?);
        let roles = rows(
            &db,
            "SELECT name, def, hlc FROM roles WHERE def IS NOT NULL",
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
        )?;
        for (name, def, hlc) in roles {
            let role: Option<Role> = serde_json::from_str(&def)
                .map_err(|e| Error::Internal(format!("corrupt role entry: {e}")))?;
            out.push(Entry::Role {
                name,
                role: role.map(Box::new),
                hlc,
            });
        }
        out.extend(rows(
            &db,
            "SELECT name, value, hlc FROM cluster_settings",
            |r| {
                Ok(Entry::Setting {
                    name: r.get(0)?,
                    value: r.get(1)?,
                    hlc: r.get(2)?,
                })
            },
        )?);
        Ok(out)
    }

    /// The clock of the object `entry` names, as this node has it (0 when
    /// it has never heard of it).
    pub fn hlc_of(&self, entry: &Entry) -> Result<i64> {
        let db = self.db.lock();
        let q = |sql: &str, name: &str| -> Result<i64> {
            Ok(db
                .query_row(sql, [name], |r| r.get::<_, i64>(0))
                .optional()
                .map_err(Error::from)?
                .unwrap_or(0))
        };
        Ok(match entry {
            Entry::Table { name, .. } => q("SELECT hlc FROM tables WHERE name = ?1", name)?
                .max(q("SELECT hlc FROM dropped WHERE name = ?1", name)?),
            Entry::Role { name, .. } => q("SELECT hlc FROM roles WHERE name = ?1", name)?,
            Entry::Setting { name, .. } => {
                q("SELECT hlc FROM cluster_settings WHERE name = ?1", name)?
            }
        })
    }
}

/// Every row `sql` selects, as `f` reads it.
fn rows<T>(
    db: &Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut st = db.prepare(sql).map_err(Error::from)?;
    let out = st
        .query_map([], f)
        .map_err(Error::from)?
        .collect::<rusqlite::Result<Vec<T>>>()
        .map_err(Error::from);
    out
}

/// The catalog as one session sees it: its open block's staged
/// definitions (new, changed, or `None` for dropped) over the committed
/// ones. Staged definitions belong to the session, whatever thread asks.
#[derive(Clone, Copy)]
pub struct View<'a> {
    catalog: &'a Catalog,
    staged: &'a Staged,
    temps: Option<&'a Temps>,
}

/// How many of `tables` are created schemas.
fn schema_count(tables: &HashMap<String, Arc<TableDef>>) -> usize {
    tables
        .keys()
        .filter(|k| k.starts_with(crate::types::schema::KEY_PREFIX))
        .count()
}

impl<'a> View<'a> {
    /// The same view with the session's temporary tables over it.
    pub fn with_temps(self, temps: &'a Temps) -> View<'a> {
        View {
            temps: Some(temps),
            ..self
        }
    }
}

impl View<'_> {
    pub fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        self.relation(name).filter(|d| d.is_table())
    }

    /// A relation of any kind (table, view) as this session sees it.
    pub fn relation(&self, name: &str) -> Option<Arc<TableDef>> {
        self.object(name).filter(|d| d.is_relation())
    }

    /// An object of the relation namespace (a relation or a type) as this
    /// session sees it.
    pub fn object(&self, name: &str) -> Option<Arc<TableDef>> {
        // `pg_temp.t` names a temporary table only; `t` one first.
        if let Some(short) = name.strip_prefix("pg_temp.") {
            return self.temps.and_then(|t| t.get(short).cloned());
        }
        if let Some(temps) = self.temps.filter(|t| !t.is_empty()) {
            if let Some(d) = temps.get(name) {
                return Some(d.clone());
            }
            // `public.t` shadowed by a temporary `t`, as the session's
            // name resolution spells it (`exec::ddl::temp`).
            if let Some(short) = name
                .strip_prefix(SHADOWED_SCHEMA)
                .and_then(|n| n.strip_prefix('.'))
            {
                return match self.staged.get(short) {
                    Some(staged) => staged.clone(),
                    None => self.catalog.object(short),
                };
            }
        }
        match self.staged.get(name) {
            Some(staged) => staged.clone(),
            None => self.catalog.object(name),
        }
    }

    /// Whether any created schema exists as this session sees the catalog
    /// (its open block's CREATE SCHEMA included).
    pub fn has_schemas(&self) -> bool {
        self.catalog.schemas.load(Ordering::Acquire) > 0
            || self
                .staged
                .iter()
                .any(|(k, d)| d.is_some() && k.starts_with(crate::types::schema::KEY_PREFIX))
    }

    /// Schema `name` (one created, not a built-in one), as this session
    /// sees it.
    pub fn schema(&self, name: &str) -> Option<Arc<TableDef>> {
        self.object(&crate::types::schema::key(name))
    }

    /// Whether the session's open block changed `name` (its definition
    /// here is not the one the other nodes have).
    pub fn is_staged(&self, name: &str) -> bool {
        self.staged.contains_key(name)
    }

    /// Every enum type this session sees, by name.
    pub fn enum_types(&self) -> Vec<crate::types::enums::EnumType> {
        self.kinds(TableDef::enum_type)
    }

    /// Every domain this session sees, by name.
    pub fn domain_types(&self) -> Vec<crate::types::domain::DomainType> {
        self.kinds(TableDef::domain_type)
    }

    fn kinds<T: Clone>(&self, of: impl Fn(&TableDef) -> Option<&T>) -> Vec<T> {
        let all = self.objects();
        all.iter().filter_map(|d| of(d).cloned()).collect()
    }

    /// Every relation of any kind this session sees, by name.
    pub fn relations(&self) -> Vec<Arc<TableDef>> {
        let mut v = self.objects();
        v.retain(|d| d.is_relation());
        v
    }

    /// Every relation the system catalogs list: those of every session
    /// (a permanent table a temporary one shadows too), then this
    /// session's temporary tables.
    pub fn listed(&self) -> Vec<Arc<TableDef>> {
        let mut v = View {
            temps: None,
            ..*self
        }
        .relations();
        if let Some(temps) = self.temps {
            let mut own: Vec<_> = temps.values().cloned().collect();
            own.sort_by(|a, b| a.name.cmp(&b.name));
            v.extend(own);
        }
        v
    }

    /// Every table this session sees, by name.
    pub fn tables(&self) -> Vec<Arc<TableDef>> {
        let mut v = self.relations();
        v.retain(|d| d.is_table());
        v
    }

    /// Every object (relations and types) this session sees, by name.
    pub fn objects(&self) -> Vec<Arc<TableDef>> {
        let temps = self.temps.filter(|t| !t.is_empty());
        if self.staged.is_empty() && temps.is_none() {
            return self.catalog.objects();
        }
        let mut all: HashMap<String, Arc<TableDef>> = self
            .catalog
            .objects()
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        for (name, def) in self.staged {
            match def {
                Some(d) => all.insert(name.clone(), d.clone()),
                None => all.remove(name),
            };
        }
        // A temporary table shadows a permanent one of its name.
        for (name, def) in temps.into_iter().flatten() {
            all.insert(name.clone(), def.clone());
        }
        let mut v: Vec<_> = all.into_values().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

impl crate::sql::Schema for View<'_> {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        View::table(self, name)
    }

    fn function(&self, name: &str) -> Option<Arc<crate::types::function::FunctionDef>> {
        View::object(self, &crate::types::function::key(name))
            .and_then(|d| d.function().cloned().map(Arc::new))
    }

    fn view(&self, name: &str) -> Option<Arc<TableDef>> {
        View::relation(self, name).filter(|d| d.view_query().is_some())
    }
}

impl crate::sql::Schema for Catalog {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        Catalog::table(self, name)
    }

    fn function(&self, name: &str) -> Option<Arc<crate::types::function::FunctionDef>> {
        Catalog::object(self, &crate::types::function::key(name))
            .and_then(|d| d.function().cloned().map(Arc::new))
    }

    fn view(&self, name: &str) -> Option<Arc<TableDef>> {
        Catalog::relation(self, name).filter(|d| d.view_query().is_some())
    }
}

mod roles;

#[cfg(test)]
mod tests;
