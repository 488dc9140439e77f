//! The typed step for the session's TimeZone: where PostgreSQL reads a
//! timestamptz as its wall time in the session's zone (casts to and from
//! timestamp, date, time and text, date_trunc, extract, to_char, age,
//! `± interval`, generate_series, to_timestamp of text), the calls of
//! `store::udf::zone` that do the same at run time. A timestamptz is
//! stored as UTC, so without these the answers would be UTC's.

use sqlparser::ast::{Expr, Value};

use super::expr::{arg_exprs, call, func_name, refuse, string, take};
use super::Typer;
use crate::error::Result;
use crate::types::PgType;

/// Names of the calls this step emits.
pub(super) fn is_zone_call(name: &str) -> bool {
    name.starts_with("pg_tz_")
}

/// `x` (a timestamptz) as its wall time in the session's zone.
pub(super) fn local(x: Expr) -> Expr {
    call("pg_tz_local", vec![x])
}

/// `x` (a timestamp, date or text) as the timestamptz of that wall time
/// in the session's zone.
pub(super) fn instant(x: Expr) -> Expr {
    call("pg_tz_instant", vec![x])
}

fn is_text(t: &PgType) -> bool {
    matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_))
}

/// The fields extract and date_part read from a timestamptz's instant
/// rather than its wall time.
fn absolute_field(name: &str) -> bool {
    name == "epoch"
}

fn zone_field(name: &str) -> bool {
    matches!(name, "timezone" | "timezone_hour" | "timezone_minute")
}

/// extract's `timezone` (seconds east), `timezone_hour` and
/// `timezone_minute` (both truncated toward zero, as PostgreSQL's C
/// division) of a timestamptz in the session's zone.
fn zone_part(field: &str, x: Expr) -> Expr {
    use sqlparser::ast::BinaryOperator as Op;
    let offset = call("pg_tz_offset", vec![x]);
    let op = |l: Expr, op: Op, n: &str| {
        Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(l),
            op,
            right: Box::new(Expr::Value(Value::Number(n.into(), false).into())),
        }))
    };
    match field {
        "timezone_hour" => op(offset, Op::Divide, "3600"),
        "timezone_minute" => op(op(offset, Op::Divide, "60"), Op::Modulo, "60"),
        _ => offset,
    }
}

impl Typer<'_> {
    /// A cast between timestamptz and timestamp, date, time or text;
    /// true when `e` was one.
    pub(super) fn zone_cast(&mut self, e: &mut Expr) -> bool {
        // `timestamptz '…'`: read when the statement runs.
        if let Expr::TypedString(ts) = e {
            if PgType::from_sql(&ts.data_type).ok() != Some(PgType::Timestamptz) {
                return false;
            }
            let Value::SingleQuotedString(text) = &ts.value.value else {
                return false;
            };
            *e = instant(string(text.clone()));
            return true;
        }
        let Expr::Cast {
            expr, data_type, ..
        } = e
        else {
            return false;
        };
        let Ok(target) = PgType::from_sql(data_type) else {
            return false;
        };
        let from = self.type_of(expr);
        match (&from, &target) {
            (PgType::Timestamptz, PgType::Timestamp | PgType::Date | PgType::Time) => {
                **expr = local(take(expr));
            }
            (PgType::Timestamptz, t) if is_text(t) => {
                **expr = call("pg_tz_text", vec![take(expr)]);
            }
            (PgType::Timestamptz, _) | (_, PgType::Timestamptz) if from == target => return false,
            (
                PgType::Timestamp
                | PgType::Date
                | PgType::Text
                | PgType::Varchar(_)
                | PgType::Bpchar(_)
                | PgType::Unknown,
                PgType::Timestamptz,
            ) => {
                **expr = instant(take(expr));
            }
            _ => return false,
        }
        true
    }

    /// A value assigned to a column (INSERT, UPDATE): a timestamp or date
    /// into a timestamptz column is read in the session's zone, a
    /// timestamptz into a timestamp, date or time column is its wall time
    /// there, and a quoted timestamptz without an offset is read when the
    /// statement runs (`sql::coerce` reads it then). True when `e` was
    /// converted.
    pub(super) fn zone_assign(&mut self, e: &mut Expr, src: &PgType, ty: &PgType) -> bool {
        let spec = |t: &PgType| string(crate::types::cast_spec(t));
        *e = match (src, ty) {
            (PgType::Timestamp | PgType::Date, PgType::Timestamptz) => instant(take(e)),
            (PgType::Timestamptz, PgType::Timestamp) => local(take(e)),
            (PgType::Timestamptz, PgType::Date | PgType::Time) => {
                call("pg_cast", vec![local(take(e)), spec(ty)])
            }
            (_, PgType::Timestamptz)
                if super::values::quoted(e).is_some_and(|t| !has_offset(t)) =>
            {
                instant(take(e))
            }
            _ => return false,
        };
        true
    }

    /// Quoted literals among values that together take the type
    /// timestamptz (CASE results, COALESCE's arguments): read in the
    /// session's zone when the statement runs.
    pub(super) fn zone_literals(&mut self, values: &mut [&mut Expr]) {
        let tz = values
            .iter()
            .any(|v| self.type_of(v) == PgType::Timestamptz);
        for v in values.iter_mut() {
            if tz && super::values::quoted(v).is_some_and(|t| !has_offset(t)) {
                **v = instant(take(v));
            }
        }
    }

    /// A VALUES list's columns that are timestamptz: their quoted
    /// literals are read in the session's zone when the statement runs.
    pub(super) fn zone_values(&mut self, v: &mut sqlparser::ast::Values) {
        let width = v.rows.first().map_or(0, |r| r.len());
        for j in 0..width {
            let mut column: Vec<&mut Expr> =
                v.rows.iter_mut().filter_map(|r| r.get_mut(j)).collect();
            self.zone_literals(&mut column);
        }
    }

    /// The arms of a set operation whose column is timestamptz: their
    /// quoted literals likewise.
    pub(super) fn zone_arms(
        &mut self,
        body: &mut sqlparser::ast::SetExpr,
        cols: &[(String, PgType)],
    ) {
        use sqlparser::ast::{SelectItem, SetExpr};
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.zone_arms(left, cols);
                self.zone_arms(right, cols);
            }
            SetExpr::Select(sel) => {
                for (item, (_, ty)) in sel.projection.iter_mut().zip(cols) {
                    if let (
                        SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. },
                        PgType::Timestamptz,
                    ) = (item, ty)
                    {
                        if super::values::quoted(x).is_some_and(|t| !has_offset(t)) {
                            *x = instant(take(x));
                        }
                    }
                }
            }
            SetExpr::Values(v) => {
                for row in &mut v.rows {
                    for (x, (_, ty)) in row.iter_mut().zip(cols) {
                        if *ty == PgType::Timestamptz
                            && super::values::quoted(x).is_some_and(|t| !has_offset(t))
                        {
                            *x = instant(take(x));
                        }
                    }
                }
            }
            SetExpr::Query(q) => self.zone_arms(&mut q.body, cols),
            _ => {}
        }
    }

    /// `extract(field FROM timestamptz)`; true when `e` was one.
    pub(super) fn zone_extract(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Extract { field, expr, .. } = e else {
            return Ok(false);
        };
        if self.type_of(expr) != PgType::Timestamptz {
            return Ok(false);
        }
        let name = super::interval::field_name(field);
        if zone_field(&name) {
            *e = zone_part(&name, take(expr));
            return Ok(true);
        }
        if !absolute_field(&name) {
            **expr = local(take(expr));
        }
        Ok(true)
    }

    /// The functions that read a timestamptz's wall time; true when `e`
    /// became another call.
    pub(super) fn zone_call(&mut self, e: &mut Expr, types: &[PgType]) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let name = func_name(f);
        let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(|a| a.clone()).collect();
        *e = match (name.as_str(), types) {
            ("date_trunc", [_, PgType::Timestamptz]) => call("pg_tz_trunc", args),
            ("date_trunc", [_, PgType::Timestamptz, _]) => call("pg_tz_trunc_in", args),
            ("date_part", [_, PgType::Timestamptz]) => {
                let field = super::values::quoted(&args[0]).map(|s| s.trim().to_lowercase());
                let Some(field) = field else {
                    return Err(refuse(
                        "date_part of a timestamptz with a field that is not a literal".into(),
                    ));
                };
                if zone_field(&field) {
                    zone_part(&field, take(&mut args[1]))
                } else if absolute_field(&field) {
                    return Ok(false);
                } else {
                    // date_part of the wall time, typed and rewritten as
                    // date_part of a timestamp.
                    let Expr::Function(f) = e else {
                        return Ok(false);
                    };
                    if let Some(a) = arg_exprs(f).into_iter().nth(1) {
                        *a = local(take(a));
                    }
                    return Ok(false);
                }
            }
            ("to_char", [PgType::Timestamptz, _]) => call("pg_tz_to_char", args),
            // A date is formatted as the timestamptz it casts to.
            ("to_char", [PgType::Date, _]) => {
                args[0] = instant(take(&mut args[0]));
                call("pg_tz_to_char", args)
            }
            ("age", [PgType::Timestamptz, PgType::Timestamptz]) => {
                call("pg_age", args.into_iter().map(local).collect::<Vec<_>>())
            }
            ("age", [PgType::Timestamptz]) => {
                let today = call("pg_current_date", vec![]);
                call("pg_age", vec![today, local(take(&mut args[0]))])
            }
            ("to_timestamp", [_, _]) => instant(call("pg_to_timestamp_text", args)),
            _ => return Ok(false),
        };
        Ok(true)
    }
}

/// An array about to be printed as text, with its type: an array of
/// timestamptz becomes the text[] of its elements printed in the
/// session's zone.
pub(super) fn array_text(array: Expr, ty: &PgType) -> (Expr, PgType) {
    match ty {
        PgType::Array(elem) if **elem == PgType::Timestamptz => (
            call("pg_tz_array_text", vec![array]),
            PgType::Array(Box::new(PgType::Text)),
        ),
        _ => (array, ty.clone()),
    }
}

/// `ts ± interval` of a timestamptz, in the session's zone.
pub(super) fn add(ts: Expr, interval: Expr, minus: bool) -> Expr {
    let sign = if minus { "-1" } else { "1" };
    call(
        "pg_tz_add",
        vec![
            ts,
            interval,
            Expr::Value(sqlparser::ast::Value::Number(sign.into(), false).into()),
        ],
    )
}

/// A quoted literal's text when it reads as the same timestamptz in
/// every zone (it carries its offset).
pub(super) fn has_offset(text: &str) -> bool {
    use crate::types::datetime::parse_timestamptz;
    use crate::types::zone::Zone;
    matches!(
        (parse_timestamptz(text, Zone::UTC), parse_timestamptz(text, Zone::Fixed(3600))),
        (Ok(a), Ok(b)) if a == b
    )
}
