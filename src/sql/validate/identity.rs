//! `GENERATED ALWAYS AS IDENTITY` columns take their sequence's values:
//! INSERT may give one only with OVERRIDING SYSTEM VALUE, UPDATE may set
//! one only to DEFAULT (PostgreSQL's 428C9 otherwise). A generated column
//! (`GENERATED ALWAYS AS (…) STORED`) takes DEFAULT only, whatever the
//! OVERRIDING clause.

use sqlparser::ast::{
    AssignmentTarget, Expr, InsertOverriding, SetExpr, Statement, TableFactor, TableObject,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name, Schema};
use crate::types::table::{Identity, TableDef};

pub(super) fn check(stmt: &Statement, catalog: &dyn Schema) -> Result<()> {
    match stmt {
        Statement::Insert(ins) => {
            let Some((def, targets)) = insert_targets(ins, catalog) else {
                return Ok(());
            };
            if let Some(sqlparser::ast::OnInsert::OnConflict(c)) = &ins.on {
                if let sqlparser::ast::OnConflictAction::DoUpdate(u) = &c.action {
                    updated_columns(&def, &u.assignments)?;
                }
            }
            for (pos, col) in targets.iter().enumerate() {
                let Some(col) = *col else { continue };
                let generated = def.columns[col].generated.is_some();
                if !generated && (ins.overriding.is_some() || !always(&def, col)) {
                    continue;
                }
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
                    let e = Error::GeneratedAlways(format!(
                        "cannot insert a non-DEFAULT value into column \"{name}\""
                    ));
                    if generated {
                        return Err(
                            e.with_detail(format!("Column \"{name}\" is a generated column."))
                        );
                    }
                    return Err(e
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
            updated_columns(&def, &up.assignments)
        }
        _ => Ok(()),
    }
}

/// An UPDATE (or ON CONFLICT DO UPDATE) sets a GENERATED ALWAYS identity
/// column or a generated column to DEFAULT only.
fn updated_columns(def: &TableDef, assignments: &[sqlparser::ast::Assignment]) -> Result<()> {
    for a in assignments {
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
        let generated = def.columns[col].generated.is_some();
        if (always(def, col) || generated) && !crate::sql::is_default_keyword(&a.value) {
            let name = &def.columns[col].name;
            return Err(Error::GeneratedAlways(format!(
                "column \"{name}\" can only be updated to DEFAULT"
            ))
            .with_detail(match generated {
                true => format!("Column \"{name}\" is a generated column."),
                false => {
                    format!("Column \"{name}\" is an identity column defined as GENERATED ALWAYS.")
                }
            }));
        }
    }
    Ok(())
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
        // As many as the source gives (the rest take their defaults).
        let width = (ins.source.as_deref())
            .and_then(|q| crate::sql::source_width(&q.body))
            .unwrap_or(def.columns.len());
        (0..def.columns.len().min(width)).map(Some).collect()
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
