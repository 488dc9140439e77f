//! Set-returning functions in FROM that read columns of the FROM items
//! before them: `unnest` of a column (`FROM t, unnest(t.tags) AS x`,
//! `LEFT JOIN LATERAL unnest(…) ON true`) and the json ones
//! (`jsonb_array_elements`, `jsonb_each`, …, always). SQLite's subqueries
//! in FROM cannot see the items before them, but its table-valued
//! functions can: `sql::rewrite::pg_catalog` makes such a call
//! `json_each(…) AS mosaic_lat_<alias>` with no subquery around it, and
//! here every reference to its columns becomes the expression that reads
//! them from that `json_each` row. A LATERAL subquery
//! (`FROM t, LATERAL (SELECT … WHERE u.k = t.k LIMIT 3) s`) goes the same
//! way: a scalar subquery, which may read the items before it, gathers its
//! rows into one JSON array, which `json_each` walks (`subquery_rows`).

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, Query, SelectItem, SetExpr, Statement, TableAlias,
    TableFactor,
};

use super::Typer;
use crate::error::{Error, Result};
use crate::sql::rewrite::pg_catalog::{is_lateral_series, is_lateral_unnest, LATERAL_PREFIX};
use crate::types::array::Family;
use crate::types::json::Items;
use crate::types::{PgType, Storage};

/// The CTE that names a LATERAL subquery's columns by position
/// (`subquery_rows`).
const ROWS: &str = "mosaic_lateral_rows";

/// The columns of SQLite's `json_each`, which a lateral `unnest` brings
/// into the FROM list.
const JSON_EACH_COLUMNS: &[&str] = &[
    "key", "value", "type", "atom", "id", "parent", "fullkey", "path",
];

/// A lateral `unnest` of the query being typed: its columns by name, each
/// with the expression that reads it.
pub(super) struct Lateral {
    alias: String,
    cols: Vec<(String, Expr)>,
    /// The index of the scope its query's FROM items make (a reference
    /// names this lateral only where it resolves there).
    depth: usize,
    /// For a LATERAL subquery: how SQLite stores each of its columns,
    /// which says how each travels through `json_each` (`subquery_rows`).
    stored: Option<Vec<Storage>>,
}

impl Typer<'_> {
    /// Enter `q`: the lateral `unnest` calls of its SELECT.
    pub(super) fn enter_laterals(&mut self, q: &mut Query) -> Result<()> {
        let SetExpr::Select(sel) = q.body.as_mut() else {
            return Ok(());
        };
        let rels = self.env.scope_of(&sel.from).unwrap_or_default();
        let names: Vec<(String, Vec<String>)> = rels
            .iter()
            .map(|r| (r.name.clone(), r.cols.iter().map(|c| c.0.clone()).collect()))
            .collect();
        let depth = self.env.scopes.len();
        self.outer_lateral_joins(sel)?;
        self.env.scopes.push(rels);
        let mut frame = vec![];
        let factors = sel
            .from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
        let mut result = Ok(());
        for tf in factors {
            match self.lateral(tf) {
                Ok(Some(l)) => frame.push(Lateral { depth, ..l }),
                Ok(None) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.env.scopes.pop();
        result?;
        if !frame.is_empty() {
            // `*` and `u.*` name each column, so the lateral ones are read
            // (SQLite's `*` would give `json_each`'s own columns).
            let mut items = Vec::with_capacity(sel.projection.len());
            for item in std::mem::take(&mut sel.projection) {
                let only = match &item {
                    SelectItem::Wildcard(_) => None,
                    SelectItem::QualifiedWildcard(name, _)
                        if frame
                            .iter()
                            .any(|l| super::wildcard_relation(name).as_ref() == Some(&l.alias)) =>
                    {
                        super::wildcard_relation(name)
                    }
                    _ => {
                        items.push(item);
                        continue;
                    }
                };
                for (rel, cols) in &names {
                    if only.as_ref().is_some_and(|o| o != rel) {
                        continue;
                    }
                    for c in cols {
                        let col = sqlparser::ast::Ident::with_quote('"', c.clone());
                        let expr = match rel.is_empty() {
                            true => Expr::Identifier(col.clone()),
                            false => Expr::CompoundIdentifier(vec![
                                sqlparser::ast::Ident::with_quote('"', rel.clone()),
                                col.clone(),
                            ]),
                        };
                        items.push(SelectItem::ExprWithAlias { expr, alias: col });
                    }
                }
            }
            sel.projection = items;
        }
        self.laterals.push(frame);
        Ok(())
    }

    /// PostgreSQL's error for a LATERAL subquery on the right of a RIGHT
    /// or FULL JOIN that reads the items before it (the join would have to
    /// produce its rows for no row of theirs); one that reads none is an
    /// ordinary subquery.
    fn outer_lateral_joins(&mut self, sel: &sqlparser::ast::Select) -> Result<()> {
        use sqlparser::ast::JoinOperator as J;
        for j in sel.from.iter().flat_map(|t| &t.joins) {
            let (
                TableFactor::Derived {
                    lateral: true,
                    subquery,
                    ..
                },
                J::Right(_) | J::RightOuter(_) | J::FullOuter(_),
            ) = (&j.relation, &j.join_operator)
            else {
                continue;
            };
            if self.env.query_cols(subquery).is_err() {
                return Err(Error::InvalidColumnReference(
                    "invalid reference to FROM-clause entry in a LATERAL subquery".into(),
                )
                .with_detail(
                    "The combining JOIN type must be INNER or LEFT for a LATERAL reference.",
                ));
            }
        }
        Ok(())
    }

    /// Leave a query [`Typer::enter_laterals`] entered.
    pub(super) fn leave_laterals(&mut self, q: &Query) {
        if matches!(q.body.as_ref(), SetExpr::Select(_)) {
            self.laterals.pop();
        }
    }

    fn lateral(&mut self, tf: &TableFactor) -> Result<Option<Lateral>> {
        if let TableFactor::Derived {
            lateral: true,
            alias,
            ..
        } = tf
        {
            return self.lateral_subquery(alias.as_ref()).map(Some);
        }
        let TableFactor::Table {
            name,
            alias,
            args: Some(args),
            with_ordinality,
            ..
        } = tf
        else {
            return Ok(None);
        };
        let json = super::super::json_function(name);
        let fname = crate::sql::object_name(name);
        let unnest = fname.strip_prefix("pg_catalog.").unwrap_or(&fname) == "unnest";
        // (Before the typed step gives them their families, every argument
        // of `unnest` is an array.)
        let reads_columns = unnest
            && args
                .args
                .iter()
                .any(|a| is_lateral_unnest(std::slice::from_ref(a)));
        let series = fname.strip_prefix("pg_catalog.").unwrap_or(&fname) == "generate_series"
            && is_lateral_series(&args.args);
        if json.is_none() && !reads_columns && !series {
            return Ok(None);
        }
        let default = match (&json, series) {
            (Some(j), _) => j.0.as_str(),
            (None, true) => "generate_series",
            (None, false) => "unnest",
        };
        let alias_name = alias
            .as_ref()
            .map_or_else(|| default.to_string(), |a| super::super::norm(&a.name));
        let row = sqlparser::ast::Ident::with_quote('"', format!("{LATERAL_PREFIX}{alias_name}"));
        let mut reads = vec![];
        match &json {
            Some((_, Items::Each, ..)) => {
                reads.push(format!("json_extract({row}.value, '$.k')"));
                reads.push(format!("json_extract({row}.value, '$.v')"));
            }
            Some(_) => reads.push(format!("json_extract({row}.value, '$.v')")),
            None if series => reads.push(self.series_read(&args.args, &row)?),
            None => {
                if !self.unnest_reads(&args.args, &row, &mut reads)? {
                    return Ok(None);
                }
            }
        }
        if *with_ordinality {
            reads.push(match (&json, reads.len()) {
                (None, _) if series => format!("({row}.value + 1)"),
                (None, n) if n > 1 => format!("{row}.value"),
                _ => format!("({row}.key + 1)"),
            });
        }
        let reads = reads
            .iter()
            .map(|r| crate::sql::parse_expr(r))
            .collect::<Result<Vec<Expr>>>()?;
        // The columns as inference named them (`sql::infer`).
        let Some(rel) = self
            .env
            .scopes
            .last()
            .and_then(|s| s.iter().find(|r| r.name == alias_name))
            .cloned()
        else {
            return Ok(None);
        };
        let mut cols: Vec<(String, Expr)> = rel
            .cols
            .iter()
            .map(|c| c.0.clone())
            .zip(reads.iter().cloned())
            .collect();
        if let Some(first) = reads.first() {
            cols.extend(rel.synonyms.iter().map(|s| (s.0.clone(), first.clone())));
        }
        Ok(Some(Lateral {
            alias: alias_name,
            cols,
            depth: 0,
            stored: None,
        }))
    }

    /// A LATERAL subquery: each of its columns read from its `json_each`
    /// row (`subquery_rows`), a blob back from its hex digits.
    fn lateral_subquery(&mut self, alias: Option<&TableAlias>) -> Result<Lateral> {
        let Some(alias) = alias else {
            return Err(Error::Syntax("subquery in FROM must have an alias".into())
                .with_hint("For example, FROM (SELECT ...) [AS] foo."));
        };
        let alias_name = super::super::norm(&alias.name);
        let rel = self
            .env
            .scopes
            .last()
            .and_then(|s| s.iter().find(|r| r.name == alias_name))
            .cloned()
            .ok_or_else(|| Error::Internal(format!("LATERAL subquery {alias_name} not typed")))?;
        let row = Ident::with_quote('"', format!("{LATERAL_PREFIX}{alias_name}"));
        let stored: Vec<Storage> = rel.cols.iter().map(|c| c.1.storage()).collect();
        let cols = rel
            .cols
            .iter()
            .zip(&stored)
            .enumerate()
            .map(|(i, ((name, _), storage))| {
                let read = format!("json_extract({row}.value, '$[{i}]')");
                let read = match storage {
                    Storage::Blob => format!("unhex({read})"),
                    _ => read,
                };
                Ok((name.clone(), crate::sql::parse_expr(&read)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Lateral {
            alias: alias_name,
            cols,
            depth: 0,
            stored: Some(stored),
        })
    }

    /// Leave a LATERAL subquery typed: it becomes SQLite's `json_each`
    /// over one JSON array of its rows, computed by a scalar subquery
    /// that may read the FROM items before it (SQLite's subqueries in
    /// FROM cannot; its table-valued functions' arguments can). Each row
    /// is an array of its values: a blob as hex digits (JSON holds no
    /// blobs), a real as the 17 significant digits that read back as the
    /// same double.
    pub(super) fn subquery_rows(&mut self, tf: &mut TableFactor) -> Result<()> {
        let TableFactor::Derived {
            lateral: true,
            subquery,
            alias: Some(alias),
            ..
        } = tf
        else {
            return Ok(());
        };
        let alias_name = super::super::norm(&alias.name);
        let Some(stored) = self
            .laterals
            .last()
            .and_then(|f| f.iter().find(|l| l.alias == alias_name))
            .and_then(|l| l.stored.clone())
        else {
            return Err(Error::Internal(format!(
                "LATERAL subquery {alias_name} not entered"
            )));
        };
        // SQLite's LIMIT and OFFSET read no column of an outer query.
        if let Some(sqlparser::ast::LimitClause::LimitOffset { limit, offset, .. }) =
            &subquery.limit_clause
        {
            let counts = limit.iter().chain(offset.iter().map(|o| &o.value));
            if counts.into_iter().any(reads_columns) {
                return Err(Error::Unsupported(
                    "LIMIT or OFFSET reading another FROM item in a LATERAL subquery".into(),
                ));
            }
        }
        let names: Vec<String> = (0..stored.len()).map(|i| format!("c{i}")).collect();
        let values: Vec<String> = stored
            .iter()
            .zip(&names)
            .map(|(s, c)| match s {
                Storage::Blob => format!("CASE WHEN {c} IS NULL THEN NULL ELSE hex({c}) END"),
                Storage::Text | Storage::Integer | Storage::Real => c.clone(),
            })
            .collect();
        let row = Ident::with_quote('"', format!("{LATERAL_PREFIX}{alias_name}"));
        let sql = format!(
            "SELECT 1 FROM json_each(json((WITH {ROWS} ({}) AS (SELECT 1) \
             SELECT json_group_array(json_array({})) FROM {ROWS}))) AS {row}",
            names.join(", "),
            values.join(", "),
        );
        let Some(Statement::Query(mut q)) = crate::sql::parse(&sql)?.pop() else {
            return Err(Error::Internal(
                "a LATERAL subquery's rows did not parse".into(),
            ));
        };
        let mut placed = false;
        let _ = sqlparser::ast::visit_expressions_mut(&mut *q, |e| {
            if let Expr::Subquery(inner) = e {
                if let Some(cte) = inner.with.as_mut().and_then(|w| w.cte_tables.first_mut()) {
                    cte.query = subquery.clone();
                    placed = true;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        let SetExpr::Select(sel) = *q.body else {
            return Err(Error::Internal(
                "a LATERAL subquery's rows did not parse".into(),
            ));
        };
        match (placed, sel.from.into_iter().next()) {
            (true, Some(twj)) => {
                *tf = twj.relation;
                Ok(())
            }
            _ => Err(Error::Internal(
                "a LATERAL subquery's rows did not parse".into(),
            )),
        }
    }

    /// What reads the value of a lateral `generate_series(a, b[, step])`
    /// from its row of positions (`rewrite::pg_catalog`'s
    /// `lateral_series`): `a + step * value`. Of integers only; its start
    /// and step are copied, so a volatile one is refused.
    fn series_read(&mut self, args: &[FunctionArg], row: &sqlparser::ast::Ident) -> Result<String> {
        let series = crate::sql::rewrite::pg_catalog::series_args(args)?;
        if !matches!(
            self.type_of(series.start),
            PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Unknown
        ) {
            return Err(Error::Unsupported(
                "generate_series of other than integers reading another FROM item".into(),
            ));
        }
        if series.volatile() {
            return Err(Error::Unsupported(
                "generate_series with a volatile argument reading another FROM item".into(),
            ));
        }
        let (start, _, step) = series.texts();
        Ok(format!("({start} + {step} * {row}.value)"))
    }

    /// What reads each array of a lateral `unnest` from its `json_each` row.
    fn unnest_reads(
        &mut self,
        args: &[FunctionArg],
        row: &sqlparser::ast::Ident,
        reads: &mut Vec<String>,
    ) -> Result<bool> {
        let mut arrays = vec![];
        for a in args {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a else {
                return Err(Error::Unsupported("named arguments of unnest".into()));
            };
            let ty = self.type_of(x);
            let Some(fam) = (match &ty {
                PgType::Array(elem) => Family::of(elem),
                _ => None,
            }) else {
                // The catalog's arrays (typed text) keep their subquery.
                return Ok(false);
            };
            arrays.push((x.clone(), fam));
        }
        if let [(_, fam)] = arrays.as_slice() {
            reads.push(format!("pg_arr_elem({row}.value, '{}')", fam.name()));
        } else {
            for (x, fam) in &arrays {
                reads.push(format!("pg_array_get({x}, {row}.value, '{}')", fam.name()));
            }
        }
        Ok(true)
    }

    /// A reference to a column of a lateral `unnest`, as what reads it;
    /// true when `e` was one.
    pub(super) fn lateral_column(&mut self, e: &mut Expr) -> bool {
        let (qualifier, name) = match &*e {
            Expr::Identifier(id) => (None, super::super::norm(id)),
            Expr::CompoundIdentifier(ids) if ids.len() == 2 => (
                Some(super::super::norm(&ids[0])),
                super::super::norm(&ids[1]),
            ),
            _ => return false,
        };
        // The innermost relation with that column, as SQL resolves it:
        // inside a LATERAL subquery its own FROM items come first. (A
        // query's ORDER BY is typed in its select's scope, `query`; the
        // visit after it, outside that scope, resolves nothing, and what
        // it still finds was left alone then.)
        let resolved = self
            .env
            .column_depth(qualifier.as_deref(), &name)
            .map(|(depth, rel)| (depth, rel.to_string()));
        let found = self.laterals.iter().rev().flatten().find_map(|l| {
            if resolved
                .as_ref()
                .is_none_or(|(depth, rel)| (*depth, rel.as_str()) != (l.depth, l.alias.as_str()))
            {
                return None;
            }
            l.cols
                .iter()
                .find(|(c, _)| *c == name)
                .map(|(_, x)| x.clone())
        });
        match found {
            Some(x) => {
                *e = Expr::Nested(Box::new(x));
                true
            }
            // `json_each`'s own columns (`id`, `key`, `value`, …) would
            // make a plain column of the same name ambiguous: it is
            // qualified with its relation.
            None if qualifier.is_none()
                && self.laterals.last().is_some_and(|f| !f.is_empty())
                && JSON_EACH_COLUMNS.contains(&name.as_str()) =>
            {
                if let (Some(rel), Expr::Identifier(id)) = (self.env.relation_of(&name), &*e) {
                    if !rel.is_empty() {
                        *e = Expr::CompoundIdentifier(vec![
                            sqlparser::ast::Ident::new(rel),
                            id.clone(),
                        ]);
                    }
                }
                false
            }
            None => false,
        }
    }
}

/// Whether `e` names a column anywhere in it.
fn reads_columns(e: &Expr) -> bool {
    sqlparser::ast::visit_expressions(e, |x| match x {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}
