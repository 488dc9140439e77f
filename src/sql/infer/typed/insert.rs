//! INSERT's assignment: every value of the source goes into its target
//! column as PostgreSQL assigns it (typmods applied, lengths checked,
//! `character(n)` padded; `Typer::assign`), whatever the source's shape:
//! a VALUES list, a SELECT (its `*` and `t.*` spelled out so each column
//! is assigned), a parenthesized query, or the arms of a set operation.

use sqlparser::ast::{Expr, Ident, SelectItem, SetExpr, SetQuantifier};

use super::Typer;
use crate::error::{Error, Result};
use crate::types::PgType;

type Targets = [Option<(String, PgType)>];

/// Whether assigning to `t` may change a value (round it, pad it): then
/// a set operation that removes duplicates would see other values.
fn reshapes(t: &PgType) -> bool {
    matches!(
        t,
        PgType::Numeric(Some(_)) | PgType::Varchar(Some(_)) | PgType::Bpchar(Some(_))
    )
}

impl Typer<'_> {
    pub(super) fn insert(&mut self, ins: &mut sqlparser::ast::Insert) -> Result<()> {
        let targets = self.target_types(&ins.columns);
        self.insert_values = ins
            .source
            .as_ref()
            .is_some_and(|q| matches!(q.body.as_ref(), SetExpr::Values(_)));
        if let Some(src) = ins.source.as_mut() {
            // The source's WITH queries are in scope for its body.
            self.env.enter_query(src);
            let r = self.insert_source(src.body.as_mut(), &targets);
            self.env.leave_query();
            r?;
        }
        if let Some(sqlparser::ast::OnInsert::OnConflict(oc)) = &mut ins.on {
            if let sqlparser::ast::OnConflictAction::DoUpdate(du) = &mut oc.action {
                self.assignments(&mut du.assignments)?;
            }
        }
        Ok(())
    }

    fn insert_source(&mut self, body: &mut SetExpr, targets: &Targets) -> Result<()> {
        match body {
            SetExpr::Values(values) => {
                for row in &mut values.rows {
                    for (e, ty) in row.iter_mut().zip(targets) {
                        if let Some((col, ty)) = ty {
                            self.assign(e, ty, col)?;
                        }
                    }
                }
            }
            SetExpr::Select(sel) => {
                let rels = self.env.scope_of(&sel.from).unwrap_or_default();
                if sel.projection.iter().any(|i| {
                    matches!(
                        i,
                        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                    )
                }) {
                    // Left as `*` by `infer::using` only where a FROM
                    // item's columns are not known.
                    if sel.from.iter().any(crate::sql::infer::using::merges) {
                        return Err(Error::Unsupported(
                            "INSERT … SELECT * over a join with USING or NATURAL (list the columns)"
                                .into(),
                        ));
                    }
                    sel.projection = spell_out(std::mem::take(&mut sel.projection), &rels);
                }
                self.env.scopes.push(rels);
                let r = sel
                    .projection
                    .iter_mut()
                    .zip(targets)
                    .try_for_each(|(item, ty)| match (item, ty) {
                        (
                            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. },
                            Some((col, ty)),
                        ) => self.assign(e, ty, col),
                        _ => Ok(()),
                    });
                self.env.scopes.pop();
                r?;
            }
            SetExpr::Query(q) => self.insert_source(q.body.as_mut(), targets)?,
            SetExpr::SetOperation {
                set_quantifier,
                left,
                right,
                ..
            } => {
                let all = matches!(set_quantifier, SetQuantifier::All);
                if !all && targets.iter().flatten().any(|(_, t)| reshapes(t)) {
                    return Err(Error::Unsupported(
                        "INSERT of a UNION, INTERSECT or EXCEPT without ALL into numeric(p,s), varchar(n) or char(n) columns"
                            .into(),
                    ));
                }
                self.insert_source(left, targets)?;
                self.insert_source(right, targets)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// `*` and `t.*` as the columns they stand for, each qualified by its
/// relation.
fn spell_out(items: Vec<SelectItem>, rels: &[super::super::Rel]) -> Vec<SelectItem> {
    let column = |rel: &super::super::Rel, col: &str| {
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![
            Ident::with_quote('"', rel.name.clone()),
            Ident::with_quote('"', col.to_string()),
        ]))
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match &item {
            SelectItem::Wildcard(_) => {
                for rel in rels {
                    out.extend(rel.cols.iter().map(|(c, _)| column(rel, c)));
                }
            }
            SelectItem::QualifiedWildcard(name, _) => {
                let name = super::wildcard_relation(name);
                match rels.iter().find(|r| Some(&r.name) == name.as_ref()) {
                    Some(rel) => out.extend(rel.cols.iter().map(|(c, _)| column(rel, c))),
                    None => out.push(item),
                }
            }
            _ => out.push(item),
        }
    }
    out
}
