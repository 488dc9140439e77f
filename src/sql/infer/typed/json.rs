//! The typed step for json and jsonb: every value that goes into built
//! JSON passes through `pg_to_json(x, 'type', jsonb)` with its PostgreSQL
//! type (`store::udf::json`), so booleans are `true`/`false`, numerics
//! keep their scale and timestamps read as PostgreSQL writes them in
//! JSON; the build functions and aggregates assemble those texts; jsonb
//! compares, sorts and groups by its own order, and the lookups and
//! containment operators run over `types::json`, never SQLite's JSON1.

use sqlparser::ast::{
    AccessExpr, BinaryOperator as Op, DuplicateTreatment, Expr, Function, FunctionArguments, Ident,
    ObjectName, Subscript, Value,
};

use super::expr::{arg_exprs, call, refuse, string, take};
use super::values::quoted;
use super::Typer;
use crate::error::{Error, Result};
use crate::types::{cast_spec, PgType};

fn number(n: i64) -> Expr {
    Expr::Value(Value::Number(n.to_string(), false).into())
}

fn is_null(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Null))
}

fn rename(f: &mut Function, to: &str) {
    f.name = ObjectName::from(vec![Ident::new(to)]);
}

fn json_type(t: &PgType) -> bool {
    matches!(t, PgType::Json | PgType::Jsonb)
}

/// A PostgreSQL text-array literal (`'{a,b}'`) as a JSON array of its
/// elements; `None` for one with quotes, braces or backslashes inside.
fn path_literal(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix('{')?.strip_suffix('}')?;
    if inner.contains(['"', '{', '}', '\\']) {
        return None;
    }
    let elems: Vec<Option<&str>> = if inner.trim().is_empty() {
        vec![]
    } else {
        inner
            .split(',')
            .map(|x| Some(x.trim()).filter(|x| !x.eq_ignore_ascii_case("null")))
            .collect()
    };
    serde_json::to_string(&elems).ok()
}

/// The keys of `?|`/`?&` as a JSON array: a text-array literal, or
/// `ARRAY[…]` of quoted literals.
pub(super) fn key_array(e: &Expr) -> Option<String> {
    if let Some(s) = quoted(e) {
        return path_literal(s);
    }
    let Expr::Array(a) = e else {
        return None;
    };
    let keys: Option<Vec<&str>> = a.elem.iter().map(quoted).collect();
    serde_json::to_string(&keys?).ok()
}

/// A jsonb value cast to text: in jsonb's normal form, also when an
/// expression (COALESCE, a CASE) passes a literal's text on as it was
/// written.
pub(super) fn jsonb_text(e: &mut Expr) {
    if !matches!(e, Expr::Value(_)) {
        *e = call(
            "pg_to_json",
            vec![take(e), string("jsonb".into()), number(1)],
        );
    }
}

/// PostgreSQL's error for `->` and its kin on an operand that is not
/// json: 42725 for two literals of unknown type, 42883 otherwise (an
/// operand whose type is not known here is refused).
fn not_json_operand(left: &Expr, lt: &PgType, op: &Op, right: &Expr, rt: &PgType) -> Error {
    let name = |e: &Expr, t: &PgType| match t {
        _ if quoted(e).is_some() => Some("unknown".to_string()),
        PgType::Unknown => None,
        t => Some(t.display_name()),
    };
    match (name(left, lt), name(right, rt)) {
        (Some(l), Some(r)) if l == "unknown" && r == "unknown" => Error::AmbiguousFunction(format!(
            "operator is not unique: unknown {op} unknown"
        ))
        .with_hint(
            "Could not choose a best candidate operator. You might need to add explicit type casts.",
        ),
        (Some(l), Some(r)) if l != "unknown" => Error::NoSuchOperator(format!(
            "operator does not exist: {l} {op} {r}"
        ))
        .with_hint(
            "No operator matches the given name and argument types. You might need to add explicit type casts.",
        ),
        _ => refuse(format!("operator {op} on an operand of unknown type")),
    }
}

/// `t.*` as an argument is the row `t` (`to_json(t.*)`).
fn whole_row_arguments(f: &mut Function) {
    use sqlparser::ast::{FunctionArg, FunctionArgExpr};
    let FunctionArguments::List(l) = &mut f.args else {
        return;
    };
    for a in &mut l.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(name)) = a {
            let rel = crate::sql::object_name(name);
            let rel = rel.rsplit('.').next().unwrap_or(&rel).to_string();
            *a = FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(Ident::new(rel))));
        }
    }
}

impl Typer<'_> {
    /// The relation a whole-row reference names (`t` in `to_json(t)`,
    /// where no column of that name is in scope), with its columns.
    fn whole_row(&self, x: &Expr) -> Option<(String, Vec<(String, PgType)>)> {
        let Expr::Identifier(i) = x else {
            return None;
        };
        let name = crate::sql::ident_name(i);
        for scope in self.env.scopes.iter().rev() {
            if scope.iter().any(|r| r.cols.iter().any(|(c, _)| *c == name)) {
                return None;
            }
            if let Some(r) = scope.iter().find(|r| r.name == name) {
                return Some((name, r.cols.clone()));
            }
        }
        None
    }

    /// `x` as JSON text by its type (NULL stays NULL).
    fn json_of(&mut self, x: Expr, jsonb: bool) -> Result<Expr> {
        // A whole row: an object of its columns, as row_to_json writes it.
        if let Some((rel, cols)) = self.whole_row(&x) {
            let mut args = Vec::with_capacity(2 * cols.len());
            for (c, _) in cols {
                args.push(string(c.clone()));
                let col = Expr::CompoundIdentifier(vec![Ident::new(rel.clone()), Ident::new(c)]);
                args.push(self.json_of(col, jsonb)?);
            }
            let name = if jsonb { "pg_jsonb_row" } else { "pg_json_row" };
            return Ok(call(name, args));
        }
        let ty = match self.type_of(&x) {
            PgType::Unknown if quoted(&x).is_some() || is_null(&x) => PgType::Text,
            PgType::Unknown => {
                return Err(refuse(
                    "JSON of an expression of unknown type (add a cast)".into(),
                ))
            }
            PgType::Enum(_) => PgType::Text,
            t => t,
        };
        // A timestamptz with its offset in the session's zone.
        let x = match ty {
            PgType::Timestamptz => call("pg_tz_text", vec![x]),
            _ => x,
        };
        Ok(call(
            "pg_to_json",
            vec![x, string(cast_spec(&ty)), number(i64::from(jsonb))],
        ))
    }

    /// An object key: not NULL when written so, not json, not an array.
    fn json_key(&mut self, k: &Expr, at: usize, jsonb: bool) -> Result<()> {
        if is_null(k) {
            return Err(crate::types::json::null_key(at, jsonb));
        }
        if json_type(&self.type_of(k)) || matches!(self.type_of(k), PgType::Array(_)) {
            return Err(Error::InvalidParameter(
                "key value must be scalar, not array, composite, or json".into(),
            ));
        }
        Ok(())
    }

    /// json_agg, jsonb_agg and the object aggregates over JSON texts.
    fn json_aggregate(
        &mut self,
        f: &mut Function,
        name: &str,
        args: &[Expr],
        jsonb: bool,
    ) -> Result<()> {
        let distinct = matches!(
            &f.args,
            FunctionArguments::List(l)
                if matches!(l.duplicate_treatment, Some(DuplicateTreatment::Distinct))
        );
        if distinct || f.over.is_some() {
            return Err(refuse(format!("{name} with DISTINCT or OVER")));
        }
        if name.ends_with("object_agg") {
            if let Some(k) = args.first() {
                self.json_key(k, 1, jsonb)?;
            }
        }
        // json separates rows and arrays by a line break.
        let structured = name == "json_agg"
            && args.first().is_some_and(|a| {
                self.whole_row(a).is_some() || matches!(self.type_of(a), PgType::Array(_))
            });
        self.wrap_args(f, false)?;
        let to = if structured {
            "pg_json_agg_rows".to_string()
        } else {
            format!("pg_{name}")
        };
        rename(f, &to);
        Ok(())
    }

    /// `row_to_json(row [, pretty])`: a whole row as a json object.
    fn row_to_json(&mut self, e: &mut Expr, args: &[Expr]) -> Result<()> {
        let (x, pretty) = match args {
            [x] => (x, false),
            [x, p] => match p {
                Expr::Value(v) if v.value == Value::Boolean(true) => (x, true),
                Expr::Value(v) if v.value == Value::Boolean(false) => (x, false),
                _ => {
                    return Err(refuse(
                        "row_to_json with a pretty flag that is not a literal".into(),
                    ))
                }
            },
            _ => return Err(refuse(format!("row_to_json with {} arguments", args.len()))),
        };
        if self.whole_row(x).is_none() {
            return Err(refuse("row_to_json of a value that is not a row".into()));
        }
        *e = self.json_of(x.clone(), false)?;
        if let (true, Expr::Function(f)) = (pretty, &mut *e) {
            rename(f, "pg_json_row_pretty");
        }
        Ok(())
    }

    /// `array_to_json(array [, false])`: an array as a json array, its
    /// elements as to_json writes them (the pretty form is refused).
    fn array_to_json(&mut self, e: &mut Expr, args: &[Expr]) -> Result<()> {
        let x = match args {
            [x] => x,
            [x, Expr::Value(v)] if v.value == Value::Boolean(false) => x,
            [_, _] => {
                return Err(refuse(
                    "array_to_json with a pretty flag other than false".into(),
                ))
            }
            _ => {
                return Err(refuse(format!(
                    "array_to_json with {} arguments",
                    args.len()
                )))
            }
        };
        let ty = self.type_of(x);
        if !matches!(ty, PgType::Array(_)) {
            return Err(Error::NoSuchFunction(format!(
                "array_to_json({})",
                ty.display_name()
            ))
            .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
        }
        *e = self.json_of(x.clone(), false)?;
        Ok(())
    }

    /// The json and jsonb functions; `false` when `name` is none of them.
    pub(super) fn json_function(&mut self, e: &mut Expr, name: &str) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let jsonb = name.starts_with("jsonb");
        whole_row_arguments(f);
        let args: Vec<Expr> = arg_exprs(f).into_iter().map(|x| x.clone()).collect();
        match name {
            "json_build_object" | "jsonb_build_object" => {
                if !args.len().is_multiple_of(2) {
                    return Err(Error::InvalidParameter(
                        "argument list must have even number of elements".into(),
                    )
                    .with_hint(format!(
                        "The arguments of {name}() must consist of alternating keys and values."
                    )));
                }
                for (i, k) in args.iter().enumerate().step_by(2) {
                    self.json_key(k, i + 1, jsonb)?;
                }
                self.wrap_args(f, false)?;
                rename(f, &format!("pg_{}_object", &name[..name.len() - 13]));
            }
            "json_build_array" | "jsonb_build_array" => {
                self.wrap_args(f, false)?;
                rename(f, &format!("pg_{}_array", &name[..name.len() - 12]));
            }
            "to_json" | "to_jsonb" => {
                let [x] = args.as_slice() else {
                    return Err(refuse(format!("{name} with {} arguments", args.len())));
                };
                *e = self.json_of(x.clone(), jsonb)?;
            }
            "json_agg" | "jsonb_agg" | "json_object_agg" | "jsonb_object_agg" => {
                self.json_aggregate(f, name, &args, jsonb)?;
            }
            "jsonb_typeof" | "json_typeof" | "jsonb_array_length" | "json_array_length" => {
                self.json_operands(f, 1)?;
                let to = if name.ends_with("typeof") {
                    "pg_json_typeof"
                } else {
                    "pg_json_array_length"
                };
                rename(f, to);
            }
            "jsonb_extract_path"
            | "json_extract_path"
            | "jsonb_extract_path_text"
            | "json_extract_path_text" => {
                self.json_operands(f, 1)?;
                let mut all: Vec<Expr> = arg_exprs(f).into_iter().map(take).collect();
                if all.is_empty() {
                    return Err(refuse(format!("{name} without arguments")));
                }
                let doc = all.remove(0);
                let path = call("json_array", all);
                let text = name.ends_with("_text");
                *e = call(
                    "pg_json_path",
                    vec![doc, path, number(i64::from(jsonb)), number(i64::from(text))],
                );
            }
            "jsonb_set" | "jsonb_insert" | "jsonb_set_lax" => {
                *e = self.jsonb_edit_call(f, name)?;
            }
            "jsonb_strip_nulls" | "jsonb_pretty" => {
                self.json_operands(f, 1)?;
                rename(f, &format!("pg_{name}"));
            }
            "row_to_json" => self.row_to_json(e, &args)?,
            "array_to_json" => self.array_to_json(e, &args)?,
            "json_object"
            | "jsonb_object"
            | "json_populate_record"
            | "jsonb_populate_record"
            | "json_strip_nulls" => {
                return Err(refuse(format!("function {name}")));
            }
            // Set-returning: in FROM they are tables (`typed::lateral`).
            // Records (`_each`) only in FROM; the others also in a SELECT
            // list (`sql::rewrite::pg_catalog`'s set-returning calls).
            n if matches!(
                crate::types::json::Items::of(n),
                Some((crate::types::json::Items::Each, ..))
            ) =>
            {
                return Err(refuse(format!("{name} outside FROM")));
            }
            n if crate::types::json::Items::of(n).is_some() => return Ok(true),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// jsonb has no min/max in PostgreSQL (42883); greatest, least and
    /// nullif over it are not built (they would compare text).
    pub(super) fn jsonb_unordered(&mut self, name: &str, f: &mut Function) -> Result<()> {
        let types: Vec<PgType> = arg_exprs(f).into_iter().map(|a| self.type_of(a)).collect();
        if !types.contains(&PgType::Jsonb) {
            return Ok(());
        }
        match name {
            "greatest" | "least" | "nullif" => Err(refuse(format!("{name} over jsonb"))),
            "min" | "max" if types.first() == Some(&PgType::Jsonb) => {
                Err(Error::NoSuchFunction(format!("{name}(jsonb)")).with_hint(
                    "No function matches the given name and argument types. You might need to add explicit type casts.",
                ))
            }
            _ => Ok(()),
        }
    }

    /// Each argument of `f` as its JSON text.
    fn wrap_args(&mut self, f: &mut Function, jsonb: bool) -> Result<()> {
        for a in arg_exprs(f) {
            let x = take(a);
            *a = self.json_of(x, jsonb)?;
        }
        Ok(())
    }

    /// The first `n` arguments of `f` are json or jsonb: a quoted literal
    /// is read as jsonb now (PostgreSQL's error for bad input).
    fn json_operands(&mut self, f: &mut Function, n: usize) -> Result<()> {
        for a in arg_exprs(f).into_iter().take(n) {
            self.json_operand(a)?;
        }
        Ok(())
    }

    fn json_operand(&mut self, a: &mut Expr) -> Result<()> {
        if let Some(text) = quoted(a) {
            *a = crate::sql::coerce::datum_expr(&PgType::Jsonb.parse_text(text)?);
        } else if !matches!(
            self.type_of(a),
            PgType::Json | PgType::Jsonb | PgType::Unknown
        ) {
            return Err(refuse(format!(
                "json operand of type {}",
                self.type_of(a).display_name()
            )));
        }
        Ok(())
    }

    /// `doc[k]…` on jsonb: each subscript an integer or a text, read as
    /// a path element (`#>`'s: a key, or a position in an array) by
    /// `pg_jsonb_subscript`.
    pub(super) fn jsonb_subscript(&mut self, e: &mut Expr) -> Result<()> {
        let Expr::CompoundFieldAccess { root, access_chain } = e else {
            return Ok(());
        };
        let mut args = vec![take(root)];
        for access in access_chain.iter_mut() {
            let index = match access {
                AccessExpr::Subscript(Subscript::Index { index }) => index,
                AccessExpr::Subscript(Subscript::Slice { .. }) => {
                    return Err(Error::DatatypeMismatch(
                        "jsonb subscript does not support slices".into(),
                    ))
                }
                AccessExpr::Dot(_) => {
                    return Err(refuse("a field selection on a jsonb subscript".into()))
                }
            };
            let ty = self.type_of(index);
            if quoted(index).is_none()
                && !matches!(
                    ty,
                    PgType::Int4
                        | PgType::Int2
                        | PgType::Text
                        | PgType::Varchar(_)
                        | PgType::Bpchar(_)
                        | PgType::Unknown
                )
            {
                return Err(Error::DatatypeMismatch(format!(
                    "subscript type {} is not supported",
                    ty.display_name()
                ))
                .with_hint("jsonb subscript must be coercible to either integer or text."));
            }
            args.push(take(index));
        }
        *e = call("pg_jsonb_subscript", args);
        Ok(())
    }

    /// `->`, `->>`, `#>`, `#>>` on json or jsonb; `@>`, `<@`, `?` and the
    /// order comparisons on jsonb. `false` for any other operator.
    pub(super) fn json_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        let jsonb = lt == PgType::Jsonb;
        match op {
            // An operand whose type is not known here (a sort key, typed
            // in its own scope) is read as json: a stored jsonb is in its
            // normal form already.
            Op::Arrow | Op::LongArrow | Op::HashArrow | Op::HashLongArrow
                if json_type(&lt) || (lt == PgType::Unknown && quoted(left).is_none()) =>
            {
                let text = matches!(op, Op::LongArrow | Op::HashLongArrow);
                let path = matches!(op, Op::HashArrow | Op::HashLongArrow);
                let key = if path {
                    match quoted(right).and_then(path_literal) {
                        Some(p) => string(p),
                        None if self.path_arg(right)? => take(right),
                        None => return Err(refuse(format!("operator {op} with this path"))),
                    }
                } else {
                    take(right)
                };
                let name = if path { "pg_json_path" } else { "pg_json_get" };
                *e = call(
                    name,
                    vec![
                        take(left),
                        key,
                        number(i64::from(jsonb)),
                        number(i64::from(text)),
                    ],
                );
            }
            Op::Arrow | Op::LongArrow | Op::HashArrow | Op::HashLongArrow => {
                return Err(not_json_operand(left, &lt, op, right, &rt));
            }
            Op::Lt | Op::LtEq | Op::Gt | Op::GtEq | Op::AtArrow | Op::ArrowAt
                if lt == PgType::Jsonb || rt == PgType::Jsonb =>
            {
                for side in [&mut **left, &mut **right] {
                    self.jsonb_side(side, op)?;
                }
                let (l, r) = (take(left), take(right));
                *e = match op {
                    Op::AtArrow => call("pg_jsonb_contains", vec![l, r]),
                    Op::ArrowAt => call("pg_jsonb_contains", vec![r, l]),
                    op => Expr::BinaryOp {
                        left: Box::new(call("pg_jsonb_cmp", vec![l, r])),
                        op: op.clone(),
                        right: Box::new(number(0)),
                    },
                };
            }
            Op::Question if jsonb => {
                if !matches!(rt, PgType::Text | PgType::Varchar(_) | PgType::Unknown) {
                    return Err(Error::NoSuchOperator(format!(
                        "operator does not exist: jsonb ? {}",
                        rt.display_name()
                    ))
                    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."));
                }
                *e = call("pg_jsonb_exists", vec![take(left), take(right)]);
            }
            Op::Eq | Op::NotEq | Op::Lt | Op::LtEq | Op::Gt | Op::GtEq
                if (lt == PgType::Json || rt == PgType::Json)
                    && lt != PgType::Jsonb
                    && rt != PgType::Jsonb =>
            {
                let name = |e: &Expr, t: &PgType| match t {
                    _ if quoted(e).is_some() => "unknown".to_string(),
                    PgType::Unknown => "unknown".to_string(),
                    t => t.display_name(),
                };
                return Err(Error::NoSuchOperator(format!(
                    "operator does not exist: {} {op} {}",
                    name(left, &lt),
                    name(right, &rt)
                ))
                .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."));
            }
            Op::QuestionAnd | Op::QuestionPipe | Op::HashMinus if jsonb => {
                *e = self.jsonb_array_operator(op, left, right, &rt)?;
            }
            Op::Minus
                if jsonb
                    && matches!(
                        rt,
                        PgType::Int2
                            | PgType::Int4
                            | PgType::Int8
                            | PgType::Text
                            | PgType::Varchar(_)
                            | PgType::Unknown
                    ) =>
            {
                if rt == PgType::Unknown && quoted(right).is_none() {
                    return Err(refuse("jsonb - of an operand of unknown type".into()));
                }
                *e = call("pg_jsonb_delete", vec![take(left), take(right)]);
            }
            // `jsonb @? jsonpath` (an untyped left side can be nothing
            // else) and `jsonb @@ jsonpath`, errors suppressed.
            Op::AtQuestion | Op::AtAt
                if jsonb || (matches!(op, Op::AtQuestion) && quoted(left).is_some()) =>
            {
                *e = path_operator(op, take(left), take(right));
            }
            Op::Minus if jsonb => {
                return Err(refuse(format!("operator {op} on jsonb")));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A jsonb operand that IN, BETWEEN, IS DISTINCT FROM, ANY/ALL or a
    /// simple CASE compares: under jsonb's collation, which SQLite uses
    /// for those comparisons, so they go by jsonb's order and equality.
    pub(super) fn jsonb_compared(&mut self, e: &mut Expr) {
        let left = match e {
            Expr::In { expr, .. }
            | Expr::Between { expr, .. }
            | Expr::AnyOp { left: expr, .. }
            | Expr::AllOp { left: expr, .. }
            | Expr::IsDistinctFrom(expr, _)
            | Expr::IsNotDistinctFrom(expr, _)
            | Expr::Case {
                operand: Some(expr),
                ..
            } => expr,
            _ => return,
        };
        if !matches!(**left, Expr::Collate { .. }) && self.type_of(left) == PgType::Jsonb {
            **left = super::collate_as(take(left), &PgType::Jsonb);
        }
    }

    /// An operand of a jsonb comparison or containment: jsonb, or a quoted
    /// literal read as jsonb now.
    fn jsonb_side(&mut self, side: &mut Expr, op: &Op) -> Result<()> {
        if let Some(text) = quoted(side) {
            *side = crate::sql::coerce::datum_expr(&PgType::Jsonb.parse_text(text)?);
            return Ok(());
        }
        match self.type_of(side) {
            PgType::Jsonb | PgType::Unknown => Ok(()),
            t => Err(Error::NoSuchOperator(format!(
                "operator does not exist: jsonb {op} {}",
                t.display_name()
            ))
            .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")),
        }
    }
}

/// `doc @? path` and `doc @@ path`: `jsonb_path_exists` and
/// `jsonb_path_match` with their errors suppressed.
fn path_operator(op: &Op, doc: Expr, path: Expr) -> Expr {
    let name = match op {
        Op::AtQuestion => "jsonb_path_exists",
        _ => "jsonb_path_match",
    };
    call(name, vec![doc, path, string("{}".into()), number(1)])
}

#[cfg(test)]
mod tests {
    use super::path_literal;

    #[test]
    fn path_literals_read_as_postgresql_arrays() {
        assert_eq!(path_literal("{a,b}").as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(path_literal("{}").as_deref(), Some("[]"));
        assert_eq!(path_literal("{ a , 1 }").as_deref(), Some(r#"["a","1"]"#));
        assert_eq!(path_literal("{a,NULL}").as_deref(), Some(r#"["a",null]"#));
        assert_eq!(path_literal(r#"{"a,b"}"#), None);
    }
}
