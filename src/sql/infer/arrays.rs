//! The types of the array functions (`array_append`, `array_position`,
//! `string_to_array`, …) and of the typed step's array calls
//! (`typed::array`), and of the set-returning json functions and
//! generate_series of a SELECT list, for inference.

use sqlparser::ast::{Expr, Value};

use super::Env;
use crate::error::Result;
use crate::types::PgType;

impl Env<'_> {
    /// The type of an array function; `None` for other functions.
    pub(super) fn array_function_type(
        &mut self,
        name: &str,
        a: &[&Expr],
    ) -> Result<Option<PgType>> {
        let first = |env: &mut Self| match a.first() {
            Some(e) => env.expr_type(e),
            None => Ok(PgType::Unknown),
        };
        Ok(Some(match name {
            "array_agg" => PgType::Array(Box::new(match first(self)? {
                PgType::Unknown => PgType::Text,
                t => t,
            })),
            // In a SELECT list (`rewrite::pg_catalog::select_srf`): of
            // integers, bigint when either bound is; numeric when any
            // argument is; timestamps, a date start read as timestamptz.
            "generate_series" => {
                let mut ty = PgType::Int4;
                for e in a.iter().take(3) {
                    match self.expr_type(e)? {
                        PgType::Int8 if !matches!(ty, PgType::Numeric(_)) => ty = PgType::Int8,
                        PgType::Numeric(_) => ty = PgType::Numeric(None),
                        PgType::Int2
                        | PgType::Int4
                        | PgType::Int8
                        | PgType::Unknown
                        | PgType::Interval => {}
                        PgType::Date if ty == PgType::Int4 => ty = PgType::Timestamptz,
                        other if ty == PgType::Int4 => ty = other,
                        _ => {}
                    }
                }
                ty
            }
            "unnest" => match first(self)? {
                PgType::Array(elem) => *elem,
                _ => PgType::Text,
            },
            "array_append" | "array_cat" | "array_remove" | "array_replace" | "pg_arr_append"
            | "pg_arr_cat" | "pg_arr_remove" | "pg_arr_replace" | "pg_arr_slice" | "trim_array"
            | "pg_arr_trim" => match first(self)? {
                t @ PgType::Array(_) => t,
                _ => match a.get(1).map(|e| self.expr_type(e)).transpose()? {
                    Some(t @ PgType::Array(_)) => t,
                    _ => PgType::Unknown,
                },
            },
            "array_prepend" | "pg_arr_prepend" => match a.get(1) {
                Some(e) => self.expr_type(e)?,
                None => PgType::Unknown,
            },
            "array_position" | "pg_arr_position" | "cardinality" | "pg_arr_cardinality"
            | "array_ndims" | "pg_arr_ndims" | "array_upper" | "array_lower" | "pg_arr_length"
            | "pg_arr_upper" | "pg_arr_lower" => PgType::Int4,
            "array_positions" | "pg_arr_positions" => PgType::Array(Box::new(PgType::Int4)),
            "string_to_array" | "pg_string_to_array" => PgType::Array(Box::new(PgType::Text)),
            "array_dims" | "pg_arr_dims" | "array_to_string" | "pg_arr_to_string"
            | "pg_arr_out" => PgType::Text,
            "pg_array" => PgType::Array(Box::new(self.first_known(a)?)),
            "array_fill" | "pg_arr_fill" => PgType::Array(Box::new(match first(self)? {
                PgType::Unknown => PgType::Text,
                t => t,
            })),
            "pg_array_get" if a.len() == 3 => match first(self)? {
                PgType::Array(elem) => *elem,
                _ => PgType::Unknown,
            },
            "pg_arr_cast" => match a.get(2) {
                Some(Expr::Value(v)) => match &v.value {
                    Value::SingleQuotedString(s) => {
                        crate::types::cast_target(s).unwrap_or(PgType::Unknown)
                    }
                    _ => PgType::Unknown,
                },
                _ => PgType::Unknown,
            },
            // The set-returning json functions in a SELECT list.
            "jsonb_array_elements" => PgType::Jsonb,
            "json_array_elements" => PgType::Json,
            "jsonb_array_elements_text"
            | "json_array_elements_text"
            | "jsonb_object_keys"
            | "json_object_keys" => PgType::Text,
            _ => return Ok(None),
        }))
    }
}
