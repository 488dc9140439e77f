//! ALTER TABLE … ALTER COLUMN … ADD GENERATED { ALWAYS | BY DEFAULT } AS
//! IDENTITY [(options)]: the column takes values from a new implicit
//! sequence, as CREATE TABLE's identity columns do. Rows already stored
//! keep their values; the sequence starts a run of its own on every node
//! (see `SequenceDef::epoch`), whatever a sequence of the same name did
//! before.
//!
//! SET GENERATED, SET <sequence option>, RESTART and DROP IDENTITY, which
//! sqlparser does not read, come pre-parsed (`sql::alter_identity`), one
//! column action per statement; so does a generated column's DROP
//! EXPRESSION.

use sqlparser::ast::{GeneratedAs, SequenceOptions};

use super::columns;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::alter_identity::AlterIdentity;
use crate::sql::alter_identity::IdentityAction;
use crate::sql::ddl::identity as options;
use crate::types::table::{sequence_name, TableDef};
use crate::types::PgType;

/// `ADD GENERATED … AS IDENTITY` on column `i` of `def`.
pub(super) fn add(
    sess: &mut Session,
    def: &mut TableDef,
    i: usize,
    generated_as: &Option<GeneratedAs>,
    sequence_options: &Option<Vec<SequenceOptions>>,
) -> Result<()> {
    let col = &def.columns[i];
    let which = format!("column \"{}\" of relation \"{}\"", col.name, def.name);
    if !matches!(col.ty, PgType::Int2 | PgType::Int4 | PgType::Int8) {
        return Err(Error::InvalidParameter(
            "identity column type must be smallint, integer, or bigint".into(),
        ));
    }
    if !col.not_null {
        return Err(Error::ObjectNotInState(format!(
            "{which} must be declared NOT NULL before identity can be added"
        )));
    }
    if col.identity.is_some() {
        return Err(Error::ObjectNotInState(format!(
            "{which} is already an identity column"
        )));
    }
    if col.default.is_some() {
        return Err(Error::ObjectNotInState(format!(
            "{which} already has a default value"
        )));
    }
    let seq = format!("{}_{}_seq", def.name, col.name);
    if super::super::relation_exists(sess, &seq) {
        return Err(Error::Unsupported(format!(
            "an identity sequence for {which}, whose name \"{seq}\" is taken"
        )));
    }
    let identity = crate::sql::ddl::identity_of(
        &col.ty,
        generated_as.as_ref().unwrap_or(&GeneratedAs::Always),
    )?;
    let mut seq_def =
        options::sequence_def(&col.ty, sequence_options.as_deref().unwrap_or_default())?
            .unwrap_or_else(|| col.sequence_def());
    seq_def.epoch = sess.store.hlc.now();
    let col = &mut def.columns[i];
    columns::keep_missing(col);
    col.identity = Some(identity);
    col.default = Some(format!("nextval('{seq}')"));
    col.sequence = Some(Box::new(seq_def));
    Ok(())
}

/// SET GENERATED / SET <sequence option> / RESTART / DROP IDENTITY on an
/// identity column (pre-parsed: see `sql::alter_identity`).
pub(super) fn alter(
    sess: &mut Session,
    def: &mut TableDef,
    i: usize,
    a: &IdentityAction,
) -> Result<()> {
    let col = &def.columns[i];
    let not_identity = format!(
        "column \"{}\" of relation \"{}\" is not an identity column",
        col.name, def.name
    );
    match a {
        IdentityAction::Drop { if_exists } => {
            if col.identity.is_none() {
                if *if_exists {
                    sess.notice("00000", format!("{not_identity}, skipping"));
                    return Ok(());
                }
                return Err(Error::ObjectNotInState(not_identity));
            }
            let col = &mut def.columns[i];
            if let Some(seq) = col.default.as_deref().and_then(sequence_name) {
                sess.ddl.forget_sequences.push(seq);
            }
            columns::keep_missing(col);
            col.identity = None;
            col.default = None;
            col.sequence = None;
        }
        IdentityAction::DropExpression { if_exists } => {
            if col.generated.is_none() {
                let not_generated = format!(
                    "column \"{}\" of relation \"{}\" is not a stored generated column",
                    col.name, def.name
                );
                if *if_exists {
                    sess.notice("00000", format!("{not_generated}, skipping"));
                    return Ok(());
                }
                return Err(Error::ObjectNotInState(not_generated));
            }
            def.columns[i].generated = None;
        }
        IdentityAction::Set { generated, options } => {
            if col.identity.is_none() {
                return Err(Error::ObjectNotInState(not_identity));
            }
            let Some(seq) = col.default.as_deref().and_then(sequence_name) else {
                return Err(Error::Internal("identity column without a sequence".into()));
            };
            let current = col.sequence_def();
            let last = sess.store.sequences.last(&seq, &current);
            let new = current.alter(options, last, sess.store.hlc.now())?;
            options::check_ascending(&new)?;
            let col = &mut def.columns[i];
            if let Some(g) = generated {
                col.identity = Some(*g);
            }
            col.sequence = Some(Box::new(new));
        }
    }
    Ok(())
}

/// A pre-parsed `ALTER TABLE t ALTER [COLUMN] c` identity action.
pub(in crate::exec::ddl) fn alter_table(sess: &mut Session, a: &AlterIdentity) -> Result<Outcome> {
    let name = &a.table;
    if super::is_view(sess, name) || sess.catalog().table(name).is_some_and(|d| d.is_matview()) {
        return Err(Error::Unsupported(format!(
            "ALTER TABLE on view \"{name}\""
        )));
    }
    let Some(def) = sess.catalog().table(name) else {
        if a.if_exists {
            return Ok(Outcome::Command("ALTER TABLE".into()));
        }
        return Err(Error::NoSuchTable(name.clone()));
    };
    let Some(i) = def.column_index(&a.column) else {
        return Err(super::no_column(&def, &a.column));
    };
    let mut new = (*def).clone();
    alter(sess, &mut new, i, &a.action)?;
    if new != *def {
        if crate::store::segment::needs_rebuild(&def, &new) {
            sess.conn.rebuild_segment(&def, &new)?;
        }
        super::record(sess, name, Some(new))?;
    }
    Ok(Outcome::Command("ALTER TABLE".into()))
}
