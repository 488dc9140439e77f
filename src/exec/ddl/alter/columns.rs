//! ALTER TABLE on columns: ADD COLUMN, RENAME COLUMN, DROP COLUMN, and
//! the checks of SET NOT NULL.

use std::ops::ControlFlow;

use sqlparser::ast::ColumnDef;

use super::{existing_rows, no_column};
use crate::error::{Error, Result};
use crate::exec::ddl::{foreign, record, sequence, view};
use crate::exec::Session;
use crate::sql::ddl;
use crate::types::table::{Column, TableDef};
use crate::types::{quote, PgType};

/// `ADD [COLUMN] [IF NOT EXISTS] c type …`.
pub(super) fn add(
    sess: &mut Session,
    def: &mut TableDef,
    column_def: &ColumnDef,
    if_not_exists: bool,
) -> Result<()> {
    let (mut col, pk, uq) = ddl::column(&def.name, column_def)?;
    if def.column_index(&col.name).is_some() {
        if if_not_exists {
            sess.notice(
                "42701",
                format!(
                    "column \"{}\" of relation \"{}\" already exists, skipping",
                    col.name, def.name
                ),
            );
            return Ok(());
        }
        return Err(Error::ColumnExists(format!(
            "column \"{}\" of relation \"{}\" already exists",
            col.name, def.name
        )));
    }
    if def.name_taken_in_storage(&col.name) {
        return Err(retired_name(def, &col.name));
    }
    if pk.is_some() || uq.is_some() {
        return Err(Error::Unsupported(
            "ADD COLUMN with a key constraint".into(),
        ));
    }
    let serial = col
        .default
        .as_deref()
        .and_then(crate::types::table::sequence_name)
        .is_some();
    if serial && has_rows(sess, def)? {
        return Err(Error::Unsupported(
            "ADD COLUMN with a serial or identity column to a table that has rows".into(),
        ));
    }
    if let Some(d) = col.domain.clone() {
        if col.generated.is_none() && has_rows(sess, def)? {
            let value = col.effective_default().unwrap_or("NULL").to_string();
            crate::exec::ddl::domain::check_value(sess, &d, &value)?;
        }
    }
    if col.not_null && col.default.is_none() && col.generated.is_none() && has_rows(sess, def)? {
        return Err(Error::NotNullViolation(format!(
            "column \"{}\" of relation \"{}\" contains null values",
            col.name, def.name
        )));
    }
    let checks = ddl::column_checks(column_def);
    if !checks.is_empty() {
        return Err(Error::Unsupported(
            "ADD COLUMN with a CHECK constraint (add the column, then the constraint)".into(),
        ));
    }
    // A volatile default gives each row already there its own value, as
    // in PostgreSQL: the column is added empty for them (the open segment
    // rebuilt with the default for new rows), then `fill_volatile` sets it
    // through UPDATE … SET c = DEFAULT and makes it NOT NULL if asked. So
    // does a generated column, which the UPDATE computes.
    if fills(&col) {
        col.missing = Some("NULL".into());
        col.not_null = false;
        def.columns.push(col);
        return Ok(());
    }
    // What the rows already there read, whatever SET DEFAULT does later.
    // A default that is not a constant (now(), CURRENT_TIMESTAMP) is
    // evaluated once, here, and every row already there reads that one
    // value, as in PostgreSQL; the open segment is then rebuilt (SQLite
    // adds no column with such a default) and gives its rows that value.
    let frozen = match col.effective_default() {
        Some(d) if !serial && !is_constant(d)? => Some(evaluate_default(sess, d, &col.ty)?),
        _ => None,
    };
    col.missing = Some(
        frozen
            .clone()
            .or_else(|| col.effective_default().map(str::to_string))
            .unwrap_or_else(|| "NULL".into()),
    );
    if frozen.is_none() {
        sess.conn.add_column(&def.name, &col)?;
    }
    def.columns.push(col);
    Ok(())
}

/// Whether an added column's default gives each row its own value (not
/// a serial's own sequence, which only tables without rows may add).
fn fills(col: &Column) -> bool {
    col.generated.is_some()
        || (col.effective_default())
            .is_some_and(|d| volatile(d) && crate::types::table::sequence_name(d).is_none())
}

/// After ALTER TABLE `name` … ADD COLUMN with a volatile default (`add`):
/// every row already there gets its own value of it, through the UPDATE
/// path (rows on other nodes and in sealed shards too, in this
/// transaction), then the column is NOT NULL if it was declared so.
pub(super) fn fill_volatile(sess: &mut Session, name: &str, column_def: &ColumnDef) -> Result<()> {
    let (col, _, _) = ddl::column(name, column_def)?;
    if !fills(&col) {
        return Ok(());
    }
    let Some(def) = sess.catalog().table(name) else {
        return Ok(());
    };
    // Every row, those written earlier in this transaction too (a read of
    // the table may not see them yet), so the UPDATE runs whatever rows
    // there seem to be.
    let sql = format!("UPDATE {} SET {} = DEFAULT", quote(name), quote(&col.name));
    let Some(stmt) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("UPDATE did not parse".into()));
    };
    crate::exec::ddl::write(sess, stmt)?;
    if !col.not_null {
        return Ok(());
    }
    let mut new = (*def).clone();
    let Some(i) = new.column_index(&col.name) else {
        return Ok(());
    };
    new.columns[i].not_null = true;
    // The UPDATE wrote every row's new version into this node's open
    // segment, whose rebuild as NOT NULL checks them all.
    if crate::store::segment::needs_rebuild(&def, &new) {
        sess.conn.rebuild_segment(&def, &new).map_err(|e| match e {
            Error::NotNullViolation(_) => Error::NotNullViolation(format!(
                "column \"{}\" of relation \"{name}\" contains null values",
                col.name
            )),
            e => e,
        })?;
    }
    record(sess, name, Some(new))
}

/// Whether a default expression is a constant: it calls no function
/// (CURRENT_TIMESTAMP parses as one) and reads no subquery.
fn is_constant(default: &str) -> Result<bool> {
    let e = crate::sql::parse_expr(default)?;
    let found = sqlparser::ast::visit_expressions(&e, |e| match e {
        sqlparser::ast::Expr::Function(_) | sqlparser::ast::Expr::Subquery(_) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    Ok(found.is_continue())
}

/// The value `default` gives now, in this statement's transaction, as a
/// constant of type `ty` (PostgreSQL SQL text), evaluated as an insert
/// would evaluate it.
fn evaluate_default(sess: &mut Session, default: &str, ty: &PgType) -> Result<String> {
    let sql = format!("SELECT {}", crate::sql::default_to_sqlite(default, ty)?);
    let mut value = None;
    sess.conn.query(&sql, &[], &mut |row| {
        value = row.into_iter().next();
        Ok(())
    })?;
    Ok(match value.and_then(|v| ty.render_text(&v)) {
        // Stored as an insert stores it (too long for varchar(n): 22001).
        Some(text) => format!(
            "{}::{}",
            crate::types::shard::literal(&ty.render_text(&ty.parse_text(&text)?).unwrap_or(text)),
            ty.display_name()
        ),
        None => "NULL".into(),
    })
}

/// 0A000 for a column name that older shards may hold another column by.
fn retired_name(def: &TableDef, name: &str) -> Error {
    Error::Unsupported(format!(
        "a column named \"{name}\" in \"{}\", which had a dropped or renamed column of that name \
         (its values stay in sealed shards)",
        def.name
    ))
}

/// Before SET/DROP DEFAULT: rows stored before the column existed keep
/// reading the value they read until now.
pub(in crate::exec::ddl) fn keep_missing(col: &mut Column) {
    if col.missing.is_none() {
        col.missing = Some(col.missing_value().unwrap_or("NULL").to_string());
    }
}

/// SET NOT NULL (and ADD PRIMARY KEY): no row on any node may hold a NULL
/// in column `i` (23502).
pub(super) fn check_no_nulls(sess: &mut Session, def: &TableDef, i: usize) -> Result<()> {
    let col = &def.columns[i].name;
    let sql = format!(
        "SELECT 1 FROM {} WHERE {} IS NULL LIMIT 1",
        quote(&def.name),
        quote(col)
    );
    if existing_rows(sess, &def.name, &[col], &sql)?.is_empty() {
        return Ok(());
    }
    Err(Error::NotNullViolation(format!(
        "column \"{col}\" of relation \"{}\" contains null values",
        def.name
    )))
}

/// `RENAME [COLUMN] old TO new`. Shards sealed before keep the column
/// under its former name, where reads find it. A view that reads the table
/// keeps its text, so the rename is refused while one exists.
pub(super) fn rename(sess: &mut Session, def: &mut TableDef, old: &str, new: &str) -> Result<()> {
    let Some(i) = def.column_index(old) else {
        return Err(Error::NoSuchColumn(old.to_string()));
    };
    if def.column_index(new).is_some() {
        return Err(Error::ColumnExists(format!(
            "column \"{new}\" of relation \"{}\" already exists",
            def.name
        )));
    }
    let others_held = def.altered.retired.iter().any(|r| r == new)
        || def
            .columns
            .iter()
            .enumerate()
            .any(|(j, c)| j != i && c.former_names.iter().any(|f| f == new));
    if others_held {
        return Err(retired_name(def, new));
    }
    if let Some(v) = view::dependents(sess, std::slice::from_ref(&def.name), true)?.first() {
        return Err(Error::Unsupported(format!(
            "RENAME COLUMN of \"{}\", which view \"{v}\" reads",
            def.name
        )));
    }
    freeze_names(def);
    let mut checks = Vec::new();
    for c in &def.checks {
        checks.push(rename_in_expr(c, old, new)?);
    }
    def.checks = checks;
    for g in def.columns.iter_mut().filter_map(|c| c.generated.as_mut()) {
        *g = rename_in_expr(g, old, new)?;
    }
    for ix in &mut def.indexes {
        for c in ix.columns.iter_mut().chain(ix.include.iter_mut()) {
            if c == old {
                *c = new.to_string();
            }
        }
        for e in ix.exprs.iter_mut().flatten().chain(ix.predicate.iter_mut()) {
            *e = rename_in_expr(e, old, new)?;
        }
    }
    let table = def.name.clone();
    let rename_parent = |fk: &mut crate::types::foreign::ForeignKey| {
        if fk.parent == table {
            for c in &mut fk.parent_columns {
                if c == old {
                    *c = new.to_string();
                }
            }
        }
    };
    def.foreign_keys.iter_mut().for_each(rename_parent);
    for t in sess.catalog().tables() {
        if t.name != def.name && t.foreign_keys.iter().any(|f| f.parent == def.name) {
            let mut child = (*t).clone();
            child.foreign_keys.iter_mut().for_each(rename_parent);
            if child != *t {
                record(sess, &t.name, Some(child))?;
            }
        }
    }
    def.freeze_sequence_owners();
    let col = &mut def.columns[i];
    if let Some(s) = col.sequence.as_mut() {
        if let Some((_, c)) = s.owned_by.as_mut().filter(|(t, _)| *t == table) {
            *c = new.to_string();
        }
    }
    col.former_names.retain(|f| f != new);
    col.former_names.push(old.to_string());
    col.name = new.to_string();
    Ok(())
}

/// Give every constraint whose name PostgreSQL derived from column names
/// (or from its place among the CHECKs) that name for good: PostgreSQL
/// names a constraint once, when it is made.
pub(in crate::exec::ddl) fn freeze_names(def: &mut TableDef) {
    def.altered.check_names = def.check_constraint_names().into_iter().map(Some).collect();
    let names: Vec<String> = def.unique.iter().map(|u| u.constraint_name(def)).collect();
    for (u, n) in def.unique.iter_mut().zip(names) {
        u.name = Some(n);
    }
}

/// A CHECK expression's text with column `old` named `new`.
fn rename_in_expr(text: &str, old: &str, new: &str) -> Result<String> {
    let mut e = crate::sql::parse_expr(text)?;
    let _ = sqlparser::ast::visit_expressions_mut(&mut e, |e| {
        if let sqlparser::ast::Expr::Identifier(id) = e {
            if crate::sql::ident_name(id) == old {
                *id = sqlparser::ast::Ident::new(new);
                if new
                    .chars()
                    .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                {
                    id.quote_style = Some('"');
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(e.to_string())
}

/// `DROP [COLUMN] [IF EXISTS] c [CASCADE]`. Keys, indexes, CHECKs and
/// FOREIGN KEYs of this table that involve the column go with it, as in
/// PostgreSQL; another table's FOREIGN KEY referencing it needs CASCADE
/// (2BP01), and a view reading the table is refused (0A000: which columns
/// a view reads is not recorded). Sealed shards keep the values; the name
/// is retired so that no later column reads them.
pub(super) fn drop(
    sess: &mut Session,
    def: &mut TableDef,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<()> {
    if def.column_index(name).is_none() {
        if if_exists {
            sess.notice(
                "00000",
                format!(
                    "column \"{name}\" of relation \"{}\" does not exist, skipping",
                    def.name
                ),
            );
            return Ok(());
        }
        return Err(no_column(def, name));
    }
    if let Some(v) = view::dependents(sess, std::slice::from_ref(&def.name), true)?.first() {
        return Err(Error::Unsupported(format!(
            "DROP COLUMN of \"{}\", which view \"{v}\" reads",
            def.name
        )));
    }
    drop_generated_readers(sess, def, name, cascade)?;
    let Some(i) = def.column_index(name) else {
        return Err(no_column(def, name));
    };
    foreign::drop_referenced_column(sess, def, name, cascade)?;
    if def.columns.len() == 1 {
        return Err(Error::Unsupported("tables without columns".into()));
    }
    freeze_names(def);
    let (mut checks, mut names) = (Vec::new(), Vec::new());
    for (c, n) in def.checks.iter().zip(&def.altered.check_names) {
        if !mentions(c, name)? {
            checks.push(c.clone());
            names.push(n.clone());
        }
    }
    (def.checks, def.altered.check_names) = (checks, names);
    def.indexes.retain(|ix| {
        !ix.columns.iter().chain(&ix.include).any(|c| c == name)
            && !ix
                .exprs
                .iter()
                .flatten()
                .chain(&ix.predicate)
                .any(|e| crate::sql::index_expr::mentions(e, name))
    });
    if def.primary_key.contains(&i) {
        def.primary_key.clear();
        def.altered.pk_name = None;
    }
    def.unique.retain(|u| !u.columns.contains(&i));
    def.foreign_keys.retain(|f| !f.columns.contains(&i));
    let shift = |k: &mut usize| {
        if *k > i {
            *k -= 1;
        }
    };
    def.primary_key.iter_mut().for_each(shift);
    def.unique
        .iter_mut()
        .for_each(|u| u.columns.iter_mut().for_each(shift));
    def.foreign_keys
        .iter_mut()
        .for_each(|f| f.columns.iter_mut().for_each(shift));
    let col = def.columns.remove(i);
    if let Some(seq) = col
        .default
        .as_deref()
        .and_then(crate::types::table::sequence_name)
    {
        sess.ddl.forget_sequences.push(seq);
    }
    for seq in sequence::owned_by_column(sess, &def.name, name) {
        record(sess, &seq, None)?;
        sess.ddl.forget_sequences.push(seq);
    }
    def.altered
        .retired
        .extend(col.storage_names().map(str::to_string));
    Ok(())
}

/// The generated columns that read column `name` go with it under
/// CASCADE (with PostgreSQL's NOTICE); without it the drop fails (2BP01).
fn drop_generated_readers(
    sess: &mut Session,
    def: &mut TableDef,
    name: &str,
    cascade: bool,
) -> Result<()> {
    let readers: Vec<String> = (def.columns.iter())
        .filter(|c| c.name != name)
        .filter(|c| {
            (c.generated.as_deref()).is_some_and(|g| crate::sql::index_expr::mentions(g, name))
        })
        .map(|c| c.name.clone())
        .collect();
    if readers.is_empty() {
        return Ok(());
    }
    let table = def.name.clone();
    let lines: Vec<String> = (readers.iter())
        .map(|r| format!("column {r} of table {table}"))
        .collect();
    if !cascade {
        let detail: Vec<String> = (lines.iter())
            .map(|l| format!("{l} depends on column {name} of table {table}"))
            .collect();
        return Err(Error::DependentObjects(format!(
            "cannot drop column {name} of table {table} because other objects depend on it"
        ))
        .with_detail(detail.join("\n"))
        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    sess.notice(
        "00000",
        match lines.as_slice() {
            [one] => format!("drop cascades to {one}"),
            _ => format!(
                "drop cascades to {} other objects\nDETAIL:  drop cascades to {}",
                lines.len(),
                lines.join("\ndrop cascades to ")
            ),
        },
    );
    for r in readers {
        drop(sess, def, &r, false, false)?;
    }
    Ok(())
}

/// Whether expression `text` names column `col`.
fn mentions(text: &str, col: &str) -> Result<bool> {
    let e = crate::sql::parse_expr(text)?;
    let found = sqlparser::ast::visit_expressions(&e, |e| match e {
        sqlparser::ast::Expr::Identifier(id) if crate::sql::ident_name(id) == col => {
            ControlFlow::Break(())
        }
        sqlparser::ast::Expr::CompoundIdentifier(ids)
            if ids
                .last()
                .is_some_and(|id| crate::sql::ident_name(id) == col) =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    Ok(found.is_break())
}

/// Whether a default expression calls a function that gives each row
/// its own value.
fn volatile(default: &str) -> bool {
    let d = default.to_ascii_lowercase();
    [
        "random(",
        "gen_random_uuid(",
        "uuid_generate_v4(",
        "clock_timestamp(",
        "nextval(",
        "currval(",
        "lastval(",
        "setval(",
    ]
    .iter()
    .any(|f| d.contains(f))
}

/// Whether the table has a row on any node.
fn has_rows(sess: &mut Session, def: &TableDef) -> Result<bool> {
    let sql = format!("SELECT 1 FROM {} LIMIT 1", quote(&def.name));
    Ok(!existing_rows(sess, &def.name, &[], &sql)?.is_empty())
}
