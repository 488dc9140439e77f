//! Rows in PostgreSQL's DataRow format, text or binary per column.

use std::sync::Arc;

use bytes::BufMut;
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;

use crate::types::zone::Zone;
use crate::types::{Datum, PgType};

/// A value too wide for its column's integer type is PostgreSQL's 22003
/// (SQLite computes in 64 bits whatever the declared type).
fn check_range(ty: &PgType, v: &Datum) -> PgWireResult<()> {
    let (ok, name) = match (ty, v) {
        (PgType::Int4, Datum::Int(i)) => (i32::try_from(*i).is_ok(), "integer"),
        (PgType::Int2, Datum::Int(i)) => (i16::try_from(*i).is_ok(), "smallint"),
        _ => (true, ""),
    };
    if ok {
        Ok(())
    } else {
        Err(super::to_pg(crate::error::Error::NumericOutOfRange(
            format!("{name} out of range"),
        )))
    }
}

pub struct RowEncoder {
    schema: Arc<Vec<FieldInfo>>,
    types: Vec<PgType>,
    /// The session's TimeZone, for timestamptz in text.
    zone: Zone,
}

impl RowEncoder {
    pub fn new(schema: Arc<Vec<FieldInfo>>, types: Vec<PgType>, zone: Zone) -> RowEncoder {
        RowEncoder {
            schema,
            types,
            zone,
        }
    }

    pub fn encode(&self, row: &[Datum]) -> PgWireResult<DataRow> {
        let mut data = bytes::BytesMut::with_capacity(16 * row.len());
        for (i, ty) in self.types.iter().enumerate() {
            let v = row.get(i).unwrap_or(&Datum::Null);
            check_range(ty, v)?;
            let binary = self
                .schema
                .get(i)
                .map(|f| f.format() == FieldFormat::Binary)
                .unwrap_or(false);
            let bytes = if binary {
                ty.render_binary(v).map_err(super::to_pg)?
            } else {
                ty.render_text_in(v, self.zone).map(String::into_bytes)
            };
            match bytes {
                None => data.put_i32(-1),
                Some(b) => {
                    data.put_i32(b.len() as i32);
                    data.put_slice(&b);
                }
            }
        }
        Ok(DataRow::new(data, self.types.len() as i16))
    }
}
