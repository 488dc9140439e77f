//! WITH clauses around writes: data-modifying WITH queries (`WITH d AS
//! (DELETE … RETURNING *) INSERT INTO archive SELECT * FROM d`) and a
//! WITH before INSERT, UPDATE or DELETE.
//!
//! A data-modifying WITH query runs once, before the main statement, and
//! the main statement reads the rows it returned in its place (`exec::
//! with_writes`). That is PostgreSQL's answer as long as the main
//! statement does not read a table a WITH query changes (PostgreSQL would
//! show it the rows as they were before the statement): such statements
//! are refused with 0A000, as are two WITH queries changing one table and
//! a WITH query reading another WITH query.

use std::ops::ControlFlow;

use sqlparser::ast::{Query, SetExpr, Statement, Visit, Visitor};

use crate::error::{Error, Result};
use crate::sql::{ident_name, object_name};
use crate::types::{quote, PgType};

/// The statement of a WITH query that writes, if it does.
pub fn write_of(q: &Query) -> Option<&Statement> {
    match q.body.as_ref() {
        SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => Some(s),
        _ => None,
    }
}

/// Whether `stmt` is a query whose own WITH clause holds a data-modifying
/// query; one further down is PostgreSQL's 0A000.
pub fn has_writes(stmt: &Statement) -> Result<bool> {
    struct Find {
        depth: usize,
        top: bool,
        nested: bool,
    }
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            let writes = q
                .with
                .as_ref()
                .is_some_and(|w| w.cte_tables.iter().any(|c| write_of(&c.query).is_some()));
            if writes {
                if self.depth == 0 {
                    self.top = true;
                } else {
                    self.nested = true;
                }
            }
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
    }
    let Statement::Query(q) = stmt else {
        return Ok(false);
    };
    let mut find = Find {
        depth: 0,
        top: false,
        nested: false,
    };
    let _ = q.visit(&mut find);
    if find.nested {
        return Err(Error::NotSupported(
            "WITH clause containing a data-modifying statement must be at the top level".into(),
        ));
    }
    Ok(find.top)
}

/// The names of the relations `stmt` reads or writes.
pub fn relations(stmt: &Statement) -> Vec<String> {
    let mut names = Vec::new();
    let _ = sqlparser::ast::visit_relations(stmt, |n| {
        let name = object_name(n);
        names.push(name.strip_prefix("public.").unwrap_or(&name).to_string());
        ControlFlow::<()>::Continue(())
    });
    names
}

/// The names of a WITH clause's queries.
pub fn cte_names(q: &Query) -> Vec<String> {
    q.with
        .iter()
        .flat_map(|w| w.cte_tables.iter().map(|c| ident_name(&c.alias.name)))
        .collect()
}

/// A query of the given columns that returns `rows` (each value as
/// PostgreSQL's text, `None` for NULL): a VALUES list of typed literals,
/// or, without rows, one that returns none.
pub fn rows_query(columns: &[(String, PgType)], rows: &[Vec<Option<String>>]) -> String {
    let literal = |v: &Option<String>, ty: &PgType| match v {
        Some(t) => format!("CAST('{}' AS {})", t.replace('\'', "''"), ty.display_name()),
        None => format!("CAST(NULL AS {})", ty.display_name()),
    };
    let names: Vec<String> = columns.iter().map(|(n, _)| quote(n)).collect();
    if rows.is_empty() {
        let items: Vec<String> = columns
            .iter()
            .map(|(n, ty)| format!("{} AS {}", literal(&None, ty), quote(n)))
            .collect();
        return format!("SELECT {} WHERE false", items.join(", "));
    }
    let rows: Vec<String> = rows
        .iter()
        .map(|r| {
            let items: Vec<String> = r
                .iter()
                .zip(columns)
                .map(|(v, (_, ty))| literal(v, ty))
                .collect();
            format!("({})", items.join(", "))
        })
        .collect();
    format!(
        "SELECT * FROM (VALUES {}) AS _returned ({})",
        rows.join(", "),
        names.join(", ")
    )
}

/// A WITH before INSERT becomes the WITH of INSERT's query (the same
/// names in the same scope); before UPDATE or DELETE its queries are put
/// where the statement names them (`inline_ctes`).
pub fn hoist(stmt: &mut Statement) -> Result<()> {
    let Statement::Query(q) = stmt else {
        return Ok(());
    };
    let Some(with) = q.with.clone() else {
        return Ok(());
    };
    match q.body.as_mut() {
        SetExpr::Insert(Statement::Insert(ins)) => {
            let mut ins = ins.clone();
            if let Some(source) = ins.source.as_mut() {
                match source.with.as_mut() {
                    Some(own) => {
                        let mut all = with.cte_tables.clone();
                        all.append(&mut own.cte_tables);
                        own.cte_tables = all;
                        own.recursive |= with.recursive;
                    }
                    None => source.with = Some(with),
                }
            }
            *stmt = Statement::Insert(ins);
            Ok(())
        }
        SetExpr::Update(inner) | SetExpr::Delete(inner) => {
            let mut inner = inner.clone();
            inline_ctes(&with, &mut inner)?;
            *stmt = inner;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The WITH queries of `with` put where `stmt` (an UPDATE or DELETE)
/// names them, as derived tables: the same rows, since they neither
/// write nor call volatile functions (refused with 0A000 otherwise, as
/// is WITH RECURSIVE).
fn inline_ctes(with: &sqlparser::ast::With, stmt: &mut Statement) -> Result<()> {
    use sqlparser::ast::{TableFactor, VisitMut, VisitorMut};
    if with.recursive {
        return Err(Error::Unsupported(
            "WITH RECURSIVE before UPDATE or DELETE".into(),
        ));
    }
    for cte in &with.cte_tables {
        let mut volatile = None;
        let _ = sqlparser::ast::visit_expressions(&cte.query, |e: &sqlparser::ast::Expr| {
            if let sqlparser::ast::Expr::Function(f) = e {
                let name = f.name.to_string().to_ascii_lowercase();
                if crate::sql::VOLATILE.contains(&name.rsplit('.').next().unwrap_or_default()) {
                    volatile = Some(name);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        if let Some(name) = volatile {
            return Err(Error::Unsupported(format!(
                "a WITH query calling {name}() before UPDATE or DELETE"
            )));
        }
    }
    // Later WITH queries may read earlier ones: inline those first.
    let mut ctes: Vec<(String, sqlparser::ast::Cte)> = Vec::new();
    for cte in &with.cte_tables {
        let mut cte = cte.clone();
        let mut q = Statement::Query(cte.query.clone());
        let mut inline = Inline { ctes: &ctes };
        let _ = VisitMut::visit(&mut q, &mut inline);
        if let Statement::Query(done) = q {
            cte.query = done;
        }
        ctes.push((ident_name(&cte.alias.name), cte));
    }
    struct Inline<'a> {
        ctes: &'a [(String, sqlparser::ast::Cte)],
    }
    impl VisitorMut for Inline<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table { name, alias, .. } = tf else {
                return ControlFlow::Continue(());
            };
            let [part] = name.0.as_slice() else {
                return ControlFlow::Continue(());
            };
            let Some(ident) = part.as_ident() else {
                return ControlFlow::Continue(());
            };
            let key = ident_name(ident);
            let Some((_, cte)) = self.ctes.iter().rev().find(|(n, _)| *n == key) else {
                return ControlFlow::Continue(());
            };
            let mut alias = alias.clone().unwrap_or_else(|| cte.alias.clone());
            if alias.columns.is_empty() {
                alias.columns = cte.alias.columns.clone();
            }
            *tf = TableFactor::Derived {
                lateral: false,
                subquery: cte.query.clone(),
                alias: Some(alias),
                sample: None,
            };
            ControlFlow::Continue(())
        }
    }
    let target = crate::sql::views::write_target(stmt).map(object_name);
    if let Some(t) = target.filter(|t| ctes.iter().any(|(n, _)| n == t)) {
        return Err(Error::Unsupported(format!(
            "a WITH query named as the table \"{t}\" that UPDATE or DELETE changes"
        )));
    }
    let _ = VisitMut::visit(stmt, &mut Inline { ctes: &ctes });
    Ok(())
}
