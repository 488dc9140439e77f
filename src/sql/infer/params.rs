//! `$n` parameter types from the context each placeholder appears in.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, BinaryOperator as Op, Expr, InTarget, LimitClause, OrderByKind, Query,
    Select, SetExpr, Statement, Value, Visit, Visitor,
};

use super::{name_parts, Env, Rel};
use crate::sql::Schema;
use crate::types::PgType;

/// Types of `$1..$n` implied by where they appear (compared with or
/// assigned to a column, cast, inserted into a column, LIMIT/OFFSET);
/// `None` where the context says nothing. The vector's length is the
/// highest `$n` used. Best effort: an unknown table or column leaves the
/// parameters near it untyped rather than failing.
pub fn param_types(stmt: &Statement, catalog: &dyn Schema) -> Vec<Option<PgType>> {
    let mut v = ParamVisitor {
        env: Env::new(catalog, &[]),
        types: vec![],
    };
    let _ = stmt.visit(&mut v);
    v.types
}

fn placeholder(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p
                .strip_prefix('$')?
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1),
            _ => None,
        },
        Expr::Nested(inner) => placeholder(inner),
        _ => None,
    }
}

struct ParamVisitor<'a> {
    env: Env<'a>,
    types: Vec<Option<PgType>>,
}

impl ParamVisitor<'_> {
    fn set(&mut self, n: usize, ty: PgType) {
        if n > 100_000 || ty == PgType::Unknown {
            return;
        }
        if self.types.len() < n {
            self.types.resize(n, None);
        }
        self.types[n - 1].get_or_insert(ty);
    }

    /// Type the placeholder `p` (if it is one) from expression `other`.
    fn pair(&mut self, p: &Expr, other: &Expr) {
        if let (Some(n), None) = (placeholder(p), placeholder(other)) {
            if let Ok(t) = self.env.expr_type(other) {
                self.set(n, t);
            }
        }
    }

    /// Type the placeholder `p`, an operand of `op` beside `other`, as
    /// PostgreSQL resolves the operator: a timestamp plus `$n` takes an
    /// interval (minus `$n` a timestamp), an interval times or divided by `$n` a double;
    /// otherwise the other operand's type.
    fn pair_operand(&mut self, p: &Expr, op: &Op, other: &Expr, left: bool) {
        let (Some(n), None) = (placeholder(p), placeholder(other)) else {
            return;
        };
        let Ok(t) = self.env.expr_type(other) else {
            return;
        };
        let moment = matches!(t, PgType::Timestamp | PgType::Timestamptz);
        let ty = match (op, &t) {
            (Op::Plus, _) if moment => PgType::Interval,
            (Op::Multiply, PgType::Interval) => PgType::Float8,
            (Op::Divide, PgType::Interval) if !left => PgType::Float8,
            // An operator's argument has no typmod: `v <-> $1` takes any
            // vector, and a wrong length is the operator's error.
            (_, PgType::Vector(_)) => PgType::Vector(None),
            (_, PgType::Geometry(_)) => PgType::Geometry(None),
            _ => t,
        };
        self.set(n, ty);
    }

    fn column_type(&self, rel: &Rel, col: &str) -> Option<PgType> {
        rel.cols
            .iter()
            .find(|(c, _)| c == col)
            .map(|(_, t)| t.clone())
    }

    fn insert(&mut self, ins: &sqlparser::ast::Insert) {
        let Some(rel) = self.env.scopes.last().and_then(|s| s.first()) else {
            return;
        };
        let targets: Vec<Option<PgType>> = if ins.columns.is_empty() {
            rel.cols.iter().map(|(_, t)| Some(t.clone())).collect()
        } else {
            ins.columns
                .iter()
                .map(|c| {
                    let name = name_parts(c).last().cloned().unwrap_or_default();
                    self.column_type(rel, &name)
                })
                .collect()
        };
        let Some(source) = &ins.source else { return };
        let rows: Vec<&Vec<Expr>> = match source.body.as_ref() {
            SetExpr::Values(v) => v.rows.iter().map(|r| &r.content).collect(),
            _ => vec![],
        };
        for row in rows {
            for (e, t) in row.iter().zip(&targets) {
                if let (Some(n), Some(t)) = (placeholder(e), t) {
                    self.set(n, t.clone());
                }
            }
        }
    }

    fn assignments(&mut self, list: &[sqlparser::ast::Assignment]) {
        for a in list {
            if let (AssignmentTarget::ColumnName(c), Some(n)) = (&a.target, placeholder(&a.value)) {
                let parts = name_parts(c);
                let col = parts.last().cloned().unwrap_or_default();
                if let Ok(t) = self.env.column(None, &col) {
                    self.set(n, t);
                }
            }
        }
    }
}

impl Visitor for ParamVisitor<'_> {
    type Break = ();

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
        self.env.enter_statement(s);
        match s {
            Statement::Insert(ins) => {
                self.insert(ins);
                if let Some(sqlparser::ast::OnInsert::OnConflict(oc)) = &ins.on {
                    if let sqlparser::ast::OnConflictAction::DoUpdate(du) = &oc.action {
                        self.assignments(&du.assignments);
                    }
                }
            }
            Statement::Update(u) => self.assignments(&u.assignments),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_statement(&mut self, _: &Statement) -> ControlFlow<()> {
        self.env.leave_statement();
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.env.enter_query(q);
        // ORDER BY keys see the select's columns (`ORDER BY v <-> $1`);
        // the visit that follows sees them outside that scope.
        if let (SetExpr::Select(sel), Some(order)) = (q.body.as_ref(), &q.order_by) {
            if let OrderByKind::Expressions(keys) = &order.kind {
                let rels = self.env.scope_of(&sel.from).unwrap_or_default();
                self.env.scopes.push(rels);
                for k in keys {
                    let _ = k.expr.visit(self);
                }
                self.env.scopes.pop();
            }
        }
        let mut counts = vec![];
        if let Some(LimitClause::LimitOffset { limit, offset, .. }) = &q.limit_clause {
            counts.extend(limit.iter());
            counts.extend(offset.iter().map(|o| &o.value));
        }
        if let Some(f) = &q.fetch {
            counts.extend(f.quantity.iter());
        }
        for n in counts.into_iter().filter_map(placeholder) {
            self.set(n, PgType::Int8);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.env.leave_query();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<()> {
        let rels = self.env.scope_of(&s.from).unwrap_or_default();
        self.env.scopes.push(rels);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _: &Select) -> ControlFlow<()> {
        self.env.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::Value(_) => {
                if let Some(n) = placeholder(e) {
                    if self.types.len() < n && n <= 100_000 {
                        self.types.resize(n, None);
                    }
                }
            }
            Expr::BinaryOp { left, op, right } if !matches!(op, Op::And | Op::Or) => {
                self.pair_operand(left, op, right, true);
                self.pair_operand(right, op, left, false);
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.pair(a, b);
                self.pair(b, a);
            }
            Expr::In {
                expr,
                target: InTarget::List(list),
                ..
            } => {
                for item in list {
                    self.pair(item, expr);
                }
                if let Some(other) = list.iter().find(|i| placeholder(i).is_none()) {
                    self.pair(expr, other);
                }
            }
            // `x = ANY($n)` takes an array of x's type, `$n = ANY(a)` an
            // element of a's.
            Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                if let (Some(n), None) = (placeholder(right), placeholder(left)) {
                    if let Ok(t) = self.env.expr_type(left) {
                        if t != PgType::Unknown {
                            self.set(n, PgType::Array(Box::new(t)));
                        }
                    }
                }
                if let (Some(n), None) = (placeholder(left), placeholder(right)) {
                    if let Ok(PgType::Array(elem)) = self.env.expr_type(right) {
                        self.set(n, *elem);
                    }
                }
            }
            // Subscripts and slice bounds are integers; a jsonb's are
            // text (a key, or a position written out).
            Expr::CompoundFieldAccess { root, access_chain } => {
                use sqlparser::ast::{AccessExpr, Subscript};
                let index = match self.env.expr_type(root) {
                    Ok(PgType::Jsonb) => PgType::Text,
                    _ => PgType::Int4,
                };
                for a in access_chain {
                    let bounds: Vec<&Expr> = match a {
                        AccessExpr::Subscript(Subscript::Index { index }) => vec![index],
                        AccessExpr::Subscript(Subscript::Slice {
                            lower_bound,
                            upper_bound,
                            ..
                        }) => lower_bound.iter().chain(upper_bound.iter()).collect(),
                        _ => vec![],
                    };
                    for b in bounds {
                        if let Some(n) = placeholder(b) {
                            self.set(n, index.clone());
                        }
                    }
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.pair(low, expr);
                self.pair(high, expr);
                self.pair(expr, low);
                self.pair(expr, high);
            }
            Expr::Like { expr, pattern, .. } | Expr::ILike { expr, pattern, .. } => {
                for p in [expr, pattern] {
                    if let Some(n) = placeholder(p) {
                        self.set(n, PgType::Text);
                    }
                }
            }
            Expr::Cast {
                expr, data_type, ..
            } => {
                if let (Some(n), Ok(t)) = (placeholder(expr), PgType::from_sql(data_type)) {
                    self.set(n, t);
                }
            }
            Expr::Function(f) => {
                let args = super::expr::args(f);
                let name = crate::sql::object_name(&f.name);
                let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
                for (arg, ty) in args.iter().zip(argument_types(name, args.len())) {
                    if let Some(n) = placeholder(arg) {
                        self.set(n, ty);
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The declared argument types of the functions whose parameters are not
/// text: what `$n` passed to them is described as.
fn argument_types(name: &str, arity: usize) -> Vec<PgType> {
    match (name, arity) {
        ("pg_sleep" | "setseed", 1) => vec![PgType::Float8],
        ("pg_sleep_until", 1) => vec![PgType::Timestamptz],
        ("pg_sleep_for", 1) => vec![PgType::Interval],
        ("pg_cancel_backend" | "pg_terminate_backend", 1) => vec![PgType::Int4],
        ("pg_terminate_backend", 2) => vec![PgType::Int4, PgType::Int8],
        (n, 1) if crate::sql::validate::ADVISORY.contains(&n) => vec![PgType::Int8],
        (n, 2) if crate::sql::validate::ADVISORY.contains(&n) => {
            vec![PgType::Int4, PgType::Int4]
        }
        // pgvector's.
        ("l2_distance" | "cosine_distance" | "inner_product" | "l1_distance", 2) => {
            vec![PgType::Vector(None), PgType::Vector(None)]
        }
        ("vector_dims" | "vector_norm" | "l2_normalize", 1) => vec![PgType::Vector(None)],
        ("subvector", 3) => vec![PgType::Vector(None), PgType::Int4, PgType::Int4],
        _ => crate::sql::infer::typed::geometry::argument_types(name, arity),
    }
}
