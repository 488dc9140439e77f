//! SQL text through every step of the front end and the planner's split,
//! over a one-table catalog: parse, validation, privileges, inference,
//! literal typing, the fragment split and the SQLite rewrite. Each may
//! refuse the text with an error; none may panic. The proptests in
//! `robustness` and the fuzz target `sql` (`fuzz/`) run it.

use std::sync::Arc;

use crate::sql::Schema;
use crate::types::table::{Column, TableDef};
use crate::types::PgType;

struct OneTable(Arc<TableDef>);

impl Schema for OneTable {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        (name == "t").then(|| self.0.clone())
    }
}

/// The table `t (id int4 primary key, name text, v float8, d date, n
/// numeric(10,2))`.
fn catalog() -> OneTable {
    let col = |name: &str, ty: PgType| Column {
        name: name.into(),
        ty,
        not_null: false,
        default: None,
        identity: None,
        comment: None,
        missing: None,
        former_names: vec![],
        sequence: None,
    };
    OneTable(Arc::new(TableDef {
        name: "t".into(),
        oid: 1,
        columns: vec![
            col("id", PgType::Int4),
            col("name", PgType::Text),
            col("v", PgType::Float8),
            col("d", PgType::Date),
            col("n", PgType::Numeric(Some((10, 2)))),
        ],
        primary_key: vec![0],
        unique: vec![],
        checks: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        comment: None,
        kind: Default::default(),
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    }))
}

/// Run `sql` through the front end; errors are dropped, a panic is a bug.
pub fn exercise(sql: &str) {
    let Ok(stmts) = crate::sql::parse(sql) else {
        return;
    };
    let cat = catalog();
    for mut stmt in stmts {
        let _ = crate::sql::validate::check(&stmt, &cat);
        let _ = crate::sql::privileges::needs(&stmt, &cat);
        let _ = crate::sql::infer::param_types(&stmt, &cat);
        let _ = crate::sql::infer::result_columns(&stmt, &cat, &[]);
        let _ = crate::sql::coerce::coerce_literals(&mut stmt, &cat);
        let _ = crate::plan::fragment::split(&stmt, &cat);
        let _ = crate::sql::rewrite::to_sqlite(&mut stmt);
        let _ = stmt.to_string();
    }
}
