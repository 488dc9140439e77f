//! FOREIGN KEY enforcement, at the end of each write statement (where
//! `check_unique` runs), in the statement's transaction.
//!
//! DESIGN: one mechanism for both sides. The keys a statement wrote or
//! removed are gathered, and the other table is probed through the
//! session's normal read path (`compile` + the session's connection: the
//! transaction's own writes, the open segment, sealed shards with their
//! tombstones, and every peer that may hold matching rows), a batch of
//! keys per query.
//!
//! - Child side: the rows of the referencing table that carry the
//!   statement's version (every row it inserted or updated is in the open
//!   segment with that version) whose key columns are all non-null must
//!   find their key in the parent (23503 otherwise).
//! - Parent side: before an UPDATE or DELETE of a referenced table, the
//!   old values of the referenced columns of the rows it will change are
//!   read (with, for an UPDATE, the new values its SET computes from the
//!   same rows). After the write, each removed key is handled by the
//!   referencing constraint's action: NO ACTION fails if the key is gone
//!   and still referenced (a statement that deletes and re-creates a key
//!   passes); RESTRICT fails if it is referenced; CASCADE, SET NULL and
//!   SET DEFAULT run as internal DELETE/UPDATE statements through the same
//!   write path, so their own constraints (and further cascades) follow.
//!
//! Across nodes this is as exact as the reads are: see the README for the
//! windows between nodes. On one node writes serialize on the write lock,
//! so the checks see everything committed before them.

use std::collections::HashSet;

use sqlparser::ast::{AssignmentTarget, Expr, FromTable, Statement, TableFactor};

use crate::error::{Error, Result};
use crate::exec::Session;
use crate::sql::ident_name;
use crate::types::foreign::{Action, ForeignKey};
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::{Datum, PgType};

/// How many keys one probe carries.
const KEYS_PER_PROBE: usize = crate::exec::remote::KEYS_PER_PROBE;

/// A referencing row without its parent.
pub(crate) enum Violation {
    /// The key values that are not present in the parent.
    Missing(Vec<Datum>),
    /// MATCH FULL: some but not all of the key columns are null.
    MixedNulls,
}

/// Run a query through the session's read path (see the module doc).
pub(crate) fn read(sess: &mut Session, sql: &str, params: &[Datum]) -> Result<Vec<Vec<Datum>>> {
    let mut stmt = crate::sql::parse(sql)?
        .pop()
        .ok_or_else(|| Error::Internal("empty statement".into()))?;
    // Typed as a client's query is (a CAST of a numeric, …); the
    // parameters, whose types are not told here, stay as they are.
    if params.is_empty() {
        let catalog = sess.catalog();
        let schema = crate::exec::system::SystemSchema(&catalog);
        crate::sql::infer::type_numeric(&mut stmt, &schema, &[])?;
    }
    let run = |sess: &mut Session| -> Result<Vec<Vec<Datum>>> {
        let (sql, _) = crate::exec::query::compile(sess, stmt.clone(), params)?;
        sess.conn.rows(&sql, params)
    };
    crate::exec::remote::again_from_homes(sess, run)
}

/// A value as a key compares: equal values of the types a FOREIGN KEY may
/// join give equal text (numeric by value, character(n) without its
/// trailing spaces).
fn canon(d: &Datum, ty: &PgType) -> String {
    match (d, ty) {
        (Datum::Null, _) => "n".into(),
        (Datum::Int(i), PgType::Numeric(_)) => format!("d{i}"),
        (Datum::Text(t), PgType::Numeric(_)) => match crate::types::numeric::Numeric::parse(t) {
            Ok(n) => {
                let s = n.to_string();
                let s = if s.contains('.') {
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    s
                };
                format!("d{}", if s == "-0" { "0" } else { &s })
            }
            Err(_) => format!("t{t}"),
        },
        (Datum::Int(i), _) => format!("i{i}"),
        (Datum::Real(f), _) => format!("f{}", if *f == 0.0 { 0.0 } else { *f }),
        (Datum::Text(t), PgType::Bpchar(_)) => format!("t{}", t.trim_end_matches(' ')),
        (Datum::Text(t), _) => format!("t{t}"),
        (Datum::Blob(b), _) => format!("b{b:?}"),
    }
}

pub(crate) fn canon_key(values: &[Datum], types: &[&PgType]) -> Vec<String> {
    values.iter().zip(types).map(|(v, t)| canon(v, t)).collect()
}

fn types_of<'a>(def: &'a TableDef, cols: &[usize]) -> Vec<&'a PgType> {
    cols.iter().map(|&c| &def.columns[c].ty).collect()
}

/// The keys among `keys` (values of columns `cols` of `table`) that a
/// live row of `table` holds, as this statement sees the table.
fn present(
    sess: &mut Session,
    table: &TableDef,
    cols: &[usize],
    keys: &[Vec<Datum>],
) -> Result<HashSet<Vec<String>>> {
    let types = types_of(table, cols);
    let names: Vec<String> = cols
        .iter()
        .map(|&c| quote(&table.columns[c].name))
        .collect();
    let mut found = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_PROBE) {
        let (filter, params) = crate::exec::remote::key_filter(table, cols, chunk);
        let sql = format!(
            "SELECT DISTINCT {} FROM {} WHERE {filter}",
            names.join(", "),
            quote(&table.name)
        );
        for row in read(sess, &sql, &params)? {
            found.insert(canon_key(&row, &types));
        }
    }
    Ok(found)
}

/// The parent table of `fk` of `def`, as this session sees it.
fn parent_of(sess: &Session, def: &TableDef, fk: &ForeignKey) -> Result<std::sync::Arc<TableDef>> {
    if fk.parent == def.name {
        return Ok(std::sync::Arc::new(def.clone()));
    }
    let parent = sess
        .catalog()
        .table(&fk.parent)
        .ok_or_else(|| Error::NoSuchTable(fk.parent.clone()))?;
    if parent.is_temp() {
        return Err(Error::Unsupported(format!(
            "FOREIGN KEY checks of \"{}\" while temporary table \"{}\" shadows the table it references",
            def.name, fk.parent
        )));
    }
    Ok(parent)
}

/// Of `rows` (values of the referencing columns of `fk`), the first that
/// has no parent row, in order.
fn first_violation(
    sess: &mut Session,
    fk: &ForeignKey,
    parent: &TableDef,
    rows: Vec<Vec<Datum>>,
) -> Result<Option<Violation>> {
    let Some(ppos) = fk.parent_positions(parent) else {
        return Err(Error::Internal(format!(
            "foreign key {} names a missing column of {}",
            fk.name, parent.name
        )));
    };
    let types = types_of(parent, &ppos);
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    for row in rows {
        let nulls = row.iter().filter(|v| matches!(v, Datum::Null)).count();
        if nulls == row.len() {
            continue;
        }
        if nulls > 0 {
            if fk.match_full {
                return Ok(Some(Violation::MixedNulls));
            }
            continue;
        }
        if seen.insert(canon_key(&row, &types)) {
            keys.push(row);
        }
    }
    if keys.is_empty() {
        return Ok(None);
    }
    let found = present(sess, parent, &ppos, &keys)?;
    Ok(keys
        .into_iter()
        .find(|k| !found.contains(&canon_key(k, &types)))
        .map(Violation::Missing))
}

/// The 23503 error for a referencing row of `def` without its parent.
pub(crate) fn missing_parent(
    def: &TableDef,
    fk: &ForeignKey,
    parent: &TableDef,
    v: &Violation,
) -> Error {
    let e = Error::ForeignKeyViolation(format!(
        "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
        def.rel_name(),
        fk.name
    ));
    match v {
        Violation::MixedNulls => {
            e.with_detail("MATCH FULL does not allow mixing of null and nonnull key values.")
        }
        Violation::Missing(values) => e.with_detail(format!(
            "Key ({})=({}) is not present in table \"{}\".",
            column_names(def, &fk.columns),
            rendered(def, &fk.columns, values),
            parent.rel_name()
        )),
    }
}

fn column_names(def: &TableDef, cols: &[usize]) -> String {
    cols.iter()
        .map(|&c| def.columns[c].name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn rendered(def: &TableDef, cols: &[usize], values: &[Datum]) -> String {
    values
        .iter()
        .zip(cols)
        .map(|(v, &c)| {
            def.columns[c]
                .ty
                .render_text(v)
                .unwrap_or_else(|| "null".into())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Child side: every row of `def` the current statement wrote must find
/// its parent under each FOREIGN KEY of `def`.
pub(crate) fn check_references(sess: &mut Session, def: &TableDef) -> Result<()> {
    if def.foreign_keys.is_empty() {
        return Ok(());
    }
    let ver = sess.stmt_version();
    for fk in &def.foreign_keys {
        let cols: Vec<String> = fk
            .columns
            .iter()
            .map(|&c| quote(&def.columns[c].name))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE _ver = ?1 ORDER BY _key",
            cols.join(", "),
            def.segment()
        );
        let rows = sess.conn.rows(&sql, &[Datum::Int(ver)])?;
        if rows.is_empty() {
            continue;
        }
        let parent = parent_of(sess, def, fk)?;
        if let Some(v) = first_violation(sess, fk, &parent, rows)? {
            return Err(deferred(sess, fk, missing_parent(def, fk, &parent, &v)));
        }
    }
    Ok(())
}

/// ALTER TABLE … ADD FOREIGN KEY: the first row of `def` already there
/// without its parent, if any.
pub(crate) fn orphan(
    sess: &mut Session,
    def: &TableDef,
    fk: &ForeignKey,
    parent: &TableDef,
) -> Result<Option<Violation>> {
    let cols: Vec<String> = fk
        .columns
        .iter()
        .map(|&c| quote(&def.columns[c].name))
        .collect();
    let sql = format!(
        "SELECT DISTINCT {} FROM {}",
        cols.join(", "),
        quote(&def.name)
    );
    let rows = read(sess, &sql, &[])?;
    first_violation(sess, fk, parent, rows)
}

/// The FOREIGN KEYs that reference `table`, with their tables.
fn referencing(sess: &Session, table: &str) -> Vec<(std::sync::Arc<TableDef>, ForeignKey)> {
    let mut out = Vec::new();
    // Nothing references a temporary table (the permanent table it
    // shadows is not the one written).
    if sess.is_temp(table) {
        return out;
    }
    for t in sess.catalog().tables() {
        for fk in t.foreign_keys.iter().filter(|f| f.parent == table) {
            out.push((t.clone(), fk.clone()));
        }
    }
    out
}

/// What an UPDATE or DELETE of a referenced table changes of its keys,
/// read before it runs.
pub(crate) struct Captured {
    /// Referenced columns (positions in the table), in this order in
    /// `rows`.
    cols: Vec<usize>,
    /// Each changed row's old values of `cols`, and for an UPDATE the new
    /// values its SET gives them.
    rows: Vec<(Vec<Datum>, Option<Vec<Datum>>)>,
    update: bool,
}

/// The target table, its alias and the WHERE clause of an UPDATE/DELETE.
fn target(stmt: &Statement) -> Option<(&TableFactor, Option<&Expr>)> {
    match stmt {
        Statement::Update(up) => Some((&up.table.relation, up.selection.as_ref())),
        Statement::Delete(del) => {
            let tables = match &del.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            match tables.as_slice() {
                [twj] => Some((&twj.relation, del.selection.as_ref())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Before an UPDATE or DELETE: when a FOREIGN KEY references its table,
/// read the old (and new) values of the referenced columns of the rows
/// it changes. `None` when nothing needs checking afterwards. An INSERT …
/// ON CONFLICT DO UPDATE that sets a referenced column is refused.
pub(crate) fn capture(
    sess: &mut Session,
    stmt: &Statement,
    params: &[Datum],
) -> Result<Option<Captured>> {
    if let Statement::Insert(ins) = stmt {
        return refuse_upsert_of_key(sess, ins).map(|()| None);
    }
    let Some((factor, cond)) = target(stmt) else {
        return Ok(None);
    };
    let TableFactor::Table { name, alias, .. } = factor else {
        return Ok(None);
    };
    let Some(def) = sess.catalog().table(&crate::sql::object_name(name)) else {
        return Ok(None);
    };
    let refs = referencing(sess, &def.name);
    let mut cols: Vec<usize> = refs
        .iter()
        .filter_map(|(_, fk)| fk.parent_positions(&def))
        .flatten()
        .collect();
    cols.sort_unstable();
    cols.dedup();
    if cols.is_empty() {
        return Ok(None);
    }
    let alias = alias
        .as_ref()
        .map(|a| ident_name(&a.name))
        .unwrap_or_else(|| def.name.clone());
    let column = |c: usize| format!("{}.{}", quote(&alias), quote(&def.columns[c].name));
    let mut items: Vec<String> = cols.iter().map(|&c| column(c)).collect();
    let update = matches!(stmt, Statement::Update(_));
    if let Statement::Update(up) = stmt {
        let mut assigned: Vec<(usize, String)> = Vec::new();
        for a in &up.assignments {
            if let AssignmentTarget::ColumnName(n) = &a.target {
                let col = n.0.last().and_then(|p| p.as_ident()).map(ident_name);
                if let Some(i) = col.and_then(|c| def.column_index(&c)) {
                    assigned.push((i, a.value.to_string()));
                }
            }
        }
        if !assigned.iter().any(|(i, _)| cols.contains(i)) {
            return Ok(None);
        }
        for &c in &cols {
            items.push(match assigned.iter().rev().find(|(i, _)| *i == c) {
                Some((_, e)) => e.clone(),
                None => column(c),
            });
        }
    }
    let sql = format!(
        "SELECT {} FROM {} AS {}{}",
        items.join(", "),
        quote(&def.name),
        quote(&alias),
        cond.map(|c| format!(" WHERE {c}")).unwrap_or_default()
    );
    let n = cols.len();
    let rows = read(sess, &sql, params)?
        .into_iter()
        .map(|mut r| {
            let new = update.then(|| r.split_off(n));
            (r, new)
        })
        .collect();
    Ok(Some(Captured { cols, rows, update }))
}

fn refuse_upsert_of_key(sess: &Session, ins: &sqlparser::ast::Insert) -> Result<()> {
    let Some(sqlparser::ast::OnInsert::OnConflict(oc)) = &ins.on else {
        return Ok(());
    };
    let sqlparser::ast::OnConflictAction::DoUpdate(du) = &oc.action else {
        return Ok(());
    };
    let sqlparser::ast::TableObject::TableName(name) = &ins.table else {
        return Ok(());
    };
    let table = crate::sql::object_name(name);
    let Some(def) = sess.catalog().table(&table) else {
        return Ok(());
    };
    let refs = referencing(sess, &table);
    for a in &du.assignments {
        let AssignmentTarget::ColumnName(n) = &a.target else {
            continue;
        };
        let col = n.0.last().and_then(|p| p.as_ident()).map(ident_name);
        let hit = refs.iter().any(|(_, fk)| {
            col.as_ref()
                .is_some_and(|c| fk.parent_columns.contains(c) && def.column_index(c).is_some())
        });
        if hit {
            return Err(Error::Unsupported(
                "INSERT … ON CONFLICT DO UPDATE of a column a FOREIGN KEY references".into(),
            ));
        }
    }
    Ok(())
}

/// After an UPDATE or DELETE of `def`: each key it removed is handled by
/// the action of every FOREIGN KEY that references it. The checks (NO
/// ACTION, RESTRICT) come first and report what PostgreSQL's triggers
/// would: the first changed row with a violation, and for that row the
/// constraint created first; then the actions run, constraint by
/// constraint.
pub(crate) fn after_parent_write(
    sess: &mut Session,
    def: &TableDef,
    captured: Captured,
) -> Result<()> {
    let mut refs = referencing(sess, &def.name);
    refs.sort_by_key(|(t, _)| t.oid);
    let mut actions = Vec::new();
    let mut first: Option<(usize, Error)> = None;
    for (child, fk) in refs {
        let Some((rows, removed)) = removed_keys(def, &fk, &captured) else {
            continue;
        };
        let action = if captured.update {
            fk.on_update
        } else {
            fk.on_delete
        };
        if !matches!(action, Action::NoAction | Action::Restrict) {
            actions.push((child, fk, action, removed));
            continue;
        }
        let old = removed.into_iter().map(|(o, _)| o).collect();
        if let Some((i, e)) = still_referenced(sess, def, &child, &fk, action, old)? {
            let e = match action {
                Action::NoAction => deferred(sess, &fk, e),
                _ => e,
            };
            if first.as_ref().is_none_or(|(row, _)| rows[i] < *row) {
                first = Some((rows[i], e));
            }
        }
    }
    if let Some((_, e)) = first {
        return Err(e);
    }
    for (child, fk, action, removed) in actions {
        super::cascade::apply(sess, def, &child, &fk, action, removed)?;
    }
    Ok(())
}

/// A removed key of `def` and, for an UPDATE, its new value.
pub(crate) type Removed = (Vec<Datum>, Option<Vec<Datum>>);

/// The keys of `fk`'s referenced columns the captured rows removed (an
/// UPDATE that keeps a key removes nothing; a key with a NULL is never
/// referenced), each once, with the index of its first row.
fn removed_keys(
    def: &TableDef,
    fk: &ForeignKey,
    captured: &Captured,
) -> Option<(Vec<usize>, Vec<Removed>)> {
    let ppos = fk.parent_positions(def)?;
    let at: Vec<usize> = ppos
        .iter()
        .filter_map(|p| captured.cols.iter().position(|c| c == p))
        .collect();
    let types = types_of(def, &ppos);
    let mut seen = HashSet::new();
    let (mut rows, mut removed) = (Vec::new(), Vec::new());
    for (n, (old, new)) in captured.rows.iter().enumerate() {
        let old: Vec<Datum> = at.iter().map(|&i| old[i].clone()).collect();
        if old.iter().any(|v| matches!(v, Datum::Null)) {
            continue;
        }
        let new: Option<Vec<Datum>> = new
            .as_ref()
            .map(|n| at.iter().map(|&i| n[i].clone()).collect());
        let key = canon_key(&old, &types);
        if new.as_ref().is_some_and(|n| canon_key(n, &types) == key) {
            continue;
        }
        if seen.insert(key) {
            rows.push(n);
            removed.push((old, new));
        }
    }
    (!removed.is_empty()).then_some((rows, removed))
}

/// NO ACTION / RESTRICT: fail if one of `removed` (old keys of `def`,
/// values of `fk`'s referenced columns) is still referenced by `child`
/// (for NO ACTION, only those no row of `def` holds any more).
pub(crate) fn check_still_referenced(
    sess: &mut Session,
    def: &TableDef,
    child: &TableDef,
    fk: &ForeignKey,
    action: Action,
    removed: Vec<Vec<Datum>>,
) -> Result<()> {
    match still_referenced(sess, def, child, fk, action, removed)? {
        Some((_, e)) if action == Action::NoAction => Err(deferred(sess, fk, e)),
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// `SET CONSTRAINTS { ALL | names } { DEFERRED | IMMEDIATE }`: outside a
/// block PostgreSQL warns and changes nothing, after checking the names
/// (42704 for one no FOREIGN KEY has; 42809 for deferring one that is
/// not DEFERRABLE).
pub(crate) fn set_constraints(
    sess: &mut Session,
    deferred: bool,
    names: Option<&[String]>,
) -> Result<crate::exec::Outcome> {
    let in_block = sess.txn == crate::exec::TxnState::InBlock;
    if !in_block {
        sess.shared.warn_with(
            "25P01",
            "SET CONSTRAINTS can only be used in transaction blocks".into(),
        );
    }
    let Some(names) = names else {
        if in_block {
            sess.constraints_deferred = Some(deferred);
            sess.constraints_named.clear();
        }
        return Ok(crate::exec::Outcome::Command("SET CONSTRAINTS".into()));
    };
    let tables = sess.catalog().tables();
    for name in names {
        let fk = (tables.iter())
            .flat_map(|t| t.foreign_keys.iter())
            .find(|f| &f.name == name);
        match fk {
            None => {
                return Err(Error::NoSuchObject(format!(
                    "constraint \"{name}\" does not exist"
                )))
            }
            Some(f) if deferred && !f.deferrable => {
                return Err(Error::WrongObjectType(format!(
                    "constraint \"{name}\" is not deferrable"
                )))
            }
            Some(_) => {}
        }
    }
    if in_block {
        for name in names {
            sess.constraints_named.insert(name.clone(), deferred);
        }
    }
    Ok(crate::exec::Outcome::Command("SET CONSTRAINTS".into()))
}

/// A violation of a constraint that is deferred (INITIALLY DEFERRED, or
/// after SET CONSTRAINTS ALL DEFERRED) inside a transaction block, where
/// PostgreSQL would let a later statement mend it before COMMIT: checks
/// run at every statement here, so the statement is refused by name
/// (0A000) rather than failed with the violation. Outside a block the
/// statement is its own transaction and fails as PostgreSQL's COMMIT does.
fn deferred(sess: &Session, fk: &ForeignKey, e: Error) -> Error {
    let is_deferred = fk.deferrable
        && (sess.constraints_named.get(&fk.name).copied())
            .or(sess.constraints_deferred)
            .unwrap_or(fk.initially_deferred);
    if !is_deferred || sess.txn != crate::exec::TxnState::InBlock {
        return e;
    }
    Error::Unsupported(format!(
        "deferring foreign key constraint \"{}\" to COMMIT (this statement violates it now: {e})",
        fk.name
    ))
}

/// The first of `removed` still referenced (see `check_still_referenced`):
/// its index and its error.
fn still_referenced(
    sess: &mut Session,
    def: &TableDef,
    child: &TableDef,
    fk: &ForeignKey,
    action: Action,
    removed: Vec<Vec<Datum>>,
) -> Result<Option<(usize, Error)>> {
    let Some(ppos) = fk.parent_positions(def) else {
        return Ok(None);
    };
    let types = types_of(def, &ppos);
    let mut gone: Vec<(usize, Vec<Datum>)> = removed.into_iter().enumerate().collect();
    if action == Action::NoAction {
        let keys: Vec<Vec<Datum>> = gone.iter().map(|(_, k)| k.clone()).collect();
        let still = present(sess, def, &ppos, &keys)?;
        gone.retain(|(_, k)| !still.contains(&canon_key(k, &types)));
    }
    if gone.is_empty() {
        return Ok(None);
    }
    let ctypes = types_of(child, &fk.columns);
    let keys: Vec<Vec<Datum>> = gone.iter().map(|(_, k)| k.clone()).collect();
    let referenced = present(sess, child, &fk.columns, &keys)?;
    let Some((i, values)) = gone
        .into_iter()
        .find(|(_, k)| referenced.contains(&canon_key(k, &ctypes)))
    else {
        return Ok(None);
    };
    let e = Error::ForeignKeyViolation(format!(
        "update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
        def.rel_name(),
        fk.name,
        child.rel_name()
    ))
    .with_detail(format!(
        "Key ({})=({}) is still referenced from table \"{}\".",
        column_names(def, &ppos),
        rendered(def, &ppos, &values),
        child.rel_name()
    ));
    Ok(Some((i, e)))
}
