//! The functions PostgreSQL's catalog queries call (psql's `\d`, drivers,
//! ORMs), under the names `sql::rewrite::catalog` emits.
//!
//! Arrays travel as PostgreSQL's text form (`{a,b,"c d"}`), the way the
//! `pg_catalog` relations store them. Functions that must look something
//! up in the catalog (`pg_get_indexdef`, `::regclass`, …) go through a
//! [`Lookup`], which the executor registers per session with
//! [`register_lookup`]; until then they answer NULL.

use std::sync::Arc;

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, FnResult};
use crate::types::array::{format_array, parse_array};
use crate::types::builtin::{format_type, type_oid};

/// What catalog functions need to know about the catalog, by object id.
pub trait Lookup: Send + Sync + 'static {
    /// A relation's oid by name (`t`, `public.t`, `pg_catalog.pg_class`).
    fn relation_oid(&self, name: &str) -> Option<i64>;
    /// A relation's name as `::regclass` prints it.
    fn relation_name(&self, oid: i64) -> Option<String>;
    /// Whether a relation is in a schema on the search path.
    fn visible(&self, oid: i64) -> bool;
    /// The schemas of the session's search path that exist, in order.
    fn search_path(&self) -> Vec<String> {
        vec![crate::types::schema::PUBLIC.into()]
    }
    /// The catalog name (`types::schema`) of the relation a name written
    /// as text denotes (`t`, `s.t`, `"T"`), an unqualified one looked up
    /// along the search path.
    fn resolve(&self, text: &str) -> String {
        match crate::types::schema::parse_name(text).as_slice() {
            [s, rel] => crate::types::schema::qualify(s, rel),
            parts => parts.join("."),
        }
    }
    /// `pg_get_indexdef(oid, col, pretty)`: `CREATE INDEX …` for an index
    /// oid (`col` 0), or its key `col` alone.
    fn index_def(&self, oid: i64, col: i64, pretty: bool) -> Option<String>;
    /// `PRIMARY KEY (…)`, `UNIQUE (…)`, `CHECK (…)` for a constraint oid.
    fn constraint_def(&self, oid: i64) -> Option<String>;
    fn role_name(&self, oid: i64) -> Option<String>;
    fn namespace_name(&self, oid: i64) -> Option<String>;
    /// The DEFAULT of a table's column, as stored (`nextval('t_id_seq')`).
    fn column_default(&self, table: &str, column: &str) -> Option<String>;
    /// The defining query of a view, by oid.
    fn view_def(&self, oid: i64) -> Option<String>;
    /// A sequence by name, and whether it is durable (made by CREATE
    /// SEQUENCE, not a serial column's).
    fn sequence(&self, name: &str) -> Option<(crate::types::sequence::SequenceDef, bool)>;
    /// COMMENT ON text of a relation (`subid` 0) or of its column number
    /// `subid`.
    fn description(&self, oid: i64, subid: i64) -> Option<String>;
    /// Bytes of a relation's data on this node (its shard files, which
    /// hold its indexes too); `None` for no such relation.
    fn relation_bytes(&self, _oid: i64) -> Option<i64> {
        None
    }
    /// The name `format_type` gives a user-defined type (an enum, a
    /// domain), by oid: qualified unless the search path finds it.
    fn type_name(&self, _oid: i64) -> Option<String> {
        None
    }
    /// Whether the search path finds the type `oid` by its bare name
    /// (`pg_type_is_visible`; built-in types always).
    fn type_visible(&self, _oid: i64) -> bool {
        true
    }
    /// A SQL function by oid (pg_proc.oid).
    fn function(&self, _oid: i64) -> Option<crate::types::function::FunctionDef> {
        None
    }
    /// A user-defined type's oid by name (`mood`, `mood[]`).
    fn type_oid(&self, _name: &str) -> Option<i64> {
        None
    }
    /// Whether the session may call `function` (`nextval`, `setval`,
    /// `currval`) on sequence `name` now: not a change in a read-only
    /// transaction (25006) or a read-only token's session, and the
    /// privilege PostgreSQL asks of the current role (42501).
    fn sequence_call(&self, _name: &str, _function: &str) -> crate::error::Result<()> {
        Ok(())
    }
    /// `has_table_privilege`, `has_schema_privilege`,
    /// `has_database_privilege` (`on`): whether `role` (`None`: the
    /// current one) holds any of `privileges` on the object named or
    /// numbered (`None`: no object has that oid).
    fn privilege(
        &self,
        _on: Privileged,
        _role: Option<&str>,
        _object: &RelationArg,
        _privileges: &str,
    ) -> crate::error::Result<Option<bool>> {
        Ok(Some(true))
    }
}

/// What a `has_…_privilege` function asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privileged {
    Table,
    Schema,
    Database,
}

/// A relation as a function's argument names it: by oid or by name.
pub enum RelationArg {
    Oid(i64),
    Name(String),
}

/// An expression without the parentheses around the whole of it, as
/// `pg_get_expr(…, true)` prints one that its plain form wraps.
fn unwrapped(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    let (mut depth, mut quoted) = (0i32, false);
    for ch in inner.chars() {
        match ch {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return text;
        }
    }
    match depth == 0 && !quoted {
        true => inner,
        false => text,
    }
}

pub(super) fn text(ctx: &Context<'_>, i: usize) -> Option<String> {
    as_text(ctx.get_raw(i))
}

/// `pg_get_indexdef(oid [, col, pretty])` with `n` arguments.
fn index_def(l: &dyn Lookup, c: &Context<'_>, n: i32, oid: i64) -> Option<String> {
    let (col, pretty) = match n {
        3 => (
            int(c, 1).unwrap_or(0),
            int(c, 2).unwrap_or(0) != 0 || text(c, 2).is_some_and(|t| t == "true" || t == "t"),
        ),
        _ => (0, false),
    };
    l.index_def(oid, col, pretty)
}

/// Whether catalog array text is an `int2vector`/`oidvector` (`1 0 3`),
/// not an array (`{1,0,3}`).
fn is_vector(a: &str) -> bool {
    !a.trim_start().starts_with('{')
}

pub(super) fn int(ctx: &Context<'_>, i: usize) -> Option<i64> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => Some(f as i64),
        v => as_text(v)?.trim().parse().ok(),
    }
}

/// A regclass argument: an oid, or a relation's name.
fn relation_arg(l: &dyn Lookup, c: &Context<'_>) -> Option<i64> {
    int(c, 0).or_else(|| text(c, 0).and_then(|n| l.relation_oid(&n)))
}

fn out_int(v: Option<i64>) -> Value {
    v.map_or(Value::Null, Value::Integer)
}

pub(super) fn out(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::Text)
}

/// `s ~ pattern` (and `~*` with `icase`), PostgreSQL's regular expressions
/// as the `regex` crate reads them.
fn regex_match(ctx: &mut Context<'_>) -> FnResult {
    let (Some(s), Some(p)) = (text(ctx, 0), text(ctx, 1)) else {
        return Ok(Value::Null);
    };
    let icase = int(ctx, 2).unwrap_or(0) != 0;
    let re = ctx.get_or_create_aux(1, |_| super::similar::compile(&p, icase))?;
    Ok(Value::Integer(re.is_match(&s) as i64))
}

/// `ARRAY(SELECT …)`: the values, in the order they come, as an array.
struct ArrayAgg;

impl Aggregate<Vec<Option<String>>, Value> for ArrayAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<Option<String>>> {
        Ok(vec![])
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut Vec<Option<String>>) -> rusqlite::Result<()> {
        st.push(as_text(ctx.get_raw(0)));
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        st: Option<Vec<Option<String>>>,
    ) -> rusqlite::Result<Value> {
        // No rows: NULL, as in PostgreSQL.
        Ok(st.map_or(Value::Null, |st| Value::Text(format_array(&st))))
    }
}

fn constant(conn: &Connection, name: &str, n: i32, v: Value) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function(name, n, flags, move |_| Ok(v.clone()))
}

/// Register the catalog functions that need no catalog on `conn`.
pub fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("format_type", 2, det, |c| {
        Ok(match int(c, 0) {
            Some(oid) => Value::Text(format_type(oid, int(c, 1))),
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("pg_get_expr", 2, det, |c| Ok(out(text(c, 0))))?;
    conn.create_scalar_function("pg_get_expr", 3, det, |c| {
        let pretty = int(c, 2).is_some_and(|p| p != 0);
        Ok(out(text(c, 0).map(|t| match pretty {
            true => unwrapped(&t).to_string(),
            false => t,
        })))
    })?;
    conn.create_scalar_function("pg_regex", 3, det, regex_match)?;
    conn.create_scalar_function("pg_encoding_to_char", 1, det, |_| {
        Ok(Value::Text("UTF8".into()))
    })?;
    for n in [2, 3] {
        conn.create_scalar_function("array_to_string", n, det, move |c| {
            let Some(a) = text(c, 0) else {
                return Ok(Value::Null);
            };
            let sep = text(c, 1).unwrap_or_default();
            let null = if n == 3 { text(c, 2) } else { None };
            let items: Vec<String> = parse_array(&a)
                .into_iter()
                .filter_map(|e| e.or_else(|| null.clone()))
                .collect();
            Ok(Value::Text(items.join(&sep)))
        })?;
    }
    conn.create_scalar_function("pg_array_contains", 2, det, |c| {
        let (Some(a), Some(x)) = (text(c, 0), text(c, 1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Integer(
            parse_array(&a).iter().any(|e| e.as_deref() == Some(&x)) as i64,
        ))
    })?;
    conn.create_scalar_function("pg_array_get", 2, det, |c| {
        let (Some(a), Some(i)) = (text(c, 0), int(c, 1)) else {
            return Ok(Value::Null);
        };
        let items = parse_array(&a);
        let item = usize::try_from(i - 1)
            .ok()
            .and_then(|i| items.get(i).cloned().flatten());
        // An int2vector's or oidvector's element is a number.
        Ok(match item.as_deref().map(str::parse::<i64>) {
            Some(Ok(n)) if is_vector(&a) => Value::Integer(n),
            _ => out(item),
        })
    })?;
    // An element as `_pg_expandarray`'s `x`: an integer where it reads as
    // one (the arrays it walks are int2vector and oid[]), text otherwise.
    conn.create_scalar_function("pg_array_value", 2, det, |c| {
        let (Some(a), Some(i)) = (text(c, 0), int(c, 1)) else {
            return Ok(Value::Null);
        };
        let items = parse_array(&a);
        let elem = usize::try_from(i - 1)
            .ok()
            .and_then(|i| items.get(i).cloned().flatten());
        Ok(match elem {
            Some(e) => match e.parse::<i64>() {
                Ok(n) => Value::Integer(n),
                Err(_) => Value::Text(e),
            },
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("pg_array_json", 1, det, |c| {
        let Some(a) = text(c, 0) else {
            return Ok(Value::Text("[]".into()));
        };
        let items: Vec<serde_json::Value> = parse_array(&a)
            .into_iter()
            .map(|e| e.map_or(serde_json::Value::Null, serde_json::Value::String))
            .collect();
        Ok(Value::Text(serde_json::Value::Array(items).to_string()))
    })?;
    // The positions 1..=n of the longest of the arrays, as a JSON array
    // (`json_each` walks it for set-returning functions in a SELECT list).
    conn.create_scalar_function("pg_array_positions", -1, det, |c| {
        let n = (0..c.len())
            .filter_map(|i| text(c, i).map(|a| parse_array(&a).len()))
            .max()
            .unwrap_or(0);
        let positions: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        Ok(Value::Text(format!("[{}]", positions.join(","))))
    })?;
    // The length of the longest of the arrays (the rows set-returning
    // functions of a SELECT list make).
    conn.create_scalar_function("pg_array_longest", -1, det, |c| {
        let n = (0..c.len())
            .filter_map(|i| text(c, i).map(|a| parse_array(&a).len()))
            .max()
            .unwrap_or(0);
        Ok(Value::Integer(n as i64))
    })?;
    conn.create_scalar_function("pg_array_subscript", 2, det, |c| {
        let (Some(a), Some(i)) = (text(c, 0), int(c, 1)) else {
            return Ok(Value::Null);
        };
        let len = parse_array(&a).len() as i64;
        // An int2vector's or oidvector's subscripts start at 0.
        let first = i64::from(!is_vector(&a));
        Ok(if (1..=len).contains(&i) {
            Value::Integer(i - 1 + first)
        } else {
            Value::Null
        })
    })?;
    // One-dimensional arrays: the upper bound is the length.
    for name in ["array_upper", "array_length"] {
        conn.create_scalar_function(name, 2, det, |c| {
            Ok(match text(c, 0).map(|a| parse_array(&a).len()) {
                Some(n) if n > 0 => Value::Integer(n as i64),
                _ => Value::Null,
            })
        })?;
    }
    conn.create_scalar_function("cardinality", 1, det, |c| {
        Ok(match text(c, 0) {
            Some(a) => Value::Integer(parse_array(&a).len() as i64),
            None => Value::Null,
        })
    })?;
    conn.create_scalar_function("array_lower", 2, det, |c| {
        Ok(match text(c, 0).map(|a| parse_array(&a).len()) {
            Some(n) if n > 0 => Value::Integer(1),
            _ => Value::Null,
        })
    })?;
    conn.create_aggregate_function("pg_array_agg", 1, det, ArrayAgg)?;
    conn.create_scalar_function("pg_size_pretty", 1, det, |c| {
        Ok(out(int(c, 0).map(size_pretty)))
    })?;
    for (name, n) in [
        ("shobj_description", 2),
        ("pg_get_statisticsobjdef_columns", 1),
        // There are no triggers (pg_trigger is empty).
        ("pg_get_triggerdef", 1),
        ("pg_get_triggerdef", 2),
    ] {
        constant(conn, name, n, Value::Null)?;
    }
    for (name, n) in [("has_database_privilege", 2), ("has_database_privilege", 3)] {
        constant(conn, name, n, Value::Integer(1))?;
    }
    constant(conn, "pg_relation_is_publishable", 1, Value::Integer(0))?;
    constant(conn, "pg_collation_is_visible", 1, Value::Integer(1))?;
    constant(conn, "pg_type_is_visible", 1, Value::Integer(1))?;
    conn.create_scalar_function("to_regtype", 1, det, |c| {
        Ok(text(c, 0)
            .and_then(|n| type_oid(&n))
            .map_or(Value::Null, Value::Integer))
    })?;
    register_lookup(conn, Arc::new(NoCatalog))
}

/// Answers nothing: the lookup before a session registers its own.
struct NoCatalog;

impl Lookup for NoCatalog {
    fn relation_oid(&self, _: &str) -> Option<i64> {
        None
    }
    fn relation_name(&self, oid: i64) -> Option<String> {
        Some(oid.to_string())
    }
    fn visible(&self, _: i64) -> bool {
        true
    }
    fn index_def(&self, _: i64, _: i64, _: bool) -> Option<String> {
        None
    }
    fn constraint_def(&self, _: i64) -> Option<String> {
        None
    }
    fn role_name(&self, _: i64) -> Option<String> {
        None
    }
    fn namespace_name(&self, _: i64) -> Option<String> {
        None
    }
    fn column_default(&self, _: &str, _: &str) -> Option<String> {
        None
    }
    fn view_def(&self, _: i64) -> Option<String> {
        None
    }
    fn sequence(&self, _: &str) -> Option<(crate::types::sequence::SequenceDef, bool)> {
        None
    }
    fn description(&self, _: i64, _: i64) -> Option<String> {
        None
    }
}

/// `format_type` over the catalog too: user-defined types (enums) by name.
fn register_format_type(conn: &Connection, l: Arc<dyn Lookup>) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("format_type", 2, flags, move |c| {
        Ok(match int(c, 0) {
            Some(oid) => Value::Text(
                l.type_name(oid)
                    .unwrap_or_else(|| format_type(oid, int(c, 1))),
            ),
            None => Value::Null,
        })
    })
}

/// `'t'::regclass` and `'int4'::regtype` of a literal: the object's oid, or
/// PostgreSQL's error when there is none.
fn register_reg_casts(
    conn: &Connection,
    lookup: Arc<dyn Lookup>,
    flags: FunctionFlags,
) -> rusqlite::Result<()> {
    let l = lookup.clone();
    conn.create_scalar_function("pg_regclass_oid", 1, flags, move |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Integer(n) => Value::Integer(n),
            v => match as_text(v) {
                Some(s) if s.trim().parse::<i64>().is_ok() => {
                    Value::Integer(s.trim().parse::<i64>().unwrap_or_default())
                }
                Some(s) => match l.relation_oid(&s) {
                    Some(o) => Value::Integer(o),
                    None => {
                        return Err(super::fail(crate::error::Error::NoSuchTable(s.to_string())))
                    }
                },
                None => Value::Null,
            },
        })
    })?;
    // `'int4'::regtype`: the type's oid, or 42704 as PostgreSQL's regtypein.
    let l = lookup;
    conn.create_scalar_function("pg_regtype_oid", 1, flags, move |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Integer(n) => Value::Integer(n),
            v => match as_text(v) {
                Some(s) => match s
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .or_else(|| type_oid(&s))
                    .or_else(|| l.type_oid(&s))
                {
                    Some(o) => Value::Integer(o),
                    None => {
                        return Err(super::fail(crate::error::Error::NoSuchObject(format!(
                            "type \"{}\" does not exist",
                            s.trim()
                        ))))
                    }
                },
                None => Value::Null,
            },
        })
    })?;
    Ok(())
}

/// Register the catalog functions that look objects up through `lookup`.
/// Registering again replaces them (and makes SQLite re-prepare cached
/// statements), so a session does it once.
/// `pg_relation_size` and its kin (`Lookup::relation_bytes`).
fn register_sizes(
    conn: &Connection,
    lookup: &Arc<dyn Lookup>,
    flags: FunctionFlags,
) -> rusqlite::Result<()> {
    for name in [
        "pg_relation_size",
        "pg_total_relation_size",
        "pg_table_size",
    ] {
        let l = lookup.clone();
        conn.create_scalar_function(name, 1, flags, move |c| {
            Ok(out_int(
                relation_arg(&*l, c).and_then(|o| l.relation_bytes(o)),
            ))
        })?;
    }
    let l = lookup.clone();
    conn.create_scalar_function("pg_indexes_size", 1, flags, move |c| {
        // A shard's indexes are inside its file, counted with the table.
        Ok(out_int(
            relation_arg(&*l, c).and_then(|o| l.relation_bytes(o).map(|_| 0)),
        ))
    })
}

/// `pg_get_function_result`, `pg_get_function_arguments`,
/// `pg_get_function_identity_arguments` and `pg_function_is_visible` of
/// a SQL function (psql's `\\df`).
fn register_functions(
    conn: &Connection,
    lookup: &Arc<dyn Lookup>,
    flags: FunctionFlags,
) -> rusqlite::Result<()> {
    use crate::types::function::{FunctionDef, Returns};
    fn result(f: &FunctionDef) -> String {
        match &f.returns {
            Returns::Scalar(t) => match &f.returns_domain {
                Some(d) => crate::types::enums::display_name(d),
                None => t.display_name(),
            },
            Returns::SetOf(t) => format!("SETOF {}", t.display_name()),
            Returns::Table(cols) => {
                let c: Vec<String> = cols
                    .iter()
                    .map(|(n, t)| format!("{} {}", crate::types::ident_text(n), t.display_name()))
                    .collect();
                format!("TABLE({})", c.join(", "))
            }
        }
    }
    fn arguments(f: &FunctionDef, defaults: bool) -> String {
        let a: Vec<String> = f
            .args
            .iter()
            .map(|a| {
                let mut s = match &a.name {
                    Some(n) => format!("{} {}", crate::types::ident_text(n), a.type_name()),
                    None => a.type_name(),
                };
                if let (true, Some(d)) = (defaults, &a.default) {
                    s.push_str(&format!(" DEFAULT {d}"));
                }
                s
            })
            .collect();
        a.join(", ")
    }
    type Show = fn(&FunctionDef) -> String;
    let shows: [(&str, Show); 3] = [
        ("pg_get_function_result", result),
        ("pg_get_function_arguments", |f| arguments(f, true)),
        ("pg_get_function_identity_arguments", |f| {
            arguments(f, false)
        }),
    ];
    for (name, show) in shows {
        let l = lookup.clone();
        conn.create_scalar_function(name, 1, flags, move |c| {
            let f = c.get::<Option<i64>>(0)?.and_then(|o| l.function(o));
            Ok(f.map(|f| show(&f)))
        })?;
    }
    let l = lookup.clone();
    conn.create_scalar_function("pg_function_is_visible", 1, flags, move |c| {
        let f = c.get::<Option<i64>>(0)?.and_then(|o| l.function(o));
        Ok(f.map(|_| true))
    })?;
    Ok(())
}

pub fn register_lookup(conn: &Connection, lookup: Arc<dyn Lookup>) -> rusqlite::Result<()> {
    register_format_type(conn, lookup.clone())?;
    let flags = FunctionFlags::SQLITE_UTF8; // the catalog changes under a prepared statement
    register_sizes(conn, &lookup, flags)?;
    register_functions(conn, &lookup, flags)?;
    super::privileges::register(conn, &lookup, flags)?;
    super::search_path::register(conn, &lookup, flags)?;
    let l = lookup.clone();
    conn.create_scalar_function("pg_get_userbyid", 1, flags, move |c| {
        Ok(match int(c, 0) {
            Some(o) => Value::Text(
                l.role_name(o)
                    .unwrap_or_else(|| format!("unknown (OID={o})")),
            ),
            None => Value::Null,
        })
    })?;
    for n in [1, 3] {
        let l = lookup.clone();
        conn.create_scalar_function("pg_get_indexdef", n, flags, move |c| {
            Ok(out(int(c, 0).and_then(|o| index_def(&*l, c, n, o))))
        })?;
    }
    for n in [1, 2] {
        let l = lookup.clone();
        conn.create_scalar_function("obj_description", n, flags, move |c| {
            // Only relations (pg_class) have descriptions here.
            let of_class = n == 1 || text(c, 1).is_some_and(|k| k == "pg_class");
            Ok(out(int(c, 0)
                .filter(|_| of_class)
                .and_then(|o| l.description(o, 0))))
        })?;
    }
    let l = lookup.clone();
    conn.create_scalar_function("col_description", 2, flags, move |c| {
        Ok(out(match (int(c, 0), int(c, 1)) {
            (Some(o), Some(n)) if n > 0 => l.description(o, n),
            _ => None,
        }))
    })?;
    for n in [1, 2] {
        let l = lookup.clone();
        conn.create_scalar_function("pg_get_viewdef", n, flags, move |c| {
            let oid = match c.get_raw(0) {
                ValueRef::Integer(o) => Some(o),
                v => as_text(v).and_then(|name| l.relation_oid(&name)),
            };
            Ok(out(oid.and_then(|o| l.view_def(o))))
        })?;
        let l = lookup.clone();
        conn.create_scalar_function("pg_get_constraintdef", n, flags, move |c| {
            Ok(out(int(c, 0).and_then(|o| l.constraint_def(o))))
        })?;
    }
    register_reg_casts(conn, lookup.clone(), flags)?;
    // No table is a partition: a relation's only ancestor is itself (psql
    // \d asks this before it lists who references a table).
    let l = lookup.clone();
    conn.create_scalar_function("pg_partition_ancestors", 1, flags, move |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Integer(n) => Value::Integer(n),
            v => match as_text(v) {
                Some(s) => match s.trim().parse::<i64>() {
                    Ok(n) => Value::Integer(n),
                    Err(_) => l.relation_oid(&s).map_or(Value::Null, Value::Integer),
                },
                None => Value::Null,
            },
        })
    })?;
    let l = lookup.clone();
    conn.create_scalar_function("pg_regclass_name", 1, flags, move |c| {
        Ok(out(int(c, 0).map(|o| {
            l.relation_name(o).unwrap_or_else(|| o.to_string())
        })))
    })?;
    let l = lookup.clone();
    conn.create_scalar_function("to_regclass", 1, flags, move |c| {
        Ok(text(c, 0)
            .and_then(|n| l.relation_oid(&n))
            .map_or(Value::Null, Value::Integer))
    })?;
    let l = lookup;
    conn.create_scalar_function("pg_regnamespace_name", 1, flags, move |c| {
        Ok(out(int(c, 0).map(|o| {
            l.namespace_name(o).unwrap_or_else(|| o.to_string())
        })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip() {
        let items = vec![Some("a"), None, Some("c d"), Some("x\"y")];
        let text = format_array(&items);
        assert_eq!(text, r#"{a,NULL,"c d","x\"y"}"#);
        let back = parse_array(&text);
        assert_eq!(
            back,
            vec![
                Some("a".to_string()),
                None,
                Some("c d".to_string()),
                Some("x\"y".to_string())
            ]
        );
        assert!(parse_array("{}").is_empty());
        // int2vector, as pg_index.indkey prints
        assert_eq!(
            parse_array("2 1"),
            vec![Some("2".to_string()), Some("1".to_string())]
        );
        assert!(parse_array("").is_empty());
    }

    #[test]
    fn format_type_names() {
        assert_eq!(format_type(23, Some(-1)), "integer");
        assert_eq!(format_type(1043, Some(24)), "character varying(20)");
        assert_eq!(format_type(1700, Some((10 << 16 | 2) + 4)), "numeric(10,2)");
        assert_eq!(format_type(1700, Some(-1)), "numeric");
        assert_eq!(format_type(1007, None), "integer[]");
    }
}

/// `pg_size_pretty(bigint)`: bytes below 10 kB, then the largest unit
/// that keeps the number below 20480, halves rounded away from zero, as
/// PostgreSQL 15 prints it.
fn size_pretty(size: i64) -> String {
    // (name, limit, rounded, bits of the unit)
    const UNITS: [(&str, i64, bool, u32); 6] = [
        ("bytes", 10 * 1024, false, 0),
        ("kB", 20 * 1024 - 1, true, 10),
        ("MB", 20 * 1024 - 1, true, 20),
        ("GB", 20 * 1024 - 1, true, 30),
        ("TB", 20 * 1024 - 1, true, 40),
        ("PB", 20 * 1024 - 1, true, 50),
    ];
    let mut size = size;
    for (i, &(name, limit, round, bits)) in UNITS.iter().enumerate() {
        let Some(&(_, _, next_round, next_bits)) = UNITS.get(i + 1) else {
            return format!("{} {name}", if round { half_rounded(size) } else { size });
        };
        if size.unsigned_abs() < limit as u64 {
            return format!("{} {name}", if round { half_rounded(size) } else { size });
        }
        let shift = next_bits - bits - u32::from(next_round) + u32::from(round);
        size /= 1i64 << shift;
    }
    format!("{size} bytes")
}

fn half_rounded(x: i64) -> i64 {
    (x + if x < 0 { -1 } else { 1 }) / 2
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn sizes_print_as_postgresql_prints_them() {
        let cases = [
            (0, "0 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (20971008, "20 MB"),
            (10_000_000, "9766 kB"),
            (20971520, "20 MB"),
            (1_000_000_000, "954 MB"),
            (-10240, "-10 kB"),
        ];
        for (n, want) in cases {
            assert_eq!(super::size_pretty(n), want, "{n}");
        }
    }
}
