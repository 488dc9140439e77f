//! Temporary tables (CREATE TEMP TABLE): a session's own.
//!
//! DESIGN: a temporary table's definition lives with its session, never in
//! the shared catalog (`Session::temps`, and the open block's changes to
//! them in `Block::temps`); the session reads the catalog through a
//! `View` that puts them over every other relation (PostgreSQL's
//! `pg_temp` comes first in the search path). Its rows live in the
//! `temp` schema of the session's own SQLite connection, in the shape of
//! an open segment (`TableDef::segment`), so reads and writes take their
//! usual paths: it has no shards and no peer holds rows of it, so every
//! statement touching it runs on the session's connection, and the
//! connection's end (also an abrupt one) takes the rows with it. CREATE
//! and DROP are part of the session's SQLite transaction, so ROLLBACK
//! (to a savepoint too) undoes them there as `Block` undoes them here.
//!
//! Everything else a temporary table would need (ALTER TABLE, indexes,
//! foreign keys, views, sequences of serial columns) is refused by name.

use std::ops::ControlFlow;

use sqlparser::ast::{
    ColumnOption, CreateTable, ObjectName, ObjectNamePart, Statement, TableConstraint, TableFactor,
    VisitMut, VisitorMut,
};

use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::object_name;
use crate::store::catalog::Temps;
use crate::types::table::{OnCommit, TableDef};

/// The ON COMMIT action of a CREATE TEMP TABLE.
pub(super) fn on_commit(ct: Option<sqlparser::ast::OnCommit>) -> OnCommit {
    match ct {
        Some(sqlparser::ast::OnCommit::DeleteRows) => OnCommit::DeleteRows,
        Some(sqlparser::ast::OnCommit::Drop) => OnCommit::Drop,
        _ => OnCommit::PreserveRows,
    }
}

/// `CREATE TEMP TABLE name (…)`.
pub(super) fn create(sess: &mut Session, ct: &CreateTable) -> Result<Outcome> {
    let name = object_name(&ct.name);
    if name.contains('.') {
        return Err(Error::Unsupported(format!(
            "schema-qualified temporary table {name}"
        )));
    }
    if sess.is_temp(&name) {
        if ct.if_not_exists {
            super::existing_skipped(sess, &name);
            return Ok(Outcome::Command("CREATE TABLE".into()));
        }
        return Err(Error::TableExists(name));
    }
    refuse_references(ct)?;
    let mut plain = ct.clone();
    plain.temporary = false;
    plain.on_commit = None;
    let mut def = crate::sql::ddl::create_table(&plain, sess.store.next_oid()?)?;
    def.temp = Some(on_commit(ct.on_commit));
    install(sess, def)?;
    Ok(Outcome::Command("CREATE TABLE".into()))
}

/// Foreign keys from a temporary table are not built.
fn refuse_references(ct: &CreateTable) -> Result<()> {
    let column_fk = ct.columns.iter().any(|c| {
        c.options
            .iter()
            .any(|o| matches!(o.option, ColumnOption::ForeignKey(_)))
    });
    let table_fk = ct
        .constraints
        .iter()
        .any(|c| matches!(c, TableConstraint::ForeignKey(_)));
    if column_fk || table_fk {
        return Err(Error::Unsupported(
            "foreign keys of temporary tables".into(),
        ));
    }
    Ok(())
}

/// Make `def` (a temporary table) exist for this session: its rows' table
/// in the connection's `temp` schema, in the open transaction.
pub(super) fn install(sess: &mut Session, def: TableDef) -> Result<()> {
    for col in &def.columns {
        if col.identity.is_some() {
            return Err(Error::Unsupported(
                "identity columns in temporary tables".into(),
            ));
        }
        if col
            .default
            .as_deref()
            .and_then(crate::types::table::sequence_name)
            .is_some()
        {
            return Err(Error::Unsupported(
                "serial columns in temporary tables".into(),
            ));
        }
        if let Some(d) = &col.default {
            if d.to_lowercase().contains("nextval") {
                return Err(Error::Unsupported(
                    "sequences in temporary tables' defaults".into(),
                ));
            }
        }
    }
    sess.conn.create_segment(&def)?;
    let mut temps = sess.temps_now().clone();
    temps.insert(def.name.clone(), std::sync::Arc::new(def));
    set(sess, temps);
    Ok(())
}

/// The open block's temporary tables are now `temps`.
fn set(sess: &mut Session, temps: Temps) {
    sess.ddl.temps = Some(temps);
    sess.store.catalog.touch();
}

/// DROP TABLE: drop the temporary tables among `names`; the names left are
/// permanent tables (or do not exist).
pub(super) fn drop(sess: &mut Session, names: &[ObjectName]) -> Result<Vec<ObjectName>> {
    let mut rest = Vec::new();
    let mut temps = sess.temps_now().clone();
    for n in names {
        let name = object_name(n);
        let short = name.strip_prefix("pg_temp.").unwrap_or(&name);
        match temps.remove(short) {
            Some(def) => sess
                .conn
                .batch(&format!("DROP TABLE IF EXISTS {}", def.segment()))?,
            None => rest.push(n.clone()),
        }
    }
    if rest.len() != names.len() {
        set(sess, temps);
    }
    Ok(rest)
}

/// Whether TRUNCATE names a temporary table. Together with permanent
/// tables it is refused.
pub fn truncates_temp(sess: &Session, t: &sqlparser::ast::Truncate) -> Result<bool> {
    let names: Vec<String> = t.table_names.iter().map(|n| object_name(&n.name)).collect();
    let temp = names.iter().filter(|n| sess.is_temp(n)).count();
    if temp > 0 && temp < names.len() {
        return Err(Error::Unsupported(
            "TRUNCATE of temporary and permanent tables together".into(),
        ));
    }
    Ok(temp > 0)
}

/// TRUNCATE of temporary tables: their rows go, in the open transaction.
pub fn truncate(sess: &mut Session, t: &sqlparser::ast::Truncate) -> Result<Outcome> {
    for n in &t.table_names {
        if let Some(def) = sess.catalog().table(&object_name(&n.name)) {
            sess.conn.batch(&format!("DELETE FROM {}", def.segment()))?;
        }
    }
    Ok(Outcome::Command("TRUNCATE TABLE".into()))
}

/// What a statement other than CREATE TEMP TABLE and DROP TABLE may not do
/// to a temporary table: refused by name, before anything happens (never
/// to a permanent table of the same name).
pub(super) fn refuse(sess: &Session, stmt: &Statement) -> Result<()> {
    if sess.temps_now().is_empty() {
        return Ok(());
    }
    let mut named: Vec<String> = crate::plan::relations(stmt);
    let what = match stmt {
        Statement::AlterTable(at) => {
            named.push(object_name(&at.name));
            "ALTER TABLE of temporary table"
        }
        Statement::CreateIndex(ci) => {
            named.push(object_name(&ci.table_name));
            "CREATE INDEX on temporary table"
        }
        Statement::Comment { object_name: n, .. } => {
            let full = object_name(n);
            named.push(full.split('.').next().unwrap_or_default().to_string());
            named.push(full);
            "COMMENT on temporary table"
        }
        // SELECT … INTO reads temporary tables as any query does.
        Statement::Query(_) => return Ok(()),
        Statement::CreateView(_) => "views over temporary table",
        Statement::AlterView(_) => "ALTER VIEW of temporary table",
        Statement::CreateTable(ct) => {
            let own = object_name(&ct.name);
            if sess.is_temp(&own) && !ct.temporary {
                return Err(Error::Unsupported(format!(
                    "creating permanent table \"{own}\" while a temporary table of that name exists"
                )));
            }
            let mut targets = Vec::new();
            for c in &ct.constraints {
                if let TableConstraint::ForeignKey(fk) = c {
                    targets.push(object_name(&fk.foreign_table));
                }
            }
            for c in ct.columns.iter().flat_map(|c| &c.options) {
                if let ColumnOption::ForeignKey(fk) = &c.option {
                    targets.push(object_name(&fk.foreign_table));
                }
            }
            // CREATE TABLE … AS reads temporary tables as any query does.
            named = targets;
            "foreign keys referencing temporary table"
        }
        _ => "this statement on temporary table",
    };
    match named.iter().find(|n| sess.is_temp(n)) {
        Some(n) => Err(Error::Unsupported(format!("{what} \"{n}\""))),
        None => Ok(()),
    }
}

/// Resolve the names `stmt` gives relations while this session has
/// temporary tables, before it is prepared: `pg_temp.t` names the
/// temporary `t` (and becomes `t`, which the session's connection
/// resolves to its temporary table first); `public.t` while a temporary
/// `t` shadows it names the permanent table, read through the internal
/// qualifier `mosaic_public`, which only the session's catalog view
/// reads (a user's own `mosaic_public.x` is refused: no such schema).
/// Writing such a shadowed permanent table is refused.
pub fn resolve_names(temps: &Temps, stmt: &mut Statement) -> Result<()> {
    if temps.is_empty() {
        return Ok(());
    }
    if let Some(target) = write_target(stmt) {
        let parts = parts(target);
        if let [schema, table] = parts.as_slice() {
            if schema == "public" && temps.contains_key(table) {
                return Err(Error::Unsupported(format!(
                    "writing permanent table public.{table} while temporary table {table} shadows it"
                )));
            }
        }
    }
    if let Statement::Copy {
        source: sqlparser::ast::CopySource::Table { table_name, .. },
        ..
    } = stmt
    {
        if let [schema, table] = parts(table_name).as_slice() {
            if schema == "pg_temp" && temps.contains_key(table) {
                table_name.0.remove(0);
            }
        }
    }
    let mut names = Names { temps, err: None };
    let _ = stmt.visit(&mut names);
    names.err.map_or(Ok(()), Err)
}

fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| p.as_ident().map(crate::sql::ident_name))
        .collect()
}

/// The table an INSERT, UPDATE, DELETE or COPY writes (COPY TO too: it
/// names no table through the visitor).
fn write_target(stmt: &Statement) -> Option<&ObjectName> {
    match stmt {
        Statement::Insert(i) => match &i.table {
            sqlparser::ast::TableObject::TableName(n) => Some(n),
            _ => None,
        },
        Statement::Update(u) => match &u.table.relation {
            TableFactor::Table { name, .. } => Some(name),
            _ => None,
        },
        Statement::Delete(d) => match &d.from {
            sqlparser::ast::FromTable::WithFromKeyword(t)
            | sqlparser::ast::FromTable::WithoutKeyword(t) => {
                match t.first().map(|t| &t.relation) {
                    Some(TableFactor::Table { name, .. }) => Some(name),
                    _ => None,
                }
            }
        },
        Statement::Copy {
            source: sqlparser::ast::CopySource::Table { table_name, .. },
            ..
        } => Some(table_name),
        _ => None,
    }
}

/// The qualifier `public.t` takes while a temporary `t` shadows it
/// (`store::catalog::View` resolves it to the permanent table).
const SHADOWED: &str = crate::store::catalog::SHADOWED_SCHEMA;

struct Names<'a> {
    temps: &'a Temps,
    err: Option<Error>,
}

impl Names<'_> {
    /// The table `public.t` names when a temporary `t` shadows it.
    fn shadowed(&self, name: &ObjectName) -> Option<String> {
        match parts(name).as_slice() {
            [schema, table] if schema == "public" && self.temps.contains_key(table) => {
                Some(table.clone())
            }
            _ => None,
        }
    }
}

impl VisitorMut for Names<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<()> {
        // `public.t` keeps answering to `t.col`, as in PostgreSQL.
        if let TableFactor::Table { name, alias, .. } = f {
            if let (Some(table), None) = (self.shadowed(name), alias.as_ref()) {
                *alias = Some(sqlparser::ast::TableAlias {
                    explicit: true,
                    name: sqlparser::ast::Ident::with_quote('"', table),
                    columns: vec![],
                    at: None,
                });
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
        let parts = parts(name);
        let [schema, table] = parts.as_slice() else {
            return ControlFlow::Continue(());
        };
        match schema.as_str() {
            "pg_temp" if self.temps.contains_key(table) => {
                name.0.remove(0);
            }
            "public" if self.temps.contains_key(table) => {
                name.0[0] = ObjectNamePart::Identifier(sqlparser::ast::Ident::new(SHADOWED));
            }
            SHADOWED => {
                self.err = Some(Error::NoSuchTable(format!("{SHADOWED}.{table}")));
                return ControlFlow::Break(());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// After a COMMIT: ON COMMIT DELETE ROWS tables are emptied, ON COMMIT
/// DROP ones dropped (they never outlive their creating transaction).
pub fn after_commit(sess: &mut Session) {
    let temps = sess.temps.clone();
    let mut dropped = false;
    for (name, def) in &temps {
        let sql = match def.temp {
            Some(OnCommit::DeleteRows) => format!("DELETE FROM {}", def.segment()),
            Some(OnCommit::Drop) => {
                sess.temps.remove(name);
                dropped = true;
                format!("DROP TABLE IF EXISTS {}", def.segment())
            }
            _ => continue,
        };
        if let Err(e) = sess.conn.batch(&sql) {
            tracing::warn!(table = %name, error = %e, "ON COMMIT action on a temporary table failed");
        }
    }
    if dropped {
        sess.store.catalog.touch();
    }
}

/// DISCARD ALL / DISCARD TEMP: every temporary table goes.
pub fn discard(sess: &mut Session) {
    let temps = std::mem::take(&mut sess.temps);
    for def in temps.values() {
        let _ = sess
            .conn
            .batch(&format!("DROP TABLE IF EXISTS {}", def.segment()));
    }
    if !temps.is_empty() {
        sess.store.catalog.touch();
    }
}
