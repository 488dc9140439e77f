//! PostGIS's functions on stored geometries (`types::geometry`), under
//! PostGIS's own names (`st_distance`, `st_astext`, …), and the calls the
//! typed step (`sql::infer::typed::geometry`) emits: `pg_geom_value` (a
//! literal it read), `pg_geom_in` (text read as a geometry),
//! `pg_geom_cast` (a typmod checked), `pg_geom_out` (text output) and
//! `pg_geom_distance` (`<->`). A geometry is stored as PostGIS's EWKB.

use std::sync::Arc;

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{fail, FnResult};
use crate::error::Error;
use crate::types::geometry::{self, ops, Coord, Geometry, Shape};

fn read(v: ValueRef<'_>) -> rusqlite::Result<Option<Geometry>> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => geometry::decode(b).map(Some).map_err(fail),
        ValueRef::Text(t) => geometry::parse(&String::from_utf8_lossy(t))
            .map(Some)
            .map_err(fail),
        _ => Err(fail(Error::DatatypeMismatch(
            "a geometry argument that is not a geometry".into(),
        ))),
    }
}

/// Argument `i` as a geometry; `None` for NULL. Text is read as a
/// geometry's text forms (a parameter the typed step could not convert).
fn arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Geometry>> {
    read(ctx.get_raw(i))
}

/// Argument `i` as a geometry, kept by SQLite between rows when it is a
/// constant (the query point of a nearest-neighbour scan is read once).
fn cached_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<Arc<Geometry>>> {
    if let ValueRef::Null = ctx.get_raw(i) {
        return Ok(None);
    }
    ctx.get_or_create_aux(i as i32, |v| -> rusqlite::Result<Geometry> {
        read(v)?.ok_or_else(|| fail(Error::Internal("a NULL geometry".into())))
    })
    .map(Some)
}

/// Argument `i` as a double precision; `None` for NULL (numeric values
/// arrive as their text).
fn float(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<f64>> {
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(n) => Ok(Some(n as f64)),
        ValueRef::Real(f) => Ok(Some(f)),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            crate::types::PgType::Float8
                .parse_text(&s)
                .map_err(fail)
                .map(|d| match d {
                    crate::types::Datum::Real(f) => Some(f),
                    crate::types::Datum::Int(n) => Some(n as f64),
                    _ => None,
                })
        }
        ValueRef::Blob(_) => Err(fail(Error::DatatypeMismatch(
            "a double precision argument that is not a number".into(),
        ))),
    }
}

/// Argument `i` as an integer; `None` for NULL.
fn int(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => Ok(Some(n)),
        ValueRef::Null => Ok(None),
        ValueRef::Real(f) => Ok(Some(f.round_ties_even() as i64)),
        ValueRef::Text(t) => String::from_utf8_lossy(t)
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| {
                fail(Error::InvalidInput(
                    "invalid input syntax for type integer".into(),
                ))
            }),
        ValueRef::Blob(_) => Err(fail(Error::DatatypeMismatch(
            "an integer argument that is not an integer".into(),
        ))),
    }
}

fn srid_arg(ctx: &Context<'_>, i: usize) -> rusqlite::Result<Option<i32>> {
    Ok(int(ctx, i)?.map(|n| geometry::clamp_srid(i32::try_from(n).unwrap_or(i32::MAX))))
}

fn blob(g: &Geometry) -> Value {
    Value::Blob(geometry::encode(g))
}

fn text_arg(ctx: &Context<'_>, i: usize) -> Option<String> {
    super::as_text(ctx.get_raw(i))
}

/// `f(g)` of one geometry, NULL for NULL.
fn one(ctx: &Context<'_>, f: impl Fn(&Geometry) -> Result<Value, Error>) -> FnResult {
    match arg(ctx, 0)? {
        Some(g) => f(&g).map_err(fail),
        None => Ok(Value::Null),
    }
}

/// `f(a, b)` of two geometries, NULL when either is; a constant second
/// argument read once per statement.
fn two(ctx: &Context<'_>, f: impl Fn(&Geometry, &Geometry) -> Result<Value, Error>) -> FnResult {
    match (arg(ctx, 0)?, cached_arg(ctx, 1)?) {
        (Some(a), Some(b)) => f(&a, &b).map_err(fail),
        _ => Ok(Value::Null),
    }
}

fn real(x: Option<f64>) -> Value {
    x.map_or(Value::Null, Value::Real)
}

fn boolean(b: bool) -> Value {
    Value::Integer(i64::from(b))
}

/// `pg_geom_in(text, typmod)` and `pg_geom_cast(g, typmod)`: a geometry
/// given a `geometry(type, srid)` typmod (NULL: none).
fn with_typmod(ctx: &mut Context<'_>) -> FnResult {
    let Some(g) = arg(ctx, 0)? else {
        return Ok(Value::Null);
    };
    let typmod = int(ctx, 1)?.and_then(|m| i32::try_from(m).ok());
    geometry::apply_typmod(g, typmod)
        .map(|g| blob(&g))
        .map_err(fail)
}

/// `ST_MakePoint(x, y)` / `ST_Point(x, y [, srid])`.
fn make_point(ctx: &Context<'_>, srid: bool) -> FnResult {
    let (Some(x), Some(y)) = (float(ctx, 0)?, float(ctx, 1)?) else {
        return Ok(Value::Null);
    };
    let srid = if srid {
        match srid_arg(ctx, 2)? {
            Some(s) => s,
            None => return Ok(Value::Null),
        }
    } else {
        0
    };
    Ok(blob(&Geometry {
        srid,
        shape: Shape::Point(Some(Coord { x, y })),
    }))
}

/// `ST_MakeEnvelope(xmin, ymin, xmax, ymax [, srid])`.
fn make_envelope(ctx: &mut Context<'_>) -> FnResult {
    let mut v = [0.0; 4];
    for (i, x) in v.iter_mut().enumerate() {
        match float(ctx, i)? {
            Some(f) => *x = f,
            None => return Ok(Value::Null),
        }
    }
    let srid = match ctx.len() {
        5 => match srid_arg(ctx, 4)? {
            Some(s) => s,
            None => return Ok(Value::Null),
        },
        _ => 0,
    };
    Ok(blob(&ops::make_envelope(v[0], v[1], v[2], v[3], srid)))
}

/// `ST_X` / `ST_Y`: of a point; NULL for an empty one.
fn coordinate(ctx: &Context<'_>, which: &'static str) -> FnResult {
    one(ctx, |g| match &g.shape {
        Shape::Point(p) => Ok(real(p.map(|c| if which == "X" { c.x } else { c.y }))),
        _ => Err(Error::Geometry(format!(
            "Argument to ST_{which}() must have type POINT"
        ))),
    })
}

/// `ST_GeomFromText(wkt [, srid])`: WKT (PostGIS also reads EWKT here,
/// with a warning), not the hexadecimal forms geometry input takes.
fn from_text(ctx: &Context<'_>, srid: bool) -> FnResult {
    let Some(text) = text_arg(ctx, 0) else {
        return Ok(Value::Null);
    };
    let mut g = geometry::parse_wkt(&text).map_err(fail)?;
    if srid {
        match srid_arg(ctx, 1)? {
            Some(s) => g.srid = s,
            None => return Ok(Value::Null),
        }
    }
    Ok(blob(&g))
}

/// `ST_GeomFromWKB(wkb [, srid])` and `ST_GeomFromEWKB(ewkb)`.
fn from_wkb(ctx: &Context<'_>, srid: bool) -> FnResult {
    let bytes = match ctx.get_raw(0) {
        ValueRef::Null => return Ok(Value::Null),
        ValueRef::Blob(b) => b.to_vec(),
        ValueRef::Text(t) => t.to_vec(),
        _ => return Err(fail(Error::DatatypeMismatch("a bytea argument".into()))),
    };
    let mut g = geometry::decode(&bytes).map_err(fail)?;
    if srid {
        match srid_arg(ctx, 1)? {
            Some(s) => g.srid = s,
            None => return Ok(Value::Null),
        }
    }
    Ok(blob(&g))
}

/// The output precision argument `i` (PostGIS's default 15 or 9).
fn precision(ctx: &Context<'_>, i: usize, default: i64) -> rusqlite::Result<Option<i32>> {
    if ctx.len() <= i {
        return Ok(Some(default as i32));
    }
    Ok(int(ctx, i)?.map(|p| p.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32))
}

fn as_text(ctx: &Context<'_>, ewkt: bool) -> FnResult {
    let Some(p) = precision(ctx, 1, 15)? else {
        return Ok(Value::Null);
    };
    one(ctx, |g| {
        Ok(Value::Text(if ewkt {
            geometry::to_ewkt(g, p)
        } else {
            geometry::to_wkt(g, p)
        }))
    })
}

fn as_geojson(ctx: &mut Context<'_>) -> FnResult {
    let (Some(p), Some(options)) = (precision(ctx, 1, 9)?, precision(ctx, 2, 8)?) else {
        return Ok(Value::Null);
    };
    one(ctx, |g| {
        geometry::to_geojson(g, p, options)
            .map(Value::Text)
            .map_err(Error::from)
    })
}

/// `ST_AsBinary(g [, 'NDR'])`: OGC WKB, little-endian, no SRID.
fn as_binary(ctx: &mut Context<'_>) -> FnResult {
    if ctx.len() > 1 {
        let order = text_arg(ctx, 1).unwrap_or_default();
        if !order.eq_ignore_ascii_case("NDR") {
            return Err(fail(Error::Unsupported(format!(
                "ST_AsBinary with byte order '{order}' (only NDR)"
            ))));
        }
    }
    one(ctx, |g| {
        let plain = Geometry {
            srid: 0,
            shape: g.shape.clone(),
        };
        Ok(blob(&plain))
    })
}

/// `ST_Buffer(g, r [, quad_segs | 'options'])`.
fn buffer(ctx: &mut Context<'_>) -> FnResult {
    let Some(radius) = float(ctx, 1)? else {
        return Ok(Value::Null);
    };
    let quad_segs = match ctx.len() {
        2 => 8,
        _ => match ctx.get_raw(2) {
            ValueRef::Null => return Ok(Value::Null),
            ValueRef::Text(t) => {
                ops::buffer_quad_segs(&String::from_utf8_lossy(t)).map_err(fail)?
            }
            _ => int(ctx, 2)?.unwrap_or(8),
        },
    };
    one(ctx, |g| ops::buffer(g, radius, quad_segs).map(|b| blob(&b)))
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_geom_value", 1, det, |c| one(c, |g| Ok(blob(g))))?;
    conn.create_scalar_function("pg_geom_in", 2, det, with_typmod)?;
    conn.create_scalar_function("pg_geom_cast", 2, det, with_typmod)?;
    conn.create_scalar_function("pg_geom_out", 1, det, |c| {
        one(c, |g| Ok(Value::Text(geometry::to_hex(g))))
    })?;
    conn.create_scalar_function("pg_geom_distance", 2, det, |c| {
        two(c, |a, b| ops::distance(a, b).map(real))
    })?;
    conn.create_scalar_function("pg_geom_overlaps", 2, det, |c| {
        two(c, |a, b| Ok(boolean(ops::overlaps(a, b))))
    })?;
    for n in [4, 5] {
        conn.create_scalar_function("st_makeenvelope", n, det, make_envelope)?;
    }
    conn.create_scalar_function("st_makepoint", 2, det, |c| make_point(c, false))?;
    conn.create_scalar_function("st_point", 2, det, |c| make_point(c, false))?;
    conn.create_scalar_function("st_point", 3, det, |c| make_point(c, true))?;
    conn.create_scalar_function("st_geomfromtext", 1, det, |c| from_text(c, false))?;
    conn.create_scalar_function("st_geomfromtext", 2, det, |c| from_text(c, true))?;
    conn.create_scalar_function("st_geomfromewkt", 1, det, |c| match text_arg(c, 0) {
        Some(t) => geometry::parse_wkt(&t).map(|g| blob(&g)).map_err(fail),
        None => Ok(Value::Null),
    })?;
    conn.create_scalar_function("st_geomfromgeojson", 1, det, |c| match text_arg(c, 0) {
        Some(t) => geometry::from_geojson(&t)
            .map(|g| blob(&g))
            .map_err(|e| fail(e.into())),
        None => Ok(Value::Null),
    })?;
    conn.create_scalar_function("st_geomfromwkb", 1, det, |c| from_wkb(c, false))?;
    conn.create_scalar_function("st_geomfromwkb", 2, det, |c| from_wkb(c, true))?;
    conn.create_scalar_function("st_geomfromewkb", 1, det, |c| from_wkb(c, false))?;
    for n in [1, 2] {
        conn.create_scalar_function("st_astext", n, det, |c| as_text(c, false))?;
        conn.create_scalar_function("st_asewkt", n, det, |c| as_text(c, true))?;
        conn.create_scalar_function("st_asbinary", n, det, as_binary)?;
        conn.create_scalar_function("st_buffer", n + 1, det, buffer)?;
    }
    for n in [1, 2, 3] {
        conn.create_scalar_function("st_asgeojson", n, det, as_geojson)?;
    }
    conn.create_scalar_function("st_asewkb", 1, det, |c| one(c, |g| Ok(blob(g))))?;
    conn.create_scalar_function("st_x", 1, det, |c| coordinate(c, "X"))?;
    conn.create_scalar_function("st_y", 1, det, |c| coordinate(c, "Y"))?;
    conn.create_scalar_function("st_srid", 1, det, |c| {
        one(c, |g| Ok(Value::Integer(i64::from(g.srid))))
    })?;
    conn.create_scalar_function("st_setsrid", 2, det, |c| {
        let Some(srid) = srid_arg(c, 1)? else {
            return Ok(Value::Null);
        };
        one(c, |g| {
            let mut g = g.clone();
            g.srid = srid;
            Ok(blob(&g))
        })
    })?;
    conn.create_scalar_function("st_distance", 2, det, |c| {
        two(c, |a, b| ops::distance(a, b).map(real))
    })?;
    conn.create_scalar_function("st_dwithin", 3, det, |c| {
        let Some(d) = float(c, 2)? else {
            return Ok(Value::Null);
        };
        two(c, |a, b| ops::dwithin(a, b, d).map(boolean))
    })?;
    conn.create_scalar_function("st_contains", 2, det, |c| {
        two(c, |a, b| ops::contains(a, b).map(boolean))
    })?;
    conn.create_scalar_function("st_within", 2, det, |c| {
        two(c, |a, b| ops::contains(b, a).map(boolean))
    })?;
    conn.create_scalar_function("st_intersects", 2, det, |c| {
        two(c, |a, b| ops::intersects(a, b).map(boolean))
    })?;
    conn.create_scalar_function("st_area", 1, det, |c| {
        one(c, |g| Ok(Value::Real(ops::area(&g.shape))))
    })?;
    conn.create_scalar_function("st_length", 1, det, |c| {
        one(c, |g| Ok(Value::Real(ops::length(&g.shape))))
    })?;
    conn.create_scalar_function("st_npoints", 1, det, |c| {
        one(c, |g| Ok(Value::Integer(ops::npoints(&g.shape))))
    })?;
    conn.create_scalar_function("st_envelope", 1, det, |c| {
        one(c, |g| Ok(blob(&ops::envelope(g))))
    })?;
    conn.create_scalar_function("st_isempty", 1, det, |c| {
        one(c, |g| Ok(boolean(g.shape.is_empty())))
    })?;
    conn.create_scalar_function("st_geometrytype", 1, det, |c| {
        one(c, |g| Ok(Value::Text(geometry::type_name(g).into())))
    })?;
    conn.create_scalar_function("geometrytype", 1, det, |c| {
        one(c, |g| Ok(Value::Text(geometry::geometry_type(g).into())))
    })
}
