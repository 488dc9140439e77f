//! ALTER TABLE … ALTER COLUMN … ADD GENERATED { ALWAYS | BY DEFAULT } AS
//! IDENTITY [(options)]: the column takes values from a new implicit
//! sequence, as CREATE TABLE's identity columns do. Rows already stored
//! keep their values; the sequence starts a run of its own on every node
//! (see `SequenceDef::epoch`), whatever a sequence of the same name did
//! before.
//!
//! SET GENERATED, SET <sequence option>, RESTART and DROP IDENTITY do not
//! parse yet (sqlparser reads none of them).

use sqlparser::ast::{GeneratedAs, SequenceOptions};

use super::columns;
use crate::error::{Error, Result};
use crate::exec::Session;
use crate::sql::ddl::identity as options;
use crate::types::table::TableDef;
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
