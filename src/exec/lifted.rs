//! Simple-protocol statements that differ only in constants share one
//! prepared form: `SELECT … WHERE aid = 5` and `… WHERE aid = 6` (pgbench
//! `-M simple`, drivers that inline values) run as the session's prepared
//! `… WHERE aid = $1` with the constant as its parameter, so they are
//! parsed once into a typed statement and planned once per shard shape,
//! as a client's prepared statement is (`sql::literals` lifts the
//! constants: WHERE comparisons, UPDATE's SET, INSERT's VALUES).
//!
//! A constant is lifted only where its parameter is inferred of the
//! literal's kind (an integer column's type for an integer, text or
//! varchar for a string): there, PostgreSQL's comparison of column and
//! literal and of column and parameter give the same answer. Otherwise
//! the query runs as sent.

use std::collections::HashMap;
use std::sync::Arc;

use crate::exec::{Kind, Parsed, Prepared, Session};
use crate::sql::literals::Lifted;
use crate::types::{Datum, PgType};

/// Prepared forms by (lifted SQL, catalog version, settings generation);
/// `None`: that form does not prepare as a query.
pub type Forms = HashMap<(String, u64, u64), Option<Arc<Prepared>>>;

const CAPACITY: usize = 256;

impl Session {
    /// `parsed` as its prepared form and the constants lifted out of it;
    /// `None`: prepare and run it as sent. Not while the session's open
    /// block changed the catalog or it has temporary tables (names would
    /// resolve as they do for it alone, under a shared version number).
    pub(crate) fn prepare_lifted(
        &mut self,
        parsed: &Parsed,
    ) -> Option<(Arc<Prepared>, Vec<Datum>)> {
        let Parsed::Statement(stmt) = parsed else {
            return None;
        };
        if !self.staged.is_empty() || !self.temps_now().is_empty() {
            return None;
        }
        let (form, values) = crate::sql::literals::lift(stmt)?;
        let key = (
            form.to_string(),
            self.store.catalog.version(),
            self.settings.generation(),
        );
        let prepared = match self.lifted.get(&key) {
            Some(p) => p.clone(),
            None => {
                // A form that does not prepare runs as sent, which gives
                // the error the client should see.
                let p = self
                    .prepare_parsed(Parsed::Statement(Box::new(form)))
                    .ok()
                    .filter(|p| {
                        matches!(
                            p.kind,
                            Kind::Query | Kind::Update | Kind::Delete | Kind::Insert
                        )
                    })
                    .map(Arc::new);
                crate::exec::query::remember(&mut self.lifted, CAPACITY, key, p.clone());
                p
            }
        };
        // The same form may come with constants of other kinds (`id = 2`,
        // `id = 'two'`): each query's own are checked.
        let prepared = prepared.filter(|p| kinds_match(&p.params, &values))?;
        let params = values
            .into_iter()
            .map(|v| match v {
                Lifted::Int(i) | Lifted::Stored(i) => Datum::Int(i),
                Lifted::Text(s) => Datum::Text(s),
            })
            .collect();
        Some((prepared, params))
    }
}

/// Whether each parameter was inferred of its constant's kind, a stored
/// integer in the parameter's range (an out-of-range literal keeps its own
/// type, and its own error when it is stored; compared, any integer).
fn kinds_match(params: &[PgType], values: &[Lifted]) -> bool {
    params.len() == values.len()
        && params.iter().zip(values).all(|(ty, v)| match v {
            Lifted::Int(_) => matches!(ty, PgType::Int2 | PgType::Int4 | PgType::Int8),
            Lifted::Stored(i) => match ty {
                PgType::Int2 => i16::try_from(*i).is_ok(),
                PgType::Int4 => i32::try_from(*i).is_ok(),
                PgType::Int8 => true,
                _ => false,
            },
            Lifted::Text(_) => matches!(ty, PgType::Text | PgType::Varchar(_)),
        })
}
