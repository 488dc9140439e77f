//! Nearest-neighbour top-k through what a shard keeps beside its rows:
//! its vectors in memory, the `vec0` table of its vectors, the R*Tree of
//! its geometries.
//!
//! **Vectors in memory.** `ORDER BY v <-> q LIMIT k` (or `<=>`, `<#>`,
//! `<+>`) over a shard whose vectors all have `q`'s dimensions reads only
//! the rows listed by the shard's vectors kept in memory
//! (`store::vectors`): those whose distance, computed to the same bits as
//! the operator computes it, is below the `n`-th smallest. Every row not
//! listed is at least as far, so `k` listed rows that pass the filter are
//! the shard's first `k`; with fewer, the executor lists more, then reads
//! the shard whole, as below. When the node does not keep the shard's
//! vectors, `<->` goes through vec0 and the others read every row.
//!
//! **Vectors through vec0.** `ORDER BY v <-> q LIMIT k` over a shard whose
//! vectors all have `q`'s dimensions reads, instead of every row, the rows
//! sqlite-vec's `vec0` table of the shard (`types::shard::vec_index_name`)
//! lists among the `n` nearest to `q`, and keeps of those only the ones whose exact
//! distance (pgvector's, `pg_vector_l2`) is below a bound that no row
//! outside them can beat. The fragment then orders and cuts those rows as
//! it would all of them, after the query's own filter and the shard's
//! tombstones.
//!
//! Why that is the exact answer, never an approximate one: vec0 ranks by
//! its own sum of single-precision squares, which may differ from
//! pgvector's in the last bits. Let `T` be the `n`-th smallest of vec0's
//! distances. Every row vec0 did not list has a vec0 distance of at least
//! `T`, so an exact distance of at least `B = T·(1 − ε) − δ`, where `ε`
//! bounds the relative difference of two single-precision sums of the same
//! `d` squares (`(d + 8)·2⁻²³`, twice the textbook bound of each) and `δ`
//! covers underflow. A listed row that passes the filter with an exact
//! distance below `B` comes before every row vec0 did not list, so when
//! the fragment finds `k` such rows they are the shard's first `k` in the
//! query's order (ties between them broken as usual). When it finds fewer
//! (a selective filter, tombstones, rows without a vector, too few
//! candidates), the executor asks for more candidates, and at last reads
//! the shard whole. When vec0 listed fewer than `n` rows it listed every
//! vector and no bound is needed; an overflowing sum (`T` not below 1e30)
//! proves nothing.
//!
//! **Geometries.** `ORDER BY geom <-> q LIMIT k` (or `ST_Distance(geom,
//! q)`) over a shard whose geometries all have `q`'s SRID reads the rows
//! the shard's R*Tree finds within a square of half-width `r + m` around
//! `q`'s box and keeps those at a distance of at most `r`. A row the
//! R*Tree did not find has a box, and so a geometry, farther than `r + m`
//! from `q`; `m` is far above the rounding of any distance computed here.
//! So, again, `k` rows kept are the shard's first `k`; with fewer the
//! executor tries a radius four times larger, then sixteen, then reads the
//! shard whole. The first radius is where `k` rows would lie if the
//! shard's rows filled its box evenly, from the edge of the box nearest
//! `q`.

use sqlparser::ast::{Expr, Ident, OrderByExpr, OrderBySort};

use super::prune::{args, name_of};

use crate::types::shard::{ColumnStats, ShardMeta};
use crate::types::table::TableDef;
use crate::types::{geometry, quote, vector, Datum, PgType};

/// A top-k whose first sort key is a distance from a column to a constant
/// (`pg_vector_l2`, the typed `<->` of vectors; `pg_geom_distance` or
/// `st_distance` of geometries), ascending with NULLs last (PostgreSQL's
/// default).
#[derive(Debug, Clone)]
pub struct Nearest {
    kind: Kind,
    /// The column, as the query names it.
    column: Vec<Ident>,
    /// The constant: a vector literal (`pg_vector_value(X'…')`) or
    /// parameter; any constant geometry `plan::prune` can read.
    query: Expr,
    /// LIMIT and OFFSET, as the query gives them.
    limit: Expr,
    offset: Option<Expr>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Vector(vector::Metric),
    Geometry,
}

/// The most candidates one vec0 query lists (sqlite-vec's limit), and the
/// most rows a narrowed top-k keeps.
const MAX_CANDIDATES: i64 = 4096;

impl Nearest {
    /// The nearest-neighbour shape of a top-k ordered by `first` (its
    /// key resolved: positions and aliases replaced), if it has one.
    pub fn of(
        first: &OrderByExpr,
        key: &Expr,
        limit: &Expr,
        offset: Option<&Expr>,
    ) -> Option<Self> {
        let ascending = matches!(first.options.sort, None | Some(OrderBySort::Asc));
        if !ascending || first.options.nulls_first == Some(true) {
            return None;
        }
        let Expr::Function(f) = key else {
            return None;
        };
        let kind = match name_of(f).as_str() {
            "pg_vector_l2" => Kind::Vector(vector::Metric::L2),
            "pg_vector_cosine" => Kind::Vector(vector::Metric::Cosine),
            "pg_vector_neg_ip" => Kind::Vector(vector::Metric::NegInner),
            "pg_vector_l1" => Kind::Vector(vector::Metric::L1),
            "pg_geom_distance" | "st_distance" => Kind::Geometry,
            _ => return None,
        };
        let [a, b] = args(f)?[..] else {
            return None;
        };
        let (column, query) = match (column_parts(a), column_parts(b)) {
            (Some(c), None) => (c, b),
            (None, Some(c)) => (c, a),
            _ => return None,
        };
        if let Kind::Vector(_) = kind {
            vector_form(query)?;
        }
        Some(Nearest {
            kind,
            column,
            query: query.clone(),
            limit: limit.clone(),
            offset: offset.cloned(),
        })
    }

    /// How to read the shard of `meta` through its index for this query,
    /// or `None` when it has none that serves it. `k_param` is the number
    /// of the extra parameter (`$k_param`) each try binds.
    pub fn narrowing(
        &self,
        meta: &ShardMeta,
        table: &TableDef,
        resolve: &dyn Fn(&[Ident]) -> Option<usize>,
        params: &[Datum],
        k_param: usize,
    ) -> Option<Narrowing> {
        let column = table.columns.get(resolve(&self.column)?)?;
        // The column under the name the shard has it by (it may have been
        // renamed since).
        let stats = column.storage_names().find_map(|n| meta.column(n))?;
        let keep = count(&self.limit, params)?
            .checked_add(self.offset.as_ref().map_or(Some(0), |o| count(o, params))?)?;
        if keep == 0 || keep > MAX_CANDIDATES {
            return None;
        }
        let shard = Shard {
            meta,
            stats,
            k_param,
            keep,
        };
        match self.kind {
            Kind::Vector(m) => shard.vectors(m, &self.query, params),
            Kind::Geometry => shard.geometries(&self.query, params),
        }
    }
}

/// A shard read through its index (see the module's comment): the source
/// is `with` (if any) followed by the shard's source restricted by
/// `condition`; the fragment's rows are proven when there are `keep` of
/// them, for each value of the extra parameter in `tries` in turn. A
/// vector distance vec0 cannot rank (any but `<->`) has no `condition`:
/// only its `memory` way narrows.
#[derive(Debug, Clone)]
pub struct Narrowing {
    pub with: Option<String>,
    pub condition: Option<String>,
    pub keep: usize,
    /// Each try's parameter, with what EXPLAIN ANALYZE says of it.
    pub tries: Vec<(Datum, String)>,
    /// The index, for EXPLAIN.
    pub index: &'static str,
    /// A distance no row of the shard is nearer than (the distance to the
    /// shard's box, less a margin above rounding); `None` for vectors.
    pub bound: Option<f64>,
    /// A vector top-k's other way, taken when the node keeps the shard's
    /// vectors in memory.
    pub memory: Option<InMemory>,
}

/// The rows of a vector top-k listed by their exact distances, computed
/// from the shard's vectors kept in memory (`store::vectors`): no margin
/// is needed, and no vec0 index is read. `condition` takes the place of
/// the narrowing's (and `with` is left out); its extra parameter is, for
/// each try's number of candidates, the rows proven nearest among them
/// (`_rid`s as an array's text form, `{1,7}`).
#[derive(Debug, Clone)]
pub struct InMemory {
    pub metric: vector::Metric,
    /// The column, as the shard names it.
    pub column: String,
    pub query: Vec<f32>,
    pub condition: String,
}

/// What a narrowing of one shard is made from.
struct Shard<'a> {
    meta: &'a ShardMeta,
    stats: &'a ColumnStats,
    k_param: usize,
    keep: i64,
}

impl Shard<'_> {
    fn vectors(&self, metric: vector::Metric, query: &Expr, params: &[Datum]) -> Option<Narrowing> {
        let dims = self.stats.vec_index()?;
        let q_vector = query_vector(query, params)?;
        if q_vector.len() != dims as usize {
            return None;
        }
        let q = match vector_form(query)? {
            VectorForm::Vector => query.to_string(),
            VectorForm::Parameter => format!("pg_vector_value({query})"),
        };
        let attach = quote(&crate::types::shard::attach_name(&self.meta.id));
        let index = crate::types::shard::vec_index_name(&self.stats.name);
        let epsilon = f64::from(dims + 8) * f64::powi(2.0, -23);
        let (n, col) = (format!("${}", self.k_param), quote(&self.stats.name));
        // vec0 ranks by L2 only.
        let l2 = metric == vector::Metric::L2;
        Some(Narrowing {
            with: l2.then(|| format!(
                "WITH _mosaic_knn AS MATERIALIZED (SELECT rowid AS rid, distance FROM {attach}.{index} WHERE match({q}, v) AND k = {n})"
            )),
            condition: l2.then(|| format!(
                "_rid IN (SELECT rid FROM _mosaic_knn) AND pg_vector_l2({col}, {q}) < (SELECT CASE WHEN count(*) < {n} THEN 9e999 WHEN max(distance) < 1e30 THEN max(distance) * (1 - {epsilon:e}) - 1e-20 ELSE -1 END FROM _mosaic_knn)"
            )),
            keep: self.keep as usize,
            tries: candidates(self.keep)
                .into_iter()
                .map(|k| (Datum::Int(k), format!("{k} candidates")))
                .collect(),
            index: "vec0 index",
            bound: None,
            memory: Some(InMemory {
                metric,
                column: self.stats.name.clone(),
                query: q_vector,
                condition: format!(
                    "_rid IN (SELECT CAST(value AS INTEGER) FROM json_each(pg_array_json({n})))"
                ),
            }),
        })
    }

    fn geometries(&self, query: &Expr, params: &[Datum]) -> Option<Narrowing> {
        let extent = self.stats.extent.filter(|_| self.stats.has_rtree())?;
        let shard_box = extent.bbox?;
        let q = super::prune::geometry_constant(query, params)?;
        // Another SRID: the rows must raise PostGIS's error.
        if q.srid != extent.srid {
            return None;
        }
        let (x0, y0, x1, y1) = geometry::bbox(&q)?;
        let q_box = [x0, y0, x1, y1];
        let near = super::prune::box_distance(shard_box, q_box);
        let side = (shard_box[2] - shard_box[0]).max(shard_box[3] - shard_box[1]);
        let base = side * (self.keep as f64 / self.meta.row_count.max(1) as f64).sqrt();
        let mut radii: Vec<f64> = [1.0, 4.0, 16.0].iter().map(|f| near + base * f).collect();
        radii.dedup();
        let scale = (shard_box.iter().chain(&q_box))
            .chain(radii.last())
            .fold(1.0f64, |m, c| m.max(c.abs()));
        if !scale.is_finite() {
            return None;
        }
        let margin = scale * 1e-9;
        let attach = quote(&crate::types::shard::attach_name(&self.meta.id));
        let rtree = crate::types::shard::rtree_name(&self.stats.name);
        let (r, col) = (format!("${}", self.k_param), quote(&self.stats.name));
        let q_sql = format!(
            "pg_geom_value(X'{}')",
            data_encoding::HEXUPPER.encode(&geometry::encode(&q))
        );
        Some(Narrowing {
            with: None,
            condition: Some(format!(
                "_rid IN (SELECT id FROM {attach}.{rtree} WHERE maxx >= {x0} - ({r} + {margin:e}) AND minx <= {x1} + ({r} + {margin:e}) AND maxy >= {y0} - ({r} + {margin:e}) AND miny <= {y1} + ({r} + {margin:e})) AND pg_geom_distance({col}, {q_sql}) <= {r}"
            )),
            keep: self.keep as usize,
            tries: radii
                .into_iter()
                .map(|r| (Datum::Real(r), format!("within {r:e}")))
                .collect(),
            index: "R*Tree",
            bound: Some(near - margin),
            memory: None,
        })
    }
}

/// How many vec0 candidates to ask for: a few more than needed, then, if a
/// filter or tombstones thinned them out, sixteen times as many.
fn candidates(keep: i64) -> Vec<i64> {
    let first = (keep * 2).max(keep + 32).min(MAX_CANDIDATES);
    let mut out = vec![first];
    let second = (first * 16).min(MAX_CANDIDATES);
    if second > first {
        out.push(second);
    }
    out
}

fn column_parts(e: &Expr) -> Option<Vec<Ident>> {
    match e {
        Expr::Identifier(i) => Some(vec![i.clone()]),
        Expr::CompoundIdentifier(parts) => Some(parts.clone()),
        _ => None,
    }
}

enum VectorForm {
    /// A bare parameter: read as a vector where it is used.
    Parameter,
    /// The typed step's literal, or a cast of a parameter: SQL that
    /// gives the vector as it stands.
    Vector,
}

/// The query vector's forms this reads: the typed step's literal
/// (`pg_vector_value(X'…')`), a parameter, and a cast of a parameter
/// (`$1::vector`, `$1::text::vector`: `pg_vector_cast(…, n)`).
fn vector_form(e: &Expr) -> Option<VectorForm> {
    if is_parameter(e) {
        return Some(VectorForm::Parameter);
    }
    let Expr::Function(f) = e else {
        return None;
    };
    let name = name_of(f);
    let (first, rest) = args(f)?.split_first().map(|(a, r)| (*a, r.len()))?;
    let literal = matches!(first, Expr::Value(v)
        if matches!(v.value, sqlparser::ast::Value::HexStringLiteral(_)));
    let ok = match (name.as_str(), rest) {
        ("pg_vector_value", 0) => literal || is_parameter(first),
        ("pg_vector_cast", 1) => is_parameter(first),
        _ => false,
    };
    ok.then_some(VectorForm::Vector)
}

/// A parameter, or a parameter cast to text.
fn is_parameter(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => matches!(v.value, sqlparser::ast::Value::Placeholder(_)),
        Expr::Cast {
            expr, data_type, ..
        } => matches!(PgType::from_sql(data_type), Ok(PgType::Text)) && is_parameter(expr),
        Expr::Nested(inner) => is_parameter(inner),
        _ => false,
    }
}

/// The query vector's value this run (a cast's dimensions are checked
/// where it runs, against the shard's).
fn query_vector(e: &Expr, params: &[Datum]) -> Option<Vec<f32>> {
    match e {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::HexStringLiteral(hex) => {
                let bytes = data_encoding::HEXUPPER_PERMISSIVE
                    .decode(hex.as_bytes())
                    .ok()?;
                vector::from_blob(&bytes).ok()
            }
            other => match param(other, params)? {
                Datum::Blob(b) => vector::from_blob(b).ok(),
                Datum::Text(t) => vector::parse(t).ok(),
                _ => None,
            },
        },
        Expr::Function(f) => query_vector(args(f)?.first()?, params),
        Expr::Cast { expr, .. } | Expr::Nested(expr) => query_vector(expr, params),
        _ => None,
    }
}

fn param<'a>(v: &sqlparser::ast::Value, params: &'a [Datum]) -> Option<&'a Datum> {
    match v {
        sqlparser::ast::Value::Placeholder(p) => super::prune::param(p, params),
        _ => None,
    }
}

/// A LIMIT or OFFSET that is a whole number (a literal or a parameter).
fn count(e: &Expr, params: &[Datum]) -> Option<i64> {
    match e {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) => n.parse().ok(),
            other => match param(other, params)? {
                Datum::Int(i) => Some(*i),
                _ => None,
            },
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => count(expr, params),
        _ => None,
    }
    .filter(|n| *n >= 0)
}
