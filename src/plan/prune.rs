//! Shard pruning: decide from a shard's metadata alone (zone maps, null
//! counts, bloom filters, trigram blooms) that it cannot hold a row matching
//! a query's filter, without opening it.
//!
//! Pruning must be conservative: `Verdict::Prune` only when no row of the
//! shard can satisfy the filter. Anything not understood keeps the shard.

use sqlparser::ast::{Expr, Ident};

use crate::sql::types::Datum;
use crate::store::shard::ShardMeta;
use crate::store::table::TableDef;

/// Whether a shard must be read, and if not, why (for EXPLAIN).
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Keep,
    /// A human-readable reason, e.g. `bloom filter: id = 42 absent`.
    Prune(String),
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
    let _ = (meta, table, filter, resolve, params);
    Verdict::Keep
}
