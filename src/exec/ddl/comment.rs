//! COMMENT ON TABLE / VIEW / SEQUENCE / COLUMN: a description kept in the
//! relation's catalog definition, transactional and spread like any other
//! change of it, and read back through `pg_description`,
//! `obj_description` and `col_description` (psql's `\d+`, `\dt+`).

use sqlparser::ast::{CommentObject, ObjectName};

use super::record;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{ident_name, object_name};
use crate::types::table::RelKind;

pub(super) fn comment(
    sess: &mut Session,
    object: &CommentObject,
    name: &ObjectName,
    text: Option<&str>,
) -> Result<Outcome> {
    // PostgreSQL removes a comment set to NULL or to ''.
    let text = text.filter(|t| !t.is_empty()).map(str::to_string);
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(ident_name))
        .collect();
    let (relation, column) = match (object, parts.as_slice()) {
        (CommentObject::Column, [t, c]) => {
            (super::schema::resolve_relation(sess, t), Some(c.clone()))
        }
        (CommentObject::Column, [s, t, c]) => {
            (crate::types::schema::qualify(s, t), Some(c.clone()))
        }
        (CommentObject::Column, _) => {
            return Err(Error::Syntax("column name must be qualified".into()))
        }
        (CommentObject::Table | CommentObject::View | CommentObject::Sequence, [t]) => {
            (super::schema::resolve_relation(sess, t), None)
        }
        (CommentObject::Table | CommentObject::View | CommentObject::Sequence, [s, t]) => {
            (crate::types::schema::qualify(s, t), None)
        }
        (CommentObject::Table | CommentObject::View | CommentObject::Sequence, _) => {
            return Err(Error::Unsupported(format!(
                "schema-qualified name {}",
                object_name(name)
            )))
        }
        (other, _) => return Err(Error::Unsupported(format!("COMMENT ON {other}"))),
    };
    let Some(def) = sess.catalog().relation(&relation) else {
        return Err(Error::NoSuchTable(relation));
    };
    let wanted = match object {
        CommentObject::Table => Some(("a table", matches!(def.kind, RelKind::Table))),
        CommentObject::View => Some(("a view", def.view_query().is_some())),
        CommentObject::Sequence => Some(("a sequence", def.sequence().is_some())),
        _ => None,
    };
    if let Some((what, false)) = wanted {
        return Err(Error::WrongObjectType(format!(
            "\"{relation}\" is not {what}"
        )));
    }
    let mut new = (*def).clone();
    match column {
        Some(c) => {
            let Some(pos) = new.column_index(&c) else {
                return Err(Error::NoSuchColumn(format!(
                    "{c}\" of relation \"{relation}"
                )));
            };
            new.columns[pos].comment = text;
        }
        None => new.comment = text,
    }
    record(sess, &relation, Some(new))?;
    Ok(Outcome::Command("COMMENT".into()))
}
