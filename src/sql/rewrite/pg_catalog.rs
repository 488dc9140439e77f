//! The PostgreSQL constructs catalog queries use (psql's `\d`, drivers),
//! turned into ones the main rewrite handles, before it runs:
//! `pg_catalog.`-qualified function and type names, `::regclass` and the
//! other reg-type casts, `OPERATOR(pg_catalog.~)` and the regex operators,
//! `x = ANY(array_column)`, `ARRAY(SELECT …)`, `arr[i]`, `COLLATE`,
//! schema-qualified columns (`pg_catalog.pg_class.oid`), `array_agg`,
//! `unnest`/`generate_series` in FROM, and `unnest`/`generate_subscripts`
//! in a SELECT list. Arrays are PostgreSQL's text form
//! (`{a,b}`), as `sql::functions::catalog` reads them.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AccessExpr, BinaryOperator as Op, DataType, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, ObjectName, Query, SelectItem, SetExpr, Statement, Subscript, TableFactor,
    Value, VisitMut, VisitorMut,
};

mod select_srf;
mod unnest;

pub use unnest::{is_lateral_series, is_lateral_unnest, LATERAL_PREFIX};

use super::expr::call;
use crate::error::{Error, Result};
use crate::sql::build::take;
use crate::types::PgType;

/// Rewrite the catalog constructs of `stmt` in place.
pub fn rewrite(stmt: &mut Statement) -> Result<()> {
    if let Statement::Query(q) = stmt {
        print_reg_literals(&mut q.body);
    }
    match stmt.visit(&mut PgCatalogRewrite) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// The same for one expression (a DEFAULT, a CHECK).
pub fn rewrite_expr(e: &mut Expr) -> Result<()> {
    match e.visit(&mut PgCatalogRewrite) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Whether a FROM item names a set-returning function this module
/// rewrites (`generate_series`, `unnest`, `pg_catalog.` or not).
pub fn is_table_function(name: &ObjectName) -> bool {
    matches!(
        unqualified(&crate::sql::object_name(name)),
        "generate_series" | "unnest" | "pg_partition_ancestors" | "pg_listening_channels"
    )
}

/// The column a table function of [`is_table_function`] yields when its
/// alias names none, and its type.
pub fn table_function_column(name: &ObjectName) -> (&'static str, PgType) {
    match unqualified(&crate::sql::object_name(name)) {
        "pg_listening_channels" => ("pg_listening_channels", PgType::Text),
        "unnest" => ("unnest", PgType::Int4),
        "pg_partition_ancestors" => ("pg_partition_ancestors", PgType::Int4),
        _ => ("generate_series", PgType::Int4),
    }
}

/// The type of a cast to a catalog type (`regclass`, `oid`, …), for
/// inference; `None` for ordinary types.
pub fn cast_type(dt: &DataType) -> Option<PgType> {
    if let DataType::Custom(name, mods) = dt {
        if mods.is_empty() && unqualified(&crate::sql::object_name(name)) == "char" {
            return Some(PgType::Char);
        }
    }
    match catalog_type(dt)? {
        CatalogType::Oid => Some(PgType::Oid),
        CatalogType::Plain(t) => PgType::from_sql(&t).ok(),
        _ => Some(PgType::Text),
    }
}

fn unqualified(name: &str) -> &str {
    name.strip_prefix("pg_catalog.").unwrap_or(name)
}

enum CatalogType {
    Oid,
    Regclass,
    Regtype,
    Regnamespace,
    Regrole,
    /// A type kept as it is stored (name, "char", arrays).
    Keep,
    /// `regproc`: stored as the function's unqualified name.
    Regproc,
    /// An ordinary type spelled `pg_catalog.x`.
    Plain(DataType),
}

fn catalog_type(dt: &DataType) -> Option<CatalogType> {
    let name = match dt {
        DataType::Array(_) => return Some(CatalogType::Keep),
        DataType::Regclass => return Some(CatalogType::Regclass),
        DataType::Custom(name, mods) if mods.is_empty() => crate::sql::object_name(name),
        DataType::Char(None) | DataType::Character(None) => {
            // `"char"` parses as a custom name; a bare char stays char(1).
            return None;
        }
        _ => return None,
    };
    Some(match unqualified(&name) {
        "oid" => CatalogType::Oid,
        "regclass" => CatalogType::Regclass,
        "regtype" => CatalogType::Regtype,
        "regnamespace" => CatalogType::Regnamespace,
        "regrole" => CatalogType::Regrole,
        "regproc" => CatalogType::Regproc,
        "name" | "char" | "regprocedure" | "regoper" | "regoperator" | "int2vector"
        | "oidvector" | "aclitem" | "pg_node_tree" => CatalogType::Keep,
        other if name.starts_with("pg_catalog.") => {
            let Ok(Expr::Cast { data_type, .. }) =
                crate::sql::parse_expr(&format!("NULL::{other}"))
            else {
                return None;
            };
            CatalogType::Plain(data_type)
        }
        _ => return None,
    })
}

/// A `'t'::regclass` or `'int4'::regtype` literal stands for an oid (what
/// catalog queries compare it with), but a result column of one prints the
/// name, as PostgreSQL's output function does: the SELECT list's literal
/// casts become casts to text, which `post` turns into the name.
fn print_reg_literals(body: &mut SetExpr) {
    match body {
        SetExpr::Select(s) => {
            for item in &mut s.projection {
                let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item
                else {
                    continue;
                };
                let is_reg_literal = matches!(e, Expr::Cast { expr, data_type, .. }
                    if (is_string(expr) || is_placeholder(expr))
                        && matches!(catalog_type(data_type), Some(CatalogType::Regclass | CatalogType::Regtype)));
                if is_reg_literal {
                    *e = Expr::Cast {
                        kind: sqlparser::ast::CastKind::DoubleColon,
                        expr: Box::new(take(e)),
                        data_type: DataType::Text,
                        format: None,
                    };
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            print_reg_literals(left);
            print_reg_literals(right);
        }
        SetExpr::Query(q) => print_reg_literals(&mut q.body),
        _ => {}
    }
}

/// `x::text` of a reg-type literal (already its oid): the name it prints.
fn reg_name(e: &Expr) -> Option<Expr> {
    let Expr::Function(f) = e else { return None };
    match crate::sql::object_name(&f.name).as_str() {
        "pg_regclass_oid" => Some(call("pg_regclass_name", vec![e.clone()])),
        "pg_regtype_oid" => Some(call(
            "format_type",
            vec![e.clone(), Expr::Value(Value::Null.into())],
        )),
        _ => None,
    }
}

fn is_string(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)))
}

fn is_placeholder(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Placeholder(_)))
}

fn regex(left: Expr, right: Expr, icase: bool, negated: bool) -> Expr {
    let flag = Expr::Value(Value::Number(if icase { "1" } else { "0" }.into(), false).into());
    let m = call("pg_regex", vec![left, right, flag]);
    if negated {
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Not,
            expr: Box::new(m),
        }
    } else {
        m
    }
}

fn cast(inner: Expr, data_type: &DataType) -> Option<Expr> {
    Some(match catalog_type(data_type)? {
        CatalogType::Oid => Expr::Cast {
            kind: sqlparser::ast::CastKind::DoubleColon,
            expr: Box::new(inner),
            data_type: DataType::BigInt(None),
            format: None,
        },
        // A literal or a parameter names the relation: compare as its oid.
        CatalogType::Regclass if is_string(&inner) || is_placeholder(&inner) => {
            call("pg_regclass_oid", vec![inner])
        }
        CatalogType::Regclass => call("pg_regclass_name", vec![inner]),
        CatalogType::Regtype if is_string(&inner) || is_placeholder(&inner) => {
            call("pg_regtype_oid", vec![inner])
        }
        CatalogType::Regtype => call("format_type", vec![inner, Expr::Value(Value::Null.into())]),
        CatalogType::Regnamespace => call("pg_regnamespace_name", vec![inner]),
        CatalogType::Regrole => call("pg_get_userbyid", vec![inner]),
        CatalogType::Keep => inner,
        // `'pg_catalog.array_in'::regproc` is the name pg_type stores.
        CatalogType::Regproc => match &inner {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s) => string(unqualified(s)),
                _ => inner,
            },
            _ => inner,
        },
        CatalogType::Plain(dt) => Expr::Cast {
            kind: sqlparser::ast::CastKind::DoubleColon,
            expr: Box::new(inner),
            data_type: dt,
            format: None,
        },
    })
}

/// `ARRAY(SELECT x …)` as an aggregate over the subquery.
fn array_subquery(q: &sqlparser::ast::Query) -> Result<Expr> {
    crate::sql::parse_expr(&format!(
        "(SELECT pg_array_agg(_arr.v) FROM ({q}) AS _arr(v))"
    ))
}

/// Schemas whose relations a column may be qualified with in full
/// (`pg_catalog.pg_class.relname`); the schema is dropped, since the
/// relation is known to SQLite by its unqualified name.
const SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "mosaic", "public"];

fn post(e: &mut Expr) -> Result<()> {
    let new = match e {
        Expr::CompoundIdentifier(parts)
            if parts.len() == 3 && SCHEMAS.contains(&parts[0].value.as_str()) =>
        {
            parts.remove(0);
            return Ok(());
        }
        // Catalog queries' collations go; the typed step's numeric one stays.
        Expr::Collate { expr, collation }
            if !crate::types::is_typed_collation(&collation.to_string()) =>
        {
            take(expr)
        }
        Expr::Cast {
            expr,
            data_type: DataType::Text,
            ..
        } if reg_name(expr).is_some() => match reg_name(expr) {
            Some(name) => name,
            None => return Ok(()),
        },
        Expr::Cast {
            expr, data_type, ..
        } if catalog_type(data_type).is_some() => match cast(take(expr), data_type) {
            Some(new) => new,
            None => return Ok(()),
        },
        Expr::Function(f) => {
            let name = crate::sql::object_name(&f.name);
            if name == "array" {
                if let FunctionArguments::Subquery(q) = &f.args {
                    *e = array_subquery(q)?;
                }
                return Ok(());
            }
            let short = name.strip_prefix("pg_catalog.").unwrap_or(&name);
            // array_agg keeps its arguments and ORDER BY; SQLite orders
            // the rows an aggregate sees.
            let short = if short == "array_agg" {
                "pg_array_agg"
            } else {
                short
            };
            if short != name {
                f.name = ObjectName::from(vec![sqlparser::ast::Ident::new(short)]);
            }
            return Ok(());
        }
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                Op::PGCustomBinaryOperator(parts) => match parts.last().map(String::as_str) {
                    Some("~") => Op::PGRegexMatch,
                    Some("~*") => Op::PGRegexIMatch,
                    Some("!~") => Op::PGRegexNotMatch,
                    Some("!~*") => Op::PGRegexNotIMatch,
                    Some("=") => Op::Eq,
                    Some("<>") => Op::NotEq,
                    Some("<") => Op::Lt,
                    Some(">") => Op::Gt,
                    Some("<=") => Op::LtEq,
                    Some(">=") => Op::GtEq,
                    Some("||") => Op::StringConcat,
                    _ => return Err(Error::Unsupported(format!("operator {op}"))),
                },
                other => other.clone(),
            };
            let (l, r) = (take(left), take(right));
            match op {
                Op::PGRegexMatch => regex(l, r, false, false),
                Op::PGRegexIMatch => regex(l, r, true, false),
                Op::PGRegexNotMatch => regex(l, r, false, true),
                Op::PGRegexNotIMatch => regex(l, r, true, true),
                op => Expr::BinaryOp {
                    left: Box::new(l),
                    op,
                    right: Box::new(r),
                },
            }
        }
        Expr::AnyOp {
            left,
            compare_op: Op::Eq,
            right,
            ..
        } => {
            let mut inner = right.as_ref();
            while let Expr::Nested(i) = inner {
                inner = i;
            }
            if matches!(inner, Expr::Array(_) | Expr::Subquery(_)) {
                return Ok(());
            }
            let arr = inner.clone();
            call("pg_array_contains", vec![arr, take(left)])
        }
        Expr::CompoundFieldAccess { root, access_chain } => match access_chain.as_slice() {
            [AccessExpr::Subscript(Subscript::Index { index })] => {
                call("pg_array_get", vec![take(root), index.clone()])
            }
            [AccessExpr::Dot(Expr::Identifier(field))] => field_access(take(root), field),
            // `alias.column[i]`: the column's qualified name, subscripted.
            [dots @ .., AccessExpr::Subscript(Subscript::Index { index })] => {
                let Some(column) = qualified_column(root, dots) else {
                    return Ok(());
                };
                call("pg_array_get", vec![column, index.clone()])
            }
            _ => return Ok(()),
        },
        _ => return Ok(()),
    };
    *e = new;
    Ok(())
}

/// The arguments of a `generate_series(start, stop[, step])` call.
pub(crate) struct SeriesArgs<'a> {
    pub start: &'a Expr,
    pub stop: &'a Expr,
    pub step: Option<&'a Expr>,
}

impl SeriesArgs<'_> {
    /// Start, stop and step as SQL text, each in parentheses (the step 1
    /// when left out).
    pub fn texts(&self) -> (String, String, String) {
        (
            format!("({})", self.start),
            format!("({})", self.stop),
            self.step.map_or("1".to_string(), |s| format!("({s})")),
        )
    }

    /// Whether an argument calls a volatile function (copied where the
    /// series is rewritten, it would be evaluated more than once).
    pub fn volatile(&self) -> bool {
        [Some(self.start), Some(self.stop), self.step]
            .into_iter()
            .flatten()
            .any(crate::sql::functions::calls_volatile)
    }
}

/// A `generate_series` call's arguments; another count of them, or a
/// named one, is refused.
pub(crate) fn series_args(args: &[FunctionArg]) -> Result<SeriesArgs<'_>> {
    let exprs: Vec<&Expr> = (args.iter())
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    if exprs.len() != args.len() {
        return Err(Error::Unsupported(
            "generate_series with named arguments".into(),
        ));
    }
    match exprs.as_slice() {
        [start, stop] => Ok(SeriesArgs {
            start,
            stop,
            step: None,
        }),
        [start, stop, step] => Ok(SeriesArgs {
            start,
            stop,
            step: Some(step),
        }),
        _ => Err(Error::Unsupported(format!(
            "generate_series with {} arguments",
            exprs.len()
        ))),
    }
}

/// A `generate_series` reading earlier FROM items, as the row of
/// positions `sql::infer::typed::lateral` reads (`unnest::lateral_series`);
/// true when `f` is one (made now, or earlier).
fn lateral_series(f: &mut TableFactor) -> Result<bool> {
    let TableFactor::Table {
        name,
        alias,
        args: Some(args),
        ..
    } = f
    else {
        return Ok(false);
    };
    if unqualified(&crate::sql::object_name(name)) != "generate_series" {
        return Ok(false);
    }
    if (alias.as_ref()).is_some_and(|a| a.name.value.starts_with(LATERAL_PREFIX)) {
        return Ok(true);
    }
    if !unnest::is_lateral_series(&args.args) {
        return Ok(false);
    }
    *f = unnest::lateral_series(&args.args, alias.as_ref())?;
    Ok(true)
}

/// `[pg_catalog.]generate_series(a, b[, step]) s` and
/// `[pg_catalog.]unnest(arr) x` in FROM, `WITH ORDINALITY` or not, as
/// subqueries SQLite runs exposing PostgreSQL's column names: a series
/// counts 0, 1, … up to `pg_series_last` in SQLite's series table (the
/// value is `a + step * n`), an array is `json_each` of its JSON form.
fn table_function(f: &mut TableFactor) -> Result<()> {
    if lateral_series(f)? {
        return Ok(());
    }
    let TableFactor::Table {
        name,
        alias,
        args: Some(args),
        with_ordinality,
        ..
    } = f
    else {
        return Ok(());
    };
    let fname = crate::sql::object_name(name);
    let (source, value, ordinal, default_col) = match unqualified(&fname) {
        // The replacement reads SQLite's series table under the alias
        // `mosaic_series`, which this must leave alone.
        "generate_series"
            if alias
                .as_ref()
                .is_none_or(|a| a.name.value != "mosaic_series") =>
        {
            let (a, b, step) = series_args(&args.args)?.texts();
            (
                format!("generate_series(0, pg_series_last({a}, {b}, {step})) AS mosaic_series"),
                format!("{a} + {step} * value"),
                "value + 1",
                "generate_series",
            )
        }
        "unnest" if unnest::has_families(&args.args) && is_lateral_unnest(&args.args) => {
            *f = unnest::lateral(&args.args, alias.as_ref())?;
            return Ok(());
        }
        short
            if crate::types::json::Items::of(short).is_some()
                && !unnest::is_internal_json_each(&args.args) =>
        {
            *f = unnest::json_rows(short, &args.args, alias.as_ref())?;
            return Ok(());
        }
        "unnest" => match args.args.as_slice() {
            [arg] => (
                format!("json_each(pg_array_json({arg}))"),
                "value".to_string(),
                "key + 1",
                "unnest",
            ),
            // The typed step's: each array followed by its family.
            [arg, family] => (
                format!("json_each(pg_array_json({arg}))"),
                format!("pg_arr_elem(value, {family})"),
                "key + 1",
                "unnest",
            ),
            list => {
                let (alias, with_ordinality) = (alias.clone(), *with_ordinality);
                *f = unnest::several(list, alias.as_ref(), with_ordinality)?;
                return Ok(());
            }
        },
        // No table is a partition: a relation's only ancestor is itself.
        "pg_partition_ancestors" => {
            let [arg] = args.args.as_slice() else {
                return Err(Error::Unsupported(
                    "pg_partition_ancestors with several arguments".into(),
                ));
            };
            (
                "(SELECT 1) AS mosaic_one".to_string(),
                format!("pg_partition_ancestors({arg})"),
                "1",
                "pg_partition_ancestors",
            )
        }
        // The session's channels, from the session's own function.
        "pg_listening_channels" => {
            if !args.args.is_empty() {
                return Err(Error::NoSuchFunction("pg_listening_channels".into()));
            }
            (
                "json_each(pg_listening_channels_json())".to_string(),
                "value".to_string(),
                "key + 1",
                "pg_listening_channels",
            )
        }
        _ if *with_ordinality => {
            return Err(Error::Unsupported(format!("{fname}() WITH ORDINALITY")))
        }
        _ => return Ok(()),
    };
    let (alias, with_ordinality) = (alias.clone(), *with_ordinality);
    *f = series_subquery(
        alias.as_ref(),
        with_ordinality,
        &Series {
            source: &source,
            value: &value,
            ordinal,
            default_col,
        },
    )?;
    Ok(())
}

/// What a set-returning function in FROM becomes: rows of `source`, each
/// giving `value` (and `ordinal` WITH ORDINALITY).
pub struct Series<'a> {
    pub source: &'a str,
    pub value: &'a str,
    pub ordinal: &'a str,
    /// The column's name when the call has no alias.
    pub default_col: &'a str,
}

/// The subquery a set-returning function in FROM becomes, with the
/// column named as PostgreSQL names it: the alias's first column, else
/// the alias, else the function; `ordinality` (or the alias's second
/// column) WITH ORDINALITY.
pub fn series_subquery(
    alias: Option<&sqlparser::ast::TableAlias>,
    with_ordinality: bool,
    s: &Series<'_>,
) -> Result<TableFactor> {
    let alias_name = alias
        .map(|a| a.name.to_string())
        .unwrap_or_else(|| s.default_col.into());
    let named = |i: usize| alias.and_then(|a| a.columns.get(i).map(|c| c.name.to_string()));
    let col = named(0).unwrap_or_else(|| alias_name.clone());
    let ordinality = match with_ordinality {
        true => format!(
            ", {} AS {}",
            s.ordinal,
            named(1).unwrap_or_else(|| "ordinality".into())
        ),
        false => String::new(),
    };
    let sql = format!(
        "SELECT * FROM (SELECT {} AS {col}{ordinality} FROM {}) AS {alias_name}",
        s.value, s.source
    );
    let Some(Statement::Query(q)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("table function did not parse".into()));
    };
    let sqlparser::ast::SetExpr::Select(sel) = *q.body else {
        return Err(Error::Internal("table function did not parse".into()));
    };
    sel.from
        .into_iter()
        .next()
        .map(|twj| twj.relation)
        .ok_or_else(|| Error::Internal("table function did not parse".into()))
}

fn string(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.into()).into())
}

/// `(composite).field`: the composites this module builds (those of
/// `_pg_expandarray`) are JSON objects, so a field is a JSON lookup.
/// `root.a.b` as one compound identifier, when `root` is a name and every
/// access is a plain `.name`.
pub(crate) fn qualified_column(root: &Expr, dots: &[AccessExpr]) -> Option<Expr> {
    let mut parts = match root {
        Expr::Identifier(i) => vec![i.clone()],
        Expr::CompoundIdentifier(is) => is.clone(),
        _ => return None,
    };
    for d in dots {
        let AccessExpr::Dot(Expr::Identifier(i)) = d else {
            return None;
        };
        parts.push(i.clone());
    }
    Some(Expr::CompoundIdentifier(parts))
}

fn field_access(root: Expr, field: &sqlparser::ast::Ident) -> Expr {
    call(
        "json_extract",
        vec![root, string(&format!("$.{}", field.value.to_lowercase()))],
    )
}

struct PgCatalogRewrite;

impl VisitorMut for PgCatalogRewrite {
    type Break = Error;

    fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
        match select_srf::select_srfs(q) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn pre_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<Error> {
        match table_function(f) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Error> {
        match post(e) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

#[cfg(test)]
mod tests {
    fn rewrite(sql: &str) -> String {
        let mut stmts = crate::sql::parse(sql).expect("parse");
        super::rewrite(&mut stmts[0]).expect("rewrite");
        stmts[0].to_string()
    }

    #[test]
    fn psql_constructs() {
        assert_eq!(
            rewrite("SELECT 1 FROM c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default"),
            "SELECT 1 FROM c WHERE pg_regex(c.relname, '^(t)$', 0)"
        );
        assert_eq!(
            rewrite("SELECT c.oid::pg_catalog.regclass::pg_catalog.text, 't'::regclass, x::oid"),
            "SELECT pg_regclass_name(c.oid)::TEXT, pg_regclass_name(pg_regclass_oid('t')), x::BIGINT"
        );
        assert_eq!(
            rewrite("SELECT 1 FROM c WHERE c.oid = 't'::regclass AND t = 'int4'::regtype"),
            "SELECT 1 FROM c WHERE c.oid = pg_regclass_oid('t') AND t = pg_regtype_oid('int4')"
        );
        assert_eq!(
            rewrite("SELECT pg_catalog.format_type(a, b) FROM t WHERE n !~ '^pg_' AND 'd' = any(k)"),
            "SELECT format_type(a, b) FROM t WHERE NOT pg_regex(n, '^pg_', 0) AND pg_array_contains(k, 'd')"
        );
        assert_eq!(
            rewrite("SELECT ARRAY(SELECT r FROM t ORDER BY 1)"),
            "SELECT (SELECT pg_array_agg(_arr.v) FROM (SELECT r FROM t ORDER BY 1) AS _arr (v))"
        );
        assert_eq!(
            rewrite("SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class WHERE c = CAST($1 AS REGCLASS)"),
            "SELECT pg_class.relname FROM pg_catalog.pg_class WHERE c = pg_regclass_oid($1)"
        );
        assert_eq!(
            rewrite(
                "SELECT a.r, array_agg(CAST(a.n AS TEXT) ORDER BY a.o) AS cols FROM a GROUP BY a.r"
            ),
            "SELECT a.r, pg_array_agg(CAST(a.n AS TEXT) ORDER BY a.o) AS cols FROM a GROUP BY a.r"
        );
        assert_eq!(
            rewrite("SELECT i.c, unnest(i.k) AS n, generate_subscripts(i.k, 1) AS o FROM i JOIN c ON c.x = i.c"),
            "SELECT i.c, pg_array_get(i.k, mosaic_srf.value) AS n, pg_array_subscript(i.k, mosaic_srf.value) AS o \
             FROM i JOIN c ON c.x = i.c, generate_series(1, pg_array_longest(i.k, i.k)) AS mosaic_srf"
        );
        assert_eq!(
            rewrite("SELECT (information_schema._pg_expandarray(i.k)).n AS s, information_schema._pg_expandarray(i.k) AS ks FROM i"),
            "SELECT json_extract((json_object('x', pg_array_value(i.k, mosaic_srf.value), 'n', mosaic_srf.value)), '$.n') AS s, \
             json_object('x', pg_array_value(i.k, mosaic_srf.value), 'n', mosaic_srf.value) AS ks \
             FROM i, generate_series(1, pg_array_longest(i.k, i.k)) AS mosaic_srf"
        );
        assert_eq!(
            rewrite("SELECT r.a FROM r WHERE r.n = (r.ks).x AND typinput = 'pg_catalog.array_in'::regproc"),
            "SELECT r.a FROM r WHERE r.n = json_extract((r.ks), '$.x') AND typinput = 'array_in'"
        );
        assert_eq!(
            rewrite("SELECT 'toast.' || x FROM pg_catalog.unnest(r) x"),
            "SELECT 'toast.' || x FROM (SELECT value AS x FROM json_each(pg_array_json(r))) AS x"
        );
    }
}
