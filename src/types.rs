//! The leaf module every layer shares: PostgreSQL types as MosaicDB stores
//! and speaks them (`PgType`, `Datum`), table and column definitions
//! (`table`), what is known of a shard without opening it (`shard`), the
//! built-in type list (`builtin`) and identifier quoting. It imports
//! nothing of the crate but `error`, and does no I/O.
//!
//! `PgType` is the declared type of a column or an expression; `Datum` is a
//! value as SQLite stores it. This module owns the mapping between the two:
//! how a PostgreSQL type is stored in SQLite (storage class), how a stored
//! value is rendered in PostgreSQL's text and binary formats, and how client
//! input (literals, text and binary parameters, COPY fields) is parsed and
//! validated into a stored value.
//!
//! Storage: bool → INTEGER 0/1; int2/int4/int8 → INTEGER; float4/float8 →
//! REAL; numeric → TEXT in PostgreSQL's printed form, under the
//! `pg_numeric` collation (`numeric`; a REAL in a numeric column is a value
//! written before numeric was exact, and prints as it did); text,
//! varchar, bpchar, json, jsonb, uuid → TEXT; bytea → BLOB; date → TEXT
//! `YYYY-MM-DD`; timestamp → TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]`;
//! timestamptz → TEXT in UTC, same shape (rendered with `+00`).

pub mod acl;
pub mod array;
pub mod backup;
pub mod builtin;
mod convert;
pub use convert::utf8_text;
pub mod coordination;
pub mod datetime;
pub mod domain;
pub mod enums;
pub mod foreign;
pub mod format;
pub mod function;
pub mod geometry;
pub mod interval;
pub mod json;
pub mod number;
pub mod numeric;
pub mod role;
pub mod schema;
pub mod sequence;
pub mod shard;
pub mod table;
pub mod unsealed;
pub mod vector;
pub mod zone;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A value as stored in SQLite. Serializable so shard metadata (zone maps)
/// and, later, row batches between nodes can carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Datum {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// The PostgreSQL types MosaicDB supports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PgType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// numeric, with (precision, scale) when declared as numeric(p, s).
    Numeric(Option<(u32, u32)>),
    Text,
    Varchar(Option<u32>),
    Bpchar(Option<u32>),
    Bytea,
    Date,
    /// time without time zone: stored as its output text (`HH:MM:SS[.f]`),
    /// which sorts as the values do.
    Time,
    Timestamp,
    Timestamptz,
    Json,
    Jsonb,
    Uuid,
    /// interval (`types::interval`): stored as its output text, under the
    /// `pg_interval` collation.
    Interval,
    /// A one-dimensional array of the element type, stored in PostgreSQL's
    /// text form (`types/array.rs`); only catalog queries make them.
    Array(Box<PgType>),
    /// An enum type (`types::enums`): stored as its label.
    Enum(Box<enums::EnumType>),
    /// pgvector's `vector(n)` (`types::vector`), with its declared
    /// dimensions: stored as little-endian f32s.
    Vector(Option<u32>),
    /// The one-byte `"char"` of the system catalogs (`pg_type.typtype`,
    /// `pg_class.relkind`): stored as text.
    Char,
    /// A full transaction id (`pg_current_xact_id()`): an unsigned 64-bit
    /// integer, stored as an integer.
    Xid8,
    /// An object identifier (`oid`): the catalog's row ids, stored as an
    /// integer (0 to 4294967295).
    Oid,
    /// The result of a function that returns nothing (`pg_sleep`,
    /// `pg_advisory_lock`): an empty value, never stored.
    Void,
    /// A type the inference could not pin down; rendered as text.
    Unknown,
    /// PostGIS's `geometry` (`types::geometry`), with its typmod as
    /// PostGIS encodes it (`geometry(Point,4326)`): stored as EWKB. Last,
    /// so the variants before it keep their serialized indexes.
    Geometry(Option<i32>),
}

/// The SQLite collation of numeric columns and keys: compares the stored
/// text by value (registered by `store::udf` on every connection).
pub const NUMERIC_COLLATION: &str = "pg_numeric";

/// The SQLite collation of jsonb keys: jsonb's btree order
/// (`types::json::jsonb_cmp`, registered by `store::udf`).
pub const JSONB_COLLATION: &str = "pg_jsonb";
/// The SQLite collation of character(n) keys: trailing spaces do not
/// count (registered by `store::udf` on every connection).
pub const BPCHAR_COLLATION: &str = "pg_bpchar";

/// The SQLite collation that compares text by its bytes, as SQLite's own
/// BINARY does: the typed step puts it where a value of a collated type
/// becomes text (registered by `store::udf`).
pub const TEXT_COLLATION: &str = "pg_text";

/// Whether `name` is a collation the typed step puts on keys of a type
/// that sorts by its own order: numeric's, or an enum's.
pub fn is_typed_collation(name: &str) -> bool {
    name == NUMERIC_COLLATION
        || name == interval::COLLATION
        || name == TEXT_COLLATION
        || name == JSONB_COLLATION
        || name == BPCHAR_COLLATION
        || name.starts_with(enums::COLLATION_PREFIX)
        || name.starts_with(array::COLLATION_PREFIX)
}

/// How SQLite stores a type (the STRICT column type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Integer,
    Real,
    Text,
    Blob,
}

impl Storage {
    pub fn sqlite_name(self) -> &'static str {
        match self {
            Storage::Integer => "INTEGER",
            Storage::Real => "REAL",
            Storage::Text => "TEXT",
            Storage::Blob => "BLOB",
        }
    }
}

impl PgType {
    /// The type for a PostgreSQL type name as sqlparser parsed it;
    /// `Error::Unsupported` naming the type otherwise.
    pub fn from_sql(dt: &sqlparser::ast::DataType) -> Result<PgType> {
        use sqlparser::ast::{DataType as D, ExactNumberInfo as E, TimezoneInfo as Tz};
        Ok(match dt {
            D::Boolean | D::Bool => PgType::Bool,
            D::SmallInt(_) | D::Int2(_) => PgType::Int2,
            D::Int(_) | D::Integer(_) | D::Int4(_) => PgType::Int4,
            D::BigInt(_) | D::Int8(_) => PgType::Int8,
            D::Real | D::Float4 => PgType::Float4,
            D::DoublePrecision | D::Float8 | D::Double(E::None) => PgType::Float8,
            D::Float(E::Precision(p)) if (1..=24).contains(p) => PgType::Float4,
            D::Float(E::Precision(p)) if (25..=53).contains(p) => PgType::Float8,
            D::Float(E::None) => PgType::Float8,
            D::Numeric(info) | D::Decimal(info) | D::Dec(info) => {
                PgType::Numeric(numeric_typmod(info)?)
            }
            D::Text => PgType::Text,
            D::Varchar(n) | D::CharacterVarying(n) | D::CharVarying(n) => {
                PgType::Varchar(char_len(n.as_ref())?)
            }
            D::Character(n) | D::Char(n) => {
                PgType::Bpchar(Some(char_len(n.as_ref())?.unwrap_or(1)))
            }
            D::Bytea => PgType::Bytea,
            D::Date => PgType::Date,
            D::Time(None, Tz::None | Tz::WithoutTimeZone) => PgType::Time,
            D::Time(Some(_), _) => {
                return Err(Error::Unsupported(
                    "time(p), a time with a precision".into(),
                ))
            }
            D::Time(_, Tz::WithTimeZone | Tz::Tz) => {
                return Err(Error::Unsupported(
                    "type time with time zone (timetz)".into(),
                ))
            }
            D::Timestamp(_, Tz::None | Tz::WithoutTimeZone) => PgType::Timestamp,
            D::Timestamp(_, Tz::WithTimeZone | Tz::Tz) => PgType::Timestamptz,
            D::JSON => PgType::Json,
            D::JSONB => PgType::Jsonb,
            D::Uuid => PgType::Uuid,
            D::Interval {
                fields: None,
                precision: None,
            } => PgType::Interval,
            D::Interval { .. } => {
                return Err(Error::Unsupported(format!(
                    "type {dt} (interval fields or precision)"
                )))
            }
            D::Custom(name, mods) if vector::is_type_name(&name.to_string()) => {
                PgType::Vector(vector::typmod_from_sql(mods)?)
            }
            D::Custom(name, mods) if geometry::is_type_name(&name.to_string()) => {
                PgType::Geometry(geometry::typmod_from_sql(mods)?)
            }
            D::Custom(name, mods) => custom_type(&name.to_string(), mods).ok_or_else(|| {
                domain::not_here(dt)
                    .or_else(|| builtin::no_such_type(&name.to_string()))
                    .unwrap_or(Error::Unsupported(format!("type {dt}")))
            })?,
            D::Array(
                sqlparser::ast::ArrayElemTypeDef::SquareBracket(elem, _)
                | sqlparser::ast::ArrayElemTypeDef::Qualified(elem, _),
            ) => {
                let elem = PgType::from_sql(elem).map_err(builtin::of_array)?;
                if array::Family::of(&elem).is_none() || matches!(elem, PgType::Unknown) {
                    return Err(Error::Unsupported(format!(
                        "type {dt} (arrays of {})",
                        elem.display_name()
                    )));
                }
                PgType::Array(Box::new(elem))
            }
            other => return Err(Error::Unsupported(format!("type {other}"))),
        })
    }

    pub fn storage(&self) -> Storage {
        match self {
            PgType::Bool
            | PgType::Int2
            | PgType::Int4
            | PgType::Int8
            | PgType::Xid8
            | PgType::Oid => Storage::Integer,
            PgType::Float4 | PgType::Float8 => Storage::Real,
            PgType::Bytea | PgType::Vector(_) | PgType::Geometry(_) => Storage::Blob,
            _ => Storage::Text,
        }
    }

    /// The column type SQLite is told: the storage class, and for numeric
    /// the collation that compares its text by value.
    pub fn sqlite_decl(&self) -> String {
        match self {
            PgType::Numeric(_) => format!("TEXT COLLATE {NUMERIC_COLLATION}"),
            PgType::Interval => format!("TEXT COLLATE {}", interval::COLLATION),
            PgType::Array(elem) => match array::Family::of(elem) {
                Some(f) => format!("TEXT COLLATE {}", f.collation()),
                None => "TEXT".into(),
            },
            other => other.storage().sqlite_name().to_string(),
        }
    }

    /// The pgwire/postgres-types type, which carries the OID.
    pub fn wire_type(&self) -> pgwire::api::Type {
        use pgwire::api::Type as T;
        match self {
            PgType::Bool => T::BOOL,
            PgType::Int2 => T::INT2,
            PgType::Int4 => T::INT4,
            PgType::Int8 => T::INT8,
            PgType::Float4 => T::FLOAT4,
            PgType::Float8 => T::FLOAT8,
            PgType::Numeric(_) => T::NUMERIC,
            PgType::Text => T::TEXT,
            PgType::Varchar(_) => T::VARCHAR,
            PgType::Bpchar(_) => T::BPCHAR,
            PgType::Bytea => T::BYTEA,
            PgType::Date => T::DATE,
            PgType::Time => T::TIME,
            PgType::Timestamp => T::TIMESTAMP,
            PgType::Timestamptz => T::TIMESTAMPTZ,
            PgType::Json => T::JSON,
            PgType::Jsonb => T::JSONB,
            PgType::Uuid => T::UUID,
            PgType::Interval => T::INTERVAL,
            PgType::Array(elem) => array_wire_type(elem),
            PgType::Enum(e) => T::new(
                e.name.clone(),
                e.oid,
                postgres_types::Kind::Enum(e.labels.clone()),
                "public".into(),
            ),
            PgType::Vector(_) => T::new(
                "vector".into(),
                vector::OID,
                postgres_types::Kind::Simple,
                "public".into(),
            ),
            PgType::Geometry(_) => T::new(
                "geometry".into(),
                geometry::OID,
                postgres_types::Kind::Simple,
                "public".into(),
            ),
            PgType::Void => T::VOID,
            PgType::Xid8 => T::XID8,
            PgType::Char => T::CHAR,
            PgType::Oid => T::OID,
            PgType::Unknown => T::TEXT,
        }
    }

    pub fn oid(&self) -> u32 {
        self.wire_type().oid()
    }

    /// The type for a wire OID, if MosaicDB supports it.
    pub fn from_oid(oid: u32) -> Option<PgType> {
        use pgwire::api::Type as T;
        if oid == vector::OID {
            return Some(PgType::Vector(None));
        }
        if oid == geometry::OID {
            return Some(PgType::Geometry(None));
        }
        let t = T::from_oid(oid)?;
        Some(match t {
            T::BOOL => PgType::Bool,
            T::INT2 => PgType::Int2,
            T::INT4 => PgType::Int4,
            T::INT8 => PgType::Int8,
            T::FLOAT4 => PgType::Float4,
            T::FLOAT8 => PgType::Float8,
            T::NUMERIC => PgType::Numeric(None),
            T::TEXT | T::NAME | T::UNKNOWN => PgType::Text,
            T::VARCHAR => PgType::Varchar(None),
            T::BPCHAR => PgType::Bpchar(None),
            T::BYTEA => PgType::Bytea,
            T::DATE => PgType::Date,
            T::TIME => PgType::Time,
            T::TIMESTAMP => PgType::Timestamp,
            T::TIMESTAMPTZ => PgType::Timestamptz,
            T::JSON => PgType::Json,
            T::JSONB => PgType::Jsonb,
            T::UUID => PgType::Uuid,
            T::INTERVAL => PgType::Interval,
            T::OID => PgType::Oid,
            T::CHAR => PgType::Char,
            other => match other.kind() {
                postgres_types::Kind::Array(elem) => {
                    PgType::Array(Box::new(PgType::from_oid(elem.oid())?))
                }
                _ => return None,
            },
        })
    }

    /// The name `format_type` gives, e.g. `character varying(10)`.
    /// The type without its typmod (`numeric(10,2)` is `numeric`), as a
    /// `regtype` names it.
    pub fn without_modifiers(&self) -> PgType {
        match self {
            PgType::Numeric(_) => PgType::Numeric(None),
            PgType::Varchar(_) => PgType::Varchar(None),
            PgType::Bpchar(_) => PgType::Bpchar(None),
            PgType::Vector(_) => PgType::Vector(None),
            PgType::Geometry(_) => PgType::Geometry(None),
            PgType::Array(elem) => PgType::Array(Box::new(elem.without_modifiers())),
            other => other.clone(),
        }
    }

    pub fn display_name(&self) -> String {
        match self {
            PgType::Bool => "boolean".into(),
            PgType::Int2 => "smallint".into(),
            PgType::Int4 => "integer".into(),
            PgType::Int8 => "bigint".into(),
            PgType::Float4 => "real".into(),
            PgType::Float8 => "double precision".into(),
            // Precision 0: a result whose display scale is known, not a
            // declared numeric(p, s).
            PgType::Numeric(Some((p, s))) if *p > 0 => format!("numeric({p},{s})"),
            PgType::Numeric(_) => "numeric".into(),
            PgType::Text => "text".into(),
            PgType::Varchar(Some(n)) => format!("character varying({n})"),
            PgType::Varchar(None) => "character varying".into(),
            PgType::Bpchar(Some(n)) => format!("character({n})"),
            PgType::Bpchar(None) => "character".into(),
            PgType::Bytea => "bytea".into(),
            PgType::Date => "date".into(),
            PgType::Time => "time without time zone".into(),
            PgType::Timestamp => "timestamp without time zone".into(),
            PgType::Timestamptz => "timestamp with time zone".into(),
            PgType::Json => "json".into(),
            PgType::Jsonb => "jsonb".into(),
            PgType::Uuid => "uuid".into(),
            PgType::Interval => "interval".into(),
            PgType::Array(elem) => format!("{}[]", elem.display_name()),
            PgType::Enum(e) => enums::display_name(&e.name),
            PgType::Vector(Some(n)) => format!("vector({n})"),
            PgType::Vector(None) => "vector".into(),
            PgType::Geometry(typmod) => geometry::display_name(*typmod),
            PgType::Void => "void".into(),
            PgType::Xid8 => "xid8".into(),
            PgType::Char => "\"char\"".into(),
            PgType::Oid => "oid".into(),
            PgType::Unknown => "unknown".into(),
        }
    }

    /// The type name PostgreSQL uses in input error messages.
    pub fn input_name(&self) -> &'static str {
        match self {
            PgType::Bool => "boolean",
            PgType::Int2 => "smallint",
            PgType::Int4 => "integer",
            PgType::Int8 => "bigint",
            PgType::Float4 => "real",
            PgType::Float8 => "double precision",
            PgType::Numeric(_) => "numeric",
            PgType::Bytea => "bytea",
            PgType::Date => "date",
            PgType::Time => "time without time zone",
            PgType::Timestamp => "timestamp",
            PgType::Timestamptz => "timestamp with time zone",
            PgType::Json => "json",
            PgType::Jsonb => "jsonb",
            PgType::Uuid => "uuid",
            PgType::Interval => "interval",
            PgType::Varchar(_) => "character varying",
            PgType::Bpchar(_) => "character",
            PgType::Array(_) => "array",
            PgType::Vector(_) => "vector",
            PgType::Geometry(_) => "geometry",
            PgType::Void => "void",
            PgType::Xid8 => "xid8",
            PgType::Char => "\"char\"",
            PgType::Oid => "oid",
            PgType::Text | PgType::Unknown | PgType::Enum(_) => "text",
        }
    }

    /// PostgreSQL's text output of a stored value; `None` for NULL.
    pub fn render_text(&self, v: &Datum) -> Option<String> {
        convert::render_text(self, v)
    }

    /// The text output a client reads in a session whose TimeZone is
    /// `zone`: a timestamptz (or an array of them) as its wall time and
    /// offset there, everything else as `render_text`.
    pub fn render_text_in(&self, v: &Datum, zone: zone::Zone) -> Option<String> {
        if zone == zone::Zone::UTC {
            return self.render_text(v);
        }
        match (self, v) {
            (PgType::Timestamptz, Datum::Text(s)) => Some(
                datetime::parse_timestamp(s, true)
                    .map(|utc| datetime::format_timestamptz(utc, zone))
                    .unwrap_or_else(|_| s.clone()),
            ),
            (PgType::Array(elem), _) if **elem == PgType::Timestamptz => {
                array::render_text_in(elem, v, zone)
            }
            _ => self.render_text(v),
        }
    }

    /// Text input from a client in a session whose TimeZone is `zone`: a
    /// timestamptz without an offset is a wall time there.
    pub fn parse_text_in(&self, s: &str, zone: zone::Zone) -> Result<Datum> {
        if zone == zone::Zone::UTC {
            return self.parse_text(s);
        }
        match self {
            PgType::Timestamptz => Ok(Datum::Text(datetime::timestamp_text(
                datetime::parse_timestamptz(s, zone)?,
            )?)),
            PgType::Array(elem) if **elem == PgType::Timestamptz => {
                array::parse_text_in(elem, s, zone)
            }
            _ => self.parse_text(s),
        }
    }

    /// PostgreSQL's binary output of a stored value; `None` for NULL.
    pub fn render_binary(&self, v: &Datum) -> Result<Option<Vec<u8>>> {
        convert::render_binary(self, v)
    }

    /// Parse PostgreSQL text input (a literal, a text parameter, a COPY
    /// field) into the stored value; `Error::InvalidInput` (22P02) when the
    /// text is not a valid value of the type, `NumericOutOfRange` (22003),
    /// `StringTooLong` (22001) or `DatetimeFieldOverflow` (22008) as
    /// PostgreSQL reports them.
    pub fn parse_text(&self, s: &str) -> Result<Datum> {
        convert::parse_text(self, s)
    }

    /// Parse PostgreSQL binary input (a binary parameter) into the stored value.
    pub fn parse_binary(&self, b: &[u8]) -> Result<Datum> {
        convert::parse_binary(self, b)
    }
}

/// The wire type of an array of `elem`.
fn array_wire_type(elem: &PgType) -> pgwire::api::Type {
    use pgwire::api::Type as T;
    match elem {
        PgType::Bool => T::BOOL_ARRAY,
        PgType::Int2 => T::INT2_ARRAY,
        PgType::Int4 => T::INT4_ARRAY,
        PgType::Int8 => T::INT8_ARRAY,
        PgType::Float4 => T::FLOAT4_ARRAY,
        PgType::Float8 => T::FLOAT8_ARRAY,
        PgType::Numeric(_) => T::NUMERIC_ARRAY,
        PgType::Varchar(_) => T::VARCHAR_ARRAY,
        PgType::Bpchar(_) => T::BPCHAR_ARRAY,
        PgType::Bytea => T::BYTEA_ARRAY,
        PgType::Date => T::DATE_ARRAY,
        PgType::Time => T::TIME_ARRAY,
        PgType::Timestamp => T::TIMESTAMP_ARRAY,
        PgType::Timestamptz => T::TIMESTAMPTZ_ARRAY,
        PgType::Json => T::JSON_ARRAY,
        PgType::Jsonb => T::JSONB_ARRAY,
        PgType::Uuid => T::UUID_ARRAY,
        PgType::Interval => T::INTERVAL_ARRAY,
        PgType::Oid => T::OID_ARRAY,
        PgType::Text => T::TEXT_ARRAY,
        PgType::Enum(e) if e.array_oid != 0 => T::new(
            format!("_{}", e.name),
            e.array_oid,
            postgres_types::Kind::Array(PgType::Enum(e.clone()).wire_type()),
            "public".into(),
        ),
        _ => T::TEXT_ARRAY,
    }
}

fn char_len(n: Option<&sqlparser::ast::CharacterLength>) -> Result<Option<u32>> {
    use sqlparser::ast::CharacterLength as L;
    match n {
        None => Ok(None),
        Some(L::IntegerLength { length, .. }) if (1..=10_485_760).contains(length) => {
            Ok(Some(*length as u32))
        }
        Some(other) => Err(Error::InvalidInput(format!(
            "length for type varchar must be between 1 and 10485760, not {other}"
        ))),
    }
}

/// Type names sqlparser leaves as `Custom`: serials, timestamptz, bpchar,
/// and the int/float aliases it may not know.
fn custom_type(name: &str, mods: &[sqlparser::ast::TypeModifier]) -> Option<PgType> {
    let n = name.trim_matches('"').to_ascii_lowercase();
    let n = n.strip_prefix("pg_catalog.").unwrap_or(&n);
    if let Some(t) = serial_type_name(n) {
        return Some(t);
    }
    let len = || match mods.first() {
        Some(sqlparser::ast::TypeModifier::Number(v, _)) => v.parse().ok(),
        _ => None,
    };
    Some(match n {
        "timestamptz" => PgType::Timestamptz,
        "bpchar" => PgType::Bpchar(len()),
        "varchar" => PgType::Varchar(len()),
        "int2" => PgType::Int2,
        "int4" => PgType::Int4,
        "int8" => PgType::Int8,
        "float4" => PgType::Float4,
        "float8" => PgType::Float8,
        "bool" => PgType::Bool,
        "json" => PgType::Json,
        "jsonb" => PgType::Jsonb,
        "uuid" => PgType::Uuid,
        "interval" => PgType::Interval,
        "oid" => PgType::Oid,
        "name" | "citext" => PgType::Text,
        _ if mods.is_empty() => PgType::Enum(Box::new(enums::lookup(&enums::type_name(name))?)),
        _ => return None,
    })
}

/// The fractional digits (0–5) a `timestamp(p)`/`timestamptz(p)` type
/// keeps, when fewer than the 6 every timestamp has: a cast to it rounds
/// (`datetime::round_micros`). `None` for other types.
pub fn timestamp_precision(dt: &sqlparser::ast::DataType) -> Option<u32> {
    use sqlparser::ast::{DataType as D, TypeModifier as M};
    let p = match dt {
        D::Timestamp(Some(p), _) => *p,
        D::Custom(name, mods) => {
            let n = name.to_string().trim_matches('"').to_ascii_lowercase();
            match (n.strip_prefix("pg_catalog.").unwrap_or(&n), mods.first()) {
                ("timestamptz", Some(M::Number(v, _))) => v.parse().ok()?,
                _ => return None,
            }
        }
        _ => return None,
    };
    u32::try_from(p).ok().filter(|p| *p < 6)
}

/// A column declared `timestamp(p)` with p < 6: its values would be
/// rounded on every write, which is not done yet.
pub fn refuse_timestamp_column(dt: &sqlparser::ast::DataType) -> Result<()> {
    match timestamp_precision(dt) {
        Some(_) => Err(Error::Unsupported(format!(
            "a column of type {dt} (timestamp precision below 6)"
        ))),
        None => Ok(()),
    }
}

fn serial_type_name(n: &str) -> Option<PgType> {
    Some(match n {
        "smallserial" | "serial2" => PgType::Int2,
        "serial" | "serial4" => PgType::Int4,
        "bigserial" | "serial8" => PgType::Int8,
        _ => return None,
    })
}

/// The integer type of a `serial`/`bigserial`/`smallserial` column type,
/// which DDL turns into a sequence-backed default; `None` for other types.
pub fn serial_type(dt: &sqlparser::ast::DataType) -> Option<PgType> {
    match dt {
        sqlparser::ast::DataType::Custom(name, mods) if mods.is_empty() => {
            serial_type_name(&name.to_string().trim_matches('"').to_ascii_lowercase())
        }
        _ => None,
    }
}

/// Whether a column type is one of the serial pseudo-types.
pub fn is_serial(dt: &sqlparser::ast::DataType) -> bool {
    serial_type(dt).is_some()
}

/// The (precision, scale) of `numeric(p[, s])`, checked as PostgreSQL does.
fn numeric_typmod(info: &sqlparser::ast::ExactNumberInfo) -> Result<Option<(u32, u32)>> {
    use sqlparser::ast::ExactNumberInfo as E;
    let (p, s) = match info {
        E::None => return Ok(None),
        E::Precision(p) => (*p, 0),
        E::PrecisionAndScale(p, s) => (*p, *s),
    };
    if !(1..=1000).contains(&p) {
        return Err(Error::InvalidParameter(format!(
            "NUMERIC precision {p} must be between 1 and 1000"
        )));
    }
    if s < 0 || s as u64 > p {
        return Err(Error::InvalidParameter(format!(
            "NUMERIC scale {s} must be between 0 and precision {p}"
        )));
    }
    Ok(Some((p as u32, s as u32)))
}

/// Quote an identifier for SQLite.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// An identifier as PostgreSQL's catalogs print it: bare when it is
/// lowercase letters, digits and underscores not starting with a digit,
/// quoted otherwise (reserved words are the caller's concern).
pub fn ident_text(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if bare {
        name.to_string()
    } else {
        quote(name)
    }
}

/// The PostgreSQL type a `pg_cast` type spec names (`int4`, `varchar(10)`).
pub fn cast_target(spec: &str) -> Option<PgType> {
    if let Some(elem) = spec.strip_suffix("[]") {
        return Some(PgType::Array(Box::new(cast_target(elem)?)));
    }
    if let Some(rest) = spec.strip_prefix("enum:") {
        let (collation, name) = rest.split_once(':')?;
        let labels = enums::collation_labels(collation)?
            .into_iter()
            .map(|l| String::from_utf8(l).ok())
            .collect::<Option<Vec<String>>>()?;
        return Some(PgType::Enum(Box::new(enums::EnumType {
            oid: 0,
            name: name.to_string(),
            labels,
            array_oid: 0,
            sort_orders: vec![],
        })));
    }
    if let Some(args) = spec.strip_prefix("vector(") {
        return Some(PgType::Vector(Some(
            args.trim_end_matches(')').parse().ok()?,
        )));
    }
    if let Some(typmod) = spec.strip_prefix("geometry:") {
        return Some(PgType::Geometry(typmod.parse().ok()));
    }
    if let Some(args) = spec.strip_prefix("numeric(") {
        let (p, s) = args.trim_end_matches(')').split_once(',')?;
        return Some(PgType::Numeric(Some((
            p.trim().parse().ok()?,
            s.trim().parse().ok()?,
        ))));
    }
    let (name, len) = match spec.split_once('(') {
        Some((n, rest)) => (n, rest.trim_end_matches(')').parse::<u32>().ok()),
        None => (spec, None),
    };
    Some(match name {
        "bool" => PgType::Bool,
        "int2" => PgType::Int2,
        "int4" => PgType::Int4,
        "int8" => PgType::Int8,
        "float4" => PgType::Float4,
        "float8" => PgType::Float8,
        "numeric" => PgType::Numeric(None),
        "text" => PgType::Text,
        "varchar" => PgType::Varchar(len),
        "bpchar" => PgType::Bpchar(len),
        "bytea" => PgType::Bytea,
        "date" => PgType::Date,
        "time" => PgType::Time,
        "timestamp" => PgType::Timestamp,
        "timestamptz" => PgType::Timestamptz,
        "json" => PgType::Json,
        "jsonb" => PgType::Jsonb,
        "uuid" => PgType::Uuid,
        "interval" => PgType::Interval,
        "oid" => PgType::Oid,
        "vector" => PgType::Vector(None),
        "geometry" => PgType::Geometry(None),
        _ => return None,
    })
}

/// The name `sql::rewrite` passes to `pg_cast` for a type.
pub fn cast_spec(ty: &PgType) -> String {
    match ty {
        PgType::Array(elem) => format!("{}[]", cast_spec(elem)),
        PgType::Bool => "bool".into(),
        PgType::Int2 => "int2".into(),
        PgType::Int4 => "int4".into(),
        PgType::Int8 | PgType::Xid8 => "int8".into(),
        PgType::Char => "char".into(),
        PgType::Oid => "oid".into(),
        PgType::Float4 => "float4".into(),
        PgType::Float8 => "float8".into(),
        PgType::Numeric(Some((p, s))) if *p > 0 => format!("numeric({p},{s})"),
        PgType::Numeric(_) => "numeric".into(),
        PgType::Text | PgType::Unknown | PgType::Void => "text".into(),
        PgType::Varchar(Some(n)) => format!("varchar({n})"),
        PgType::Varchar(None) => "varchar".into(),
        PgType::Bpchar(Some(n)) => format!("bpchar({n})"),
        PgType::Bpchar(None) => "bpchar".into(),
        PgType::Bytea => "bytea".into(),
        PgType::Date => "date".into(),
        PgType::Time => "time".into(),
        PgType::Timestamp => "timestamp".into(),
        PgType::Timestamptz => "timestamptz".into(),
        PgType::Json => "json".into(),
        PgType::Jsonb => "jsonb".into(),
        PgType::Uuid => "uuid".into(),
        PgType::Interval => "interval".into(),
        PgType::Enum(e) => format!("enum:{}:{}", e.collation(), e.name),
        PgType::Vector(Some(n)) => format!("vector({n})"),
        PgType::Vector(None) => "vector".into(),
        PgType::Geometry(Some(typmod)) => format!("geometry:{typmod}"),
        PgType::Geometry(None) => "geometry".into(),
    }
}

#[cfg(test)]
mod tests;
