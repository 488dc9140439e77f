//! Expression-level rewrites. `pre` runs before an expression's children
//! are rewritten (where the PostgreSQL shape of a child matters), `post`
//! after (most rewrites: children are already SQLite).

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator as Op, CaseWhen, CeilFloorKind, DataType, DateTimeField, Expr, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, Ident, InTarget,
    ObjectName, TrimWhereField, UnaryOperator, Value,
};

use crate::error::{Error, Result};
pub(super) use crate::sql::build::call;
use crate::sql::build::take;
use crate::types::cast_spec;
use crate::types::PgType;

fn unsupported(what: &str) -> Error {
    Error::Unsupported(what.into())
}

fn string(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.into()).into())
}

/// Whether an expression is boolean by its shape alone.
fn is_boolish(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => matches!(v.value, Value::Boolean(_)),
        Expr::Nested(inner) => is_boolish(inner),
        Expr::BinaryOp { op, .. } => matches!(
            op,
            Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq | Op::And | Op::Or
        ),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            ..
        } => true,
        Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::IsDistinctFrom(..)
        | Expr::IsNotDistinctFrom(..)
        | Expr::In { .. }
        | Expr::Between { .. }
        | Expr::Like { .. }
        | Expr::ILike { .. }
        | Expr::Exists { .. } => true,
        Expr::Cast { data_type, .. } => {
            matches!(data_type, DataType::Bool | DataType::Boolean)
        }
        _ => false,
    }
}

fn is_text_type(dt: &DataType) -> bool {
    matches!(
        PgType::from_sql(dt),
        Ok(PgType::Text | PgType::Varchar(None))
    )
}

/// Aggregates, as the rewritten SQL names them: SQLite's own and every one
/// `sql::functions` registers (a test checks the list is complete).
pub(crate) const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "total",
    "avg",
    "min",
    "max",
    "group_concat",
    "string_agg",
    "json_group_array",
    "json_group_object",
    "pg_avg",
    "pg_one",
    "pg_array_agg",
    "pg_string_agg_distinct",
    "pg_grouping_null",
    "pg_int8_sum",
    "pg_numeric_sum",
    "pg_numeric_avg",
    "pg_numeric_min",
    "pg_numeric_max",
    "pg_interval_sum",
    "pg_interval_avg",
    "pg_json_agg",
    "pg_json_agg_rows",
    "pg_jsonb_agg",
    "pg_json_object_agg",
    "pg_jsonb_object_agg",
    "pg_percentile_cont",
    "pg_percentile_disc",
    "pg_percentile_cont_multi",
    "pg_percentile_disc_multi",
    "pg_mode",
    "bit_and",
    "bit_or",
    "bit_xor",
];

/// A scalar subquery must return at most one row (21000 otherwise), where
/// SQLite takes the first: a plain one-column SELECT gets its column
/// wrapped in the `pg_one` aggregate, which refuses a second row. (Others —
/// grouped, aggregated, limited, distinct, set operations — are left as
/// they are.)
fn single_row(q: &mut sqlparser::ast::Query) {
    use sqlparser::ast::{GroupByExpr, SelectItem, SetExpr};
    if q.limit_clause.is_some() || q.fetch.is_some() {
        return;
    }
    let SetExpr::Select(sel) = q.body.as_mut() else {
        return;
    };
    let plain_group = matches!(&sel.group_by, GroupByExpr::Expressions(g, _) if g.is_empty());
    if !plain_group || sel.having.is_some() || sel.distinct.is_some() || sel.projection.len() != 1 {
        return;
    }
    let item = &mut sel.projection[0];
    let expr = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return,
    };
    let mut aggregate_or_window = false;
    let _ = sqlparser::ast::visit_expressions(&*expr, |x| {
        if let Expr::Function(f) = x {
            let name = f.name.to_string().to_lowercase();
            if f.over.is_some()
                || AGGREGATES.contains(&name.as_str())
                || crate::sql::validate::STATISTICS.contains(&name.as_str())
                || crate::sql::validate::BINARY_STATISTICS.contains(&name.as_str())
            {
                aggregate_or_window = true;
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    if !aggregate_or_window {
        *expr = call("pg_one", vec![take(expr)]);
    }
}

/// `x op ANY|SOME|ALL (subquery)` with PostgreSQL's three-valued result,
/// spelled with EXISTS (SQLite has no quantified comparisons). Built as
/// PostgreSQL SQL before the children are rewritten, so they still are.
fn quantified_subquery(e: &Expr) -> Result<Option<Expr>> {
    let (left, op, right, all) = match e {
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => (left, compare_op, right, false),
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => (left, compare_op, right, true),
        _ => return Ok(None),
    };
    let Expr::Subquery(q) = right.as_ref() else {
        return Ok(None);
    };
    let cmp = format!("({left}) {op} _q.v");
    let from = format!("FROM ({q}) AS _q(v)");
    let sql = if all {
        format!(
            "CASE WHEN EXISTS (SELECT 1 {from} WHERE NOT ({cmp})) THEN false \
             WHEN EXISTS (SELECT 1 {from} WHERE ({cmp}) IS NULL) THEN NULL ELSE true END"
        )
    } else {
        format!(
            "CASE WHEN EXISTS (SELECT 1 {from} WHERE {cmp}) THEN true \
             WHEN EXISTS (SELECT 1 {from} WHERE ({cmp}) IS NULL) THEN NULL ELSE false END"
        )
    };
    crate::sql::parse_expr(&sql).map(Some)
}

/// Before children: `bool_expr::text` must print `true`/`false`, which
/// needs the PostgreSQL shape of the operand.
pub(super) fn pre(e: &mut Expr) -> Result<()> {
    if let Some(new) = quantified_subquery(e)? {
        *e = new;
        return Ok(());
    }
    // `x = ANY(ARRAY[..])` before the array literal is seen (and refused).
    if let Expr::AnyOp {
        left,
        compare_op: Op::Eq,
        right,
        ..
    } = e
    {
        if let Expr::Array(arr) = &mut **right {
            let list = std::mem::take(&mut arr.elem);
            *e = Expr::In {
                expr: Box::new(take(left)),
                target: InTarget::List(list),
                negated: false,
                global: false,
            };
            return Ok(());
        }
    }
    if let Expr::Cast {
        expr, data_type, ..
    } = e
    {
        if is_text_type(data_type) && is_boolish(expr) {
            let inner = take(expr);
            *e = Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: Some(Box::new(Expr::Nested(Box::new(inner)))),
                conditions: vec![
                    CaseWhen {
                        condition: Expr::Value(Value::Number("1".into(), false).into()),
                        result: string("true"),
                    },
                    CaseWhen {
                        condition: Expr::Value(Value::Number("0".into(), false).into()),
                        result: string("false"),
                    },
                ],
                else_result: None,
            };
        }
    }
    Ok(())
}

/// After children: everything else.
pub(super) fn post(e: &mut Expr) -> Result<()> {
    if let Expr::Subquery(q) = e {
        single_row(q);
        return Ok(());
    }
    if let Some(what) = refused(e) {
        return Err(unsupported(what));
    }
    let new = match e {
        Expr::Value(v) => return rewrite_value(&mut v.value),
        Expr::Cast {
            expr, data_type, ..
        } => cast(take(expr), data_type)?,
        Expr::TypedString(ts) => typed_string(ts)?,
        Expr::Interval(iv) => interval_literal(iv)?,
        Expr::ILike {
            negated,
            expr,
            pattern,
            escape_char,
            ..
        } => Expr::Like {
            negated: *negated,
            any: false,
            expr: Box::new(call("lower", vec![take(expr)])),
            pattern: Box::new(call("lower", vec![take(pattern)])),
            escape_char: Some(escape_char.take().unwrap_or_else(backslash)),
        },
        // PostgreSQL's LIKE escapes with a backslash unless told otherwise;
        // SQLite's has no escape character by default.
        Expr::Like {
            escape_char: esc @ None,
            ..
        } => {
            *esc = Some(backslash());
            return Ok(());
        }
        Expr::SimilarTo {
            negated,
            expr,
            pattern,
            escape_char,
        } => {
            let mut args = vec![take(expr), take(pattern)];
            args.extend(escape_char.take().map(|e| *e));
            let m = call("pg_similar", args);
            match negated {
                true => Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Not,
                    expr: Box::new(Expr::Nested(Box::new(m))),
                },
                false => m,
            }
        }
        Expr::IsDistinctFrom(a, b) => Expr::BinaryOp {
            left: Box::new(take(a)),
            op: Op::Custom("IS NOT".into()),
            right: Box::new(take(b)),
        },
        Expr::IsNotDistinctFrom(a, b) => Expr::BinaryOp {
            left: Box::new(take(a)),
            op: Op::Custom("IS".into()),
            right: Box::new(take(b)),
        },
        Expr::IsUnknown(a) => Expr::IsNull(Box::new(take(a))),
        Expr::IsNotUnknown(a) => Expr::IsNotNull(Box::new(take(a))),
        Expr::BinaryOp { left, op, right } => match binary(op)? {
            Some(f) => call(f, vec![take(left), take(right)]),
            None => return Ok(()),
        },
        Expr::UnaryOp { op, expr } => match unary(op)? {
            Some(f) => call(f, vec![take(expr)]),
            None => return Ok(()),
        },
        Expr::Extract { field, expr, .. } => {
            call("pg_extract", vec![string(&field_name(field)), take(expr)])
        }
        Expr::Ceil { expr, field } => ceil_floor("ceil", take(expr), field)?,
        Expr::Floor { expr, field } => ceil_floor("floor", take(expr), field)?,
        Expr::Position { expr, r#in } => call("instr", vec![take(r#in), take(expr)]),
        Expr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => substring(take(expr), substring_from.take(), substring_for.take()),
        Expr::Trim {
            trim_where,
            trim_what,
            expr,
            trim_characters,
        } => trim(
            trim_where,
            take(expr),
            trim_what.take(),
            trim_characters.take(),
        ),
        Expr::Overlay {
            expr,
            overlay_what,
            overlay_from,
            overlay_for,
        } => {
            let mut args = vec![take(expr), take(overlay_what), take(overlay_from)];
            args.extend(overlay_for.take().map(|n| *n));
            call("pg_overlay", args)
        }
        Expr::Function(f) => return function(f),
        _ => return Ok(()),
    };
    *e = new;
    Ok(())
}

/// What the rewrite cannot translate in `e`'s own shape, if anything.
fn refused(e: &Expr) -> Option<&'static str> {
    Some(match e {
        Expr::ILike { any: true, .. } => "ILIKE ANY",
        Expr::Like { any: true, .. } => "LIKE ANY",
        Expr::RLike { .. } => "regular expression match",
        Expr::In {
            target: InTarget::Unnest(_) | InTarget::Table { .. },
            ..
        } => "IN UNNEST",
        Expr::AnyOp { .. } | Expr::AllOp { .. } => "ANY/ALL",
        Expr::Array(_) => "arrays",
        Expr::AtTimeZone { .. } => "AT TIME ZONE",
        Expr::CompoundFieldAccess { .. } | Expr::JsonAccess { .. } => "subscripts",
        Expr::IsJson { .. } => "IS JSON",
        // Only the numeric collation the typed step puts on sort keys.
        Expr::Collate { collation, .. }
            if !crate::types::is_typed_collation(&collation.to_string()) =>
        {
            "COLLATE"
        }
        Expr::GroupingSets(_) | Expr::Cube(_) | Expr::Rollup(_) => "GROUPING SETS",
        _ => return None,
    })
}

/// `INTERVAL '…' [qualifier]` as its stored text: read and kept as the
/// qualifier says (`types::interval::Range`: `INTERVAL '1.5' DAY` is
/// `1 day`), the seconds rounded to a precision given (`SECOND(2)`,
/// `DAY TO SECOND(2)`).
fn interval_literal(iv: &sqlparser::ast::Interval) -> Result<Expr> {
    use crate::types::interval::{Interval, Range};
    let text = match iv.value.as_ref() {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => s.clone(),
            Value::Number(n, _) => n.clone(),
            _ => return Err(unsupported("INTERVAL of an expression")),
        },
        _ => return Err(unsupported("INTERVAL of an expression")),
    };
    let range = match &iv.leading_field {
        None if iv.last_field.is_none() => None,
        None => return Err(unsupported("INTERVAL with this field qualifier")),
        Some(f) => {
            let last = iv.last_field.as_ref().map(field_name);
            match Range::of(&field_name(f), last.as_deref()) {
                Some(r) => Some(r),
                None => return Err(unsupported("INTERVAL with this field qualifier")),
            }
        }
    };
    // SECOND(p) alone, or `… TO SECOND(p)`.
    let precision = match (range, iv.leading_precision, iv.fractional_seconds_precision) {
        (_, None, None) => None,
        (Some(Range::Second), Some(p), None) | (Some(_), None, Some(p))
            if range.is_some_and(Range::has_seconds) =>
        {
            Some(p)
        }
        _ => return Err(unsupported("INTERVAL with this precision")),
    };
    let precision = match precision {
        Some(p) if p > 6 => Some(6),
        Some(p) => Some(p as u32),
        None => None,
    };
    Ok(string(
        &Interval::parse_qualified(&text, range, precision)?.format(),
    ))
}

/// `TYPE 'literal'` as a cast of the (rewritten) literal.
fn typed_string(ts: &sqlparser::ast::TypedString) -> Result<Expr> {
    let mut v = Expr::Value(ts.value.clone());
    if let Expr::Value(inner) = &mut v {
        rewrite_value(&mut inner.value)?;
    }
    cast(v, &ts.data_type)
}

/// `SUBSTRING(s FROM a FOR n)` as a call, starting at 1 when no start is given.
fn substring(expr: Expr, from: Option<Box<Expr>>, length: Option<Box<Expr>>) -> Expr {
    let mut args = vec![expr];
    args.push(from.map_or_else(|| number("1"), |b| *b));
    if let Some(n) = length {
        args.push(*n);
    }
    call("pg_substring", args)
}

/// `TRIM([LEADING|TRAILING|BOTH] [what] FROM s)` as SQLite's trim functions.
fn trim(
    side: &Option<TrimWhereField>,
    expr: Expr,
    what: Option<Box<Expr>>,
    characters: Option<Vec<Expr>>,
) -> Expr {
    let name = match side {
        Some(TrimWhereField::Leading) => "ltrim",
        Some(TrimWhereField::Trailing) => "rtrim",
        _ => "trim",
    };
    let mut args = vec![expr];
    if let Some(w) = what {
        args.push(*w);
    }
    if let Some(chars) = characters {
        args.extend(chars);
    }
    call(name, args)
}

/// The registered function a prefix operator becomes; `None` when SQLite's
/// own operator means the same.
fn unary(op: &UnaryOperator) -> Result<Option<&'static str>> {
    Ok(match op {
        UnaryOperator::PGSquareRoot => Some("sqrt"),
        UnaryOperator::PGAbs => Some("abs"),
        UnaryOperator::Not | UnaryOperator::Minus | UnaryOperator::Plus => None,
        other => return Err(Error::Unsupported(format!("operator {other}"))),
    })
}

fn ceil_floor(name: &str, inner: Expr, field: &CeilFloorKind) -> Result<Expr> {
    if !matches!(
        field,
        CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
    ) {
        return Err(unsupported("CEIL/FLOOR with a field or scale"));
    }
    Ok(call(name, vec![inner]))
}

fn number(n: &str) -> Expr {
    Expr::Value(Value::Number(n.into(), false).into())
}

fn rewrite_value(v: &mut Value) -> Result<()> {
    match v {
        Value::Placeholder(p) => {
            if let Some(n) = p.strip_prefix('$') {
                *p = format!("?{n}");
            }
        }
        Value::Boolean(b) => *v = Value::Number(if *b { "1" } else { "0" }.into(), false),
        Value::EscapedStringLiteral(s) => *v = Value::SingleQuotedString(std::mem::take(s)),
        Value::DollarQuotedString(d) => {
            *v = Value::SingleQuotedString(std::mem::take(&mut d.value))
        }
        // X'..' (from a bytea literal typed by context) is SQLite's own.
        Value::HexStringLiteral(_) => {}
        Value::SingleQuotedByteStringLiteral(_) => return Err(unsupported("byte string literals")),
        _ => {}
    }
    Ok(())
}

fn backslash() -> Box<Expr> {
    Box::new(Expr::Value(Value::SingleQuotedString("\\".into()).into()))
}

fn cast(inner: Expr, dt: &DataType) -> Result<Expr> {
    let ty = PgType::from_sql(dt)?;
    let c = call("pg_cast", vec![inner, string(&cast_spec(&ty))]);
    Ok(match crate::types::timestamp_precision(dt) {
        // timestamp(p): rounded to p fractional digits.
        Some(p) => call(
            "pg_round_timestamp",
            vec![c, Expr::Value(Value::Number(p.to_string(), false).into())],
        ),
        None => c,
    })
}

/// The registered function an operator becomes; `None` when SQLite's own
/// operator means the same.
fn binary(op: &Op) -> Result<Option<&'static str>> {
    Ok(match op {
        Op::Divide => Some("pg_div"),
        Op::Modulo => Some("pg_mod"),
        Op::PGExp => Some("power"),
        // Integer overflow is an error and dates take day arithmetic.
        Op::Plus => Some("pg_add"),
        Op::PGStartsWith => Some("pg_starts_with"),
        Op::PGBitwiseXor => Some("pg_xor"),
        Op::Minus => Some("pg_sub"),
        Op::Multiply => Some("pg_mul"),
        Op::StringConcat
        | Op::Gt
        | Op::Lt
        | Op::GtEq
        | Op::LtEq
        | Op::Eq
        | Op::NotEq
        | Op::And
        | Op::Or
        | Op::BitwiseOr
        | Op::BitwiseAnd
        | Op::PGBitwiseShiftLeft
        | Op::PGBitwiseShiftRight
        | Op::Arrow
        | Op::LongArrow => None,
        // Vector distances: the vector extension owns their translation.
        Op::Spaceship | Op::LtDashGt => None,
        Op::Custom(c) if c == "<#>" || c == "IS" || c == "IS NOT" => None,
        other => return Err(Error::Unsupported(format!("operator {other}"))),
    })
}

fn field_name(f: &DateTimeField) -> String {
    match f {
        DateTimeField::Custom(i) => i.value.to_ascii_lowercase(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

fn rename(f: &mut Function, name: &str) {
    f.name = ObjectName::from(vec![Ident::new(name)]);
}

fn arg_count(f: &Function) -> usize {
    match &f.args {
        FunctionArguments::List(l) => l.args.len(),
        _ => 0,
    }
}

/// The time and session functions, as the SQLite functions that answer
/// them (`None`: not one of them).
fn session_value(name: &str, f: &Function) -> Result<Option<Function>> {
    let new = match name {
        "now"
        | "transaction_timestamp"
        | "current_timestamp"
        | "localtimestamp"
        | "statement_timestamp"
        | "clock_timestamp" => {
            let target = match name {
                "statement_timestamp" => "pg_statement_timestamp",
                "clock_timestamp" => "pg_clock_timestamp",
                _ => "pg_now",
            };
            // current_timestamp(p) and localtimestamp(p): rounded to p digits.
            let args = match (&f.args, name) {
                (FunctionArguments::List(l), "current_timestamp" | "localtimestamp") => l
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => vec![],
            };
            // localtimestamp: the wall time in the session's zone.
            match name {
                "localtimestamp" => call("pg_tz_local", vec![call(target, args)]),
                _ => call(target, args),
            }
        }
        // The time of day of the transaction's start in the session's
        // zone; current_time is a time with time zone.
        "localtime" if matches!(f.args, FunctionArguments::None) => call(
            "pg_cast",
            vec![
                call("pg_tz_local", vec![call("pg_now", vec![])]),
                Expr::Value(Value::SingleQuotedString("time".into()).into()),
            ],
        ),
        "localtime" => return Err(Error::Unsupported("localtime(p)".into())),
        "current_time" => {
            return Err(Error::Unsupported(
                "current_time (type time with time zone)".into(),
            ));
        }
        // SQL's parenthesis-less CURRENT_USER & co. are calls to SQLite.
        "current_user" | "session_user" | "user" | "current_catalog"
            if matches!(f.args, FunctionArguments::None) =>
        {
            let to = if name == "current_catalog" {
                "current_database"
            } else {
                name
            };
            call(to, vec![])
        }
        _ => return Ok(None),
    };
    match new {
        Expr::Function(g) => Ok(Some(g)),
        _ => Ok(None),
    }
}

fn function(f: &mut Function) -> Result<()> {
    let full = f.name.to_string().to_ascii_lowercase();
    let name = full
        .strip_prefix("pg_catalog.")
        .unwrap_or(&full)
        .to_string();
    if !f.within_group.is_empty() {
        return Err(Error::Unsupported(format!("{name} WITHIN GROUP")));
    }
    if let Some(g) = session_value(&name, f)? {
        *f = g;
        return Ok(());
    }
    let renamed = match name.as_str() {
        "current_date" => {
            *f = match call("pg_current_date", vec![]) {
                Expr::Function(g) => g,
                _ => unreachable!("call builds a function"),
            };
            return Ok(());
        }
        "length" | "char_length" | "character_length" => "length",
        "substring" | "substr" => "pg_substring",
        "strpos" => "instr",
        "btrim" => "trim",
        "greatest" => "pg_greatest",
        "least" => "pg_least",
        "concat" => "pg_concat",
        "concat_ws" => "pg_concat_ws",
        "string_agg" => "group_concat",
        "avg" => "pg_avg",
        "date_trunc" => "pg_date_trunc",
        "date_part" => "pg_extract",
        "mod" => "pg_mod",
        "random" => "pg_random",
        "left" => "pg_left",
        "right" => "pg_right",
        "repeat" => "pg_repeat",
        "split_part" => "pg_split_part",
        "starts_with" => "pg_starts_with",
        "reverse" => "pg_reverse",
        "mosaic.issue_token" => "mosaic_issue_token",
        "mosaic.revoke_token" => "mosaic_revoke_token",
        "mosaic.rotate_token_key" => "mosaic_rotate_token_key",
        "lpad" => "pg_lpad",
        "rpad" => "pg_rpad",
        "initcap" => "pg_initcap",
        "log" if arg_count(f) == 2 => {
            return Err(Error::Unsupported("log(numeric, numeric)".into()))
        }
        "ceiling" => "ceil",
        "pow" => "power",
        "bool_and" | "every" => "min",
        "bool_or" => "max",
        "json_build_object" | "jsonb_build_object" => "json_object",
        "json_build_array" | "jsonb_build_array" => "json_array",
        "json_agg" | "jsonb_agg" => "json_group_array",
        "json_object_agg" | "jsonb_object_agg" => "json_group_object",
        "jsonb_array_length" => "json_array_length",
        "array_agg" | "to_char" | "unnest" | "generate_series" | "regexp_matches"
        | "to_timestamp" | "to_date" | "string_to_array" => {
            return Err(Error::Unsupported(format!("function {name}")))
        }
        _ => return Ok(()),
    };
    if name == "string_agg" && arg_count(f) != 2 {
        return Err(Error::Unsupported("string_agg without a separator".into()));
    }
    // SQLite refuses DISTINCT on a two-argument aggregate: ours dedups.
    let mut renamed = renamed;
    if name == "string_agg" {
        if let FunctionArguments::List(l) = &mut f.args {
            if matches!(
                l.duplicate_treatment,
                Some(sqlparser::ast::DuplicateTreatment::Distinct)
            ) {
                l.duplicate_treatment = None;
                renamed = "pg_string_agg_distinct";
            }
        }
    }
    if let FunctionArguments::List(l) = &f.args {
        if l.clauses
            .iter()
            .any(|c| !matches!(c, FunctionArgumentClause::OrderBy(_)))
        {
            return Err(Error::Unsupported(format!("{name} argument clause")));
        }
    }
    rename(f, renamed);
    Ok(())
}
