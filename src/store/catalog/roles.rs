//! Roles and cluster-wide settings in `catalog.db`: each row carries the
//! clock of its last change, like every catalog object, and a removed
//! one stays as a row without a value so the removal spreads too.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use rusqlite::{params, Connection, OptionalExtension};

use super::{Catalog, Role};
use crate::error::{Error, Result};

impl Catalog {
    /// A role, unless it does not exist (or was dropped).
    pub fn role(&self, name: &str) -> Option<Role> {
        self.roles.read().get(name).cloned()
    }

    /// Every role, by name.
    pub fn roles(&self) -> HashMap<String, Role> {
        self.roles.read().clone()
    }

    /// Ask `f` about the roles as they are now, without copying them.
    pub fn with_roles<T>(&self, f: impl FnOnce(&crate::types::role::Roles) -> T) -> T {
        f(&crate::types::role::Roles(&self.roles.read()))
    }

    /// Write a role's new state (`None`: dropped) at clock `hlc`.
    pub fn put_role(&self, name: &str, role: Option<&Role>, hlc: i64) -> Result<()> {
        let def = serde_json::to_string(&role).map_err(Error::internal)?;
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO roles(name, verifier, perms, hlc, def) VALUES (?1, '', '', ?2, ?3)",
                params![name, hlc, def],
            )
            .map_err(Error::from)?;
        let mut roles = self.roles.write();
        match role {
            Some(r) => roles.insert(name.to_string(), r.clone()),
            None => roles.remove(name),
        };
        self.version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}

impl Catalog {
    /// A cluster-wide value, unless absent or removed.
    pub fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .db
            .lock()
            .query_row(
                "SELECT value FROM cluster_settings WHERE name = ?1",
                [name],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map_err(Error::from)?
            .flatten())
    }

    /// Every present value whose name starts with `prefix`.
    pub fn settings(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let db = self.db.lock();
        let mut st = db
            .prepare(
                "SELECT name, value FROM cluster_settings
                 WHERE substr(name, 1, length(?1)) = ?1 AND value IS NOT NULL ORDER BY name",
            )
            .map_err(Error::from)?;
        let rows = st
            .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(Error::from)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::from)
    }

    /// Write a cluster-wide value (`None`: remove it) at clock `hlc`.
    pub fn put_setting(&self, name: &str, value: Option<&str>, hlc: i64) -> Result<()> {
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO cluster_settings(name, value, hlc) VALUES (?1, ?2, ?3)",
                params![name, value, hlc],
            )
            .map_err(Error::from)?;
        Ok(())
    }
}

/// The roles `catalog.db` holds. A row written before roles had
/// attributes (`def` NULL) is the bootstrap superuser when its `perms`
/// say `admin`.
pub(super) fn load_roles(db: &Connection) -> Result<HashMap<String, Role>> {
    let has_def = db.prepare("SELECT def FROM roles LIMIT 0").is_ok();
    if !has_def {
        db.execute("ALTER TABLE roles ADD COLUMN def TEXT", [])
            .map_err(Error::from)?;
    }
    let rows = super::rows(db, "SELECT name, verifier, perms, def FROM roles", |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut out = HashMap::new();
    for (name, verifier, perms, def) in rows {
        let role = match def {
            Some(def) => serde_json::from_str::<Option<Role>>(&def)
                .map_err(|e| Error::Internal(format!("corrupt role entry: {e}")))?,
            None if perms == "admin" => Some(Role::bootstrap(&name, verifier)),
            None => Some(Role {
                verifier: Some(verifier),
                ..Role::new(&name, true)
            }),
        };
        if let Some(role) = role {
            out.insert(name, role);
        }
    }
    Ok(out)
}
