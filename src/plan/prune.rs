//! Shard pruning: decide from a shard's metadata alone (zone maps, null
//! counts, bloom filters, trigram blooms) that it cannot hold a row matching
//! a query's filter, without opening it.
//!
//! Pruning must be conservative: `Verdict::Prune` only when no row of the
//! shard can satisfy the filter. Anything not understood keeps the shard.
//!
//! Understood, per top-level AND conjunct on one column of the table and
//! constants (literals, `$n`, unary minus, casts of literals): `=`, `<>`,
//! `<`, `<=`, `>`, `>=`, `IN (…)`, `BETWEEN`, `IS [NOT] NULL`, `LIKE`,
//! `ILIKE`, a bare boolean column, ORs whose every branch prunes, and
//! spatial predicates against a geometry column's extent (`spatial`).
//! A column the shard lacks (added by ALTER TABLE later) holds its default in
//! every row of that shard.
//!
//! DESIGN: LIKE is PostgreSQL's, case-sensitive with `\` as the default
//! escape; the SQLite side must evaluate it the same way (e.g. with
//! `case_sensitive_like`), or the prefix and no-wildcard rules would prune
//! rows SQLite's case-insensitive LIKE would have returned.

mod constant;
mod keyed;
mod like;
mod spatial;

pub use keyed::keyed;

pub(crate) use spatial::{args, box_distance, constant as geometry_constant, name_of, param};

use std::cmp::Ordering;

use sqlparser::ast::{BinaryOperator, Expr, Ident, InTarget};

use crate::types::shard::{cmp_sqlite, encode_value, ColumnStats, ShardMeta};
use crate::types::table::TableDef;
use crate::types::{Datum, PgType};

use constant::{constant, value_for, Lit};

/// Whether a shard must be read, and if not, why (for EXPLAIN).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Keep,
    /// A human-readable reason, e.g. `bloom filter excludes id = 42`.
    Prune(String),
}

/// The top-level AND conjuncts of `expr`, looking through parentheses.
pub fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Nested(inner) => stack.push(inner),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            other => out.push(other),
        }
    }
    out
}

/// The OR branches of `expr`, looking through parentheses.
fn disjuncts(expr: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Nested(inner) => stack.push(inner),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            other => out.push(other),
        }
    }
    out
}

/// Decide whether `meta`'s shard can be skipped for `filter` (a WHERE clause
/// in the PostgreSQL dialect, as parsed, before any rewrite).
///
/// `resolve` maps a column reference (its identifier parts, e.g. `[t, id]`
/// or `[id]`) to the column's position in `table`, or `None` when the
/// reference is not to this table. `params` are the values of `$1..$n`.
pub fn prune(
    meta: &ShardMeta,
    table: &TableDef,
    filter: &Expr,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
    params: &[Datum],
) -> Verdict {
    verdict(meta, table, filter, resolve, params, true)
}

/// `prune`'s decision alone: whether the shard can be skipped. No reason
/// is written, which on a point select's path costs more than deciding.
pub fn excludes(
    meta: &ShardMeta,
    table: &TableDef,
    filter: &Expr,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
    params: &[Datum],
) -> bool {
    verdict(meta, table, filter, resolve, params, false) != Verdict::Keep
}

/// `prune`, with its reason written only when `explain`.
pub fn verdict(
    meta: &ShardMeta,
    table: &TableDef,
    filter: &Expr,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
    params: &[Datum],
    explain: bool,
) -> Verdict {
    if meta.row_count == 0 {
        return Verdict::Prune("shard has no rows".into());
    }
    let cx = Cx {
        meta,
        table,
        resolve,
        params,
        explain,
    };
    match cx.excludes(filter) {
        Some(reason) => Verdict::Prune(reason),
        None => Verdict::Keep,
    }
}

/// A condition on `_rid` that keeps only the rows of `meta`'s shard whose
/// box can satisfy the spatial predicates among `filter`'s top-level
/// conjuncts, through the shard's R*Tree (`store::shard::rtree_name`);
/// `None` when there is none to use. Arguments as `prune` takes them.
pub fn rtree_condition(
    meta: &ShardMeta,
    table: &TableDef,
    filter: &Expr,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
    params: &[Datum],
) -> Option<String> {
    Cx {
        meta,
        table,
        resolve,
        params,
        explain: false,
    }
    .rtree_condition(filter)
}

struct Cx<'a> {
    meta: &'a ShardMeta,
    table: &'a TableDef,
    resolve: &'a dyn Fn(&[Ident]) -> Option<usize>,
    params: &'a [Datum],
    /// Write the reasons shards are pruned (for EXPLAIN).
    explain: bool,
}

impl Cx<'_> {
    /// `reason`, when one is to be shown; an empty string costs nothing.
    fn why(&self, reason: impl FnOnce() -> String) -> String {
        match self.explain {
            true => reason(),
            false => String::new(),
        }
    }
}

/// What this shard holds for one column.
enum View<'a> {
    Stats(&'a ColumnStats),
    /// The column is not in the shard's schema: every row holds this value.
    Default(Datum),
}

/// A column of the table as this shard sees it.
struct Col<'a> {
    name: &'a str,
    ty: &'a PgType,
    view: View<'a>,
    row_count: u64,
}

impl Col<'_> {
    fn all_null(&self) -> bool {
        match &self.view {
            View::Stats(stats) => stats.null_count >= self.row_count,
            View::Default(d) => *d == Datum::Null,
        }
    }

    fn has_nulls(&self) -> bool {
        match &self.view {
            View::Stats(stats) => stats.null_count > 0,
            View::Default(d) => *d == Datum::Null,
        }
    }

    /// Smallest and largest non-null value.
    fn bounds(&self) -> Option<(&Datum, &Datum)> {
        match &self.view {
            View::Stats(stats) => match (&stats.min, &stats.max) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                _ => None,
            },
            View::Default(Datum::Null) => None,
            View::Default(d) => Some((d, d)),
        }
    }

    /// Whether the bloom filter says `v` is absent (never for a default).
    fn bloom_excludes(&self, v: &Datum) -> bool {
        let View::Stats(stats) = &self.view else {
            return false;
        };
        match stats.bloom_filter() {
            Some(b) => !b.check(&encode_value(stats.ty.storage(), v)),
            None => false,
        }
    }

    fn zone(&self) -> String {
        match (&self.view, self.bounds()) {
            (View::Default(d), _) => {
                format!("{} is {} in every row (its default)", self.name, show(d))
            }
            (_, Some((lo, hi))) => {
                format!("zone map: {} in [{}, {}]", self.name, show(lo), show(hi))
            }
            (_, None) => format!("{} is NULL in every row", self.name),
        }
    }
}

/// Why equality with one value is impossible.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Why {
    NullConstant,
    AllNull,
    ZoneMap,
    Bloom,
}

impl<'a> Cx<'a> {
    /// A reason no row can satisfy `e`, or `None`.
    fn excludes(&self, e: &Expr) -> Option<String> {
        let parts = conjuncts(e);
        if parts.len() > 1 {
            return parts.into_iter().find_map(|c| self.excludes(c));
        }
        let branches = disjuncts(e);
        if branches.len() > 1 {
            let reasons = branches
                .into_iter()
                .map(|b| self.excludes(b))
                .collect::<Option<Vec<_>>>()?;
            return Some(self.why(|| {
                format!(
                    "every branch of the OR is excluded ({})",
                    reasons.join("; ")
                )
            }));
        }
        self.excludes_atom(e)
    }

    fn excludes_atom(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Nested(inner) => self.excludes(inner),
            Expr::Value(v) => match &v.value {
                sqlparser::ast::Value::Boolean(false) | sqlparser::ast::Value::Null => {
                    Some(self.why(|| format!("{e} is never true")))
                }
                _ => None,
            },
            Expr::BinaryOp {
                op: BinaryOperator::PGOverlap,
                ..
            } => self.spatial(e),
            Expr::BinaryOp { left, op, right } => self.comparison(e, left, op, right),
            Expr::In {
                expr,
                target: InTarget::List(list),
                negated: false,
                global: false,
            } => self.in_list(e, expr, list),
            Expr::Between {
                expr,
                negated: false,
                low,
                high,
            } => self.between(e, expr, low, high),
            Expr::IsNull(inner) => {
                let col = self.column(inner)?;
                (!col.has_nulls()).then(|| self.why(|| format!("no NULLs in {}", col.name)))
            }
            Expr::IsNotNull(inner) => {
                let col = self.column(inner)?;
                col.all_null()
                    .then(|| self.why(|| format!("{} is NULL in every row", col.name)))
            }
            Expr::Like {
                negated: false,
                any: false,
                expr,
                pattern,
                escape_char,
            } => self.like(e, expr, pattern, escape_char.as_deref(), false),
            Expr::ILike {
                negated: false,
                any: false,
                expr,
                pattern,
                escape_char,
            } => self.like(e, expr, pattern, escape_char.as_deref(), true),
            Expr::Function(_) => self.spatial(e),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                // A bare boolean column: `WHERE active`.
                let col = self.column(e)?;
                (*col.ty == PgType::Bool)
                    .then(|| self.eq_reason(&col, e, &Datum::Int(1)))
                    .flatten()
            }
            _ => None,
        }
    }

    /// The column `e` names, as this shard sees it; `None` when `e` is not a
    /// column of this table or its values in the shard cannot be known.
    fn column(&self, e: &Expr) -> Option<Col<'a>> {
        let pos = match e {
            Expr::Identifier(id) => (self.resolve)(std::slice::from_ref(id))?,
            Expr::CompoundIdentifier(parts) => (self.resolve)(parts)?,
            Expr::Nested(inner) => return self.column(inner),
            _ => return None,
        };
        let def = self.table.columns.get(pos)?;
        // DESIGN: zone maps and blooms of numeric columns are over its
        // stored text (or, in old shards, REALs), which neither orders nor
        // hashes by value; numeric conditions are not pruned on. Nor enum
        // ones: their labels' text does not order as the type does, nor
        // intervals' ('1 day' equals '24:00:00'), nor arrays' ('{9}' sorts
        // before '{10}'). Geometries prune by their extent alone
        // (`spatial`).
        if matches!(
            def.ty,
            PgType::Numeric(_)
                | PgType::Enum(_)
                | PgType::Interval
                | PgType::Array(_)
                | PgType::Geometry(_)
        ) {
            return None;
        }
        let stored = def.storage_names().find_map(|n| self.meta.column(n));
        let view = match stored {
            Some(stats) if stats.ty.storage() == def.ty.storage() => View::Stats(stats),
            Some(_) => return None,
            None => View::Default(constant::default_value(def)?),
        };
        Some(Col {
            name: &def.name,
            ty: &def.ty,
            view,
            row_count: self.meta.row_count,
        })
    }

    /// The value of constant `e` compared with `col`.
    fn value(&self, col: &Col<'_>, e: &Expr) -> Option<Datum> {
        value_for(col.ty, constant(e, self.params)?)
    }

    fn comparison(
        &self,
        e: &Expr,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
    ) -> Option<String> {
        use BinaryOperator as B;
        let (col, c, op) = match self.column(left) {
            Some(col) => (col, right, op.clone()),
            None => {
                let flipped = match op {
                    B::Lt => B::Gt,
                    B::LtEq => B::GtEq,
                    B::Gt => B::Lt,
                    B::GtEq => B::LtEq,
                    B::Eq | B::NotEq => op.clone(),
                    _ => return None,
                };
                (self.column(right)?, left, flipped)
            }
        };
        if !matches!(op, B::Eq | B::NotEq | B::Lt | B::LtEq | B::Gt | B::GtEq) {
            return None;
        }
        let v = self.value(&col, c)?;
        if op == B::Eq {
            return self.eq_reason(&col, e, &v);
        }
        if v == Datum::Null {
            return Some(self.why(|| format!("{e} is never true")));
        }
        if col.all_null() {
            return Some(self.why(|| format!("{} is NULL in every row", col.name)));
        }
        let (lo, hi) = col.bounds()?;
        let lt = |a: &Datum, b: &Datum| cmp_sqlite(a, b) == Ordering::Less;
        let excluded = match op {
            B::Lt => !lt(lo, &v),
            B::LtEq => lt(&v, lo),
            B::Gt => !lt(&v, hi),
            B::GtEq => lt(hi, &v),
            // Every non-null value equals v.
            _ => cmp_sqlite(lo, &v) == Ordering::Equal && cmp_sqlite(hi, &v) == Ordering::Equal,
        };
        excluded.then(|| self.why(|| format!("{} excludes {e}", col.zone())))
    }

    fn eq_why(&self, col: &Col<'_>, v: &Datum) -> Option<Why> {
        if *v == Datum::Null {
            return Some(Why::NullConstant);
        }
        if col.all_null() {
            return Some(Why::AllNull);
        }
        if let Some((lo, hi)) = col.bounds() {
            if cmp_sqlite(v, lo) == Ordering::Less || cmp_sqlite(v, hi) == Ordering::Greater {
                return Some(Why::ZoneMap);
            }
        }
        col.bloom_excludes(v).then_some(Why::Bloom)
    }

    fn eq_reason(&self, col: &Col<'_>, e: &Expr, v: &Datum) -> Option<String> {
        Some(match self.eq_why(col, v)? {
            Why::NullConstant => self.why(|| format!("{e} is never true")),
            Why::AllNull => self.why(|| format!("{} is NULL in every row", col.name)),
            Why::ZoneMap => self.why(|| format!("{} excludes {e}", col.zone())),
            Why::Bloom => self.why(|| format!("bloom filter excludes {e}")),
        })
    }

    fn in_list(&self, e: &Expr, expr: &Expr, list: &[Expr]) -> Option<String> {
        let col = self.column(expr)?;
        let mut whys = Vec::new();
        for item in list {
            let v = self.value(&col, item)?;
            whys.push(self.eq_why(&col, &v)?);
        }
        whys.sort();
        whys.dedup();
        if whys.iter().all(|w| *w <= Why::AllNull) {
            return Some(match whys.last() {
                Some(Why::AllNull) => self.why(|| format!("{} is NULL in every row", col.name)),
                _ => self.why(|| format!("{e} is never true")),
            });
        }
        let mechanisms: Vec<String> = whys
            .iter()
            .filter_map(|w| match w {
                Why::ZoneMap => Some(col.zone()),
                Why::Bloom => Some("bloom filter".to_string()),
                _ => None,
            })
            .collect();
        let verb = if mechanisms.len() > 1 {
            "exclude"
        } else {
            "excludes"
        };
        Some(self.why(|| format!("{} {verb} {e}", mechanisms.join(" and "))))
    }

    fn between(&self, e: &Expr, expr: &Expr, low: &Expr, high: &Expr) -> Option<String> {
        let col = self.column(expr)?;
        let a = self.value(&col, low)?;
        let b = self.value(&col, high)?;
        if a == Datum::Null || b == Datum::Null || cmp_sqlite(&a, &b) == Ordering::Greater {
            return Some(self.why(|| format!("{e} is never true")));
        }
        if col.all_null() {
            return Some(self.why(|| format!("{} is NULL in every row", col.name)));
        }
        let (lo, hi) = col.bounds()?;
        (cmp_sqlite(hi, &a) == Ordering::Less || cmp_sqlite(lo, &b) == Ordering::Greater)
            .then(|| self.why(|| format!("{} excludes {e}", col.zone())))
    }

    fn like(
        &self,
        e: &Expr,
        expr: &Expr,
        pattern: &Expr,
        escape: Option<&Expr>,
        ilike: bool,
    ) -> Option<String> {
        let col = self.column(expr)?;
        if !matches!(
            col.ty,
            PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_)
        ) {
            return None;
        }
        let pattern = match constant(pattern, self.params)? {
            Lit::Str(s) | Lit::Typed(Datum::Text(s)) => s,
            Lit::Null | Lit::Typed(Datum::Null) => {
                return Some(self.why(|| format!("{e} is never true")))
            }
            _ => return None,
        };
        let escape = match escape {
            None => Some('\\'),
            Some(x) => match constant(x, self.params)? {
                Lit::Str(s) if s.is_empty() => None,
                Lit::Str(s) if s.chars().count() == 1 => s.chars().next(),
                _ => return None,
            },
        };
        let parsed = like::parse(&pattern, escape)?;
        if col.all_null() {
            return Some(self.why(|| format!("{} is NULL in every row", col.name)));
        }
        if let View::Stats(stats) = &col.view {
            // No trigram bloom on a text column: it holds non-text values,
            // which LIKE converts; reason about none of them.
            stats.trigrams.as_ref()?;
            if like::trigrams_exclude(stats, &parsed) {
                return Some(self.why(|| format!("trigram bloom excludes {e}")));
            }
        }
        // Case-sensitive rules; bpchar's padding makes them unsafe there.
        if ilike || matches!(col.ty, PgType::Bpchar(_)) {
            return None;
        }
        if let Some(exact) = parsed.exact() {
            return self.eq_reason(&col, e, &Datum::Text(exact));
        }
        let prefix = parsed.prefix();
        if prefix.is_empty() {
            return None;
        }
        match &col.view {
            View::Default(Datum::Text(s)) => (!like::matches(&parsed, s))
                .then(|| self.why(|| format!("{} excludes {e}", col.zone()))),
            View::Default(_) => None,
            View::Stats { .. } => {
                let (lo, hi) = col.bounds()?;
                like::prefix_excluded(&prefix, lo, hi)
                    .then(|| self.why(|| format!("{} excludes {e}", col.zone())))
            }
        }
    }
}

/// A value for a reason string: SQL-literal-like and short.
fn show(d: &Datum) -> String {
    const MAX: usize = 40;
    match d {
        Datum::Null => "NULL".into(),
        Datum::Int(i) => i.to_string(),
        Datum::Real(f) => f.to_string(),
        Datum::Text(s) => {
            let mut t: String = s.chars().take(MAX).collect();
            if t.len() < s.len() {
                t.push('…');
            }
            format!("'{}'", t.replace('\'', "''"))
        }
        Datum::Blob(b) => {
            let hex: String = b.iter().take(MAX / 2).map(|x| format!("{x:02x}")).collect();
            let more = if b.len() > MAX / 2 { "…" } else { "" };
            format!("'\\x{hex}{more}'")
        }
    }
}
