//! `GENERATED ALWAYS AS IDENTITY` columns take their sequence's values:
//! INSERT may give one only with OVERRIDING SYSTEM VALUE, UPDATE may set
//! one only to DEFAULT (PostgreSQL's 428C9 otherwise).

use sqlparser::ast::{
    AssignmentTarget, Expr, InsertOverriding, SetExpr, Statement, TableFactor, TableObject,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name, Schema};
use crate::types::table::{Identity, TableDef};

pub(super) fn check(stmt: &Statement, catalog: &dyn Schema) -> Result<()> {
    match stmt {
        Statement::Insert(ins) => {
            if ins.overriding.is_some() {
                return Ok(());
            }
            let Some((def, targets)) = insert_targets(ins, catalog) else {
                return Ok(());
            };
            for (pos, col) in targets.iter().enumerate() {
                let Some(col) = col.filter(|&c| always(&def, c)) else {
                    continue;
                };
                let given = match ins.source.as_ref().map(|q| q.body.as_ref()) {
                    None => false,
                    Some(SetExpr::Values(v)) => v.rows.iter().any(|r| {
                        r.get(pos)
                            .is_some_and(|e| !crate::sql::is_default_keyword(e))
                    }),
                    Some(_) => true,
                };
                if given {
                    let name = &def.columns[col].name;
                    return Err(Error::GeneratedAlways(format!(
                        "cannot insert a non-DEFAULT value into column \"{name}\""
                    ))
                    .with_detail(format!(
                        "Column \"{name}\" is an identity column defined as GENERATED ALWAYS."
                    ))
                    .with_hint("Use OVERRIDING SYSTEM VALUE to override."));
                }
            }
            Ok(())
        }
        Statement::Update(up) => {
            let TableFactor::Table { name, .. } = &up.table.relation else {
                return Ok(());
            };
            let Some(def) = catalog.table(&object_name(name)) else {
                return Ok(());
            };
            for a in &up.assignments {
                let AssignmentTarget::ColumnName(target) = &a.target else {
                    continue;
                };
                let Some(col) = target
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .and_then(|i| def.column_index(&ident_name(i)))
                else {
                    continue;
                };
                if always(&def, col) && !crate::sql::is_default_keyword(&a.value) {
                    let name = &def.columns[col].name;
                    return Err(Error::GeneratedAlways(format!(
                        "column \"{name}\" can only be updated to DEFAULT"
                    ))
                    .with_detail(format!(
                        "Column \"{name}\" is an identity column defined as GENERATED ALWAYS."
                    )));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `INSERT … OVERRIDING USER VALUE VALUES …`: the values given for
/// identity columns are dropped for DEFAULT, as PostgreSQL ignores them.
/// With a query as its source it is refused (0A000).
pub fn override_user_values(stmt: &mut Statement, catalog: &dyn Schema) -> Result<()> {
    let Statement::Insert(ins) = stmt else {
        return Ok(());
    };
    if ins.overriding != Some(InsertOverriding::User) {
        return Ok(());
    }
    let Some((def, targets)) = insert_targets(ins, catalog) else {
        return Ok(());
    };
    let identity: Vec<usize> = (0..targets.len())
        .filter(|&p| targets[p].is_some_and(|c| def.columns[c].identity.is_some()))
        .collect();
    match ins.source.as_mut().map(|q| q.body.as_mut()) {
        Some(SetExpr::Values(v)) => {
            for row in &mut v.rows {
                for &p in &identity {
                    if let Some(e) = row.get_mut(p) {
                        *e = Expr::Identifier(sqlparser::ast::Ident::new("DEFAULT"));
                    }
                }
            }
        }
        Some(_) if !identity.is_empty() => {
            return Err(Error::Unsupported(
                "OVERRIDING USER VALUE with a query (it works with VALUES)".into(),
            ))
        }
        _ => {}
    }
    ins.overriding = None;
    Ok(())
}

fn always(def: &TableDef, col: usize) -> bool {
    def.columns[col].identity == Some(Identity::Always)
}

/// The table an INSERT writes and the column each of its values goes to
/// (`None`: no such column, which the planner reports).
fn insert_targets(
    ins: &sqlparser::ast::Insert,
    catalog: &dyn Schema,
) -> Option<(std::sync::Arc<TableDef>, Vec<Option<usize>>)> {
    let TableObject::TableName(name) = &ins.table else {
        return None;
    };
    let def = catalog.table(&object_name(name))?;
    let targets = if ins.columns.is_empty() {
        (0..def.columns.len()).map(Some).collect()
    } else {
        ins.columns
            .iter()
            .map(|c| {
                c.0.last()
                    .and_then(|p| p.as_ident())
                    .and_then(|i| def.column_index(&ident_name(i)))
            })
            .collect()
    };
    Some((def, targets))
}
