//! Session settings: SET, RESET and SHOW for the parameters PostgreSQL
//! clients send and read.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use sqlparser::ast::{Expr, Reset, Set, Statement, Value};

use crate::error::{Error, Result};
use crate::exec::{Column, Outcome, RowSink, Session};
use crate::sql::types::{Datum, PgType};

/// The server version reported to clients: PostgreSQL 16 compatible.
pub const SERVER_VERSION: &str = "16.6";

/// Settings known to the server, with their defaults. Names are lowercase.
const DEFAULTS: &[(&str, &str)] = &[
    ("application_name", ""),
    ("bytea_output", "hex"),
    ("client_encoding", "UTF8"),
    ("client_min_messages", "notice"),
    ("datestyle", "ISO, MDY"),
    ("default_table_access_method", "heap"),
    ("default_transaction_isolation", "read committed"),
    ("default_transaction_read_only", "off"),
    ("extra_float_digits", "1"),
    ("idle_in_transaction_session_timeout", "0"),
    ("integer_datetimes", "on"),
    ("intervalstyle", "postgres"),
    ("is_superuser", "on"),
    ("jit", "off"),
    ("lc_collate", "C"),
    ("lc_ctype", "C"),
    ("lc_messages", "C"),
    ("lc_monetary", "C"),
    ("lc_numeric", "C"),
    ("lc_time", "C"),
    ("lock_timeout", "0"),
    ("max_identifier_length", "63"),
    ("mosaic.partial_results", "off"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("server_version", SERVER_VERSION),
    ("server_version_num", "160006"),
    ("standard_conforming_strings", "on"),
    ("statement_timeout", "0"),
    ("synchronous_commit", "on"),
    ("timezone", "UTC"),
    ("transaction_isolation", "read committed"),
    ("transaction_read_only", "off"),
    ("work_mem", "4MB"),
];

/// Settings that clients may set but that cannot change (the server's
/// facts): setting them to another value is refused.
const FIXED: &[&str] = &[
    "server_version",
    "server_version_num",
    "server_encoding",
    "integer_datetimes",
    "lc_collate",
    "lc_ctype",
    "max_identifier_length",
];

/// A session's settings. The values are shared with the session's
/// `current_setting()` SQL function (see [`register_current_setting`]),
/// which runs inside SQLite and cannot reach the `Session`.
#[derive(Debug, Default)]
pub struct Settings {
    values: Arc<Mutex<BTreeMap<String, String>>>,
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<String> {
        let name = name.to_lowercase();
        self.values.lock().get(&name).cloned().or_else(|| {
            DEFAULTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    pub fn set(&self, name: &str, value: String) -> Result<()> {
        let name = name.to_lowercase();
        let known = DEFAULTS.iter().any(|(n, _)| *n == name);
        if !known && !name.contains('.') {
            return Err(Error::UnknownSetting(name));
        }
        if FIXED.contains(&name.as_str()) {
            if self.get(&name).as_deref() == Some(value.as_str()) {
                return Ok(());
            }
            return Err(Error::InvalidParameter(format!(
                "parameter \"{name}\" cannot be changed"
            )));
        }
        let value = match name.as_str() {
            "timezone" => timezone(&value)?,
            "mosaic.partial_results"
            | "transaction_read_only"
            | "default_transaction_read_only" => boolean(&name, &value)?,
            "client_encoding" => {
                let v = value.to_uppercase().replace('-', "");
                if v != "UTF8" && v != "UNICODE" {
                    return Err(Error::Unsupported(format!("client_encoding {value}")));
                }
                "UTF8".to_string()
            }
            "statement_timeout" => millis(&value)?.to_string(),
            _ => value,
        };
        self.values.lock().insert(name, value);
        Ok(())
    }

    pub fn reset(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                self.values.lock().remove(&n.to_lowercase());
            }
            None => self.values.lock().clear(),
        }
    }

    /// statement_timeout in milliseconds (0 = none).
    pub fn statement_timeout_ms(&self) -> u64 {
        self.get("statement_timeout")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub fn all(&self) -> Vec<(String, String)> {
        let mut names: Vec<String> = DEFAULTS.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(self.values.lock().keys().cloned());
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| {
                let v = self.get(&n).unwrap_or_default();
                (n, v)
            })
            .collect()
    }
}

/// Registers `current_setting(name [, missing_ok])` and
/// `set_config(name, value, is_local)` on the session's connection, reading
/// and writing `settings` as they are when they run. Like `SET LOCAL`,
/// `is_local` is not honoured: the value stays for the session.
pub fn register_functions(conn: &Connection, settings: &Settings) -> rusqlite::Result<()> {
    let writable = Settings {
        values: settings.values.clone(),
    };
    conn.create_scalar_function("set_config", 3, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let name: Option<String> = ctx.get(0)?;
        let value: Option<String> = ctx.get(1)?;
        let Some(name) = name else {
            return Err(crate::sql::functions::fail(Error::InvalidParameter(
                "SET requires parameter name".into(),
            )));
        };
        writable
            .set(&name, value.unwrap_or_default())
            .map_err(crate::sql::functions::fail)?;
        Ok(writable.get(&name))
    })?;
    let settings = Settings {
        values: settings.values.clone(),
    };
    conn.create_scalar_function(
        "current_setting",
        -1,
        FunctionFlags::SQLITE_UTF8,
        move |ctx| {
            if ctx.is_empty() || ctx.len() > 2 {
                return Err(crate::sql::functions::fail(Error::NoSuchFunction(
                    "current_setting".into(),
                )));
            }
            let name: Option<String> = ctx.get(0)?;
            let Some(name) = name else {
                return Ok(None);
            };
            let missing_ok =
                ctx.len() == 2 && matches!(ctx.get_raw(1), ValueRef::Integer(i) if i != 0);
            match settings.get(&name) {
                Some(v) => Ok(Some(v)),
                None if missing_ok => Ok(None),
                None => Err(crate::sql::functions::fail(Error::UnknownSetting(name))),
            }
        },
    )
}

fn boolean(name: &str, v: &str) -> Result<String> {
    match v.to_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" => Ok("on".into()),
        "off" | "false" | "no" | "0" | "f" => Ok("off".into()),
        _ => Err(Error::InvalidParameter(format!(
            "parameter \"{name}\" requires a Boolean value"
        ))),
    }
}

fn timezone(v: &str) -> Result<String> {
    match v.to_uppercase().as_str() {
        "UTC" | "GMT" | "Z" | "ZULU" | "ETC/UTC" | "UCT" | "0" | "+00" | "+00:00" => {
            Ok("UTC".into())
        }
        _ => Err(Error::Unsupported(format!(
            "time zone \"{v}\" (MosaicDB sessions run in UTC)"
        ))),
    }
}

/// A duration setting in milliseconds: `5000`, `'5s'`, `'2min'`.
fn millis(v: &str) -> Result<u64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| Error::InvalidParameter(format!("invalid value for a duration: \"{v}\"")))?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(Error::InvalidParameter(format!("invalid unit in \"{v}\""))),
    };
    Ok(n * factor)
}

/// The text of a SET value as PostgreSQL takes it.
fn value_text(e: &Expr) -> String {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            Value::Number(n, _) => n.clone(),
            other => other.to_string(),
        },
        Expr::Identifier(i) => i.value.clone(),
        other => other.to_string().trim_matches('\'').to_string(),
    }
}

pub fn set(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    match stmt {
        Statement::Set(s) => match s {
            Set::SingleAssignment {
                variable, values, ..
            } => {
                let name = variable.to_string();
                let value = values.iter().map(value_text).collect::<Vec<_>>().join(", ");
                if value.eq_ignore_ascii_case("default") {
                    sess.settings.reset(Some(&name));
                } else {
                    sess.settings.set(&name, value)?;
                }
            }
            Set::SetTimeZone { value, .. } => sess.settings.set("timezone", value_text(value))?,
            Set::SetNames { charset_name, .. } => sess
                .settings
                .set("client_encoding", charset_name.value.clone())?,
            Set::MultipleAssignments { assignments } => {
                for a in assignments {
                    sess.settings
                        .set(&a.name.to_string(), value_text(&a.value))?;
                }
            }
            Set::SetTransaction { .. } | Set::SetSessionParam(_) | Set::SetRole { .. } => {}
            other => return Err(Error::Unsupported(format!("{other}"))),
        },
        Statement::Reset(r) => match &r.reset {
            Reset::ALL => sess.settings.reset(None),
            Reset::ConfigurationParameter(n) => sess.settings.reset(Some(&n.to_string())),
            Reset::SessionAuthorization => {}
        },
        _ => return Err(Error::Internal("not a SET".into())),
    }
    Ok(Outcome::Command(
        if matches!(stmt, Statement::Reset(_)) {
            "RESET"
        } else {
            "SET"
        }
        .into(),
    ))
}

fn show_name(stmt: &Statement) -> String {
    match stmt {
        Statement::ShowVariable { variable } => variable
            .iter()
            .map(|i| i.value.to_lowercase())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn canonical(name: &str) -> &str {
    match name {
        "time zone" => "timezone",
        "transaction isolation level" => "transaction_isolation",
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
    vec![Column {
        name: canonical(&name).to_string(),
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
    let value = match name {
        "timezone" => Some("UTC".to_string()),
        _ => sess.settings.get(name),
    };
    let value = value.ok_or_else(|| Error::UnknownSetting(name.to_string()))?;
    sink(vec![Datum::Text(value)])?;
    Ok(Outcome::Rows { count: 1 })
}
