//! ALTER VIEW [IF EXISTS] v RENAME TO w. A view stores no rows, so its
//! definition (oid, columns, query, comment) moves to the new name in one
//! transactional catalog change, spread like any other. What stores rows
//! under its name on every node (a table, a materialized view) or keeps
//! state by name (a sequence) is refused with 0A000, as is a view another
//! view reads (views keep their query as text).

use sqlparser::ast::{AlterView, AlterViewOperation};

use super::{record, relation_exists, view};
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::object_name;

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
