//! Nearest-neighbour top-k through a shard's `vec0` index.
//!
//! `ORDER BY v <-> q LIMIT k` over a shard whose vectors all have `q`'s
//! dimensions reads, instead of every row, the rows sqlite-vec's `vec0`
//! table of the shard (`types::shard::vec_index_name`) lists among the `n`
//! nearest to `q`, and keeps of those only the ones whose exact distance
//! (pgvector's, `pg_vector_l2`) is below a bound that no row outside them
//! can beat. The fragment then orders and cuts those rows as it would all
//! of them, after the query's own filter and the shard's tombstones.
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

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, OrderByExpr, OrderBySort,
};

use crate::types::shard::ShardMeta;
use crate::types::table::TableDef;
use crate::types::{vector, Datum};

/// A top-k whose first sort key is `pg_vector_l2(column, constant)`
/// ascending with NULLs last (PostgreSQL's default for `<->`).
#[derive(Debug, Clone)]
pub struct Nearest {
    /// The vector column, as the query names it.
    column: Vec<Ident>,
    /// The query vector: a literal (`pg_vector_value(X'…')`) or a parameter.
    query: Expr,
    /// LIMIT and OFFSET, as the query gives them.
    limit: Expr,
    offset: Option<Expr>,
}

/// The most candidates one vec0 query lists (sqlite-vec's limit).
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
        let name = f.name.0.last()?.as_ident()?.value.to_ascii_lowercase();
        let FunctionArguments::List(list) = &f.args else {
            return None;
        };
        let args: Vec<&Expr> = list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let [a, b] = args.as_slice() else {
            return None;
        };
        if name != "pg_vector_l2" || !list.clauses.is_empty() {
            return None;
        }
        let (column, query) = match (column_parts(a), column_parts(b)) {
            (Some(c), None) => (c, *b),
            (None, Some(c)) => (c, *a),
            _ => return None,
        };
        query_form(query)?;
        Some(Nearest {
            column,
            query: query.clone(),
            limit: limit.clone(),
            offset: offset.cloned(),
        })
    }

    /// How to read the shard of `meta` through its vec0 index for this
    /// query, or `None` when it has none for the column or the query
    /// vector is not one it holds. `k_param` is the number of the extra
    /// parameter (`$k_param`) that carries how many candidates to list.
    pub fn narrowing(
        &self,
        meta: &ShardMeta,
        table: &TableDef,
        resolve: &dyn Fn(&[Ident]) -> Option<usize>,
        params: &[Datum],
        k_param: usize,
    ) -> Option<Narrowing> {
        let column = &table.columns[resolve(&self.column)?];
        let dims = meta.column(&column.name)?.vectors?;
        let q = query_vector(&self.query, params)?;
        if q.len() != dims as usize {
            return None;
        }
        let keep = count(&self.limit, params)?
            .checked_add(self.offset.as_ref().map_or(Some(0), |o| count(o, params))?)?;
        if keep == 0 || keep > MAX_CANDIDATES {
            return None;
        }
        let q_sql = match query_form(&self.query)? {
            QueryForm::Literal => self.query.to_string(),
            QueryForm::Parameter => format!("pg_vector_value({})", self.query),
        };
        let attach = crate::types::quote(&crate::types::shard::attach_name(&meta.id));
        let index = crate::types::shard::vec_index_name(&column.name);
        let epsilon = f64::from(dims + 8) * f64::powi(2.0, -23);
        let n = format!("${k_param}");
        let col = crate::types::quote(&column.name);
        Some(Narrowing {
            with: format!(
                "WITH _mosaic_knn AS MATERIALIZED (SELECT rowid AS rid, distance FROM {attach}.{index} WHERE match({q_sql}, v) AND k = {n})"
            ),
            condition: format!(
                "_rid IN (SELECT rid FROM _mosaic_knn) AND pg_vector_l2({col}, {q_sql}) < (SELECT CASE WHEN count(*) < {n} THEN 9e999 WHEN max(distance) < 1e30 THEN max(distance) * (1 - {epsilon:e}) - 1e-20 ELSE -1 END FROM _mosaic_knn)"
            ),
            keep: keep as usize,
            tries: tries(keep),
        })
    }
}

/// A shard read through its vec0 index (see the module's comment): the
/// source is `with` followed by the shard's source restricted by
/// `condition`; the fragment's rows are proven when there are `keep` of
/// them, for each number of candidates in `tries` in turn.
#[derive(Debug, Clone)]
pub struct Narrowing {
    pub with: String,
    pub condition: String,
    pub keep: usize,
    pub tries: Vec<i64>,
}

/// How many candidates to ask for: a few more than needed, then, if a
/// filter or tombstones thinned them out, sixteen times as many.
fn tries(keep: i64) -> Vec<i64> {
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

enum QueryForm {
    Literal,
    Parameter,
}

/// The query vector's forms this reads: the typed step's literal and a
/// parameter.
fn query_form(e: &Expr) -> Option<QueryForm> {
    match e {
        Expr::Value(v) if matches!(v.value, sqlparser::ast::Value::Placeholder(_)) => {
            Some(QueryForm::Parameter)
        }
        Expr::Function(f) => {
            let name = f.name.0.last()?.as_ident()?.value.to_ascii_lowercase();
            let FunctionArguments::List(list) = &f.args else {
                return None;
            };
            let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] =
                list.args.as_slice()
            else {
                return None;
            };
            (name == "pg_vector_value"
                && matches!(v.value, sqlparser::ast::Value::HexStringLiteral(_)))
            .then_some(QueryForm::Literal)
        }
        _ => None,
    }
}

/// The query vector's value this run.
fn query_vector(e: &Expr, params: &[Datum]) -> Option<Vec<f32>> {
    match e {
        Expr::Value(v) => match param(&v.value, params)? {
            Datum::Blob(b) => vector::from_blob(b).ok(),
            Datum::Text(t) => vector::parse(t).ok(),
            _ => None,
        },
        Expr::Function(f) => {
            let FunctionArguments::List(list) = &f.args else {
                return None;
            };
            let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] =
                list.args.as_slice()
            else {
                return None;
            };
            let sqlparser::ast::Value::HexStringLiteral(hex) = &v.value else {
                return None;
            };
            let bytes = data_encoding::HEXUPPER_PERMISSIVE
                .decode(hex.as_bytes())
                .ok()?;
            vector::from_blob(&bytes).ok()
        }
        _ => None,
    }
}

fn param<'a>(v: &sqlparser::ast::Value, params: &'a [Datum]) -> Option<&'a Datum> {
    let sqlparser::ast::Value::Placeholder(p) = v else {
        return None;
    };
    let n: usize = p.strip_prefix('$')?.parse().ok()?;
    params.get(n.checked_sub(1)?)
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
