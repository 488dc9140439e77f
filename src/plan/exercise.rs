//! SQL text through every step of the front end and the planner's split,
//! over a one-table catalog: parse, validation, privileges, inference,
//! literal typing, the fragment split and the SQLite rewrite. Each may
//! refuse the text with an error; none may panic. The proptests in
//! `robustness` and the fuzz target `sql` (`fuzz/`) run it.

use std::sync::Arc;

use crate::sql::Schema;
use crate::types::table::TableDef;

struct OneTable(Arc<TableDef>);

impl Schema for OneTable {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        (name == "t").then(|| self.0.clone())
    }
}

/// The one table, made by the DDL path itself (once: fuzz targets call
/// `exercise` millions of times).
fn catalog() -> &'static OneTable {
    static CATALOG: std::sync::OnceLock<OneTable> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        let sql =
            "CREATE TABLE t (id int PRIMARY KEY, name text, v float8, d date, n numeric(10,2))";
        let def = crate::sql::parse(sql)
            .ok()
            .and_then(|stmts| match stmts.into_iter().next() {
                Some(sqlparser::ast::Statement::CreateTable(ct)) => {
                    crate::sql::ddl::create_table(&ct, 1).ok()
                }
                _ => None,
            })
            .expect("the exercise table's DDL is valid");
        OneTable(Arc::new(def))
    })
}

/// Run `sql` through the front end; errors are dropped, a panic is a bug.
pub fn exercise(sql: &str) {
    let Ok(stmts) = crate::sql::parse(sql) else {
        return;
    };
    let cat = catalog();
    for mut stmt in stmts {
        let _ = crate::sql::validate::check(&stmt, cat);
        let _ = crate::sql::privileges::needs(&stmt, cat);
        let _ = crate::sql::infer::param_types(&stmt, cat);
        let _ = crate::sql::infer::result_columns(&stmt, cat, &[]);
        let _ = crate::sql::coerce::coerce_literals(&mut stmt, cat, crate::types::zone::Zone::UTC);
        let _ = crate::plan::fragment::split(&stmt, cat);
        let _ = crate::sql::rewrite::to_sqlite(&mut stmt);
        let _ = stmt.to_string();
    }
}
