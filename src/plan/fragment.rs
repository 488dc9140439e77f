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
    LimitClause, OrderByExpr, OrderByKind, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, VisitMut, VisitorMut,
};

use crate::sql::{ident_name, object_name, Schema};
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
    /// A top-k by distance to a constant that shards can answer through
    /// their vec0 index or R*Tree (`plan::nearest`).
    pub nearest: Option<crate::plan::nearest::Nearest>,
}

impl Split {
    /// The position among the fragment's columns of the first sort key,
    /// if it is one of them.
    pub fn first_sort_key(&self) -> Option<usize> {
        let name = format!("{PREFIX}o1");
        self.columns.iter().position(|c| *c == name)
    }
}

const PREFIX: &str = "_mosaic_";

/// An output of the query with its alias, as the merge must reproduce it.
type Output = (Expr, Option<Ident>);

/// Split `stmt` if it has a shape the fragment/merge path handles.
pub fn split(stmt: &Statement, catalog: &dyn Schema) -> Option<Split> {
    let shape = Shape::of(stmt, catalog)?;
    // Fragments run on other connections, which act for no session.
    if crate::sql::validate::calls_session_bound(stmt) {
        return None;
    }
    if shape.aggregated {
        aggregate_split(shape)
    } else {
        row_split(shape)
    }
}

/// The parts of a single-table query that both kinds of split are built from.
struct Shape<'a> {
    sel: &'a Select,
    table: Arc<TableDef>,
    qualifier: String,
    groups: Vec<Expr>,
    aggregated: bool,
    filter: Option<Expr>,
    limit: Option<Expr>,
    offset: Option<Expr>,
    order: Vec<&'a OrderByExpr>,
}

impl<'a> Shape<'a> {
    /// The shape of `stmt`, or `None` when it is not a query the split handles.
    fn of(stmt: &'a Statement, catalog: &dyn Schema) -> Option<Self> {
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
        if !sel.named_window.is_empty()
            || sel.qualify.is_some()
            || has_window(stmt)
            || has_set_returning_call(sel)
        {
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
                .any(|i| item_expr(i).is_some_and(crate::sql::validate::has_aggregate));
        let (limit, offset) = limit_offset(q)?;
        let order = match &q.order_by {
            None => vec![],
            Some(o) => match &o.kind {
                OrderByKind::Expressions(e) => e.iter().collect(),
                OrderByKind::All(_) => return None,
            },
        };
        Some(Shape {
            sel,
            table,
            qualifier,
            groups,
            aggregated,
            filter: sel.selection.clone(),
            limit,
            offset,
            order,
        })
    }

    /// The fragment's FROM and WHERE: the user's table, which the executor
    /// replaces by each source.
    fn source_sql(&self) -> String {
        let where_sql = self
            .filter
            .as_ref()
            .map(|f| format!(" WHERE {f}"))
            .unwrap_or_default();
        format!(
            " FROM {} AS {}{where_sql}",
            quote_name(&self.table.name),
            quote_name(&self.qualifier)
        )
    }

    /// The finished split; `None` if the SQL built for it does not parse.
    fn finish(
        self,
        fragment: &str,
        columns: Vec<String>,
        merge: &str,
        kind: &'static str,
    ) -> Option<Split> {
        Some(Split {
            table: self.table,
            qualifier: self.qualifier,
            filter: self.filter,
            fragment: parse(fragment)?,
            columns,
            merge: parse(merge)?,
            kind,
            nearest: None,
        })
    }
}

/// The fragment's output list and the partial-results columns it fills.
#[derive(Default)]
struct FragmentOutputs {
    columns: Vec<String>,
    items: Vec<String>,
}

impl FragmentOutputs {
    /// Output `expr` as the partial-results column `_mosaic_{kind}{n}`, returning its name.
    fn push(&mut self, expr: impl std::fmt::Display, kind: char, n: usize) -> String {
        let column = format!("{PREFIX}{kind}{n}");
        self.items.push(format!("{expr} AS {column}"));
        self.columns.push(column.clone());
        column
    }
}

/// The partial-aggregates split: each source groups its own rows, the merge
/// groups the groups again and finishes the aggregates.
fn aggregate_split(s: Shape) -> Option<Split> {
    if s.sel.distinct.is_some() {
        return None;
    }
    let mut m = MergeRewriter::new(&s.groups, &s.sel.projection);
    let (items, having, orders) = merge_clauses(&s, &mut m)?;
    if m.bail {
        return None;
    }
    let mut out = FragmentOutputs::default();
    for (i, g) in s.groups.iter().enumerate() {
        out.push(g, 'g', i + 1);
    }
    for (i, p) in m.partials.iter().enumerate() {
        out.push(p, 'a', i + 1);
    }
    let fragment = format!(
        "SELECT {}{}{}",
        out.items.join(", "),
        s.source_sql(),
        group_by_sql(s.groups.iter().map(|g| g.to_string()).collect()),
    );
    let merge = format!(
        "SELECT {} FROM temp.{PREFIX}partials{}{having}{}{}",
        items.join(", "),
        group_by_sql(
            s.groups
                .iter()
                .enumerate()
                .map(|(i, g)| collated(format!("{PREFIX}g{}", i + 1), g))
                .collect()
        ),
        order_sql(&orders),
        limit_sql(&s.limit, &s.offset),
    );
    s.finish(&fragment, out.columns, &merge, "partial aggregates")
}

/// The merge's output list, HAVING and ORDER BY: the query's own, rewritten
/// over the partial results by `m` (which collects the partials to compute).
fn merge_clauses(s: &Shape, m: &mut MergeRewriter) -> Option<(Vec<String>, String, Vec<String>)> {
    let mut items = Vec::new();
    for item in &s.sel.projection {
        let (mut e, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e.clone(), None),
            SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), Some(alias.clone())),
            _ => return None,
        };
        let _ = e.visit(m);
        items.push(match alias {
            Some(a) => format!("{e} AS {a}"),
            None => e.to_string(),
        });
    }
    let having = s.sel.having.clone().map(|mut h| {
        let _ = h.visit(m);
        format!(" HAVING {h}")
    });
    let mut orders = Vec::new();
    for o in &s.order {
        let mut o = (*o).clone();
        let _ = o.expr.visit(m);
        orders.push(o.to_string());
    }
    Some((items, having.unwrap_or_default(), orders))
}

/// The DISTINCT and top-k split: each source sends its distinct rows or its
/// first rows, the merge makes them distinct or cuts them again.
fn row_split(s: Shape) -> Option<Split> {
    // DISTINCT: every source keeps its distinct rows; top-k: its first
    // limit + offset rows (both, for DISTINCT … ORDER BY … LIMIT).
    let distinct = match &s.sel.distinct {
        None | Some(Distinct::All) => false,
        Some(Distinct::Distinct) => true,
        Some(_) => return None,
    };
    if (s.limit.is_none() && !distinct) || s.sel.having.is_some() {
        return None;
    }
    let outputs = row_outputs(&s)?;
    let mut out = FragmentOutputs::default();
    for (i, (e, _)) in outputs.iter().enumerate() {
        out.push(e, 'c', i + 1);
    }
    let (mut frag_order, mut merge_order) = row_order(&s.order, &outputs, distinct, &mut out)?;
    if !distinct && !frag_order.is_empty() {
        // Rows tied on every sort key are ordered by their values, so
        // the first k are the same rows on every node, whichever source
        // answered first (PostgreSQL leaves the order of ties open).
        for (i, (e, _)) in outputs.iter().enumerate() {
            frag_order.push(format!("{PREFIX}c{}", i + 1));
            merge_order.push(collated(format!("{PREFIX}c{}", i + 1), e));
        }
    }
    let keep = match (&s.limit, &s.offset) {
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
        "{select} {}{}{}{keep}",
        out.items.join(", "),
        s.source_sql(),
        order_sql(&frag_order)
    );
    let merge = format!(
        "{select} {} FROM temp.{PREFIX}partials{}{}",
        outputs
            .iter()
            .enumerate()
            .map(|(i, (e, _))| collated(format!("{PREFIX}c{}", i + 1), e))
            .collect::<Vec<_>>()
            .join(", "),
        order_sql(&merge_order),
        limit_sql(&s.limit, &s.offset),
    );
    let kind = if distinct { "distinct" } else { "top-k" };
    let nearest = match (&s.limit, s.order.first(), distinct) {
        (Some(limit), Some(first), false) => sort_key(first, &outputs).and_then(|key| {
            crate::plan::nearest::Nearest::of(first, &key, limit, s.offset.as_ref())
        }),
        _ => None,
    };
    let mut split = s.finish(&fragment, out.columns, &merge, kind)?;
    split.nearest = nearest;
    Some(split)
}

/// The query's outputs, with wildcards spelled out as the table's columns.
fn row_outputs(s: &Shape) -> Option<Vec<Output>> {
    let mut outputs = Vec::new();
    for item in &s.sel.projection {
        match item {
            SelectItem::UnnamedExpr(e) => outputs.push((e.clone(), None)),
            SelectItem::ExprWithAlias { expr, alias } => {
                outputs.push((expr.clone(), Some(alias.clone())))
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                for c in &s.table.columns {
                    outputs.push((column_ref(&s.qualifier, &c.name), None));
                }
            }
            _ => return None,
        }
    }
    Some(outputs)
}

/// The ORDER BY items of the fragment and of the merge, adding to `out` the
/// sort keys the merge needs and the outputs do not carry.
fn row_order(
    order: &[&OrderByExpr],
    outputs: &[Output],
    distinct: bool,
    out: &mut FragmentOutputs,
) -> Option<(Vec<String>, Vec<String>)> {
    let mut frag_order = Vec::new();
    let mut merge_order = Vec::new();
    for (j, o) in order.iter().enumerate() {
        let key = sort_key(o, outputs)?;
        if let Expr::Value(v) = uncollated(&key).0 {
            if !matches!(v.value, sqlparser::ast::Value::Placeholder(_)) {
                // A position naming a constant orders nothing, and written
                // out it would read as a position or an invalid key.
                continue;
            }
        }
        let coll = uncollated(&key).1.cloned();
        // With DISTINCT a sort key is an output column (PostgreSQL
        // insists), so the merge sorts by that column.
        let merge_key = if distinct {
            let i = outputs
                .iter()
                .position(|(e, _)| e.to_string() == key.to_string())?;
            format!("{PREFIX}c{}", i + 1)
        } else {
            out.push(&key, 'o', j + 1)
        };
        let mut fo = (*o).clone();
        fo.expr = key;
        frag_order.push(fo.to_string());
        let mut mo = (*o).clone();
        mo.expr = Expr::Identifier(Ident::new(merge_key));
        let mut merged = mo.to_string();
        if let Some(c) = coll {
            // The partial-results column has no collation of its own.
            merged = merged.replacen(&mo.expr.to_string(), &format!("{} COLLATE {c}", mo.expr), 1);
        }
        merge_order.push(merged);
    }
    Some((frag_order, merge_order))
}

/// The expression a sort key stands for; `None` for a position out of range.
fn sort_key(o: &OrderByExpr, outputs: &[Output]) -> Option<Expr> {
    if let (inner, Some(c)) = uncollated(&o.expr) {
        // A numeric key the typed step collated: resolve what it names.
        let mut bare = o.clone();
        bare.expr = inner.clone();
        let key = sort_key(&bare, outputs)?;
        return Some(match key {
            k @ Expr::Collate { .. } => k,
            k => Expr::Collate {
                expr: Box::new(k),
                collation: c.clone(),
            },
        });
    }
    // A sort key may name an output column by position or alias.
    Some(match &o.expr {
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
    })
}

/// An expression without its COLLATE, and the collation (the typed step
/// puts one on numeric keys).
fn uncollated(e: &Expr) -> (&Expr, Option<&sqlparser::ast::ObjectName>) {
    match e {
        Expr::Collate { expr, collation } => (expr, Some(collation)),
        other => (other, None),
    }
}

/// A partial-results column read with the collation of the key `e` it
/// holds: the temp table's columns have none.
fn collated(column: String, e: &Expr) -> String {
    match uncollated(e) {
        (_, Some(c)) => format!("{column} COLLATE {c}"),
        (_, None) => column,
    }
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

/// A GROUP BY clause over `keys`, or nothing when there are none.
fn group_by_sql(keys: Vec<String>) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", keys.join(", "))
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

/// Whether a select list calls a set-returning function (its rows are
/// made after the FROM's; a split would make them per fragment and again
/// in the merge).
fn has_set_returning_call(sel: &Select) -> bool {
    sel.projection.iter().filter_map(item_expr).any(|e| {
        let mut found = false;
        let _ = sqlparser::ast::visit_expressions(e, |x| {
            if let Expr::Function(f) = x {
                let name = object_name(&f.name);
                let short = name.rsplit('.').next().unwrap_or(&name);
                if short == "unnest"
                    || short == "generate_series"
                    || short == "generate_subscripts"
                    || crate::types::json::Items::of(short).is_some()
                {
                    found = true;
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        found
    })
}

fn aggregate_name(n: &str) -> bool {
    crate::sql::validate::is_aggregate_name(n)
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
    /// A rewriter for a query grouped by `groups` whose output list is `projection`.
    fn new(groups: &[Expr], projection: &[SelectItem]) -> Self {
        MergeRewriter {
            groups: groups.iter().map(|g| uncollated(g).0.to_string()).collect(),
            partials: vec![],
            aliases: projection
                .iter()
                .filter_map(|i| match i {
                    SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
                    _ => None,
                })
                .collect(),
            bail: false,
            depth: 0,
            skip_at: None,
        }
    }

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
        let (arg, coll) = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "count" => {
                ("*".to_string(), String::new())
            }
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => (
                e.to_string(),
                // An enum's min/max partials compare under its collation
                // again (the partial-results column has none).
                match uncollated(e) {
                    (_, Some(c)) => format!(" COLLATE {c}"),
                    (_, None) => String::new(),
                },
            ),
            _ => return None,
        };
        Some(match name.as_str() {
            "count" => format!(
                "coalesce(sum({}), 0)",
                self.partial(format!("count({arg})"))
            ),
            "sum" => format!("sum({})", self.partial(format!("sum({arg})"))),
            "min" => format!("min({}{coll})", self.partial(format!("min({arg})"))),
            "max" => format!("max({}{coll})", self.partial(format!("max({arg})"))),
            "avg" => {
                let s = self.partial(format!("sum({arg})"));
                let c = self.partial(format!("count({arg})"));
                format!("pg_avg_final(sum({s}), sum({c}))")
            }
            // Partial sums of bigints are integers or numeric text.
            "pg_int8_sum" => format!("pg_numeric_sum({})", self.partial(format!("{name}({arg})"))),
            // Numeric partial sums merge exactly (the typed step's names).
            "pg_numeric_sum" | "pg_numeric_min" | "pg_numeric_max" => {
                format!("{name}({})", self.partial(format!("{name}({arg})")))
            }
            // Bits of partial bits: the operations are associative.
            "bit_and" | "bit_or" | "bit_xor" => {
                format!("{name}({})", self.partial(format!("{name}({arg})")))
            }
            // Interval partial sums merge by the same sum.
            "pg_interval_sum" => format!("{name}({})", self.partial(format!("{name}({arg})"))),
            "pg_interval_avg" => {
                let s = self.partial(format!("pg_interval_sum({arg})"));
                let c = self.partial(format!("count({arg})"));
                format!("pg_interval_avg_final(pg_interval_sum({s}), sum({c}))")
            }
            "pg_numeric_avg" => {
                let s = self.partial(format!("pg_numeric_sum({arg})"));
                let c = self.partial(format!("count({arg})"));
                format!("pg_numeric_avg_final(pg_numeric_sum({s}), sum({c}))")
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
