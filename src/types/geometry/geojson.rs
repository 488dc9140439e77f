//! GeoJSON output (`ST_AsGeoJSON(geometry, maxdecimaldigits, options)`,
//! postgis/lwgeom_export.c + liblwgeom/lwout_geojson.c) and input
//! (`ST_GeomFromGeoJSON`, liblwgeom/lwin_geojson.c).

use super::format::format_double;
use super::{bbox, CodecResult as Result, Coord, GeomError, Geometry, Shape};
use serde_json::Value;

/// `ST_AsGeoJSON(geometry, maxdecimaldigits, options)` (defaults 9 and 8).
/// options: 1 = bbox, 2 = short crs (`EPSG:n`), 4 = long crs
/// (`urn:ogc:def:crs:EPSG::n`), 8 = short crs unless SRID is 4326 or 0.
/// The crs name is built as EPSG authority; PostGIS looks it up in
/// spatial_ref_sys (and errors "SRID %i unknown in spatial_ref_sys table"),
/// which the caller must do if it needs that check.  Nested
/// GeometryCollections fail with "GeoJson: geometry not supported." as in PostGIS.
pub fn to_geojson(g: &Geometry, maxdecimaldigits: i32, options: i32) -> Result<String> {
    let guess = options & 8 != 0;
    let mut short = options & 2 != 0;
    let long = options & 4 != 0;
    if guess && g.srid != 4326 && g.srid != 0 {
        short = true;
    }
    let srs = if g.srid != 0 && (short || long) {
        Some(if long {
            format!("urn:ogc:def:crs:EPSG::{}", g.srid)
        } else {
            format!("EPSG:{}", g.srid)
        })
    } else {
        None
    };
    let bb = if options & 1 != 0 {
        Some(bbox(g).unwrap_or((0.0, 0.0, 0.0, 0.0)))
    } else {
        None
    };
    let mut out = String::new();
    write(
        &mut out,
        &g.shape,
        srs.as_deref(),
        bb,
        maxdecimaldigits,
        true,
    )?;
    Ok(out)
}

fn fixed(v: f64, p: i32) -> String {
    // C printf("%.*f"): a negative precision means the default, 6.
    let p = if p < 0 { 6 } else { p as usize };
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v < 0.0 {
            "-inf".into()
        } else {
            "inf".into()
        }
    } else {
        format!("{v:.p$}")
    }
}

fn pts(out: &mut String, v: &[Coord], p: i32) {
    for (i, c) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        out.push_str(&format_double(c.x, p));
        out.push(',');
        out.push_str(&format_double(c.y, p));
        out.push(']');
    }
}

fn rings(out: &mut String, r: &[Vec<Coord>], p: i32) {
    for (i, ring) in r.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        pts(out, ring, p);
        out.push(']');
    }
}

fn write(
    out: &mut String,
    s: &Shape,
    srs: Option<&str>,
    bb: Option<(f64, f64, f64, f64)>,
    p: i32,
    top: bool,
) -> Result<()> {
    let tname = match s {
        Shape::Point(_) => "Point",
        Shape::LineString(_) => "LineString",
        Shape::Polygon(_) => "Polygon",
        Shape::MultiPoint(_) => "MultiPoint",
        Shape::MultiLineString(_) => "MultiLineString",
        Shape::MultiPolygon(_) => "MultiPolygon",
        Shape::GeometryCollection(_) => {
            if !top {
                return Err(GeomError::internal("GeoJson: geometry not supported."));
            }
            "GeometryCollection"
        }
    };
    out.push_str(&format!("{{\"type\":\"{tname}\","));
    if let Some(srs) = srs {
        out.push_str(&format!(
            "\"crs\":{{\"type\":\"name\",\"properties\":{{\"name\":\"{srs}\"}}}},"
        ));
    }
    let print_bb = match s {
        Shape::GeometryCollection(v) => !v.is_empty(),
        _ => true,
    };
    if let (Some((a, b, c, d)), true) = (bb, print_bb) {
        out.push_str(&format!(
            "\"bbox\":[{},{},{},{}],",
            fixed(a, p),
            fixed(b, p),
            fixed(c, p),
            fixed(d, p)
        ));
    }
    let empty = s.is_empty();
    match s {
        Shape::Point(c) => {
            out.push_str("\"coordinates\":");
            match c {
                Some(c) => {
                    out.push('[');
                    out.push_str(&format_double(c.x, p));
                    out.push(',');
                    out.push_str(&format_double(c.y, p));
                    out.push(']');
                }
                None => out.push_str("[]"),
            }
            out.push('}');
        }
        Shape::LineString(v) => {
            out.push_str("\"coordinates\":[");
            pts(out, v, p);
            out.push_str("]}");
        }
        Shape::Polygon(r) => {
            out.push_str("\"coordinates\":[");
            if !empty {
                rings(out, r, p);
            }
            out.push_str("]}");
        }
        Shape::MultiPoint(v) => {
            out.push_str("\"coordinates\":[");
            if !empty {
                for (i, c) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if let Some(c) = c {
                        pts(out, std::slice::from_ref(c), p);
                    }
                }
            }
            out.push_str("]}");
        }
        Shape::MultiLineString(v) => {
            out.push_str("\"coordinates\":[");
            if !empty {
                rings(out, v, p);
            }
            out.push_str("]}");
        }
        Shape::MultiPolygon(v) => {
            out.push_str("\"coordinates\":[");
            if !empty {
                for (i, poly) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    rings(out, poly, p);
                    out.push(']');
                }
            }
            out.push_str("]}");
        }
        Shape::GeometryCollection(v) => {
            out.push_str("\"geometries\":[");
            if !empty {
                for (i, g) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(out, g, None, None, p, false)?;
                }
            }
            out.push_str("]}");
        }
    }
    Ok(())
}

/// `ST_GeomFromGeoJSON(text)`: SRID from the crs member
/// (`EPSG:n` or `urn:ogc:def:crs:EPSG::n`; any other name gives 0, as an
/// unknown spatial_ref_sys entry does in PostGIS), 4326 when there is no crs.
/// Like PostGIS, no validity checks are made (a one-point LineString or an
/// unclosed ring are accepted) and type names are case-insensitive.
/// Invalid JSON: PostGIS reports json-c's tokener message ("null expected
/// (at offset 1)"); this codec reports serde_json's message in the same
/// "%s (at offset %d)" shape, so the text differs.
pub fn from_geojson(s: &str) -> Result<Geometry> {
    parse_geojson_text(s, true)
}

pub(crate) fn parse_geojson_text(s: &str, default_4326: bool) -> Result<Geometry> {
    let mut de = serde_json::Deserializer::from_str(s).into_iter::<Value>();
    let v = match de.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            return Err(GeomError::internal(format!(
                "{} (at offset {})",
                e,
                e.column().saturating_sub(1)
            )))
        }
        None => return Err(GeomError::internal("unexpected end of data (at offset 0)")),
    };
    let srs = member(&v, "crs")
        .and_then(|c| member(c, "type").and(member(c, "properties")))
        .and_then(|p| member(p, "name"))
        .map(json_string);
    let mut hasz = false;
    let shape = parse(&v, &mut hasz, 0)?;
    if hasz {
        return Err(GeomError::zm());
    }
    let srid = match srs {
        Some(name) => srid_from_name(&name),
        None if default_4326 => 4326,
        None => 0,
    };
    Ok(Geometry { srid, shape })
}

fn srid_from_name(name: &str) -> i32 {
    let up = name.to_ascii_uppercase();
    let num = up
        .strip_prefix("EPSG:")
        .or_else(|| up.strip_prefix("URN:OGC:DEF:CRS:EPSG::"));
    num.and_then(|n| n.parse::<i32>().ok())
        .map_or(0, super::clamp_srid)
}

/// `findMemberByName`: case-insensitive key lookup.
fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

/// `json_object_get_string`.
fn json_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `json_object_get_double`: numbers as is, numeric strings parsed
/// (strtod prefix), booleans 1/0, anything else 0.
fn json_double(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => {
            let t = s.trim_start();
            (1..=t.len())
                .rev()
                .find_map(|i| t.get(..i).and_then(|p| p.parse::<f64>().ok()))
                .unwrap_or(0.0)
        }
        _ => 0.0,
    }
}

fn coordinates(v: &Value) -> Result<&Vec<Value>> {
    let c = member(v, "coordinates")
        .ok_or_else(|| GeomError::internal("Unable to find 'coordinates' in GeoJSON string"))?;
    c.as_array()
        .ok_or_else(|| GeomError::internal("The 'coordinates' in GeoJSON are not an array"))
}

/// `parse_geojson_coord`: Ok(None) for an empty array.
fn coord(v: &Value, hasz: &mut bool) -> Result<Option<Coord>> {
    let Some(a) = v.as_array() else {
        return Err(GeomError::internal(
            "The 'coordinates' in GeoJSON are not sufficiently nested",
        ));
    };
    if a.is_empty() {
        return Ok(None);
    }
    if a.len() < 2 {
        return Err(GeomError::internal("Too few ordinates in GeoJSON"));
    }
    if a.len() > 2 {
        *hasz = true;
    }
    Ok(Some(Coord {
        x: json_double(&a[0]),
        y: json_double(&a[1]),
    }))
}

fn ptarray(v: &[Value], hasz: &mut bool) -> Result<Vec<Coord>> {
    let mut out = Vec::new();
    for c in v {
        if let Some(c) = coord(c, hasz)? {
            out.push(c);
        }
    }
    Ok(out)
}

/// `parse_geojson_poly_rings`; None when `rings` is not an array.
fn poly_rings(rings: &Value, hasz: &mut bool) -> Result<Option<Vec<Vec<Coord>>>> {
    let Some(rings) = rings.as_array() else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (i, r) in rings.iter().enumerate() {
        let Some(pts) = r.as_array() else {
            return Err(GeomError::internal(
                "The 'coordinates' in GeoJSON ring are not an array",
            ));
        };
        if pts.is_empty() {
            if i == 0 {
                break;
            }
            continue;
        }
        let mut ring = Vec::new();
        for c in pts {
            match coord(c, hasz) {
                Ok(Some(c)) => ring.push(c),
                Ok(None) => {}
                Err(_) => {
                    return Err(GeomError::internal(
                        "The 'coordinates' in GeoJSON are not sufficiently nested",
                    ))
                }
            }
        }
        out.push(ring);
    }
    Ok(Some(out))
}

fn parse(v: &Value, hasz: &mut bool, depth: usize) -> Result<Shape> {
    if depth > 200 {
        return Err(GeomError::internal("invalid GeoJSON representation"));
    }
    let Some(t) = member(v, "type") else {
        return Err(GeomError::internal("unknown GeoJSON type"));
    };
    let name = json_string(t).to_ascii_lowercase();
    match name.as_str() {
        "point" => Ok(Shape::Point(coord(
            &Value::Array(coordinates(v)?.clone()),
            hasz,
        )?)),
        "linestring" => Ok(Shape::LineString(ptarray(coordinates(v)?, hasz)?)),
        "polygon" => {
            let c = coordinates(v)?;
            Ok(Shape::Polygon(
                poly_rings(&Value::Array(c.clone()), hasz)?.unwrap_or_default(),
            ))
        }
        "multipoint" => {
            let mut out = Vec::new();
            for c in coordinates(v)? {
                out.push(coord(c, hasz)?);
            }
            Ok(Shape::MultiPoint(out))
        }
        "multilinestring" => {
            let mut out = Vec::new();
            for l in coordinates(v)? {
                let Some(a) = l.as_array() else {
                    return Err(GeomError::internal("lwgeom_from_geojson returned NULL"));
                };
                out.push(ptarray(a, hasz)?);
            }
            Ok(Shape::MultiLineString(out))
        }
        "multipolygon" => {
            let mut out = Vec::new();
            for p in coordinates(v)? {
                if let Some(r) = poly_rings(p, hasz)? {
                    out.push(r);
                }
            }
            Ok(Shape::MultiPolygon(out))
        }
        "geometrycollection" => {
            let g = member(v, "geometries").ok_or_else(|| {
                GeomError::internal("Unable to find 'geometries' in GeoJSON string")
            })?;
            let mut out = Vec::new();
            if let Some(a) = g.as_array() {
                for m in a {
                    out.push(parse(m, hasz, depth + 1)?);
                }
            }
            Ok(Shape::GeometryCollection(out))
        }
        _ => Err(GeomError::internal("invalid GeoJson representation")),
    }
}
