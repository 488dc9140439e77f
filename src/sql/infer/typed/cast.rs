//! The typed step's casts: to text from types SQLite would print its own
//! way (booleans, jsonb, intervals, reals), from numeric through
//! `pg_numeric_cast`. Casts to and from vectors are `vector`'s.

use sqlparser::ast::Expr;

use super::expr::{call, string, take};
use super::values::bool_text;
use super::{is_numeric, Typer};
use crate::error::{Error, Result};
use crate::types::{cast_spec, PgType};

impl Typer<'_> {
    pub(super) fn cast(&mut self, e: &mut Expr) -> Result<()> {
        let Expr::Cast {
            expr, data_type, ..
        } = e
        else {
            return Ok(());
        };
        let Ok(target) = PgType::from_sql(data_type) else {
            return Ok(());
        };
        super::enums::check_cast(&self.type_of(expr), &target)?;
        let to_text = matches!(
            target,
            PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_)
        );
        if to_text && self.type_of(expr) == PgType::Bool {
            **expr = bool_text(take(expr));
            return Ok(());
        }
        if to_text && self.type_of(expr) == PgType::Jsonb {
            super::json::jsonb_text(expr);
            return Ok(());
        }
        if to_text && self.type_of(expr) == PgType::Interval {
            **expr = super::interval::as_text(take(expr));
            return Ok(());
        }
        if to_text && self.type_of(expr) == PgType::Float4 {
            **expr = call("pg_float4_text", vec![take(expr)]);
            return Ok(());
        }
        if matches!(target, PgType::Text | PgType::Varchar(_)) {
            self.bpchar_text(expr);
        }
        // float4 → numeric goes through `%.6g`, as PostgreSQL converts it
        // (the stored double would give 1.10000002384186 for 1.1).
        if is_numeric(&target) && self.type_of(expr) == PgType::Float4 {
            **expr = call("pg_float4_numeric", vec![take(expr)]);
            return Ok(());
        }
        if is_numeric(&target) || !is_numeric(&self.type_of(expr)) {
            return Ok(());
        }
        match target {
            PgType::Int2
            | PgType::Int4
            | PgType::Int8
            | PgType::Float4
            | PgType::Float8
            | PgType::Text
            | PgType::Varchar(_)
            | PgType::Bpchar(_) => {
                *e = call(
                    "pg_numeric_cast",
                    vec![take(expr), string(cast_spec(&target))],
                );
                Ok(())
            }
            other => Err(Error::DatatypeMismatch(format!(
                "cannot cast type numeric to {}",
                other.display_name()
            ))),
        }
    }
}
