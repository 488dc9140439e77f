//! Spatial predicates against a shard's extent: `ST_DWithin(col, g, d)`,
//! `ST_Intersects`, `ST_Contains`, `ST_Within` and `&&` between a geometry
//! column and a constant geometry. A shard whose geometries all lie in a box
//! farther than `d` from the constant's box (or not touching it) holds no
//! row that matches, and one whose geometries are all empty none either.
//!
//! Pruning keeps every error PostgreSQL would raise: only when the shard's
//! values all have the constant's SRID (otherwise the rows raise PostGIS's
//! mixed-SRID error, which must not vanish with the shard), and only for a
//! distance that is a number and not negative. The box distance is a lower
//! bound of every distance a row can have; a margin far above rounding
//! keeps rows on the edge.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value};

use super::Cx;
use crate::types::geometry::{self, Coord, Extent, Geometry, Shape};
use crate::types::{Datum, PgType};

/// The predicates understood: the distance is the third argument of
/// ST_DWithin; `&&` (`pg_geom_overlaps` once typed) compares float boxes
/// PostGIS rounds outwards, so a box apart by more than the margin is
/// apart there too.
fn predicate(name: &str, arity: usize) -> bool {
    matches!(
        (name, arity),
        ("st_dwithin", 3)
            | (
                "st_intersects" | "st_contains" | "st_within" | "pg_geom_overlaps",
                2
            )
    )
}

/// A call's function name, lowercased (empty when it has none).
pub(crate) fn name_of(f: &sqlparser::ast::Function) -> String {
    f.name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.to_ascii_lowercase())
        .unwrap_or_default()
}

/// A call's arguments, when all are plain expressions.
pub(crate) fn args(f: &sqlparser::ast::Function) -> Option<Vec<&Expr>> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// The least distance between two boxes.
pub(crate) fn box_distance(a: [f64; 4], b: [f64; 4]) -> f64 {
    let dx = (b[0] - a[2]).max(a[0] - b[2]).max(0.0);
    let dy = (b[1] - a[3]).max(a[1] - b[3]).max(0.0);
    (dx * dx + dy * dy).sqrt()
}

fn number(e: &Expr, params: &[Datum]) -> Option<f64> {
    match e {
        Expr::Nested(inner) => number(inner, params),
        Expr::UnaryOp {
            op: sqlparser::ast::UnaryOperator::Minus,
            expr,
        } => number(expr, params).map(|x| -x),
        Expr::Cast {
            expr, data_type, ..
        } if matches!(
            PgType::from_sql(data_type),
            Ok(PgType::Float8 | PgType::Float4 | PgType::Int4 | PgType::Int8 | PgType::Numeric(_))
        ) =>
        {
            number(expr, params)
        }
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            // A numeric literal as the typed step leaves it (numeric is
            // text), or an untyped one PostgreSQL reads as float8.
            Value::SingleQuotedString(n) => n.trim().parse().ok(),
            Value::Placeholder(p) => match param(p, params)? {
                Datum::Int(i) => Some(*i as f64),
                Datum::Real(f) => Some(*f),
                Datum::Text(s) => s.trim().parse().ok(),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The value of parameter `p` (`$n`) this run.
pub(crate) fn param<'p>(p: &str, params: &'p [Datum]) -> Option<&'p Datum> {
    let n: usize = p.strip_prefix('$')?.parse().ok()?;
    params.get(n.checked_sub(1)?)
}

fn int(e: &Expr, params: &[Datum]) -> Option<i32> {
    let x = number(e, params)?;
    (x.fract() == 0.0 && x.abs() < 1e9).then_some(x as i32)
}

fn text(e: &Expr) -> Option<&str> {
    match e {
        Expr::Nested(inner) => text(inner),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The constant geometry `e` is, when it is one MosaicDB can tell before
/// the statement runs: a literal, a parameter, a cast of one, and the
/// constructors of points and of geometries from text.
pub(crate) fn constant(e: &Expr, params: &[Datum]) -> Option<Geometry> {
    match e {
        Expr::Nested(inner) => constant(inner, params),
        Expr::Cast {
            expr, data_type, ..
        } if matches!(PgType::from_sql(data_type), Ok(PgType::Geometry(None))) => {
            constant(expr, params)
        }
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => geometry::parse(s).ok(),
            // The EWKB of a literal the typed step read.
            Value::HexStringLiteral(h) => geometry::parse(h).ok(),
            Value::Placeholder(p) => match param(p, params)? {
                Datum::Blob(b) => geometry::decode(b).ok(),
                Datum::Text(s) => geometry::parse(s).ok(),
                _ => None,
            },
            _ => None,
        },
        Expr::Function(f) => {
            let a = args(f)?;
            let point = |srid| {
                Some(Geometry {
                    srid,
                    shape: Shape::Point(Some(Coord {
                        x: number(a.first()?, params)?,
                        y: number(a.get(1)?, params)?,
                    })),
                })
            };
            match (name_of(f).as_str(), a.len()) {
                ("pg_geom_value", 1) => constant(a[0], params),
                ("st_makepoint" | "st_point", 2) => point(0),
                ("st_makeenvelope", 4 | 5) => {
                    let n = |i: usize| number(a[i], params);
                    let srid = match a.get(4) {
                        Some(s) => geometry::clamp_srid(int(s, params)?),
                        None => 0,
                    };
                    Some(geometry::ops::make_envelope(
                        n(0)?,
                        n(1)?,
                        n(2)?,
                        n(3)?,
                        srid,
                    ))
                }
                ("st_point", 3) => point(geometry::clamp_srid(int(a[2], params)?)),
                ("st_setsrid", 2) => {
                    let mut g = constant(a[0], params)?;
                    g.srid = geometry::clamp_srid(int(a[1], params)?);
                    Some(g)
                }
                ("st_geomfromtext" | "st_geomfromewkt", 1) => geometry::parse_wkt(text(a[0])?).ok(),
                ("st_geomfromtext", 2) => {
                    let mut g = geometry::parse_wkt(text(a[0])?).ok()?;
                    g.srid = geometry::clamp_srid(int(a[1], params)?);
                    Some(g)
                }
                ("st_geomfromgeojson", 1) => geometry::from_geojson(text(a[0])?).ok(),
                ("st_buffer", 2) => {
                    let g = constant(a[0], params)?;
                    let r = number(a[1], params)?;
                    geometry::ops::buffer(&g, r, 8).ok()
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A spatial predicate between a geometry column and a constant, as this
/// shard's extent sees it.
struct Probe<'c> {
    /// The column's name.
    col: &'c str,
    /// The shard's box around the column's values; `None`: all empty.
    shard_box: Option<[f64; 4]>,
    /// The constant's box; `None`: it is empty.
    q_box: Option<[f64; 4]>,
    /// How far from the constant a row may be (0 but for ST_DWithin).
    d: f64,
}

impl Probe<'_> {
    /// A margin far above the rounding of any distance computed here.
    fn margin(&self) -> f64 {
        let scale = self
            .shard_box
            .iter()
            .chain(self.q_box.iter())
            .flatten()
            .fold(self.d.abs().max(1.0), |m, c| m.max(c.abs()));
        scale * 1e-9
    }
}

impl Cx<'_> {
    /// The extent of the geometry column `e` names, in this shard.
    fn extent(&self, e: &Expr) -> Option<(&str, Extent)> {
        let pos = match e {
            Expr::Identifier(id) => (self.resolve)(std::slice::from_ref(id))?,
            Expr::CompoundIdentifier(parts) => (self.resolve)(parts)?,
            Expr::Nested(inner) => return self.extent(inner),
            _ => return None,
        };
        let def = self.table.columns.get(pos)?;
        if !matches!(def.ty, PgType::Geometry(_)) {
            return None;
        }
        let stats = def.storage_names().find_map(|n| self.meta.column(n))?;
        Some((&def.name, stats.extent?))
    }

    /// The spatial predicate `e` between a column and a constant, where
    /// the shard's values all have the constant's SRID (otherwise the rows
    /// must raise PostGIS's error) and the distance is a number that is
    /// not negative (otherwise PostGIS's error).
    fn probe(&self, e: &Expr) -> Option<Probe<'_>> {
        let (name, a) = match e {
            Expr::Function(f) => (name_of(f), args(f)?),
            Expr::BinaryOp {
                left,
                op: sqlparser::ast::BinaryOperator::PGOverlap,
                right,
            } => ("pg_geom_overlaps".to_string(), vec![&**left, &**right]),
            _ => return None,
        };
        if !predicate(&name, a.len()) {
            return None;
        }
        let ((col, extent), q) = match (self.extent(a[0]), self.extent(a[1])) {
            (Some(x), _) => (x, constant(a[1], self.params)?),
            (None, Some(x)) => (x, constant(a[0], self.params)?),
            (None, None) => return None,
        };
        let d = match a.get(2) {
            Some(d) => number(d, self.params).filter(|d| *d >= 0.0)?,
            None => 0.0,
        };
        // `&&` raises no error for mixed SRIDs.
        if q.srid != extent.srid && name != "pg_geom_overlaps" {
            return None;
        }
        let q_box = geometry::bbox(&q).map(|(x0, y0, x1, y1)| [x0, y0, x1, y1]);
        if q_box.is_some_and(|b| b.iter().any(|c| !c.is_finite())) || !d.is_finite() {
            return None;
        }
        Some(Probe {
            col,
            shard_box: extent.bbox,
            q_box,
            d,
        })
    }

    /// A condition on `_rid` keeping the rows whose box the shard's R*Tree
    /// says can satisfy every spatial predicate among `filter`'s top-level
    /// conjuncts; `None` when none can be used.
    pub(super) fn rtree_condition(&self, filter: &Expr) -> Option<String> {
        let attach = crate::types::quote(&crate::types::shard::attach_name(&self.meta.id));
        let parts: Vec<String> = super::conjuncts(filter)
            .into_iter()
            .filter_map(|c| {
                let p = self.probe(c)?;
                // A shard or constant with nothing in it is pruned instead.
                let (_, q) = (p.shard_box?, p.q_box?);
                let r = p.d + p.margin();
                let b = [q[0] - r, q[2] + r, q[1] - r, q[3] + r];
                if b.iter().any(|x| !x.is_finite()) {
                    return None;
                }
                Some(format!(
                    "_rid IN (SELECT id FROM {attach}.{} WHERE maxx >= {} AND minx <= {} AND maxy >= {} AND miny <= {})",
                    crate::types::shard::rtree_name(p.col),
                    b[0],
                    b[1],
                    b[2],
                    b[3]
                ))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }

    /// A reason no row satisfies the spatial predicate `e`, or `None`.
    pub(super) fn spatial(&self, e: &Expr) -> Option<String> {
        let p = self.probe(e)?;
        let col = p.col;
        let Some(shard_box) = p.shard_box else {
            return Some(self.why(|| format!("every {col} is empty: {e} is never true")));
        };
        let Some(q_box) = p.q_box else {
            return Some(self.why(|| format!("{e} of an empty geometry is never true")));
        };
        (box_distance(shard_box, q_box) > p.d + p.margin()).then(|| {
            self.why(|| {
                format!(
                    "bounding box of {col} [{} {}, {} {}] excludes {e}",
                    geometry::format_double(shard_box[0], 15),
                    geometry::format_double(shard_box[1], 15),
                    geometry::format_double(shard_box[2], 15),
                    geometry::format_double(shard_box[3], 15)
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(sql: &str) -> Expr {
        sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_expr())
            .expect("test expression parses")
    }

    #[test]
    fn box_distance_is_zero_when_boxes_touch() {
        assert_eq!(
            box_distance([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 2.0, 2.0]),
            0.0
        );
        assert_eq!(
            box_distance([0.0, 0.0, 1.0, 1.0], [4.0, 5.0, 6.0, 6.0]),
            5.0
        );
        assert_eq!(
            box_distance([4.0, 5.0, 6.0, 6.0], [0.0, 0.0, 1.0, 1.0]),
            5.0
        );
    }

    #[test]
    fn constants_as_postgis_builds_them() {
        let params = [Datum::Text("SRID=4326;POINT(1 2)".into()), Datum::Int(3857)];
        let srid = |sql: &str| constant(&expr(sql), &params).map(|g| g.srid);
        assert_eq!(srid("'SRID=4326;POINT(1 2)'::geometry"), Some(4326));
        assert_eq!(srid("ST_SetSRID(ST_MakePoint(1, -2.5), 4326)"), Some(4326));
        assert_eq!(srid("ST_Point(1, 2, $2)"), Some(3857));
        assert_eq!(srid("$1"), Some(4326));
        assert_eq!(srid("ST_GeomFromText('POINT(1 2)')"), Some(0));
        assert_eq!(
            srid("pg_geom_value(X'0101000000000000000000F03F0000000000000040')"),
            Some(0)
        );
        // Not constants, or not geometries MosaicDB can tell before running.
        assert_eq!(srid("geom"), None);
        assert_eq!(srid("ST_MakePoint(x, 2)"), None);
        assert_eq!(srid("'POINT(1'"), None);
        assert_eq!(number(&expr("-$2"), &params), Some(-3857.0));
        assert_eq!(srid("ST_MakePoint($2::float8, 1::int)"), Some(0));
        assert_eq!(srid("ST_MakeEnvelope(0, 0, 1, 1, 4326)"), Some(4326));
    }
}
