//! Checks PostgreSQL makes that SQLite does not, run on the parsed
//! statement before it is translated.
//!
//! Grouping: with GROUP BY or aggregates, every column a SELECT list or
//! HAVING uses outside an aggregate must be grouped (or belong to a table
//! whose whole primary key is grouped); SQLite would quietly pick a value
//! from an arbitrary row.

mod functions;
mod identity;
pub use functions::{calls_session_bound, ADVISORY};
pub use identity::override_user_values;

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Function, GroupByExpr, Query, Select, SelectItem, Statement, TableFactor, Visit, Visitor,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name, Schema};

/// Aggregates as a statement names them before translation: PostgreSQL's,
/// and those the typed step writes (in the fragments peers run too). The
/// planner splits or gathers what this names; SQLite's own names after
/// translation are `sql::rewrite`'s list.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "string_agg",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "group_concat",
    // The typed step's own.
    "pg_grouping_null",
    "pg_int8_sum",
    "pg_numeric_sum",
    "pg_numeric_avg",
    "pg_numeric_min",
    "pg_numeric_max",
    "pg_interval_sum",
    "pg_interval_avg",
    "pg_vector_sum",
    "pg_vector_avg",
    "pg_json_agg",
    "pg_json_agg_rows",
    "pg_jsonb_agg",
    "pg_json_object_agg",
    "pg_jsonb_object_agg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "pg_percentile_cont",
    "pg_percentile_disc",
    "pg_percentile_cont_multi",
    "pg_percentile_disc_multi",
    "pg_mode",
];

/// The statistics aggregates (over double precision, `store::udf::stats`).
pub const STATISTICS: &[&str] = &[
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
];

/// The binary statistics (over double precision, Y first;
/// `store::udf::ordered`).
pub const BINARY_STATISTICS: &[&str] = &[
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_avgx",
    "regr_avgy",
    "regr_count",
    "regr_intercept",
    "regr_r2",
    "regr_slope",
    "regr_sxx",
    "regr_sxy",
    "regr_syy",
];

/// Whether `name` (unqualified, lower case) is an aggregate function.
pub fn is_aggregate_name(name: &str) -> bool {
    AGGREGATES.contains(&name) || STATISTICS.contains(&name) || BINARY_STATISTICS.contains(&name)
}

fn is_aggregate(f: &Function) -> bool {
    f.over.is_none() && is_aggregate_name(&object_name(&f.name))
}

/// Validate every SELECT of `stmt`.
pub fn check(stmt: &Statement, catalog: &dyn Schema) -> Result<()> {
    struct V<'a> {
        catalog: &'a dyn Schema,
    }
    impl Visitor for V<'_> {
        type Break = Error;
        fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<Error> {
            match check_grouping(s, self.catalog) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => ControlFlow::Break(e),
            }
        }
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<Error> {
            match check_positions(q)
                .and_then(|()| check_values(q))
                .and_then(|()| check_order_names(q))
            {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => ControlFlow::Break(e),
            }
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<Error> {
            match e {
                Expr::Function(f) => match functions::check(f) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => ControlFlow::Break(e),
                },
                _ => ControlFlow::Continue(()),
            }
        }
    }
    identity::check(stmt, catalog)?;
    match stmt.visit(&mut V { catalog }) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Every row of a VALUES list has the same number of values (PostgreSQL's
/// 42601, where SQLite would fail in its own words).
fn check_values(q: &Query) -> Result<()> {
    let sqlparser::ast::SetExpr::Values(v) = q.body.as_ref() else {
        return Ok(());
    };
    let mut widths = v.rows.iter().map(|r| r.len());
    let first = widths.next();
    match widths.all(|w| Some(w) == first) {
        true => Ok(()),
        false => Err(Error::Syntax(
            "VALUES lists must all be the same length".into(),
        )),
    }
}

/// `ORDER BY n` and `GROUP BY n` name a column of the select list (42P10
/// otherwise, where SQLite would say it in its own words). A list with a
/// `*` is left to SQLite, which knows its width.
/// An ORDER BY key that is a bare name names an output column; when two
/// output columns of different expressions carry that name it is
/// PostgreSQL's 42702 (`SELECT x, x::text AS x … ORDER BY x`).
fn check_order_names(q: &Query) -> Result<()> {
    use sqlparser::ast::{OrderByKind, SetExpr};
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Ok(());
    };
    let Some(OrderByKind::Expressions(list)) = q.order_by.as_ref().map(|o| &o.kind) else {
        return Ok(());
    };
    // The name an output column gets when it is plain enough to know here.
    let named = |item: &SelectItem| -> Option<(String, String)> {
        let (name, e) = match item {
            SelectItem::ExprWithAlias { expr, alias } => (crate::sql::ident_name(alias), expr),
            SelectItem::UnnamedExpr(e) => {
                let mut inner = e;
                while let Expr::Cast { expr, .. } | Expr::Nested(expr) = inner {
                    inner = expr;
                }
                let name = match inner {
                    Expr::Identifier(i) => crate::sql::ident_name(i),
                    Expr::CompoundIdentifier(ids) => crate::sql::ident_name(ids.last()?),
                    _ => return None,
                };
                (name, e)
            }
            _ => return None,
        };
        Some((name, e.to_string()))
    };
    let outputs: Vec<(String, String)> = s.projection.iter().filter_map(named).collect();
    for key in list {
        let Expr::Identifier(id) = &key.expr else {
            continue;
        };
        let wanted = crate::sql::ident_name(id);
        let mut matching = outputs.iter().filter(|(n, _)| *n == wanted).map(|(_, e)| e);
        if let Some(first) = matching.next() {
            if matching.any(|e| e != first) {
                return Err(Error::Ambiguous(format!(
                    "ORDER BY \"{wanted}\" is ambiguous"
                )));
            }
        }
    }
    Ok(())
}

fn check_positions(q: &Query) -> Result<()> {
    use sqlparser::ast::{GroupByExpr, OrderByKind, SetExpr, Value};
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Ok(());
    };
    // A constant other than an integer names no column (42601).
    // (clause, key) for every ORDER BY and GROUP BY key.
    let mut keys: Vec<(&str, &Expr)> = Vec::new();
    if let Some(OrderByKind::Expressions(list)) = q.order_by.as_ref().map(|o| &o.kind) {
        keys.extend(list.iter().map(|o| ("ORDER BY", &o.expr)));
    }
    if let GroupByExpr::Expressions(list, _) = &s.group_by {
        keys.extend(list.iter().map(|e| ("GROUP BY", e)));
    }
    // A list with a `*` has a width only SQLite knows.
    let width = s
        .projection
        .iter()
        .all(|i| {
            matches!(
                i,
                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
            )
        })
        .then_some(s.projection.len() as i64);
    for (clause, e) in keys {
        let Expr::Value(v) = e else { continue };
        let position = match &v.value {
            Value::Number(n, _) => n.parse::<i64>().ok(),
            Value::Boolean(_) | Value::Placeholder(_) => continue,
            _ => None,
        };
        match (position, width) {
            (None, _) => return Err(Error::Syntax(format!("non-integer constant in {clause}"))),
            (Some(k), Some(w)) if k < 1 || k > w => {
                return Err(Error::InvalidColumnReference(format!(
                    "{clause} position {k} is not in select list"
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Column references of `e` outside aggregate calls and subqueries.
fn loose_columns(e: &Expr) -> Vec<Expr> {
    struct Loose {
        aggregates: usize,
        queries: usize,
        out: Vec<Expr>,
    }
    impl Visitor for Loose {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.queries += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.queries -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Function(f) if is_aggregate(f) => self.aggregates += 1,
                Expr::Identifier(_) | Expr::CompoundIdentifier(_)
                    if self.aggregates == 0 && self.queries == 0 =>
                {
                    self.out.push(e.clone())
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
        fn post_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if matches!(e, Expr::Function(f) if is_aggregate(f)) {
                self.aggregates -= 1;
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Loose {
        aggregates: 0,
        queries: 0,
        out: vec![],
    };
    let _ = e.visit(&mut v);
    v.out
}

/// Whether `e` calls an aggregate of its own query level (one inside a
/// subquery is the subquery's).
pub(crate) fn has_aggregate(e: &Expr) -> bool {
    /// Counts the queries it is inside: an aggregate found at depth 0 is
    /// `e`'s own. The walk goes on past a subquery, to what follows it.
    struct Own {
        queries: usize,
    }
    impl Visitor for Own {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.queries += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.queries -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Function(f) if self.queries == 0 && is_aggregate(f) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        }
    }
    e.visit(&mut Own { queries: 0 }).is_break()
}

/// A SELECT's outputs that are expressions (not `*`).
fn outputs(s: &Select) -> impl Iterator<Item = &Expr> {
    s.projection.iter().filter_map(|i| match i {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    })
}

/// Whether `s` is grouped by its HAVING alone: no GROUP BY and no
/// aggregate in its outputs or its HAVING, which PostgreSQL answers as one
/// group of all its rows (`sql::rewrite` makes SQLite do the same).
pub(crate) fn grouped_by_having_alone(s: &Select) -> bool {
    let ungrouped =
        matches!(&s.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    ungrouped
        && s.having.as_ref().is_some_and(|h| !has_aggregate(h))
        && !outputs(s).any(has_aggregate)
}

fn check_grouping(s: &Select, catalog: &dyn Schema) -> Result<()> {
    if s.selection.as_ref().is_some_and(has_aggregate) {
        return Err(Error::Grouping(
            "aggregate functions are not allowed in WHERE".into(),
        ));
    }
    let group: Vec<&Expr> = match &s.group_by {
        GroupByExpr::Expressions(e, m) if m.is_empty() => e.iter().collect(),
        GroupByExpr::Expressions(..) | GroupByExpr::All(_) => return Ok(()),
    };
    let items: Vec<&Expr> = outputs(s).collect();
    // A HAVING groups its query even without an aggregate (one group).
    let aggregated = items.iter().any(|e| has_aggregate(e)) || s.having.is_some();
    if group.is_empty() && !aggregated {
        return Ok(());
    }
    if !checkable_group(&group, &s.projection) {
        return Ok(());
    }
    let Some(tables) = from_tables(s, catalog) else {
        // Not checked here. A query grouped by its HAVING alone that reads
        // columns of such a FROM would need it: SQLite would answer with a
        // column PostgreSQL refuses.
        let loose = || {
            (items.iter().copied().chain(s.having.as_ref())).any(|e| !loose_columns(e).is_empty())
        };
        return match grouped_by_having_alone(s) && loose() {
            true => Err(Error::Unsupported(
                "HAVING without GROUP BY or an aggregate, reading columns of this FROM".into(),
            )),
            false => Ok(()),
        };
    };
    let grouping = Grouping {
        text: group.iter().map(|g| g.to_string()).collect(),
        group,
        tables,
    };
    let mut exprs: Vec<&Expr> = items;
    if let Some(h) = &s.having {
        exprs.push(h);
    }
    for e in exprs {
        if grouping.grouped(e) {
            continue;
        }
        for c in loose_columns(e) {
            if !grouping.grouped(&c) {
                return Err(grouping.ungrouped(&c));
            }
        }
    }
    Ok(())
}

/// Whether this check understands every GROUP BY item.
fn checkable_group(group: &[&Expr], projection: &[SelectItem]) -> bool {
    // Positional or alias GROUP BY items: too clever for this check.
    if group.iter().any(|g| {
        !matches!(
            g,
            Expr::Identifier(_)
                | Expr::CompoundIdentifier(_)
                | Expr::Function(_)
                | Expr::BinaryOp { .. }
                | Expr::Nested(_)
        )
    }) {
        return false;
    }
    let aliases: Vec<String> = projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
            _ => None,
        })
        .collect();
    !group
        .iter()
        .any(|g| matches!(g, Expr::Identifier(i) if aliases.contains(&ident_name(i))))
}

/// A FROM item as the grouping check sees it: the name a query calls it
/// by, its columns, and the columns of its primary key (grouping by them
/// groups every column).
struct FromItem {
    qualifier: String,
    columns: Vec<String>,
    key: Vec<String>,
}

/// The items in FROM: catalog tables, and derived tables whose column
/// names are known (a column list after the alias, or a subquery whose
/// outputs are named or bare columns); `None` when one is anything else.
fn from_tables(s: &Select, catalog: &dyn Schema) -> Option<Vec<FromItem>> {
    let mut tables = Vec::new();
    for twj in &s.from {
        for f in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            tables.push(from_item(f, catalog)?);
        }
    }
    Some(tables)
}

fn from_item(f: &TableFactor, catalog: &dyn Schema) -> Option<FromItem> {
    match f {
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => {
            let def = catalog.table(&object_name(name))?;
            let columns: Vec<String> = def.columns.iter().map(|c| c.name.clone()).collect();
            Some(FromItem {
                qualifier: alias
                    .as_ref()
                    .map(|a| ident_name(&a.name))
                    .unwrap_or_else(|| def.name.clone()),
                key: def
                    .primary_key
                    .iter()
                    .map(|&k| columns[k].clone())
                    .collect(),
                columns,
            })
        }
        TableFactor::Derived {
            subquery,
            alias: Some(alias),
            ..
        } => {
            let columns = match alias.columns.as_slice() {
                [] => output_names(subquery)?,
                named => named.iter().map(|c| ident_name(&c.name)).collect(),
            };
            Some(FromItem {
                qualifier: ident_name(&alias.name),
                columns,
                key: vec![],
            })
        }
        _ => None,
    }
}

/// The names of a query's outputs, when each is named or a bare column.
fn output_names(q: &sqlparser::ast::Query) -> Option<Vec<String>> {
    let sqlparser::ast::SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    sel.projection
        .iter()
        .map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
            SelectItem::UnnamedExpr(e) => col_of(e).map(|(_, c)| c),
            _ => None,
        })
        .collect()
}

/// The qualifier (if any) and name of a column reference.
fn col_of(e: &Expr) -> Option<(Option<String>, String)> {
    match e {
        Expr::Identifier(i) => Some((None, ident_name(i))),
        Expr::CompoundIdentifier(p) => match p.as_slice() {
            [.., q, c] => Some((Some(ident_name(q)), ident_name(c))),
            _ => None,
        },
        _ => None,
    }
}

/// A SELECT's GROUP BY items and the FROM tables their columns belong to.
struct Grouping<'a> {
    group: Vec<&'a Expr>,
    /// The items as SQL text, to recognise a grouped expression.
    text: Vec<String>,
    tables: Vec<FromItem>,
}

impl Grouping<'_> {
    /// The FROM item a possibly qualified column belongs to.
    fn table_of(&self, q: &Option<String>, c: &str) -> Option<&FromItem> {
        self.tables.iter().find(|t| match q {
            Some(q) => t.qualifier == *q,
            None => t.columns.iter().any(|n| n == c),
        })
    }

    /// Whether GROUP BY names column `c` of the FROM item called `tq`.
    fn groups_column(&self, tq: &str, c: &str) -> bool {
        self.group.iter().any(|g| match col_of(g) {
            Some((gq, gc)) => {
                gc == c && self.table_of(&gq, &gc).map(|t| t.qualifier.as_str()) == Some(tq)
            }
            None => false,
        })
    }

    /// Whether `e` has a single value in each group.
    fn grouped(&self, e: &Expr) -> bool {
        if self.text.contains(&e.to_string()) {
            return true;
        }
        let Some((q, c)) = col_of(e) else {
            return false;
        };
        let Some(t) = self.table_of(&q, &c) else {
            return true;
        };
        if self.groups_column(&t.qualifier, &c) {
            return true;
        }
        // Grouping by the whole primary key groups every column of the table.
        !t.key.is_empty() && t.key.iter().all(|k| self.groups_column(&t.qualifier, k))
    }

    /// The error for column `c`, used outside an aggregate but not grouped.
    fn ungrouped(&self, c: &Expr) -> Error {
        let (q, name) = col_of(c).unwrap_or((None, c.to_string()));
        let shown = match q.or_else(|| self.table_of(&None, &name).map(|t| t.qualifier.clone())) {
            Some(t) => format!("{t}.{name}"),
            None => name,
        };
        Error::Grouping(format!(
            "column \"{shown}\" must appear in the GROUP BY clause or be used in an aggregate function"
        ))
    }
}
