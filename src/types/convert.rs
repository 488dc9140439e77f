//! Stored value ↔ PostgreSQL text and binary formats, per type.

use super::datetime::{
    date_text, format_time, parse_date, parse_time, parse_timestamp, timestamp_text,
    MICROS_PER_DAY, PG_EPOCH_DAYS,
};
use super::interval::Interval;
use super::json::normalize_jsonb;
use super::number::{format_float, format_numeric};
use super::numeric::Numeric;
use super::{Datum, PgType};
use crate::error::{Error, Result};

const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * MICROS_PER_DAY;

fn syntax(ty: &PgType, s: &str) -> Error {
    Error::InvalidInput(format!(
        "invalid input syntax for type {}: \"{s}\"",
        ty.input_name()
    ))
}

pub(super) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("\\x");
    for byte in b {
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

pub(super) fn render_text(ty: &PgType, v: &Datum) -> Option<String> {
    Some(match (ty, v) {
        (_, Datum::Null) => return None,
        (PgType::Array(elem), _) => return super::array::render_text(elem, v),
        (PgType::Bool, Datum::Int(i)) => (if *i != 0 { "t" } else { "f" }).into(),
        (PgType::Bool, Datum::Real(f)) => (if *f != 0.0 { "t" } else { "f" }).into(),
        (PgType::Float4, Datum::Real(f)) => format_float(*f, true),
        (PgType::Float8, Datum::Real(f)) => format_float(*f, false),
        // Exact numerics are stored in their printed form.
        (PgType::Numeric(_), Datum::Text(t)) => t.clone(),
        // A REAL in a numeric column was written before numeric was exact.
        (PgType::Numeric(Some((_, s))), Datum::Real(f)) if f.is_finite() => {
            format!("{:.*}", *s as usize, f)
        }
        (PgType::Numeric(Some((_, s))), Datum::Int(i)) if *s > 0 => {
            format!("{i}.{}", "0".repeat(*s as usize))
        }
        (PgType::Numeric(_), Datum::Real(f)) => format_numeric(*f),
        (PgType::Int2 | PgType::Int4 | PgType::Int8, Datum::Real(f))
            if f.fract() == 0.0 && f.abs() < 9.2e18 =>
        {
            (*f as i64).to_string()
        }
        (_, Datum::Int(i)) => i.to_string(),
        (_, Datum::Real(f)) => format_float(*f, false),
        // Stored as UTC without an offset; one printed in a session's
        // zone (`pg_tz_text`) carries its own.
        (PgType::Timestamptz, Datum::Text(s))
            if !s.get(19..).is_some_and(|r| r.contains(['+', '-'])) =>
        {
            format!("{s}+00")
        }
        (PgType::Bytea, Datum::Text(s)) => hex(s.as_bytes()),
        // Stored as PostGIS's EWKB, which its output prints in hex.
        (PgType::Geometry(_), Datum::Blob(b)) => data_encoding::HEXUPPER.encode(b),
        (PgType::Vector(_), Datum::Blob(b)) => match super::vector::from_blob(b) {
            Ok(v) => super::vector::format(&v),
            Err(_) => hex(b),
        },
        // jsonb an expression built (`->`, a function) is printed as
        // PostgreSQL prints jsonb; stored values already are.
        (PgType::Jsonb, Datum::Text(s)) => {
            super::json::normalize_jsonb(s).unwrap_or_else(|| s.clone())
        }
        (_, Datum::Text(s)) => s.clone(),
        (_, Datum::Blob(b)) => hex(b),
    })
}

fn as_i64(ty: &PgType, v: &Datum) -> Result<i64> {
    match v {
        Datum::Int(i) => Ok(*i),
        Datum::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
        Datum::Text(s) => match ty.parse_text(s)? {
            Datum::Int(i) => Ok(i),
            _ => Err(syntax(ty, s)),
        },
        other => Err(Error::DatatypeMismatch(format!(
            "cannot send {other:?} as {}",
            ty.display_name()
        ))),
    }
}

fn as_f64(ty: &PgType, v: &Datum) -> Result<f64> {
    match v {
        Datum::Int(i) => Ok(*i as f64),
        Datum::Real(f) => Ok(*f),
        Datum::Text(s) => match ty.parse_text(s)? {
            Datum::Real(f) => Ok(f),
            _ => Err(syntax(ty, s)),
        },
        other => Err(Error::DatatypeMismatch(format!(
            "cannot send {other:?} as {}",
            ty.display_name()
        ))),
    }
}

fn out_of_range(ty: &PgType) -> Error {
    Error::NumericOutOfRange(format!("{} out of range", ty.input_name()))
}

pub(super) fn render_binary(ty: &PgType, v: &Datum) -> Result<Option<Vec<u8>>> {
    if *v == Datum::Null {
        return Ok(None);
    }
    let text = || render_text(ty, v).unwrap_or_default();
    Ok(Some(match ty {
        PgType::Array(elem) => super::array::render_binary(elem, v)?,
        PgType::Bool => vec![u8::from(as_i64(ty, v)? != 0)],
        PgType::Int2 => {
            let i = as_i64(ty, v)?;
            i16::try_from(i)
                .map_err(|_| out_of_range(ty))?
                .to_be_bytes()
                .to_vec()
        }
        PgType::Int4 => {
            let i = as_i64(ty, v)?;
            i32::try_from(i)
                .map_err(|_| out_of_range(ty))?
                .to_be_bytes()
                .to_vec()
        }
        PgType::Int8 | PgType::Xid8 => as_i64(ty, v)?.to_be_bytes().to_vec(),
        PgType::Oid => (as_i64(ty, v)? as u32).to_be_bytes().to_vec(),
        PgType::Float4 => (as_f64(ty, v)? as f32).to_be_bytes().to_vec(),
        PgType::Float8 => as_f64(ty, v)?.to_be_bytes().to_vec(),
        PgType::Numeric(_) => Numeric::parse(&text())?.to_binary(),
        PgType::Interval => Interval::parse(&text())?.to_binary(),
        PgType::Bytea => match v {
            Datum::Blob(b) => b.clone(),
            Datum::Text(s) => s.as_bytes().to_vec(),
            _ => text().into_bytes(),
        },
        PgType::Date => {
            let days = parse_date(&text())? - PG_EPOCH_DAYS;
            i32::try_from(days)
                .map_err(|_| Error::DatetimeFieldOverflow("date out of range".into()))?
                .to_be_bytes()
                .to_vec()
        }
        PgType::Time => parse_time(&text())?.to_be_bytes().to_vec(),
        PgType::Timestamp | PgType::Timestamptz => {
            let stored = match v {
                Datum::Text(s) => s.clone(),
                _ => text(),
            };
            let micros = parse_timestamp(&stored, *ty == PgType::Timestamptz)?;
            (micros - PG_EPOCH_MICROS).to_be_bytes().to_vec()
        }
        PgType::Uuid => {
            let t = text();
            let Datum::Text(norm) = parse_uuid(&t).ok_or_else(|| syntax(ty, &t))? else {
                return Err(syntax(ty, &t));
            };
            let hexdigits: Vec<u8> = norm.bytes().filter(|b| *b != b'-').collect();
            hexdigits
                .chunks(2)
                .map(|p| (hex_val(p[0]).unwrap_or(0) << 4) | hex_val(p[1]).unwrap_or(0))
                .collect()
        }
        PgType::Jsonb => {
            let mut b = vec![1u8];
            b.extend_from_slice(text().as_bytes());
            b
        }
        PgType::Text
        | PgType::Varchar(_)
        | PgType::Bpchar(_)
        | PgType::Json
        | PgType::Enum(_)
        | PgType::Unknown => text().into_bytes(),
        PgType::Vector(_) => super::vector::to_binary(&stored_vector(v)?),
        // geometry_send: the EWKB as stored.
        PgType::Geometry(_) => match v {
            Datum::Blob(b) => b.clone(),
            _ => super::geometry::encode(&super::geometry::parse(&text())?),
        },
        // charsend: the one byte (none for an empty value).
        PgType::Char => text().into_bytes().into_iter().take(1).collect(),
        PgType::Void => Vec::new(),
    }))
}

/// A vector as stored (a BLOB), or as text a client wrote.
fn stored_vector(v: &Datum) -> Result<Vec<f32>> {
    match v {
        Datum::Blob(b) => super::vector::from_blob(b),
        Datum::Text(s) => super::vector::parse(s),
        _ => Err(Error::DatatypeMismatch(
            "a stored vector that is not a vector".into(),
        )),
    }
}

/// Geometry input checked against a `geometry(type, srid)` and stored.
fn geometry_datum(g: super::geometry::Geometry, typmod: Option<i32>) -> Result<Datum> {
    let g = super::geometry::apply_typmod(g, typmod)?;
    Ok(Datum::Blob(super::geometry::encode(&g)))
}

/// Vector input checked against a `vector(n)` and stored.
fn vector_datum(v: Vec<f32>, typmod: &Option<u32>) -> Result<Datum> {
    super::vector::check_typmod(*typmod, v.len())?;
    Ok(Datum::Blob(super::vector::to_blob(&v)))
}

fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim().to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| t.len() >= min && word.starts_with(t.as_str());
    if t == "1" {
        Some(true)
    } else if t == "0" {
        Some(false)
    } else if prefix_of("true", 1) || prefix_of("yes", 1) || t == "on" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) {
        Some(false)
    } else {
        None
    }
}

fn parse_int(ty: &PgType, s: &str) -> Result<Datum> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax(ty, s));
    }
    let range = || {
        Error::NumericOutOfRange(format!(
            "value \"{s}\" is out of range for type {}",
            ty.input_name()
        ))
    };
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = v * 10 + i128::from(b - b'0');
        if v > i128::from(i64::MAX) + 1 {
            return Err(range());
        }
    }
    let v = if neg { -v } else { v };
    let (lo, hi) = match ty {
        PgType::Int2 => (i128::from(i16::MIN), i128::from(i16::MAX)),
        PgType::Int4 => (i128::from(i32::MIN), i128::from(i32::MAX)),
        _ => (i128::from(i64::MIN), i128::from(i64::MAX)),
    };
    if v < lo || v > hi {
        return Err(range());
    }
    Ok(Datum::Int(v as i64))
}

/// SQLite turns a float NaN into NULL, so NaN is refused rather than lost.
fn nan_refused() -> Error {
    Error::Unsupported("float NaN values (SQLite cannot store them)".into())
}

fn parse_float(ty: &PgType, s: &str) -> Result<Datum> {
    let t = s.trim();
    let v: f64 = t.parse().map_err(|_| syntax(ty, s))?;
    if v.is_nan() {
        return Err(nan_refused());
    }
    let lower = t.to_ascii_lowercase();
    let is_inf_literal = lower.contains("inf");
    let range = || {
        Error::NumericOutOfRange(format!(
            "\"{s}\" is out of range for type {}",
            ty.input_name()
        ))
    };
    if v.is_infinite() && !is_inf_literal {
        return Err(range());
    }
    match ty {
        PgType::Float4 => {
            let f = v as f32;
            if (f.is_infinite() && !is_inf_literal) || (f == 0.0 && v != 0.0) {
                return Err(range());
            }
            Ok(Datum::Real(f64::from(f)))
        }
        _ => Ok(Datum::Real(v)),
    }
}

/// A numeric value as stored, after its column's `numeric(p, s)`.
fn numeric_datum(n: Numeric, typmod: &Option<(u32, u32)>) -> Result<Datum> {
    let n = match typmod {
        Some((p, s)) if *p > 0 => n.apply_typmod(*p, *s)?,
        _ => n,
    };
    Ok(Datum::Text(n.to_string()))
}

fn check_length(ty: &PgType, n: u32, s: &str) -> Result<String> {
    let count = s.chars().count();
    if count <= n as usize {
        return Ok(s.to_string());
    }
    // PostgreSQL silently drops trailing spaces beyond the limit.
    let keep: String = s.chars().take(n as usize).collect();
    if s.chars().skip(n as usize).all(|c| c == ' ') {
        return Ok(keep);
    }
    let name = match ty {
        PgType::Bpchar(_) => format!("character({n})"),
        _ => format!("character varying({n})"),
    };
    Err(Error::StringTooLong(format!(
        "value too long for type {name}"
    )))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub(super) fn parse_bytea(s: &str) -> Result<Datum> {
    let bad = || Error::InvalidInput("invalid input syntax for type bytea".into());
    if let Some(h) = s.strip_prefix("\\x") {
        let digits: Vec<u8> = h.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if !digits.len().is_multiple_of(2) {
            return Err(Error::InvalidInput(
                "invalid hexadecimal data: odd number of digits".into(),
            ));
        }
        let mut out = Vec::with_capacity(digits.len() / 2);
        for p in digits.chunks(2) {
            let (Some(hi), Some(lo)) = (hex_val(p[0]), hex_val(p[1])) else {
                let c = if hex_val(p[0]).is_none() { p[0] } else { p[1] };
                return Err(Error::InvalidInput(format!(
                    "invalid hexadecimal digit: \"{}\"",
                    char::from(c)
                )));
            };
            out.push((hi << 4) | lo);
        }
        return Ok(Datum::Blob(out));
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if i + 3 < b.len()
            && (b'0'..=b'3').contains(&b[i + 1])
            && (b'0'..=b'7').contains(&b[i + 2])
            && (b'0'..=b'7').contains(&b[i + 3])
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            return Err(bad());
        }
    }
    Ok(Datum::Blob(out))
}

fn parse_uuid(s: &str) -> Option<Datum> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let digits: Vec<u8> = t.bytes().filter(|b| *b != b'-').collect();
    if digits.len() != 32
        || !digits.iter().all(u8::is_ascii_hexdigit)
        || t.starts_with('-')
        || t.ends_with('-')
        || t.contains("--")
    {
        return None;
    }
    let h = String::from_utf8_lossy(&digits).to_ascii_lowercase();
    Some(Datum::Text(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )))
}

pub(super) fn parse_text(ty: &PgType, s: &str) -> Result<Datum> {
    match ty {
        PgType::Array(elem) => super::array::parse_text(elem, s),
        PgType::Enum(e) => e.parse(s).map(Datum::Text),
        PgType::Bool => parse_bool(s)
            .map(|b| Datum::Int(i64::from(b)))
            .ok_or_else(|| syntax(ty, s)),
        PgType::Int2 | PgType::Int4 | PgType::Int8 | PgType::Xid8 => parse_int(ty, s),
        // An oid reads as PostgreSQL's oidin does: a negative number wraps.
        PgType::Oid => match parse_int(&PgType::Int8, s)? {
            Datum::Int(v) if (-(1i64 << 31)..1i64 << 32).contains(&v) => {
                Ok(Datum::Int(v.rem_euclid(1 << 32)))
            }
            _ => Err(Error::NumericOutOfRange(format!(
                "value \"{s}\" is out of range for type oid"
            ))),
        },
        PgType::Float4 | PgType::Float8 => parse_float(ty, s),
        PgType::Numeric(typmod) => numeric_datum(Numeric::parse(s)?, typmod),
        PgType::Text
        | PgType::Unknown
        | PgType::Void
        | PgType::Varchar(None)
        | PgType::Bpchar(None) => Ok(Datum::Text(s.to_string())),
        PgType::Varchar(Some(n)) => check_length(ty, *n, s).map(Datum::Text),
        PgType::Bpchar(Some(n)) => {
            let mut v = check_length(ty, *n, s)?;
            let count = v.chars().count();
            v.extend(std::iter::repeat_n(' ', *n as usize - count));
            Ok(Datum::Text(v))
        }
        PgType::Bytea => parse_bytea(s),
        PgType::Date => Ok(Datum::Text(date_text(parse_date(s)?)?)),
        PgType::Time => Ok(Datum::Text(format_time(parse_time(s)?))),
        PgType::Timestamp => Ok(Datum::Text(timestamp_text(parse_timestamp(s, false)?)?)),
        PgType::Timestamptz => Ok(Datum::Text(timestamp_text(parse_timestamp(s, true)?)?)),
        PgType::Uuid => parse_uuid(s).ok_or_else(|| syntax(ty, s)),
        PgType::Vector(typmod) => vector_datum(super::vector::parse(s)?, typmod),
        PgType::Geometry(typmod) => geometry_datum(super::geometry::parse(s)?, *typmod),
        // charin keeps the first byte.
        PgType::Char => Ok(Datum::Text(
            String::from_utf8_lossy(&s.as_bytes()[..s.len().min(1)]).into_owned(),
        )),
        PgType::Interval => Ok(Datum::Text(Interval::parse(s)?.format())),
        PgType::Json => match serde_json::from_str::<serde::de::IgnoredAny>(s) {
            Ok(_) => Ok(Datum::Text(s.to_string())),
            Err(_) => Err(Error::InvalidInput(
                "invalid input syntax for type json".into(),
            )),
        },
        PgType::Jsonb => normalize_jsonb(s)
            .map(Datum::Text)
            .ok_or_else(|| Error::InvalidInput("invalid input syntax for type json".into())),
    }
}

fn utf8(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b)
        .map_err(|_| Error::InvalidInput("invalid byte sequence for encoding \"UTF8\"".into()))
}

fn fixed<const N: usize>(ty: &PgType, b: &[u8]) -> Result<[u8; N]> {
    b.try_into().map_err(|_| {
        Error::ProtocolViolation(format!(
            "incorrect binary data format in bind parameter of type {}",
            ty.display_name()
        ))
    })
}

pub(super) fn parse_binary(ty: &PgType, b: &[u8]) -> Result<Datum> {
    Ok(match ty {
        PgType::Array(elem) => return super::array::parse_binary(elem, b),
        PgType::Enum(_) => {
            let s = std::str::from_utf8(b).map_err(|_| syntax(ty, "binary"))?;
            return parse_text(ty, s);
        }
        PgType::Bool => Datum::Int(i64::from(fixed::<1>(ty, b)?[0] != 0)),
        PgType::Oid => Datum::Int(i64::from(u32::from_be_bytes(fixed(ty, b)?))),
        PgType::Int2 | PgType::Int4 | PgType::Int8 => {
            let v = match b.len() {
                2 => i64::from(i16::from_be_bytes(fixed(ty, b)?)),
                4 => i64::from(i32::from_be_bytes(fixed(ty, b)?)),
                _ => i64::from_be_bytes(fixed(ty, b)?),
            };
            // Re-check the declared type's range through the text path.
            return parse_int(ty, &v.to_string());
        }
        PgType::Float4 | PgType::Float8 => {
            let v = match b.len() {
                4 => f64::from(f32::from_be_bytes(fixed(ty, b)?)),
                _ => f64::from_be_bytes(fixed(ty, b)?),
            };
            if v.is_nan() {
                return Err(nan_refused());
            }
            Datum::Real(v)
        }
        PgType::Numeric(typmod) => return numeric_datum(Numeric::from_binary(b)?, typmod),
        PgType::Interval => Datum::Text(Interval::from_binary(b)?.format()),
        PgType::Vector(typmod) => return vector_datum(super::vector::from_binary(b)?, typmod),
        PgType::Geometry(typmod) => {
            return geometry_datum(super::geometry::decode(b)?, *typmod);
        }
        PgType::Bytea => Datum::Blob(b.to_vec()),
        PgType::Date => {
            let days = i64::from(i32::from_be_bytes(fixed(ty, b)?));
            Datum::Text(date_text(days + PG_EPOCH_DAYS)?)
        }
        PgType::Time => {
            let micros = i64::from_be_bytes(fixed(ty, b)?);
            if !(0..=MICROS_PER_DAY).contains(&micros) {
                return Err(Error::DatetimeFieldOverflow("time out of range".into()));
            }
            Datum::Text(format_time(micros))
        }
        PgType::Timestamp | PgType::Timestamptz => {
            let micros = i64::from_be_bytes(fixed(ty, b)?);
            let micros = micros
                .checked_add(PG_EPOCH_MICROS)
                .ok_or_else(|| Error::DatetimeFieldOverflow("timestamp out of range".into()))?;
            Datum::Text(timestamp_text(micros)?)
        }
        PgType::Uuid => {
            let raw = fixed::<16>(ty, b)?;
            let h: String = raw.iter().map(|x| format!("{x:02x}")).collect();
            return parse_uuid(&h).ok_or_else(|| syntax(ty, &h));
        }
        PgType::Jsonb => match b.split_first() {
            Some((1, rest)) => return parse_text(ty, utf8(rest)?),
            _ => {
                return Err(Error::InvalidInput(
                    "unsupported jsonb version number".into(),
                ))
            }
        },
        _ => return parse_text(ty, utf8(b)?),
    })
}

/// Bytes as text (a parameter's, `convert_from`'s): UTF-8 without NUL, or
/// PostgreSQL's 22021 naming the offending bytes (a character's worth, as
/// PostgreSQL shows).
pub fn utf8_text(bytes: &[u8]) -> Result<&str> {
    let bad = |at: usize| {
        let len = match bytes[at] {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        let shown: Vec<String> = bytes[at..(at + len).min(bytes.len())]
            .iter()
            .map(|b| format!("0x{b:02x}"))
            .collect();
        Error::CharacterNotInRepertoire(format!(
            "invalid byte sequence for encoding \"UTF8\": {}",
            shown.join(" ")
        ))
    };
    let s = std::str::from_utf8(bytes).map_err(|e| bad(e.valid_up_to()))?;
    match bytes.iter().position(|b| *b == 0) {
        Some(at) => Err(bad(at)),
        None => Ok(s),
    }
}

#[cfg(test)]
mod tests;
