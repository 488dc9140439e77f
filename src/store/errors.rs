//! The one conversion from SQLite errors to MosaicDB errors, with the
//! SQLSTATE PostgreSQL would give: a busy or locked database is 40001, an
//! interrupted statement 57014, constraint failures 23505 / 23502 / 23514,
//! and a function of `store::udf` that fails the way PostgreSQL fails
//! carries its SQLSTATE in the message (`SSSSS: message`, see
//! [`fail`]). SQLite reports constraint failures as text; the shapes below
//! are SQLite's own messages, turned into PostgreSQL's words.

use crate::error::Error;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        map(e)
    }
}

/// A syntax error in PostgreSQL's words: SQLite's `near "X": syntax error`
/// reads `syntax error at or near "X"`, its `incomplete input` reads
/// `syntax error at end of input`.
/// Between a table's name and a CHECK constraint's in the name SQLite
/// knows the constraint by, so that its failure names both.
const CHECK_NAME_SEPARATOR: char = '\u{1f}';

/// The name an open segment gives SQLite for CHECK constraint `name` of
/// `table`.
pub(crate) fn check_constraint_name(table: &str, name: &str) -> String {
    format!("{table}{CHECK_NAME_SEPARATOR}{name}")
}

/// What begins the name an open segment gives SQLite for a constraint
/// of a column's domain: `\u{1e}domain\u{1f}constraint` (an empty
/// constraint name for the domain's NOT NULL).
const DOMAIN_MARK: char = '\u{1e}';

/// The name an open segment gives SQLite for constraint `name` (`None`:
/// NOT NULL) of domain `domain`.
pub(crate) fn domain_constraint_name(domain: &str, name: Option<&str>) -> String {
    format!(
        "{DOMAIN_MARK}{domain}{CHECK_NAME_SEPARATOR}{}",
        name.unwrap_or_default()
    )
}

/// PostgreSQL's error for a value that breaks constraint `name` (`None`:
/// NOT NULL) of domain `domain`.
pub(crate) fn domain_violation(domain: &str, name: Option<&str>) -> Error {
    match name {
        None => Error::NotNullViolation(format!("domain {domain} does not allow null values")),
        Some(c) => Error::CheckViolation(format!(
            "value for domain {domain} violates check constraint \"{c}\""
        )),
    }
}

/// The error for a failed SQLite CHECK named `name`: a table's (see
/// [`check_constraint_name`]) or a column's domain's.
fn check_failed(name: &str) -> Error {
    if let Some(domain) = name.strip_prefix(DOMAIN_MARK) {
        let (domain, c) = domain
            .split_once(CHECK_NAME_SEPARATOR)
            .unwrap_or((domain, ""));
        return domain_violation(domain, Some(c).filter(|n| !n.is_empty()));
    }
    Error::CheckViolation(match name.split_once(CHECK_NAME_SEPARATOR) {
        Some((table, c)) => {
            let table = crate::types::schema::split(table).1;
            format!("new row for relation \"{table}\" violates check constraint \"{c}\"")
        }
        // A segment made before its constraints carried their table.
        None => format!("new row violates check constraint \"{name}\""),
    })
}

fn syntax_error(msg: &str) -> Option<Error> {
    // SQLite's parser stack or expression depth ran out on the translated
    // SQL of a deeply nested statement.
    if msg == "Recursion limit" || msg.starts_with("Expression tree is too large") {
        return Some(Error::TooComplex("statement is nested too deeply".into()));
    }
    if let Some(rest) = msg.strip_prefix("near \"") {
        let token = rest.split("\": ").next().unwrap_or(rest);
        return Some(Error::Syntax(format!(
            "syntax error at or near \"{token}\""
        )));
    }
    if msg.contains("incomplete input") {
        return Some(Error::Syntax("syntax error at end of input".into()));
    }
    if msg.contains("syntax error") {
        return Some(Error::Syntax("syntax error".into()));
    }
    None
}

/// Wrap a crate error into an SQLite function error carrying its marker.
/// A DETAIL rides along as a `\nDETAIL: ` line, which
/// [`error_from_message`] takes back out.
pub(crate) fn fail(e: Error) -> rusqlite::Error {
    let detail = e
        .detail()
        .map(|d| format!("{DETAIL_LINE}{d}"))
        .unwrap_or_default();
    let hint = e
        .hint()
        .map(|h| format!("{HINT_LINE}{h}"))
        .unwrap_or_default();
    rusqlite::Error::UserFunctionError(format!("{}: {e}{detail}{hint}", e.sqlstate()).into())
}

/// Where the DETAIL of an error that crossed SQLite as text begins.
const DETAIL_LINE: &str = "\nDETAIL: ";

/// Where its HINT begins (after any DETAIL).
const HINT_LINE: &str = "\nHINT: ";

const KNOWN_STATES: &[&str] = &[
    "22P02", "22003", "22012", "22001", "22008", "22023", "22011", "0A000", "42804", "XX000",
    "42P01", "42704", "42883", "21000", "2200H", "55000", "2201E", "2201F", "22004", "22025",
    "2201B", "2201W", "2201X", "57014", "58000", "22007", "22015", "42501", "42P18", "42601",
    "2201G", "2203A", "2203B", "2203C", "22033", "22036", "22038", "22039", "22000", "54000",
    "2202E", "22021", "22P05", "3F000", "3D000", "23514", "23502",
];

/// The SQLSTATE and message of an SQLite error message that carries the
/// marker (see the module doc); `None` for any other message.
pub fn sqlstate_of_message(msg: &str) -> Option<(&'static str, String)> {
    let (code, rest) = msg.split_once(": ")?;
    let state = KNOWN_STATES.iter().find(|s| **s == code)?;
    Some((state, rest.to_string()))
}

/// The crate error an SQLite error message stands for, when it carries
/// the marker.
pub fn error_from_message(msg: &str) -> Option<Error> {
    let (state, m) = sqlstate_of_message(msg)?;
    if let Some((m, hint)) = m.split_once(HINT_LINE) {
        let e = error_from_message(&format!("{state}: {m}"))?;
        return Some(e.with_hint(hint));
    }
    if let Some((m, detail)) = m.split_once(DETAIL_LINE) {
        let e = error_from_message(&format!("{state}: {m}"))?;
        return Some(e.with_detail(detail));
    }
    Some(match state {
        "22P02" => Error::InvalidInput(m),
        "22003" => Error::NumericOutOfRange(m),
        "22012" => Error::DivisionByZero(m),
        "22001" => Error::StringTooLong(m),
        "22008" => Error::DatetimeFieldOverflow(m),
        "22007" => Error::InvalidDatetimeFormat(m),
        "22015" => Error::IntervalFieldOverflow(m),
        "42P18" => Error::IndeterminateDatatype(m),
        "0A000" => match m.strip_suffix(" is not supported") {
            Some(what) => Error::Unsupported(what.to_string()),
            None => Error::NotSupported(m),
        },
        "42804" => Error::DatatypeMismatch(m),
        "XX000" => match m.strip_prefix("internal error: ") {
            Some(m) => Error::Internal(m.to_string()),
            None => Error::Geometry(m),
        },
        "42P01" => Error::NoSuchTable(m.split('"').nth(1).map(str::to_string).unwrap_or(m)),
        "42704" => Error::NoSuchObject(m),
        "3F000" => Error::NoSuchSchema(m.split('"').nth(1).map(str::to_string).unwrap_or(m)),
        "3D000" => Error::NoSuchDatabase(m.split('"').nth(1).map(str::to_string).unwrap_or(m)),
        "42883" => Error::NoSuchFunction(
            m.strip_prefix("function ")
                .and_then(|f| f.strip_suffix(" does not exist"))
                .map(str::to_string)
                .unwrap_or(m),
        ),
        "57014" => Error::Canceled,
        "58000" => Error::Unavailable(m),
        "21000" => Error::CardinalityViolation,
        "2200H" => Error::SequenceLimit(m),
        "55000" => Error::ObjectNotInState(m),
        "2201E" => Error::InvalidArgumentForLog(m),
        "2201F" => Error::InvalidArgumentForPower(m),
        "22004" => Error::NullValueNotAllowed(m),
        "22025" => Error::InvalidEscapeSequence(m),
        "2201B" => Error::InvalidRegex(m),
        "2201W" => Error::InvalidRowCount(m),
        "2201X" => Error::InvalidOffset(m),
        "2201G" => Error::InvalidWidthBucket(m),
        "22011" => Error::SubstringError(m),
        "2202E" => Error::ArrayElementError(m),
        "22021" => Error::CharacterNotInRepertoire(m),
        "22P05" => Error::UntranslatableCharacter(m),
        "42601" => Error::Syntax(m),
        "23514" => Error::CheckViolation(m),
        "23502" => Error::NotNullViolation(m),
        "2203A" | "2203B" | "2203C" | "22033" | "22036" | "22038" | "22039" => {
            Error::JsonPath(state, m)
        }
        "42501" => Error::PermissionDenied(m),
        "22000" => Error::DataException(m),
        "54000" => Error::ProgramLimit(m),
        _ => Error::InvalidParameter(m),
    })
}

/// What SQLite says in words PostgreSQL has other words (and SQLSTATEs) for.
fn worded(msg: &str) -> Option<Error> {
    if msg == "row value misused" {
        return Some(Error::Unsupported(
            "a row value here (row values are built for comparisons and IN)".into(),
        ));
    }
    if msg.starts_with("ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint") {
        return Some(Error::InvalidColumnReference(
            "there is no unique or exclusion constraint matching the ON CONFLICT specification"
                .into(),
        ));
    }
    None
}

/// Map a SQLite error raised while running a statement.
fn map(e: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        // SQLITE_BUSY_SNAPSHOT: this transaction read a snapshot that another
        // transaction's commit has since replaced, so it cannot write.
        if f.extended_code == 517 {
            return Error::SerializationFailure(
                "could not serialize access due to concurrent update".into(),
            );
        }
    }
    let (code, msg) = match &e {
        rusqlite::Error::SqliteFailure(f, m) => (Some(f.code), m.clone().unwrap_or_default()),
        rusqlite::Error::SqlInputError { msg, .. } => (None, msg.clone()),
        other => (None, other.to_string()),
    };
    if let Some(e) = error_from_message(&msg) {
        return e;
    }
    match code {
        Some(ErrorCode::OperationInterrupted) => return Error::Canceled,
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            return Error::SerializationFailure(
                "another transaction holds the write lock on this node".into(),
            )
        }
        _ => {}
    }
    if let Some(e) = worded(&msg) {
        return e;
    }
    if let Some(rest) = msg.strip_prefix("UNIQUE constraint failed: ") {
        return Error::UniqueViolation(format!(
            "duplicate key value violates unique constraint on {rest}"
        ));
    }
    if let Some(rest) = msg.strip_prefix("NOT NULL constraint failed: ") {
        // `s.t.c` for a table of schema `s`; the message names `t`.
        let (table, col) = rest.rsplit_once('.').unwrap_or(("", rest));
        let table = crate::types::schema::split(table).1;
        return Error::NotNullViolation(format!(
            "null value in column \"{col}\" of relation \"{table}\" violates not-null constraint"
        ));
    }
    if let Some(rest) = msg.strip_prefix("CHECK constraint failed: ") {
        if rest.ends_with("out of range") {
            return Error::NumericOutOfRange(rest.to_string());
        }
        return check_failed(rest.trim_matches('"'));
    }
    if let Some(rest) = msg.strip_prefix("cannot store ") {
        return Error::InvalidInput(format!("invalid input: cannot store {rest}"));
    }
    if let Some(rest) = msg.strip_prefix("no such table: ") {
        return Error::NoSuchTable(rest.trim_start_matches("main.").to_string());
    }
    if let Some(rest) = msg.strip_prefix("no such column: ") {
        return Error::NoSuchColumn(rest.to_string());
    }
    if msg.contains("do not have the same number of result columns") {
        let op = msg.split_whitespace().nth(7).unwrap_or("UNION");
        return Error::Syntax(format!(
            "each {op} query must have the same number of columns"
        ));
    }
    if let Some(col) = msg.strip_prefix("ambiguous column name: ") {
        return Error::AmbiguousColumn(col.rsplit('.').next().unwrap_or(col).to_string());
    }
    if msg.contains(" values for ") && msg.ends_with(" columns") {
        return Error::Syntax("INSERT has more expressions than target columns".into());
    }
    if let Some((_, col)) = msg.split_once(" has no column named ") {
        return Error::NoSuchColumn(col.to_string());
    }
    if let Some(rest) = msg.strip_prefix("no such function: ") {
        return no_such_function(rest);
    }
    // A DEFAULT naming a function SQLite does not know, when it runs.
    if let Some(rest) = msg.strip_prefix("unknown function: ") {
        return no_such_function(rest.trim_end_matches("()"));
    }
    if let Some(e) = syntax_error(&msg) {
        return e;
    }
    if msg.contains("integer overflow") {
        return Error::NumericOutOfRange("integer out of range".into());
    }
    if let Some(rest) = msg.strip_prefix("wrong number of arguments to function ") {
        return no_such_function(rest.trim_end_matches("()"));
    }
    if msg.contains("ORDER BY term out of range") || msg.contains("GROUP BY term out of range") {
        let clause = if msg.contains("ORDER BY") {
            "ORDER BY"
        } else {
            "GROUP BY"
        };
        return Error::InvalidColumnReference(format!("{clause} position is not in select list"));
    }
    if msg.contains("HAVING clause on a non-aggregate query") {
        return Error::Unsupported("HAVING without GROUP BY or an aggregate".into());
    }
    if msg.contains("Cannot add a column with non-constant default") {
        return Error::Unsupported("ALTER TABLE … ADD COLUMN with a non-constant DEFAULT".into());
    }
    if msg == "datatype mismatch" {
        return Error::DatatypeMismatch("argument has the wrong type".into());
    }
    if msg.contains("misuse of aggregate") || msg.contains("GROUP BY") {
        return Error::Grouping(msg);
    }
    Error::Internal(msg)
}

/// A function SQLite does not know (or not with these arguments), as
/// PostgreSQL reports it.
fn no_such_function(name: &str) -> Error {
    Error::NoSuchFunction(name.to_string()).with_hint(
        "No function matches the given name and argument types. \
         You might need to add explicit type casts.",
    )
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::error::Error;

    fn err(conn: &Connection, sql: &str) -> Error {
        Error::from(conn.execute_batch(sql).unwrap_err())
    }

    #[test]
    fn sqlite_errors_read_as_postgresql() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)")
            .unwrap();
        conn.execute_batch("INSERT INTO t VALUES (1, 'x')").unwrap();
        let e = err(&conn, "SELEC 1");
        assert_eq!(
            (e.sqlstate(), e.to_string().as_str()),
            ("42601", "syntax error at or near \"SELEC\"")
        );
        let e = err(&conn, "SELECT (1");
        assert_eq!(
            (e.sqlstate(), e.to_string().as_str()),
            ("42601", "syntax error at end of input")
        );
        assert_eq!(
            err(&conn, "INSERT INTO t VALUES (1, 'y')").sqlstate(),
            "23505"
        );
        assert_eq!(
            err(&conn, "INSERT INTO t VALUES (2, NULL)").sqlstate(),
            "23502"
        );
    }

    #[test]
    fn a_busy_database_is_a_serialization_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let a = Connection::open(&path).unwrap();
        a.execute_batch("CREATE TABLE t (a INTEGER); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)")
            .unwrap();
        let b = Connection::open(&path).unwrap();
        b.busy_timeout(std::time::Duration::ZERO).unwrap();
        assert_eq!(err(&b, "BEGIN IMMEDIATE").sqlstate(), "40001");
    }
}
