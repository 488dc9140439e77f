//! SHOW: one setting, or all of them, named as PostgreSQL spells them.

use sqlparser::ast::Statement;

use super::REPORTED;
use crate::error::{Error, Result};
use crate::exec::{Column, Outcome, RowSink, Session};
use crate::types::{Datum, PgType};

/// The setting SHOW names. sqlparser gives `SHOW a.b` as the words `a`,
/// `b`, as it gives `SHOW TIME ZONE`: only PostgreSQL's multi-word forms
/// are words, anything else is one dotted name (`SHOW myapp.tenant`).
fn show_name(stmt: &Statement) -> String {
    let Statement::ShowVariable { variable } = stmt else {
        return String::new();
    };
    let words: Vec<String> = variable.iter().map(|i| i.value.to_lowercase()).collect();
    // sqlparser takes SESSION in `SHOW SESSION AUTHORIZATION` for a scope
    // and leaves the one word (a bare `SHOW authorization` reads the same).
    if words == ["authorization"] {
        return "session authorization".into();
    }
    let spaced = words.join(" ");
    match spaced.as_str() {
        "time zone" | "transaction isolation level" | "session authorization" => spaced,
        _ => words.join("."),
    }
}

fn canonical(name: &str) -> &str {
    match name {
        "time zone" => "timezone",
        "transaction isolation level" => "transaction_isolation",
        "session authorization" => "session_authorization",
        other => other,
    }
}

pub fn show_columns(stmt: &Statement) -> Vec<Column> {
    let name = show_name(stmt);
    if name == "all" {
        return vec![
            Column {
                name: "name".into(),
                ty: PgType::Text,
            },
            Column {
                name: "setting".into(),
                ty: PgType::Text,
            },
            Column {
                name: "description".into(),
                ty: PgType::Text,
            },
        ];
    }
    // Named as the parameter is spelled (`DateStyle`, `TimeZone`).
    let name = canonical(&name);
    let spelled = REPORTED.iter().find(|(n, _)| *n == name);
    vec![Column {
        name: spelled.map_or(name, |(_, s)| s).to_string(),
        ty: PgType::Text,
    }]
}

pub fn show(sess: &mut Session, stmt: &Statement, sink: &mut RowSink) -> Result<Outcome> {
    let name = show_name(stmt);
    if name == "all" {
        let all = sess.settings.all();
        let n = all.len();
        for (k, v) in all {
            sink(vec![
                Datum::Text(k),
                Datum::Text(v),
                Datum::Text(String::new()),
            ])?;
        }
        return Ok(Outcome::Rows { count: n });
    }
    let name = canonical(&name);
    let value = sess.settings.get(name);
    let value = value.ok_or_else(|| Error::UnknownSetting(name.to_string()))?;
    sink(vec![Datum::Text(value)])?;
    Ok(Outcome::Rows { count: 1 })
}
