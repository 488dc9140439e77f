//! The typed step for values other than numerics: dates and timestamps
//! compared as one type, jsonb operators by value, booleans as text.

use sqlparser::ast::{BinaryOperator as Op, Expr, Value};

use super::expr::{call, not, refuse, string, take};
use super::Typer;
use crate::error::Result;
use crate::types::{cast_spec, PgType};

/// A boolean as PostgreSQL's text of it (`true`/`false`; SQLite's
/// booleans are 1 and 0), for `||` and casts to text.
pub(super) fn bool_text(e: Expr) -> Expr {
    bool_as(e, ["true", "false"])
}

/// A boolean as its type's output function prints it (`t`/`f`), for
/// `format`'s arguments.
pub(super) fn bool_out(e: Expr) -> Expr {
    bool_as(e, ["t", "f"])
}

fn bool_as(e: Expr, [yes, no]: [&str; 2]) -> Expr {
    use sqlparser::ast::helpers::attached_token::AttachedToken;
    let when = |b: bool| sqlparser::ast::CaseWhen {
        condition: Expr::Value(Value::Boolean(b).into()),
        result: string(if b { yes } else { no }.to_string()),
    };
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: Some(Box::new(Expr::Nested(Box::new(e)))),
        conditions: vec![when(true), when(false)],
        else_result: None,
    }
}

/// Date, timestamp and timestamptz by rank: a comparison of two of them
/// happens in the higher one, as PostgreSQL converts.
fn temporal_rank(t: &PgType) -> Option<u8> {
    match t {
        PgType::Date => Some(1),
        PgType::Timestamp => Some(2),
        PgType::Timestamptz => Some(3),
        _ => None,
    }
}

/// The type quoted literals beside operands of `typed` types take: their
/// common type, when `castable` says a literal may be read as it.
pub(super) fn literal_target(typed: &[PgType], castable: fn(&PgType) -> bool) -> Option<PgType> {
    let target = crate::sql::infer::expr::common_type(typed);
    castable(&target).then_some(target)
}

/// An integer or float type.
pub(super) fn int_or_float(t: &PgType) -> bool {
    matches!(
        t,
        PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Float4 | PgType::Float8
    )
}

/// The types a quoted literal in a VALUES row or a set operation's arm
/// is read as now, when its column resolves to one: not the text types
/// (the literal is the value), nor those with their own steps.
fn read_literals_as(t: &PgType) -> bool {
    !matches!(
        t,
        PgType::Text
            | PgType::Varchar(_)
            | PgType::Bpchar(_)
            | PgType::Char
            | PgType::Unknown
            | PgType::Json
            | PgType::Enum(_)
            | PgType::Vector(_)
            | PgType::Geometry(_)
            | PgType::Numeric(_)
    )
}

/// `e`, if a quoted literal, read as a value of `ty` when
/// `read_literals_as` allows (a timestamptz without an offset at run
/// time, in the session's zone).
fn read_as(e: &mut Expr, ty: &PgType) -> Result<()> {
    let Some(text) = quoted(e).filter(|_| read_literals_as(ty)) else {
        return Ok(());
    };
    if *ty == PgType::Timestamptz && !super::zone::has_offset(text) {
        ty.parse_text(text)?;
        *e = super::zone::instant(take(e));
    } else {
        *e = crate::sql::coerce::datum_expr(&ty.parse_text(text)?);
    }
    Ok(())
}

/// The text of a quoted literal, if `e` is one (parentheses aside).
/// A quoted literal read as a value of `ty` (its stored form), wrapped in
/// `wrapper`, the call that keeps its type for the steps that type the
/// statement again (`pg_vector_value`, `pg_geom_value`).
pub(super) fn read_literal(e: &mut Expr, ty: &PgType, wrapper: &str) -> Result<()> {
    if let Some(text) = quoted(e) {
        let d = ty.parse_text(text)?;
        *e = call(wrapper, vec![crate::sql::coerce::datum_expr(&d)]);
    }
    Ok(())
}

pub(super) fn quoted(e: &Expr) -> Option<&str> {
    let mut inner = e;
    while let Expr::Nested(x) = inner {
        inner = x;
    }
    match inner {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::DollarQuotedString(sqlparser::ast::DollarQuotedString { value: s, .. }) => {
                Some(s)
            }
            _ => None,
        },
        _ => None,
    }
}

/// Functions whose character(n) arguments PostgreSQL casts to text (or
/// that measure them without their padding, as `length` does); concat,
/// format and octet_length see the padded value.
pub(super) const TEXT_FUNCTIONS: &[&str] = &[
    "length",
    "char_length",
    "character_length",
    "upper",
    "lower",
    "initcap",
    "replace",
    "translate",
    "left",
    "right",
    "lpad",
    "rpad",
    "repeat",
    "reverse",
    "split_part",
    "strpos",
    "starts_with",
    "substr",
    "string_agg",
    "ascii",
];

/// `x` without its trailing spaces: a character(n) value as PostgreSQL
/// compares and measures it.
fn unpadded(x: Expr) -> Expr {
    call("rtrim", vec![x, string(" ".into())])
}

impl Typer<'_> {
    /// bytea `||` and `substring`, on bytes (SQLite's would read the
    /// values as text). A quoted literal meeting a bytea is read as one.
    /// `substring` of a character(n) reads it without its padding.
    pub(super) fn bytea(&mut self, e: &mut Expr) -> Result<bool> {
        match e {
            Expr::BinaryOp {
                left,
                op: Op::StringConcat,
                right,
            } => {
                let is_bytea = |t: PgType| t == PgType::Bytea;
                if !(is_bytea(self.type_of(left)) || is_bytea(self.type_of(right))) {
                    return Ok(false);
                }
                for side in [&mut *left, &mut *right] {
                    if let Some(text) = quoted(side) {
                        **side = crate::sql::coerce::datum_expr(&PgType::Bytea.parse_text(text)?);
                    }
                }
                *e = call("pg_bytea_concat", vec![take(left), take(right)]);
                Ok(true)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } if self.type_of(expr) == PgType::Bytea => {
                let mut args = vec![take(expr)];
                args.push(match substring_from.take() {
                    Some(from) => *from,
                    None => Expr::Value(Value::Number("1".into(), false).into()),
                });
                args.extend(substring_for.take().map(|n| *n));
                *e = call("pg_bytea_substring", args);
                Ok(true)
            }
            // character(n) becomes text, without its padding, as for the
            // other text functions.
            Expr::Substring { expr, .. } if matches!(self.type_of(expr), PgType::Bpchar(_)) => {
                **expr = unpadded(take(expr));
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// Operands compared where one is character(n): its trailing spaces do
    /// not count, nor those of a quoted literal or a varchar it meets
    /// (which PostgreSQL reads as character); a text operand keeps its own.
    pub(super) fn bpchar(&mut self, operands: &mut [&mut Expr]) {
        let types: Vec<PgType> = operands.iter().map(|e| self.type_of(e)).collect();
        if !types.iter().any(|t| matches!(t, PgType::Bpchar(_))) {
            return;
        }
        for (e, t) in operands.iter_mut().zip(&types) {
            if matches!(t, PgType::Bpchar(_) | PgType::Varchar(_)) || quoted(e).is_some() {
                **e = unpadded(take(e));
            }
        }
    }

    /// A character(n) value becoming text (`||`, a cast to text or
    /// varchar) loses its trailing spaces.
    pub(super) fn bpchar_text(&mut self, e: &mut Expr) {
        if matches!(self.type_of(e), PgType::Bpchar(_)) {
            *e = unpadded(take(e));
        }
    }

    /// min/max of character(n) compare without trailing spaces.
    pub(super) fn bpchar_aggregate(&mut self, name: &str, args: Vec<&mut Expr>) {
        if !matches!(name, "min" | "max") {
            return;
        }
        for a in args {
            let ty = self.type_of(a);
            if matches!(ty, PgType::Bpchar(_)) {
                *a = super::collate_as(take(a), &ty);
            }
        }
    }

    /// A character(n) argument of a function taking text (`length`,
    /// `upper`, …; see [`TEXT_FUNCTIONS`]) leaves out its trailing spaces.
    pub(super) fn bpchar_length(&mut self, args: Vec<&mut Expr>) {
        for a in args {
            if matches!(self.type_of(a), PgType::Bpchar(_)) {
                *a = unpadded(take(a));
            }
        }
    }

    /// jsonb `||` and `=`/`<>` by value (types::json), where SQLite would
    /// join or compare the texts. A quoted literal operand is read as
    /// jsonb; any other type meeting a jsonb is refused.
    pub(super) fn jsonb_binary(&mut self, e: &mut Expr) -> Result<()> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(());
        };
        for side in [&mut *left, &mut *right] {
            if let Some(text) = quoted(side) {
                **side = crate::sql::coerce::datum_expr(&PgType::Jsonb.parse_text(text)?);
            } else if !matches!(self.type_of(side), PgType::Jsonb | PgType::Unknown) {
                return Err(refuse(format!(
                    "operator {op} of jsonb and {}",
                    self.type_of(side).display_name()
                )));
            }
        }
        let (name, negate) = match op {
            Op::StringConcat => ("pg_jsonb_concat", false),
            Op::Eq => ("pg_jsonb_eq", false),
            _ => ("pg_jsonb_eq", true),
        };
        let c = call(name, vec![take(left), take(right)]);
        *e = if negate { not(c) } else { c };
        Ok(())
    }

    /// Quoted literals compared with typed operands of a number, boolean,
    /// time, uuid or bytea type take that type now, as PostgreSQL reads them
    /// (`(id + 0) IN ('1', '2')`, `time '00:00' = '00:00'`, a uuid in
    /// capitals): a column would convert them by its SQLite affinity, an
    /// expression has none and compared them as text. Numerics, dates and
    /// timestamps have their own steps (`fit`, `temporal`).
    pub(super) fn scalar_literals(&mut self, operands: &mut [&mut Expr]) -> Result<()> {
        let typed: Vec<PgType> = operands
            .iter()
            .filter(|e| quoted(e).is_none())
            .map(|e| self.type_of(e))
            .collect();
        if typed.is_empty() || typed.len() == operands.len() || typed.contains(&PgType::Unknown) {
            return Ok(());
        }
        let Some(target) = literal_target(&typed, |t| {
            matches!(
                t,
                PgType::Bool | PgType::Time | PgType::Uuid | PgType::Bytea
            ) || int_or_float(t)
        }) else {
            return Ok(());
        };
        for e in operands.iter_mut() {
            if let Some(text) = quoted(e) {
                **e = crate::sql::coerce::datum_expr(&target.parse_text(text)?);
            }
        }
        Ok(())
    }

    /// The arms of a set operation: a quoted literal in a column of a
    /// type that `values_literals` reads literals as is read as it
    /// (`SELECT true UNION SELECT 'yes'`).
    pub(super) fn literal_arms(
        &mut self,
        body: &mut sqlparser::ast::SetExpr,
        cols: &[(String, PgType)],
    ) -> Result<()> {
        use sqlparser::ast::{SelectItem, SetExpr};
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.literal_arms(left, cols)?;
                self.literal_arms(right, cols)?;
            }
            SetExpr::Select(sel) => {
                for (item, (_, ty)) in sel.projection.iter_mut().zip(cols) {
                    if let SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. } =
                        item
                    {
                        read_as(x, ty)?;
                    }
                }
            }
            SetExpr::Values(v) => {
                for row in v.rows.iter_mut() {
                    for (x, (_, ty)) in row.content.iter_mut().zip(cols) {
                        read_as(x, ty)?;
                    }
                }
            }
            SetExpr::Query(q) => self.literal_arms(&mut q.body, cols)?,
            _ => {}
        }
        Ok(())
    }

    /// A column of a VALUES list (not an INSERT's) whose rows are typed
    /// but for some quoted literals: PostgreSQL resolves the column to one
    /// type and reads those literals as it (`VALUES ('\x01'::bytea),
    /// ('\x01')` holds two equal byteas, `(true), ('yes')` two booleans).
    /// Each such literal is read now into the stored form of the column's
    /// type; text types keep the text, and numerics, timestamptz without an
    /// offset and geometries have their own steps, run before this one.
    pub(super) fn values_literals(&mut self, v: &mut sqlparser::ast::Values) -> Result<()> {
        let width = v.rows.iter().map(|r| r.len()).max().unwrap_or(0);
        for j in 0..width {
            let typed: Vec<PgType> = (v.rows.iter())
                .filter_map(|r| r.get(j))
                .filter(|e| quoted(e).is_none())
                .map(|e| self.type_of(e))
                .filter(|t| *t != PgType::Unknown)
                .collect();
            let quoted_rows = (v.rows.iter())
                .filter_map(|r| r.get(j))
                .any(|e| quoted(e).is_some());
            if typed.is_empty() || !quoted_rows {
                continue;
            }
            let Some(target) = literal_target(&typed, read_literals_as) else {
                continue;
            };
            for row in v.rows.iter_mut() {
                if let Some(e) = row.get_mut(j) {
                    read_as(e, &target)?;
                }
            }
        }
        Ok(())
    }

    /// Operands compared where one is a date or timestamp: dates, times
    /// and timestamps compare by value, never as differently spelled text.
    /// A quoted literal takes the operands' type now (parsed and stored as
    /// a column of that type stores it: `'2024-01-01 9:00'`); a date met by
    /// a timestamp, or a timestamp by a timestamptz, is cast up first.
    pub(super) fn temporal(&mut self, operands: &mut [&mut Expr]) -> Result<()> {
        let types: Vec<PgType> = operands.iter().map(|e| self.type_of(e)).collect();
        let Some(target) = types
            .iter()
            .filter(|t| temporal_rank(t).is_some())
            .max_by_key(|t| temporal_rank(t))
            .cloned()
        else {
            return Ok(());
        };
        // A quoted timestamptz without an offset is a wall time in the
        // session's zone, known when the statement runs (`sql::coerce`
        // reads it then beside a column, so its shards can be pruned).
        for (e, t) in operands.iter_mut().zip(&types) {
            match quoted(e) {
                Some(text) if target == PgType::Timestamptz && !super::zone::has_offset(text) => {
                    target.parse_text(text)?;
                    **e = super::zone::instant(take(e));
                }
                Some(text) => **e = crate::sql::coerce::datum_expr(&target.parse_text(text)?),
                None if temporal_rank(t).is_some() && *t != target => {
                    **e = match target {
                        PgType::Timestamptz => super::zone::instant(take(e)),
                        _ => call("pg_cast", vec![take(e), string(cast_spec(&target))]),
                    };
                }
                None => {}
            }
        }
        Ok(())
    }
}
