//! The catalog: table definitions and roles, kept in `DATA/catalog.db` and
//! mirrored in memory for the planner. Each object carries the hybrid
//! logical clock of its last change so catalogs can later merge
//! last-writer-wins across nodes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::store::table::TableDef;

/// A login role: its SCRAM verifier (never the password) and permissions.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub verifier: String,
    pub perms: String,
}

pub struct Catalog {
    db: Mutex<Connection>,
    tables: RwLock<HashMap<String, Arc<TableDef>>>,
    /// Bumped by every change to a table definition (compiled SQL depends on them).
    version: std::sync::atomic::AtomicU64,
}

impl Catalog {
    pub fn open(path: &Path) -> Result<Catalog> {
        let db = Connection::open(path).map_err(Error::internal)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS tables(name TEXT PRIMARY KEY, def TEXT NOT NULL, hlc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS roles(name TEXT PRIMARY KEY, verifier TEXT NOT NULL, perms TEXT NOT NULL, hlc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS dropped(name TEXT PRIMARY KEY, hlc INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);",
        )
        .map_err(Error::internal)?;
        let mut tables = HashMap::new();
        {
            let mut stmt = db
                .prepare("SELECT def FROM tables")
                .map_err(Error::internal)?;
            let defs = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(Error::internal)?;
            for def in defs {
                let def: TableDef = serde_json::from_str(&def.map_err(Error::internal)?)
                    .map_err(|e| Error::Internal(format!("corrupt catalog entry: {e}")))?;
                tables.insert(def.name.clone(), Arc::new(def));
            }
        }
        Ok(Catalog {
            db: Mutex::new(db),
            tables: RwLock::new(tables),
            version: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        self.tables.read().get(name).cloned()
    }

    /// The version of the table definitions; any change bumps it.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn tables(&self) -> Vec<Arc<TableDef>> {
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
            .map_err(Error::internal)?;
            db.execute("DELETE FROM dropped WHERE name = ?1", [&def.name])
                .map_err(Error::internal)?;
        }
        let def = Arc::new(def);
        self.tables.write().insert(def.name.clone(), def.clone());
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        Ok(def)
    }

    /// Drop a table definition, remembering when (so that the drop wins
    /// over older definitions arriving from other nodes).
    pub fn drop_table(&self, name: &str, hlc: i64) -> Result<()> {
        {
            let db = self.db.lock();
            db.execute("DELETE FROM tables WHERE name = ?1", [name])
                .map_err(Error::internal)?;
            db.execute(
                "INSERT OR REPLACE INTO dropped(name, hlc) VALUES (?1, ?2)",
                params![name, hlc],
            )
            .map_err(Error::internal)?;
        }
        self.tables.write().remove(name);
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// A fresh object id, unique on this node (pg_class.oid and friends).
    pub fn next_oid(&self) -> Result<u32> {
        let db = self.db.lock();
        let cur: Option<String> = db
            .query_row("SELECT v FROM meta WHERE k = 'next_oid'", [], |r| r.get(0))
            .optional()
            .map_err(Error::internal)?;
        let oid = cur.and_then(|v| v.parse::<u32>().ok()).unwrap_or(16384);
        db.execute(
            "INSERT OR REPLACE INTO meta(k, v) VALUES ('next_oid', ?1)",
            [(oid + 1).to_string()],
        )
        .map_err(Error::internal)?;
        Ok(oid)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.db
            .lock()
            .query_row("SELECT v FROM meta WHERE k = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(Error::internal)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO meta(k, v) VALUES (?1, ?2)",
                [key, value],
            )
            .map_err(Error::internal)?;
        Ok(())
    }

    pub fn role(&self, name: &str) -> Result<Option<Role>> {
        self.db
            .lock()
            .query_row(
                "SELECT name, verifier, perms FROM roles WHERE name = ?1",
                [name],
                |r| {
                    Ok(Role {
                        name: r.get(0)?,
                        verifier: r.get(1)?,
                        perms: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(Error::internal)
    }

    pub fn roles(&self) -> Result<Vec<Role>> {
        let db = self.db.lock();
        let mut stmt = db
            .prepare("SELECT name, verifier, perms FROM roles ORDER BY name")
            .map_err(Error::internal)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Role {
                    name: r.get(0)?,
                    verifier: r.get(1)?,
                    perms: r.get(2)?,
                })
            })
            .map_err(Error::internal)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::internal)
    }

    pub fn put_role(&self, role: &Role, hlc: i64) -> Result<()> {
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO roles(name, verifier, perms, hlc) VALUES (?1, ?2, ?3, ?4)",
                params![role.name, role.verifier, role.perms, hlc],
            )
            .map_err(Error::internal)?;
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
        def: Option<TableDef>,
        hlc: i64,
    },
    Role {
        name: String,
        verifier: String,
        perms: String,
        hlc: i64,
    },
}

impl Entry {
    pub fn hlc(&self) -> i64 {
        match self {
            Entry::Table { hlc, .. } | Entry::Role { hlc, .. } => *hlc,
        }
    }
}

impl Catalog {
    /// Every object (tables, dropped tables, roles) with its clock.
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let db = self.db.lock();
        let mut out = Vec::new();
        let mut st = db
            .prepare("SELECT name, def, hlc FROM tables")
            .map_err(Error::internal)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(Error::internal)?;
        for row in rows {
            let (name, def, hlc) = row.map_err(Error::internal)?;
            let def: TableDef = serde_json::from_str(&def)
                .map_err(|e| Error::Internal(format!("corrupt catalog entry: {e}")))?;
            out.push(Entry::Table {
                name,
                def: Some(def),
                hlc,
            });
        }
        let mut st = db
            .prepare("SELECT name, hlc FROM dropped")
            .map_err(Error::internal)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(Error::internal)?;
        for row in rows {
            let (name, hlc) = row.map_err(Error::internal)?;
            out.push(Entry::Table {
                name,
                def: None,
                hlc,
            });
        }
        let mut st = db
            .prepare("SELECT name, verifier, perms, hlc FROM roles")
            .map_err(Error::internal)?;
        let rows = st
            .query_map([], |r| {
                Ok(Entry::Role {
                    name: r.get(0)?,
                    verifier: r.get(1)?,
                    perms: r.get(2)?,
                    hlc: r.get(3)?,
                })
            })
            .map_err(Error::internal)?;
        for row in rows {
            out.push(row.map_err(Error::internal)?);
        }
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
                .map_err(Error::internal)?
                .unwrap_or(0))
        };
        Ok(match entry {
            Entry::Table { name, .. } => q("SELECT hlc FROM tables WHERE name = ?1", name)?
                .max(q("SELECT hlc FROM dropped WHERE name = ?1", name)?),
            Entry::Role { name, .. } => q("SELECT hlc FROM roles WHERE name = ?1", name)?,
        })
    }
}

impl crate::sql::Catalog for Catalog {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        Catalog::table(self, name)
    }
}
