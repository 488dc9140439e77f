//! ALTER TABLE … ALTER [COLUMN] c [SET DATA] TYPE t [USING expr], for the
//! changes that keep every stored value as it is: integers to a wider or
//! narrower integer type (a narrower one checks every row on every node,
//! 22003), varchar(n) to a longer varchar, varchar or text, and text or
//! varchar to varchar(n) (every row must fit, 22001). Sealed shards read
//! their values under the new type unchanged, so none is rewritten; the
//! open segment is rebuilt (its range CHECK changes) on every node.
//!
//! A change that converts the stored values (integer to numeric or text,
//! text to integer, …) is `convert`'s.

use sqlparser::ast::{DataType, Expr};

use super::existing_rows;
use crate::error::{Error, Result};
use crate::exec::Session;
use crate::sql::ident_name;
use crate::types::table::TableDef;
use crate::types::{quote, PgType};

/// Change column `i` of `def` to `data_type`.
pub(super) fn set_type(
    sess: &mut Session,
    def: &mut TableDef,
    i: usize,
    data_type: &DataType,
    using: Option<&Expr>,
) -> Result<()> {
    let col = def.columns[i].clone();
    // serial is a column's shorthand, not a type.
    if crate::types::is_serial(data_type) {
        return Err(Error::NoSuchObject(format!(
            "type \"{}\" does not exist",
            data_type.to_string().to_lowercase()
        )));
    }
    crate::types::refuse_timestamp_column(data_type)?;
    let to = PgType::from_sql(data_type)?;
    if let Some(u) = using {
        if !plain_using(u, &col.name, &to) {
            return Err(Error::Unsupported(format!(
                "ALTER COLUMN … TYPE … USING {u} (only USING the column itself)"
            )));
        }
    }
    if col.ty == to {
        return Ok(());
    }
    if col.generated.is_some() {
        return Err(Error::Unsupported(
            "ALTER COLUMN … TYPE of a generated column".into(),
        ));
    }
    let reader = (def.columns.iter()).find(|c| {
        (c.generated.as_deref()).is_some_and(|g| crate::sql::index_expr::mentions(g, &col.name))
    });
    if let Some(reader) = reader {
        return Err(Error::NotSupported(
            "cannot alter type of a column used by a generated column".into(),
        )
        .with_detail(format!(
            "Column \"{}\" is used by generated column \"{}\".",
            col.name, reader.name
        )));
    }
    if col.identity.is_some() {
        return Err(Error::Unsupported(
            "ALTER COLUMN … TYPE of an identity column (its sequence's type follows)".into(),
        ));
    }
    let string = |t: &PgType| matches!(t, PgType::Text | PgType::Varchar(_));
    let int_range = |t: &PgType| match t {
        PgType::Int2 => Some((i16::MIN as i64, i16::MAX as i64, "smallint")),
        PgType::Int4 => Some((i32::MIN as i64, i32::MAX as i64, "integer")),
        PgType::Int8 => Some((i64::MIN, i64::MAX, "bigint")),
        _ => None,
    };
    match (int_range(&col.ty), int_range(&to)) {
        (Some((lo, hi, _)), Some((nlo, nhi, name))) => {
            if nlo > lo || nhi < hi {
                let sql = format!(
                    "SELECT 1 FROM {} WHERE {c} < {nlo} OR {c} > {nhi} LIMIT 1",
                    quote(&def.name),
                    c = quote(&col.name)
                );
                if !existing_rows(sess, &def.name, &[&col.name], &sql)?.is_empty() {
                    return Err(Error::NumericOutOfRange(format!("{name} out of range")));
                }
            }
        }
        _ if string(&col.ty) && string(&to) => {
            if let PgType::Varchar(Some(n)) = to {
                check_length(sess, def, &col.name, n, using.is_some())?;
            }
        }
        _ => return super::convert::convert(sess, def, i, &to, using.is_some()),
    }
    def.columns[i].ty = to;
    Ok(())
}

/// Whether USING `u` gives the column's own values: the column, or the
/// column cast to the new type.
fn plain_using(u: &Expr, col: &str, to: &PgType) -> bool {
    match u {
        Expr::Identifier(id) => ident_name(id) == col,
        Expr::Nested(e) => plain_using(e, col, to),
        Expr::Cast {
            expr, data_type, ..
        } => PgType::from_sql(data_type).is_ok_and(|t| &t == to) && plain_using(expr, col, to),
        _ => false,
    }
}

/// Every value of `col` fits varchar(`n`): else 22001, as PostgreSQL's
/// assignment cast fails; a value whose excess is only spaces, which
/// PostgreSQL would store cut, is refused (the stored value stays).
/// With `using` (a USING cast, which PostgreSQL lets cut the values), a
/// value too long is refused with 0A000 instead: stored values are never
/// changed.
pub(super) fn check_length(
    sess: &mut Session,
    def: &TableDef,
    col: &str,
    n: u32,
    using: bool,
) -> Result<()> {
    let sql = format!(
        "SELECT length(rtrim({c}, ' ')) > {n} FROM {} WHERE length({c}) > {n} \
         ORDER BY 1 DESC LIMIT 1",
        quote(&def.name),
        c = quote(col)
    );
    let rows = existing_rows(sess, &def.name, &[col], &sql)?;
    match rows.first().and_then(|r| r.first()) {
        None => Ok(()),
        Some(_) if using => Err(Error::Unsupported(format!(
            "ALTER COLUMN … TYPE varchar({n}) USING a cast of \"{col}\", which holds values \
             longer than {n} characters (the cast would cut them)"
        ))),
        Some(crate::types::Datum::Int(0)) => Err(Error::Unsupported(format!(
            "ALTER COLUMN … TYPE varchar({n}) of \"{col}\", which holds values with trailing \
             spaces beyond {n} characters (they would be cut)"
        ))),
        Some(_) => Err(Error::StringTooLong(format!(
            "value too long for type character varying({n})"
        ))),
    }
}
