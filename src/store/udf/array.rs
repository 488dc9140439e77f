//! Arrays of the SQL a client writes (`types::array`): the collations of
//! array columns, `ARRAY[…]`, subscripts and slices, comparisons, ANY/ALL,
//! containment and overlap, and the array functions. An array is its
//! stored text (`{1,2,NULL}`); a `family` argument names how its elements
//! compare and are stored (`types::array::Family`). The typed step
//! (`sql::infer::typed::array`) emits these names.

use std::cmp::Ordering;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, value, FnResult};
use crate::error::Error;
use crate::types::array::{self, compare_items, format_array, parse_array, Family};
use crate::types::{cast_target, PgType};

type Items = Vec<Option<String>>;

/// Argument `i` as an array's elements; `None` for NULL.
fn items(ctx: &Context<'_>, i: usize) -> Option<Items> {
    as_text(ctx.get_raw(i)).map(|s| parse_array(&s))
}

/// Argument `i` as an element's stored text (`None` for NULL).
fn element(ctx: &Context<'_>, i: usize) -> Option<String> {
    as_text(ctx.get_raw(i))
}

fn family(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Family> {
    let name: String = ctx.get(i)?;
    Family::from_name(&name)
        .ok_or_else(|| fail(Error::Internal(format!("unknown array family {name}"))))
}

fn int(ctx: &Context<'_>, i: usize) -> Option<i64> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn out(items: &[Option<String>]) -> Value {
    Value::Text(format_array(items))
}

fn boolean(b: Option<bool>) -> Value {
    b.map_or(Value::Null, |b| Value::Integer(i64::from(b)))
}

/// Whether two non-NULL elements are equal in `family`.
fn same(family: Family, a: &str, b: &str) -> bool {
    family.compare(a, b) == Ordering::Equal
}

/// `x op e` for the comparison operator `op`.
fn holds(op: &str, o: Ordering) -> rusqlite::Result<bool> {
    Ok(match op {
        "=" => o.is_eq(),
        "<>" => o.is_ne(),
        "<" => o.is_lt(),
        "<=" => o.is_le(),
        ">" => o.is_gt(),
        ">=" => o.is_ge(),
        other => return Err(fail(Error::Internal(format!("array operator {other}")))),
    })
}

/// `x op ANY(a)` (`all` false) or `x op ALL(a)`, three-valued.
fn quantified(ctx: &Context<'_>, all: bool) -> FnResult {
    let Some(a) = items(ctx, 1) else {
        return Ok(Value::Null);
    };
    let op: String = ctx.get(2)?;
    let family = family(ctx, 3)?;
    let x = element(ctx, 0);
    let mut unknown = false;
    for e in &a {
        match (&x, e) {
            (Some(x), Some(e)) => {
                if holds(&op, family.compare(x, e))? != all {
                    return Ok(boolean(Some(!all)));
                }
            }
            _ => unknown = true,
        }
    }
    Ok(boolean(if unknown { None } else { Some(all) }))
}

/// `a[i]`, stored as the element type is.
fn get(ctx: &Context<'_>) -> FnResult {
    let (Some(a), Some(i)) = (items(ctx, 0), int(ctx, 1)) else {
        return Ok(Value::Null);
    };
    let family = family(ctx, 2)?;
    let item = usize::try_from(i - 1)
        .ok()
        .and_then(|i| a.get(i).cloned().flatten());
    Ok(item.map_or(Value::Null, |s| value(family.value(&s))))
}

/// `a[lo:hi]`; a bound left out is the array's own.
fn slice(ctx: &Context<'_>) -> FnResult {
    let Some(a) = items(ctx, 0) else {
        return Ok(Value::Null);
    };
    let bound = |i: usize, default: i64| match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(t) if t == b"*" => Some(default),
        _ => int(ctx, i),
    };
    let n = a.len() as i64;
    let (Some(lo), Some(hi)) = (bound(1, 1), bound(2, n)) else {
        return Ok(Value::Null);
    };
    let (lo, hi) = (lo.max(1), hi.min(n));
    if lo > hi {
        return Ok(out(&[] as &[Option<String>]));
    }
    Ok(out(&a[(lo - 1) as usize..hi as usize]))
}

/// Where `x` is in `a` from `start` on (IS NOT DISTINCT FROM), 1-based.
fn positions(family: Family, a: &[Option<String>], x: &Option<String>) -> Vec<usize> {
    a.iter()
        .enumerate()
        .filter(|(_, e)| match (x, e) {
            (None, None) => true,
            (Some(x), Some(e)) => same(family, x, e),
            _ => false,
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// `a @> b`: every element of `b` is in `a` (a NULL element is never
/// contained).
fn contains(family: Family, a: &[Option<String>], b: &[Option<String>]) -> bool {
    b.iter().all(|e| match e {
        None => false,
        Some(e) => a.iter().flatten().any(|x| same(family, x, e)),
    })
}

/// The element text of a value cast to the element type `ty`.
fn cast_element(ty: &PgType, v: ValueRef<'_>) -> rusqlite::Result<Option<String>> {
    super::cast(ty, v)
        .map(|d| array::stored_text(&d))
        .map_err(fail)
}

fn array_type(spec: &str) -> rusqlite::Result<PgType> {
    match cast_target(spec) {
        Some(PgType::Array(elem)) => Ok(*elem),
        _ => Err(fail(Error::Internal(format!("not an array type: {spec}")))),
    }
}

/// `string_to_array(s, sep [, null])`.
fn string_to_array(ctx: &Context<'_>) -> FnResult {
    let Some(s) = element(ctx, 0) else {
        return Ok(Value::Null);
    };
    if s.is_empty() {
        return Ok(out(&[] as &[Option<String>]));
    }
    let null = if ctx.len() > 2 { element(ctx, 2) } else { None };
    let parts: Vec<String> = match element(ctx, 1) {
        None => s.chars().map(String::from).collect(),
        Some(sep) if sep.is_empty() => vec![s],
        Some(sep) => s.split(sep.as_str()).map(String::from).collect(),
    };
    let items: Items = parts
        .into_iter()
        .map(|p| (null.as_deref() != Some(p.as_str())).then_some(p))
        .collect();
    Ok(out(&items))
}

/// `array_to_string(a, sep [, null])`, each element as its type prints.
fn to_string(ctx: &Context<'_>) -> FnResult {
    let (Some(a), Some(sep)) = (items(ctx, 0), element(ctx, 1)) else {
        return Ok(Value::Null);
    };
    let null = if ctx.len() > 4 { element(ctx, 2) } else { None };
    let spec: String = ctx.get(ctx.len() - 2)?;
    let family = family(ctx, ctx.len() - 1)?;
    let elem = array_type(&spec)?;
    let parts: Vec<String> = a
        .into_iter()
        .filter_map(|e| match e {
            Some(s) => elem.render_text(&family.value(&s)),
            None => null.clone(),
        })
        .collect();
    Ok(Value::Text(parts.join(&sep)))
}

/// One array's elements recast to another element type.
fn cast_array(ctx: &Context<'_>) -> FnResult {
    let Some(a) = items(ctx, 0) else {
        return Ok(Value::Null);
    };
    let from = family(ctx, 1)?;
    let to = array_type(&ctx.get::<String>(2)?)?;
    let cast = a
        .into_iter()
        .map(|e| match e {
            None => Ok(None),
            // numeric to a number type rounds as PostgreSQL's casts do.
            Some(s) if from == Family::Numeric && to.storage() != crate::types::Storage::Text => {
                let n = crate::types::numeric::Numeric::parse(&s).map_err(fail)?;
                let v = super::numeric::numeric_to(&n, &to).map_err(fail)?;
                cast_element(&to, ValueRef::from(&v))
            }
            Some(s) => {
                let v = value(from.value(&s));
                cast_element(&to, ValueRef::from(&v))
            }
        })
        .collect::<rusqlite::Result<Items>>()?;
    Ok(out(&cast))
}

pub fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    for f in array::FAMILIES {
        conn.create_collation(f.collation().as_str(), move |a, b| array::compare(f, a, b))?;
    }
    conn.create_scalar_function("pg_array", -1, det, |c| {
        let all = (0..c.len()).map(|i| element(c, i)).collect::<Items>();
        Ok(out(&all))
    })?;
    conn.create_scalar_function("pg_array_get", 3, det, |c| get(c))?;
    conn.create_scalar_function("pg_arr_slice", 3, det, |c| slice(c))?;
    conn.create_scalar_function("pg_arr_elem", 2, det, |c| {
        let family = family(c, 1)?;
        Ok(element(c, 0).map_or(Value::Null, |s| value(family.value(&s))))
    })?;
    conn.create_scalar_function("pg_arr_cmp", 3, det, |c| {
        let (Some(a), Some(b)) = (items(c, 0), items(c, 1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Integer(compare_items(family(c, 2)?, &a, &b) as i64))
    })?;
    conn.create_scalar_function("pg_arr_any", 4, det, |c| quantified(c, false))?;
    conn.create_scalar_function("pg_arr_all", 4, det, |c| quantified(c, true))?;
    conn.create_scalar_function("pg_arr_contains", 3, det, |c| {
        let (Some(a), Some(b)) = (items(c, 0), items(c, 1)) else {
            return Ok(Value::Null);
        };
        Ok(boolean(Some(contains(family(c, 2)?, &a, &b))))
    })?;
    conn.create_scalar_function("pg_arr_overlap", 3, det, |c| {
        let (Some(a), Some(b)) = (items(c, 0), items(c, 1)) else {
            return Ok(Value::Null);
        };
        let family = family(c, 2)?;
        let any = b
            .iter()
            .flatten()
            .any(|e| a.iter().flatten().any(|x| same(family, x, e)));
        Ok(boolean(Some(any)))
    })?;
    register_functions(conn, det)
}

/// The array functions PostgreSQL names (`array_*`, `cardinality`, …)
/// that look into an array.
fn register_functions(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    // (name, which bound): array_length and array_upper give the length,
    // array_lower 1; all NULL for an empty array or another dimension.
    for (name, lower) in [
        ("pg_arr_length", false),
        ("pg_arr_upper", false),
        ("pg_arr_lower", true),
    ] {
        conn.create_scalar_function(name, 2, det, move |c| {
            let (Some(a), Some(dim)) = (items(c, 0), int(c, 1)) else {
                return Ok(Value::Null);
            };
            Ok(match (a.len(), dim) {
                (0, _) => Value::Null,
                (_, d) if d != 1 => Value::Null,
                (n, _) => Value::Integer(if lower { 1 } else { n as i64 }),
            })
        })?;
    }
    conn.create_scalar_function("pg_arr_ndims", 1, det, |c| {
        Ok(match items(c, 0) {
            Some(a) if !a.is_empty() => Value::Integer(1),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("pg_arr_dims", 1, det, |c| {
        Ok(match items(c, 0) {
            Some(a) if !a.is_empty() => Value::Text(format!("[1:{}]", a.len())),
            _ => Value::Null,
        })
    })?;
    // trim_array(a, n): all but the last n elements.
    conn.create_scalar_function("pg_arr_trim", 2, det, |c| {
        let (Some(a), Some(n)) = (items(c, 0), int(c, 1)) else {
            return Ok(Value::Null);
        };
        let len = a.len();
        match usize::try_from(n).ok().filter(|&n| n <= len) {
            Some(n) => Ok(out(&a[..len - n])),
            None => Err(fail(Error::ArrayElementError(format!(
                "number of elements to trim must be between 0 and {len}"
            )))),
        }
    })?;
    conn.create_scalar_function("pg_arr_cardinality", 1, det, |c| {
        Ok(items(c, 0).map_or(Value::Null, |a| Value::Integer(a.len() as i64)))
    })?;
    for n in [3, 4] {
        conn.create_scalar_function("pg_arr_position", n, det, move |c| {
            let Some(a) = items(c, 0) else {
                return Ok(Value::Null);
            };
            let family = family(c, n as usize - 1)?;
            let start = if n == 4 {
                match int(c, 2) {
                    Some(s) => s,
                    None => {
                        return Err(fail(Error::NullValueNotAllowed(
                            "initial position must not be null".into(),
                        )))
                    }
                }
            } else {
                1
            };
            let found = positions(family, &a, &element(c, 1))
                .into_iter()
                .find(|p| *p as i64 >= start);
            Ok(found.map_or(Value::Null, |p| Value::Integer(p as i64)))
        })?;
    }
    conn.create_scalar_function("pg_arr_positions", 3, det, |c| {
        let Some(a) = items(c, 0) else {
            return Ok(Value::Null);
        };
        let found: Items = positions(family(c, 2)?, &a, &element(c, 1))
            .into_iter()
            .map(|p| Some(p.to_string()))
            .collect();
        Ok(out(&found))
    })?;
    register_edits(conn, det)
}

/// The functions that build a new array from one (append, prepend, cat,
/// remove, replace, casts, text forms, fill).
fn register_edits(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_arr_append", 2, det, |c| {
        let mut a = items(c, 0).unwrap_or_default();
        a.push(element(c, 1));
        Ok(out(&a))
    })?;
    conn.create_scalar_function("pg_arr_prepend", 2, det, |c| {
        let mut a = items(c, 1).unwrap_or_default();
        a.insert(0, element(c, 0));
        Ok(out(&a))
    })?;
    conn.create_scalar_function("pg_arr_cat", 2, det, |c| {
        Ok(match (items(c, 0), items(c, 1)) {
            (None, None) => Value::Null,
            (a, b) => {
                let mut a = a.unwrap_or_default();
                a.extend(b.unwrap_or_default());
                out(&a)
            }
        })
    })?;
    conn.create_scalar_function("pg_arr_remove", 3, det, |c| {
        let Some(a) = items(c, 0) else {
            return Ok(Value::Null);
        };
        let gone = positions(family(c, 2)?, &a, &element(c, 1));
        let kept: Items = a
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !gone.contains(&(i + 1)))
            .map(|(_, e)| e)
            .collect();
        Ok(out(&kept))
    })?;
    conn.create_scalar_function("pg_arr_replace", 4, det, |c| {
        let Some(mut a) = items(c, 0) else {
            return Ok(Value::Null);
        };
        let to = element(c, 2);
        for p in positions(family(c, 3)?, &a, &element(c, 1)) {
            a[p - 1] = to.clone();
        }
        Ok(out(&a))
    })?;
    conn.create_scalar_function("pg_arr_out", 2, det, |c| {
        let spec: String = c.get(1)?;
        let ty = cast_target(&spec)
            .ok_or_else(|| fail(Error::Internal(format!("array type {spec}"))))?;
        Ok(as_text(c.get_raw(0)).map_or(Value::Null, |s| {
            ty.render_text(&crate::types::Datum::Text(s))
                .map_or(Value::Null, Value::Text)
        }))
    })?;
    for n in [4, 5] {
        conn.create_scalar_function("pg_arr_to_string", n, det, |c| to_string(c))?;
    }
    for n in [2, 3] {
        conn.create_scalar_function("pg_string_to_array", n, det, |c| string_to_array(c))?;
    }
    for n in [2, 3] {
        conn.create_scalar_function("pg_arr_fill", n, det, move |c| {
            let Some(dims) = items(c, 1) else {
                return Err(fail(Error::NullValueNotAllowed(
                    "dimension array or low bound array cannot be null".into(),
                )));
            };
            if n == 3 && items(c, 2).is_none_or(|l| l != [Some("1".to_string())]) {
                return Err(fail(Error::Unsupported(
                    "array_fill with lower bounds other than 1".into(),
                )));
            }
            let count = match dims.as_slice() {
                [] => 0,
                [Some(d)] => d.parse::<usize>().unwrap_or(0),
                _ => return Err(fail(Error::Unsupported("multidimensional arrays".into()))),
            };
            if count > 100_000_000 {
                return Err(fail(Error::TooComplex(
                    "array size exceeds the maximum allowed (134217727)".into(),
                )));
            }
            Ok(out(&vec![element(c, 0); count]))
        })?;
    }
    conn.create_scalar_function("pg_arr_cast", 3, det, |c| cast_array(c))
}
