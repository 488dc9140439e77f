//! pgvector's `vector(n)` type: a list of 1 to 16000 finite single-precision
//! floats. Stored as a BLOB of little-endian `f32`s with no header (the
//! layout sqlite-vec reads), written `[1,2,3]` in text and, in binary, as
//! pgvector sends it (int16 dimensions, int16 unused, big-endian float4s).
//! Input, output and their error texts and SQLSTATEs follow pgvector's
//! `vector_in`, `vector_out`, `vector_recv` and `vector_send`; the distances
//! (`distance`) follow its arithmetic: sums of `f32` terms, the square root
//! and cosine in `f64`.

use crate::error::{Error, Result};

mod distance;
pub use distance::{distance, distances_lanes, Metric, LANES};

/// The most dimensions a vector may have (pgvector's VECTOR_MAX_DIM).
pub const MAX_DIM: usize = 16000;

/// The oid of the `vector` type. pgvector's type gets an oid when the
/// extension is created, above 16383 like every user object's, and drivers
/// treat it so (asyncpg reads a type it has no codec for as text there,
/// and refuses one below); MosaicDB has it built in, under a fixed oid no
/// object is given (`types::builtin::RESERVED_OIDS`), in schema `public`
/// as `CREATE EXTENSION vector` puts it.
pub const OID: u32 = 999_999_000;
/// The oid of `vector[]` (`_vector`).
pub const ARRAY_OID: u32 = 999_999_001;

/// pgvector's whitespace: the C locale's `isspace`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}')
}

fn syntax(lit: &str) -> Error {
    Error::InvalidInput(format!("invalid input syntax for type vector: \"{lit}\""))
}

/// A vector's dimensions checked against pgvector's limits.
pub fn check_dims(dim: usize) -> Result<()> {
    if dim < 1 {
        return Err(Error::DataException(
            "vector must have at least 1 dimension".into(),
        ));
    }
    if dim > MAX_DIM {
        return Err(Error::ProgramLimit(format!(
            "vector cannot have more than {MAX_DIM} dimensions"
        )));
    }
    Ok(())
}

/// Whether a custom type name is pgvector's `vector`.
pub fn is_type_name(name: &str) -> bool {
    let n = name.trim_matches('"').to_ascii_lowercase();
    matches!(n.as_str(), "vector" | "public.vector")
}

/// The dimensions of `vector(n)` as sqlparser read them, checked as
/// pgvector checks them; `None` for plain `vector`.
pub fn typmod_from_sql(mods: &[sqlparser::ast::TypeModifier]) -> Result<Option<u32>> {
    match mods {
        [] => Ok(None),
        [sqlparser::ast::TypeModifier::Number(v, _)] => {
            let n: i64 = v
                .parse()
                .map_err(|_| Error::Syntax(format!("syntax error at or near \"{v}\"")))?;
            Ok(Some(typmod(n)?))
        }
        _ => Err(Error::InvalidParameter("invalid type modifier".into())),
    }
}

/// A value's dimensions against those a `vector(n)` type declares.
pub fn check_typmod(typmod: Option<u32>, dim: usize) -> Result<()> {
    match typmod {
        Some(n) if n as usize != dim => Err(Error::DataException(format!(
            "expected {n} dimensions, not {dim}"
        ))),
        _ => Ok(()),
    }
}

/// One element checked as pgvector checks it: finite.
pub fn check_element(x: f32) -> Result<()> {
    if x.is_nan() {
        return Err(Error::DataException("NaN not allowed in vector".into()));
    }
    if x.is_infinite() {
        return Err(Error::DataException(
            "infinite value not allowed in vector".into(),
        ));
    }
    Ok(())
}

/// Two vectors an operator or function combines element by element.
pub fn check_same(a: &[f32], b: &[f32]) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::DataException(format!(
            "different vector dimensions {} and {}",
            a.len(),
            b.len()
        )));
    }
    Ok(())
}

/// The typmod of `vector(n)`, checked as pgvector's `vector_typmod_in`.
pub fn typmod(n: i64) -> Result<u32> {
    if n < 1 {
        return Err(Error::InvalidParameter(
            "dimensions for type vector must be at least 1".into(),
        ));
    }
    if n > MAX_DIM as i64 {
        return Err(Error::InvalidParameter(format!(
            "dimensions for type vector cannot exceed {MAX_DIM}"
        )));
    }
    Ok(n as u32)
}

/// One element of the text form, read as `strtof` reads it.
fn element(token: &str, lit: &str) -> Result<f32> {
    let x: f32 = token.parse().map_err(|_| syntax(lit))?;
    let named = {
        let t = token.trim_start_matches(['+', '-']).to_ascii_lowercase();
        t == "inf" || t == "infinity"
    };
    if x.is_infinite() && !named {
        return Err(Error::NumericOutOfRange(format!(
            "\"{token}\" is out of range for type vector"
        )));
    }
    check_element(x)?;
    Ok(x)
}

/// The text form `[1,2,3]` (whitespace allowed around each part).
pub fn parse(lit: &str) -> Result<Vec<f32>> {
    let body = lit.trim_start_matches(is_space);
    let Some(mut rest) = body.strip_prefix('[') else {
        return Err(syntax(lit).with_detail("Vector contents must start with \"[\"."));
    };
    rest = rest.trim_start_matches(is_space);
    if rest.starts_with(']') {
        return Err(Error::DataException(
            "vector must have at least 1 dimension".into(),
        ));
    }
    let mut out = Vec::new();
    loop {
        if out.len() == MAX_DIM {
            check_dims(MAX_DIM + 1)?;
        }
        rest = rest.trim_start_matches(is_space);
        let end = rest
            .find(|c: char| c == ',' || c == ']' || is_space(c))
            .unwrap_or(rest.len());
        out.push(element(&rest[..end], lit)?);
        rest = rest[end..].trim_start_matches(is_space);
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix(']') {
            rest = r;
            break;
        } else {
            return Err(syntax(lit));
        }
    }
    if !rest.trim_start_matches(is_space).is_empty() {
        return Err(syntax(lit).with_detail("Junk after closing right brace."));
    }
    check_dims(out.len())?;
    Ok(out)
}

/// The text form, each element as PostgreSQL prints a `real`.
pub fn format(v: &[f32]) -> String {
    let mut s = String::with_capacity(2 + v.len() * 8);
    s.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&super::number::format_float(f64::from(*x), true));
    }
    s.push(']');
    s
}

/// The stored form: little-endian `f32`s.
pub fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stored value read back; `DataCorrupted` when its length is not a
/// whole number of floats.
pub fn from_blob(b: &[u8]) -> Result<Vec<f32>> {
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return Err(Error::DataCorrupted(format!(
            "a stored vector of {} bytes",
            b.len()
        )));
    }
    Ok(b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// pgvector's binary form.
pub fn to_binary(v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 4 * v.len());
    out.extend_from_slice(&(v.len() as u16).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    for x in v {
        out.extend_from_slice(&x.to_be_bytes());
    }
    out
}

/// pgvector's binary form read as `vector_recv` reads it.
pub fn from_binary(b: &[u8]) -> Result<Vec<f32>> {
    let short = || Error::ProtocolViolation("insufficient data left in message".into());
    let head = b.get(..4).ok_or_else(short)?;
    let dim = i16::from_be_bytes([head[0], head[1]]);
    let unused = i16::from_be_bytes([head[2], head[3]]);
    check_dims(usize::try_from(dim).unwrap_or(0))?;
    if unused != 0 {
        return Err(Error::DataException(format!(
            "expected unused to be 0, not {unused}"
        )));
    }
    let body = &b[4..];
    if body.len() != 4 * dim as usize {
        return Err(short());
    }
    body.chunks_exact(4)
        .map(|c| {
            let x = f32::from_be_bytes([c[0], c[1], c[2], c[3]]);
            check_element(x).map(|_| x)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_reads_and_prints_as_pgvector() {
        assert_eq!(parse(" [ 1, 2.5 ,-3e-2] ").unwrap(), vec![1.0, 2.5, -0.03]);
        assert_eq!(
            format(&[1.0, 2.5, -0.03, 1e-7, 1e20]),
            "[1,2.5,-0.03,1e-07,1e+20]"
        );
        assert_eq!(format(&parse("[0.1]").unwrap()), "[0.1]");
        for (bad, code) in [
            ("1,2", "22P02"),
            ("[1,2", "22P02"),
            ("[1,,2]", "22P02"),
            ("[1 2]", "22P02"),
            ("[1,2]x", "22P02"),
            ("[]", "22000"),
            ("[nan]", "22000"),
            ("[inf]", "22000"),
            ("[1e50]", "22003"),
        ] {
            assert_eq!(parse(bad).unwrap_err().sqlstate(), code, "{bad}");
        }
        let many = format!("[{}]", vec!["1"; MAX_DIM + 1].join(","));
        assert_eq!(parse(&many).unwrap_err().sqlstate(), "54000");
    }

    #[test]
    fn binary_and_stored_forms_round_trip() {
        let v = vec![1.0, -2.5, 3.25];
        assert_eq!(from_binary(&to_binary(&v)).unwrap(), v);
        assert_eq!(from_blob(&to_blob(&v)).unwrap(), v);
        assert_eq!(to_blob(&[1.0]), 1.0f32.to_le_bytes().to_vec());
        let mut bad = to_binary(&v);
        bad[3] = 1;
        assert_eq!(from_binary(&bad).unwrap_err().sqlstate(), "22000");
        assert!(from_binary(&bad[..5]).is_err());
        assert_eq!(check_typmod(Some(2), 3).unwrap_err().sqlstate(), "22000");
        assert_eq!(typmod(0).unwrap_err().sqlstate(), "22023");
    }
}
