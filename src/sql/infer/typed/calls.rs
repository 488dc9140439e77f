//! Calls whose meaning the typed step decides from their arguments' types
//! alone.

use sqlparser::ast::{Expr, Function, Value};

use super::expr::{arg_exprs, call, refuse, string, take};
use crate::error::{Error, Result};
use crate::types::PgType;

/// Calls whose meaning the argument types decide alone: `pg_typeof`, whose
/// answer is known once its argument's type is (a column's domain's
/// name, as `env` tells it), and `pg_size_pretty` of a
/// small integer, which PostgreSQL cannot resolve.
pub(super) fn by_argument_types(
    name: &str,
    f: &mut Function,
    types: &[PgType],
    env: &super::super::Env<'_>,
) -> Result<Option<Expr>> {
    if let Some(e) = super::divisors::call_for(name, f, types)? {
        return Ok(Some(e));
    }
    // pg_typeof's answer is known once the argument's type is.
    if name == "pg_typeof" {
        if let [t] = types {
            // A bare quoted literal or NULL has not been given a type.
            let untyped = matches!(arg_exprs(f).as_slice(), [Expr::Value(v)]
                    if matches!(v.value, Value::SingleQuotedString(_) | Value::Null));
            if *t == PgType::Unknown && !untyped {
                return Err(refuse("pg_typeof of an expression of unknown type".into()));
            }
            // A domain's name, of a cast to it or of a column of it.
            let cast = (arg_exprs(f).first()).and_then(|a| crate::sql::domain::as_cast(a));
            let domain = match cast {
                Some(Expr::Cast { data_type, .. }) => Some(data_type.to_string()),
                _ => (arg_exprs(f).first()).and_then(|a| env.column_domain(a)),
            };
            let name = if untyped {
                "unknown".into()
            } else if let Some(d) = domain {
                d
            } else {
                t.without_modifiers().display_name()
            };
            let arg = arg_exprs(f).into_iter().map(take).next();
            return Ok(Some(call(
                "pg_typeof_known",
                arg.into_iter().chain([string(name)]).collect(),
            )));
        }
    }
    // enum_first / enum_last answer from the argument's enum type alone.
    if let ("enum_first" | "enum_last", [PgType::Enum(t)]) = (name, types) {
        let label = match name {
            "enum_first" => t.labels.first(),
            _ => t.labels.last(),
        };
        return Ok(Some(
            label.map_or_else(|| Expr::value(Value::Null), |l| string(l.clone())),
        ));
    }
    if name == "enum_range" && matches!(types.first(), Some(PgType::Enum(_))) {
        return Err(refuse("enum_range (arrays of enums)".into()));
    }
    // A quoted literal given where the function takes bytea is bytea
    // input, as PostgreSQL resolves the unknown literal.
    if matches!(name, "get_byte" | "set_byte" | "convert_from") {
        if let Some(a) = arg_exprs(f).into_iter().next() {
            super::values::read_literal(a, &PgType::Bytea, "pg_bytea_value")?;
        }
    }
    // format's arguments print as their types' output functions print.
    if name == "format" {
        for (a, t) in arg_exprs(f).into_iter().zip(types).skip(1) {
            if *t == PgType::Bool {
                *a = super::values::bool_out(take(a));
            }
        }
    }
    // pg_size_pretty takes bigint or numeric; PostgreSQL cannot choose
    // between them for a smaller integer.
    if name == "pg_size_pretty" && matches!(types, [PgType::Int2 | PgType::Int4]) {
        let arg = if types[0] == PgType::Int2 {
            "smallint"
        } else {
            "integer"
        };
        return Err(Error::AmbiguousFunction(format!(
                "function pg_size_pretty({arg}) is not unique"
            ))
            .with_hint(
                "Could not choose a best candidate function. You might need to add explicit type casts.",
            ));
    }
    Ok(None)
}

/// The statistics aggregates over double precision, and over integers
/// and numerics in numeric (`pg_numeric_<name>`, as PostgreSQL computes
/// them); as window functions, `pg_window_[numeric_]<name>`, which keep
/// the frame's values (`store::udf::stats`).
pub(super) fn statistics_call(name: &str, f: &mut Function, types: &[PgType]) -> Result<()> {
    if !crate::sql::validate::STATISTICS.contains(&name) {
        return Ok(());
    }
    let window = if f.over.is_some() { "window_" } else { "" };
    let exact = matches!(
        types,
        [PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Numeric(_)]
    );
    if !exact && !matches!(types, [PgType::Float4 | PgType::Float8]) {
        let shown: Vec<String> = types.iter().map(PgType::display_name).collect();
        return Err(refuse(format!("function {name}({})", shown.join(", "))));
    }
    let renamed = match (exact, window) {
        (true, _) => format!("pg_{window}numeric_{name}"),
        (false, "") => return Ok(()),
        (false, _) => format!("pg_window_{name}"),
    };
    f.name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(renamed)]);
    Ok(())
}

/// Whether operands of `types` make `power`, `^` or `log(b, x)` the
/// numeric form: a numeric among them and no float (PostgreSQL prefers the
/// double precision form over mixed operands, as float8 is the preferred
/// type of the numeric category).
pub(super) fn numeric_math(types: &[PgType]) -> bool {
    let float = |t: &PgType| matches!(t, PgType::Float4 | PgType::Float8);
    types.iter().any(super::is_numeric) && !types.iter().any(float)
}

/// `sqrt`, `exp`, `ln`, `log`, `log10`, `power`, `scale`, `min_scale` and
/// `trim_scale` of numerics, and `factorial` of an integer, as
/// `pg_numeric_*` calls
/// (`types::numeric::math`); whether `f` was one. `log(b, x)` has only a
/// numeric form, so integers take it too; `log(x)` is `log(10, x)`.
pub(super) fn numeric_math_call(name: &str, f: &mut Function, types: &[PgType]) -> bool {
    let integer = |t: &PgType| matches!(t, PgType::Int2 | PgType::Int4 | PgType::Int8);
    let numeric = numeric_math(types);
    let to = match (name, types.len()) {
        ("sqrt" | "exp" | "ln" | "trim_scale", 1) if numeric => name,
        ("log" | "log10", 1) if numeric => "log10",
        ("power" | "pow", 2) if numeric => "power",
        ("log", 2) if numeric || types.iter().all(integer) => "log",
        ("scale" | "min_scale" | "trim_scale", 1) if numeric || types.iter().all(integer) => name,
        // A bare NULL too: factorial has one form.
        ("factorial", 1) if types.iter().all(integer) || null_argument(f) => name,
        _ => return false,
    };
    let to = format!("pg_numeric_{to}");
    f.name = sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(to)]);
    true
}

/// Whether a call's only argument is the literal NULL.
fn null_argument(f: &mut Function) -> bool {
    matches!(arg_exprs(f).as_slice(), [e] if matches!(&**e, Expr::Value(v) if v.value == sqlparser::ast::Value::Null))
}

/// Functions whose numeric form MosaicDB does not compute exactly yet.
const REFUSED: &[&str] = &[
    "sqrt",
    "exp",
    "ln",
    "log",
    "log10",
    "power",
    "pow",
    "div",
    "scale",
    "min_scale",
    "trim_scale",
    "width_bucket",
    "factorial",
    "gcd",
    "lcm",
    "to_char",
];

/// A function whose numeric form is not computed exactly yet: with a
/// double among its arguments it is the double precision form, numeric
/// arguments cast to it (as PostgreSQL resolves it); refused otherwise.
pub(super) fn float_or_refused(name: &str, f: &mut Function, types: &[PgType]) -> Result<()> {
    if !REFUSED.contains(&name) {
        return Ok(());
    }
    let shown: Vec<String> = types.iter().map(PgType::display_name).collect();
    // factorial has one form, of bigint.
    if name == "factorial" {
        return Err(Error::NoSuchFunction(format!("{name}({})", shown.join(", ")))
            .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
    }
    if types
        .iter()
        .any(|t| matches!(t, PgType::Float4 | PgType::Float8))
    {
        for (a, t) in arg_exprs(f).into_iter().zip(types) {
            if super::is_numeric(t) {
                *a = call("pg_numeric_cast", vec![take(a), string("float8".into())]);
            }
        }
        return Ok(());
    }
    Err(refuse(format!("function {name}({})", shown.join(", "))))
}
