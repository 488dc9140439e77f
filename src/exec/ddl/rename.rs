//! RENAME TO of a table or a view. Either way the definition (oid,
//! columns, constraints, comment, privileges) moves to the new name in one
//! transactional catalog change, spread like any other, which drops the
//! old name. A view stores no rows. A table's storage moves with it, here
//! in the same transaction, on every other node as it applies the change
//! (`store::renamed`). What keeps state by name otherwise (a materialized
//! view, a sequence) is refused with 0A000, as is renaming what a view
//! reads (views keep their query as text).

use sqlparser::ast::{AlterView, AlterViewOperation, ObjectName};

use super::{record, relation_exists, view};
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::object_name;
use crate::types::table::{RelKind, TableDef};

/// Run `ALTER [MATERIALIZED] VIEW`: only RENAME TO of a view is built.
pub(super) fn alter_view(sess: &mut Session, av: &AlterView) -> Result<Outcome> {
    let AlterViewOperation::RenameTo { new_name } = &av.operation else {
        return Err(Error::Unsupported(format!("ALTER VIEW … {}", av.operation)));
    };
    let tag = if av.materialized {
        "ALTER MATERIALIZED VIEW"
    } else {
        "ALTER VIEW"
    };
    rename_view(
        sess,
        &object_name(&av.name),
        &object_name(new_name),
        av.if_exists,
        tag,
    )
}

/// Rename view `name` to `new` (ALTER VIEW, or ALTER TABLE naming a view,
/// which PostgreSQL accepts too); `tag` is the statement's.
pub(super) fn rename_view(
    sess: &mut Session,
    name: &str,
    new: &str,
    if_exists: bool,
    tag: &str,
) -> Result<Outcome> {
    let (name, new) = (name.to_string(), new.to_string());
    let Some(def) = sess.catalog().relation(&name) else {
        if if_exists {
            super::missing_skipped(sess, "relation", &name);
            return Ok(Outcome::Command(tag.into()));
        }
        return Err(Error::NoSuchTable(name));
    };
    if def.is_matview() {
        return Err(Error::Unsupported(format!(
            "{tag} … RENAME TO (a materialized view's rows are stored under its name on every node)"
        )));
    }
    if def.view_query().is_none() {
        return Err(Error::WrongObjectType(format!("\"{name}\" is not a view")));
    }
    if new.contains('.') {
        return Err(Error::Unsupported(format!("schema-qualified name {new}")));
    }
    // The new name is in the view's schema.
    let new = crate::types::schema::beside(&name, &new);
    if relation_exists(sess, &new) {
        return Err(Error::TableExists(new));
    }
    if let Some(reader) = view::dependents(sess, std::slice::from_ref(&name), true)?.first() {
        return Err(Error::Unsupported(format!(
            "{tag} … RENAME TO of \"{name}\", which view \"{reader}\" reads"
        )));
    }
    let mut moved = (*def).clone();
    moved.name = new.clone();
    record(sess, &name, None)?;
    record(sess, &new, Some(moved))?;
    Ok(Outcome::Command(tag.into()))
}

/// `ALTER TABLE name RENAME TO new` of table `def`. The new name is in the
/// table's schema; constraint, index and sequence names stay as they are,
/// as in PostgreSQL (those it derived from the old name are kept by name).
pub(super) fn rename_table(sess: &mut Session, def: &TableDef, new: &ObjectName) -> Result<()> {
    if new.0.len() > 1 {
        return Err(Error::Syntax("syntax error at or near \".\"".into()));
    }
    if def.is_temp() {
        return Err(Error::Unsupported(format!(
            "ALTER TABLE … RENAME TO of temporary table \"{}\"",
            def.name
        )));
    }
    let new = crate::types::schema::beside(&def.name, &object_name(new));
    if relation_exists(sess, &new) || sess.catalog().object(&new).is_some() {
        return Err(Error::TableExists(new));
    }
    if let Some(v) = view::dependents(sess, std::slice::from_ref(&def.name), true)?.first() {
        return Err(Error::Unsupported(format!(
            "ALTER TABLE … RENAME TO of \"{}\", which view \"{v}\" reads",
            def.name
        )));
    }
    let mut moved = def.clone();
    // PostgreSQL names a constraint once, when it is made.
    super::alter::freeze_names(&mut moved);
    moved.freeze_sequence_owners();
    moved.sequence_owners_renamed(&def.name, &new);
    if !moved.primary_key.is_empty() {
        moved.altered.pk_name = Some(def.pk_name());
    }
    moved.name = new.clone();
    let old = def.name.as_str();
    for fk in moved.foreign_keys.iter_mut().filter(|f| f.parent == old) {
        fk.parent = new.clone();
    }
    // Other tables' FOREIGN KEYs to it, and the sequences its columns own.
    for rel in sess.catalog().relations() {
        let mut changed = (*rel).clone();
        for fk in changed.foreign_keys.iter_mut().filter(|f| f.parent == old) {
            fk.parent = new.clone();
        }
        if let RelKind::Sequence(s) = &mut changed.kind {
            if let Some((t, _)) = s.owned_by.as_mut().filter(|(t, _)| t == old) {
                *t = new.clone();
            }
        }
        if rel.name != old && changed != *rel {
            record(sess, &rel.name, Some(changed))?;
        }
    }
    if sess.ddl.reindex.remove(old) {
        sess.ddl.reindex.insert(new.clone());
    }
    sess.conn.rename_table(def, &moved)?;
    record(sess, &new, Some(moved))?;
    record(sess, old, None)?;
    sess.ddl.renamed.push((old.to_string(), new));
    Ok(())
}
