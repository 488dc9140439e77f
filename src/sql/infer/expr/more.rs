//! The result types of the aggregates and functions added beside
//! `expr`'s main table: ordered-set aggregates, binary statistics, bit
//! aggregates, json record fields, the divisor functions and the numeric
//! forms of `power`, `log` and the scale functions, and the json ones.

use sqlparser::ast::{Expr, Function, Value};

use super::args;
use crate::error::Result;
use crate::sql::infer::Env;
use crate::types::PgType;

/// The operand types an arithmetic operator resolves by: a quoted literal
/// or NULL beside a typed operand is of no type of its own (`'1' + 1` and
/// `NULL + 1` are integers, as in PostgreSQL); two of them keep theirs.
pub(super) fn untyped_operands(
    (left, l): (&Expr, PgType),
    (right, r): (&Expr, PgType),
) -> (PgType, PgType) {
    let untyped = |e: &Expr| super::is_quoted(e) || super::is_null(e);
    match (untyped(left), untyped(right)) {
        (true, false) => (PgType::Unknown, r),
        (false, true) => (l, PgType::Unknown),
        _ => (l, r),
    }
}

/// Math functions PostgreSQL has in double precision only.
const FLOAT8_ONLY: &[&str] = &[
    "cbrt", "sin", "cos", "tan", "cot", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
    "asinh", "acosh", "atanh", "degrees", "radians", "sind", "cosd", "tand", "cotd", "asind",
    "acosd", "atand", "atan2d",
];

impl Env<'_> {
    /// The type `coalesce`, `nullif`, `greatest` and `least` resolve their
    /// arguments to: that of the typed ones, a quoted literal taking it as
    /// it would beside an operator (`greatest(n, '2')` compares numbers);
    /// of the literals alone when every argument is one.
    pub(in crate::sql::infer) fn resolved(&mut self, a: &[&Expr]) -> Result<PgType> {
        let typed: Vec<&Expr> = a.iter().copied().filter(|e| !super::is_quoted(e)).collect();
        match typed.is_empty() {
            true => self.first_known(a),
            false => self.first_known(&typed),
        }
    }

    /// The type of a statistics aggregate, an ordered-set aggregate, a binary statistic, a bit
    /// aggregate, a json record field or `div`/`gcd`/`lcm`/`width_bucket`/
    /// `to_hex` (and of the typed step's calls for them); `None` for other
    /// functions.
    pub(super) fn ordered_function_type(
        &mut self,
        name: &str,
        f: &Function,
    ) -> Result<Option<PgType>> {
        let a = args(f);
        let nth = |env: &mut Self, i: usize| match a.get(i) {
            Some(e) => env.expr_type(e),
            None => Ok(PgType::Unknown),
        };
        Ok(Some(match name {
            // PostgreSQL has these in double precision only: a numeric
            // argument is cast to it.
            n if FLOAT8_ONLY.contains(&n) => PgType::Float8,
            "power" | "pow" | "log" if a.len() == 2 => {
                let (x, y) = (nth(self, 0)?, nth(self, 1)?);
                let integer = |t: &PgType| matches!(t, PgType::Int2 | PgType::Int4 | PgType::Int8);
                // log(b, x) has only a numeric form.
                if name == "log" && integer(&x) && integer(&y) {
                    PgType::Numeric(None)
                } else {
                    math2(x, y)
                }
            }
            "scale" | "min_scale" => PgType::Int4,
            "trim_scale" | "factorial" => PgType::Numeric(None),
            // Numeric over integers and numerics, as PostgreSQL computes them.
            "stddev" | "stddev_samp" | "stddev_pop" | "variance" | "var_samp" | "var_pop" => {
                match nth(self, 0)? {
                    PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Numeric(_) => {
                        PgType::Numeric(None)
                    }
                    _ => PgType::Float8,
                }
            }
            n if n.starts_with("pg_numeric_") && (n.contains("var") || n.contains("stddev")) => {
                PgType::Numeric(None)
            }
            "pg_percentile_cont_multi" => PgType::Array(Box::new(PgType::Float8)),
            "pg_percentile_disc_multi" => PgType::Array(Box::new(nth(self, 1)?)),
            "percentile_cont" if matches!(nth(self, 0)?, PgType::Array(_)) => {
                PgType::Array(Box::new(PgType::Float8))
            }
            "percentile_disc" if matches!(nth(self, 0)?, PgType::Array(_)) => {
                match f.within_group.first() {
                    Some(k) => PgType::Array(Box::new(self.expr_type(&k.expr)?)),
                    None => PgType::Unknown,
                }
            }
            "percentile_cont" | "pg_percentile_cont" => PgType::Float8,
            "regr_count" => PgType::Int8,
            n if crate::sql::validate::BINARY_STATISTICS.contains(&n) => PgType::Float8,
            "bit_and" | "bit_or" | "bit_xor" | "pg_mode" | "pg_json_records" => nth(self, 0)?,
            "pg_json_field" => PgType::Text,
            "make_time" | "pg_make_time" | "pg_time_add" => PgType::Time,
            "make_date" | "pg_make_date" => PgType::Date,
            "make_timestamp" | "pg_make_timestamp" => PgType::Timestamp,
            "make_timestamptz" => PgType::Timestamptz,
            "pg_time_diff" => PgType::Interval,
            "pg_date_time" => PgType::Timestamp,
            "jsonb_path_exists"
            | "jsonb_path_match"
            | "jsonb_path_exists_tz"
            | "jsonb_path_match_tz" => PgType::Bool,
            "jsonb_path_query_array"
            | "jsonb_path_query_first"
            | "jsonb_path_query_array_tz"
            | "jsonb_path_query_first_tz" => PgType::Jsonb,
            "pg_percentile_disc" | "pg_percentile_check" => nth(self, 1)?,
            "percentile_disc" | "mode" => match f.within_group.first() {
                Some(k) => self.expr_type(&k.expr)?,
                None => PgType::Unknown,
            },
            "width_bucket" | "pg_width_bucket" => PgType::Int4,
            "to_hex" | "pg_to_hex" => PgType::Text,
            "num_nulls" | "num_nonnulls" => PgType::Int4,
            "bit_count" => PgType::Int8,
            "get_byte" => PgType::Int4,
            "enum_first" | "enum_last" => nth(self, 0)?,
            "pg_overlaps" => PgType::Bool,
            "set_byte" | "convert_to" | "pg_bytea_value" => PgType::Bytea,
            "convert_from" => PgType::Text,
            "div" | "pg_div_trunc" | "to_number" => PgType::Numeric(None),
            "pg_gcd" | "pg_lcm" => match a.last() {
                Some(Expr::Value(v)) => match &v.value {
                    Value::SingleQuotedString(k) if k == "int4" => PgType::Int4,
                    Value::SingleQuotedString(k) if k == "int8" => PgType::Int8,
                    _ => PgType::Numeric(None),
                },
                _ => PgType::Numeric(None),
            },
            "gcd" | "lcm" => {
                let ts = a
                    .iter()
                    .map(|e| self.expr_type(e))
                    .collect::<Result<Vec<_>>>()?;
                if ts.iter().any(|t| matches!(t, PgType::Numeric(_))) {
                    PgType::Numeric(None)
                } else if ts.contains(&PgType::Int8) {
                    PgType::Int8
                } else {
                    PgType::Int4
                }
            }
            "regexp_match" | "regexp_split_to_array" | "pg_regexp_matches" => {
                PgType::Array(Box::new(PgType::Text))
            }
            "regexp_like" => PgType::Bool,
            "regexp_count" | "regexp_instr" => PgType::Int4,
            "regexp_substr"
            | "pg_regexp_substring"
            | "regexp_split_to_table"
            | "string_to_table" => PgType::Text,
            _ => return Ok(None),
        }))
    }
}

/// The type of `power`, `^` or `log` of two operands: numeric when one is
/// and neither is a float.
pub(super) fn math2(a: PgType, b: PgType) -> PgType {
    let float = |t: &PgType| matches!(t, PgType::Float4 | PgType::Float8);
    let numeric = |t: &PgType| matches!(t, PgType::Numeric(_));
    if (numeric(&a) || numeric(&b)) && !float(&a) && !float(&b) {
        PgType::Numeric(None)
    } else {
        PgType::Float8
    }
}

/// The result type of a json or jsonb function, under its SQL name or the
/// name the typed step gives it (`sql::infer::typed::json`).
pub(super) fn json_result_type(name: &str, a: &[&Expr]) -> Option<PgType> {
    Some(match name {
        "json_build_object" | "json_build_array" | "json_agg" | "json_object_agg" | "to_json"
        | "json_extract_path" | "pg_json_object" | "pg_json_array" | "pg_json_agg"
        | "pg_json_object_agg" | "row_to_json" | "pg_json_row" | "pg_json_row_pretty"
        | "pg_json_agg_rows" | "array_to_json" => PgType::Json,
        "pg_jsonb_row" => PgType::Jsonb,
        "jsonb_build_object"
        | "jsonb_build_array"
        | "jsonb_agg"
        | "jsonb_object_agg"
        | "to_jsonb"
        | "jsonb_extract_path"
        | "pg_jsonb_object"
        | "pg_jsonb_array"
        | "pg_jsonb_agg"
        | "pg_jsonb_object_agg"
        | "jsonb_strip_nulls"
        | "pg_jsonb_strip_nulls"
        | "pg_jsonb_delete"
        | "jsonb_set"
        | "jsonb_insert"
        | "jsonb_set_lax"
        | "pg_jsonb_set"
        | "pg_jsonb_insert"
        | "pg_jsonb_set_lax"
        | "pg_jsonb_delete_path"
        | "pg_jsonb_subscript" => PgType::Jsonb,
        "jsonb_typeof"
        | "json_typeof"
        | "jsonb_extract_path_text"
        | "json_extract_path_text"
        | "pg_json_typeof"
        | "jsonb_pretty"
        | "pg_jsonb_pretty" => PgType::Text,
        "jsonb_array_length" | "json_array_length" | "pg_json_array_length" | "pg_jsonb_cmp" => {
            PgType::Int4
        }
        "pg_jsonb_contains" | "pg_jsonb_exists" | "pg_jsonb_exists_any" | "pg_jsonb_exists_all" => {
            PgType::Bool
        }
        "pg_to_json" | "pg_json_get" | "pg_json_path" => {
            let flag = |i: usize| {
                matches!(a.get(i), Some(Expr::Value(v))
                    if matches!(&v.value, Value::Number(n, _) if n == "1"))
            };
            if name != "pg_to_json" && flag(3) {
                PgType::Text
            } else if flag(2) {
                PgType::Jsonb
            } else {
                PgType::Json
            }
        }
        _ => return None,
    })
}
