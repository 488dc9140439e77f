//! Typmods of `geometry(Type[, srid])`: postgis/gserialized_typmod.c and the
//! TYPMOD_* macros of liblwgeom.h (srid << 8 | type << 2 | z << 1 | m).

use super::{clamp_srid, lwtype_name, CodecResult as Result, GeomError, Geometry, Shape};

const TYPE_NAMES: &[(&str, u32)] = &[
    ("GEOMETRY", 0),
    ("POINT", 1),
    ("LINESTRING", 2),
    ("POLYGON", 3),
    ("MULTIPOINT", 4),
    ("MULTILINESTRING", 5),
    ("MULTIPOLYGON", 6),
    ("GEOMETRYCOLLECTION", 7),
    ("CIRCULARSTRING", 8),
    ("COMPOUNDCURVE", 9),
    ("CURVEPOLYGON", 10),
    ("MULTICURVE", 11),
    ("MULTISURFACE", 12),
    ("POLYHEDRALSURFACE", 13),
    ("TRIANGLE", 14),
    ("TIN", 15),
];

/// `geometry_typmod_in` (gserialized_typmod_in): `args[0]` is the type name
/// as written (`Point`, `POINTZ`, `Geometry`, case-insensitive, surrounding
/// spaces ignored), `args[1]` the optional SRID (clamped like clamp_srid;
/// further args are ignored as in PostGIS).  Z/M types and curve types are
/// refused with NotSupported; unknown names give 22023 "Invalid geometry
/// type modifier: %s".
pub fn typmod_in(args: &[&str]) -> Result<i32> {
    let mut typmod: i32 = 0;
    if let Some(name) = args.first() {
        let up = name.trim().to_ascii_uppercase();
        let (base, z, m) = if let Some(b) = up.strip_suffix("ZM") {
            (b, true, true)
        } else if let Some(b) = up.strip_suffix('Z') {
            (b, true, false)
        } else if let Some(b) = up.strip_suffix('M') {
            (b, false, true)
        } else {
            (up.as_str(), false, false)
        };
        let found = TYPE_NAMES.iter().find(|(n, _)| *n == base).map(|(_, c)| *c);
        let found = found.or_else(|| TYPE_NAMES.iter().find(|(n, _)| *n == up).map(|(_, c)| *c));
        let Some(code) = found else {
            return Err(GeomError::InvalidParameter(format!(
                "Invalid geometry type modifier: {name}"
            )));
        };
        if (z || m) && TYPE_NAMES.iter().all(|(n, _)| *n != up) {
            return Err(GeomError::zm());
        }
        if code > 7 {
            return Err(GeomError::unsupported_type(lwtype_name(code)));
        }
        typmod |= (code as i32 & 0x3F) << 2;
    }
    if let Some(s) = args.get(1) {
        let t = s.trim_start();
        let digits_end = t
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
            .map_or(t.len(), |(i, _)| i);
        let num = &t[..digits_end];
        if num.is_empty() || num == "-" || num == "+" {
            return Err(GeomError::InvalidParameter(format!(
                "invalid input syntax for type integer: \"{s}\""
            )));
        }
        let l: i64 = match num.parse() {
            Ok(v) if (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&v) => v,
            _ => {
                return Err(GeomError::InvalidParameter(format!(
                    "value \"{s}\" is out of range for type integer"
                )))
            }
        };
        if digits_end != t.len() {
            return Err(GeomError::InvalidParameter(format!(
                "invalid input syntax for type integer: \"{s}\""
            )));
        }
        let srid = clamp_srid(l as i32);
        if srid != 0 {
            typmod = (typmod & 0xE000_00FFu32 as i32) | ((srid & 0x001F_FFFF) << 8);
        }
    }
    Ok(typmod)
}

fn typmod_srid(t: i32) -> i32 {
    ((t & 0x0FFF_FF00) - (t & 0x1000_0000)) >> 8
}

/// `postgis_typmod_out`: the suffix `format_type` appends, e.g. `(Point,4326)`,
/// `(Point)`, `(Geometry,4326)`, or "" for no typmod.
pub fn typmod_out(typmod: i32) -> String {
    let srid = typmod_srid(typmod);
    let ty = ((typmod & 0xFC) >> 2) as u32;
    let z = typmod & 2 != 0;
    let m = typmod & 1 != 0;
    if typmod < 0 || !(srid != 0 || ty != 0 || z || m) {
        return String::new();
    }
    let mut s = String::from("(");
    s.push_str(if ty != 0 { lwtype_name(ty) } else { "Geometry" });
    if z {
        s.push('Z');
    }
    if m {
        s.push('M');
    }
    if srid != 0 {
        s.push_str(&format!(",{srid}"));
    }
    s.push(')');
    s
}

/// `postgis_valid_typmod`, applied on input to a typed column.  Mutates `g`
/// like PostGIS does: a SRID-0 geometry takes the column SRID, and a
/// MULTIPOINT EMPTY given to a Point column becomes POINT EMPTY (#3031).
/// Errors are 22023: "Geometry SRID (%d) does not match column SRID (%d)",
/// "Geometry type (%s) does not match column type (%s)"; a Z/M column gives
/// "Column has Z dimension but geometry does not" (cannot occur from
/// [`typmod_in`]).  Types must match exactly.
pub fn check_typmod(g: &mut Geometry, typmod: i32) -> Result<()> {
    if typmod < 0 {
        return Ok(());
    }
    let t_srid = typmod_srid(typmod);
    let t_type = ((typmod & 0xFC) >> 2) as u32;
    if t_type == 1
        && matches!(&g.shape, Shape::MultiPoint(v) if g.shape.is_empty() && v.iter().all(Option::is_none))
    {
        g.shape = Shape::Point(None);
    }
    if t_srid > 0 && g.srid == 0 {
        g.srid = t_srid;
    }
    if t_srid > 0 && t_srid != g.srid {
        return Err(GeomError::InvalidParameter(format!(
            "Geometry SRID ({}) does not match column SRID ({})",
            g.srid, t_srid
        )));
    }
    let gt = g.shape.type_code();
    // PostGIS's condition ends in `|| typmod_type != geom_type`, so despite its
    // comment a GeometryCollection column does not accept Multi* geometries.
    if t_type > 0 && t_type != gt {
        return Err(GeomError::InvalidParameter(format!(
            "Geometry type ({}) does not match column type ({})",
            lwtype_name(gt),
            lwtype_name(t_type)
        )));
    }
    if typmod & 2 != 0 {
        return Err(GeomError::InvalidParameter(
            "Column has Z dimension but geometry does not".into(),
        ));
    }
    if typmod & 1 != 0 {
        return Err(GeomError::InvalidParameter(
            "Column has M dimension but geometry does not".into(),
        ));
    }
    Ok(())
}
