//! How a shard's columns are read as the table's columns are now: under
//! the name the shard stores each by, as the value rows stored before a
//! column existed read, converted from the type ALTER COLUMN … TYPE
//! changed, or from the REALs numeric was stored as before it was exact.

use super::ShardMeta;
use crate::error::Result;
use crate::types::quote;
use crate::types::{Datum, PgType};

/// Column `c` read from rows stored before it existed: the value they read
/// for it (`Column::missing_value`), named as the column.
pub fn missing_column(c: &crate::types::table::Column) -> Result<String> {
    let value = match c.missing_value() {
        Some(d) => crate::sql::default_to_sqlite(d, &c.ty)?,
        None => "NULL".to_string(),
    };
    Ok(format!("{value} AS {}", quote(&c.name)))
}

/// SQL reading column `c` of a shard, named as the column is now: under
/// the name the shard stores it by (its name, or one it had before RENAME
/// COLUMN), or, for a column the shard predates, as the value rows stored
/// before the column existed read (`Column::missing_value`).
pub fn read_column(c: &crate::types::table::Column, meta: &ShardMeta) -> Result<String> {
    let Some((stored, stats)) = c
        .storage_names()
        .find_map(|n| meta.column(n).map(|s| (n, s)))
    else {
        return missing_column(c);
    };
    if !c.stored_as_is(&stats.ty) {
        return Ok(format!(
            "{} AS {}",
            converted(stored, &stats.ty, c)?,
            quote(&c.name)
        ));
    }
    let renamed = crate::types::table::Column {
        name: stored.to_string(),
        ..c.clone()
    };
    Ok(match old_numeric(&renamed, meta) {
        Some(read) if stored == c.name => read,
        Some(read) => read.replace(
            &format!(" AS {}", quote(stored)),
            &format!(" AS {}", quote(&c.name)),
        ),
        None if stored == c.name => quote(&c.name),
        None => format!("{} AS {}", quote(stored), quote(&c.name)),
    })
}

/// SQLite SQL converting the values of column `stored`, stored as type
/// `from`, to column `c`'s type: through each type the column took after
/// `from`, by the casts ALTER COLUMN … TYPE converted its values by (it
/// takes no other USING expression).
pub fn converted(stored: &str, from: &PgType, c: &crate::types::table::Column) -> Result<String> {
    let since = c
        .earlier_types
        .iter()
        .position(|t| crate::types::table::same_values(t, from))
        .map_or(0, |k| k + 1);
    let mut expr = quote(stored);
    for t in c.earlier_types[since..].iter().chain([&c.ty]) {
        expr = format!("CAST({expr} AS {})", t.display_name());
    }
    crate::sql::check_to_sqlite(&expr, &[(stored.to_string(), from.clone())])
}

/// How to read a numeric column of a shard sealed before numeric was
/// exact (its values are REALs): as numeric text printed as it printed
/// then, under the numeric collation. `None` for any other column.
fn old_numeric(c: &crate::types::table::Column, meta: &ShardMeta) -> Option<String> {
    let PgType::Numeric(typmod) = &c.ty else {
        return None;
    };
    let stats = meta.column(&c.name)?;
    if !matches!(stats.min, Some(Datum::Real(_))) {
        return None;
    }
    Some(format!(
        "{} COLLATE {} AS {}",
        old_numeric_value(&quote(&c.name), typmod),
        crate::types::NUMERIC_COLLATION,
        quote(&c.name)
    ))
}

/// SQL converting a REAL written before numeric was exact (`col`, SQL) to
/// numeric text, as it printed then.
pub(crate) fn old_numeric_value(col: &str, typmod: &Option<(u32, u32)>) -> String {
    match typmod {
        Some((p, s)) if *p > 0 => format!("pg_cast(pg_numeric({col}), 'numeric({p},{s})')"),
        _ => format!("pg_numeric({col})"),
    }
}
