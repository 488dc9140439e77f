//! `SELECT *` over joins with USING or NATURAL, spelled out as PostgreSQL
//! lays the columns out: each join's merged columns first (the left one's
//! value for an inner or left join, the right one's for a right join,
//! `COALESCE` of both for a full join), then the left side's other
//! columns, then the right side's. SQLite's own `*` keeps the left side's
//! order and drops the right's copies, so its columns would not be the
//! ones described to the client.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, TableWithJoins, VisitMut, VisitorMut,
};

use super::Env;
use crate::error::{Error, Result};
use crate::sql::Schema;

/// Spell out `*` over merging joins in every query of `stmt`, before its
/// result columns are described.
pub fn spell_out_merged(stmt: &mut Statement, catalog: &dyn Schema) -> Result<()> {
    // Most statements have no such `*`: they skip the CTE inference the
    // visit below would do.
    let mut any = false;
    let _ = sqlparser::ast::Visit::visit(&*stmt, &mut StarOverMerge(&mut any));
    if !any {
        return Ok(());
    }
    let mut v = Merged {
        env: Env::new(catalog, &[]),
    };
    match stmt.visit(&mut v) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Finds a SELECT with `*` whose FROM merges columns.
struct StarOverMerge<'a>(&'a mut bool);

impl sqlparser::ast::Visitor for StarOverMerge<'_> {
    type Break = ();

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        let star = s
            .projection
            .iter()
            .any(|i| matches!(i, SelectItem::Wildcard(_)));
        if star && s.from.iter().any(merges) {
            *self.0 = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

struct Merged<'a> {
    env: Env<'a>,
}

impl VisitorMut for Merged<'_> {
    type Break = Error;

    fn pre_visit_statement(&mut self, s: &mut Statement) -> ControlFlow<Error> {
        self.env.enter_statement(s);
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, _: &mut Statement) -> ControlFlow<Error> {
        self.env.leave_statement();
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
        self.env.enter_query(q);
        match self.merged_body(&mut q.body) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<Error> {
        self.env.leave_query();
        ControlFlow::Continue(())
    }
}

/// One output column of a FROM item: its name and the expression that
/// reads it.
type Col = (String, Expr);

impl Merged<'_> {
    /// Spell out `*` in the SELECTs of a query body whose FROM merges
    /// columns (USING, NATURAL). Left as written when a FROM item's
    /// columns are not known here (SQLite then answers or fails as before).
    fn merged_body(&mut self, body: &mut SetExpr) -> Result<()> {
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.merged_body(left)?;
                self.merged_body(right)
            }
            SetExpr::Select(sel) => self.merged_select(sel),
            _ => Ok(()),
        }
    }

    fn merged_select(&mut self, sel: &mut Select) -> Result<()> {
        let star = sel
            .projection
            .iter()
            .any(|i| matches!(i, SelectItem::Wildcard(_)));
        if !star || !sel.from.iter().any(merges) {
            return Ok(());
        }
        let mut cols = Vec::new();
        for twj in &sel.from {
            match self.joined_cols(twj)? {
                Some(c) => cols.extend(c),
                None => return Ok(()),
            }
        }
        let mut out = Vec::with_capacity(sel.projection.len() + cols.len());
        for item in std::mem::take(&mut sel.projection) {
            match item {
                SelectItem::Wildcard(_) => {
                    out.extend(cols.iter().map(|(name, e)| SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('"', name.clone()),
                    }))
                }
                other => out.push(other),
            }
        }
        sel.projection = out;
        Ok(())
    }

    /// The columns of one FROM item with its joins, in PostgreSQL's order.
    fn joined_cols(&mut self, twj: &TableWithJoins) -> Result<Option<Vec<Col>>> {
        let Some(mut cols) = self.factor_cols(&twj.relation)? else {
            return Ok(None);
        };
        for j in &twj.joins {
            let Some(right) = self.factor_cols(&j.relation)? else {
                return Ok(None);
            };
            let (constraint, side) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (c, Side::Inner),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, Side::Left),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (c, Side::Right),
                JoinOperator::FullOuter(c) => (c, Side::Full),
                JoinOperator::CrossJoin(_) => {
                    cols.extend(right);
                    continue;
                }
                _ => return Ok(None),
            };
            let names: Vec<String> = match constraint {
                JoinConstraint::Using(names) => names
                    .iter()
                    .filter_map(|n| {
                        n.0.last()
                            .and_then(|p| p.as_ident())
                            .map(crate::sql::ident_name)
                    })
                    .collect(),
                JoinConstraint::Natural => cols
                    .iter()
                    .map(|(n, _)| n.clone())
                    .filter(|n| right.iter().any(|(r, _)| r == n))
                    .collect(),
                _ => {
                    cols.extend(right);
                    continue;
                }
            };
            let mut merged = Vec::with_capacity(cols.len() + right.len());
            for n in &names {
                let missing = |side: &str| {
                    Error::UndefinedColumn(format!(
                        "column \"{n}\" specified in USING clause does not exist in {side} table"
                    ))
                };
                let l = cols
                    .iter()
                    .find(|(c, _)| c == n)
                    .ok_or_else(|| missing("left"))?;
                let r = right
                    .iter()
                    .find(|(c, _)| c == n)
                    .ok_or_else(|| missing("right"))?;
                let ((_, l), (_, r)) = (l, r);
                merged.push((n.clone(), side.merge(l.clone(), r.clone())));
            }
            merged.extend(cols.into_iter().filter(|(c, _)| !names.contains(c)));
            merged.extend(right.into_iter().filter(|(c, _)| !names.contains(c)));
            cols = merged;
        }
        Ok(Some(cols))
    }

    /// The columns of one FROM item, each read through the name the query
    /// calls the item by.
    fn factor_cols(&mut self, tf: &TableFactor) -> Result<Option<Vec<Col>>> {
        if let TableFactor::NestedJoin {
            table_with_joins,
            alias: None,
        } = tf
        {
            return self.joined_cols(table_with_joins);
        }
        let one = [TableWithJoins {
            relation: tf.clone(),
            joins: vec![],
        }];
        let rels = self.env.scope_of(&one)?;
        let [rel] = rels.as_slice() else {
            return Ok(None);
        };
        if rel.name.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            rel.cols
                .iter()
                .map(|(c, _)| {
                    let e = Expr::CompoundIdentifier(vec![
                        Ident::with_quote('"', rel.name.clone()),
                        Ident::with_quote('"', c.clone()),
                    ]);
                    (c.clone(), e)
                })
                .collect(),
        ))
    }
}

/// Which side's value a merged column takes.
#[derive(Clone, Copy)]
enum Side {
    Inner,
    Left,
    Right,
    Full,
}

impl Side {
    fn merge(self, left: Expr, right: Expr) -> Expr {
        match self {
            Side::Inner | Side::Left => left,
            Side::Right => right,
            Side::Full => crate::sql::build::call("coalesce", vec![left, right]),
        }
    }
}

/// Whether a FROM item merges columns of a join (USING or NATURAL).
pub(crate) fn merges(twj: &TableWithJoins) -> bool {
    let nested = |tf: &TableFactor| match tf {
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => merges(table_with_joins),
        _ => false,
    };
    nested(&twj.relation)
        || twj.joins.iter().any(|j| {
            nested(&j.relation)
                || matches!(
                    &j.join_operator,
                    JoinOperator::Join(c)
                        | JoinOperator::Inner(c)
                        | JoinOperator::Left(c)
                        | JoinOperator::LeftOuter(c)
                        | JoinOperator::Right(c)
                        | JoinOperator::RightOuter(c)
                        | JoinOperator::FullOuter(c)
                        if matches!(c, JoinConstraint::Using(_) | JoinConstraint::Natural)
                )
        })
}
