//! An INSERT's generated columns (`GENERATED ALWAYS AS (…) STORED`): the
//! open segment computes them, so they leave the statement. Validation
//! (`sql::validate::identity`) has refused any value but DEFAULT for them.

use sqlparser::ast::{Expr, Insert, ObjectName, OnConflictAction, OnInsert, SetExpr};

use crate::sql::ident_name;
use crate::types::table::TableDef;

/// Take `ins`'s generated target columns out of its column list, its
/// VALUES rows and its ON CONFLICT DO UPDATE assignments.
pub(super) fn leave_out(ins: &mut Insert, def: &TableDef) {
    let generated = |name: &ObjectName| {
        name.0
            .last()
            .and_then(|p| p.as_ident())
            .and_then(|i| def.column_index(&ident_name(i)))
            .is_some_and(|c| def.columns[c].generated.is_some())
    };
    if let Some(OnInsert::OnConflict(c)) = &mut ins.on {
        if let OnConflictAction::DoUpdate(u) = &mut c.action {
            u.assignments.retain(|a| match &a.target {
                sqlparser::ast::AssignmentTarget::ColumnName(n) => !generated(n),
                _ => true,
            });
        }
    }
    let drop: Vec<bool> = ins.columns.iter().map(generated).collect();
    if !drop.contains(&true) {
        return;
    }
    // A statement that names only generated columns writes a row of
    // defaults: it keeps the first other column, set to DEFAULT.
    let filler = (drop.iter().all(|d| *d))
        .then(|| def.columns.iter().find(|c| c.generated.is_none()))
        .flatten()
        .map(|c| ObjectName::from(vec![sqlparser::ast::Ident::with_quote('"', c.name.clone())]));
    let keep = |i: usize| !drop.get(i).copied().unwrap_or(false);
    let mut i = 0;
    ins.columns.retain(|_| {
        i += 1;
        keep(i - 1)
    });
    if let Some(SetExpr::Values(v)) = ins.source.as_mut().map(|q| q.body.as_mut()) {
        for row in &mut v.rows {
            let mut i = 0;
            row.retain(|_| {
                i += 1;
                keep(i - 1)
            });
            if filler.is_some() {
                row.push(Expr::Identifier(sqlparser::ast::Ident::new("DEFAULT")));
            }
        }
    }
    ins.columns.extend(filler);
}
