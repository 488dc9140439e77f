//! One-dimensional arrays, as catalog queries produce them (`array_agg`,
//! the `text[]` columns of `pg_catalog`). A value is stored in
//! PostgreSQL's text form (`{a,NULL,"c d"}`) with each element in its
//! element type's stored form (a boolean as `0`/`1`), and rendered through
//! the element type on the way out.

mod family;
mod input;

pub use family::{compare, compare_items, Family, ALL as FAMILIES, COLLATION_PREFIX};

use super::{Datum, PgType};
use crate::error::{Error, Result};

/// An element's stored value, from its text in the stored array.
fn stored(elem: &PgType, s: &str) -> Datum {
    use super::Storage;
    match elem.storage() {
        Storage::Integer => s.parse().map_or_else(|_| Datum::Text(s.into()), Datum::Int),
        Storage::Real => s
            .parse()
            .map_or_else(|_| Datum::Text(s.into()), Datum::Real),
        // bytea elements are kept in their hex text form.
        Storage::Blob => super::convert::parse_bytea(s).unwrap_or_else(|_| Datum::Text(s.into())),
        _ => Datum::Text(s.into()),
    }
}

/// The stored text of an element value.
pub fn stored_text(v: &Datum) -> Option<String> {
    match v {
        Datum::Null => None,
        Datum::Int(i) => Some(i.to_string()),
        Datum::Real(f) => Some(f.to_string()),
        Datum::Text(s) => Some(s.clone()),
        // bytea's hex text form, which sorts as the bytes do.
        Datum::Blob(b) => Some(super::convert::hex(b)),
    }
}

fn stored_array(v: &Datum) -> Vec<Option<String>> {
    match stored_text(v) {
        Some(s) => parse_array(&s),
        None => vec![],
    }
}

/// The stored values of an array's elements (NULL ones `Datum::Null`).
pub fn elements_of(elem: &PgType, v: &Datum) -> Vec<Datum> {
    stored_array(v)
        .into_iter()
        .map(|e| e.map_or(Datum::Null, |s| stored(elem, &s)))
        .collect()
}

pub fn render_text(elem: &PgType, v: &Datum) -> Option<String> {
    render_text_in(elem, v, super::zone::Zone::UTC)
}

/// The text output of an array, its timestamptz elements in `zone`.
pub fn render_text_in(elem: &PgType, v: &Datum, zone: super::zone::Zone) -> Option<String> {
    let items: Vec<Option<String>> = stored_array(v)
        .into_iter()
        .map(|e| e.and_then(|s| elem.render_text_in(&stored(elem, &s), zone)))
        .collect();
    stored_text(v).map(|_| format_array(&items))
}

/// PostgreSQL's binary array: dimensions, a has-NULLs flag, the element
/// oid, each dimension's length and lower bound, then each element as a
/// length (-1 for NULL) and its binary form.
pub fn render_binary(elem: &PgType, v: &Datum) -> Result<Vec<u8>> {
    let items = stored_array(v);
    let mut out = Vec::new();
    let has_null = items.iter().any(Option::is_none);
    out.extend_from_slice(&i32::from(!items.is_empty()).to_be_bytes());
    out.extend_from_slice(&i32::from(has_null).to_be_bytes());
    out.extend_from_slice(&elem.oid().to_be_bytes());
    if !items.is_empty() {
        let n = i32::try_from(items.len())
            .map_err(|_| Error::TooComplex("array size exceeds the maximum".into()))?;
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
    }
    for item in items {
        match item
            .map(|s| elem.render_binary(&stored(elem, &s)))
            .transpose()?
        {
            Some(Some(b)) => {
                let len = i32::try_from(b.len())
                    .map_err(|_| Error::TooComplex("array element too large".into()))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&b);
            }
            _ => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    Ok(out)
}

/// PostgreSQL's text input of an array of `elem`: each element read as
/// the element type reads it (22P02 and the element type's own errors).
pub fn parse_text(elem: &PgType, s: &str) -> Result<Datum> {
    parse_text_in(elem, s, super::zone::Zone::UTC)
}

/// The same, a timestamptz element without an offset read in `zone`.
pub fn parse_text_in(elem: &PgType, s: &str, zone: super::zone::Zone) -> Result<Datum> {
    let items = input::elements(s)?
        .into_iter()
        .map(|e| match e {
            Some(x) => elem.parse_text_in(&x, zone).map(|d| stored_text(&d)),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Datum::Text(format_array(&items)))
}

pub fn parse_binary(elem: &PgType, b: &[u8]) -> Result<Datum> {
    let bad = || Error::ProtocolViolation("malformed binary array".into());
    let word = |at: usize| -> Result<i32> {
        let bytes = b.get(at..at + 4).ok_or_else(bad)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let ndim = word(0)?;
    if ndim == 0 {
        return Ok(Datum::Text("{}".into()));
    }
    if ndim != 1 {
        return Err(Error::Unsupported("multidimensional arrays".into()));
    }
    let n = usize::try_from(word(12)?).map_err(|_| bad())?;
    let mut at = 20;
    let mut items = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let len = word(at)?;
        at += 4;
        if len < 0 {
            items.push(None);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| bad())?;
        let bytes = b.get(at..at + len).ok_or_else(bad)?;
        at += len;
        items.push(stored_text(&elem.parse_binary(bytes)?));
    }
    Ok(Datum::Text(format_array(&items)))
}

/// The elements of an array in PostgreSQL's text form; `None` elements are NULL.
///
/// `int2vector` and `oidvector` (`pg_index.indkey`) print as numbers
/// separated by spaces, without braces; they read the same way.
pub fn parse_array(s: &str) -> Vec<Option<String>> {
    let inner = s.trim();
    let Some(inner) = inner.strip_prefix('{') else {
        return inner
            .split_whitespace()
            .map(|e| Some(e.to_string()))
            .collect();
    };
    let inner = inner.strip_suffix('}').unwrap_or(inner);
    let mut out = Vec::new();
    if inner.is_empty() {
        return out;
    }
    let mut chars = inner.chars().peekable();
    loop {
        let mut cur = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            match c {
                '"' => {
                    quoted = true;
                    chars.next();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => cur.extend(chars.next()),
                            '"' => break,
                            c => cur.push(c),
                        }
                    }
                }
                ',' => break,
                '\\' => {
                    chars.next();
                    cur.extend(chars.next());
                }
                c => {
                    cur.push(c);
                    chars.next();
                }
            }
        }
        let elem = cur.trim().to_string();
        out.push(if !quoted && elem.eq_ignore_ascii_case("null") {
            None
        } else if quoted {
            Some(cur)
        } else {
            Some(elem)
        });
        if chars.next().is_none() {
            break;
        }
    }
    out
}

/// PostgreSQL's text form of an array of (possibly NULL) strings.
pub fn format_array<S: AsRef<str>>(items: &[Option<S>]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            None => "NULL".to_string(),
            Some(s) => {
                let s = s.as_ref();
                let plain = !s.is_empty()
                    && !s.eq_ignore_ascii_case("null")
                    && !s
                        .chars()
                        .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
                if plain {
                    s.to_string()
                } else {
                    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                }
            }
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_render_through_their_element_type() {
        let v = Datum::Text("{1,0,NULL}".into());
        assert_eq!(
            render_text(&PgType::Bool, &v).as_deref(),
            Some("{t,f,NULL}")
        );
        let back = parse_binary(&PgType::Bool, &render_binary(&PgType::Bool, &v).unwrap());
        assert_eq!(back.unwrap(), v);
    }

    #[test]
    fn text_round_trips_and_bad_input_is_refused() {
        let v = parse_text(&PgType::Text, r#"{a,"b c",NULL}"#).unwrap();
        assert_eq!(
            render_text(&PgType::Text, &v).as_deref(),
            Some(r#"{a,"b c",NULL}"#)
        );
        let bin = render_binary(&PgType::Text, &v).unwrap();
        assert_eq!(parse_binary(&PgType::Text, &bin).unwrap(), v);
        assert!(parse_text(&PgType::Int4, "1,2").is_err());
        assert!(parse_text(&PgType::Int4, "{1,x}").is_err());
        assert!(parse_binary(&PgType::Int4, &[0, 0, 0, 1, 0]).is_err());
    }
}
