//! How a `Datum` crosses into and out of SQLite.

use crate::types::Datum;

impl Datum {
    /// A value read from SQLite.
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
