//! Aggregates whose PostgreSQL result SQLite's built-ins do not give.
//!
//! `pg_avg`: the average of integers is a numeric in PostgreSQL, computed
//! exactly and shown with at least 16 significant digits
//! (`avg(1, 2)` is `1.5000000000000000`). Over floats it is the float mean.

use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

#[derive(Default)]
pub struct AvgState {
    int_sum: i128,
    real_sum: f64,
    n: i64,
    reals: bool,
}

struct PgAvg;

impl AvgState {
    fn add(&mut self, v: ValueRef<'_>, sign: i64) {
        match v {
            ValueRef::Integer(i) => {
                self.int_sum += (i as i128) * sign as i128;
                self.real_sum += i as f64 * sign as f64;
            }
            ValueRef::Real(f) => {
                self.reals = true;
                self.real_sum += f * sign as f64;
            }
            _ => return,
        }
        self.n += sign;
    }

    fn value(&self) -> Value {
        if self.n <= 0 {
            return Value::Null;
        }
        if self.reals {
            return Value::Real(self.real_sum / self.n as f64);
        }
        match exact_div(self.int_sum, self.n as i128) {
            Some(text) => Value::Text(text),
            None => Value::Real(self.real_sum / self.n as f64),
        }
    }
}

/// Base-10000 weight and leading digit of |x| (PostgreSQL's numeric layout).
fn weight(x: i128) -> (i32, i128) {
    let mut x = x.abs();
    if x == 0 {
        return (0, 0);
    }
    let mut w = 0;
    while x >= 10_000 {
        x /= 10_000;
        w += 1;
    }
    (w, x)
}

/// `a / b` as PostgreSQL's numeric division prints it (select_div_scale).
pub fn exact_div(a: i128, b: i128) -> Option<String> {
    let (w1, d1) = weight(a);
    let (w2, d2) = weight(b);
    let mut qweight = w1 - w2;
    if d1 <= d2 {
        qweight -= 1;
    }
    let rscale = (16 - qweight * 4).clamp(0, 1000) as u32;
    let scaled = a.checked_mul(10i128.checked_pow(rscale)?)?;
    let (mut q, r) = (scaled / b, scaled % b);
    if 2 * r.abs() >= b.abs() {
        q += if (a < 0) != (b < 0) { -1 } else { 1 };
    }
    let neg = q < 0;
    let digits = q.abs().to_string();
    let scale = rscale as usize;
    let digits = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
    } else {
        digits
    };
    let (int, frac) = digits.split_at(digits.len() - scale);
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(int);
    if scale > 0 {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

impl Aggregate<AvgState, Value> for PgAvg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<AvgState> {
        Ok(AvgState::default())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut AvgState) -> rusqlite::Result<()> {
        st.add(ctx.get_raw(0), 1);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<AvgState>) -> rusqlite::Result<Value> {
        Ok(st.map(|s| s.value()).unwrap_or(Value::Null))
    }
}

impl WindowAggregate<AvgState, Value> for PgAvg {
    fn value(&self, st: Option<&mut AvgState>) -> rusqlite::Result<Value> {
        Ok(st.map(|s| s.value()).unwrap_or(Value::Null))
    }

    fn inverse(&self, ctx: &mut Context<'_>, st: &mut AvgState) -> rusqlite::Result<()> {
        st.add(ctx.get_raw(0), -1);
        Ok(())
    }
}

/// `string_agg(DISTINCT x, sep [ORDER BY x])`: each distinct value once, in
/// the order SQLite feeds them (sorted when the call has ORDER BY).
struct StringAggDistinct;

#[derive(Default)]
pub struct DistinctState {
    seen: std::collections::HashSet<Vec<u8>>,
    out: Vec<u8>,
    any: bool,
}

impl Aggregate<DistinctState, Value> for StringAggDistinct {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<DistinctState> {
        Ok(DistinctState::default())
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut DistinctState) -> rusqlite::Result<()> {
        let v: Vec<u8> = match ctx.get_raw(0) {
            ValueRef::Null => return Ok(()),
            ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
            ValueRef::Integer(i) => i.to_string().into_bytes(),
            ValueRef::Real(f) => f.to_string().into_bytes(),
        };
        if !st.seen.insert(v.clone()) {
            return Ok(());
        }
        if st.any {
            if let ValueRef::Text(sep) | ValueRef::Blob(sep) = ctx.get_raw(1) {
                st.out.extend_from_slice(sep);
            }
        }
        st.any = true;
        st.out.extend_from_slice(&v);
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<DistinctState>) -> rusqlite::Result<Value> {
        Ok(match st {
            Some(s) if s.any => Value::Text(String::from_utf8_lossy(&s.out).into_owned()),
            _ => Value::Null,
        })
    }
}

/// `pg_avg_final(sum, count)`: the average from merged partial sums and
/// counts, as `pg_avg` would have given it over all the rows.
fn avg_final(ctx: &mut Context<'_>) -> rusqlite::Result<Value> {
    let n = match ctx.get_raw(1) {
        ValueRef::Integer(n) if n > 0 => n,
        _ => return Ok(Value::Null),
    };
    Ok(match ctx.get_raw(0) {
        ValueRef::Integer(s) => match exact_div(s as i128, n as i128) {
            Some(t) => Value::Text(t),
            None => Value::Real(s as f64 / n as f64),
        },
        ValueRef::Real(s) => Value::Real(s / n as f64),
        _ => Value::Null,
    })
}

/// `pg_one(x)`: the value of a scalar subquery's only row (NULL for no
/// row); a second row is PostgreSQL's 21000.
struct One;

impl Aggregate<(u64, Value), Value> for One {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<(u64, Value)> {
        Ok((0, Value::Null))
    }

    fn step(&self, ctx: &mut Context<'_>, st: &mut (u64, Value)) -> rusqlite::Result<()> {
        st.0 += 1;
        if st.0 > 1 {
            return Err(super::fail(crate::error::Error::CardinalityViolation));
        }
        st.1 = ctx.get::<Value>(0)?;
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, st: Option<(u64, Value)>) -> rusqlite::Result<Value> {
        Ok(st.map(|s| s.1).unwrap_or(Value::Null))
    }
}

/// `pg_grouping_null(k)`: NULL, as an aggregate, for a grouping set's
/// key outside the set (`sql::grouping_sets`).
struct GroupingNull;

impl Aggregate<(), Value> for GroupingNull {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<()> {
        Ok(())
    }

    fn step(&self, _: &mut Context<'_>, _: &mut ()) -> rusqlite::Result<()> {
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, _: Option<()>) -> rusqlite::Result<Value> {
        Ok(Value::Null)
    }
}

pub fn register(conn: &Connection, flags: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_aggregate_function("pg_one", 1, flags, One)?;
    conn.create_aggregate_function("pg_grouping_null", 1, flags, GroupingNull)?;
    conn.create_scalar_function("pg_avg_final", 2, flags, avg_final)?;
    conn.create_window_function("pg_avg", 1, flags, PgAvg)?;
    conn.create_aggregate_function("pg_string_agg_distinct", 2, flags, StringAggDistinct)
}

#[cfg(test)]
mod tests {
    use super::exact_div;

    #[test]
    fn numeric_division_prints_like_postgresql() {
        assert_eq!(exact_div(5, 2).as_deref(), Some("2.5000000000000000"));
        assert_eq!(exact_div(182, 61).as_deref(), Some("2.9836065573770492"));
        assert_eq!(exact_div(0, 3).as_deref(), Some("0.00000000000000000000"));
        assert_eq!(exact_div(-7, 2).as_deref(), Some("-3.5000000000000000"));
        assert_eq!(exact_div(200000, 3).as_deref(), Some("66666.666666666667"));
    }
}
