//! ALTER TABLE: each operation of the statement in order, all or nothing
//! (the statement runs in the block's transaction and a failure restores
//! the block's DDL state).
//!
//! DESIGN: sealed shards are never rewritten, so a change that would alter
//! what old rows read is recorded in the definition and applied when they
//! are read: a column added later reads the value it was added with
//! (`Column::missing`), a renamed column is found under its former names
//! (`Column::former_names`), and the name of a dropped column is retired so
//! that no new column reads the old values (`Altered::retired`). A change
//! to constraints is checked against every row, on every node, before it is
//! recorded. Each operation is recorded (staged) as soon as it is done, so
//! the next one, and its checks, see it; the open segment is rebuilt when
//! SQLite cannot make the change in place (`segment::needs_rebuild`), and
//! every other node rebuilds its own when the change reaches it.
//!
//! The same rule decides what is built: a column added with a default
//! that is not a constant records the one value the ALTER evaluated
//! (never the expression, which old rows would re-evaluate at each read);
//! a type change is accepted only where every stored value reads the same
//! under the new type (`retype`); a constraint added NOT VALID is recorded
//! by name (`Altered::not_valid`) and the open segment keeps its old rows
//! when rebuilt. Renaming a table is refused: its rows are stored under
//! its name on every node (views, which store none, are renamed in
//! `ddl::rename`).

use sqlparser::ast::{
    AlterColumnOperation, AlterTable, AlterTableOperation, Owner, RenameTableNameKind,
    TableConstraint,
};

use super::{is_view, record};
use crate::error::{Error, Result};
use crate::exec::write::foreign::read;
use crate::exec::{Outcome, Session};
use crate::sql::{ident_name, object_name};
use crate::types::table::TableDef;
use crate::types::{quote, PgType};

mod columns;
mod constraints;
mod convert;
mod identity;
pub(super) use columns::{freeze_names, keep_missing};
pub(super) use identity::alter_table as alter_identity;
mod retype;

/// Run `ALTER TABLE`.
pub(super) fn alter_table(sess: &mut Session, at: &AlterTable) -> Result<Outcome> {
    let name = object_name(&at.name);
    if let [AlterTableOperation::RenameTable {
        table_name: RenameTableNameKind::To(new),
    }] = &at.operations[..]
    {
        if is_view(sess, &name) {
            return super::rename::rename_view_to(sess, &name, new, false, "ALTER TABLE");
        }
    }
    if let ([AlterTableOperation::OwnerTo { new_owner }], Some(def)) =
        (&at.operations[..], sess.catalog().relation(&name))
    {
        let mut new = (*def).clone();
        owner_to(sess, &mut new, new_owner)?;
        record(sess, &name, Some(new))?;
        return Ok(Outcome::Command("ALTER TABLE".into()));
    }
    if is_view(sess, &name) || sess.catalog().table(&name).is_some_and(|d| d.is_matview()) {
        return Err(Error::Unsupported(format!(
            "ALTER TABLE on view \"{name}\""
        )));
    }
    let Some(def) = sess.catalog().table(&name) else {
        if at.if_exists {
            super::missing_skipped(sess, "relation", &name);
            return Ok(Outcome::Command("ALTER TABLE".into()));
        }
        return Err(Error::NoSuchTable(name));
    };
    // ONLY changes nothing: no table inherits from another.
    if at.location.is_some() || at.on_cluster.is_some() {
        return Err(Error::Unsupported(format!("ALTER TABLE {}", at.name)));
    }
    let renames = at.operations.iter().any(|op| {
        matches!(
            op,
            AlterTableOperation::RenameColumn { .. }
                | AlterTableOperation::RenameTable { .. }
                | AlterTableOperation::RenameConstraint { .. }
        )
    });
    if renames && at.operations.len() > 1 {
        return Err(Error::Syntax("syntax error at or near \",\"".into()));
    }
    if let [AlterTableOperation::RenameTable { table_name }] = &at.operations[..] {
        let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
        if new.0.len() > 1 {
            return Err(Error::Syntax("syntax error at or near \".\"".into()));
        }
        // The new name is in the table's schema.
        let new = crate::types::schema::beside(&def.name, &object_name(new));
        super::rename::rename_table(sess, &def, new)?;
        return Ok(Outcome::Command("ALTER TABLE".into()));
    }
    // PostgreSQL runs the operations in passes, drops first, then new
    // columns, column attributes, keys, other constraints and defaults;
    // in the order written within a pass.
    let operations = with_inline_references(&at.operations);
    let mut ops: Vec<&AlterTableOperation> = operations.iter().collect();
    ops.sort_by_key(|op| pass(op));
    let mut current = (*def).clone();
    for op in ops {
        let mut new = current.clone();
        operation(sess, &mut new, op)?;
        if new != current {
            if crate::store::segment::needs_rebuild(&current, &new) {
                sess.conn.rebuild_segment(&current, &new)?;
            }
            record(sess, &name, Some(new.clone()))?;
            current = new;
        }
    }
    // Columns added with a volatile default get their values per row now
    // that the table has them.
    for op in &at.operations {
        if let AlterTableOperation::AddColumn { column_def, .. } = op {
            if def
                .column_index(&crate::sql::ident_name(&column_def.name))
                .is_none()
            {
                columns::fill_volatile(sess, &name, column_def)?;
            }
        }
    }
    Ok(Outcome::Command("ALTER TABLE".into()))
}

/// `ADD COLUMN c … REFERENCES p (k)` as the column without its
/// REFERENCES, then `ADD [CONSTRAINT n] FOREIGN KEY (c) REFERENCES p (k)`,
/// which PostgreSQL's passes run after the column is there (checking the
/// rows already there, which hold the column's default).
fn with_inline_references(ops: &[AlterTableOperation]) -> Vec<AlterTableOperation> {
    use sqlparser::ast::{ColumnOption, ForeignKeyConstraint};
    let mut out = Vec::with_capacity(ops.len());
    let mut constraints = Vec::new();
    for op in ops {
        let AlterTableOperation::AddColumn { column_def, .. } = op else {
            out.push(op.clone());
            continue;
        };
        let mut op = op.clone();
        if let AlterTableOperation::AddColumn { column_def: cd, .. } = &mut op {
            cd.options
                .retain(|o| !matches!(o.option, ColumnOption::ForeignKey(_)));
        }
        out.push(op);
        for o in &column_def.options {
            if let ColumnOption::ForeignKey(fk) = &o.option {
                constraints.push(AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::ForeignKey(ForeignKeyConstraint {
                        name: o.name.clone(),
                        columns: vec![column_def.name.clone()],
                        ..fk.clone()
                    }),
                    not_valid: false,
                });
            }
        }
    }
    out.extend(constraints);
    out
}

/// Views keep their query as text: renaming, dropping or retyping a
/// column of a table a view (or materialized view) reads is not built.
fn refuse_under_views(sess: &Session, def: &TableDef, op: &AlterTableOperation) -> Result<()> {
    let changes_columns = matches!(
        op,
        AlterTableOperation::RenameColumn { .. }
            | AlterTableOperation::DropColumn { .. }
            | AlterTableOperation::AlterColumn {
                op: sqlparser::ast::AlterColumnOperation::SetDataType { .. },
                ..
            }
    );
    if !changes_columns {
        return Ok(());
    }
    let readers: Vec<String> = sess
        .catalog()
        .relations()
        .iter()
        .filter(|r| r.depends_on().contains(&def.name))
        .map(|r| r.name.clone())
        .collect();
    match readers.first() {
        Some(view) => Err(Error::Unsupported(format!(
            "renaming or dropping a column of \"{}\", which view \"{view}\" reads",
            def.name
        ))),
        None => Ok(()),
    }
}

fn operation(sess: &mut Session, def: &mut TableDef, op: &AlterTableOperation) -> Result<()> {
    refuse_under_views(sess, def, op)?;
    dispatch(sess, def, op)?;
    // A NOT VALID constraint dropped (or dropped with its column) is
    // forgotten: a later one of that name is its own.
    let names = def.check_constraint_names();
    let fks = &def.foreign_keys;
    def.altered
        .not_valid
        .retain(|n| names.contains(n) || fks.iter().any(|f| &f.name == n));
    Ok(())
}

fn dispatch(sess: &mut Session, def: &mut TableDef, op: &AlterTableOperation) -> Result<()> {
    match op {
        AlterTableOperation::AddColumn {
            column_def,
            if_not_exists,
            ..
        } => columns::add(sess, def, column_def, *if_not_exists),
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid,
        } => constraints::add(sess, def, constraint, *not_valid),
        AlterTableOperation::ValidateConstraint { name } => {
            constraints::validate(sess, def, &ident_name(name))
        }
        AlterTableOperation::DropConstraint {
            if_exists,
            name,
            drop_behavior,
        } => constraints::drop(
            sess,
            def,
            &ident_name(name),
            *if_exists,
            cascade(drop_behavior),
        ),
        AlterTableOperation::AlterColumn { column_name, op } => {
            let col = ident_name(column_name);
            let Some(i) = def.column_index(&col) else {
                return Err(no_column(def, &col));
            };
            alter_column(sess, def, i, op)
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => columns::rename(
            sess,
            def,
            &ident_name(old_column_name),
            &ident_name(new_column_name),
        ),
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            drop_behavior,
            ..
        } => {
            for c in column_names {
                columns::drop(
                    sess,
                    def,
                    &ident_name(c),
                    *if_exists,
                    cascade(drop_behavior),
                )?;
            }
            Ok(())
        }
        AlterTableOperation::RenameTable { .. } => {
            Err(Error::Internal("RENAME TO is run on its own".into()))
        }
        AlterTableOperation::RenameConstraint { old_name, new_name } => {
            constraints::rename(sess, def, &ident_name(old_name), &ident_name(new_name))
        }
        AlterTableOperation::OwnerTo { new_owner } => owner_to(sess, def, new_owner),
        other => Err(Error::Unsupported(format!("ALTER TABLE {other}"))),
    }
}

/// PostgreSQL's pass (`AT_PASS_*` of tablecmds.c) for an operation.
fn pass(op: &AlterTableOperation) -> u8 {
    use AlterColumnOperation as C;
    match op {
        AlterTableOperation::DropConstraint { .. } | AlterTableOperation::DropColumn { .. } => 0,
        AlterTableOperation::AlterColumn { op, .. } => match op {
            C::DropNotNull => 0,
            C::SetDataType { .. } => 1,
            C::SetNotNull => 5,
            C::SetDefault { .. } | C::DropDefault => 7,
            _ => 8,
        },
        AlterTableOperation::AddColumn { .. } => 4,
        AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
            TableConstraint::PrimaryKey(_) | TableConstraint::Unique(_) => 6,
            _ => 7,
        },
        _ => 8,
    }
}

fn cascade(b: &Option<sqlparser::ast::DropBehavior>) -> bool {
    matches!(b, Some(sqlparser::ast::DropBehavior::Cascade))
}

/// A new unique key over `keys` (SQL expressions of `table`, reading the
/// columns `needed`, among rows matching every condition of `filter`)
/// holds on every node, or fails with 23505 as PostgreSQL's index build
/// does: `could not create unique index "<index>"`, with the first repeated
/// key (named `names`) as DETAIL.
pub(super) fn check_no_duplicate(
    sess: &mut Session,
    table: &str,
    keys: &[String],
    filter: &[String],
    needed: &[&str],
    (index, names): (&str, &[String]),
) -> Result<()> {
    let mut conditions: Vec<String> = keys.iter().map(|k| format!("{k} IS NOT NULL")).collect();
    conditions.extend(filter.iter().cloned());
    let texts: Vec<String> = keys.iter().map(|k| format!("({k})::text")).collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1 ORDER BY {} LIMIT 1",
        texts.join(", "),
        quote(table),
        conditions.join(" AND "),
        keys.join(", "),
        keys.join(", ")
    );
    let Some(row) = existing_rows(sess, table, needed, &sql)?.into_iter().next() else {
        return Ok(());
    };
    // Each key was selected as text.
    let values: Vec<String> = row
        .iter()
        .map(|d| PgType::Text.render_text(d).unwrap_or_default())
        .collect();
    Err(
        Error::UniqueViolation(format!("could not create unique index \"{index}\"")).with_detail(
            format!(
                "Key ({})=({}) is duplicated.",
                names.join(", "),
                values.join(", ")
            ),
        ),
    )
}

/// Rows of `sql`, a query that checks the rows already in `table` (for a
/// new constraint), on every node. Other nodes read the table as
/// committed, so after columns were added to it earlier in this
/// transaction the query runs over the committed definition (it must not
/// need the new columns, `needed` being those it reads); after any other
/// change of its columns the check is refused.
pub(super) fn existing_rows(
    sess: &mut Session,
    table: &str,
    needed: &[&str],
    sql: &str,
) -> Result<Vec<Vec<crate::types::Datum>>> {
    let names = |d: &TableDef| d.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let (Some(committed), Some(staged)) =
        (sess.store.catalog.table(table), sess.catalog().table(table))
    else {
        return read(sess, sql, &[]);
    };
    let (cn, sn) = (names(&committed), names(&staged));
    if !sess.has_peers() || cn == sn {
        return read(sess, sql, &[]);
    }
    if !sn.starts_with(&cn) || !needed.iter().all(|n| cn.iter().any(|c| c == n)) {
        return Err(Error::Unsupported(format!(
            "checking the rows of \"{table}\" on every node after its columns changed \
             earlier in the same transaction"
        )));
    }
    let saved = sess.staged.insert(table.to_string(), Some(committed));
    let r = read(sess, sql, &[]);
    match saved {
        Some(v) => sess.staged.insert(table.to_string(), v),
        None => sess.staged.remove(table),
    };
    r
}

/// 42703 for a column the table lacks, as ALTER TABLE words it.
pub(super) fn no_column(def: &TableDef, col: &str) -> Error {
    Error::NoSuchColumn(format!("{col}\" of relation \"{}", def.name))
}

/// `ALTER [COLUMN] c SET/DROP NOT NULL`, `SET/DROP DEFAULT`, `TYPE`.
fn alter_column(
    sess: &mut Session,
    def: &mut TableDef,
    i: usize,
    op: &AlterColumnOperation,
) -> Result<()> {
    let col = def.columns[i].clone();
    let identity = || {
        Error::Syntax(format!(
            "column \"{}\" of relation \"{}\" is an identity column",
            col.name, def.name
        ))
    };
    match op {
        AlterColumnOperation::SetNotNull => {
            if !col.not_null {
                columns::check_no_nulls(sess, def, i)?;
                def.columns[i].not_null = true;
            }
        }
        AlterColumnOperation::DropNotNull => {
            if def.primary_key.contains(&i) {
                return Err(Error::InvalidTableDefinition(format!(
                    "column \"{}\" is in a primary key",
                    col.name
                )));
            }
            if col.identity.is_some() {
                return Err(identity());
            }
            def.columns[i].not_null = false;
        }
        AlterColumnOperation::SetDefault { value } => {
            if col.identity.is_some() {
                return Err(identity());
            }
            if col.generated.is_some() {
                return Err(Error::Syntax(format!(
                    "column \"{}\" of relation \"{}\" is a generated column",
                    col.name, def.name
                )));
            }
            let text = value.to_string();
            // The open segment fills omitted columns with it: it must
            // translate now, not at the next insert.
            crate::sql::default_to_sqlite(&text, &col.ty)?;
            columns::keep_missing(&mut def.columns[i]);
            def.columns[i].default = Some(text);
        }
        AlterColumnOperation::DropDefault => {
            if col.identity.is_some() {
                return Err(identity()
                    .with_hint("Use ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY instead."));
            }
            if col.generated.is_some() {
                return Err(Error::Syntax(format!(
                    "column \"{}\" of relation \"{}\" is a generated column",
                    col.name, def.name
                ))
                .with_hint("Use ALTER TABLE ... ALTER COLUMN ... DROP EXPRESSION instead."));
            }
            columns::keep_missing(&mut def.columns[i]);
            def.columns[i].default = None;
        }
        AlterColumnOperation::AddGenerated {
            generated_as,
            sequence_options,
        } => identity::add(sess, def, i, generated_as, sequence_options)?,
        AlterColumnOperation::SetDataType {
            data_type, using, ..
        } => retype::set_type(sess, def, i, data_type, using.as_ref())?,
        other => return Err(Error::Unsupported(format!("ALTER COLUMN … {other}"))),
    }
    Ok(())
}

/// `OWNER TO`: see `ddl::grant::owner_to`.
fn owner_to(sess: &mut Session, def: &mut TableDef, owner: &Owner) -> Result<()> {
    let name = super::grant::owner_name(sess, owner);
    *def = super::grant::owner_to(sess, def, &name)?;
    Ok(())
}
