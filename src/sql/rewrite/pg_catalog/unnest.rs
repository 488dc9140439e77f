//! `unnest` of several arrays in FROM, as the typed step leaves it: each
//! array followed by its elements' family (`types::array::Family`).

use sqlparser::ast::{FunctionArg, Statement, TableFactor};

use crate::error::{Error, Result};

/// `unnest(a, 'fa', b, 'fb', …)` in FROM (arrays the typed step gave
/// their families): one row per position of the longest, the shorter
/// ones padded with NULLs, one column per array (each named `unnest`
/// unless the alias names them).
pub(super) fn several(
    list: &[FunctionArg],
    alias: Option<&sqlparser::ast::TableAlias>,
    with_ordinality: bool,
) -> Result<TableFactor> {
    if !list.len().is_multiple_of(2) {
        return Err(Error::Unsupported(
            "unnest of several arrays of these types".into(),
        ));
    }
    let arrays: Vec<String> = list.iter().step_by(2).map(ToString::to_string).collect();
    let named = |i: usize| alias.and_then(|a| a.columns.get(i).map(|c| c.name.to_string()));
    let mut cols: Vec<String> = list
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            format!(
                "pg_array_get({}, p.value, {}) AS {}",
                pair[0],
                pair[1],
                named(i).unwrap_or_else(|| format!("unnest_{i}"))
            )
        })
        .collect();
    if with_ordinality {
        let name = named(arrays.len()).unwrap_or_else(|| "ordinality".into());
        cols.push(format!("p.value AS {name}"));
    }
    let alias_name = alias.map_or_else(|| "unnest".to_string(), |a| a.name.to_string());
    let sql = format!(
        "SELECT * FROM (SELECT {} FROM json_each(pg_array_positions({})) AS p) AS {alias_name}",
        cols.join(", "),
        arrays.join(", ")
    );
    let Some(Statement::Query(q)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("unnest did not parse".into()));
    };
    let sqlparser::ast::SetExpr::Select(sel) = *q.body else {
        return Err(Error::Internal("unnest did not parse".into()));
    };
    sel.from
        .into_iter()
        .next()
        .map(|twj| twj.relation)
        .ok_or_else(|| Error::Internal("unnest did not parse".into()))
}
