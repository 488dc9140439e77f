//! `nextval`, `currval`, `setval` and `lastval` on a session's connection
//! (and `mosaic_nextval`, which column defaults call), with PostgreSQL's
//! per-session `currval`/`lastval` state. Sequences are looked up as the
//! session sees the catalog, its uncommitted DDL included.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::error::Error;
use crate::store::sequences::Sequences;
use crate::store::udf::pg_catalog::Lookup;
use crate::store::udf::{as_text, fail};
use crate::types::sequence::SequenceDef;
use crate::types::PgType;

/// What this session drew: each sequence's last value, and the last
/// sequence nextval ran on (`currval`, `lastval`).
#[derive(Debug, Default)]
pub struct Drawn {
    current: HashMap<String, i64>,
    last: Option<String>,
}

impl Drawn {
    /// DISCARD SEQUENCES: nothing drawn any more, as far as `currval` and
    /// `lastval` know.
    pub fn clear(&mut self) {
        self.current.clear();
        self.last = None;
    }
}

pub(crate) fn register(
    conn: &Connection,
    lookup: Arc<dyn Lookup>,
    sequences: Arc<Sequences>,
    drawn: Arc<Mutex<Drawn>>,
) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8;
    for (function, implicit) in [("nextval", false), ("mosaic_nextval", true)] {
        let (l, s, d) = (lookup.clone(), sequences.clone(), drawn.clone());
        conn.create_scalar_function(function, 1, flags, move |c| {
            // A column default names its sequence by its catalog name.
            let name = match implicit {
                true => c.get::<Option<String>>(0)?,
                false => sequence_arg(c, 0, &*l)?,
            };
            let Some(name) = name else {
                return Ok(None);
            };
            let (def, durable) = match l.sequence(&name) {
                Some(found) => found,
                // A serial default of a table this very statement made.
                None if implicit => (SequenceDef::serial(PgType::Int8), false),
                None => return Err(fail(Error::NoSuchTable(name))),
            };
            l.sequence_call(&name, "nextval").map_err(fail)?;
            let v = s.next_value(&name, &def, durable).map_err(fail)?;
            let mut d = d.lock();
            d.current.insert(name.clone(), v);
            d.last = Some(name);
            Ok(Some(v))
        })?;
    }
    let (l, d) = (lookup.clone(), drawn.clone());
    conn.create_scalar_function("currval", 1, flags, move |c| {
        let Some(name) = sequence_arg(c, 0, &*l)? else {
            return Ok(None);
        };
        if l.sequence(&name).is_none() {
            return Err(fail(Error::NoSuchTable(name)));
        }
        l.sequence_call(&name, "currval").map_err(fail)?;
        match d.lock().current.get(&name) {
            Some(v) => Ok(Some(*v)),
            None => Err(fail(Error::ObjectNotInState(format!(
                "currval of sequence \"{name}\" is not yet defined in this session"
            )))),
        }
    })?;
    let d = drawn.clone();
    conn.create_scalar_function("lastval", 0, flags, move |_| {
        let d = d.lock();
        match d.last.as_ref().and_then(|n| d.current.get(n)) {
            Some(v) => Ok(*v),
            None => Err(fail(Error::ObjectNotInState(
                "lastval is not yet defined in this session".into(),
            ))),
        }
    })?;
    for n in [2, 3] {
        let (l, s, d) = (lookup.clone(), sequences.clone(), drawn.clone());
        conn.create_scalar_function("setval", n, flags, move |c| {
            let Some(name) = sequence_arg(c, 0, &*l)? else {
                return Ok(None);
            };
            let Some(value) = c.get::<Option<i64>>(1)? else {
                return Ok(None);
            };
            let called = match n {
                3 => match c.get::<Option<bool>>(2)? {
                    Some(b) => b,
                    None => return Ok(None),
                },
                _ => true,
            };
            let Some((def, durable)) = l.sequence(&name) else {
                return Err(fail(Error::NoSuchTable(name)));
            };
            l.sequence_call(&name, "setval").map_err(fail)?;
            s.set_value(&name, &def, value, called, durable)
                .map_err(fail)?;
            if called {
                d.lock().current.insert(name, value);
            }
            Ok(Some(value))
        })?;
    }
    Ok(())
}

/// A sequence argument: its name as text (`'s'`, `'public.s'`,
/// `'"S"'`, found along the search path) or, after `::regclass`, its
/// oid; as its catalog name. NULL is `None`.
fn sequence_arg(
    c: &Context<'_>,
    i: usize,
    lookup: &dyn Lookup,
) -> rusqlite::Result<Option<String>> {
    let text = match c.get_raw(i) {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(oid) => match lookup.relation_name(oid) {
            Some(name) => name,
            None => {
                return Err(fail(Error::InvalidParameter(format!(
                    "could not open relation with OID {oid}"
                ))))
            }
        },
        v => match as_text(v) {
            Some(t) => t,
            None => return Ok(None),
        },
    };
    Ok(Some(lookup.resolve(&text)))
}
