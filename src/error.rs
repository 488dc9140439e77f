//! The crate's one error type. Every variant carries its SQLSTATE; `wire`
//! turns an `Error` into an ErrorResponse and nothing else builds one.

use thiserror::Error as ThisError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, ThisError)]
pub enum Error {
    #[error("{0}")]
    Syntax(String),
    #[error("relation \"{0}\" does not exist")]
    NoSuchTable(String),
    #[error("column \"{0}\" does not exist")]
    NoSuchColumn(String),
    #[error("relation \"{0}\" already exists")]
    TableExists(String),
    /// 42P07: SET SCHEMA into a schema holding a relation of that name.
    #[error("relation \"{0}\" already exists in schema \"{1}\"")]
    ExistsInSchema(String, String),
    #[error("{0}")]
    ObjectExists(String),
    #[error("{0}")]
    NoSuchObject(String),
    /// 22004: a NULL where the operation needs a value (`format('%I', NULL)`).
    #[error("{0}")]
    NullValueNotAllowed(String),
    /// 2201E: ln/log of zero or a negative number.
    #[error("{0}")]
    InvalidArgumentForLog(String),
    /// 2201F: sqrt of a negative number, 0 ^ negative, negative ^ fraction.
    #[error("{0}")]
    InvalidArgumentForPower(String),
    #[error("{0}")]
    UniqueViolation(String),
    #[error("{0}")]
    NotNullViolation(String),
    #[error("{0}")]
    CheckViolation(String),
    #[error("{0}")]
    ForeignKeyViolation(String),
    /// A FOREIGN KEY that cannot be declared (no matching unique key,
    /// column counts that disagree).
    #[error("{0}")]
    InvalidForeignKey(String),
    /// 42P20: a window function where none may be.
    #[error("{0}")]
    Windowing(String),
    /// 2BP01: others depend on the object to drop (a table a FOREIGN KEY
    /// references, or a view reads).
    #[error("{0}")]
    DependentObjects(String),
    /// A column that does not exist, in PostgreSQL's words for the context.
    #[error("{0}")]
    UndefinedColumn(String),
    #[error("{0}")]
    InvalidInput(String),
    /// 22021: bytes that are no UTF-8 text, or a NUL in text.
    #[error("{0}")]
    CharacterNotInRepertoire(String),
    /// Binary COPY data that does not follow the format.
    #[error("{0}")]
    BadCopyFormat(String),
    #[error("{0}")]
    StringTooLong(String),
    #[error("{0}")]
    NumericOutOfRange(String),
    #[error("{0}")]
    DivisionByZero(String),
    #[error("{0}")]
    DatatypeMismatch(String),
    #[error("function {0} does not exist")]
    NoSuchFunction(String),
    #[error("{0} is not supported")]
    Unsupported(String),
    /// 0A000 with PostgreSQL's own wording (`cannot convert NaN to integer`).
    #[error("{0}")]
    NotSupported(String),
    #[error("password authentication failed for user \"{0}\"")]
    BadPassword(String),
    /// 42501 with PostgreSQL's wording (`permission denied for table t`,
    /// `must be owner of table t`).
    #[error("{0}")]
    PermissionDenied(String),
    /// 0LP01: a GRANT or REVOKE that cannot apply.
    #[error("{0}")]
    InvalidGrantOperation(String),
    /// 53200: a statement would hold more than a node allows.
    #[error("{0}")]
    OutOfMemory(String),
    /// 55006: the object is in use (a role that a session is logged in as).
    #[error("{0}")]
    ObjectInUse(String),
    /// 55P02: a parameter that is the server's fact (`SET server_version`).
    #[error("{0}")]
    CantChangeParameter(String),
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    TransactionAborted,
    #[error("{0}")]
    InvalidTransactionState(String),
    /// Something only allowed before a transaction's first query.
    #[error("{0}")]
    ActiveTransaction(String),
    #[error("could not serialize access: {0}")]
    SerializationFailure(String),
    #[error("canceling statement due to user request")]
    Canceled,
    #[error("canceling statement due to statement timeout")]
    StatementTimeout,
    /// XX001: a shard file no longer holds what its id names.
    #[error("{0}")]
    DataCorrupted(String),
    /// 57P01, FATAL: pg_terminate_backend ended the session.
    #[error("terminating connection due to administrator command")]
    Terminated,
    #[error("unrecognized configuration parameter \"{0}\"")]
    UnknownSetting(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    ProtocolViolation(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// XX000 as PostGIS raises its errors (`lwerror`): a geometry that does
    /// not parse, a function given the wrong kind of geometry.
    #[error("{0}")]
    Geometry(String),
    /// Data a statement needs is on nodes that cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    #[error("column reference \"{0}\" is ambiguous")]
    AmbiguousColumn(String),
    /// 42702 in other words (`ORDER BY "x" is ambiguous`).
    #[error("{0}")]
    Ambiguous(String),
    #[error("{0}")]
    Grouping(String),
    #[error("{0}")]
    TooComplex(String),
    #[error("more than one row returned by a subquery used as an expression")]
    CardinalityViolation,
    #[error("ON CONFLICT DO UPDATE command cannot affect row a second time")]
    ConflictTwice,
    #[error("MERGE command cannot affect row a second time")]
    MergeTwice,
    /// An SQL/JSON path error, with its SQLSTATE (class 22, or 42704 for
    /// an unknown variable).
    #[error("{1}")]
    JsonPath(&'static str, String),
    #[error("cannot execute {0} in a read-only transaction")]
    ReadOnlyTransaction(String),
    #[error("{0}")]
    NoTransaction(String),
    #[error("{0}")]
    NoSuchSavepoint(String),
    /// NOWAIT found the lock taken.
    #[error("{0}")]
    LockNotAvailable(String),
    #[error("{0}")]
    DatetimeFieldOverflow(String),
    /// 22007: text that is no value of a date/time type.
    #[error("{0}")]
    InvalidDatetimeFormat(String),
    /// 22015: an interval field out of range on input.
    #[error("{0}")]
    IntervalFieldOverflow(String),
    /// 42P18: a type that cannot be told (`ARRAY[]` without a cast).
    #[error("{0}")]
    IndeterminateDatatype(String),
    /// An ESCAPE that is not one character (22025).
    #[error("{0}")]
    InvalidEscapeSequence(String),
    /// A regular expression that does not compile (2201B).
    #[error("{0}")]
    InvalidRegex(String),
    /// A negative LIMIT (2201W).
    #[error("{0}")]
    InvalidRowCount(String),
    /// A negative OFFSET (2201X).
    #[error("{0}")]
    InvalidOffset(String),
    /// 2201G: an argument of width_bucket PostgreSQL refuses.
    #[error("{0}")]
    InvalidWidthBucket(String),
    /// 22011: a substring PostgreSQL refuses (a negative length).
    #[error("{0}")]
    SubstringError(String),
    /// 22P05: a character the target encoding has no byte sequence for.
    #[error("{0}")]
    UntranslatableCharacter(String),
    /// 2202E: an array element or count out of its bounds.
    #[error("{0}")]
    ArrayElementError(String),
    #[error("{0}")]
    NoSuchCursor(String),
    #[error("{0}")]
    CursorExists(String),
    #[error("{0}")]
    NoSuchPreparedStatement(String),
    #[error("{0}")]
    DuplicatePreparedStatement(String),
    /// An object used in a state that does not allow it (a forward-only
    /// cursor moved backward).
    #[error("{0}")]
    ObjectNotInState(String),
    /// A copy this node read in place of its home's shard was compacted or
    /// dropped there meanwhile; the statement runs again without copies.
    #[error("could not serialize access: shard {0} is no longer live at its home")]
    StaleCopy(String),
    /// An ORDER BY or GROUP BY position outside the select list.
    #[error("{0}")]
    InvalidColumnReference(String),
    /// 42809: the object is of another kind than the statement needs
    /// (`"v" is not a table`).
    #[error("{0}")]
    WrongObjectType(String),
    /// 42P16: a relation's definition cannot be changed that way.
    #[error("{0}")]
    InvalidTableDefinition(String),
    /// 42P17: an object's definition is invalid (a cycle of views).
    #[error("{0}")]
    InvalidObjectDefinition(String),
    /// 42P01 in the words of the statement (`table "t" does not exist`).
    #[error("{0}")]
    NoSuchRelation(String),
    /// 428C9: a value given for a GENERATED ALWAYS column.
    #[error("{0}")]
    GeneratedAlways(String),
    /// 2200H: a sequence ran past its end.
    #[error("{0}")]
    SequenceLimit(String),
    /// 42883: no operator for these operand types.
    #[error("{0}")]
    NoSuchOperator(String),
    /// 22000: a value a type's rules refuse with no narrower code
    /// (pgvector's dimension and element checks).
    #[error("{0}")]
    DataException(String),
    /// 54000: past a fixed limit of a type (a vector's 16000 dimensions).
    #[error("{0}")]
    ProgramLimit(String),
    /// 42846: no cast between the two types.
    #[error("{0}")]
    CannotCoerce(String),
    /// 42602: a name that cannot be used (an enum label too long).
    #[error("{0}")]
    InvalidName(String),
    /// 42701: `column "a" specified more than once`.
    #[error("column \"{0}\" specified more than once")]
    DuplicateColumn(String),
    /// 42701 in PostgreSQL's full words, e.g. `column "b" of relation "t"
    /// already exists`.
    #[error("{0}")]
    ColumnExists(String),
    /// 42P06.
    #[error("schema \"{0}\" already exists")]
    SchemaExists(String),
    /// 42725: a call that matches several functions equally well.
    #[error("{0}")]
    AmbiguousFunction(String),
    /// 42939: a name with a reserved prefix (`pg_`).
    #[error("{0}")]
    ReservedName(String),
    /// 42723: a function of that name and argument types exists.
    #[error("{0}")]
    DuplicateFunction(String),
    /// 42P13: a CREATE FUNCTION PostgreSQL refuses as written.
    #[error("{0}")]
    InvalidFunctionDefinition(String),
    /// 3F000.
    #[error("schema \"{0}\" does not exist")]
    NoSuchSchema(String),
    /// 3D000.
    #[error("database \"{0}\" does not exist")]
    NoSuchDatabase(String),
    /// 3F000: CREATE of an unqualified name with no schema of the search
    /// path existing.
    #[error("no schema has been selected to create in")]
    NoSchemaSelected,
    /// An error with PostgreSQL's secondary fields: DETAIL, HINT and the
    /// position (1-based, in characters) in the statement's text.
    #[error("{error}")]
    Context {
        error: Box<Error>,
        detail: Option<String>,
        hint: Option<String>,
        position: Option<usize>,
    },
}

impl Error {
    /// The SQLSTATE a client sees for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Syntax(_) => "42601",
            Error::NoSuchTable(_) => "42P01",
            Error::NoSuchColumn(_) => "42703",
            Error::TableExists(_) | Error::ExistsInSchema(..) => "42P07",
            Error::ObjectExists(_) => "42710",
            Error::NoSuchObject(_) => "42704",
            Error::InvalidArgumentForLog(_) => "2201E",
            Error::NullValueNotAllowed(_) => "22004",
            Error::InvalidArgumentForPower(_) => "2201F",
            Error::UniqueViolation(_) => "23505",
            Error::NotNullViolation(_) => "23502",
            Error::CheckViolation(_) => "23514",
            Error::ForeignKeyViolation(_) => "23503",
            Error::InvalidForeignKey(_) => "42830",
            Error::DependentObjects(_) => "2BP01",
            Error::Windowing(_) => "42P20",
            Error::UndefinedColumn(_) => "42703",
            Error::InvalidInput(_) => "22P02",
            Error::CharacterNotInRepertoire(_) => "22021",
            Error::BadCopyFormat(_) => "22P04",
            Error::StringTooLong(_) => "22001",
            Error::NumericOutOfRange(_) => "22003",
            Error::DivisionByZero(_) => "22012",
            Error::DatatypeMismatch(_) => "42804",
            Error::NoSuchFunction(_) => "42883",
            Error::Unsupported(_) | Error::NotSupported(_) => "0A000",
            Error::Unavailable(_) => "58000",
            Error::BadPassword(_) => "28P01",
            Error::PermissionDenied(_) => "42501",
            Error::InvalidGrantOperation(_) => "0LP01",
            Error::ObjectInUse(_) => "55006",
            Error::CantChangeParameter(_) => "55P02",
            Error::OutOfMemory(_) => "53200",
            Error::TransactionAborted => "25P02",
            Error::InvalidTransactionState(_) => "25000",
            Error::ActiveTransaction(_) => "25001",
            Error::SerializationFailure(_) => "40001",
            Error::Canceled => "57014",
            Error::StatementTimeout => "57014",
            Error::Terminated => "57P01",
            Error::DataCorrupted(_) => "XX001",
            Error::UnknownSetting(_) => "42704",
            Error::InvalidParameter(_) => "22023",
            Error::ProtocolViolation(_) => "08P01",
            Error::Internal(_) | Error::Geometry(_) => "XX000",
            Error::AmbiguousColumn(_) | Error::Ambiguous(_) => "42702",
            Error::Grouping(_) => "42803",
            Error::TooComplex(_) => "54001",
            Error::CardinalityViolation | Error::ConflictTwice | Error::MergeTwice => "21000",
            Error::JsonPath(code, _) => code,
            Error::ReadOnlyTransaction(_) => "25006",
            Error::LockNotAvailable(_) => "55P03",
            Error::NoTransaction(_) => "25P01",
            Error::NoSuchSavepoint(_) => "3B001",
            Error::DatetimeFieldOverflow(_) => "22008",
            Error::InvalidDatetimeFormat(_) => "22007",
            Error::IntervalFieldOverflow(_) => "22015",
            Error::IndeterminateDatatype(_) => "42P18",
            Error::InvalidEscapeSequence(_) => "22025",
            Error::InvalidRegex(_) => "2201B",
            Error::InvalidRowCount(_) => "2201W",
            Error::InvalidOffset(_) => "2201X",
            Error::InvalidWidthBucket(_) => "2201G",
            Error::SubstringError(_) => "22011",
            Error::ArrayElementError(_) => "2202E",
            Error::UntranslatableCharacter(_) => "22P05",
            Error::NoSuchCursor(_) => "34000",
            Error::CursorExists(_) => "42P03",
            Error::NoSuchPreparedStatement(_) => "26000",
            Error::DuplicatePreparedStatement(_) => "42P05",
            Error::ObjectNotInState(_) => "55000",
            Error::StaleCopy(_) => "40001",
            Error::InvalidColumnReference(_) => "42P10",
            Error::WrongObjectType(_) => "42809",
            Error::InvalidTableDefinition(_) => "42P16",
            Error::InvalidObjectDefinition(_) => "42P17",
            Error::DuplicateColumn(_) | Error::ColumnExists(_) => "42701",
            Error::NoSuchRelation(_) => "42P01",
            Error::InvalidName(_) => "42602",
            Error::CannotCoerce(_) => "42846",
            Error::NoSuchOperator(_) => "42883",
            Error::DataException(_) => "22000",
            Error::ProgramLimit(_) => "54000",
            Error::SequenceLimit(_) => "2200H",
            Error::GeneratedAlways(_) => "428C9",
            Error::SchemaExists(_) => "42P06",
            Error::NoSuchSchema(_) | Error::NoSchemaSelected => "3F000",
            Error::NoSuchDatabase(_) => "3D000",
            Error::ReservedName(_) => "42939",
            Error::DuplicateFunction(_) => "42723",
            Error::InvalidFunctionDefinition(_) => "42P13",
            Error::AmbiguousFunction(_) => "42725",
            Error::Context { error, .. } => error.sqlstate(),
        }
    }

    /// The error with a DETAIL line.
    pub fn with_detail(self, detail: impl Into<String>) -> Error {
        self.in_context(|_, d, _, _| *d = Some(detail.into()))
    }

    /// The error with a HINT line.
    pub fn with_hint(self, hint: impl Into<String>) -> Error {
        self.in_context(|_, _, h, _| *h = Some(hint.into()))
    }

    /// The error pointing at a (1-based) character of the statement.
    pub fn at_position(self, position: usize) -> Error {
        self.in_context(|_, _, _, p| *p = Some(position))
    }

    fn in_context(
        self,
        set: impl FnOnce(&mut Error, &mut Option<String>, &mut Option<String>, &mut Option<usize>),
    ) -> Error {
        let (mut error, mut detail, mut hint, mut position) = match self {
            Error::Context {
                error,
                detail,
                hint,
                position,
            } => (*error, detail, hint, position),
            other => (other, None, None, None),
        };
        set(&mut error, &mut detail, &mut hint, &mut position);
        Error::Context {
            error: Box::new(error),
            detail,
            hint,
            position,
        }
    }

    /// The DETAIL line, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Context { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }

    /// The HINT line, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Context { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// The error position, if any.
    pub fn position(&self) -> Option<usize> {
        match self {
            Error::Context { position, .. } => *position,
            _ => None,
        }
    }

    /// The error without its secondary fields, for matching on its kind.
    pub fn kind(&self) -> &Error {
        match self {
            Error::Context { error, .. } => error.kind(),
            other => other,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(format!("I/O error: {e}"))
    }
}

impl From<sqlparser::parser::ParserError> for Error {
    fn from(e: sqlparser::parser::ParserError) -> Self {
        let msg = match e {
            sqlparser::parser::ParserError::ParserError(m)
            | sqlparser::parser::ParserError::TokenizerError(m) => m,
            sqlparser::parser::ParserError::RecursionLimitExceeded => {
                return Error::TooComplex("statement is nested too deeply".to_string())
            }
        };
        Error::Syntax(format!("syntax error: {msg}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_sqlstate() {
        let cases = [
            (Error::Syntax("x".into()), "42601"),
            (Error::NoSuchTable("t".into()), "42P01"),
            (Error::NoSuchColumn("c".into()), "42703"),
            (Error::TableExists("t".into()), "42P07"),
            (Error::UniqueViolation("k".into()), "23505"),
            (Error::NotNullViolation("c".into()), "23502"),
            (Error::InvalidInput("v".into()), "22P02"),
            (Error::BadCopyFormat("c".into()), "22P04"),
            (Error::Unsupported("f".into()), "0A000"),
            (Error::BadPassword("u".into()), "28P01"),
            (Error::PermissionDenied("x".into()), "42501"),
            (Error::InvalidGrantOperation("x".into()), "0LP01"),
            (Error::ObjectInUse("x".into()), "55006"),
            (Error::CantChangeParameter("x".into()), "55P02"),
            (Error::OutOfMemory("x".into()), "53200"),
            (Error::TransactionAborted, "25P02"),
            (Error::Internal("i".into()), "XX000"),
            (Error::DatetimeFieldOverflow("d".into()), "22008"),
            (Error::InvalidDatetimeFormat("d".into()), "22007"),
            (Error::IntervalFieldOverflow("d".into()), "22015"),
            (Error::IndeterminateDatatype("a".into()), "42P18"),
            (Error::NoSuchCursor("c".into()), "34000"),
            (Error::CursorExists("c".into()), "42P03"),
            (Error::NoSuchPreparedStatement("s".into()), "26000"),
            (Error::DuplicatePreparedStatement("s".into()), "42P05"),
            (Error::ObjectNotInState("c".into()), "55000"),
            (Error::StaleCopy("s".into()), "40001"),
            (Error::ForeignKeyViolation("f".into()), "23503"),
            (Error::InvalidForeignKey("f".into()), "42830"),
            (Error::DependentObjects("d".into()), "2BP01"),
            (Error::Windowing("w".into()), "42P20"),
            (Error::UntranslatableCharacter("u".into()), "22P05"),
            (Error::ColumnExists("c".into()), "42701"),
            (Error::UndefinedColumn("c".into()), "42703"),
            (Error::DataException("v".into()), "22000"),
            (Error::ProgramLimit("v".into()), "54000"),
        ];
        for (err, code) in cases {
            assert_eq!(err.sqlstate(), code, "{err:?}");
        }
    }
}
