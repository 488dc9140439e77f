//! The referential actions of a FOREIGN KEY when a statement removed
//! referenced keys (see `foreign`): NO ACTION and RESTRICT check, CASCADE,
//! SET NULL and SET DEFAULT write the referencing rows through internal
//! DELETE/UPDATE statements that take the same write path (their own
//! constraints, cascades and cross-node reach included).

use crate::error::Result;
use crate::exec::Session;
use crate::types::foreign::{Action, ForeignKey};
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

/// How many keys one internal statement carries.
const KEYS_PER_STATEMENT: usize = crate::exec::remote::KEYS_PER_PROBE;

/// Apply `action` of `fk` (on `child`, referencing `def`) to the keys
/// `removed`: each an old key of `def` and, for an UPDATE, its new value.
pub(crate) fn apply(
    sess: &mut Session,
    def: &TableDef,
    child: &TableDef,
    fk: &ForeignKey,
    action: Action,
    removed: Vec<super::foreign::Removed>,
) -> Result<()> {
    match action {
        Action::NoAction | Action::Restrict => {
            let old = removed.into_iter().map(|(o, _)| o).collect();
            super::foreign::check_still_referenced(sess, def, child, fk, action, old)
        }
        Action::Cascade => {
            for chunk in removed.chunks(KEYS_PER_STATEMENT) {
                let olds: Vec<Vec<Datum>> = chunk.iter().map(|(o, _)| o.clone()).collect();
                match chunk[0].1 {
                    None => {
                        let (filter, params) =
                            crate::exec::remote::key_filter(child, &fk.columns, &olds);
                        let sql = format!("DELETE FROM {} WHERE {filter}", quote(&child.name));
                        internal(sess, &sql, params)?;
                    }
                    Some(_) => cascade_update(sess, child, fk, chunk)?,
                }
            }
            Ok(())
        }
        Action::SetNull | Action::SetDefault => {
            if action == Action::SetDefault {
                default_still_referenced(sess, def, child, fk, &removed)?;
            }
            let mut sets = Vec::new();
            for &c in &fk.columns {
                let col = &child.columns[c];
                let value = match (action, col.effective_default()) {
                    (Action::SetDefault, Some(_)) => super::default_value(Some(col))?.to_string(),
                    _ => "NULL".to_string(),
                };
                sets.push(format!("{} = {value}", quote(&col.name)));
            }
            for chunk in removed.chunks(KEYS_PER_STATEMENT) {
                let olds: Vec<Vec<Datum>> = chunk.iter().map(|(o, _)| o.clone()).collect();
                let (filter, params) = crate::exec::remote::key_filter(child, &fk.columns, &olds);
                let sql = format!(
                    "UPDATE {} SET {} WHERE {filter}",
                    quote(&child.name),
                    sets.join(", ")
                );
                internal(sess, &sql, params)?;
            }
            Ok(())
        }
    }
}

/// SET DEFAULT of rows whose key is the default itself leaves them
/// referencing it: when that key was removed, PostgreSQL fails as NO
/// ACTION would (before the rows are set), and so does this.
fn default_still_referenced(
    sess: &mut Session,
    def: &TableDef,
    child: &TableDef,
    fk: &ForeignKey,
    removed: &[super::foreign::Removed],
) -> Result<()> {
    let mut exprs = Vec::new();
    for &c in &fk.columns {
        let col = &child.columns[c];
        let sequence = col
            .default
            .as_deref()
            .and_then(crate::types::table::sequence_name);
        if sequence.is_some() {
            return Ok(());
        }
        exprs.push(super::default_value(Some(col))?.to_string());
    }
    let rows = super::foreign::read(sess, &format!("SELECT {}", exprs.join(", ")), &[])?;
    let Some(default) = rows.into_iter().next() else {
        return Ok(());
    };
    let types: Vec<&crate::types::PgType> =
        fk.columns.iter().map(|&c| &child.columns[c].ty).collect();
    let target = super::foreign::canon_key(&default, &types);
    let same: Vec<Vec<Datum>> = removed
        .iter()
        .filter(|(old, _)| super::foreign::canon_key(old, &types) == target)
        .map(|(old, _)| old.clone())
        .collect();
    if same.is_empty() {
        return Ok(());
    }
    super::foreign::check_still_referenced(sess, def, child, fk, Action::NoAction, same)
}

/// ON UPDATE CASCADE: one UPDATE moves every referencing row of the
/// chunk to its key's new value at once (so a new value that is another
/// row's old value is not moved twice).
fn cascade_update(
    sess: &mut Session,
    child: &TableDef,
    fk: &ForeignKey,
    chunk: &[super::foreign::Removed],
) -> Result<()> {
    let mut params: Vec<Datum> = Vec::new();
    let mut conds = Vec::new();
    let mut news: Vec<Vec<usize>> = Vec::new();
    for (old, new) in chunk {
        let mut term = Vec::new();
        for (v, &c) in old.iter().zip(&fk.columns) {
            params.push(v.clone());
            term.push(format!(
                "{} = ${}",
                quote(&child.columns[c].name),
                params.len()
            ));
        }
        conds.push(format!("({})", term.join(" AND ")));
        let mut at = Vec::new();
        for v in new.iter().flatten() {
            params.push(v.clone());
            at.push(params.len());
        }
        news.push(at);
    }
    let sets: Vec<String> = fk
        .columns
        .iter()
        .enumerate()
        .map(|(j, &c)| {
            let whens: Vec<String> = conds
                .iter()
                .zip(&news)
                .map(|(cond, at)| format!("WHEN {cond} THEN ${}", at[j]))
                .collect();
            format!(
                "{} = CASE {} END",
                quote(&child.columns[c].name),
                whens.join(" ")
            )
        })
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE {}",
        quote(&child.name),
        sets.join(", "),
        conds.join(" OR ")
    );
    internal(sess, &sql, params)
}

/// Run an internal write statement through the write path, prepared as a
/// client's statement is (typed, so a value assigned to a column takes
/// the column's type, numeric scale included).
fn internal(sess: &mut Session, sql: &str, params: Vec<Datum>) -> Result<()> {
    let stmt = crate::exec::prepare_single(&sess.catalog(), sql, &[])?
        .stmt
        .ok_or_else(|| crate::error::Error::Internal("empty statement".into()))?;
    super::write_statement(sess, stmt, &params, &mut |_| Ok(())).map(|_| ())
}
