//! pgvector's functions on stored vectors (`types::vector`): the distances
//! behind `<->`, `<=>`, `<#>` and `<+>`, `vector_dims`, `vector_norm`,
//! `l2_normalize`, `subvector`, `+ - *` and `||`, the btree order
//! (`pg_vector_cmp`), text output, and `sum`/`avg`. The typed step
//! (`sql::infer::typed::vector`) emits these `pg_vector_*` names.
//!
//! The distances themselves are `types::vector::distance`, pgvector's
//! arithmetic.

use std::sync::Arc;

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{fail, FnResult};
use crate::error::Error;
use crate::types::vector::{self, check_same, Metric};

/// Argument `i` as a vector; `None` for NULL. Text is read as a vector's
/// text form (a parameter or literal the typed step could not convert).
fn arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Vec<f32>>> {
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => vector::from_blob(b).map(Some).map_err(fail),
        ValueRef::Text(t) => vector::parse(&String::from_utf8_lossy(t))
            .map(Some)
            .map_err(fail),
        _ => Err(fail(Error::DatatypeMismatch(
            "a vector argument that is not a vector".into(),
        ))),
    }
}

fn blob(v: &[f32]) -> Value {
    Value::Blob(vector::to_blob(v))
}

fn overflow() -> Error {
    Error::NumericOutOfRange("value out of range: overflow".into())
}

/// `f(a, b)` of two vectors of the same dimensions, NULL when either is.
fn pair(ctx: &Context<'_>, f: impl Fn(&[f32], &[f32]) -> Result<Value, Error>) -> FnResult {
    match (arg(ctx, 0)?, arg(ctx, 1)?) {
        (Some(a), Some(b)) => {
            check_same(&a, &b).map_err(fail)?;
            f(&a, &b).map_err(fail)
        }
        _ => Ok(Value::Null),
    }
}

/// Argument `i` as a vector, kept by SQLite between rows when the
/// argument is a constant (a literal or parameter: the query vector of a
/// nearest-neighbour scan is read once per statement, not once per row).
fn cached_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Arc<Vec<f32>>>> {
    if let ValueRef::Null = ctx.get_raw(i) {
        return Ok(None);
    }
    ctx.get_or_create_aux(i as i32, |v| -> rusqlite::Result<Vec<f32>> {
        match v {
            ValueRef::Blob(b) => vector::from_blob(b).map_err(fail),
            ValueRef::Text(t) => vector::parse(&String::from_utf8_lossy(t)).map_err(fail),
            _ => Err(fail(Error::DatatypeMismatch(
                "a vector argument that is not a vector".into(),
            ))),
        }
    })
    .map(Some)
}

fn norm(a: &[f32]) -> f64 {
    a.iter()
        .fold(0.0f64, |n, x| n + f64::from(*x) * f64::from(*x))
        .sqrt()
}

/// A distance of two vectors, NULL when either is. The typed step puts a
/// constant operand second (the distances are symmetric), so the first is
/// read per row and the second once.
fn distance(ctx: &Context<'_>, m: Metric) -> FnResult {
    match (arg(ctx, 0)?, cached_arg(ctx, 1)?) {
        (Some(a), Some(b)) => {
            check_same(&a, &b).map_err(fail)?;
            Ok(Value::Real(vector::distance(
                m,
                a.iter().copied().zip(b.iter().copied()),
            )))
        }
        _ => Ok(Value::Null),
    }
}

/// Element-wise `+ - *` with pgvector's overflow checks, and for `*`
/// (`product`) its underflow check.
fn elementwise(
    a: &[f32],
    b: &[f32],
    op: fn(f32, f32) -> f32,
    product: bool,
) -> Result<Value, Error> {
    let out: Vec<f32> = a.iter().zip(b).map(|(x, y)| op(*x, *y)).collect();
    for ((r, x), y) in out.iter().zip(a).zip(b) {
        if r.is_infinite() {
            return Err(overflow());
        }
        if product && *r == 0.0 && *x != 0.0 && *y != 0.0 {
            return Err(Error::NumericOutOfRange(
                "value out of range: underflow".into(),
            ));
        }
    }
    Ok(blob(&out))
}

/// pgvector's btree order: element by element, then the shorter first.
fn compare(a: &[f32], b: &[f32]) -> i64 {
    for (x, y) in a.iter().zip(b) {
        if x < y {
            return -1;
        }
        if x > y {
            return 1;
        }
    }
    (a.len() as i64 - b.len() as i64).signum()
}

fn l2_normalize(a: &[f32]) -> Result<Value, Error> {
    let n = norm(a);
    if n <= 0.0 {
        return Ok(blob(&vec![0.0; a.len()]));
    }
    let out: Vec<f32> = a.iter().map(|x| (f64::from(*x) / n) as f32).collect();
    if out.iter().any(|x| x.is_infinite()) {
        return Err(overflow());
    }
    Ok(blob(&out))
}

/// `subvector(v, start, count)`: pgvector's 1-based slice, clipped to the
/// vector; an empty result is an error.
fn subvector(ctx: &mut Context<'_>) -> FnResult {
    let Some(a) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let (start, count) = match (ctx.get_raw(1), ctx.get_raw(2)) {
        (ValueRef::Integer(s), ValueRef::Integer(c)) => (s, c),
        _ => return Ok(Value::Null),
    };
    let empty = || {
        fail(Error::DataException(
            "vector must have at least 1 dimension".into(),
        ))
    };
    if count < 1 {
        return Err(empty());
    }
    let end = start.saturating_add(count).min(a.len() as i64 + 1);
    let start = start.max(1);
    if end <= start {
        return Err(empty());
    }
    Ok(blob(&a[(start - 1) as usize..(end - 1) as usize]))
}

/// The dimensions argument `i` of a cast asks for (NULL: any).
fn typmod(ctx: &Context<'_>, i: usize) -> Option<u32> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => u32::try_from(n).ok(),
        _ => None,
    }
}

/// `pg_vector_cast(v, n)`: text or a vector as `vector(n)`.
fn cast(ctx: &mut Context<'_>) -> FnResult {
    let Some(v) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    vector::check_typmod(typmod(ctx, 1), v.len()).map_err(fail)?;
    Ok(blob(&v))
}

/// `pg_vector_value(v)`: a vector literal the typed step read (checked
/// again: the same value whatever the caller passes).
fn cast_any(ctx: &mut Context<'_>) -> FnResult {
    Ok(arg(ctx, 0)?.map_or(Value::Null, |v| blob(&v)))
}

/// `pg_vector_from_array(a, n)`: an int, real, double or numeric array
/// (in its stored text form) as `vector(n)`, as pgvector's
/// `array_to_vector`.
fn from_array(ctx: &mut Context<'_>) -> FnResult {
    let Some(text) = super::as_text(ctx.get_raw(0)) else {
        return Ok(Value::Null);
    };
    // Stored arrays are one-dimensional (`types::array`).
    let mut out = Vec::new();
    for item in crate::types::array::parse_array(&text) {
        let Some(item) = item else {
            return Err(fail(Error::NullValueNotAllowed(
                "array must not contain nulls".into(),
            )));
        };
        let x: f64 = item.trim().parse().map_err(|_| {
            fail(Error::InvalidInput(format!(
                "invalid input syntax for type real: \"{item}\""
            )))
        })?;
        out.push(x as f32);
    }
    vector::check_dims(out.len()).map_err(fail)?;
    vector::check_typmod(typmod(ctx, 1), out.len()).map_err(fail)?;
    for x in &out {
        vector::check_element(*x).map_err(fail)?;
    }
    Ok(blob(&out))
}

/// `pg_vector_to_array(v)`: the vector as `real[]`, in its text form.
fn to_array(ctx: &mut Context<'_>) -> FnResult {
    let Some(v) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let items: Vec<Option<String>> = v
        .iter()
        .map(|x| Some(crate::types::number::format_float(f64::from(*x), true)))
        .collect();
    Ok(Value::Text(crate::types::array::format_array(&items)))
}

/// `pg_vector_sortkey(v)`: text whose byte order is pgvector's order of
/// vectors (element by element, then the shorter first): each element as
/// eight hex digits of its bits, flipped so they sort as the numbers do
/// (-0 as 0, which pgvector finds equal).
fn sort_key(ctx: &mut Context<'_>) -> FnResult {
    let Some(v) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let mut key = String::with_capacity(8 * v.len());
    for x in v {
        let bits = (if x == 0.0 { 0.0f32 } else { x }).to_bits();
        let ordered = if bits >> 31 == 1 {
            !bits
        } else {
            bits | 1 << 31
        };
        key.push_str(&format!("{ordered:08x}"));
    }
    Ok(Value::Text(key))
}

/// `sum(vector)`, added in `f64` and rounded to `f32` once: the answer does
/// not depend on the order rows come from shards and nodes. (pgvector adds
/// in `f32` in scan order, so its last digits depend on that order.)
struct Sum;

impl Aggregate<Vec<f64>, Value> for Sum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Vec<f64>> {
        Ok(Vec::new())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut Vec<f64>) -> rusqlite::Result<()> {
        let Some(v) = arg(ctx, 0)? else {
            return Ok(());
        };
        if st.is_empty() {
            *st = v.iter().map(|x| f64::from(*x)).collect();
            return Ok(());
        }
        if st.len() != v.len() {
            return Err(fail(Error::DataException(format!(
                "different vector dimensions {} and {}",
                st.len(),
                v.len()
            ))));
        }
        for (acc, x) in st.iter_mut().zip(&v) {
            *acc += f64::from(*x);
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<Vec<f64>>) -> FnResult {
        let Some(sum) = st.filter(|s| !s.is_empty()) else {
            return Ok(Value::Null);
        };
        let out: Vec<f32> = sum.iter().map(|s| *s as f32).collect();
        if out.iter().any(|x| x.is_infinite()) {
            return Err(fail(overflow()));
        }
        Ok(blob(&out))
    }
}

/// `avg(vector)`: pgvector sums in `f64` and divides each element by the
/// count, rounding to `f32` at the end.
struct Avg;

impl Aggregate<(Vec<f64>, f64), Value> for Avg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<(Vec<f64>, f64)> {
        Ok((Vec::new(), 0.0))
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut (Vec<f64>, f64)) -> rusqlite::Result<()> {
        let Some(v) = arg(ctx, 0)? else {
            return Ok(());
        };
        if st.0.is_empty() {
            st.0 = v.iter().map(|x| f64::from(*x)).collect();
        } else {
            vector::check_typmod(Some(st.0.len() as u32), v.len()).map_err(fail)?;
            for (acc, x) in st.0.iter_mut().zip(&v) {
                *acc += f64::from(*x);
                if acc.is_infinite() {
                    return Err(fail(overflow()));
                }
            }
        }
        st.1 += 1.0;
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<(Vec<f64>, f64)>) -> FnResult {
        let Some((sum, n)) = st.filter(|s| s.1 > 0.0) else {
            return Ok(Value::Null);
        };
        let out: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        for x in &out {
            vector::check_element(*x).map_err(fail)?;
        }
        Ok(blob(&out))
    }
}

/// sqlite-vec (its `vec_*` functions and the `vec0` virtual table that
/// shard files keep as a nearest-neighbour index, `store::shard`) on
/// `conn`. Loaded per connection rather than as an auto extension, so
/// every connection gets it where it gets MosaicDB's own functions.
#[allow(unsafe_code)]
fn load_sqlite_vec(conn: &Connection) -> rusqlite::Result<()> {
    use std::os::raw::{c_char, c_int};
    type Init = unsafe extern "C" fn(
        *mut rusqlite::ffi::sqlite3,
        *mut *mut c_char,
        *const rusqlite::ffi::sqlite3_api_routines,
    ) -> c_int;
    // SAFETY: `sqlite3_vec_init` has the signature of every SQLite
    // extension entry point (sqlite-vec.h); the crate declares it without
    // arguments, hence the transmute. It is compiled with SQLITE_CORE, so
    // it calls the SQLite linked into this binary directly and never reads
    // the routines pointer; the handle is a live connection for the call.
    let rc = unsafe {
        let init: Init = std::mem::transmute(sqlite_vec::sqlite3_vec_init as *const ());
        init(conn.handle(), std::ptr::null_mut(), std::ptr::null())
    };
    if rc == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rc),
            Some("sqlite-vec did not load".into()),
        ))
    }
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    load_sqlite_vec(conn)?;
    for (name, m) in [
        ("pg_vector_l2", Metric::L2),
        ("pg_vector_cosine", Metric::Cosine),
        ("pg_vector_ip", Metric::Inner),
        ("pg_vector_neg_ip", Metric::NegInner),
        ("pg_vector_l1", Metric::L1),
    ] {
        conn.create_scalar_function(name, 2, det, move |c| distance(c, m))?;
    }
    conn.create_scalar_function("pg_vector_add", 2, det, |c| {
        pair(c, |a, b| elementwise(a, b, |x, y| x + y, false))
    })?;
    conn.create_scalar_function("pg_vector_sub", 2, det, |c| {
        pair(c, |a, b| elementwise(a, b, |x, y| x - y, false))
    })?;
    conn.create_scalar_function("pg_vector_mul", 2, det, |c| {
        pair(c, |a, b| elementwise(a, b, |x, y| x * y, true))
    })?;
    conn.create_scalar_function("pg_vector_cmp", 2, det, |c| {
        match (arg(c, 0)?, arg(c, 1)?) {
            (Some(a), Some(b)) => Ok(Value::Integer(compare(&a, &b))),
            _ => Ok(Value::Null),
        }
    })?;
    conn.create_scalar_function("pg_vector_concat", 2, det, |c| {
        match (arg(c, 0)?, arg(c, 1)?) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                vector::check_dims(a.len()).map_err(fail)?;
                Ok(blob(&a))
            }
            _ => Ok(Value::Null),
        }
    })?;
    conn.create_scalar_function("pg_vector_dims", 1, det, |c| {
        Ok(arg(c, 0)?.map_or(Value::Null, |a| Value::Integer(a.len() as i64)))
    })?;
    conn.create_scalar_function("pg_vector_norm", 1, det, |c| {
        Ok(arg(c, 0)?.map_or(Value::Null, |a| Value::Real(norm(&a))))
    })?;
    conn.create_scalar_function("pg_vector_l2_normalize", 1, det, |c| match arg(c, 0)? {
        Some(a) => l2_normalize(&a).map_err(fail),
        None => Ok(Value::Null),
    })?;
    conn.create_scalar_function("pg_vector_subvector", 3, det, subvector)?;
    conn.create_scalar_function("pg_vector_cast", 2, det, cast)?;
    conn.create_scalar_function("pg_vector_sortkey", 1, det, sort_key)?;
    conn.create_scalar_function("pg_vector_value", 1, det, cast_any)?;
    conn.create_scalar_function("pg_vector_from_array", 2, det, from_array)?;
    conn.create_scalar_function("pg_vector_to_array", 1, det, to_array)?;
    conn.create_scalar_function("pg_vector_out", 1, det, |c| {
        Ok(arg(c, 0)?.map_or(Value::Null, |a| Value::Text(vector::format(&a))))
    })?;
    conn.create_aggregate_function("pg_vector_sum", 1, det, Sum)?;
    conn.create_aggregate_function("pg_vector_avg", 1, det, Avg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_norms_are_pgvectors() {
        assert_eq!(compare(&[1.0, 2.0], &[1.0, 2.0, 0.0]), -1);
        assert_eq!(compare(&[1.0, 3.0], &[1.0, 2.0, 0.0]), 1);
        assert_eq!(norm(&[3.0, 4.0]), 5.0);
    }
}
