//! The typed step for enum operands (`types::enums`): sort and grouping
//! keys and min/max run under the enum's collation, and order comparisons
//! through `pg_enum_cmp` (an explicit COLLATE in a comparison would be
//! carried into text built from its result), so they follow its sort
//! order, never the labels' text; equality compares the labels. A quoted
//! literal an enum meets takes the enum's type and must be one of its
//! labels (22P02).

use sqlparser::ast::{BinaryOperator as Op, Expr, Value};

use super::expr::take;
use super::Typer;
use crate::error::{Error, Result};
use crate::types::enums::EnumType;
use crate::types::PgType;

fn enum_of(t: &PgType) -> Option<&EnumType> {
    match t {
        PgType::Enum(e) => Some(e),
        _ => None,
    }
}

/// `e COLLATE <the enum's collation>` (once).
pub(super) fn collate_enum(e: Expr, ty: &EnumType) -> Expr {
    match e {
        c @ Expr::Collate { .. } => c,
        e => Expr::Collate {
            expr: Box::new(e),
            collation: sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(
                ty.collation(),
            )]),
        },
    }
}

/// `pg_enum_cmp(a, b, collation) op 0`: an order comparison of two
/// values of enum `ty`.
fn enum_compare(a: Expr, op: Op, b: Expr, ty: &EnumType) -> Expr {
    let name = Expr::Value(Value::SingleQuotedString(ty.collation()).into());
    Expr::BinaryOp {
        left: Box::new(crate::sql::build::call("pg_enum_cmp", vec![a, b, name])),
        op,
        right: Box::new(Expr::Value(Value::Number("0".into(), false).into())),
    }
}

/// A quoted literal's text.
fn literal(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Some(s),
            _ => None,
        },
        Expr::Nested(inner) => literal(inner),
        _ => None,
    }
}

/// A value assigned to an enum column: a literal (checked as it is
/// stored), NULL, a parameter or DEFAULT as it is, an expression of
/// unknown type checked by a cast, one of another type refused (42804).
pub(super) fn assign(e: &mut Expr, ty: &EnumType, src: &PgType, col: &str) -> Result<()> {
    if super::is_plain_literal(e) {
        return Ok(());
    }
    match src {
        PgType::Enum(s) if s.name == ty.name => Ok(()),
        PgType::Unknown => {
            let spec = Expr::Value(
                Value::SingleQuotedString(crate::types::cast_spec(&PgType::Enum(Box::new(
                    ty.clone(),
                ))))
                .into(),
            );
            *e = crate::sql::build::call("pg_cast", vec![take(e), spec]);
            Ok(())
        }
        other => Err(Error::DatatypeMismatch(format!(
            "column \"{col}\" is of type {} but expression is of type {}",
            crate::types::enums::display_name(&ty.name),
            other.display_name()
        ))
        .with_hint("You will need to rewrite or cast the expression.")),
    }
}

/// A cast to or from an enum: only from and to text types (and the same
/// enum), else PostgreSQL's 42846.
pub(super) fn check_cast(from: &PgType, to: &PgType) -> Result<()> {
    let texty = |t: &PgType| {
        matches!(
            t,
            PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_) | PgType::Unknown
        )
    };
    let ok = match (from, to) {
        (PgType::Enum(a), PgType::Enum(b)) => a.name == b.name,
        (PgType::Enum(_), t) | (t, PgType::Enum(_)) => texty(t),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(Error::CannotCoerce(format!(
        "cannot cast type {} to {}",
        from.display_name(),
        to.display_name()
    )))
}

impl Typer<'_> {
    /// Check that a literal meeting the enum is one of its labels, and
    /// refuse operands of other types (no operator compares them).
    fn enum_operand(&mut self, ty: &EnumType, other: &Expr, op: &str) -> Result<()> {
        if let Some(s) = literal(other) {
            ty.parse(s)?;
            return Ok(());
        }
        match self.type_of(other) {
            PgType::Enum(o) if o.name == ty.name => Ok(()),
            PgType::Unknown => Ok(()),
            o => Err(Error::NoSuchOperator(format!(
                "operator does not exist: {} {op} {}",
                ty.name,
                o.display_name()
            ))
            .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")),
        }
    }

    pub(super) fn enum_expr(&mut self, e: &mut Expr) -> Result<()> {
        let like = matches!(e, Expr::Like { .. });
        match e {
            Expr::BinaryOp { left, op, right }
                if matches!(
                    op,
                    Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq
                ) =>
            {
                let (lt, rt) = (self.type_of(left), self.type_of(right));
                let (ty, left_is_enum) = match (enum_of(&lt), enum_of(&rt)) {
                    (Some(t), _) => (t.clone(), true),
                    (None, Some(t)) => (t.clone(), false),
                    _ => return Ok(()),
                };
                let op_text = op.to_string();
                if left_is_enum {
                    self.enum_operand(&ty, right, &op_text)?;
                } else {
                    self.enum_operand(&ty, left, &op_text)?;
                }
                // Labels are equal as text; an order compares positions.
                if !matches!(op, Op::Eq | Op::NotEq) {
                    let op = op.clone();
                    *e = enum_compare(take(left), op, take(right), &ty);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                let Some(ty) = enum_of(&self.type_of(expr)).cloned() else {
                    return Ok(());
                };
                self.enum_operand(&ty, low, "BETWEEN")?;
                self.enum_operand(&ty, high, "BETWEEN")?;
                let negated = matches!(e, Expr::Between { negated: true, .. });
                let Expr::Between {
                    expr, low, high, ..
                } = e
                else {
                    return Ok(());
                };
                let x = take(expr);
                let both = Expr::Nested(Box::new(Expr::BinaryOp {
                    left: Box::new(enum_compare(x.clone(), Op::GtEq, take(low), &ty)),
                    op: Op::And,
                    right: Box::new(enum_compare(x, Op::LtEq, take(high), &ty)),
                }));
                *e = if negated {
                    super::expr::not(both)
                } else {
                    both
                };
            }
            Expr::Like { expr, negated, .. } | Expr::ILike { expr, negated, .. } => {
                if let Some(ty) = enum_of(&self.type_of(expr)) {
                    let op = match (like, *negated) {
                        (true, false) => "~~",
                        (true, true) => "!~~",
                        (false, false) => "~~*",
                        (false, true) => "!~~*",
                    };
                    return Err(Error::NoSuchOperator(format!(
                        "operator does not exist: {} {op} unknown",
                        ty.name
                    ))
                    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."));
                }
            }
            Expr::In {
                expr,
                target: sqlparser::ast::InTarget::List(list),
                ..
            } => {
                let Some(ty) = enum_of(&self.type_of(expr)).cloned() else {
                    return Ok(());
                };
                for x in list.iter() {
                    self.enum_operand(&ty, x, "=")?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// min/max (and their window forms) of an enum: under its collation.
    pub(super) fn enum_aggregate(&mut self, name: &str, args: Vec<&mut Expr>) {
        if !matches!(name, "min" | "max") {
            return;
        }
        for a in args {
            if let Some(ty) = enum_of(&self.type_of(a)).cloned() {
                *a = collate_enum(take(a), &ty);
            }
        }
    }
}
