//! PostgreSQL types as MosaicDB stores and speaks them.
//!
//! `PgType` is the declared type of a column or an expression; `Datum` is a
//! value as SQLite stores it. This module owns the mapping between the two:
//! how a PostgreSQL type is stored in SQLite (storage class), how a stored
//! value is rendered in PostgreSQL's text and binary formats, and how client
//! input (literals, text and binary parameters, COPY fields) is parsed and
//! validated into a stored value.
//!
//! Storage: bool → INTEGER 0/1; int2/int4/int8 → INTEGER; float4/float8 →
//! REAL; numeric → REAL (exactness beyond f64 is not kept yet); text,
//! varchar, bpchar, json, jsonb, uuid → TEXT; bytea → BLOB; date → TEXT
//! `YYYY-MM-DD`; timestamp → TEXT `YYYY-MM-DD HH:MM:SS[.ffffff]`;
//! timestamptz → TEXT in UTC, same shape (rendered with `+00`).

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
    Numeric,
    Text,
    Varchar(Option<u32>),
    Bpchar(Option<u32>),
    Bytea,
    Date,
    Timestamp,
    Timestamptz,
    Json,
    Jsonb,
    Uuid,
    /// A type the inference could not pin down; rendered as text.
    Unknown,
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
        use sqlparser::ast::DataType as D;
        Ok(match dt {
            D::Boolean | D::Bool => PgType::Bool,
            D::SmallInt(_) | D::Int2(_) => PgType::Int2,
            D::Int(_) | D::Integer(_) | D::Int4(_) => PgType::Int4,
            D::BigInt(_) | D::Int8(_) => PgType::Int8,
            D::Real | D::Float4 => PgType::Float4,
            D::DoublePrecision | D::Float8 | D::Double(_) => PgType::Float8,
            D::Numeric(_) | D::Decimal(_) | D::Dec(_) => PgType::Numeric,
            D::Text | D::String(_) => PgType::Text,
            D::Bytea => PgType::Bytea,
            D::Date => PgType::Date,
            D::JSON => PgType::Json,
            D::JSONB => PgType::Jsonb,
            D::Uuid => PgType::Uuid,
            other => return Err(Error::Unsupported(format!("type {other}"))),
        })
    }

    pub fn storage(&self) -> Storage {
        match self {
            PgType::Bool | PgType::Int2 | PgType::Int4 | PgType::Int8 => Storage::Integer,
            PgType::Float4 | PgType::Float8 | PgType::Numeric => Storage::Real,
            PgType::Bytea => Storage::Blob,
            _ => Storage::Text,
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
            PgType::Numeric => T::NUMERIC,
            PgType::Text => T::TEXT,
            PgType::Varchar(_) => T::VARCHAR,
            PgType::Bpchar(_) => T::BPCHAR,
            PgType::Bytea => T::BYTEA,
            PgType::Date => T::DATE,
            PgType::Timestamp => T::TIMESTAMP,
            PgType::Timestamptz => T::TIMESTAMPTZ,
            PgType::Json => T::JSON,
            PgType::Jsonb => T::JSONB,
            PgType::Uuid => T::UUID,
            PgType::Unknown => T::TEXT,
        }
    }

    pub fn oid(&self) -> u32 {
        self.wire_type().oid()
    }

    /// The type for a wire OID, if MosaicDB supports it.
    pub fn from_oid(oid: u32) -> Option<PgType> {
        use pgwire::api::Type as T;
        let t = T::from_oid(oid)?;
        Some(match t {
            T::BOOL => PgType::Bool,
            T::INT2 => PgType::Int2,
            T::INT4 => PgType::Int4,
            T::INT8 => PgType::Int8,
            T::FLOAT4 => PgType::Float4,
            T::FLOAT8 => PgType::Float8,
            T::NUMERIC => PgType::Numeric,
            T::TEXT | T::NAME | T::UNKNOWN => PgType::Text,
            T::VARCHAR => PgType::Varchar(None),
            T::BPCHAR => PgType::Bpchar(None),
            T::BYTEA => PgType::Bytea,
            T::DATE => PgType::Date,
            T::TIMESTAMP => PgType::Timestamp,
            T::TIMESTAMPTZ => PgType::Timestamptz,
            T::JSON => PgType::Json,
            T::JSONB => PgType::Jsonb,
            T::UUID => PgType::Uuid,
            _ => return None,
        })
    }

    /// The name `format_type` gives, e.g. `character varying(10)`.
    pub fn display_name(&self) -> String {
        match self {
            PgType::Bool => "boolean".into(),
            PgType::Int2 => "smallint".into(),
            PgType::Int4 => "integer".into(),
            PgType::Int8 => "bigint".into(),
            PgType::Float4 => "real".into(),
            PgType::Float8 => "double precision".into(),
            PgType::Numeric => "numeric".into(),
            PgType::Text => "text".into(),
            PgType::Varchar(Some(n)) => format!("character varying({n})"),
            PgType::Varchar(None) => "character varying".into(),
            PgType::Bpchar(Some(n)) => format!("character({n})"),
            PgType::Bpchar(None) => "character".into(),
            PgType::Bytea => "bytea".into(),
            PgType::Date => "date".into(),
            PgType::Timestamp => "timestamp without time zone".into(),
            PgType::Timestamptz => "timestamp with time zone".into(),
            PgType::Json => "json".into(),
            PgType::Jsonb => "jsonb".into(),
            PgType::Uuid => "uuid".into(),
            PgType::Unknown => "unknown".into(),
        }
    }

    /// PostgreSQL's text output of a stored value; `None` for NULL.
    pub fn render_text(&self, v: &Datum) -> Option<String> {
        Some(match v {
            Datum::Null => return None,
            Datum::Int(i) if *self == PgType::Bool => (if *i != 0 { "t" } else { "f" }).into(),
            Datum::Int(i) => i.to_string(),
            Datum::Real(f) => f.to_string(),
            Datum::Text(s) => s.clone(),
            Datum::Blob(b) => {
                let mut s = String::from("\\x");
                for byte in b {
                    s.push_str(&format!("{byte:02x}"));
                }
                s
            }
        })
    }

    /// PostgreSQL's binary output of a stored value; `None` for NULL.
    pub fn render_binary(&self, v: &Datum) -> Result<Option<Vec<u8>>> {
        let _ = v;
        Err(Error::Unsupported(format!(
            "binary format for {}",
            self.display_name()
        )))
    }

    /// Parse PostgreSQL text input (a literal, a text parameter, a COPY
    /// field) into the stored value; `Error::InvalidInput` (22P02) when the
    /// text is not a valid value of the type.
    pub fn parse_text(&self, s: &str) -> Result<Datum> {
        match self.storage() {
            Storage::Integer => s.trim().parse::<i64>().map(Datum::Int).map_err(|_| {
                Error::InvalidInput(format!(
                    "invalid input syntax for type {}: \"{s}\"",
                    self.display_name()
                ))
            }),
            Storage::Real => s.trim().parse::<f64>().map(Datum::Real).map_err(|_| {
                Error::InvalidInput(format!(
                    "invalid input syntax for type {}: \"{s}\"",
                    self.display_name()
                ))
            }),
            _ => Ok(Datum::Text(s.to_string())),
        }
    }

    /// Parse PostgreSQL binary input (a binary parameter) into the stored value.
    pub fn parse_binary(&self, b: &[u8]) -> Result<Datum> {
        let _ = b;
        Err(Error::Unsupported(format!(
            "binary parameters of type {}",
            self.display_name()
        )))
    }
}

impl Datum {
    pub fn from_ref(v: rusqlite::types::ValueRef<'_>) -> Datum {
        use rusqlite::types::ValueRef as V;
        match v {
            V::Null => Datum::Null,
            V::Integer(i) => Datum::Int(i),
            V::Real(f) => Datum::Real(f),
            V::Text(t) => Datum::Text(String::from_utf8_lossy(t).into_owned()),
            V::Blob(b) => Datum::Blob(b.to_vec()),
        }
    }
}

impl rusqlite::ToSql for Datum {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Datum::Null => ValueRef::Null,
            Datum::Int(i) => ValueRef::Integer(*i),
            Datum::Real(f) => ValueRef::Real(*f),
            Datum::Text(s) => ValueRef::Text(s.as_bytes()),
            Datum::Blob(b) => ValueRef::Blob(b),
        }))
    }
}
