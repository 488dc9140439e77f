//! Which privileges a statement needs on which relations, as PostgreSQL
//! checks them when it runs one: SELECT on every relation it reads, the
//! write's own privilege on the table it writes (and SELECT there too when
//! it reads the table's columns: a WHERE, an expression over them,
//! RETURNING, ON CONFLICT), TRUNCATE, and for a view SELECT on the view
//! while its own relations are checked against the view's owner.
//!
//! Pure: the session checks the answer against the catalog's roles and
//! access lists each time the statement runs (`exec::privileges`).

use std::ops::ControlFlow;

use sqlparser::ast::{
    CopySource, Expr, FromTable, ObjectName, OnConflictAction, OnInsert, Query, Statement,
    TableFactor, TableObject, Visit, Visitor,
};

use crate::sql::{ident_name, object_name, Schema};
use crate::types::acl::{DELETE, INSERT, SELECT, TRUNCATE, UPDATE};

/// How deeply views may name views before the collection stops (a cycle
/// is refused elsewhere).
const MAX_VIEW_DEPTH: usize = 64;

/// One privilege check: `privs` on `relation`, held by the session's
/// current role, or by the owner of the view `via` when the relation is
/// read by that view's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub relation: String,
    pub privs: u32,
    pub via: Option<String>,
}

/// What `stmt` needs before it may run.
pub fn needs(stmt: &Statement, schema: &dyn Schema) -> Vec<Need> {
    let mut c = Collector {
        schema,
        out: Vec::new(),
        depth: 0,
    };
    match stmt {
        Statement::Insert(ins) => {
            let mut privs = INSERT;
            if ins.returning.is_some() {
                privs |= SELECT;
            }
            match &ins.on {
                Some(OnInsert::OnConflict(oc)) => {
                    if oc.conflict_target.is_some() {
                        privs |= SELECT;
                    }
                    if let OnConflictAction::DoUpdate(_) = oc.action {
                        privs |= UPDATE | SELECT;
                    }
                }
                Some(_) => privs |= UPDATE | SELECT,
                None => {}
            }
            if let TableObject::TableName(n) = &ins.table {
                c.target(n, privs);
            }
            c.reads(&ins.source);
            c.reads(&ins.returning);
            c.reads(&ins.on);
        }
        Statement::Update(up) => {
            let reads_columns = reads_columns(&up.selection)
                || up.assignments.iter().any(|a| reads_columns(&a.value))
                || up.returning.is_some();
            if let TableFactor::Table { name, .. } = &up.table.relation {
                c.target(name, UPDATE | if reads_columns { SELECT } else { 0 });
            }
            c.reads(&up.table.joins);
            c.reads(&up.from);
            c.reads(&up.selection);
            c.reads(&up.assignments);
            c.reads(&up.returning);
        }
        Statement::Delete(del) => {
            let reads_columns = reads_columns(&del.selection) || del.returning.is_some();
            let tables = match &del.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            for (i, t) in tables.iter().enumerate() {
                match &t.relation {
                    TableFactor::Table { name, .. } if i == 0 => {
                        c.target(name, DELETE | if reads_columns { SELECT } else { 0 })
                    }
                    _ => c.reads(&t.relation),
                }
                c.reads(&t.joins);
            }
            c.reads(&del.using);
            c.reads(&del.selection);
            c.reads(&del.returning);
        }
        Statement::Truncate(t) => {
            for name in &t.table_names {
                c.target(&name.name, TRUNCATE);
            }
        }
        Statement::Copy { source, to, .. } => match source {
            CopySource::Table { table_name, .. } => {
                c.target(table_name, if *to { SELECT } else { INSERT })
            }
            CopySource::Query(q) => c.reads(q),
        },
        Statement::Explain { statement, .. } => return needs(statement, schema),
        Statement::Query(q) => {
            c.reads(stmt);
            // FOR UPDATE / SHARE takes UPDATE too (asked here of every
            // relation the query names itself, not only the locked ones).
            if !q.locks.is_empty() {
                for n in c.out.iter_mut().filter(|n| n.via.is_none()) {
                    n.privs |= UPDATE;
                }
            }
        }
        Statement::Declare { .. } => c.reads(stmt),
        Statement::CreateTable(ct) => c.reads(&ct.query),
        Statement::CreateView(cv) if cv.materialized => c.reads(&cv.query),
        // DDL: its checks are of ownership, made as it runs.
        _ => {}
    }
    c.out
}

/// Whether an expression reads any column (an identifier that is not the
/// keyword DEFAULT).
fn reads_columns<V: Visit>(e: &V) -> bool {
    struct Finder;
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::Identifier(i)
                    if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default") =>
                {
                    ControlFlow::Continue(())
                }
                Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Wildcard(_) => {
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            }
        }
    }
    e.visit(&mut Finder).is_break()
}

struct Collector<'a> {
    schema: &'a dyn Schema,
    out: Vec<Need>,
    depth: usize,
}

impl Collector<'_> {
    fn add(&mut self, relation: String, privs: u32, via: Option<String>) {
        match self
            .out
            .iter_mut()
            .find(|n| n.relation == relation && n.via == via)
        {
            Some(n) => n.privs |= privs,
            None => self.out.push(Need {
                relation,
                privs,
                via,
            }),
        }
    }

    /// The relation a write names.
    fn target(&mut self, name: &ObjectName, privs: u32) {
        let n = bare(name);
        if privs != 0 {
            self.add(n, privs, None);
        }
    }

    /// SELECT on every relation `node` reads, CTEs aside; a view's own
    /// relations as its owner.
    fn reads<V: Visit>(&mut self, node: &V) {
        for (name, via) in relations(node) {
            self.read(name, via);
        }
    }

    fn read(&mut self, name: String, via: Option<String>) {
        let view = self.schema.view(&name);
        self.add(name.clone(), SELECT, via);
        let Some(view) = view else { return };
        let Some(sql) = view.view_query() else { return };
        if self.depth >= MAX_VIEW_DEPTH {
            return;
        }
        let Ok(Some(Statement::Query(q))) = crate::sql::parse(sql).map(|mut s| s.pop()) else {
            return;
        };
        self.depth += 1;
        for (inner, _) in relations(&q) {
            self.read(inner, Some(name.clone()));
        }
        self.depth -= 1;
    }
}

/// A relation's name without the `public.` schema.
fn bare(name: &ObjectName) -> String {
    let n = object_name(name);
    n.strip_prefix("public.").map(str::to_string).unwrap_or(n)
}

/// The relations `node` names, each once, skipping names that a CTE in
/// scope defines. The second field is always `None` (the reader itself).
fn relations<V: Visit>(node: &V) -> Vec<(String, Option<String>)> {
    struct Names {
        ctes: Vec<Vec<String>>,
        out: Vec<(String, Option<String>)>,
    }
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            let names = q
                .with
                .iter()
                .flat_map(|w| &w.cte_tables)
                .map(|c| ident_name(&c.alias.name))
                .collect();
            self.ctes.push(names);
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _q: &Query) -> ControlFlow<()> {
            self.ctes.pop();
            ControlFlow::Continue(())
        }
        fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
            let n = bare(name);
            let cte = name.0.len() == 1 && self.ctes.iter().flatten().any(|c| *c == n);
            if !cte && !self.out.iter().any(|(o, _)| *o == n) {
                self.out.push((n, None));
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = Names {
        ctes: Vec::new(),
        out: Vec::new(),
    };
    let _ = node.visit(&mut v);
    v.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::table::TableDef;
    use std::sync::Arc;

    struct NoViews;
    impl Schema for NoViews {
        fn table(&self, _name: &str) -> Option<Arc<TableDef>> {
            None
        }
    }

    fn needs_of(sql: &str) -> Vec<(String, u32)> {
        let stmt = crate::sql::parse(sql).unwrap().remove(0);
        needs(&stmt, &NoViews)
            .into_iter()
            .map(|n| (n.relation, n.privs))
            .collect()
    }

    #[test]
    fn writes_need_select_only_when_they_read_the_table() {
        assert_eq!(needs_of("INSERT INTO t VALUES (1)"), [("t".into(), INSERT)]);
        assert_eq!(
            needs_of("INSERT INTO t SELECT a FROM u RETURNING *"),
            [("t".into(), INSERT | SELECT), ("u".into(), SELECT)]
        );
        assert_eq!(needs_of("UPDATE t SET a = 1"), [("t".into(), UPDATE)]);
        assert_eq!(
            needs_of("UPDATE t SET a = a + 1"),
            [("t".into(), UPDATE | SELECT)]
        );
        assert_eq!(needs_of("DELETE FROM t"), [("t".into(), DELETE)]);
        assert_eq!(
            needs_of("DELETE FROM public.t WHERE id IN (SELECT id FROM t)"),
            [("t".into(), DELETE | SELECT)]
        );
        assert_eq!(
            needs_of("WITH t AS (SELECT 1) SELECT * FROM t, u"),
            [("u".into(), SELECT)]
        );
        assert_eq!(
            needs_of("SELECT * FROM t FOR UPDATE"),
            [("t".into(), SELECT | UPDATE)]
        );
        assert_eq!(
            needs_of("TRUNCATE a, b"),
            [("a".into(), TRUNCATE), ("b".into(), TRUNCATE)]
        );
    }
}
