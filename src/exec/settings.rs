//! Session settings: SET, RESET and SHOW for the parameters PostgreSQL
//! clients send and read.

use crate::types::zone::Zone;
use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use sqlparser::ast::{Expr, Reset, Set, Statement, Value};

use crate::error::{Error, Result};
use crate::exec::isolation::{Level, Modes};
use crate::exec::{Outcome, Session};

mod show;
pub use show::{show, show_columns};

/// The server version reported to clients: MosaicDB answers as
/// PostgreSQL 15 does (and is compared with it).
pub const SERVER_VERSION: &str = "15.8";

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
    ("idle_session_timeout", "0"),
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
    ("max_connections", "100"),
    ("max_identifier_length", "63"),
    ("max_index_keys", "32"),
    ("mosaic.partial_results", "off"),
    ("mosaic.result_cache", "on"),
    ("search_path", "\"$user\", public"),
    ("server_encoding", "UTF8"),
    ("server_version", SERVER_VERSION),
    ("server_version_num", "150008"),
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
    "max_index_keys",
    "max_connections",
    "is_superuser",
    "session_authorization",
];

/// FIXED settings that a restart with other flags changes.
const AT_START: &[&str] = &["max_connections"];

/// Parameters whose changes the client is told about with ParameterStatus
/// (PostgreSQL's GUC_REPORT set, as far as MosaicDB has them), by their
/// lowercase name and the spelling the protocol uses. Poolers depend on
/// this: PgBouncer only re-sends `SET application_name` and friends to a
/// server connection whose value it learnt from a ParameterStatus.
const REPORTED: &[(&str, &str)] = &[
    ("application_name", "application_name"),
    ("client_encoding", "client_encoding"),
    ("datestyle", "DateStyle"),
    (
        "default_transaction_read_only",
        "default_transaction_read_only",
    ),
    ("integer_datetimes", "integer_datetimes"),
    ("intervalstyle", "IntervalStyle"),
    ("is_superuser", "is_superuser"),
    ("server_encoding", "server_encoding"),
    ("server_version", "server_version"),
    ("standard_conforming_strings", "standard_conforming_strings"),
    ("timezone", "TimeZone"),
];

/// Startup packet keys that are not settings.
const NOT_SETTINGS: &[&str] = &["user", "database", "replication", "options"];

/// A session's settings. The values are shared with the session's
/// `current_setting()` SQL function (see [`register_functions`]),
/// which runs inside SQLite and cannot reach the `Session`, and with the
/// wire layer, which reports changes to the client (see [`Settings::share`]).
#[derive(Debug, Default, Clone)]
pub struct Settings {
    values: Arc<Mutex<Values>>,
}

#[derive(Debug, Default)]
struct Values {
    /// Set in this session with SET or set_config().
    set: BTreeMap<String, String>,
    /// From the connection's startup packet: what RESET returns to.
    startup: BTreeMap<String, String>,
    /// The open transaction's `transaction_isolation` and
    /// `transaction_read_only`; outside one, they read as the defaults.
    txn: Option<(&'static str, &'static str)>,
    /// Bumped by every change, so readers can skip unchanged settings.
    generation: u64,
    /// Inside a transaction block: `set` as it was at BEGIN (a ROLLBACK
    /// puts it back) and the names SET LOCAL changed (put back at the
    /// block's end either way), as PostgreSQL scopes settings.
    block: Option<(BTreeMap<String, String>, Vec<String>)>,
}

impl Values {
    fn get(&self, name: &str) -> Option<String> {
        let name = match (name, self.txn) {
            ("transaction_isolation", Some((level, _))) => return Some(level.into()),
            ("transaction_read_only", Some((_, ro))) => return Some(ro.into()),
            ("transaction_isolation", None) => "default_transaction_isolation",
            ("transaction_read_only", None) => "default_transaction_read_only",
            (other, _) => other,
        };
        self.set
            .get(name)
            .or_else(|| self.startup.get(name))
            .cloned()
            .or_else(|| {
                DEFAULTS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
    }
}

impl Settings {
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.lock().get(&name.to_lowercase())
    }

    /// Every setting the session changed from its default, for the key of
    /// what may depend on one (`exec::fragment`'s kept results).
    pub fn fingerprint(&self) -> String {
        let v = self.values.lock();
        let mut out = String::new();
        for (name, value) in v.startup.iter().chain(v.set.iter()) {
            out.push_str(&format!("{name}\0{value}\0"));
        }
        out
    }

    /// The session's TimeZone (UTC where the setting cannot be read,
    /// which SET never lets happen).
    pub fn zone(&self) -> Zone {
        self.values
            .lock()
            .get("timezone")
            .and_then(|v| Zone::from_setting(&v).ok())
            .map_or(Zone::UTC, |(z, _)| z)
    }

    pub fn set(&self, name: &str, value: String) -> Result<()> {
        let name = name.to_lowercase();
        let value = self.checked(&name, value)?;
        let mut values = self.values.lock();
        values.set.insert(name, value);
        values.generation += 1;
        Ok(())
    }

    /// A transaction block begins: what its end may put back.
    pub fn begin_block(&self) {
        let mut v = self.values.lock();
        if v.block.is_none() {
            v.block = Some((v.set.clone(), Vec::new()));
        }
    }

    /// The block ends: a ROLLBACK puts back every setting as it was at
    /// BEGIN, a COMMIT those SET LOCAL changed.
    pub fn end_block(&self, committed: bool) {
        let mut v = self.values.lock();
        let Some((saved, local)) = v.block.take() else {
            return;
        };
        let before = v.set.clone();
        if committed {
            for name in local {
                match saved.get(&name) {
                    Some(old) => v.set.insert(name, old.clone()),
                    None => v.set.remove(&name),
                };
            }
        } else {
            v.set = saved;
        }
        if v.set != before {
            v.generation += 1;
        }
    }

    /// SET LOCAL: for the rest of the block; false outside one, where
    /// PostgreSQL only warns.
    pub fn set_local(&self, name: &str, value: String) -> Result<bool> {
        let name = name.to_lowercase();
        if self.values.lock().block.is_none() {
            return Ok(false);
        }
        self.set(&name, value)?;
        if let Some((_, local)) = self.values.lock().block.as_mut() {
            local.push(name);
        }
        Ok(true)
    }

    /// The open transaction's isolation level and read-only flag, as
    /// `SHOW` and `current_setting()` report them; `None` when it ends.
    pub fn set_transaction(&self, modes: Option<(&'static str, &'static str)>) {
        self.values.lock().txn = modes;
    }

    /// The value `name` may take, normalised, or why not.
    fn checked(&self, name: &str, value: String) -> Result<String> {
        let known = DEFAULTS.iter().any(|(n, _)| *n == name);
        if !known && !name.contains('.') {
            return Err(Error::UnknownSetting(name.to_string()));
        }
        if FIXED.contains(&name) {
            if self.get(name).as_deref() == Some(value.as_str()) {
                return Ok(value);
            }
            let when = match AT_START.contains(&name) {
                true => " without restarting the server",
                false => "",
            };
            return Err(Error::CantChangeParameter(format!(
                "parameter \"{name}\" cannot be changed{when}"
            )));
        }
        Ok(match name {
            "timezone" => timezone(&value)?,
            "lc_monetary" | "lc_numeric" | "lc_time" | "lc_messages" => locale(name, &value)?,
            "mosaic.partial_results" | "mosaic.result_cache" | "default_transaction_read_only" => {
                boolean(name, &value)?
            }
            "default_transaction_isolation" => Level::parse(&value, name)?.name().to_string(),
            // They belong to the open transaction: SET and SET TRANSACTION
            // reach them through the session.
            "transaction_isolation" | "transaction_read_only" => {
                return Err(Error::Unsupported(format!(
                    "setting {name} with set_config(); use SET TRANSACTION"
                )))
            }
            "client_encoding" => {
                let v = value.to_uppercase().replace('-', "");
                if v != "UTF8" && v != "UNICODE" {
                    return Err(Error::Unsupported(format!("client_encoding {value}")));
                }
                "UTF8".to_string()
            }
            "datestyle" => datestyle(&value, &self.get("datestyle").unwrap_or_default())?,
            "intervalstyle" => interval_style(&value)?,
            n if DURATIONS.contains(&n) => duration_text(millis(&value)?),
            _ => value,
        })
    }

    /// A fact of this server that the session shows (`max_connections`
    /// as the node was started with): what SHOW and RESET give, which SET
    /// may not change. Set before the startup packet's parameters.
    pub fn server_fact(&self, name: &str, value: String) {
        let mut values = self.values.lock();
        values.startup.insert(name.to_string(), value);
        values.generation += 1;
    }

    /// Takes the settings a client put in its startup packet (and in its
    /// `options`, as `-c name=value`) as this session's defaults, the
    /// values RESET returns to. Values this server cannot take (another
    /// time zone, an unknown name) are left out rather than refusing the
    /// connection, and returned for the caller to log.
    pub fn apply_startup<'a>(
        &self,
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<(String, Error)> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in params {
            if key == "options" {
                pairs.extend(options_settings(value));
            } else if !NOT_SETTINGS.contains(&key) {
                pairs.push((key.to_lowercase(), value.to_string()));
            }
        }
        let mut refused = Vec::new();
        for (name, value) in pairs {
            match self.checked(&name, value) {
                Ok(value) => {
                    let mut values = self.values.lock();
                    values.startup.insert(name, value);
                    values.generation += 1;
                }
                Err(e) => refused.push((name, e)),
            }
        }
        refused
    }

    pub fn reset(&mut self, name: Option<&str>) {
        let mut values = self.values.lock();
        match name {
            Some(n) => {
                values.set.remove(&n.to_lowercase());
            }
            None => values.set.clear(),
        }
        values.generation += 1;
    }

    /// Another handle on the same values, for the wire layer.
    pub fn share(&self) -> Settings {
        Settings {
            values: self.values.clone(),
        }
    }

    /// A number that changes whenever any setting does.
    pub fn generation(&self) -> u64 {
        self.values.lock().generation
    }

    /// The current values of the parameters reported to the client with
    /// ParameterStatus, under their protocol names.
    pub fn reported(&self) -> Vec<(&'static str, String)> {
        let values = self.values.lock();
        REPORTED
            .iter()
            .map(|(name, wire)| (*wire, values.get(name).unwrap_or_default()))
            .collect()
    }

    /// statement_timeout in milliseconds (0 = none).
    pub fn statement_timeout_ms(&self) -> u64 {
        self.millis("statement_timeout")
    }

    /// A timeout setting in milliseconds (0 = none).
    pub fn millis(&self, name: &str) -> u64 {
        self.get(name).and_then(|v| millis(&v).ok()).unwrap_or(0)
    }

    pub fn all(&self) -> Vec<(String, String)> {
        let values = self.values.lock();
        let mut names: Vec<String> = DEFAULTS.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(values.startup.keys().cloned());
        names.extend(values.set.keys().cloned());
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| {
                let v = values.get(&n).unwrap_or_default();
                (n, v)
            })
            .collect()
    }
}

/// The `-c name=value` and `--name=value` settings in a startup packet's
/// `options` (space-separated; a backslash escapes the next character).
fn options_settings(options: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut pairs = Vec::new();
    let mut words = words.into_iter();
    while let Some(w) = words.next() {
        let assignment = if w == "-c" {
            words.next()
        } else {
            w.strip_prefix("--")
                .or_else(|| w.strip_prefix("-c"))
                .map(str::to_string)
        };
        if let Some((name, value)) = assignment.as_deref().and_then(|a| a.split_once('=')) {
            pairs.push((name.replace('-', "_").to_lowercase(), value.to_string()));
        }
    }
    pairs
}

/// `current_setting` and `set_config` read and write the session's
/// settings as they are when they run.
impl crate::store::udf::session::Settings for Settings {
    fn get(&self, name: &str) -> Option<String> {
        Settings::get(self, name)
    }

    fn set(&self, name: &str, value: String) -> Result<()> {
        Settings::set(self, name, value)
    }

    fn set_local(&self, name: &str, value: String) -> Result<bool> {
        Settings::set_local(self, name, value)
    }
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

/// The locales a session may name: C's, and for numbers, times and
/// messages English ones, which write as C does (`to_char`'s `D`, `G`,
/// month and day names). Any other would change what PostgreSQL writes
/// (`L` is `$` under `en_US`), so it is refused rather than ignored.
fn locale(name: &str, v: &str) -> Result<String> {
    let l = v.to_ascii_lowercase();
    let c = matches!(l.as_str(), "" | "c" | "posix" | "c.utf-8" | "c.utf8");
    let english = ["en_us", "en_gb"].iter().any(|e| l.starts_with(e));
    if c || (english && name != "lc_monetary") {
        return Ok(v.to_string());
    }
    Err(Error::Unsupported(format!(
        "{name} \"{v}\" (MosaicDB formats as the C locale)"
    )))
}

/// PostgreSQL's warning for SET LOCAL outside a transaction block (it
/// changes nothing).
fn local_outside_block(sess: &Session) {
    sess.shared.warn_with(
        "25P01",
        "SET LOCAL can only be used in transaction blocks".into(),
    );
}

/// TimeZone as SHOW gives it back (`types::zone::Zone::from_setting`).
fn timezone(v: &str) -> Result<String> {
    if let Some(iv) = v.strip_prefix("INTERVAL ") {
        // SET TIME ZONE INTERVAL '+02:30' HOUR TO MINUTE: hours east.
        let text = iv.trim().trim_start_matches('\'');
        let text = text.split('\'').next().unwrap_or_default();
        let iv = crate::types::interval::Interval::parse(text)?;
        let Zone::Fixed(secs) = Zone::of_interval(&iv)? else {
            return Err(Error::Internal("an interval zone is fixed".into()));
        };
        return Ok(Zone::fixed_setting(secs).1);
    }
    Ok(Zone::from_setting(v)?.1)
}

/// DateStyle as PostgreSQL keeps it, `OUTPUT, ORDER`, with a part left out
/// taken from `current`. Only the ISO output is produced by MosaicDB.
fn datestyle(v: &str, current: &str) -> Result<String> {
    let (mut output, mut order) = current
        .split_once(',')
        .map(|(o, r)| (o.trim().to_string(), r.trim().to_string()))
        .unwrap_or(("ISO".into(), "MDY".into()));
    for part in v.split(',').map(|p| p.trim().to_uppercase()) {
        match part.as_str() {
            "ISO" => output = "ISO".into(),
            "MDY" | "US" | "NONEURO" | "NONEUROPEAN" => order = "MDY".into(),
            "DMY" | "EURO" | "EUROPEAN" => order = "DMY".into(),
            "YMD" => order = "YMD".into(),
            "DEFAULT" => {}
            "SQL" | "POSTGRES" | "GERMAN" => {
                return Err(Error::Unsupported(format!(
                    "DateStyle \"{v}\" (MosaicDB writes dates in ISO style)"
                )))
            }
            _ => {
                return Err(Error::InvalidParameter(format!(
                    "invalid value for parameter \"DateStyle\": \"{v}\""
                )))
            }
        }
    }
    Ok(format!("{output}, {order}"))
}

/// IntervalStyle: intervals are written in the `postgres` style only.
fn interval_style(v: &str) -> Result<String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "postgres" => Ok("postgres".into()),
        "postgres_verbose" | "sql_standard" | "iso_8601" => Err(Error::Unsupported(format!(
            "IntervalStyle \"{v}\" (MosaicDB writes intervals in the postgres style)"
        ))),
        _ => Err(Error::InvalidParameter(format!(
            "invalid value for parameter \"IntervalStyle\": \"{v}\""
        ))
        .with_hint("Available values: postgres, postgres_verbose, sql_standard, iso_8601.")),
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

/// The settings that are durations in milliseconds: SHOW prints them with
/// their unit, `pg_settings` in milliseconds.
pub const DURATIONS: &[&str] = &[
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "idle_session_timeout",
];

/// A duration as SHOW prints it: in the largest unit that divides it
/// (`5s`, `300ms`, `2min`), 0 bare.
fn duration_text(ms: u64) -> String {
    if ms == 0 {
        return "0".into();
    }
    let units = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "min"),
        (1000, "s"),
    ];
    match units.iter().find(|(f, _)| ms.is_multiple_of(*f)) {
        Some((f, unit)) => format!("{}{unit}", ms / f),
        None => format!("{ms}ms"),
    }
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

/// `SET transaction_isolation = …` and `SET transaction_read_only = …`
/// as the `SET TRANSACTION` they mean, and `SET
/// default_transaction_isolation` as `SET SESSION CHARACTERISTICS` (the
/// flag), so a level the node cannot give is refused where it is asked.
fn transaction_setting(name: &str, value: &str) -> Result<Option<(Modes, bool)>> {
    let level = |session| -> Result<Option<(Modes, bool)>> {
        let modes = Modes {
            isolation: Some(Level::parse(value, name)?),
            read_only: None,
        };
        Ok(Some((modes, session)))
    };
    match name {
        _ if value.eq_ignore_ascii_case("default") => Ok(None),
        "transaction_isolation" => level(false),
        "default_transaction_isolation" => level(true),
        "transaction_read_only" => {
            let modes = Modes {
                isolation: None,
                read_only: Some(boolean(name, value)? == "on"),
            };
            Ok(Some((modes, false)))
        }
        _ => Ok(None),
    }
}

pub fn set(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    match stmt {
        Statement::Set(s) => match s {
            Set::SingleAssignment {
                scope: Some(sqlparser::ast::ContextModifier::Local),
                variable,
                values,
                ..
            } if !variable.to_string().eq_ignore_ascii_case("role") => {
                let name = variable.to_string().to_lowercase();
                let value = values.iter().map(value_text).collect::<Vec<_>>().join(", ");
                if transaction_setting(&name, &value)?.is_some() {
                    return Err(Error::Unsupported(format!("SET LOCAL {name}")));
                }
                if value.eq_ignore_ascii_case("default") {
                    return Err(Error::Unsupported("SET LOCAL … TO DEFAULT".into()));
                }
                if !sess.settings.set_local(&name, value)? {
                    local_outside_block(sess);
                }
            }
            Set::SingleAssignment {
                variable, values, ..
            } => {
                let name = variable.to_string().to_lowercase();
                let value = values.iter().map(value_text).collect::<Vec<_>>().join(", ");
                if name == "role" {
                    let role = match values.first() {
                        Some(Expr::Identifier(i)) => crate::sql::ident_name(i),
                        _ => value.clone(),
                    };
                    let none = role == "none" || role == "default";
                    sess.set_role((!none).then_some(role.as_str()))?;
                } else if let Some((modes, session)) = transaction_setting(&name, &value)? {
                    sess.set_transaction(modes, session)?;
                } else if value.eq_ignore_ascii_case("default") {
                    sess.settings.reset(Some(&name));
                } else {
                    sess.settings.set(&name, value)?;
                }
            }
            Set::SetTimeZone { value, local } => {
                let v = value_text(value);
                let reset = v.eq_ignore_ascii_case("local") || v.eq_ignore_ascii_case("default");
                match (*local, reset) {
                    (true, true) => {
                        return Err(Error::Unsupported("SET LOCAL TIME ZONE DEFAULT".into()))
                    }
                    (true, false) => {
                        if !sess.settings.set_local("timezone", v)? {
                            local_outside_block(sess);
                        }
                    }
                    (false, true) => sess.settings.reset(Some("timezone")),
                    (false, false) => sess.settings.set("timezone", v)?,
                }
            }
            Set::SetNames { charset_name, .. } => sess
                .settings
                .set("client_encoding", charset_name.value.clone())?,
            Set::MultipleAssignments { assignments } => {
                for a in assignments {
                    sess.settings
                        .set(&a.name.to_string(), value_text(&a.value))?;
                }
            }
            Set::SetTransaction {
                modes,
                snapshot,
                session,
            } => {
                if snapshot.is_some() {
                    return Err(Error::Unsupported("SET TRANSACTION SNAPSHOT".into()));
                }
                sess.set_transaction(Modes::from_ast(modes)?, *session)?
            }
            Set::SetRole {
                context_modifier: Some(sqlparser::ast::ContextModifier::Local),
                ..
            } => return Err(Error::Unsupported("SET LOCAL ROLE".into())),
            Set::SetRole { role_name, .. } => {
                let name = role_name.as_ref().map(crate::sql::ident_name);
                sess.set_role(name.as_deref().filter(|n| *n != "none"))?
            }
            Set::SetSessionAuthorization(p) => match &p.kind {
                sqlparser::ast::SetSessionAuthorizationParamKind::Default => {
                    sess.set_session_authorization(None)?
                }
                sqlparser::ast::SetSessionAuthorizationParamKind::User(u) => {
                    sess.set_session_authorization(Some(&crate::sql::ident_name(u)))?
                }
            },
            Set::SetSessionParam(_) => {}
            other => return Err(Error::Unsupported(format!("{other}"))),
        },
        Statement::Reset(r) => match &r.reset {
            Reset::ALL => sess.settings.reset(None),
            Reset::ConfigurationParameter(n) if n.to_string().eq_ignore_ascii_case("role") => {
                sess.set_role(None)?
            }
            Reset::ConfigurationParameter(n) => sess.settings.reset(Some(&n.to_string())),
            Reset::SessionAuthorization => sess.set_session_authorization(None)?,
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

#[cfg(test)]
mod tests;
