//! `ALTER { TABLE | VIEW } [IF EXISTS] name SET SCHEMA s` and `ALTER TYPE
//! name SET SCHEMA s`, which sqlparser does not read: pre-parsed like
//! ALTER SEQUENCE.

use super::alter_sequence::Cursor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct SetSchema {
    /// ALTER VIEW (else ALTER TABLE, which may name a view too).
    pub view: bool,
    /// ALTER TYPE (an enum type or a domain).
    pub of_type: bool,
    pub if_exists: bool,
    /// The relation's catalog name as written (`s.t`, or `t` for the
    /// search path to resolve).
    pub name: String,
    pub schema: String,
}

/// The SET SCHEMA `sql` is, if it is one (`None`: leave it to others).
pub fn parse(sql: &str) -> Option<Result<SetSchema>> {
    let mut c = Cursor::new(sql).ok()?;
    if !c.eat("alter") {
        return None;
    }
    let (view, of_type) = if c.eat("table") {
        (false, false)
    } else if c.eat("view") {
        (true, false)
    } else if c.eat("type") {
        (false, true)
    } else {
        return None;
    };
    let if_exists = !of_type && c.eat("if") && c.eat("exists");
    if !view && !of_type {
        c.eat("only");
    }
    let name = match c.dotted().ok()?.as_slice() {
        [t] => t.clone(),
        [s, t] => crate::types::schema::qualify(s, t),
        _ => return None,
    };
    if !(c.eat("set") && c.eat("schema")) {
        return None;
    }
    let schema = match c.ident() {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    if let Err(e) = c.finish() {
        return Some(Err(e));
    }
    Some(Ok(SetSchema {
        view,
        of_type,
        if_exists,
        name,
        schema,
    }))
}
