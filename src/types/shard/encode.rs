//! The canonical encoding that shard ids and bloom filters are computed
//! over, the storage normalization that makes it match what SQLite keeps,
//! and SQLite's ordering of values.
//!
//! Value: a tag byte and a payload. Null `0`; Int `1` and 8 bytes BE; Real
//! `2` and 8 bytes BE of `f64::to_bits` (-0.0 as 0.0, every NaN as one NaN);
//! Text `3`, u32 BE length, UTF-8; Blob `4`, u32 BE length, bytes. Each value
//! is self-delimiting, so a row is the concatenation of its values, and the
//! id's input frames each row with a u32 BE length.

use std::cmp::Ordering;

use crate::types::{Datum, PgType, Storage};

const TAG_NULL: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_REAL: u8 = 2;
const TAG_TEXT: u8 = 3;
const TAG_BLOB: u8 = 4;

/// The one NaN every NaN is encoded as.
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// 2^63 as an f64: the first value past `i64::MAX`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The value as a column of storage class `storage` holds it: what SQLite's
/// column affinity does to it on insert, where that is lossless and
/// predictable (an integer in a REAL column becomes a real, an integral real
/// in an INTEGER column an integer, an integer in a TEXT column its decimal
/// text), plus -0.0 → 0.0, and NaN → NULL (SQLite stores a bound NaN as
/// NULL). Other combinations are left alone.
pub fn normalize(storage: Storage, v: &Datum) -> Datum {
    match (storage, v) {
        (_, Datum::Real(f)) if f.is_nan() => Datum::Null,
        (Storage::Real, Datum::Int(i)) => Datum::Real(*i as f64),
        (Storage::Integer, Datum::Real(f)) => match exact_int(*f) {
            Some(i) => Datum::Int(i),
            None => Datum::Real(zero_sign(*f)),
        },
        (Storage::Text, Datum::Int(i)) => Datum::Text(i.to_string()),
        (_, Datum::Real(f)) => Datum::Real(zero_sign(*f)),
        _ => v.clone(),
    }
}

/// The canonical encoding of `v` as a column of storage class `storage`
/// holds it (see `normalize`). Bloom filters are built over, and probed
/// with, exactly these bytes.
pub fn encode_value(storage: Storage, v: &Datum) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    encode_into(&normalize(storage, v), &mut out);
    out
}

/// Append the canonical encoding of an already normalized value.
pub(crate) fn encode_into(v: &Datum, out: &mut Vec<u8>) {
    match v {
        Datum::Null => out.push(TAG_NULL),
        Datum::Int(i) => {
            out.push(TAG_INT);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Datum::Real(f) => {
            out.push(TAG_REAL);
            let bits = if f.is_nan() {
                CANONICAL_NAN
            } else {
                zero_sign(*f).to_bits()
            };
            out.extend_from_slice(&bits.to_be_bytes());
        }
        Datum::Text(s) => encode_bytes(TAG_TEXT, s.as_bytes(), out),
        Datum::Blob(b) => encode_bytes(TAG_BLOB, b, out),
    }
}

fn encode_bytes(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    // Values over 4 GiB cannot reach a shard (SQLite's limit is 1 GB), so
    // the saturation never changes the meaning of an encoding in practice.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Append a length-prefixed string (the schema part of the id).
pub(crate) fn encode_str(s: &str, out: &mut Vec<u8>) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The schema part of a shard id: table name, column count, then each
/// column's name and type (its `display_name`, a stable tag).
pub(crate) fn encode_schema<'a>(
    table: &str,
    columns: impl ExactSizeIterator<Item = (&'a str, &'a PgType)>,
) -> Vec<u8> {
    let mut out = Vec::new();
    encode_str(table, &mut out);
    let n = u32::try_from(columns.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    for (name, ty) in columns {
        encode_str(name, &mut out);
        encode_str(&ty.display_name(), &mut out);
    }
    out
}

fn zero_sign(f: f64) -> f64 {
    if f == 0.0 {
        0.0
    } else {
        f
    }
}

/// `f` as an i64 when it is integral and in range.
fn exact_int(f: f64) -> Option<i64> {
    if f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// SQLite's ordering of values (BINARY collation): NULL < numbers < text <
/// blob; integers and reals compare numerically (exactly, even past 2^53);
/// text and blobs compare bytewise. NaN, which SQLite never stores, sorts
/// below every other number.
pub fn cmp_sqlite(a: &Datum, b: &Datum) -> Ordering {
    fn class(d: &Datum) -> u8 {
        match d {
            Datum::Null => 0,
            Datum::Int(_) | Datum::Real(_) => 1,
            Datum::Text(_) => 2,
            Datum::Blob(_) => 3,
        }
    }
    match (a, b) {
        (Datum::Int(x), Datum::Int(y)) => x.cmp(y),
        (Datum::Real(x), Datum::Real(y)) => cmp_f64(*x, *y),
        (Datum::Int(x), Datum::Real(y)) => cmp_int_real(*x, *y),
        (Datum::Real(x), Datum::Int(y)) => cmp_int_real(*y, *x).reverse(),
        (Datum::Text(x), Datum::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Datum::Blob(x), Datum::Blob(y)) => x.cmp(y),
        _ => class(a).cmp(&class(b)),
    }
}

fn cmp_f64(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // -0.0 == 0.0 here, as in SQLite.
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// Compare an integer with a real exactly.
fn cmp_int_real(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Greater;
    }
    if f >= TWO_POW_63 {
        return Ordering::Less;
    }
    if f < -TWO_POW_63 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // In range and integral, so the cast is exact.
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - whole)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(encode_value(Storage::Integer, &Datum::Null), vec![0]);
        assert_eq!(
            encode_value(Storage::Integer, &Datum::Int(1)),
            vec![1, 0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(
            encode_value(Storage::Text, &Datum::Text("ab".into())),
            vec![3, 0, 0, 0, 2, b'a', b'b']
        );
        assert_eq!(
            encode_value(Storage::Blob, &Datum::Blob(vec![7])),
            vec![4, 0, 0, 0, 1, 7]
        );
        assert_eq!(
            encode_value(Storage::Real, &Datum::Real(-0.0)),
            encode_value(Storage::Real, &Datum::Real(0.0))
        );
        let mut nan = Vec::new();
        encode_into(&Datum::Real(f64::NAN), &mut nan);
        let mut other_nan = Vec::new();
        encode_into(&Datum::Real(-f64::NAN), &mut other_nan);
        assert_eq!(nan, other_nan);
        // SQLite stores NaN as NULL, so a stored NaN normalizes to NULL.
        assert_eq!(
            normalize(Storage::Real, &Datum::Real(f64::NAN)),
            Datum::Null
        );
        // An integer probed against a REAL column is a real.
        assert_eq!(
            encode_value(Storage::Real, &Datum::Int(5)),
            encode_value(Storage::Real, &Datum::Real(5.0))
        );
        assert_eq!(
            encode_value(Storage::Integer, &Datum::Real(5.0)),
            encode_value(Storage::Integer, &Datum::Int(5))
        );
    }

    #[test]
    fn sqlite_order() {
        use Datum::*;
        let ordered = [
            Null,
            Real(f64::NEG_INFINITY),
            Int(i64::MIN),
            Real(-1.5),
            Int(-1),
            Real(0.0),
            Real(0.5),
            Int(1),
            Int(i64::MAX),
            Real(TWO_POW_63),
            Text("".into()),
            Text("B".into()),
            Text("a".into()),
            Text("é".into()),
            Blob(vec![]),
            Blob(vec![0]),
        ];
        for (i, a) in ordered.iter().enumerate() {
            for (j, b) in ordered.iter().enumerate() {
                assert_eq!(cmp_sqlite(a, b), i.cmp(&j), "{a:?} vs {b:?}");
            }
        }
        assert_eq!(cmp_sqlite(&Int(3), &Real(3.0)), Ordering::Equal);
        assert_eq!(
            cmp_sqlite(&Int(9_007_199_254_740_993), &Real(9_007_199_254_740_992.0)),
            Ordering::Greater
        );
    }
}
