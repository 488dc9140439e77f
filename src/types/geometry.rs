//! PostGIS's `geometry` type, two-dimensional: points, lines, polygons,
//! their multi forms and collections, each with an SRID. Stored as the
//! EWKB PostGIS writes (little-endian, the SRID flag only for a non-zero
//! SRID), so the stored bytes are what `geometry_out` prints in hex and
//! what `geometry_send` sends. Input, output and their errors follow
//! PostGIS 3.3: WKT and EWKT (`wkt`), (E)WKB and its hex form (`wkb`),
//! GeoJSON (`geojson`), the `geometry(type, srid)` typmod (`typmod`), and
//! its number format (`format`); what is computed from geometries is in
//! `ops`. Z and M coordinates and curved types are refused (0A000).

mod format;
mod geojson;
pub mod ops;
mod typmod;
mod wkb;
mod wkt;

pub use format::format_double;
pub use geojson::{from_geojson, to_geojson};
pub use typmod::{check_typmod, typmod_in, typmod_out};
pub use wkb::{from_ewkb, to_ewkb, to_hex};
pub use wkt::{parse_text, to_ewkt, to_wkt};

use crate::error::{Error, Result};

/// The oid of the `geometry` type. PostGIS's types get oids when the
/// extension is created, above 16383 like every user object's, and
/// drivers treat them so; MosaicDB has geometry built in, under a fixed
/// oid no object is given (`types::builtin::RESERVED_OIDS`), in schema
/// `public`.
pub const OID: u32 = 999_999_010;
/// The oid of `geometry[]` (`_geometry`).
pub const ARRAY_OID: u32 = 999_999_011;

impl From<GeomError> for Error {
    fn from(e: GeomError) -> Error {
        match e {
            GeomError::Internal {
                message,
                hint: Some(hint),
            } => Error::Geometry(message).with_hint(hint),
            GeomError::Internal { message, .. } => Error::Geometry(message),
            GeomError::InvalidParameter(m) => Error::InvalidParameter(m),
            GeomError::NotSupported(m) => match m.strip_suffix(" is not supported") {
                Some(what) => Error::Unsupported(what.to_string()),
                None => Error::NotSupported(m),
            },
        }
    }
}

/// Whether a type name is `geometry`.
pub fn is_type_name(name: &str) -> bool {
    let n = name.trim_matches('"').to_ascii_lowercase();
    matches!(n.as_str(), "geometry" | "public.geometry")
}

/// The typmod of `geometry(type [, srid])` as sqlparser read it; `None`
/// for plain `geometry`.
pub fn typmod_from_sql(mods: &[sqlparser::ast::TypeModifier]) -> Result<Option<i32>> {
    use sqlparser::ast::TypeModifier as M;
    if mods.is_empty() {
        return Ok(None);
    }
    let args: Vec<String> = mods
        .iter()
        .map(|m| match m {
            M::Identifier(i) => i.value.clone(),
            M::Number(n, _) => n.clone(),
            M::String(s) => s.clone(),
        })
        .collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Ok(Some(typmod_in(&refs)?))
}

/// The name `format_type` gives: `geometry`, `geometry(Point,4326)`.
pub fn display_name(typmod: Option<i32>) -> String {
    match typmod {
        Some(m) => format!("geometry{}", typmod_out(m)),
        None => "geometry".into(),
    }
}

/// What a shard keeps of a geometry column (`types::shard::ColumnStats`)
/// so that spatial predicates prune it unopened (`plan::prune`): the SRID
/// all its values have, and the box around them (`None` when every value
/// is empty).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Extent {
    pub srid: i32,
    /// min x, min y, max x, max y.
    pub bbox: Option<[f64; 4]>,
}

impl Extent {
    /// The extent of a column's stored values; `None` when they have more
    /// than one SRID, a coordinate is NaN, a value does not decode, or no
    /// value is there.
    pub fn of<'a>(values: impl Iterator<Item = &'a crate::types::Datum>) -> Option<Extent> {
        let mut srid = None;
        let mut bbox: Option<[f64; 4]> = None;
        for v in values {
            let crate::types::Datum::Blob(b) = v else {
                if *v == crate::types::Datum::Null {
                    continue;
                }
                return None;
            };
            let g = from_ewkb(b).ok()?;
            if *srid.get_or_insert(g.srid) != g.srid {
                return None;
            }
            if let Some((x0, y0, x1, y1)) = self::bbox(&g) {
                if [x0, y0, x1, y1].iter().any(|c| c.is_nan()) {
                    return None;
                }
                bbox = Some(match bbox {
                    None => [x0, y0, x1, y1],
                    Some([a, b, c, d]) => [a.min(x0), b.min(y0), c.max(x1), d.max(y1)],
                });
            }
        }
        Some(Extent { srid: srid?, bbox })
    }
}

/// A stored (or received) geometry: its EWKB read back.
pub fn decode(b: &[u8]) -> Result<Geometry> {
    Ok(from_ewkb(b)?)
}

/// A geometry as stored.
pub fn encode(g: &Geometry) -> Vec<u8> {
    to_ewkb(g)
}

/// `geometry_in`: WKT, EWKT, hex (E)WKB or GeoJSON text.
pub fn parse(s: &str) -> Result<Geometry> {
    Ok(parse_text(s)?)
}

/// `ST_GeomFromText` / `ST_GeomFromEWKT`: WKT and EWKT only; the hex
/// forms that `geometry_in` also reads are a parse error here.
pub fn parse_wkt(s: &str) -> Result<Geometry> {
    let t = s.trim_start();
    if t.starts_with(|c: char| c.is_ascii_hexdigit() && !c.is_ascii_alphabetic())
        || t.starts_with('{')
    {
        return Err(Error::Geometry("parse error - invalid geometry".into()));
    }
    parse(s)
}

/// A geometry given to a `geometry(type, srid)`: checked as PostGIS checks
/// it, an SRID of 0 taking the column's.
pub fn apply_typmod(mut g: Geometry, typmod: Option<i32>) -> Result<Geometry> {
    if let Some(m) = typmod {
        check_typmod(&mut g, m)?;
    }
    Ok(g)
}

use std::fmt;

/// Errors, classified by the SQLSTATE PostGIS reports them with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GeomError {
    /// XX000 in PostGIS (`lwerror`): parse errors and the like, message
    /// exactly as PostGIS, with its HINT if PostGIS gives one.
    Internal {
        message: String,
        hint: Option<String>,
    },
    /// 22023 (`ERRCODE_INVALID_PARAMETER_VALUE`).
    InvalidParameter(String),
    /// 0A000: something PostGIS accepts but this codec does not (Z/M, curves).
    NotSupported(String),
}

impl GeomError {
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        GeomError::Internal {
            message: message.into(),
            hint: None,
        }
    }
    pub(crate) fn zm() -> Self {
        GeomError::NotSupported("geometry with Z or M coordinates is not supported".into())
    }
    pub(crate) fn unsupported_type(name: &str) -> Self {
        GeomError::NotSupported(format!("geometry type {name} is not supported"))
    }
}

impl fmt::Display for GeomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeomError::Internal { message, .. } => f.write_str(message),
            GeomError::InvalidParameter(m) | GeomError::NotSupported(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for GeomError {}

/// What the codec returns: its own error, which becomes a crate error
/// with the SQLSTATE PostGIS gives (`From<GeomError> for Error`).
pub type CodecResult<T> = std::result::Result<T, GeomError>;

/// A 2-D coordinate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coord {
    pub x: f64,
    pub y: f64,
}

/// A 2-D geometry with its SRID (0 = unknown), as PostGIS keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    pub srid: i32,
    pub shape: Shape,
}

/// The shape of a geometry.  Like PostGIS (with `LW_PARSER_CHECK_NONE`
/// inputs such as hex WKB or GeoJSON) no validity (ring closure, minimum
/// point count) is implied by this type.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// `None` = POINT EMPTY (stored in WKB as NaN NaN).
    Point(Option<Coord>),
    LineString(Vec<Coord>),
    /// Rings; empty vec = POLYGON EMPTY.
    Polygon(Vec<Vec<Coord>>),
    /// PostGIS allows EMPTY members (`MULTIPOINT(EMPTY,1 2)`).
    MultiPoint(Vec<Option<Coord>>),
    MultiLineString(Vec<Vec<Coord>>),
    MultiPolygon(Vec<Vec<Vec<Coord>>>),
    GeometryCollection(Vec<Shape>),
}

impl Shape {
    /// The PostGIS type number (`POINTTYPE` = 1 … `COLLECTIONTYPE` = 7),
    /// equal to the WKB type code.
    pub fn type_code(&self) -> u32 {
        match self {
            Shape::Point(_) => 1,
            Shape::LineString(_) => 2,
            Shape::Polygon(_) => 3,
            Shape::MultiPoint(_) => 4,
            Shape::MultiLineString(_) => 5,
            Shape::MultiPolygon(_) => 6,
            Shape::GeometryCollection(_) => 7,
        }
    }

    /// `lwgeom_is_empty`: true when there are no coordinates at all.
    pub fn is_empty(&self) -> bool {
        match self {
            Shape::Point(p) => p.is_none(),
            Shape::LineString(v) => v.is_empty(),
            Shape::Polygon(r) => r.is_empty() || r[0].is_empty(),
            Shape::MultiPoint(v) => v.iter().all(|p| p.is_none()),
            Shape::MultiLineString(v) => v.iter().all(|l| l.is_empty()),
            Shape::MultiPolygon(v) => v.iter().all(|p| p.is_empty() || p[0].is_empty()),
            Shape::GeometryCollection(v) => v.iter().all(|g| g.is_empty()),
        }
    }

    fn for_each_coord(&self, f: &mut dyn FnMut(&Coord)) {
        match self {
            Shape::Point(p) => p.iter().for_each(&mut *f),
            Shape::LineString(v) => v.iter().for_each(&mut *f),
            Shape::Polygon(r) => r.iter().flatten().for_each(&mut *f),
            Shape::MultiPoint(v) => v.iter().flatten().for_each(&mut *f),
            Shape::MultiLineString(v) => v.iter().flatten().for_each(&mut *f),
            Shape::MultiPolygon(v) => v.iter().flatten().flatten().for_each(&mut *f),
            Shape::GeometryCollection(v) => v.iter().for_each(|g| g.for_each_coord(f)),
        }
    }
}

/// PostGIS `lwtype_name`, used in error messages ("LineString", …).
pub fn lwtype_name(code: u32) -> &'static str {
    match code {
        1 => "Point",
        2 => "LineString",
        3 => "Polygon",
        4 => "MultiPoint",
        5 => "MultiLineString",
        6 => "MultiPolygon",
        7 => "GeometryCollection",
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        13 => "PolyhedralSurface",
        14 => "Triangle",
        15 => "Tin",
        _ => "Invalid type",
    }
}

/// `GeometryType(geometry)`, e.g. "POINT".
pub fn geometry_type(g: &Geometry) -> &'static str {
    g.shape.wkt_name()
}

impl Shape {
    /// The type's name in WKT (and `GeometryType`): "POINT", ….
    pub fn wkt_name(&self) -> &'static str {
        match self {
            Shape::Point(_) => "POINT",
            Shape::LineString(_) => "LINESTRING",
            Shape::Polygon(_) => "POLYGON",
            Shape::MultiPoint(_) => "MULTIPOINT",
            Shape::MultiLineString(_) => "MULTILINESTRING",
            Shape::MultiPolygon(_) => "MULTIPOLYGON",
            Shape::GeometryCollection(_) => "GEOMETRYCOLLECTION",
        }
    }
}

/// `ST_GeometryType(geometry)`, e.g. "ST_Point".
pub fn type_name(g: &Geometry) -> &'static str {
    match g.shape {
        Shape::Point(_) => "ST_Point",
        Shape::LineString(_) => "ST_LineString",
        Shape::Polygon(_) => "ST_Polygon",
        Shape::MultiPoint(_) => "ST_MultiPoint",
        Shape::MultiLineString(_) => "ST_MultiLineString",
        Shape::MultiPolygon(_) => "ST_MultiPolygon",
        Shape::GeometryCollection(_) => "ST_GeometryCollection",
    }
}

/// The box of a stored value (min x, min y, max x, max y); `None` for an
/// empty geometry or bytes that do not decode.
pub fn stored_bbox(b: &[u8]) -> Option<(f64, f64, f64, f64)> {
    bbox(&decode(b).ok()?)
}

/// Cartesian bounding box (`Box2D(geometry)` / `lwgeom_calculate_gbox_cartesian`)
/// as (minx, miny, maxx, maxy); `None` when the geometry is empty.
pub fn bbox(g: &Geometry) -> Option<(f64, f64, f64, f64)> {
    let mut b: Option<(f64, f64, f64, f64)> = None;
    g.shape.for_each_coord(&mut |c| {
        b = Some(match b {
            None => (c.x, c.y, c.x, c.y),
            Some((a, bb, cc, d)) => (a.min(c.x), bb.min(c.y), cc.max(c.x), d.max(c.y)),
        });
    });
    b
}

/// PostGIS `clamp_srid`: negative → 0 (NOTICE "SRID value %d converted to
/// the officially unknown SRID value 0"); above 999999 → folded into
/// 999000..999998 (NOTICE "SRID value %d > SRID_MAXIMUM converted to %d").
/// The NOTICEs are not reproduced.
pub fn clamp_srid(srid: i32) -> i32 {
    if srid <= 0 {
        0
    } else if srid > 999_999 {
        999_000 + srid % 999
    } else {
        srid
    }
}

#[cfg(test)]
mod tests;
