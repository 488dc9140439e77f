//! The typed step for PostGIS's `geometry` (`types::geometry`): the
//! `ST_*` functions MosaicDB has (`store::udf::geometry` answers them under
//! the same names), the distance operator `<->` and the box overlap `&&`
//! between geometries, casts
//! to and from geometry, and the refusals PostgreSQL + PostGIS give where a
//! call matches no function or more than one. A quoted literal a geometry
//! takes is read here (PostGIS's parse errors at plan time, as PostgreSQL
//! reports them) and becomes the stored EWKB.

use sqlparser::ast::{BinaryOperator as Op, Expr, Value};

use super::expr::{arg_exprs, call, func_name, take};
use super::values::quoted;
use super::vector::{cannot_cast, no_function, shown, untyped};
use super::Typer;
use crate::error::{Error, Result};
use crate::types::PgType;

/// One signature of a PostGIS function: its argument kinds (`g` geometry,
/// `f` double precision, `i` integer, `t` text, `b` bytea, `j` GeoJSON as
/// text, json or jsonb), its result, and which other overloads PostGIS
/// declares with the same arguments where a geometry is (they decide what
/// a call with only untyped literals there resolves to).
struct Signature {
    name: &'static str,
    args: &'static str,
    result: Ret,
    /// A `geography` overload.
    geography: bool,
    /// A `text` overload (PostgreSQL prefers it for untyped literals and
    /// for text values, and PostGIS reads the text as a geometry).
    text: bool,
}

#[derive(Clone, Copy)]
enum Ret {
    Geometry,
    Float8,
    Int4,
    Bool,
    Text,
    Bytea,
}

const fn sig(
    name: &'static str,
    args: &'static str,
    result: Ret,
    geography: bool,
    text: bool,
) -> Signature {
    Signature {
        name,
        args,
        result,
        geography,
        text,
    }
}

/// The PostGIS functions MosaicDB has, each signature as PostGIS 3
/// declares it.
const SIGNATURES: &[Signature] = &[
    sig("st_makepoint", "ff", Ret::Geometry, false, false),
    sig("st_makeenvelope", "ffff", Ret::Geometry, false, false),
    sig("st_makeenvelope", "ffffi", Ret::Geometry, false, false),
    sig("st_point", "ff", Ret::Geometry, false, false),
    sig("st_point", "ffi", Ret::Geometry, false, false),
    sig("st_geomfromtext", "t", Ret::Geometry, false, false),
    sig("st_geomfromtext", "ti", Ret::Geometry, false, false),
    sig("st_geomfromewkt", "t", Ret::Geometry, false, false),
    sig("st_geomfromgeojson", "j", Ret::Geometry, false, false),
    sig("st_geomfromwkb", "b", Ret::Geometry, false, false),
    sig("st_geomfromwkb", "bi", Ret::Geometry, false, false),
    sig("st_geomfromewkb", "b", Ret::Geometry, false, false),
    sig("st_astext", "g", Ret::Text, true, true),
    sig("st_astext", "gi", Ret::Text, true, false),
    sig("st_asewkt", "g", Ret::Text, true, true),
    sig("st_asewkt", "gi", Ret::Text, true, false),
    sig("st_asgeojson", "g", Ret::Text, false, true),
    sig("st_asgeojson", "gi", Ret::Text, true, false),
    sig("st_asgeojson", "gii", Ret::Text, true, false),
    sig("st_asbinary", "g", Ret::Bytea, true, false),
    sig("st_asbinary", "gt", Ret::Bytea, true, false),
    sig("st_asewkb", "g", Ret::Bytea, false, false),
    sig("st_asewkb", "gt", Ret::Bytea, false, false),
    sig("st_x", "g", Ret::Float8, false, false),
    sig("st_y", "g", Ret::Float8, false, false),
    sig("st_setsrid", "gi", Ret::Geometry, true, false),
    sig("st_srid", "g", Ret::Int4, true, false),
    sig("st_distance", "gg", Ret::Float8, false, true),
    sig("st_dwithin", "ggf", Ret::Bool, false, true),
    sig("st_contains", "gg", Ret::Bool, false, false),
    sig("st_within", "gg", Ret::Bool, false, false),
    sig("st_intersects", "gg", Ret::Bool, true, true),
    sig("st_area", "g", Ret::Float8, false, true),
    sig("st_length", "g", Ret::Float8, false, true),
    sig("st_envelope", "g", Ret::Geometry, false, false),
    sig("st_buffer", "gf", Ret::Geometry, true, true),
    sig("st_buffer", "gfi", Ret::Geometry, true, true),
    sig("st_buffer", "gft", Ret::Geometry, true, true),
    sig("st_geometrytype", "g", Ret::Text, false, false),
    sig("geometrytype", "g", Ret::Text, true, false),
    sig("st_isempty", "g", Ret::Bool, false, false),
    sig("st_npoints", "g", Ret::Int4, false, false),
];

/// Functions of any type that pass a geometry through or only look at
/// whether it is NULL.
const TAKES_ANY: &[&str] = &[
    "count",
    "coalesce",
    "nullif",
    "pg_typeof",
    "num_nulls",
    "num_nonnulls",
];

/// The calls this step emits besides the PostGIS names: a literal read
/// (`pg_geom_value`), text read as a geometry (`pg_geom_in`), a typmod
/// check (`pg_geom_cast`), text output (`pg_geom_out`) and `<->`
/// (`pg_geom_distance`) and `&&` (`pg_geom_overlaps`).
pub(super) fn is_geometry_call(name: &str) -> bool {
    name.starts_with("pg_geom_")
}

fn ret_type(r: Ret) -> PgType {
    match r {
        Ret::Geometry => PgType::Geometry(None),
        Ret::Float8 => PgType::Float8,
        Ret::Int4 => PgType::Int4,
        Ret::Bool => PgType::Bool,
        Ret::Text => PgType::Text,
        Ret::Bytea => PgType::Bytea,
    }
}

/// The result type of a PostGIS function or of a call this step emitted.
pub fn result_type(name: &str) -> Option<PgType> {
    if let Some(s) = SIGNATURES.iter().find(|s| s.name == name) {
        return Some(ret_type(s.result));
    }
    Some(match name {
        "pg_geom_value" | "pg_geom_in" | "pg_geom_cast" => PgType::Geometry(None),
        "pg_geom_out" => PgType::Text,
        "pg_geom_distance" => PgType::Float8,
        "pg_geom_overlaps" => PgType::Bool,
        _ => return None,
    })
}

fn kind_type(k: u8) -> PgType {
    match k {
        b'g' => PgType::Geometry(None),
        b'f' => PgType::Float8,
        b'i' => PgType::Int4,
        b'b' => PgType::Bytea,
        _ => PgType::Text,
    }
}

/// What a parameter passed to a PostGIS function is described as.
pub fn argument_types(name: &str, arity: usize) -> Vec<PgType> {
    SIGNATURES
        .iter()
        .find(|s| s.name == name && s.args.len() == arity)
        .map(|s| s.args.bytes().map(kind_type).collect())
        .unwrap_or_default()
}

fn is_geometry(t: &PgType) -> bool {
    matches!(t, PgType::Geometry(_))
}

fn is_text(t: &PgType) -> bool {
    matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_))
}

/// A quoted literal read as a geometry of `ty`: its stored EWKB, in a
/// call that keeps its type for the steps that type the statement again.
fn literal(e: &mut Expr, ty: &PgType) -> Result<()> {
    super::values::read_literal(e, ty, "pg_geom_value")
}

/// The typmod a cast checks, as the UDFs take it (NULL: any).
fn typmod_arg(t: &PgType) -> Expr {
    Expr::Value(
        match t {
            PgType::Geometry(Some(m)) => Value::Number(m.to_string(), false),
            _ => Value::Null,
        }
        .into(),
    )
}

/// A literal or parameter: the same value on every row.
fn constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::Nested(x) => constant(x),
        Expr::Function(f) => func_name(f) == "pg_geom_value",
        _ => false,
    }
}

/// 0A000 for what PostGIS has and MosaicDB does not.
fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("{what} of geometry"))
}

impl Typer<'_> {
    /// A geometry operand: a literal read as a geometry, text read by
    /// `pg_geom_in` where `text` says PostGIS takes text there; false
    /// when the operand's type cannot be a geometry.
    fn geometry_operand(&mut self, e: &mut Expr, t: &PgType, text: bool) -> Result<bool> {
        if quoted(e).is_some() {
            literal(e, &PgType::Geometry(None))?;
            return Ok(true);
        }
        if text && is_text(t) {
            *e = call(
                "pg_geom_in",
                vec![take(e), typmod_arg(&PgType::Geometry(None))],
            );
            return Ok(true);
        }
        let null = matches!(e, Expr::Value(v) if matches!(v.value, Value::Null));
        Ok(is_geometry(t) || null || *t == PgType::Unknown)
    }

    /// A value stored in a geometry column of type `ty`: a literal read
    /// (and checked) now, text read and any geometry checked against the
    /// column's typmod as it is stored, other types refused as PostgreSQL
    /// refuses them.
    pub(super) fn geometry_assign(
        &mut self,
        e: &mut Expr,
        src: &PgType,
        ty: &PgType,
        col: &str,
    ) -> Result<()> {
        let null =
            matches!(e, Expr::Value(v) if matches!(v.value, Value::Null | Value::Placeholder(_)));
        if null || crate::sql::is_default_keyword(e) {
            return Ok(());
        }
        if quoted(e).is_some() {
            return literal(e, ty);
        }
        match src {
            PgType::Geometry(_) | PgType::Bytea => {
                if matches!(ty, PgType::Geometry(Some(_))) || *src == PgType::Bytea {
                    *e = call("pg_geom_cast", vec![take(e), typmod_arg(ty)]);
                }
            }
            t if is_text(t) || *t == PgType::Unknown => {
                *e = call("pg_geom_in", vec![take(e), typmod_arg(ty)]);
            }
            other => {
                return Err(Error::DatatypeMismatch(format!(
                    "column \"{col}\" is of type geometry but expression is of type {}",
                    other.without_modifiers().display_name()
                ))
                .with_hint("You will need to rewrite or cast the expression."))
            }
        }
        Ok(())
    }

    /// A VALUES list's column where a geometry is: its quoted literals
    /// read as geometries, as PostgreSQL types them by the column.
    pub(super) fn geometry_values(&mut self, v: &mut sqlparser::ast::Values) -> Result<()> {
        let width = v.rows.iter().map(|r| r.content.len()).max().unwrap_or(0);
        for c in 0..width {
            let geometry = v
                .rows
                .iter()
                .filter_map(|r| r.content.get(c))
                .any(|e| is_geometry(&self.type_of(e)));
            if geometry {
                for r in v.rows.iter_mut() {
                    if let Some(e) = r.content.get_mut(c) {
                        literal(e, &PgType::Geometry(None))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `<->` between geometries and the comparisons of geometries; true
    /// when `e` was one of them.
    pub(super) fn geometry_binary(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(false);
        };
        if !matches!(
            op,
            Op::LtDashGt
                | Op::Eq
                | Op::NotEq
                | Op::Lt
                | Op::LtEq
                | Op::Gt
                | Op::GtEq
                | Op::PGOverlap
        ) {
            return Ok(false);
        }
        // Many types have `&&` (arrays, ranges, boxes, geometries):
        // between two untyped literals PostgreSQL cannot choose.
        if *op == Op::PGOverlap && quoted(left).is_some() && quoted(right).is_some() {
            return Err(Error::AmbiguousFunction(
                "operator is not unique: unknown && unknown".into(),
            )
            .with_hint(
                "Could not choose a best candidate operator. You might need to add explicit type casts.",
            ));
        }
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        if !is_geometry(&lt) && !is_geometry(&rt) {
            return Ok(false);
        }
        match op {
            // Equality is of the stored EWKB: the same coordinates in the
            // same order and the same SRID, as PostGIS 3's `=`.
            Op::Eq | Op::NotEq => {
                for (side, t) in [(left, &lt), (right, &rt)] {
                    if !self.geometry_operand(side, t, false)? {
                        return Err(no_geometry_operator(&lt, op, &rt));
                    }
                }
                Ok(true)
            }
            Op::Lt | Op::LtEq | Op::Gt | Op::GtEq => Err(unsupported("the btree order (<, >)")),
            _ => {
                for (side, t) in [(&mut **left, &lt), (&mut **right, &rt)] {
                    if !self.geometry_operand(side, t, false)? {
                        return Err(no_geometry_operator(&lt, op, &rt));
                    }
                }
                // A constant operand goes second, where the UDF reads it
                // once per statement.
                if constant(left) && !constant(right) {
                    std::mem::swap(left, right);
                }
                let udf = match op {
                    Op::PGOverlap => "pg_geom_overlaps",
                    _ => "pg_geom_distance",
                };
                *e = call(udf, vec![take(left), take(right)]);
                Ok(true)
            }
        }
    }

    /// A cast to or from a geometry; true when `e` was one.
    pub(super) fn geometry_cast(&mut self, e: &mut Expr) -> Result<bool> {
        let Expr::Cast {
            expr, data_type, ..
        } = e
        else {
            return Ok(false);
        };
        let Ok(target) = PgType::from_sql(data_type) else {
            return Ok(false);
        };
        let from = self.type_of(expr);
        if !is_geometry(&target) && !is_geometry(&from) {
            return Ok(false);
        }
        match (&target, &from) {
            (PgType::Geometry(_), _) if quoted(expr).is_some() => {
                literal(expr, &target)?;
                *e = take(expr);
            }
            (PgType::Geometry(_), PgType::Geometry(_) | PgType::Bytea) => {
                *e = call("pg_geom_cast", vec![take(expr), typmod_arg(&target)]);
            }
            (PgType::Geometry(_), t) if is_text(t) || *t == PgType::Unknown => {
                *e = call("pg_geom_in", vec![take(expr), typmod_arg(&target)]);
            }
            (PgType::Geometry(_), other) => return Err(cannot_cast(other, &target)),
            (t, PgType::Geometry(_)) if is_text(t) => {
                **expr = call("pg_geom_out", vec![take(expr)]);
            }
            (PgType::Bytea, PgType::Geometry(_)) => *e = take(expr),
            (other, _) => return Err(cannot_cast(&from, other)),
        }
        Ok(true)
    }

    /// PostGIS's functions, and any other function given a geometry;
    /// true when `e` was one of PostGIS's.
    pub(super) fn geometry_function(&mut self, e: &mut Expr, types: &[PgType]) -> Result<bool> {
        let Expr::Function(f) = e else {
            return Ok(false);
        };
        let name = func_name(f);
        let mut args = arg_exprs(f);
        if !SIGNATURES.iter().any(|s| s.name == name) {
            // Any other function of a geometry would see its stored bytes.
            if types.iter().any(is_geometry) && !TAKES_ANY.contains(&name.as_str()) {
                return Err(no_function(&name, &args, types));
            }
            return Ok(false);
        }
        if name == "st_makepoint" && matches!(args.len(), 3 | 4) {
            return Err(Error::Unsupported(
                "geometry with Z or M coordinates (ST_MakePoint of 3 or 4 values)".into(),
            ));
        }
        let Some(s) = self.signature(&name, &args, types) else {
            return Err(no_function(&name, &args, types));
        };
        let geometry_at: Vec<usize> = s
            .args
            .bytes()
            .enumerate()
            .filter(|(_, k)| *k == b'g')
            .map(|(i, _)| i)
            .collect();
        let all_untyped = geometry_at.iter().all(|i| untyped(args[*i]));
        if all_untyped && s.geography && !s.text && !geometry_at.is_empty() {
            let list: Vec<String> = args.iter().zip(types).map(|(a, t)| shown(a, t)).collect();
            return Err(Error::AmbiguousFunction(format!(
                "function {name}({}) is not unique",
                list.join(", ")
            ))
            .with_hint(
                "Could not choose a best candidate function. You might need to add explicit type casts.",
            ));
        }
        for i in geometry_at {
            if !self.geometry_operand(args[i], &types[i], s.text)? {
                return Err(no_function(&name, &args, types));
            }
        }
        // The distance and predicates read a constant second argument
        // once per statement.
        if matches!(
            name.as_str(),
            "st_distance" | "st_dwithin" | "st_intersects"
        ) && constant(args[0])
            && !constant(args[1])
        {
            let first = take(args[0]);
            let second = std::mem::replace(args[1], first);
            *args[0] = second;
        }
        Ok(true)
    }

    /// The signature a call matches by its arguments' count and types.
    fn signature(
        &self,
        name: &str,
        args: &[&mut Expr],
        types: &[PgType],
    ) -> Option<&'static Signature> {
        SIGNATURES.iter().find(|s| {
            s.name == name
                && s.args.len() == args.len()
                && s.args
                    .bytes()
                    .zip(types)
                    .zip(args)
                    .all(|((k, t), a)| untyped(a) || fits(k, t))
        })
    }
}

/// Whether a value of type `t` can be passed where a signature has kind `k`
/// (the geometry positions are checked by `geometry_operand`).
fn fits(k: u8, t: &PgType) -> bool {
    use PgType as T;
    let numeric = matches!(
        t,
        T::Int2 | T::Int4 | T::Int8 | T::Float4 | T::Float8 | T::Numeric(_)
    );
    match k {
        b'g' => true,
        b'f' => numeric || *t == T::Unknown,
        b'i' => matches!(t, T::Int2 | T::Int4 | T::Unknown),
        b'b' => matches!(t, T::Bytea | T::Unknown),
        b'j' => is_text(t) || matches!(t, T::Json | T::Jsonb | T::Unknown),
        _ => is_text(t) || *t == T::Unknown,
    }
}

fn no_geometry_operator(l: &PgType, op: &Op, r: &PgType) -> Error {
    Error::NoSuchOperator(format!(
        "operator does not exist: {} {op} {}",
        l.without_modifiers().display_name(),
        r.without_modifiers().display_name()
    ))
    .with_hint(
        "No operator matches the given name and argument types. You might need to add explicit type casts.",
    )
}
