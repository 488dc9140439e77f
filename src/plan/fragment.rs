//! The fragment/merge split of a single-table query (DESIGN.md, plan).
//!
//! A query over one table that aggregates, that keeps only the first rows
//! of an ordering (top-k), or that is DISTINCT, is split into a *fragment* that runs on
//! each source of the table on its own (the open segment, each shard) and
//! a *merge* that combines the fragments' rows: partial aggregates are
//! finished (`count` → sum of counts, `avg` → sum of sums over sum of
//! counts, …), top-k lists are merged and cut again, distinct rows are
//! made distinct again. Fragments can run in
//! parallel and, later, on the node that holds the shard. Anything else
//! takes the gather path (plan::plan_reads), which the split is tested
//! against.
//!
//! The fragment and the merge are PostgreSQL SQL: the fragment reads the
//! user's table (the executor replaces it by each source), the merge reads
//! `temp._mosaic_partials`, whose columns are `_mosaic_g*` (group keys),
//! `_mosaic_a*` (partial aggregates), `_mosaic_c*` (output columns) and
//! `_mosaic_o*` (sort keys).

use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    Distinct, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident,
    LimitClause, OrderByKind, Query, SelectItem, SetExpr, Statement, TableFactor, VisitMut,
    VisitorMut,
};

use crate::sql::{ident_name, object_name, Catalog};
use crate::types::table::TableDef;

/// A query split into per-source fragments and a merge.
#[derive(Debug, Clone)]
pub struct Split {
    pub table: Arc<TableDef>,
    /// The name the query gives the table (alias or name).
    pub qualifier: String,
    /// The WHERE clause, for pruning.
    pub filter: Option<Expr>,
    /// The fragment: a query over the user's table.
    pub fragment: Statement,
    /// Columns of the partial-results table, in fragment output order.
    pub columns: Vec<String>,
    /// The merge, over `temp._mosaic_partials`.
    pub merge: Statement,
    /// What kind of split this is, for EXPLAIN.
    pub kind: &'static str,
}

const PREFIX: &str = "_mosaic_";

/// Split `stmt` if it has a shape the fragment/merge path handles.
pub fn split(stmt: &Statement, catalog: &dyn Catalog) -> Option<Split> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    if q.with.is_some() || q.fetch.is_some() || !q.locks.is_empty() || has_subquery(q) {
        return None;
    }
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    let [twj] = sel.from.as_slice() else {
        return None;
    };
    if !twj.joins.is_empty()
        || sel.having.is_some() && !matches!(sel.group_by, GroupByExpr::Expressions(..))
    {
        return None;
    }
    let TableFactor::Table {
        name,
        alias,
        args: None,
        ..
    } = &twj.relation
    else {
        return None;
    };
    let table = catalog.table(&object_name(name))?;
    let qualifier = alias
        .as_ref()
        .map(|a| ident_name(&a.name))
        .unwrap_or_else(|| table.name.clone());
    if !sel.named_window.is_empty() || sel.qualify.is_some() || has_window(stmt) {
        return None;
    }
    let groups = match &sel.group_by {
        GroupByExpr::Expressions(g, m) if m.is_empty() => g.clone(),
        _ => return None,
    };
    let aggregated = !groups.is_empty()
        || sel
            .projection
            .iter()
            .any(|i| item_expr(i).is_some_and(has_aggregate));
    let from = format!("{} AS {}", quote_name(&table.name), quote_name(&qualifier));
    let filter = sel.selection.clone();
    let where_sql = filter
        .as_ref()
        .map(|f| format!(" WHERE {f}"))
        .unwrap_or_default();
    let (limit, offset) = limit_offset(q)?;
    let order: Vec<&sqlparser::ast::OrderByExpr> = match &q.order_by {
        None => vec![],
        Some(o) => match &o.kind {
            OrderByKind::Expressions(e) => e.iter().collect(),
            OrderByKind::All(_) => return None,
        },
    };

    if aggregated {
        if sel.distinct.is_some() {
            return None;
        }
        let mut m = MergeRewriter {
            groups: groups.iter().map(|g| g.to_string()).collect(),
            partials: vec![],
            aliases: sel
                .projection
                .iter()
                .filter_map(|i| match i {
                    SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
                    _ => None,
                })
                .collect(),
            bail: false,
            depth: 0,
            skip_at: None,
        };
        let mut items = Vec::new();
        for item in &sel.projection {
            let (mut e, alias) = match item {
                SelectItem::UnnamedExpr(e) => (e.clone(), None),
                SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), Some(alias.clone())),
                _ => return None,
            };
            let _ = e.visit(&mut m);
            items.push(match alias {
                Some(a) => format!("{e} AS {a}"),
                None => e.to_string(),
            });
        }
        let having = sel.having.clone().map(|mut h| {
            let _ = h.visit(&mut m);
            format!(" HAVING {h}")
        });
        let mut orders = Vec::new();
        for o in &order {
            let mut o = (*o).clone();
            let _ = o.expr.visit(&mut m);
            orders.push(o.to_string());
        }
        if m.bail {
            return None;
        }
        let mut columns = Vec::new();
        let mut frag_items = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            columns.push(format!("{PREFIX}g{}", i + 1));
            frag_items.push(format!("{g} AS {PREFIX}g{}", i + 1));
        }
        for (i, p) in m.partials.iter().enumerate() {
            columns.push(format!("{PREFIX}a{}", i + 1));
            frag_items.push(format!("{p} AS {PREFIX}a{}", i + 1));
        }
        let group_sql = if groups.is_empty() {
            String::new()
        } else {
            format!(
                " GROUP BY {}",
                groups
                    .iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let fragment = format!(
            "SELECT {} FROM {from}{where_sql}{group_sql}",
            frag_items.join(", ")
        );
        let merge_group = if groups.is_empty() {
            String::new()
        } else {
            format!(
                " GROUP BY {}",
                (1..=groups.len())
                    .map(|i| format!("{PREFIX}g{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let merge = format!(
            "SELECT {} FROM temp.{PREFIX}partials{merge_group}{}{}{}",
            items.join(", "),
            having.unwrap_or_default(),
            order_sql(&orders),
            limit_sql(&limit, &offset),
        );
        return Some(Split {
            table,
            qualifier,
            filter,
            fragment: parse(&fragment)?,
            columns,
            merge: parse(&merge)?,
            kind: "partial aggregates",
        });
    }

    // DISTINCT: every source keeps its distinct rows; top-k: its first
    // limit + offset rows (both, for DISTINCT … ORDER BY … LIMIT).
    let distinct = match &sel.distinct {
        None | Some(Distinct::All) => false,
        Some(Distinct::Distinct) => true,
        Some(_) => return None,
    };
    if (limit.is_none() && !distinct) || sel.having.is_some() {
        return None;
    }
    let mut outputs: Vec<(Expr, Option<Ident>)> = Vec::new();
    for item in &sel.projection {
        match item {
            SelectItem::UnnamedExpr(e) => outputs.push((e.clone(), None)),
            SelectItem::ExprWithAlias { expr, alias } => {
                outputs.push((expr.clone(), Some(alias.clone())))
            }
            SelectItem::Wildcard(_) => {
                for c in &table.columns {
                    outputs.push((column_ref(&qualifier, &c.name), None));
                }
            }
            SelectItem::QualifiedWildcard(..) => {
                for c in &table.columns {
                    outputs.push((column_ref(&qualifier, &c.name), None));
                }
            }
            _ => return None,
        }
    }
    let mut columns = Vec::new();
    let mut frag_items = Vec::new();
    for (i, (e, _)) in outputs.iter().enumerate() {
        columns.push(format!("{PREFIX}c{}", i + 1));
        frag_items.push(format!("{e} AS {PREFIX}c{}", i + 1));
    }
    let mut frag_order = Vec::new();
    let mut merge_order = Vec::new();
    for (j, o) in order.iter().enumerate() {
        // A sort key may name an output column by position or alias.
        let key = match &o.expr {
            Expr::Value(v) => match &v.value {
                sqlparser::ast::Value::Number(n, _) => {
                    let k: usize = n.parse().ok()?;
                    outputs.get(k.checked_sub(1)?)?.0.clone()
                }
                _ => o.expr.clone(),
            },
            Expr::Identifier(id) => outputs
                .iter()
                .find(|(_, a)| a.as_ref().is_some_and(|a| ident_name(a) == ident_name(id)))
                .map(|(e, _)| e.clone())
                .unwrap_or_else(|| o.expr.clone()),
            other => other.clone(),
        };
        // With DISTINCT a sort key is an output column (PostgreSQL
        // insists), so the merge sorts by that column.
        let merge_key = if distinct {
            let i = outputs
                .iter()
                .position(|(e, _)| e.to_string() == key.to_string())?;
            format!("{PREFIX}c{}", i + 1)
        } else {
            columns.push(format!("{PREFIX}o{}", j + 1));
            frag_items.push(format!("{key} AS {PREFIX}o{}", j + 1));
            format!("{PREFIX}o{}", j + 1)
        };
        let mut fo = (*o).clone();
        fo.expr = key;
        frag_order.push(fo.to_string());
        let mut mo = (*o).clone();
        mo.expr = Expr::Identifier(Ident::new(merge_key));
        merge_order.push(mo.to_string());
    }
    let keep = match (&limit, &offset) {
        (Some(l), Some(o)) => format!(" LIMIT ({l}) + ({o})"),
        (Some(l), None) => format!(" LIMIT {l}"),
        (None, _) => String::new(),
    };
    let select = if distinct {
        "SELECT DISTINCT"
    } else {
        "SELECT"
    };
    let fragment = format!(
        "{select} {} FROM {from}{where_sql}{}{keep}",
        frag_items.join(", "),
        order_sql(&frag_order)
    );
    let merge = format!(
        "{select} {} FROM temp.{PREFIX}partials{}{}",
        (1..=outputs.len())
            .map(|i| format!("{PREFIX}c{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        order_sql(&merge_order),
        limit_sql(&limit, &offset),
    );
    Some(Split {
        table,
        qualifier,
        filter,
        fragment: parse(&fragment)?,
        columns,
        merge: parse(&merge)?,
        kind: if distinct { "distinct" } else { "top-k" },
    })
}

fn parse(sql: &str) -> Option<Statement> {
    crate::sql::parse(sql).ok()?.pop()
}

fn quote_name(n: &str) -> String {
    format!("\"{}\"", n.replace('"', "\"\""))
}

fn column_ref(qualifier: &str, name: &str) -> Expr {
    Expr::CompoundIdentifier(vec![
        Ident::with_quote('"', qualifier),
        Ident::with_quote('"', name),
    ])
}

fn order_sql(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", items.join(", "))
    }
}

fn limit_sql(limit: &Option<Expr>, offset: &Option<Expr>) -> String {
    let mut s = String::new();
    if let Some(l) = limit {
        s.push_str(&format!(" LIMIT {l}"));
    }
    if let Some(o) = offset {
        s.push_str(&format!(" OFFSET {o}"));
    }
    s
}

/// LIMIT and OFFSET expressions; `None` for shapes not handled.
#[allow(clippy::type_complexity)]
fn limit_offset(q: &Query) -> Option<(Option<Expr>, Option<Expr>)> {
    Some(match &q.limit_clause {
        None => (None, None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) if limit_by.is_empty() => (limit.clone(), offset.as_ref().map(|o| o.value.clone())),
        Some(_) => return None,
    })
}

fn item_expr(i: &SelectItem) -> Option<&Expr> {
    match i {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
        _ => None,
    }
}

fn has_aggregate(e: &Expr) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if let Expr::Function(f) = x {
            if f.over.is_none() && aggregate_name(&object_name(&f.name)) {
                found = true;
            }
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

fn aggregate_name(n: &str) -> bool {
    matches!(
        n,
        "count"
            | "sum"
            | "avg"
            | "min"
            | "max"
            | "string_agg"
            | "array_agg"
            | "bool_and"
            | "bool_or"
            | "every"
            | "json_agg"
            | "jsonb_agg"
            | "stddev"
            | "variance"
    )
}

fn has_subquery(q: &Query) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(q, |x| {
        if matches!(
            x,
            Expr::Subquery(_)
                | Expr::Exists { .. }
                | Expr::In {
                    target: sqlparser::ast::InTarget::Subquery(_),
                    ..
                }
        ) {
            found = true;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

fn has_window(stmt: &Statement) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(stmt, |x| {
        if matches!(x, Expr::Function(f) if f.over.is_some()) {
            found = true;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// Rewrites an output expression of an aggregate query into its merge
/// form, collecting the partial aggregates the fragment must compute.
struct MergeRewriter {
    groups: Vec<String>,
    partials: Vec<String>,
    aliases: Vec<String>,
    bail: bool,
    /// Depth of the expression being visited, and the depth of a node just
    /// replaced, whose new children (our own merge SQL) are not rewritten.
    depth: usize,
    skip_at: Option<usize>,
}

impl MergeRewriter {
    fn partial(&mut self, sql: String) -> String {
        let i = match self.partials.iter().position(|p| *p == sql) {
            Some(i) => i,
            None => {
                self.partials.push(sql);
                self.partials.len() - 1
            }
        };
        format!("{PREFIX}a{}", i + 1)
    }

    /// The merge expression for one aggregate call, or `None` to give up.
    fn aggregate(&mut self, f: &sqlparser::ast::Function) -> Option<String> {
        let name = object_name(&f.name);
        let FunctionArguments::List(list) = &f.args else {
            return None;
        };
        if list.duplicate_treatment.is_some()
            || !list.clauses.is_empty()
            || f.filter.is_some()
            || !f.within_group.is_empty()
        {
            return None;
        }
        let arg = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "count" => "*".to_string(),
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => e.to_string(),
            _ => return None,
        };
        Some(match name.as_str() {
            "count" => format!(
                "coalesce(sum({}), 0)",
                self.partial(format!("count({arg})"))
            ),
            "sum" => format!("sum({})", self.partial(format!("sum({arg})"))),
            "min" => format!("min({})", self.partial(format!("min({arg})"))),
            "max" => format!("max({})", self.partial(format!("max({arg})"))),
            "avg" => {
                let s = self.partial(format!("sum({arg})"));
                let c = self.partial(format!("count({arg})"));
                format!("pg_avg_final(sum({s}), sum({c}))")
            }
            _ => return None,
        })
    }
}

impl VisitorMut for MergeRewriter {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        self.depth += 1;
        if self.skip_at.is_some() {
            return ControlFlow::Continue(());
        }
        if let Some(i) = self.groups.iter().position(|g| *g == e.to_string()) {
            *e = Expr::Identifier(Ident::new(format!("{PREFIX}g{}", i + 1)));
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Function(f) if f.over.is_none() && aggregate_name(&object_name(&f.name)) => {
                match self
                    .aggregate(f)
                    .and_then(|m| crate::sql::parse_expr(&m).ok())
                {
                    Some(m) => {
                        *e = m;
                        self.skip_at = Some(self.depth);
                    }
                    None => self.bail = true,
                }
            }
            Expr::Identifier(id) if id.value.starts_with(PREFIX) => {}
            Expr::Identifier(id) if self.aliases.contains(&ident_name(id)) => {}
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => self.bail = true,
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _: &mut Expr) -> ControlFlow<()> {
        if self.skip_at == Some(self.depth) {
            self.skip_at = None;
        }
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}
