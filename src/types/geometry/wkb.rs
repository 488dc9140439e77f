//! EWKB output (`lwgeom_to_wkb` with `WKB_EXTENDED | WKB_NDR`, liblwgeom/lwout_wkb.c)
//! and (E)WKB input (`lwgeom_from_wkb`, liblwgeom/lwin_wkb.c).

use super::{clamp_srid, lwtype_name, CodecResult as Result, Coord, GeomError, Geometry, Shape};

const SRID_FLAG: u32 = 0x2000_0000;
const Z_FLAG: u32 = 0x8000_0000;
const M_FLAG: u32 = 0x4000_0000;
/// `LW_PARSER_MAX_DEPTH` in liblwgeom.
const MAX_DEPTH: u32 = 200;

/// Little-endian EWKB exactly as `geometry_out` prints it (hex-decoded):
/// SRID flag 0x20000000 and SRID only on the outermost geometry and only
/// when `srid != 0`; POINT EMPTY is written as a point of NaN NaN.
pub fn to_ewkb(g: &Geometry) -> Vec<u8> {
    let mut out = Vec::new();
    write_shape(
        &mut out,
        &g.shape,
        if g.srid != 0 { Some(g.srid) } else { None },
    );
    out
}

/// `geometry_out` (`LWGEOM_out`): upper-case hex of [`to_ewkb`].
pub fn to_hex(g: &Geometry) -> String {
    data_encoding::HEXUPPER.encode(&to_ewkb(g))
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_coord(out: &mut Vec<u8>, c: &Coord) {
    out.extend_from_slice(&c.x.to_le_bytes());
    out.extend_from_slice(&c.y.to_le_bytes());
}

fn put_ring(out: &mut Vec<u8>, pts: &[Coord]) {
    put_u32(out, pts.len() as u32);
    pts.iter().for_each(|c| put_coord(out, c));
}

fn header(out: &mut Vec<u8>, code: u32, srid: Option<i32>) {
    out.push(1);
    match srid {
        Some(s) => {
            put_u32(out, code | SRID_FLAG);
            out.extend_from_slice(&s.to_le_bytes());
        }
        None => put_u32(out, code),
    }
}

fn write_point(out: &mut Vec<u8>, p: &Option<Coord>, srid: Option<i32>) {
    header(out, 1, srid);
    let c = p.unwrap_or(Coord {
        x: f64::NAN,
        y: f64::NAN,
    });
    put_coord(out, &c);
}

fn write_shape(out: &mut Vec<u8>, s: &Shape, srid: Option<i32>) {
    match s {
        Shape::Point(p) => write_point(out, p, srid),
        Shape::LineString(v) => {
            header(out, 2, srid);
            put_ring(out, v);
        }
        Shape::Polygon(r) => {
            header(out, 3, srid);
            put_u32(out, r.len() as u32);
            r.iter().for_each(|ring| put_ring(out, ring));
        }
        Shape::MultiPoint(v) => {
            header(out, 4, srid);
            put_u32(out, v.len() as u32);
            v.iter().for_each(|p| write_point(out, p, None));
        }
        Shape::MultiLineString(v) => {
            header(out, 5, srid);
            put_u32(out, v.len() as u32);
            for l in v {
                header(out, 2, None);
                put_ring(out, l);
            }
        }
        Shape::MultiPolygon(v) => {
            header(out, 6, srid);
            put_u32(out, v.len() as u32);
            for p in v {
                write_shape(out, &Shape::Polygon(p.clone()), None);
            }
        }
        Shape::GeometryCollection(v) => {
            header(out, 7, srid);
            put_u32(out, v.len() as u32);
            v.iter().for_each(|g| write_shape(out, g, None));
        }
    }
}

/// Parses (E)WKB like `lwgeom_from_wkb(…, LW_PARSER_CHECK_ALL)`, as used by
/// `geometry_recv`, `ST_GeomFromWKB` and `ST_GeomFromEWKB`: both byte
/// orders, OGC/ISO/extended type numbers, SRID flag, minimum point and ring
/// closure checks ("LineString must have at least two points", "Polygon
/// must have closed rings", …).  Truncated input fails with "WKB structure
/// does not match expected size!".  Like PostGIS, trailing bytes after a
/// complete geometry are ignored; empty input fails with "Unable to parse
/// WKB" (the ST_GeomFromWKB message).  Z/M input is refused as NotSupported.
pub fn from_ewkb(b: &[u8]) -> Result<Geometry> {
    parse_wkb(b, true)
}

/// `lwgeom_from_wkb` with the given check level (`check` = LW_PARSER_CHECK_ALL
/// when true, LW_PARSER_CHECK_NONE when false).
pub(crate) fn parse_wkb(b: &[u8], check: bool) -> Result<Geometry> {
    if b.is_empty() {
        return Err(GeomError::internal("Unable to parse WKB"));
    }
    let mut r = Reader {
        b,
        pos: 0,
        swap: false,
        check,
        srid: 0,
    };
    let shape = r.geometry(1)?;
    Ok(Geometry {
        srid: r.srid,
        shape,
    })
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    swap: bool,
    check: bool,
    srid: i32,
}

fn size_error() -> GeomError {
    GeomError::internal("WKB structure does not match expected size!")
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos.checked_add(N).ok_or_else(size_error)?;
        let s = self.b.get(self.pos..end).ok_or_else(size_error)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        self.pos = end;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32> {
        let a = self.take::<4>()?;
        Ok(if self.swap {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    fn f64(&mut self) -> Result<f64> {
        let a = self.take::<8>()?;
        Ok(if self.swap {
            f64::from_be_bytes(a)
        } else {
            f64::from_le_bytes(a)
        })
    }
    fn coord(&mut self) -> Result<Coord> {
        Ok(Coord {
            x: self.f64()?,
            y: self.f64()?,
        })
    }
    fn ptarray(&mut self) -> Result<Vec<Coord>> {
        let n = self.u32()?;
        if n > u32::MAX / 8 / 4 {
            return Err(GeomError::internal(format!(
                "Pointarray length ({}) is too large",
                n as i32
            )));
        }
        let needed = (n as usize).saturating_mul(16);
        if self.pos.saturating_add(needed) > self.b.len() {
            return Err(size_error());
        }
        (0..n).map(|_| self.coord()).collect()
    }

    /// `lwgeom_from_wkb_state`: returns the shape; records the SRID.
    fn geometry(&mut self, depth: u32) -> Result<Shape> {
        let [endian] = self.take::<1>()?;
        if endian > 1 {
            return Err(GeomError::internal(
                "Invalid endian flag value encountered.",
            ));
        }
        self.swap = endian == 0;
        let raw = self.u32()?;
        let mut has_zm = false;
        let mut has_srid = false;
        if raw & 0xF000_0000 != 0 {
            has_zm = raw & (Z_FLAG | M_FLAG) != 0;
            has_srid = raw & SRID_FLAG != 0;
        }
        let t = raw & 0x0FFF_FFFF;
        if t >= 4000 {
            return Err(GeomError::internal(format!(
                "Unknown WKB type ({})!",
                t as i32
            )));
        }
        if t >= 1000 {
            has_zm = true;
        }
        let simple = t % 1000;
        let code = match simple {
            1..=15 => simple,
            16 => 10,
            17 => 11,
            _ => {
                return Err(GeomError::internal(format!(
                    "Unknown WKB type ({})! Full WKB type number was ({}).",
                    simple as i32, t as i32
                )))
            }
        };
        if has_srid {
            self.srid = clamp_srid(self.u32()? as i32);
        }
        if has_zm {
            return Err(GeomError::zm());
        }
        if code > 7 {
            return Err(GeomError::unsupported_type(lwtype_name(code)));
        }
        let name = lwtype_name(code);
        match code {
            1 => {
                let c = self.coord()?;
                Ok(Shape::Point(if c.x.is_nan() && c.y.is_nan() {
                    None
                } else {
                    Some(c)
                }))
            }
            2 => {
                let pts = self.ptarray()?;
                if self.check && !pts.is_empty() && pts.len() < 2 {
                    return Err(GeomError::internal(format!(
                        "{name} must have at least two points"
                    )));
                }
                Ok(Shape::LineString(pts))
            }
            3 => Ok(Shape::Polygon(self.rings(name)?)),
            _ => self.collection(code, depth),
        }
    }

    fn rings(&mut self, name: &str) -> Result<Vec<Vec<Coord>>> {
        let n = self.u32()?;
        let mut rings = Vec::new();
        for _ in 0..n {
            let pa = self.ptarray()?;
            if self.check && pa.len() < 4 {
                return Err(GeomError::internal(format!(
                    "{name} must have at least four points in each ring"
                )));
            }
            if self.check && pa.first() != pa.last() {
                return Err(GeomError::internal(format!(
                    "{name} must have closed rings"
                )));
            }
            rings.push(pa);
        }
        Ok(rings)
    }

    fn collection(&mut self, code: u32, depth: u32) -> Result<Shape> {
        let n = self.u32()?;
        let depth = depth + 1;
        if n > 0 && depth >= MAX_DEPTH {
            return Err(GeomError::internal(
                "Geometry has too many chained collections",
            ));
        }
        let mut members = Vec::new();
        for _ in 0..n {
            let m = self.geometry(depth)?;
            let ok = match code {
                4 => matches!(m, Shape::Point(_)),
                5 => matches!(m, Shape::LineString(_)),
                6 => matches!(m, Shape::Polygon(_)),
                _ => true,
            };
            if !ok {
                return Err(GeomError::internal(format!(
                    "{} cannot contain {} element",
                    lwtype_name(code),
                    lwtype_name(m.type_code())
                )));
            }
            members.push(m);
        }
        Ok(match code {
            4 => Shape::MultiPoint(
                members
                    .into_iter()
                    .filter_map(|m| match m {
                        Shape::Point(p) => Some(p),
                        _ => None,
                    })
                    .collect(),
            ),
            5 => Shape::MultiLineString(
                members
                    .into_iter()
                    .filter_map(|m| match m {
                        Shape::LineString(p) => Some(p),
                        _ => None,
                    })
                    .collect(),
            ),
            6 => Shape::MultiPolygon(
                members
                    .into_iter()
                    .filter_map(|m| match m {
                        Shape::Polygon(p) => Some(p),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Shape::GeometryCollection(members),
        })
    }
}

/// `bytes_from_hexbytes` (liblwgeom/lwin_wkb.c), either case.
pub(crate) fn hex_to_bytes(s: &str) -> Result<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(GeomError::internal(format!(
            "Invalid hex string, length ({}) has to be a multiple of two!",
            b.len()
        )));
    }
    let nib = |c: u8| -> Result<u8> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(GeomError::internal(format!(
                "Invalid hex character ({}) encountered",
                String::from_utf8_lossy(&[c])
            ))),
        }
    };
    b.chunks(2)
        .map(|p| Ok((nib(p[0])? << 4) | nib(p[1])?))
        .collect()
}
