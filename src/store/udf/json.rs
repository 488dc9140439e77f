//! json and jsonb functions, over `types::json` (the names the typed step
//! emits; SQLite's JSON1 prints numbers and booleans its own way):
//!
//! - `pg_to_json(x, 'type', jsonb)`: a value of a known type as JSON text
//!   (NULL for NULL), the one conversion every build function uses;
//! - `pg_json_object(…)`, `pg_jsonb_object(…)`, `pg_json_array(…)`,
//!   `pg_jsonb_array(…)` over such texts;
//! - the aggregates `pg_json_agg`, `pg_jsonb_agg`, `pg_json_object_agg`,
//!   `pg_jsonb_object_agg`;
//! - `pg_jsonb_cmp`, the collation `pg_jsonb` (jsonb's btree order),
//!   `pg_jsonb_contains`, `pg_jsonb_exists`;
//! - `pg_json_get(doc, key, jsonb, as_text)` and `pg_json_path(doc, path,
//!   jsonb, as_text)` (`->`, `->>`, `#>`, `#>>`), `pg_jsonb_subscript(doc,
//!   k, …)` (`doc[k]…`), `pg_json_typeof`,
//!   `pg_json_array_length`.

use std::cmp::Ordering;

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, datum, fail};
use crate::error::Error;
use crate::types::json::{self as j, ObjectBuilder, Step};
use crate::types::{cast_target, PgType, JSONB_COLLATION};

type FnResult = rusqlite::Result<Value>;

fn bad_json() -> rusqlite::Error {
    fail(Error::InvalidInput(
        "invalid input syntax for type json".into(),
    ))
}

fn text_arg(ctx: &Context<'_>, i: usize) -> Option<String> {
    as_text(ctx.get_raw(i))
}

fn flag(ctx: &Context<'_>, i: usize) -> bool {
    matches!(ctx.get_raw(i), ValueRef::Integer(n) if n != 0)
}

fn to_json(ctx: &Context<'_>) -> FnResult {
    let spec = text_arg(ctx, 1).unwrap_or_default();
    let ty = cast_target(&spec).unwrap_or(PgType::Text);
    let text = j::datum_json(&ty, &datum(ctx.get_raw(0))).map_err(fail)?;
    match text {
        None => Ok(Value::Null),
        Some(t) if flag(ctx, 2) => j::normalize_jsonb(&t).map(Value::Text).ok_or_else(bad_json),
        Some(t) => Ok(Value::Text(t)),
    }
}

fn all_args(ctx: &Context<'_>) -> Vec<Option<String>> {
    (0..ctx.len()).map(|i| text_arg(ctx, i)).collect()
}

fn opt(v: Option<String>) -> Value {
    v.map(Value::Text).unwrap_or(Value::Null)
}

fn boolean(v: Option<bool>) -> Value {
    v.map(|b| Value::Integer(i64::from(b)))
        .unwrap_or(Value::Null)
}

/// Both arguments as text, or `None` when either is NULL.
fn two(ctx: &Context<'_>) -> Option<(String, String)> {
    Some((text_arg(ctx, 0)?, text_arg(ctx, 1)?))
}

/// A path or key list: a JSON array the typed step wrote from a literal,
/// or a text[] value in PostgreSQL's array form.
fn elements(p: &str) -> rusqlite::Result<Vec<Option<String>>> {
    if p.trim_start().starts_with('{') {
        return Ok(crate::types::array::parse_array(p));
    }
    serde_json::from_str(p).map_err(|_| bad_json())
}

fn get(ctx: &Context<'_>, path: bool) -> FnResult {
    let (Some(doc), key) = (text_arg(ctx, 0), ctx.get_raw(1)) else {
        return Ok(Value::Null);
    };
    let steps = if path {
        let Some(p) = as_text(key) else {
            return Ok(Value::Null);
        };
        let elems = elements(&p)?;
        match elems.into_iter().collect::<Option<Vec<String>>>() {
            Some(e) => e.into_iter().map(Step::Elem).collect(),
            None => return Ok(Value::Null),
        }
    } else {
        match key {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Integer(n) => vec![Step::Index(n)],
            other => vec![Step::Key(as_text(other).unwrap_or_default())],
        }
    };
    Ok(opt(j::json_get(&doc, &steps, flag(ctx, 2), flag(ctx, 3))))
}

/// `doc[k1][k2]…` on jsonb: each subscript a path element, as `#>` reads
/// them; NULL when a subscript is NULL.
fn subscript(ctx: &Context<'_>) -> FnResult {
    let Some(doc) = text_arg(ctx, 0) else {
        return Ok(Value::Null);
    };
    let mut steps = Vec::with_capacity(ctx.len().saturating_sub(1));
    for i in 1..ctx.len() {
        match as_text(ctx.get_raw(i)) {
            Some(k) => steps.push(Step::Elem(k)),
            None => return Ok(Value::Null),
        }
    }
    Ok(opt(j::json_get(&doc, &steps, true, false)))
}

/// `a ?| keys` (`all` false) and `a ?& keys`, the keys a JSON array of
/// strings (NULLs among them ignored).
fn exists_some(ctx: &Context<'_>, all: bool) -> FnResult {
    let Some((doc, keys)) = two(ctx) else {
        return Ok(Value::Null);
    };
    let keys = elements(&keys)?;
    let mut hits = keys
        .iter()
        .flatten()
        .map(|k| j::jsonb_exists(&doc, k).ok_or_else(bad_json));
    let found = if all {
        hits.try_fold(true, |acc, h| h.map(|h| acc && h))?
    } else {
        hits.try_fold(false, |acc, h| h.map(|h| acc || h))?
    };
    Ok(boolean(Some(found)))
}

/// `a - key` and `a - index` on jsonb.
fn delete(ctx: &Context<'_>) -> FnResult {
    let Some(doc) = text_arg(ctx, 0) else {
        return Ok(Value::Null);
    };
    let done = match ctx.get_raw(1) {
        ValueRef::Null => return Ok(Value::Null),
        ValueRef::Integer(n) => j::jsonb_delete_index(&doc, n),
        other => j::jsonb_delete_key(&doc, &as_text(other).unwrap_or_default()),
    };
    match done {
        Ok(Some(t)) => Ok(Value::Text(t)),
        Ok(None) => Err(bad_json()),
        Err(m) => Err(fail(Error::InvalidParameter(m.into()))),
    }
}

/// `pg_jsonb_set(doc, path, new, create)`, `pg_jsonb_insert(doc, path,
/// new, after)` and `pg_jsonb_delete_path(doc, path)`: NULL for any NULL
/// argument, as PostgreSQL's strict functions.
fn edit(ctx: &Context<'_>, kind: &str) -> FnResult {
    let (Some(doc), Some(path)) = (text_arg(ctx, 0), text_arg(ctx, 1)) else {
        return Ok(Value::Null);
    };
    let (new, edit) = if kind == "delete" {
        (None, j::PathEdit::Delete)
    } else {
        let (Some(new), ValueRef::Integer(flag)) = (text_arg(ctx, 2), ctx.get_raw(3)) else {
            return Ok(Value::Null);
        };
        let edit = match kind {
            "set" => j::PathEdit::Set { create: flag != 0 },
            _ => j::PathEdit::Insert { after: flag != 0 },
        };
        (Some(new), edit)
    };
    let path = crate::types::array::parse_array(&path);
    match j::jsonb_edit(&doc, &path, new.as_deref(), edit).map_err(fail)? {
        Some(t) => Ok(Value::Text(t)),
        None => Err(bad_json()),
    }
}

/// `pg_jsonb_set_lax(doc, path, new, create, treatment)`: `jsonb_set`
/// unless the new value is NULL; then as `null_value_treatment` says.
fn set_lax(ctx: &Context<'_>) -> FnResult {
    let null = |i: usize| matches!(ctx.get_raw(i), ValueRef::Null);
    if null(0) || null(1) || null(3) {
        return Ok(Value::Null);
    }
    let treatment = text_arg(ctx, 4);
    let bad = || {
        fail(Error::InvalidParameter(
            "null_value_treatment must be \"delete_key\", \"return_target\", \"use_json_null\", or \"raise_exception\"".into(),
        ))
    };
    let Some(treatment) = treatment else {
        return Err(bad());
    };
    if !null(2) {
        return edit(ctx, "set");
    }
    let (doc, path) = (
        text_arg(ctx, 0).unwrap_or_default(),
        text_arg(ctx, 1).unwrap_or_default(),
    );
    let path = crate::types::array::parse_array(&path);
    let create = matches!(ctx.get_raw(3), ValueRef::Integer(f) if f != 0);
    let done = match treatment.as_str() {
        "raise_exception" => {
            return Err(fail(Error::NullValueNotAllowed("JSON value must not be null".into())
                .with_detail("Exception was raised because null_value_treatment is \"raise_exception\".")
                .with_hint("To avoid, either change the null_value_treatment argument or ensure that an SQL NULL is not passed.")))
        }
        "use_json_null" => j::jsonb_edit(&doc, &path, Some("null"), j::PathEdit::Set { create }),
        "delete_key" => j::jsonb_edit(&doc, &path, None, j::PathEdit::Delete),
        "return_target" => return Ok(Value::Text(doc)),
        _ => return Err(bad()),
    };
    match done.map_err(fail)? {
        Some(t) => Ok(Value::Text(t)),
        None => Err(bad_json()),
    }
}

/// `pg_json_records(doc, fname)`: the document of a record function, once
/// it is of the kind the function reads (an array of a `_recordset`, an
/// object of a `_record`), with PostgreSQL's 22023 otherwise.
fn records(ctx: &Context<'_>) -> FnResult {
    let (Some(doc), Some(fname)) = (text_arg(ctx, 0), text_arg(ctx, 1)) else {
        return Ok(Value::Null);
    };
    let kind = j::json_typeof(&doc).ok_or_else(bad_json)?;
    let wrong = match (fname.ends_with("set"), kind) {
        (true, "array") | (false, "object") => None,
        (true, _) => Some(format!("cannot call {fname} on a non-array")),
        (false, "array") => Some("cannot call populate_composite on an array".into()),
        (false, _) => Some("cannot call populate_composite on a scalar".into()),
    };
    match wrong {
        Some(m) => Err(fail(Error::InvalidParameter(m))),
        None => Ok(Value::Text(doc)),
    }
}

/// `pg_json_field(object, key, fname, jsonb, as_json)`: the field `key` of
/// one object as `populate_record` hands it to its column's input: NULL
/// when missing or JSON null, the JSON text for a json or jsonb column,
/// else a string's own text and any other value's JSON text.
fn field(ctx: &Context<'_>) -> FnResult {
    let (Some(doc), Some(key), Some(fname)) =
        (text_arg(ctx, 0), text_arg(ctx, 1), text_arg(ctx, 2))
    else {
        return Ok(Value::Null);
    };
    let (jsonb, as_json) = (flag(ctx, 3), flag(ctx, 4));
    if j::json_typeof(&doc) != Some("object") {
        return Err(fail(Error::InvalidParameter(format!(
            "argument of {fname} must be an array of objects"
        ))));
    }
    let items = j::json_items(&doc, j::Items::Each, &fname, jsonb, !as_json)
        .map_err(|m| fail(Error::InvalidParameter(m)))?;
    // A json object may repeat a key: the last one counts.
    let value = items
        .into_iter()
        .rev()
        .find(|(k, _)| k.as_deref() == Some(key.as_str()))
        .and_then(|(_, v)| v);
    Ok(match value {
        Some(v) if as_json && v == "null" => Value::Null,
        Some(v) => Value::Text(v),
        None => Value::Null,
    })
}

/// `json_agg`/`jsonb_agg` (`true` for jsonb): the elements' JSON texts.
/// `json_agg`/`jsonb_agg` (jsonb, and whether the values are rows or
/// arrays, which json separates by a line break as PostgreSQL does).
struct ArrayAgg(bool, bool);

impl Aggregate<Vec<Option<String>>, Value> for ArrayAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<Option<String>>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut Vec<Option<String>>) -> rusqlite::Result<()> {
        st.push(text_arg(ctx, 0));
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<Vec<Option<String>>>) -> FnResult {
        let Some(items) = st.filter(|i| !i.is_empty()) else {
            return Ok(Value::Null);
        };
        if self.1 && !self.0 {
            let mut out = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if item.is_some() { ", \n " } else { ", " });
                }
                out.push_str(item.as_deref().unwrap_or("null"));
            }
            out.push(']');
            return Ok(Value::Text(out));
        }
        let args: Vec<Option<String>> = items
            .into_iter()
            .map(|i| Some(i.unwrap_or_else(|| "null".into())))
            .collect();
        j::build_array(&args, self.0).map(Value::Text).map_err(fail)
    }
}

/// `json_object_agg`/`jsonb_object_agg`.
struct ObjectAgg(bool);

impl Aggregate<ObjectBuilder, Value> for ObjectAgg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<ObjectBuilder> {
        Ok(ObjectBuilder::default())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut ObjectBuilder) -> rusqlite::Result<()> {
        let Some(k) = text_arg(ctx, 0) else {
            return Err(fail(Error::InvalidParameter(
                "field name must not be null".into(),
            )));
        };
        st.push(&k, text_arg(ctx, 1).as_deref());
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<ObjectBuilder>) -> FnResult {
        match st {
            Some(b) if !b.is_empty() => b.aggregate(self.0).map(Value::Text).map_err(fail),
            _ => Ok(Value::Null),
        }
    }
}

fn jsonb_order(a: &str, b: &str) -> Ordering {
    j::jsonb_cmp(a, b).unwrap_or_else(|| a.cmp(b))
}

/// The rows the set-returning json function named by argument 1 makes of
/// the document in argument 0 (`None` for a NULL document).
fn rows_of(ctx: &Context<'_>) -> rusqlite::Result<Option<Vec<j::Item>>> {
    let fname: String = ctx.get(1)?;
    let Some(doc) = as_text(ctx.get_raw(0)) else {
        return Ok(None);
    };
    let (what, jsonb, text) = j::Items::of(&fname)
        .ok_or_else(|| fail(Error::Internal(format!("not a json function: {fname}"))))?;
    j::json_items(&doc, what, &fname, jsonb, text)
        .map(Some)
        .map_err(|m| fail(Error::InvalidParameter(m)))
}

/// `pg_json_items(doc, fname)`: the rows of the set-returning json
/// function `fname` over `doc`, as a JSON array of `{"k": key, "v":
/// value}` objects that `json_each` walks (`sql::rewrite::pg_catalog`).
fn json_items(ctx: &Context<'_>) -> rusqlite::Result<Value> {
    let Some(rows) = rows_of(ctx)? else {
        return Ok(Value::Text("[]".into()));
    };
    let out: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(k, v)| serde_json::json!({ "k": k, "v": v }))
        .collect();
    Ok(Value::Text(serde_json::Value::Array(out).to_string()))
}

/// `pg_json_rows(doc, fname)`: the values (keys for `_object_keys`) of
/// the set-returning json function `fname` as an array in PostgreSQL's
/// text form, which a SELECT list's set-returning calls walk.
fn json_rows(ctx: &Context<'_>) -> rusqlite::Result<Value> {
    let Some(rows) = rows_of(ctx)? else {
        return Ok(Value::Text("{}".into()));
    };
    let values: Vec<Option<String>> = rows.into_iter().map(|(_, v)| v).collect();
    Ok(Value::Text(crate::types::array::format_array(&values)))
}

/// `jsonb_path_exists(target, path [, vars [, silent]])` and the others
/// of `types::json::path` (NULL for a NULL argument, as they are strict).
fn json_path(ctx: &Context<'_>, want: j::path::Want) -> FnResult {
    let args = all_args(ctx);
    if args.iter().any(Option::is_none) {
        return Ok(Value::Null);
    }
    let arg = |i: usize| args.get(i).cloned().flatten();
    let vars = arg(2).unwrap_or_else(|| "{}".into());
    let silent = ctx.len() > 3 && flag(ctx, 3);
    let target = arg(0).unwrap_or_default();
    let path = arg(1).unwrap_or_default();
    Ok(
        match j::path::answer(want, &target, &path, &vars, silent).map_err(fail)? {
            j::path::Answer::Bool(b) => b
                .map(|b| Value::Integer(i64::from(b)))
                .unwrap_or(Value::Null),
            j::path::Answer::Json(t) => opt(t),
        },
    )
}

pub fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    use j::path::Want;
    for (name, want) in [
        ("jsonb_path_exists", Want::Exists),
        ("jsonb_path_match", Want::Match),
        ("jsonb_path_query_array", Want::Array),
        ("jsonb_path_query_first", Want::First),
    ] {
        for n in [name.to_string(), format!("{name}_tz")] {
            for arity in 2..=4 {
                conn.create_scalar_function(n.as_str(), arity, det, move |c| json_path(c, want))?;
            }
        }
    }
    conn.create_scalar_function("pg_json_items", 2, det, |c| json_items(c))?;
    conn.create_scalar_function("pg_json_rows", 2, det, |c| json_rows(c))?;
    conn.create_scalar_function("pg_to_json", 3, det, |c| to_json(c))?;
    for (name, jsonb) in [("pg_json_object", false), ("pg_jsonb_object", true)] {
        conn.create_scalar_function(name, -1, det, move |c| {
            j::build_object(&all_args(c), jsonb)
                .map(Value::Text)
                .map_err(fail)
        })?;
    }
    let rows = [
        ("pg_json_row", false, ","),
        ("pg_jsonb_row", true, ","),
        ("pg_json_row_pretty", false, ",\n "),
    ];
    for (name, jsonb, separator) in rows {
        conn.create_scalar_function(name, -1, det, move |c| {
            j::build_row(&all_args(c), jsonb, separator)
                .map(Value::Text)
                .map_err(fail)
        })?;
    }
    for (name, jsonb) in [("pg_json_array", false), ("pg_jsonb_array", true)] {
        conn.create_scalar_function(name, -1, det, move |c| {
            j::build_array(&all_args(c), jsonb)
                .map(Value::Text)
                .map_err(fail)
        })?;
    }
    conn.create_aggregate_function("pg_json_agg", 1, det, ArrayAgg(false, false))?;
    conn.create_aggregate_function("pg_json_agg_rows", 1, det, ArrayAgg(false, true))?;
    conn.create_aggregate_function("pg_jsonb_agg", 1, det, ArrayAgg(true, false))?;
    conn.create_aggregate_function("pg_json_object_agg", 2, det, ObjectAgg(false))?;
    conn.create_aggregate_function("pg_jsonb_object_agg", 2, det, ObjectAgg(true))?;
    conn.create_scalar_function("pg_jsonb_cmp", 2, det, |c| {
        Ok(match two(c) {
            Some((a, b)) => Value::Integer(jsonb_order(&a, &b) as i64),
            None => Value::Null,
        })
    })?;
    conn.create_collation(JSONB_COLLATION, jsonb_order)?;
    conn.create_scalar_function("pg_jsonb_contains", 2, det, |c| match two(c) {
        Some((a, b)) => j::jsonb_contains(&a, &b)
            .map(|x| boolean(Some(x)))
            .ok_or_else(bad_json),
        None => Ok(Value::Null),
    })?;
    conn.create_scalar_function("pg_jsonb_exists", 2, det, |c| match two(c) {
        Some((a, k)) => j::jsonb_exists(&a, &k)
            .map(|x| boolean(Some(x)))
            .ok_or_else(bad_json),
        None => Ok(Value::Null),
    })?;
    conn.create_scalar_function("pg_jsonb_exists_any", 2, det, |c| exists_some(c, false))?;
    conn.create_scalar_function("pg_jsonb_exists_all", 2, det, |c| exists_some(c, true))?;
    conn.create_scalar_function("pg_jsonb_delete", 2, det, |c| delete(c))?;
    conn.create_scalar_function("pg_jsonb_set", 4, det, |c| edit(c, "set"))?;
    conn.create_scalar_function("pg_json_records", 2, det, |c| records(c))?;
    conn.create_scalar_function("pg_json_field", 5, det, |c| field(c))?;
    conn.create_scalar_function("pg_jsonb_insert", 4, det, |c| edit(c, "insert"))?;
    conn.create_scalar_function("pg_jsonb_delete_path", 2, det, |c| edit(c, "delete"))?;
    conn.create_scalar_function("pg_jsonb_set_lax", 5, det, |c| set_lax(c))?;
    conn.create_scalar_function("pg_jsonb_strip_nulls", 1, det, |c| {
        Ok(opt(text_arg(c, 0).and_then(|d| j::jsonb_strip_nulls(&d))))
    })?;
    conn.create_scalar_function("pg_jsonb_pretty", 1, det, |c| {
        Ok(opt(text_arg(c, 0).and_then(|d| j::jsonb_pretty(&d))))
    })?;
    conn.create_scalar_function("pg_json_get", 4, det, |c| get(c, false))?;
    conn.create_scalar_function("pg_json_path", 4, det, |c| get(c, true))?;
    conn.create_scalar_function("pg_jsonb_subscript", -1, det, |c| subscript(c))?;
    conn.create_scalar_function("pg_json_typeof", 1, det, |c| {
        Ok(opt(text_arg(c, 0)
            .and_then(|d| j::json_typeof(&d))
            .map(String::from)))
    })?;
    conn.create_scalar_function("pg_json_array_length", 1, det, |c| {
        let Some(d) = text_arg(c, 0) else {
            return Ok(Value::Null);
        };
        match j::json_array_length(&d) {
            Ok(n) => Ok(n.map(Value::Integer).unwrap_or(Value::Null)),
            Err(m) => Err(fail(Error::InvalidParameter(m.into()))),
        }
    })
}
