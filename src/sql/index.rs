//! CREATE INDEX beyond its key columns: the options MosaicDB keeps
//! (INCLUDE columns, CONCURRENTLY, which changes nothing here) and the
//! ones it refuses by name rather than drop silently, since
//! `pg_get_indexdef` and psql's `\d` would then print a different index.

use sqlparser::ast::{CreateIndex, OrderBySort};

use crate::error::{Error, Result};
use crate::sql::ident_name;
use crate::types::table::TableDef;

/// Refuse the index options that are not built: access methods other
/// than btree, storage parameters (operator classes: see [`opclasses`]).
pub fn refuse_options(ci: &CreateIndex) -> Result<()> {
    if let Some(using) = &ci.using {
        let method = using.to_string().to_lowercase();
        if crate::sql::vector_index::is_vector_method(&method) {
            // Checked with the table's columns (`sql::vector_index`).
            return Ok(());
        }
        if method != "btree" {
            return Err(Error::Unsupported(format!("index access method {method}")));
        }
    }
    if ci
        .columns
        .iter()
        .any(|c| matches!(c.column.options.sort, Some(OrderBySort::Using(_))))
    {
        return Err(Error::Unsupported(
            "USING an operator in an index key".into(),
        ));
    }
    if !ci.with.is_empty() {
        return Err(Error::Unsupported("index storage parameters".into()));
    }
    if !ci.index_options.is_empty() || !ci.alter_options.is_empty() {
        return Err(Error::Unsupported("these index options".into()));
    }
    Ok(())
}

/// Each key's `indoption` bits (1: DESC, 2: NULLS FIRST, which DESC
/// implies unless NULLS LAST), or empty when all are 0.
pub fn options(ci: &CreateIndex) -> Vec<i16> {
    let bits: Vec<i16> = ci
        .columns
        .iter()
        .map(|c| {
            let o = &c.column.options;
            let desc = matches!(o.sort, Some(OrderBySort::Desc));
            let nulls_first = o.nulls_first.unwrap_or(desc);
            i16::from(desc) | (i16::from(nulls_first) << 1)
        })
        .collect();
    match bits.iter().all(|&b| b == 0) {
        true => vec![],
        false => bits,
    }
}

/// `DESC`, `NULLS FIRST` or `NULLS LAST` after a key, as PostgreSQL
/// prints them (only what differs from the direction's default).
pub fn option_text(bits: i16) -> &'static str {
    match (bits & 1 != 0, bits & 2 != 0) {
        (false, false) => "",
        (false, true) => " NULLS FIRST",
        (true, true) => " DESC",
        (true, false) => " DESC NULLS LAST",
    }
}

/// The operator classes an index may name: the pattern classes (for LIKE
/// prefix searches in non-C locales), which Django gives every indexed
/// text column. They change no answer here, only what the catalogs print.
const OPCLASSES: [&str; 3] = [
    "text_pattern_ops",
    "varchar_pattern_ops",
    "bpchar_pattern_ops",
];

/// Each key column's operator class (`None`: the default), or empty when
/// none names one; others are refused.
pub fn opclasses(ci: &CreateIndex) -> Result<Vec<Option<String>>> {
    if ci.columns.iter().all(|c| c.operator_class.is_none()) {
        return Ok(vec![]);
    }
    ci.columns
        .iter()
        .map(|c| match &c.operator_class {
            None => Ok(None),
            Some(op) => {
                let name = op.to_string().to_lowercase();
                match OPCLASSES.contains(&name.as_str()) {
                    true => Ok(Some(name)),
                    false => Err(Error::Unsupported(format!(
                        "operator class {name} in an index"
                    ))),
                }
            }
        })
        .collect()
}

/// The INCLUDE columns, each a column of `table`.
pub fn include_columns(ci: &CreateIndex, table: &TableDef) -> Result<Vec<String>> {
    ci.include
        .iter()
        .map(|i| {
            let name = ident_name(i);
            match table.column_index(&name) {
                Some(_) => Ok(name),
                None => Err(Error::NoSuchColumn(name)),
            }
        })
        .collect()
}

/// PostgreSQL's name for an unnamed index: the table, the key and INCLUDE
/// columns (a repeated one numbered: `a`, `a1`), then `idx`.
pub fn default_name(table: &str, columns: &[String], include: &[String]) -> String {
    let mut names: Vec<String> = Vec::new();
    for c in columns.iter().chain(include) {
        let mut name = c.clone();
        let mut n = 0;
        while names.contains(&name) {
            n += 1;
            name = format!("{c}{n}");
        }
        names.push(name);
    }
    format!("{table}_{}_idx", names.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_number_repeated_columns() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            default_name("it", &s(&["a"]), &s(&["b", "c"])),
            "it_a_b_c_idx"
        );
        assert_eq!(default_name("it", &s(&["a"]), &s(&["a"])), "it_a_a1_idx");
    }
}
