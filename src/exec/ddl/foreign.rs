//! FOREIGN KEY DDL: declaring one (CREATE TABLE, ALTER TABLE … ADD, which
//! first checks the rows already there), dropping one (ALTER TABLE … DROP
//! CONSTRAINT, DROP TABLE … CASCADE of its parent), and what a referenced
//! table refuses: DROP TABLE without CASCADE (2BP01) and TRUNCATE without
//! its referencing tables (0A000), as PostgreSQL refuses them.

use sqlparser::ast::CreateTable;

use crate::error::{Error, Result};
use crate::exec::pg_catalog::objects;
use crate::exec::write::foreign as enforce;
use crate::exec::Session;
use crate::sql::ddl::foreign::{self, Spec};
use crate::types::foreign::ForeignKey;
use crate::types::table::TableDef;

/// Every constraint name used by a table of the catalog (and by `extra`,
/// a definition not in it yet): an unnamed FOREIGN KEY takes a free one.
fn constraint_names(sess: &Session, extra: &TableDef) -> Vec<String> {
    let mut tables = sess.catalog().tables();
    tables.retain(|t| t.name != extra.name);
    let mut names: Vec<String> = Vec::new();
    for t in tables.iter().map(|t| &**t).chain(std::iter::once(extra)) {
        names.extend(
            objects::indexes(t)
                .into_iter()
                .filter_map(|i| i.constraint.map(|c| c.name)),
        );
        names.extend(objects::checks(t).into_iter().map(|c| c.name));
        names.extend(t.foreign_keys.iter().map(|f| f.name.clone()));
    }
    names
}

/// Resolve `spec` for table `def` (whose new definition it will join).
fn resolve(sess: &Session, def: &TableDef, spec: &Spec) -> Result<ForeignKey> {
    let parent = if spec.parent == def.name {
        None
    } else {
        Some(
            sess.catalog()
                .table(&spec.parent)
                .ok_or_else(|| Error::NoSuchTable(spec.parent.clone()))?,
        )
    };
    let parent: &TableDef = parent.as_deref().unwrap_or(def);
    let names = constraint_names(sess, def);
    let fk = foreign::resolve(spec, def, parent, &|n| names.iter().any(|m| m == n))?;
    let same_table = objects::indexes(def)
        .into_iter()
        .filter_map(|i| i.constraint.map(|c| c.name))
        .chain(def.foreign_keys.iter().map(|f| f.name.clone()))
        .any(|n| n == fk.name);
    if spec.name.is_some() && same_table {
        return Err(Error::ObjectExists(format!(
            "constraint \"{}\" for relation \"{}\" already exists",
            fk.name, def.name
        )));
    }
    Ok(fk)
}

/// The FOREIGN KEYs of a new table, into its definition.
pub(super) fn create_table(sess: &Session, ct: &CreateTable, def: &mut TableDef) -> Result<()> {
    for spec in foreign::specs(ct)? {
        let fk = resolve(sess, def, &spec)?;
        def.foreign_keys.push(fk);
    }
    Ok(())
}

/// ALTER TABLE … ADD FOREIGN KEY: every row already in the table must
/// have its parent (23503 naming the first that has none), unless it is
/// added NOT VALID (`validate` false). Returns the constraint's name.
pub(super) fn add(
    sess: &mut Session,
    def: &mut TableDef,
    spec: &Spec,
    validate: bool,
) -> Result<String> {
    let fk = resolve(sess, def, spec)?;
    if validate {
        check_existing(sess, def, &fk)?;
    }
    let name = fk.name.clone();
    def.foreign_keys.push(fk);
    Ok(name)
}

/// Every row of `def` has its parent under `fk` (23503 naming the first
/// that has none), on every node.
pub(super) fn check_existing(sess: &mut Session, def: &TableDef, fk: &ForeignKey) -> Result<()> {
    let parent = if fk.parent == def.name {
        std::sync::Arc::new(def.clone())
    } else {
        sess.catalog()
            .table(&fk.parent)
            .ok_or_else(|| Error::NoSuchTable(fk.parent.clone()))?
    };
    match enforce::orphan(sess, def, fk, &parent)? {
        Some(v) => Err(enforce::missing_parent(def, fk, &parent, &v)),
        None => Ok(()),
    }
}

/// ALTER TABLE … DROP CONSTRAINT `name`: whether it was a FOREIGN KEY
/// of the table, which goes.
pub(super) fn drop_constraint(def: &mut TableDef, name: &str) -> bool {
    let before = def.foreign_keys.len();
    def.foreign_keys.retain(|f| f.name != name);
    def.foreign_keys.len() != before
}

/// Before a key (`key`, column names) of `def` goes (DROP CONSTRAINT
/// `what`, or DROP COLUMN): the FOREIGN KEYs that reference it, in other
/// tables and in `def`, fail with 2BP01 naming them (each depends on
/// `on`), or with CASCADE go too.
pub(super) fn drop_referencing(
    sess: &mut Session,
    def: &mut TableDef,
    depends: &dyn Fn(&ForeignKey) -> bool,
    what: &str,
    on: &str,
    cascade: bool,
) -> Result<()> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut children: Vec<TableDef> = Vec::new();
    for t in sess.catalog().tables() {
        let t: TableDef = if t.name == def.name {
            def.clone()
        } else {
            (*t).clone()
        };
        let hits: Vec<String> = t
            .foreign_keys
            .iter()
            .filter(|f| f.parent == def.name && depends(f))
            .map(|f| f.name.clone())
            .collect();
        if hits.is_empty() {
            continue;
        }
        found.extend(hits.iter().map(|h| (h.clone(), t.name.clone())));
        let mut t = t;
        t.foreign_keys.retain(|f| !hits.contains(&f.name));
        children.push(t);
    }
    if found.is_empty() {
        return Ok(());
    }
    if !cascade {
        let detail: Vec<String> = found
            .iter()
            .map(|(fk, t)| format!("constraint {fk} on table {t} depends on {on}"))
            .collect();
        return Err(Error::DependentObjects(format!(
            "cannot drop {what} because other objects depend on it"
        ))
        .with_detail(detail.join("\n"))
        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    for t in children {
        if t.name == def.name {
            def.foreign_keys = t.foreign_keys;
        } else {
            let name = t.name.clone();
            super::record(sess, &name, Some(t))?;
        }
    }
    Ok(())
}

/// DROP COLUMN `col` of `def`: the FOREIGN KEYs that reference it.
pub(super) fn drop_referenced_column(
    sess: &mut Session,
    def: &mut TableDef,
    col: &str,
    cascade: bool,
) -> Result<()> {
    let what = format!("column {col} of table {}", def.name);
    drop_referencing(
        sess,
        def,
        &|f| f.parent_columns.iter().any(|c| c == col),
        &what,
        &what,
        cascade,
    )
}

/// The FOREIGN KEYs of other tables (not among `dropped`) that reference
/// one of `dropped`, as (child table, constraint).
fn dependents(sess: &Session, dropped: &[String]) -> Vec<(std::sync::Arc<TableDef>, ForeignKey)> {
    let mut out = Vec::new();
    for t in sess.catalog().tables() {
        if dropped.contains(&t.name) {
            continue;
        }
        for fk in &t.foreign_keys {
            if dropped.contains(&fk.parent) {
                out.push((t.clone(), fk.clone()));
            }
        }
    }
    out
}

/// DROP TABLE of `dropped`: fails with 2BP01 when another table's FOREIGN
/// KEY references one of them, unless CASCADE, which returns the
/// referencing tables' definitions without those constraints.
pub(super) fn before_drop(
    sess: &Session,
    dropped: &[String],
    cascade: bool,
) -> Result<Vec<TableDef>> {
    let deps = dependents(sess, dropped);
    if deps.is_empty() {
        return Ok(vec![]);
    }
    if !cascade {
        let first = &deps[0].1.parent;
        let detail: Vec<String> = deps
            .iter()
            .map(|(t, fk)| {
                format!(
                    "constraint {} on table {} depends on table {}",
                    fk.name, t.name, fk.parent
                )
            })
            .collect();
        return Err(Error::DependentObjects(format!(
            "cannot drop table {first} because other objects depend on it"
        ))
        .with_detail(detail.join("\n"))
        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    let mut changed: Vec<TableDef> = Vec::new();
    for (t, fk) in deps {
        let pos = match changed.iter().position(|c| c.name == t.name) {
            Some(p) => p,
            None => {
                changed.push((*t).clone());
                changed.len() - 1
            }
        };
        changed[pos].foreign_keys.retain(|f| f.name != fk.name);
    }
    Ok(changed)
}

/// TRUNCATE of `tables`: a table another (not truncated with it)
/// references is refused with PostgreSQL's 0A000, unless CASCADE, which
/// returns the referencing tables to truncate too.
pub(super) fn before_truncate(
    sess: &Session,
    tables: &[String],
    cascade: bool,
) -> Result<Vec<String>> {
    let mut all = tables.to_vec();
    loop {
        let deps = dependents(sess, &all);
        let Some((child, fk)) = deps.first() else {
            return Ok(all[tables.len()..].to_vec());
        };
        if !cascade {
            return Err(Error::NotSupported(
                "cannot truncate a table referenced in a foreign key constraint".into(),
            )
            .with_detail(format!(
                "Table \"{}\" references \"{}\".",
                child.name, fk.parent
            ))
            .with_hint(format!(
                "Truncate table \"{}\" at the same time, or use TRUNCATE ... CASCADE.",
                child.name
            )));
        }
        all.push(child.name.clone());
    }
}
