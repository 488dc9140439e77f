//! Whether a filter reads a shard through one of its indexes: then few of
//! its rows are read, and the shard's tombstones are best looked up row by
//! row (`types::shard::probe_per_row`) rather than gathered into a set first,
//! which costs every tombstone of the shard on each run of the statement.

use sqlparser::ast::{BinaryOperator, Expr, Ident, InTarget};

use crate::types::table::TableDef;

use super::conjuncts;

/// Whether a top-level conjunct of `filter` is `column = constant` or
/// `column IN (constants)` on a column that leads an index a shard of
/// `table` has (its primary key or a declared plain index), `resolve`
/// naming the table's columns as `prune` does. Only a choice of how to
/// read: the rows are the same either way.
pub fn keyed(table: &TableDef, filter: &Expr, resolve: &dyn Fn(&[Ident]) -> Option<usize>) -> bool {
    let leads = |e: &Expr| -> bool {
        let pos = match e {
            Expr::Identifier(id) => resolve(std::slice::from_ref(id)),
            Expr::CompoundIdentifier(parts) => resolve(parts),
            _ => None,
        };
        pos.is_some_and(|pos| leads_an_index(table, pos))
    };
    conjuncts(filter).into_iter().any(|c| match c {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => (leads(left) && constant(right)) || (leads(right) && constant(left)),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } => leads(expr) && list.iter().all(constant),
        _ => false,
    })
}

/// Whether column `pos` of `table` is the first column of an index its
/// shards are built with (`store::shard` builds the primary key's and the
/// declared plain indexes).
fn leads_an_index(table: &TableDef, pos: usize) -> bool {
    let Some(name) = table.columns.get(pos).map(|c| &c.name) else {
        return false;
    };
    table.primary_key.first() == Some(&pos)
        || table
            .indexes
            .iter()
            .any(|ix| ix.in_shards() && ix.columns.first() == Some(name))
}

/// A value that reads no column: a literal, a parameter, and signs,
/// casts and parentheses around them.
fn constant(e: &Expr) -> bool {
    match e {
        Expr::Value(_) => true,
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => constant(inner),
        Expr::Cast { expr, .. } => constant(expr),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::table::{Column, Index};
    use crate::types::PgType;

    fn keyed_for(filter: &str) -> bool {
        let def = TableDef {
            name: "people".into(),
            columns: vec![
                Column::new("id", PgType::Int8, true),
                Column::new("name", PgType::Text, false),
                Column::new("score", PgType::Float8, false),
            ],
            primary_key: vec![0],
            indexes: vec![Index {
                name: "people_name_idx".into(),
                columns: vec!["name".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let e = crate::sql::parse_expr(filter).unwrap();
        let resolve = crate::plan::column_resolver(&def, "people");
        keyed(&def, &e, &resolve)
    }

    /// `people`: primary key `id`, a plain index on `name`, no index on
    /// `score`.
    #[test]
    fn a_lookup_through_an_index_is_keyed_and_a_scan_is_not() {
        assert!(keyed_for("id = $1"));
        assert!(keyed_for("$1 = people.id"));
        assert!(keyed_for("id = -CAST('4' AS bigint) AND score > 1"));
        assert!(keyed_for("name IN ('a', 'b')"));
        assert!(!keyed_for("score = 1"));
        assert!(!keyed_for("id > 3"));
        assert!(!keyed_for("id = score"));
        assert!(!keyed_for("id = 1 OR name = 'a'"));
        assert!(!keyed_for("id NOT IN (1, 2)"));
        assert!(!keyed_for("other.id = 1"));
    }
}
