//! CREATE SEQUENCE and DROP SEQUENCE. A sequence is a catalog relation
//! (`RelKind::Sequence`) spread like a table; the values it hands out are
//! each node's own (`store::sequences`), not transactional, and forgotten
//! only once a DROP commits.

use sqlparser::ast::{Expr, ObjectName, SequenceOptions, UnaryOperator, Value};

use super::{record, relation_exists};
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
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
    if name.contains('.') {
        return Err(Error::Unsupported(format!(
            "schema-qualified sequence {name}"
        )));
    }
    if relation_exists(sess, &name) || serial_sequence_exists(sess, &name) {
        if if_not_exists {
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
    };
    record(sess, &name, Some(def))?;
    Ok(Outcome::Command("CREATE SEQUENCE".into()))
}

/// Whether a serial column's implicit sequence is called `name`.
fn serial_sequence_exists(sess: &Session, name: &str) -> bool {
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
        [s, t, c] if s == "public" => (t.clone(), c.clone()),
        _ => return Err(Error::InvalidParameter("invalid OWNED BY option".into())),
    };
    let Some(def) = sess.catalog().table(&table) else {
        return Err(Error::NoSuchTable(table));
    };
    if def.column_index(&column).is_none() {
        return Err(Error::NoSuchColumn(format!(
            "{column}\" of relation \"{table}"
        )));
    }
    Ok((table, column))
}

/// An option's value: an integer literal, possibly negative.
fn number(e: &Expr) -> Result<i64> {
    let bad = || Error::Syntax(format!("syntax error at or near \"{e}\""));
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<i64>().map_err(|_| {
                Error::NumericOutOfRange(format!("value \"{n}\" is out of range for type bigint"))
            }),
            _ => Err(bad()),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => number(expr)?.checked_neg().ok_or_else(bad),
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => number(expr),
        _ => Err(bad()),
    }
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
            None if if_exists => {}
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

/// The column defaults that draw from `seq`: an error naming them (with
/// CASCADE too, as a default cannot be dropped yet).
fn drop_defaults(sess: &Session, seq: &str, cascade: bool) -> Result<()> {
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
    if cascade {
        return Err(Error::Unsupported(format!(
            "DROP SEQUENCE … CASCADE of {seq}, which a column default uses"
        )));
    }
    let detail: Vec<String> = users
        .iter()
        .flat_map(|(t, cols)| {
            cols.iter().map(|&c| {
                format!(
                    "default value for column {} of table {} depends on sequence {seq}",
                    t.columns[c].name, t.name
                )
            })
        })
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
