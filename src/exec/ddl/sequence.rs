//! CREATE SEQUENCE and DROP SEQUENCE. A sequence is a catalog relation
//! (`RelKind::Sequence`) spread like a table; the values it hands out are
//! each node's own (`store::sequences`), not transactional, and forgotten
//! only once a DROP commits.

use sqlparser::ast::{ObjectName, SequenceOptions};

use super::{record, relation_exists};
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::alter_sequence::AlterSequence;
use crate::sql::ddl::identity::number;
use crate::sql::{ident_name, object_name};
use crate::types::sequence::{SeqOption, SequenceDef};
use crate::types::table::{sequence_name, RelKind, TableDef};
use crate::types::PgType;

pub(super) fn create(
    sess: &mut Session,
    temporary: bool,
    if_not_exists: bool,
    name: &ObjectName,
    options: &[SequenceOptions],
) -> Result<Outcome> {
    if temporary {
        return Err(Error::Unsupported("temporary sequences".into()));
    }
    let name = object_name(name);
    super::schema::check_creatable(sess, &name)?;
    if relation_exists(sess, &name) || serial_sequence_exists(sess, &name) {
        if if_not_exists {
            super::existing_skipped(sess, &name);
            return Ok(Outcome::Command("CREATE SEQUENCE".into()));
        }
        return Err(Error::TableExists(name));
    }
    let options = options
        .iter()
        .map(|o| option(sess, o))
        .collect::<Result<Vec<_>>>()?;
    let seq = SequenceDef::from_options(&options)?;
    let def = TableDef {
        name: name.clone(),
        oid: sess.store.next_oid()?,
        columns: vec![],
        primary_key: vec![],
        unique: vec![],
        checks: vec![],
        indexes: vec![],
        foreign_keys: vec![],
        comment: None,
        kind: RelKind::Sequence(Box::new(seq)),
        altered: Default::default(),
        temp: None,
        access: Default::default(),
    };
    record(sess, &name, Some(def))?;
    Ok(Outcome::Command("CREATE SEQUENCE".into()))
}

/// Whether a serial column's implicit sequence is called `name`.
pub(super) fn serial_sequence_exists(sess: &Session, name: &str) -> bool {
    sess.catalog().tables().iter().any(|t| {
        t.columns
            .iter()
            .any(|c| c.default.as_deref().and_then(sequence_name).as_deref() == Some(name))
    })
}

fn option(sess: &Session, o: &SequenceOptions) -> Result<SeqOption> {
    Ok(match o {
        SequenceOptions::DataType(dt) => SeqOption::Type(PgType::from_sql(dt)?),
        SequenceOptions::IncrementBy(e, _) => SeqOption::Increment(number(e)?),
        SequenceOptions::MinValue(e) => SeqOption::Min(e.as_ref().map(number).transpose()?),
        SequenceOptions::MaxValue(e) => SeqOption::Max(e.as_ref().map(number).transpose()?),
        SequenceOptions::StartWith(e, _) => SeqOption::Start(number(e)?),
        SequenceOptions::Cache(e) => SeqOption::Cache(number(e)?),
        SequenceOptions::Cycle(no) => SeqOption::Cycle(!no),
        SequenceOptions::OwnedBy(None) => SeqOption::OwnedBy(None),
        SequenceOptions::OwnedBy(Some(target)) => SeqOption::OwnedBy(Some(owner(sess, target)?)),
    })
}

/// `OWNED BY table.column`, which must exist.
fn owner(sess: &Session, target: &ObjectName) -> Result<(String, String)> {
    let parts: Vec<String> = target
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(ident_name))
        .collect();
    let (table, column) = match parts.as_slice() {
        [t, c] => (t.clone(), c.clone()),
        [s, t, c] => (crate::types::schema::qualify(s, t), c.clone()),
        _ => return Err(Error::InvalidParameter("invalid OWNED BY option".into())),
    };
    check_owner(sess, &table, &column)?;
    Ok((table, column))
}

/// The table and column of `OWNED BY table.column` exist.
fn check_owner(sess: &Session, table: &str, column: &str) -> Result<()> {
    let Some(def) = sess.catalog().table(table) else {
        return Err(Error::NoSuchTable(table.to_string()));
    };
    if def.column_index(column).is_none() {
        return Err(Error::NoSuchColumn(format!(
            "{column}\" of relation \"{table}"
        )));
    }
    Ok(())
}

/// ALTER SEQUENCE: a new definition, journaled and spread like any DDL.
/// A RESTART starts a new run of the sequence (see `SequenceDef::epoch`),
/// which every node begins at the restart value once it has the change.
/// The sequence of a serial or identity column keeps its definition in
/// the column.
/// `ALTER SEQUENCE s OWNER TO role`, as ALTER TABLE … OWNER TO does it. A
/// serial or identity column's own sequence (`implicit`, its name) belongs
/// to its table's owner: PostgreSQL refuses to give it another (0A000).
fn owner_to(
    sess: &mut Session,
    def: &TableDef,
    implicit: Option<&str>,
    owner: &str,
) -> Result<Outcome> {
    if let Some(seq) = implicit {
        return Err(
            Error::NotSupported(format!("cannot change owner of sequence \"{seq}\"")).with_detail(
                format!(
                    "Sequence \"{seq}\" is linked to table \"{}\".",
                    def.rel_name()
                ),
            ),
        );
    }
    let role = match owner {
        "current_user" | "current_role" => sess.current_role(),
        "session_user" => sess.session_user(),
        other => other.to_string(),
    };
    let new = super::grant::owner_to(sess, def, &role)?;
    super::record(sess, &def.name, Some(new))?;
    Ok(Outcome::Command("ALTER SEQUENCE".into()))
}

pub fn alter(sess: &mut Session, a: &AlterSequence) -> Result<Outcome> {
    let name = &a.name;
    let rel = sess.catalog().relation(name);
    let (mut table, column) = match rel {
        Some(r) if r.sequence().is_some() => ((*r).clone(), None),
        Some(_) => {
            return Err(Error::WrongObjectType(format!(
                "\"{name}\" is not a sequence"
            )))
        }
        None => match serial_column(sess, name) {
            Some((t, i)) => ((*t).clone(), Some(i)),
            None if a.if_exists => {
                super::missing_skipped(sess, "relation", name);
                return Ok(Outcome::Command("ALTER SEQUENCE".into()));
            }
            None => {
                return Err(Error::NoSuchRelation(format!(
                    "relation \"{name}\" does not exist"
                )))
            }
        },
    };
    if let Some(owner) = &a.owner {
        let implicit = column.map(|_| crate::types::schema::split(name).1);
        return owner_to(sess, &table, implicit, owner);
    }
    for o in &a.options {
        match o {
            SeqOption::OwnedBy(_) if column.is_some() => {
                return Err(Error::Unsupported(format!(
                    "OWNED BY of \"{name}\", the sequence of a serial or identity column"
                )))
            }
            SeqOption::OwnedBy(Some((t, c))) => check_owner(sess, t, c)?,
            _ => {}
        }
    }
    let current = match column {
        Some(i) => table.columns[i].sequence_def(),
        None => table
            .sequence()
            .cloned()
            .ok_or_else(|| Error::Internal("sequence without a definition".into()))?,
    };
    let last = sess.store.sequences.last(name, &current);
    let new = current.alter(&a.options, last, sess.store.hlc.now())?;
    if column.is_some() {
        crate::sql::ddl::identity::check_ascending(&new)?;
    }
    match column {
        Some(i) => table.columns[i].sequence = Some(Box::new(new)),
        None => table.kind = RelKind::Sequence(Box::new(new)),
    }
    let relation = table.name.clone();
    record(sess, &relation, Some(table))?;
    Ok(Outcome::Command("ALTER SEQUENCE".into()))
}

/// The table and column position of the serial or identity column whose
/// implicit sequence is `name`.
fn serial_column(sess: &Session, name: &str) -> Option<(std::sync::Arc<TableDef>, usize)> {
    sess.catalog().tables().into_iter().find_map(|t| {
        let i = t
            .columns
            .iter()
            .position(|c| c.default.as_deref().and_then(sequence_name).as_deref() == Some(name))?;
        Some((t, i))
    })
}

/// DROP SEQUENCE: each name must be a sequence no column default uses
/// (unless CASCADE, which drops those defaults).
pub(super) fn drop(
    sess: &mut Session,
    if_exists: bool,
    cascade: bool,
    names: &[ObjectName],
) -> Result<Outcome> {
    let mut dropping = Vec::new();
    for n in names {
        let name = object_name(n);
        match sess.catalog().relation(&name) {
            Some(r) if r.sequence().is_some() => dropping.push(name),
            Some(r) => {
                let hint = match r.view_query() {
                    Some(_) => "Use DROP VIEW to remove a view.",
                    None => "Use DROP TABLE to remove a table.",
                };
                return Err(
                    Error::WrongObjectType(format!("\"{name}\" is not a sequence")).with_hint(hint),
                );
            }
            None if if_exists => super::missing_skipped(sess, "sequence", &name),
            None => {
                return Err(Error::NoSuchRelation(format!(
                    "sequence \"{name}\" does not exist"
                )))
            }
        }
    }
    for seq in &dropping {
        drop_defaults(sess, seq, cascade)?;
        record(sess, seq, None)?;
        sess.ddl.forget_sequences.push(seq.clone());
    }
    Ok(Outcome::Command("DROP SEQUENCE".into()))
}

/// The column defaults that draw from `seq`: dropped with CASCADE (with
/// PostgreSQL's NOTICE; rows stored before a column existed keep reading
/// what they read), else an error naming them (2BP01).
fn drop_defaults(sess: &mut Session, seq: &str, cascade: bool) -> Result<()> {
    let users: Vec<(std::sync::Arc<TableDef>, Vec<usize>)> = sess
        .catalog()
        .tables()
        .into_iter()
        .filter_map(|t| {
            let cols: Vec<usize> = (0..t.columns.len())
                .filter(|&i| {
                    t.columns[i]
                        .default
                        .as_deref()
                        .and_then(sequence_name)
                        .as_deref()
                        == Some(seq)
                })
                .collect();
            (!cols.is_empty()).then_some((t, cols))
        })
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    let what: Vec<String> = users
        .iter()
        .flat_map(|(t, cols)| {
            cols.iter().map(|&c| {
                format!(
                    "default value for column {} of table {}",
                    t.columns[c].name, t.name
                )
            })
        })
        .collect();
    if cascade {
        sess.notice(
            "00000",
            match what.as_slice() {
                [one] => format!("drop cascades to {one}"),
                _ => format!(
                    "drop cascades to {} other objects\nDETAIL:  drop cascades to {}",
                    what.len(),
                    what.join("\ndrop cascades to ")
                ),
            },
        );
        for (t, cols) in users {
            let mut new = (*t).clone();
            for c in cols {
                super::alter::keep_missing(&mut new.columns[c]);
                new.columns[c].default = None;
            }
            if crate::store::segment::needs_rebuild(&t, &new) {
                sess.conn.rebuild_segment(&t, &new)?;
            }
            record(sess, &t.name, Some(new))?;
        }
        return Ok(());
    }
    let detail: Vec<String> = what
        .iter()
        .map(|w| format!("{w} depends on sequence {seq}"))
        .collect();
    Err(Error::DependentObjects(format!(
        "cannot drop sequence {seq} because other objects depend on it"
    ))
    .with_detail(detail.join("\n"))
    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."))
}

/// The sequences owned by columns of `table` (dropped with it).
pub(super) fn owned_by(sess: &Session, table: &str) -> Vec<String> {
    sess.catalog()
        .relations()
        .iter()
        .filter(|r| {
            r.sequence()
                .and_then(|s| s.owned_by.as_ref())
                .is_some_and(|(t, _)| t == table)
        })
        .map(|r| r.name.clone())
        .collect()
}

/// The sequences owned by column `column` of `table` (`OWNED BY t.c`).
pub(super) fn owned_by_column(sess: &Session, table: &str, column: &str) -> Vec<String> {
    sess.catalog()
        .relations()
        .iter()
        .filter(|r| {
            r.sequence()
                .and_then(|s| s.owned_by.as_ref())
                .is_some_and(|(t, c)| t == table && c == column)
        })
        .map(|r| r.name.clone())
        .collect()
}

/// TRUNCATE … RESTART IDENTITY: the sequences owned by the columns of
/// `tables` (serial and identity columns' own, and those of OWNED BY)
/// start a new run at their START value, in the statement's transaction.
pub(super) fn restart_owned(sess: &mut Session, tables: &[String]) -> Result<()> {
    let epoch = sess.store.hlc.now();
    let restart = |d: &mut SequenceDef| {
        d.epoch = epoch;
        d.restart = None;
    };
    for table in tables {
        for seq in owned_by(sess, table) {
            let Some(rel) = sess.catalog().relation(&seq) else {
                continue;
            };
            let mut def = (*rel).clone();
            if let RelKind::Sequence(s) = &mut def.kind {
                restart(s);
            }
            record(sess, &seq, Some(def))?;
        }
        let Some(t) = sess.catalog().table(table) else {
            continue;
        };
        let mut t = (*t).clone();
        let mut changed = false;
        for c in &mut t.columns {
            let Some(seq) = c.default.as_deref().and_then(sequence_name) else {
                continue;
            };
            if sess.catalog().relation(&seq).is_some() {
                continue;
            }
            let mut d = c.sequence_def();
            restart(&mut d);
            c.sequence = Some(Box::new(d));
            changed = true;
        }
        if changed {
            record(sess, table, Some(t))?;
        }
    }
    Ok(())
}
