//! An identity column's sequence options (`GENERATED … AS IDENTITY (START
//! WITH 100 …)`), turned into the definition its implicit sequence keeps
//! in the column.

use sqlparser::ast::{Expr, SequenceOptions, UnaryOperator, Value};

use crate::error::{Error, Result};
use crate::types::sequence::{SeqOption, SequenceDef};
use crate::types::PgType;

/// An option's value: an integer literal, possibly signed.
pub fn number(e: &Expr) -> Result<i64> {
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

/// The options of an identity column's sequence, without AS and OWNED BY
/// (which an identity sequence takes from its column).
pub fn seq_options(options: &[SequenceOptions]) -> Result<Vec<SeqOption>> {
    let kinds: Vec<_> = options.iter().map(std::mem::discriminant).collect();
    if (1..kinds.len()).any(|i| kinds[..i].contains(&kinds[i])) {
        return Err(Error::Syntax("conflicting or redundant options".into()));
    }
    options
        .iter()
        .map(|o| {
            Ok(match o {
                SequenceOptions::IncrementBy(e, _) => SeqOption::Increment(number(e)?),
                SequenceOptions::MinValue(e) => SeqOption::Min(e.as_ref().map(number).transpose()?),
                SequenceOptions::MaxValue(e) => SeqOption::Max(e.as_ref().map(number).transpose()?),
                SequenceOptions::StartWith(e, _) => SeqOption::Start(number(e)?),
                SequenceOptions::Cache(e) => SeqOption::Cache(number(e)?),
                SequenceOptions::Cycle(no) => SeqOption::Cycle(!no),
                SequenceOptions::DataType(_) => {
                    return Err(Error::Syntax("conflicting or redundant options".into()))
                }
                SequenceOptions::OwnedBy(_) => {
                    return Err(Error::Unsupported(
                        "OWNED BY in an identity column's sequence options".into(),
                    ))
                }
            })
        })
        .collect()
}

/// The definition of an identity sequence for a column of type `ty` with
/// `options` (`None` when there are none: a serial's defaults).
pub fn sequence_def(ty: &PgType, options: &[SequenceOptions]) -> Result<Option<SequenceDef>> {
    if options.is_empty() {
        return Ok(None);
    }
    let mut opts = vec![SeqOption::Type(ty.clone())];
    opts.extend(seq_options(options)?);
    let def = SequenceDef::from_options(&opts)?;
    check_ascending(&def)?;
    Ok(Some(def))
}

/// A column's implicit sequence counts up: a node seeds it after a restart
/// from the largest value its column holds, which says nothing of a
/// descending one.
pub fn check_ascending(def: &SequenceDef) -> Result<()> {
    if def.increment < 0 {
        return Err(Error::Unsupported(
            "a negative INCREMENT for the sequence of a serial or identity column".into(),
        ));
    }
    Ok(())
}
