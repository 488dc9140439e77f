//! What PostGIS computes from geometries, on the geo crate where there is
//! an algorithm (containment, intersection, distances between lines and
//! polygons), and by PostGIS's own arithmetic where the answer must match
//! it to the last bit (the distance between two points, lengths, the
//! circle `ST_Buffer` draws around a point). Mixed SRIDs are refused and
//! empty geometries answered as PostGIS answers them.

use geo::{Contains, Distance, Euclidean, Intersects};

use super::{lwtype_name, Coord, Geometry, Shape};
use crate::error::{Error, Result};

/// `gserialized_error_if_srid_mismatch`: the function name PostGIS puts
/// first (its C function's), then both geometries' types and SRIDs.
pub fn same_srid(func: &str, a: &Geometry, b: &Geometry) -> Result<()> {
    if a.srid == b.srid {
        return Ok(());
    }
    Err(Error::Geometry(format!(
        "{func}: Operation on mixed SRID geometries ({}, {}) != ({}, {})",
        lwtype_name(a.shape.type_code()),
        a.srid,
        lwtype_name(b.shape.type_code()),
        b.srid
    )))
}

fn point(c: &Coord) -> geo::Point<f64> {
    geo::Point::new(c.x, c.y)
}

fn line_string(v: &[Coord]) -> geo::LineString<f64> {
    v.iter().map(|c| geo::Coord { x: c.x, y: c.y }).collect()
}

fn polygon(rings: &[Vec<Coord>]) -> geo::Polygon<f64> {
    let mut rings = rings.iter().map(|r| line_string(r));
    let shell = rings
        .next()
        .unwrap_or_else(|| geo::LineString::new(Vec::new()));
    geo::Polygon::new(shell, rings.collect())
}

/// The shape as geo's geometry, its empty parts left out; `None` when
/// nothing is left.
pub fn to_geo(shape: &Shape) -> Option<geo::Geometry<f64>> {
    if shape.is_empty() {
        return None;
    }
    Some(match shape {
        Shape::Point(p) => geo::Geometry::Point(point(p.as_ref()?)),
        Shape::LineString(v) => geo::Geometry::LineString(line_string(v)),
        Shape::Polygon(r) => geo::Geometry::Polygon(polygon(r)),
        Shape::MultiPoint(v) => geo::Geometry::MultiPoint(v.iter().flatten().map(point).collect()),
        Shape::MultiLineString(v) => geo::Geometry::MultiLineString(geo::MultiLineString(
            v.iter()
                .filter(|l| !l.is_empty())
                .map(|l| line_string(l))
                .collect(),
        )),
        Shape::MultiPolygon(v) => geo::Geometry::MultiPolygon(geo::MultiPolygon(
            v.iter()
                .filter(|p| !p.is_empty() && !p[0].is_empty())
                .map(|p| polygon(p))
                .collect(),
        )),
        Shape::GeometryCollection(v) => geo::Geometry::GeometryCollection(geo::GeometryCollection(
            v.iter().filter_map(to_geo).collect(),
        )),
    })
}

/// The one point of a non-empty Point.
fn single_point(shape: &Shape) -> Option<&Coord> {
    match shape {
        Shape::Point(Some(c)) => Some(c),
        _ => None,
    }
}

/// `ST_Distance`: the least Cartesian distance, `None` (NULL) when either
/// is empty. Between two points it is PostGIS's `sqrt(dx² + dy²)`.
pub fn distance(a: &Geometry, b: &Geometry) -> Result<Option<f64>> {
    same_srid("ST_Distance", a, b)?;
    Ok(shape_distance(&a.shape, &b.shape))
}

/// The least distance between two shapes, SRIDs already checked.
fn shape_distance(a: &Shape, b: &Shape) -> Option<f64> {
    if let (Some(p), Some(q)) = (single_point(a), single_point(b)) {
        let (dx, dy) = (q.x - p.x, q.y - p.y);
        return Some((dx * dx + dy * dy).sqrt());
    }
    match (to_geo(a), to_geo(b)) {
        (Some(x), Some(y)) => Some(Euclidean.distance(&x, &y)),
        _ => None,
    }
}

/// `ST_DWithin(a, b, d)`: within distance `d`; false when either is empty.
pub fn dwithin(a: &Geometry, b: &Geometry, d: f64) -> Result<bool> {
    if d < 0.0 {
        return Err(Error::Geometry("Tolerance cannot be less than zero".into()));
    }
    same_srid("LWGEOM_dwithin", a, b)?;
    Ok(shape_distance(&a.shape, &b.shape).is_some_and(|x| x <= d))
}

/// `ST_Contains(a, b)` (and `ST_Within(b, a)`, which PostGIS answers as
/// this): no point of `b` outside `a` and one inside its interior.
pub fn contains(a: &Geometry, b: &Geometry) -> Result<bool> {
    same_srid("contains", a, b)?;
    Ok(match (to_geo(&a.shape), to_geo(&b.shape)) {
        (Some(x), Some(y)) => x.contains(&y),
        _ => false,
    })
}

/// `ST_Intersects`: any point in common.
pub fn intersects(a: &Geometry, b: &Geometry) -> Result<bool> {
    same_srid("ST_Intersects", a, b)?;
    Ok(match (to_geo(&a.shape), to_geo(&b.shape)) {
        (Some(x), Some(y)) => x.intersects(&y),
        _ => false,
    })
}

/// PostGIS's `next_float_down` / `next_float_up`: the nearest float at or
/// below (above) `d`, clamped to the float range.
fn float_down(d: f64) -> f32 {
    if d > f64::from(f32::MAX) {
        return f32::MAX;
    }
    if d <= -f64::from(f32::MAX) {
        return -f32::MAX;
    }
    let r = d as f32;
    if f64::from(r) <= d {
        r
    } else {
        r.next_down()
    }
}

fn float_up(d: f64) -> f32 {
    if d >= f64::from(f32::MAX) {
        return f32::MAX;
    }
    if d < -f64::from(f32::MAX) {
        return -f32::MAX;
    }
    let r = d as f32;
    if f64::from(r) >= d {
        r
    } else {
        r.next_up()
    }
}

/// The box PostGIS's index operators compare (`box2df_from_gbox_p`): the
/// bounding box in floats rounded outwards; `None` for an empty geometry.
fn float_box(g: &Geometry) -> Option<[f32; 4]> {
    let (x0, y0, x1, y1) = super::bbox(g)?;
    Some([float_down(x0), float_down(y0), float_up(x1), float_up(y1)])
}

/// `a && b`: their float boxes overlap (`box2df_overlaps`); false when
/// either is empty. PostGIS does not compare SRIDs here.
pub fn overlaps(a: &Geometry, b: &Geometry) -> bool {
    match (float_box(a), float_box(b)) {
        (Some(p), Some(q)) => !(p[0] > q[2] || q[0] > p[2] || p[1] > q[3] || q[1] > p[3]),
        _ => false,
    }
}

/// `ST_MakeEnvelope(xmin, ymin, xmax, ymax, srid)`: the rectangle from
/// the first corner, as PostGIS draws it (the corners as given, not
/// ordered).
pub fn make_envelope(x0: f64, y0: f64, x1: f64, y1: f64, srid: i32) -> Geometry {
    let c = |x, y| Coord { x, y };
    Geometry {
        srid,
        shape: Shape::Polygon(vec![vec![
            c(x0, y0),
            c(x0, y1),
            c(x1, y1),
            c(x1, y0),
            c(x0, y0),
        ]]),
    }
}

/// Twice the signed area of a ring (the shoelace sum).
fn ring_area(r: &[Coord]) -> f64 {
    let Some(first) = r.first() else {
        return 0.0;
    };
    // Coordinates taken relative to the first, as PostGIS's
    // ptarray_signed_area does, for precision far from the origin.
    let x0 = first.x;
    let mut sum = 0.0;
    for w in r.windows(3) {
        sum += (w[1].x - x0) * (w[2].y - w[0].y);
    }
    sum / 2.0
}

fn polygon_area(rings: &[Vec<Coord>]) -> f64 {
    let mut rings = rings.iter();
    let Some(shell) = rings.next() else {
        return 0.0;
    };
    let mut area = ring_area(shell).abs();
    for hole in rings {
        area -= ring_area(hole).abs();
    }
    area
}

/// `ST_Area`: of the polygons; 0 for points and lines.
pub fn area(shape: &Shape) -> f64 {
    match shape {
        Shape::Polygon(r) => polygon_area(r),
        Shape::MultiPolygon(v) => v.iter().fold(0.0, |a, p| a + polygon_area(p)),
        Shape::GeometryCollection(v) => v.iter().fold(0.0, |a, g| a + area(g)),
        _ => 0.0,
    }
}

fn path_length(v: &[Coord]) -> f64 {
    v.windows(2).fold(0.0, |d, w| {
        let (dx, dy) = (w[1].x - w[0].x, w[1].y - w[0].y);
        d + (dx * dx + dy * dy).sqrt()
    })
}

/// `ST_Length`: of the lines; 0 for points and polygons.
pub fn length(shape: &Shape) -> f64 {
    match shape {
        Shape::LineString(v) => path_length(v),
        Shape::MultiLineString(v) => v.iter().fold(0.0, |d, l| d + path_length(l)),
        Shape::GeometryCollection(v) => v.iter().fold(0.0, |d, g| d + length(g)),
        _ => 0.0,
    }
}

/// `ST_NPoints`: every coordinate, rings' closing ones included.
pub fn npoints(shape: &Shape) -> i64 {
    match shape {
        Shape::Point(p) => i64::from(p.is_some()),
        Shape::LineString(v) => v.len() as i64,
        Shape::Polygon(r) => r.iter().map(|x| x.len() as i64).sum(),
        Shape::MultiPoint(v) => v.iter().flatten().count() as i64,
        Shape::MultiLineString(v) => v.iter().map(|x| x.len() as i64).sum(),
        Shape::MultiPolygon(v) => v.iter().flatten().map(|x| x.len() as i64).sum(),
        Shape::GeometryCollection(v) => v.iter().map(npoints).sum(),
    }
}

/// `ST_Envelope`: the bounding box as a polygon (first corner, then
/// counter-clockwise from the lower left), a point or a line where the
/// box has no area, the geometry itself when empty; the SRID kept.
pub fn envelope(g: &Geometry) -> Geometry {
    let Some((x0, y0, x1, y1)) = super::bbox(g) else {
        return g.clone();
    };
    let c = |x, y| Coord { x, y };
    let shape = if x0 == x1 && y0 == y1 {
        Shape::Point(Some(c(x0, y0)))
    } else if x0 == x1 || y0 == y1 {
        Shape::LineString(vec![c(x0, y0), c(x1, y1)])
    } else {
        Shape::Polygon(vec![vec![
            c(x0, y0),
            c(x0, y1),
            c(x1, y1),
            c(x1, y0),
            c(x0, y0),
        ]])
    };
    Geometry {
        srid: g.srid,
        shape,
    }
}

/// The buffer options MosaicDB takes: `quad_segs=N`. PostGIS's others
/// (`endcap`, `join`, `mitre_limit`, `side`) are refused as unsupported,
/// any other key with PostGIS's error.
pub fn buffer_quad_segs(options: &str) -> Result<i64> {
    let mut quad_segs = 8;
    for item in options.split_whitespace() {
        let (key, value) = item.split_once('=').unwrap_or((item, ""));
        match key.to_ascii_lowercase().as_str() {
            "quad_segs" => quad_segs = value.parse::<f64>().map_or(0, |v| v as i64),
            "endcap" | "join" | "mitre_limit" | "miter_limit" | "side" => {
                return Err(Error::Unsupported(format!(
                    "ST_Buffer option {key} (only quad_segs)"
                )))
            }
            _ => {
                return Err(Error::Geometry(format!(
                    "Invalid buffer parameter: {key} (accept: 'endcap', 'join', 'mitre_limit', 'miter_limit', 'quad_segs' and 'side')"
                )))
            }
        }
    }
    Ok(quad_segs)
}

/// `ST_Buffer(point, r, quad_segs)`: the polygon GEOS draws around a
/// point, `4 × quad_segs` segments from (x + r, y) clockwise, each vertex
/// `r·cos`, `r·sin` of its angle from the centre; POLYGON EMPTY for an
/// empty point or a radius that is not positive. Other geometries are
/// refused as unsupported.
pub fn buffer(g: &Geometry, radius: f64, quad_segs: i64) -> Result<Geometry> {
    let centre = match &g.shape {
        Shape::Point(p) => *p,
        other => {
            return Err(Error::Unsupported(format!(
                "ST_Buffer of a {} (only of a point)",
                lwtype_name(other.type_code())
            )))
        }
    };
    let empty = Geometry {
        srid: g.srid,
        shape: Shape::Polygon(Vec::new()),
    };
    let Some(p) = centre else {
        return Ok(empty);
    };
    if radius <= 0.0 || radius.is_nan() {
        return Ok(empty);
    }
    let quad_segs = quad_segs.clamp(1, 100_000);
    let total = 2.0 * std::f64::consts::PI;
    let segments = (total / (std::f64::consts::PI / 2.0 / quad_segs as f64) + 0.5) as i64;
    let step = total / segments as f64;
    let mut ring = Vec::with_capacity(segments as usize + 1);
    ring.push(Coord {
        x: p.x + radius,
        y: p.y,
    });
    for i in 1..segments {
        let angle = -(i as f64) * step;
        ring.push(Coord {
            x: p.x + radius * angle.cos(),
            y: p.y + radius * angle.sin(),
        });
    }
    ring.push(ring[0]);
    Ok(Geometry {
        srid: g.srid,
        shape: Shape::Polygon(vec![ring]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(text: &str) -> Geometry {
        super::super::parse_text(text).expect("test geometry parses")
    }

    #[test]
    fn measures_as_postgis_gives_them() {
        // Values from PostGIS 3.3.2.
        assert_eq!(
            area(&g("POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))").shape),
            15.0
        );
        assert_eq!(
            area(&g("GEOMETRYCOLLECTION(POLYGON((0 0,1 0,1 1,0 0)),POINT(1 1))").shape),
            0.5
        );
        assert_eq!(length(&g("LINESTRING(0 0,3 4,3 5)").shape), 6.0);
        assert_eq!(length(&g("POLYGON((0 0,4 0,4 4,0 4,0 0))").shape), 0.0);
        assert_eq!(
            distance(&g("POINT(0 0)"), &g("LINESTRING(3 4, 5 5)"))
                .ok()
                .flatten(),
            Some(5.0)
        );
        assert_eq!(
            distance(&g("POINT EMPTY"), &g("POINT(1 1)")).ok().flatten(),
            None
        );
        let e = distance(&g("SRID=1;POINT(0 0)"), &g("POINT(1 1)"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("ST_Distance: Operation on mixed SRID geometries (Point, 1) != (Point, 0)")
        );
    }

    #[test]
    fn point_buffer_is_the_circle_postgis_draws() {
        // ST_Buffer('POINT(1 1)', 1) from PostGIS 3.3.2 (GEOS 3.11), as EWKB.
        let expected = "010300000001000000210000000000000000000040000000000000F03F58AEFBE74BB1FF3F7E96E5F0D1C1E93FA34699E735C8FE3F4EABA8AC0EC1E33FD2508714B34DFD3F702EA38C8971DC3FE69D3F334F50FB3F68880133C3BED23F6434D79C9DE3F83F7479C55B6792C53F59AAABA9781FF63FD0956B86A17CB33FC2348D07171FF33F006A140106AD933F000000000000F03F00000000000000007E96E5F0D1C1E93F006A140106AD933F4FABA8AC0EC1E33FD0956B86A17CB33F742EA38C8971DC3F6C79C55B6792C53F68880133C3BED23F66880133C3BED23F7079C55B6792C53F702EA38C8971DC3FD0956B86A17CB33F4EABA8AC0EC1E33F006A140106AD933F7A96E5F0D1C1E93F0000000000000000FFFFFFFFFFFFEF3F006A140106AD933FC2348D07171FF33FC8956B86A17CB33F58AAABA9781FF63F6C79C55B6792C53F6334D79C9DE3F83F64880133C3BED23FE69D3F334F50FB3F702EA38C8971DC3FD2508714B34DFD3F4AABA8AC0EC1E33FA24699E735C8FE3F7A96E5F0D1C1E93F58AEFBE74BB1FF3FFEFFFFFFFFFFEF3F0000000000000040C2348D07171FF33F58AEFBE74BB1FF3F5AAAABA9781FF63FA24699E735C8FE3F6234D79C9DE3F83FD2508714B34DFD3FE69D3F334F50FB3FE79D3F334F50FB3FD2508714B34DFD3F6434D79C9DE3F83FA24699E735C8FE3F5CAAABA9781FF63F58AEFBE74BB1FF3FC3348D07171FF33F0000000000000040000000000000F03F";
        let b = buffer(&g("POINT(1 1)"), 1.0, 8).map(|b| super::super::to_hex(&b));
        assert_eq!(b.ok().as_deref(), Some(expected));
    }

    #[test]
    fn envelope_degenerate_boxes() {
        let wkt = |t: &str| super::super::to_wkt(&envelope(&g(t)), 15);
        assert_eq!(wkt("LINESTRING(0 0,3 5)"), "POLYGON((0 0,0 5,3 5,3 0,0 0))");
        assert_eq!(wkt("LINESTRING(0 1,5 1)"), "LINESTRING(0 1,5 1)");
        assert_eq!(wkt("MULTIPOINT(1 1, 1 1)"), "POINT(1 1)");
        assert_eq!(wkt("POINT EMPTY"), "POINT EMPTY");
    }
}
