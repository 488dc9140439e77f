//! ALTER COLUMN … TYPE that converts the stored values (integer to
//! numeric or text, text to integer with `USING c::integer`, …). Sealed
//! shards are never rewritten: the column records the type it had
//! (`Column::earlier_types`), a read of a shard that stores the older type
//! converts each value by the same cast (`store::shard::read_column`), and
//! every node rebuilds its open segment with the values converted. Before
//! the change, every row on every node is converted once, so a value that
//! does not convert fails the statement as in PostgreSQL (22P02, 22003…).
//!
//! A conversion must give the same value whenever and by whichever
//! session it is read, so it is built for the casts that depend on no
//! setting (numbers among themselves and from strings, numbers, booleans,
//! uuids and json to text, json and jsonb, dates and timestamps without
//! time zone) and for USING the column or the column cast to the new type;
//! anything else is refused with 0A000.

use super::existing_rows;
use crate::error::{Error, Result};
use crate::exec::Session;
use crate::types::number::is_number as number;
use crate::types::table::{same_values, TableDef};
use crate::types::{quote, PgType};

fn string(t: &PgType) -> bool {
    matches!(t, PgType::Text | PgType::Varchar(_))
}

fn float(t: &PgType) -> bool {
    matches!(t, PgType::Float4 | PgType::Float8)
}

/// Whether MosaicDB converts values of type `from` to `to`.
fn built(from: &PgType, to: &PgType) -> bool {
    let json = |t: &PgType| matches!(t, PgType::Json | PgType::Jsonb);
    let to_text_from = |t: &PgType| {
        (number(t) && !float(t)) || matches!(t, PgType::Bool | PgType::Uuid) || json(t)
    };
    let from_text_to =
        |t: &PgType| number(t) || matches!(t, PgType::Bool | PgType::Uuid) || json(t);
    (number(from) && number(to))
        || (string(to) && to_text_from(from))
        || (string(from) && from_text_to(to))
        || (json(from) && json(to))
        || matches!(
            (from, to),
            (PgType::Date, PgType::Timestamp) | (PgType::Timestamp, PgType::Date)
        )
}

/// Whether PostgreSQL converts `from` to `to` by an assignment (or
/// implicit) cast, which ALTER COLUMN … TYPE applies without USING.
fn assignment(from: &PgType, to: &PgType) -> bool {
    let to_string = matches!(to, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_));
    (number(from) && number(to))
        || (to_string && !string(from))
        || matches!(
            (from, to),
            (PgType::Json, PgType::Jsonb)
                | (PgType::Jsonb, PgType::Json)
                | (PgType::Date, PgType::Timestamp | PgType::Timestamptz)
                | (PgType::Timestamp, PgType::Date | PgType::Timestamptz)
                | (PgType::Timestamptz, PgType::Date | PgType::Timestamp)
        )
}

/// Convert column `i` of `def` to type `to` (`using`: a USING clause
/// giving the column, or the column cast to `to`, was written).
pub(super) fn convert(
    sess: &mut Session,
    def: &mut TableDef,
    i: usize,
    to: &PgType,
    using: bool,
) -> Result<()> {
    let col = def.columns[i].clone();
    let from = &col.ty;
    if !using && !assignment(from, to) {
        return Err(Error::DatatypeMismatch(format!(
            "column \"{}\" cannot be cast automatically to type {}",
            col.name,
            to.display_name()
        ))
        .with_hint(format!(
            "You might need to specify \"USING {}::{}\".",
            col.name,
            to.display_name()
        )));
    }
    let refuse = |why: &str| {
        Err(Error::Unsupported(format!(
            "ALTER COLUMN … TYPE from {} to {} of column \"{}\"{why}",
            from.display_name(),
            to.display_name(),
            col.name
        )))
    };
    if !built(from, to) {
        return refuse(" (converting its values that way)");
    }
    if let Some(why) = in_the_way(def, i) {
        return refuse(&format!(", which {why}"));
    }
    if col.earlier_types.iter().any(|t| same_values(t, to)) {
        return refuse(", which had that type before (older shards store its values as such)");
    }
    if let PgType::Varchar(Some(n)) = to {
        if !using {
            super::retype::check_length(sess, def, &col.name, *n, false)?;
        }
    }
    // Every value converts, on every node, before anything changes.
    let sql = format!(
        "SELECT count(CAST({c} AS {})) FROM {}",
        to.display_name(),
        quote(&def.name),
        c = quote(&col.name)
    );
    existing_rows(sess, &def.name, &[&col.name], &sql)?;
    let c = &mut def.columns[i];
    c.missing = match c.missing.as_deref() {
        None | Some("NULL") => c.missing.clone(),
        Some(m) => Some(format!("CAST(({m}) AS {})", to.display_name())),
    };
    c.earlier_types.push(from.clone());
    c.ty = to.clone();
    Ok(())
}

/// What keeps column `i` from being converted, if anything: a key,
/// FOREIGN KEY, CHECK, DEFAULT or index expression reads its values as
/// they are, and would have to be converted with them.
fn in_the_way(def: &TableDef, i: usize) -> Option<&'static str> {
    let name = &def.columns[i].name;
    let mentions = |text: &str| crate::sql::index_expr::mentions(text, name);
    if def.unique_keys().any(|k| k.contains(&i)) {
        return Some("is in a PRIMARY KEY or UNIQUE constraint");
    }
    let parent_of = |f: &crate::types::foreign::ForeignKey| {
        f.parent == def.name && f.parent_columns.contains(name)
    };
    if def
        .foreign_keys
        .iter()
        .any(|f| f.columns.contains(&i) || parent_of(f))
    {
        return Some("is in a FOREIGN KEY");
    }
    if def.checks.iter().any(|c| mentions(c)) {
        return Some("a CHECK constraint reads");
    }
    if def.columns[i].default.is_some() {
        return Some("has a DEFAULT (drop it, convert, set it again)");
    }
    let general = |ix: &crate::types::table::Index| {
        ix.exprs
            .iter()
            .flatten()
            .chain(&ix.predicate)
            .any(|e| mentions(e))
    };
    if def.indexes.iter().any(general) {
        return Some("an index expression or predicate reads");
    }
    None
}
