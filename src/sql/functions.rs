//! Calls of SQL functions (CREATE FUNCTION … LANGUAGE sql) replaced by
//! their bodies, as PostgreSQL inlines them: each argument cast to its
//! declared type takes the place of the parameter it binds (`$n` or its
//! name), the result is cast to the declared return type, a STRICT
//! function gives NULL for a NULL argument. A scalar function becomes an
//! expression (its body's one column of its first row, NULL without
//! rows), a set-returning one in FROM a derived table with the columns it
//! declares. The body then runs with the caller's privileges, as a SQL
//! function's does by default.

use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Query, SetExpr, Statement,
    TableAlias, TableAliasColumnDef, TableFactor, Value, VisitMut, VisitorMut,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name, Schema};
use crate::types::function::{FunctionDef, Returns};
use crate::types::PgType;

/// How deep calls may nest inside bodies: past it a function calls
/// itself, which an inlined body cannot.
const MAX_DEPTH: usize = 32;

/// Replace the calls of SQL functions in `stmt` by their bodies; the
/// definitions it used (a statement prepared with them is prepared again
/// when one changes, as PostgreSQL plans again).
pub fn inline(stmt: &mut Statement, catalog: &dyn Schema) -> Result<Vec<Arc<FunctionDef>>> {
    let mut used: Vec<Arc<FunctionDef>> = Vec::new();
    // Statements that run now; a view, a default, a PREPARE keep the call
    // as written, to be inlined where they are used.
    let runs_now = match stmt {
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Explain { .. }
        | Statement::Declare { .. }
        | Statement::Copy { .. } => true,
        Statement::CreateTable(ct) => ct.query.is_some(),
        _ => false,
    };
    if !runs_now {
        return Ok(used);
    }
    for _ in 0..MAX_DEPTH {
        name_result_columns(stmt, catalog);
        let mut v = Inliner {
            catalog,
            used: Vec::new(),
        };
        if let ControlFlow::Break(e) = stmt.visit(&mut v) {
            return Err(e);
        }
        if v.used.is_empty() {
            return Ok(used);
        }
        for f in v.used {
            if !used.iter().any(|u| u.name == f.name) {
                used.push(f);
            }
        }
    }
    Err(Error::Unsupported(
        "a SQL function that calls itself (recursion)".into(),
    ))
}

struct Inliner<'a> {
    catalog: &'a dyn Schema,
    used: Vec<Arc<FunctionDef>>,
}

/// A call of a SQL function that is a whole SELECT list item names its
/// column after the function, as PostgreSQL names it.
fn name_result_columns(stmt: &mut Statement, catalog: &dyn Schema) {
    struct Namer<'a>(&'a dyn Schema);
    impl VisitorMut for Namer<'_> {
        type Break = ();
        fn pre_visit_select(&mut self, s: &mut sqlparser::ast::Select) -> ControlFlow<()> {
            for item in &mut s.projection {
                let sqlparser::ast::SelectItem::UnnamedExpr(Expr::Function(f)) = item else {
                    continue;
                };
                let n = object_name(&f.name);
                let n = n.strip_prefix("public.").unwrap_or(&n).to_string();
                if self.0.function(&n).is_some() {
                    let expr = Expr::Function(f.clone());
                    // Named without its schema.
                    let bare = crate::types::schema::split(&n).1;
                    *item = sqlparser::ast::SelectItem::ExprWithAlias {
                        expr,
                        alias: Ident::with_quote('"', bare),
                    };
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut Namer(catalog));
}

impl VisitorMut for Inliner<'_> {
    type Break = Error;

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Error> {
        match self.scalar(e) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => ControlFlow::Break(err),
        }
    }

    fn post_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<Error> {
        match self.set_returning(t) {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => ControlFlow::Break(err),
        }
    }
}

/// A call's arguments when each is a plain expression (no names, no
/// `*`, no subquery form).
fn plain_args(args: &[FunctionArg]) -> Option<Vec<Expr>> {
    args.iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn unnamed_args(args: &FunctionArguments) -> Option<Vec<Expr>> {
    match args {
        FunctionArguments::None => Some(vec![]),
        FunctionArguments::List(l) => plain_args(&l.args),
        FunctionArguments::Subquery(_) => None,
    }
}

fn parse_body(f: &FunctionDef) -> Result<Query> {
    crate::sql::parse_query(&f.body).map(|q| *q)
}

/// `CAST(e AS ty)` as PostgreSQL SQL.
/// `e` cast to `ty`, or to `domain` (whose base type `ty` is), which
/// `sql::domain::expand_casts` then checks.
fn cast_to(e: Expr, ty: &PgType, domain: Option<&str>) -> Result<Expr> {
    let target = match domain {
        Some(d) => crate::types::enums::display_name(d),
        None => ty.display_name(),
    };
    crate::sql::parse_expr(&format!("CAST(({e}) AS {target})"))
}

/// The arguments of a call of `f`: each cast to its type, defaults for
/// those left out; 42883 when the count does not fit.
fn bind(f: &FunctionDef, given: Vec<Expr>) -> Result<Vec<Expr>> {
    let required = f.args.iter().take_while(|a| a.default.is_none()).count();
    if given.len() < required || given.len() > f.args.len() {
        return Err(Error::NoSuchFunction(format!(
            "{}({})",
            f.name,
            vec!["unknown"; given.len()].join(", ")
        ))
        .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
    }
    let mut out = Vec::with_capacity(f.args.len());
    for (i, a) in f.args.iter().enumerate() {
        let e = match given.get(i) {
            Some(e) => e.clone(),
            None => crate::sql::parse_expr(a.default.as_deref().unwrap_or("NULL"))?,
        };
        out.push(cast_to(e, &a.ty, a.domain.as_deref())?);
    }
    Ok(out)
}

pub(crate) fn calls_volatile(e: &Expr) -> bool {
    sqlparser::ast::visit_expressions(e, |x| match x {
        Expr::Function(f)
            if crate::sql::VOLATILE
                .contains(&object_name(&f.name).rsplit('.').next().unwrap_or_default()) =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// The relations a body reads (names and aliases), with the columns of
/// those the catalog knows; `None` for columns when one of them is a
/// derived table or function whose columns are not told here.
fn body_scope(body: &Query, catalog: &dyn Schema) -> (Vec<String>, Option<Vec<String>>) {
    struct Scope<'a> {
        catalog: &'a dyn Schema,
        names: Vec<String>,
        columns: Option<Vec<String>>,
    }
    impl sqlparser::ast::Visitor for Scope<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
            let alias = match t {
                TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => alias,
                _ => &None,
            };
            if let Some(a) = alias {
                self.names.push(ident_name(&a.name));
            }
            match t {
                TableFactor::Table {
                    name, args: None, ..
                } => {
                    let n = object_name(name);
                    self.names
                        .push(n.rsplit('.').next().unwrap_or(&n).to_string());
                    match (self.catalog.table(&n), self.columns.as_mut()) {
                        (Some(def), Some(cols)) => {
                            cols.extend(def.columns.iter().map(|c| c.name.clone()))
                        }
                        (None, _) => self.columns = None,
                        _ => {}
                    }
                }
                _ => self.columns = None,
            }
            ControlFlow::Continue(())
        }
    }
    let mut s = Scope {
        catalog,
        names: vec![],
        columns: Some(vec![]),
    };
    let _ = sqlparser::ast::Visit::visit(body, &mut s);
    if s.names.is_empty() {
        s.columns = Some(vec![]);
    }
    (s.names, s.columns)
}

/// 0A000 where an argument names a column or relation the body's own
/// relations would take for theirs once the argument is written inside
/// it (`f(v)` with a body reading a table that has a column `v`): the
/// answer would silently change.
fn check_capture(f: &FunctionDef, body: &Query, args: &[Expr], catalog: &dyn Schema) -> Result<()> {
    let (names, columns) = body_scope(body, catalog);
    if names.is_empty() {
        return Ok(());
    }
    let mut clash = None;
    for a in args {
        let _ = sqlparser::ast::visit_expressions(a, |e| {
            let hit = match e {
                Expr::Identifier(i) => {
                    let n = ident_name(i);
                    match &columns {
                        Some(cols) => cols.contains(&n).then_some(n),
                        None => Some(n),
                    }
                }
                Expr::CompoundIdentifier(parts) => {
                    let q = parts.first().map(ident_name).unwrap_or_default();
                    names.contains(&q).then_some(q)
                }
                _ => None,
            };
            match hit {
                Some(n) => {
                    clash = Some(n);
                    ControlFlow::Break(())
                }
                None => ControlFlow::Continue(()),
            }
        });
        if let Some(n) = clash {
            return Err(Error::Unsupported(format!(
                "a call of SQL function {} whose argument names \"{n}\", which its body's own relations also name (qualify the column with another alias)",
                f.name
            )));
        }
    }
    Ok(())
}

/// The body with each parameter replaced by its argument.
fn substitute(f: &FunctionDef, mut body: Query, args: &[Expr]) -> Result<Query> {
    let mut uses = vec![0usize; args.len()];
    let names: Vec<Option<String>> = f.args.iter().map(|a| a.name.clone()).collect();
    let _ = sqlparser::ast::visit_expressions_mut(&mut body, |e| {
        let slot = match &*e {
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => p
                    .strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| n.checked_sub(1)),
                _ => None,
            },
            Expr::Identifier(i) => {
                let n = ident_name(i);
                names.iter().position(|a| a.as_deref() == Some(n.as_str()))
            }
            // `fname.arg`.
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                let (q, n) = (ident_name(&parts[0]), ident_name(&parts[1]));
                (q == f.name)
                    .then(|| names.iter().position(|a| a.as_deref() == Some(n.as_str())))
                    .flatten()
            }
            _ => None,
        };
        if let Some(arg) = slot.and_then(|i| args.get(i).map(|a| (i, a))) {
            uses[arg.0] += 1;
            *e = Expr::Nested(Box::new(arg.1.clone()));
        }
        ControlFlow::<()>::Continue(())
    });
    for (i, n) in uses.iter().enumerate() {
        if *n > 1 && calls_volatile(&args[i]) {
            return Err(Error::Unsupported(format!(
                "an argument calling a volatile function where the body of {} uses it {n} times",
                f.name
            )));
        }
    }
    Ok(body)
}

/// The first SQL function the expression `text` calls, if any.
pub fn called(text: &str, catalog: &dyn Schema) -> Option<String> {
    let e = crate::sql::parse_expr(text).ok()?;
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(&e, |x| {
        if let Expr::Function(f) = x {
            let n = object_name(&f.name);
            let n = n.strip_prefix("public.").unwrap_or(&n).to_string();
            if catalog.function(&n).is_some() {
                found = Some(n);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

/// The body of `f` with its parameters replaced by `args`, as written
/// (no casts added): what CREATE FUNCTION checks.
pub fn body_with(f: &FunctionDef, args: &[Expr]) -> Result<Query> {
    substitute(f, parse_body(f)?, args)
}

/// `CASE WHEN a IS NULL OR … THEN NULL ELSE e END` for a STRICT function.
fn strict(f: &FunctionDef, args: &[Expr], e: Expr) -> Result<Expr> {
    if !f.strict || args.is_empty() {
        return Ok(e);
    }
    let test: Vec<String> = args.iter().map(|a| format!("({a}) IS NULL")).collect();
    crate::sql::parse_expr(&format!(
        "CASE WHEN {} THEN NULL ELSE {e} END",
        test.join(" OR ")
    ))
}

/// A body that is one expression: `SELECT e` without anything else.
fn lone_expr(q: &Query) -> Option<Expr> {
    if q.with.is_some() || q.order_by.is_some() || q.limit_clause.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let plain = s.from.is_empty()
        && s.selection.is_none()
        && s.having.is_none()
        && s.distinct.is_none()
        && matches!(&s.group_by, sqlparser::ast::GroupByExpr::Expressions(g, _) if g.is_empty());
    match (plain, s.projection.as_slice()) {
        (
            true,
            [sqlparser::ast::SelectItem::UnnamedExpr(e)
            | sqlparser::ast::SelectItem::ExprWithAlias { expr: e, .. }],
        ) => Some(e.clone()),
        _ => None,
    }
}

impl Inliner<'_> {
    fn lookup(&self, name: &sqlparser::ast::ObjectName) -> Option<Arc<FunctionDef>> {
        let n = object_name(name);
        let n = n.strip_prefix("public.").unwrap_or(&n);
        self.catalog.function(n)
    }

    fn scalar(&mut self, e: &mut Expr) -> Result<()> {
        let Expr::Function(call) = e else {
            return Ok(());
        };
        let Some(f) = self.lookup(&call.name) else {
            return Ok(());
        };
        if call.over.is_some() || call.filter.is_some() || !call.within_group.is_empty() {
            return Err(Error::WrongObjectType(format!(
                "{} is not an aggregate or window function",
                f.name
            )));
        }
        let Some(given) = unnamed_args(&call.args) else {
            return Err(Error::Unsupported(format!(
                "named or special arguments in a call of SQL function {}",
                f.name
            )));
        };
        let Returns::Scalar(ty) = &f.returns else {
            return Err(Error::Unsupported(format!(
                "set-returning function {} outside FROM",
                f.name
            )));
        };
        *e = self.scalar_value(&f, ty, given)?;
        self.used.push(f);
        Ok(())
    }

    /// A scalar function's value for the arguments `given`: the body's
    /// expression, or its first row's one column (NULL without rows).
    fn scalar_value(&self, f: &FunctionDef, ty: &PgType, given: Vec<Expr>) -> Result<Expr> {
        let args = bind(f, given)?;
        let parsed = parse_body(f)?;
        check_capture(f, &parsed, &args, self.catalog)?;
        let body = substitute(f, parsed, &args)?;
        let value = match lone_expr(&body) {
            Some(x) => x,
            None => {
                let first = format!("(SELECT * FROM ({body}) AS {} LIMIT 1)", quoted(&f.name));
                crate::sql::parse_expr(&first)?
            }
        };
        strict(f, &args, cast_to(value, ty, f.returns_domain.as_deref())?)
    }

    fn set_returning(&mut self, t: &mut TableFactor) -> Result<()> {
        let TableFactor::Table {
            name,
            args: Some(call),
            alias,
            ..
        } = t
        else {
            return Ok(());
        };
        let Some(f) = self.lookup(name) else {
            return Ok(());
        };
        let given = plain_args(&call.args);
        let Some(given) = given else {
            return Err(Error::Unsupported(format!(
                "named or special arguments in a call of SQL function {}",
                f.name
            )));
        };
        let q = match &f.returns {
            // One row: the function's value, NULL included.
            Returns::Scalar(ty) => {
                let value = self.scalar_value(&f, ty, given)?;
                crate::sql::parse_query(&format!("SELECT {value} AS {}", quoted(&f.name)))?
            }
            _ => self.rows(&f, given)?,
        };
        let alias = alias.take().unwrap_or_else(|| TableAlias {
            explicit: false,
            name: Ident::new(f.name.clone()),
            columns: vec![],
            at: None,
        });
        let alias = if alias.columns.is_empty()
            && matches!(f.returns, Returns::Scalar(_) | Returns::SetOf(_))
        {
            // PostgreSQL names a scalar result column by the alias.
            TableAlias {
                columns: vec![TableAliasColumnDef::from_name(alias.name.value.clone())],
                ..alias
            }
        } else {
            alias
        };
        *t = TableFactor::Derived {
            lateral: false,
            subquery: q,
            alias: Some(alias),
            sample: None,
        };
        self.used.push(f);
        Ok(())
    }

    /// A set-returning function's rows for the arguments `given`, with
    /// the columns and types it declares (none for a NULL argument of a
    /// STRICT one).
    fn rows(&self, f: &FunctionDef, given: Vec<Expr>) -> Result<Box<Query>> {
        let args = bind(f, given)?;
        let parsed = parse_body(f)?;
        check_capture(f, &parsed, &args, self.catalog)?;
        let body = substitute(f, parsed, &args)?;
        let columns: Vec<(String, PgType)> = match &f.returns {
            Returns::Scalar(ty) | Returns::SetOf(ty) => vec![(f.name.clone(), ty.clone())],
            Returns::Table(cols) => cols.clone(),
        };
        // The body's columns by their own names where they are distinct,
        // else renamed by position.
        let own: Option<Vec<String>> = crate::sql::infer::result_columns(
            &Statement::Query(Box::new(body.clone())),
            self.catalog,
            &[],
        )
        .ok()
        .map(|c| c.into_iter().map(|(n, _)| n).collect::<Vec<_>>())
        .filter(|n| {
            n.len() == columns.len()
                && n.iter().collect::<std::collections::HashSet<_>>().len() == n.len()
        });
        let (inner, renamed) = match own {
            Some(n) => (n, String::new()),
            None => {
                let n: Vec<String> = (1..=columns.len()).map(|i| format!("c{i}")).collect();
                let list = format!("({})", n.join(", "));
                (n, list)
            }
        };
        let select: Vec<String> = columns
            .iter()
            .zip(&inner)
            .map(|((name, ty), c)| {
                format!(
                    "CAST(f.{} AS {}) AS {}",
                    quoted(c),
                    ty.display_name(),
                    quoted(name)
                )
            })
            .collect();
        let mut sql = format!("SELECT {} FROM ({body}) AS f{renamed}", select.join(", "));
        if f.strict && !args.is_empty() {
            let test: Vec<String> = args.iter().map(|a| format!("({a}) IS NOT NULL")).collect();
            sql.push_str(&format!(" WHERE {}", test.join(" AND ")));
        }
        crate::sql::parse_query(&sql)
    }
}

fn quoted(name: &str) -> String {
    crate::types::quote(name)
}
