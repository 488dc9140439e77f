//! `jsonb_set`, `jsonb_insert`, `jsonb_set_lax` and `jsonb #- text[]` as
//! `store::udf::json`'s path edits (`types::json::jsonb_edit`): the
//! document and the new value jsonb, the path a text array (a literal is
//! read as `text[]`, with array input's errors), the defaults PostgreSQL
//! gives the optional arguments written out.

use sqlparser::ast::{BinaryOperator as Op, Expr, Function, Value};

use super::expr::{arg_exprs, call, refuse, string, take};
use super::values::quoted;
use super::Typer;
use crate::error::{Error, Result};
use crate::types::PgType;

fn text_array() -> PgType {
    PgType::Array(Box::new(PgType::Text))
}

fn boolean(b: bool) -> Expr {
    Expr::Value(Value::Boolean(b).into())
}

fn no_such(name: &str, types: &[PgType]) -> Error {
    let shown: Vec<String> = types.iter().map(PgType::display_name).collect();
    Error::NoSuchFunction(format!("{name}({})", shown.join(", ")))
}

impl Typer<'_> {
    /// A jsonb argument: a literal parsed (22P02 for bad JSON); false for
    /// another type.
    fn jsonb_arg(&mut self, a: &mut Expr) -> Result<bool> {
        if let Some(text) = quoted(a) {
            *a = crate::sql::coerce::datum_expr(&PgType::Jsonb.parse_text(text)?);
            return Ok(true);
        }
        let null = matches!(a, Expr::Value(v) if matches!(v.value, Value::Null));
        Ok(null || matches!(self.type_of(a), PgType::Jsonb | PgType::Unknown))
    }

    /// A text[] path argument: a literal read as `text[]`; false for
    /// another type.
    pub(super) fn path_arg(&mut self, a: &mut Expr) -> Result<bool> {
        if let Some(text) = quoted(a) {
            *a = crate::sql::coerce::datum_expr(&text_array().parse_text(text)?);
            return Ok(true);
        }
        Ok(match self.type_of(a) {
            PgType::Unknown => true,
            PgType::Array(elem) => matches!(*elem, PgType::Text | PgType::Varchar(_)),
            _ => false,
        })
    }

    /// `jsonb_set(doc, path, new [, create])`, `jsonb_insert(doc, path,
    /// new [, after])`, `jsonb_set_lax(doc, path, new [, create [,
    /// treatment]])`.
    pub(super) fn jsonb_edit_call(&mut self, f: &mut Function, name: &str) -> Result<Expr> {
        let types: Vec<PgType> = {
            let args: Vec<Expr> = arg_exprs(f).into_iter().map(|x| x.clone()).collect();
            args.iter().map(|a| self.type_of(a)).collect()
        };
        let most = if name == "jsonb_set_lax" { 5 } else { 4 };
        if !(3..=most).contains(&types.len()) {
            return Err(no_such(name, &types));
        }
        let mut args: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
        let ok = self.jsonb_arg(&mut args[0])?
            && self.path_arg(&mut args[1])?
            && self.jsonb_arg(&mut args[2])?
            && args
                .get(3)
                .is_none_or(|_| matches!(types[3], PgType::Bool | PgType::Unknown))
            && types
                .get(4)
                .is_none_or(|t| matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Unknown));
        if !ok {
            return Err(no_such(name, &types));
        }
        if args.len() == 3 {
            args.push(boolean(name != "jsonb_insert"));
        }
        if name == "jsonb_set_lax" && args.len() == 4 {
            args.push(string("use_json_null".into()));
        }
        Ok(call(&format!("pg_{name}"), args))
    }

    /// `jsonb ?| text[]`, `jsonb ?& text[]` and `jsonb #- text[]`: a
    /// literal that reads simply becomes a JSON array (`key_array`), any
    /// other text[] is passed in PostgreSQL's array form.
    pub(super) fn jsonb_array_operator(
        &mut self,
        op: &Op,
        left: &mut Expr,
        right: &mut Expr,
        rt: &PgType,
    ) -> Result<Expr> {
        let simple = match op {
            Op::HashMinus => None,
            _ => super::json::key_array(right),
        };
        let arg = match simple {
            Some(keys) => string(keys),
            None if self.path_arg(right)? => take(right),
            None if *op == Op::HashMinus => {
                return Err(Error::NoSuchOperator(format!(
                    "operator does not exist: jsonb #- {}",
                    rt.display_name()
                )))
            }
            None => return Err(refuse(format!("operator {op} with this key array"))),
        };
        let name = match op {
            Op::QuestionAnd => "pg_jsonb_exists_all",
            Op::QuestionPipe => "pg_jsonb_exists_any",
            _ => "pg_jsonb_delete_path",
        };
        Ok(call(name, vec![take(left), arg]))
    }
}
