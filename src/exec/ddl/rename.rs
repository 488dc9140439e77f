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
    rename_view_to(sess, &object_name(&av.name), new_name, av.if_exists, tag)
}

/// `RENAME TO new` of view `name` (ALTER VIEW, or ALTER TABLE naming a
/// view, which PostgreSQL accepts too): the new name is in the view's
/// schema.
pub(super) fn rename_view_to(
    sess: &mut Session,
    name: &str,
    new: &ObjectName,
    if_exists: bool,
    tag: &str,
) -> Result<Outcome> {
    let new = object_name(new);
    if new.contains('.') {
        return Err(Error::Unsupported(format!("schema-qualified name {new}")));
    }
    let new = crate::types::schema::beside(name, &new);
    rename_view(sess, name, &new, if_exists, tag)
}

/// Move view `name` to catalog name `new` (RENAME TO, SET SCHEMA); `tag`
/// is the statement's.
fn rename_view(
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
    if relation_exists(sess, &new) {
        return Err(Error::TableExists(new));
    }
    if let Some(reader) = view::dependents(sess, std::slice::from_ref(&name), true)?.first() {
        return Err(Error::Unsupported(format!(
            "{tag} … RENAME TO of \"{name}\", which view \"{reader}\" reads"
        )));
    }
    let mut moved = (*def).clone();
    // Its owner stays (one recorded by default is named, so that the new
    // name is not taken for a new object of the renaming role).
    moved.access.owner = Some(sess.owner_of(&def.access));
    moved.name = new.clone();
    record(sess, &name, None)?;
    record(sess, &new, Some(moved))?;
    Ok(Outcome::Command(tag.into()))
}

/// Move table `def` to catalog name `new` (`ALTER TABLE … RENAME TO`, SET
/// SCHEMA); constraint, index and sequence names stay as they are, as in
/// PostgreSQL (those it derived from the old name are kept by name).
pub(super) fn rename_table(sess: &mut Session, def: &TableDef, new: String) -> Result<()> {
    if def.is_temp() {
        return Err(Error::Unsupported(format!(
            "ALTER TABLE … RENAME TO of temporary table \"{}\"",
            def.name
        )));
    }
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
    moved.access.owner = Some(sess.owner_of(&def.access));
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

/// `ALTER { TABLE | VIEW } [IF EXISTS] name SET SCHEMA s` of a table or a
/// view: moved as a rename to `s.name` is. A table whose serial or
/// identity column, or OWNED BY sequence, would have to move its sequence
/// too (sequences keep their values by name) is refused with 0A000, as
/// are sequences and materialized views.
pub(super) fn set_schema(
    sess: &mut Session,
    set: &crate::sql::set_schema::SetSchema,
) -> Result<Outcome> {
    use crate::types::schema::{self, BUILT_IN, PUBLIC};
    let tag = if set.view {
        "ALTER VIEW"
    } else {
        "ALTER TABLE"
    };
    let name = super::schema::resolve_relation(sess, &set.name);
    let Some(def) = sess.catalog().relation(&name) else {
        if set.if_exists {
            super::missing_skipped(sess, "relation", &set.name);
            return Ok(Outcome::Command(tag.into()));
        }
        return Err(Error::NoSuchTable(set.name.clone()));
    };
    sess.check_owner(&def)?;
    if set.schema != PUBLIC && BUILT_IN.contains(&set.schema.as_str()) {
        return Err(Error::Unsupported(format!(
            "moving objects into schema {}",
            set.schema
        )));
    }
    let new = schema::qualify(&set.schema, def.rel_name());
    super::schema::check_creatable(sess, &new)?;
    if new == def.name {
        return Ok(Outcome::Command(tag.into()));
    }
    if relation_exists(sess, &new) || sess.catalog().object(&new).is_some() {
        return Err(Error::ExistsInSchema(
            def.rel_name().to_string(),
            set.schema.clone(),
        ));
    }
    if def.view_query().is_some() {
        return rename_view(sess, &name, &new, false, tag);
    }
    if !def.is_table() || def.is_matview() {
        return Err(Error::Unsupported(format!(
            "{tag} … SET SCHEMA of {} \"{name}\"",
            crate::exec::privileges::noun(&def)
        )));
    }
    let serial = (def.columns.iter()).any(|c| {
        c.default
            .as_deref()
            .and_then(crate::types::table::sequence_name)
            .is_some()
    });
    if serial || !super::sequence::owned_by(sess, &def.name).is_empty() {
        return Err(Error::Unsupported(format!(
            "{tag} … SET SCHEMA of \"{name}\", which owns a sequence (sequences keep their values under their names)"
        )));
    }
    rename_table(sess, &def, new)?;
    Ok(Outcome::Command(tag.into()))
}
