//! Byte functions of bytea and encodings: `get_byte`, `set_byte`,
//! `convert_to` and `convert_from`, with PostgreSQL's errors. Encodings
//! are the database's (UTF8), LATIN1 and SQL_ASCII; any other is refused
//! with 0A000 rather than converted wrong.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::{as_text, fail, FnResult};
use crate::error::Error;

/// Argument `i` as bytea; text (a text column) is PostgreSQL's 42883 for
/// the call as `signature` (its arguments' types) spells it.
fn bytes(ctx: &Context<'_>, i: usize, signature: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => Ok(Some(b.to_vec())),
        _ => Err(fail(
            Error::NoSuchFunction(signature.to_string()).with_hint(
                "No function matches the given name and argument types. You might need to add explicit type casts.",
            ),
        )),
    }
}

fn int(ctx: &Context<'_>, i: usize) -> Option<i64> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    }
}

/// Byte `n` of `b`, or PostgreSQL's 2202E.
fn index(b: &[u8], n: i64) -> rusqlite::Result<usize> {
    match usize::try_from(n).ok().filter(|&i| i < b.len()) {
        Some(i) => Ok(i),
        None => Err(fail(Error::ArrayElementError(format!(
            "index {n} out of valid range, 0..{}",
            b.len() as i64 - 1
        )))),
    }
}

fn get_byte(ctx: &mut Context<'_>) -> FnResult {
    let (Some(b), Some(n)) = (bytes(ctx, 0, "get_byte(text, integer)")?, int(ctx, 1)) else {
        return Ok(Value::Null);
    };
    Ok(Value::Integer(i64::from(b[index(&b, n)?])))
}

fn set_byte(ctx: &mut Context<'_>) -> FnResult {
    let (Some(mut b), Some(n), Some(v)) = (
        bytes(ctx, 0, "set_byte(text, integer, integer)")?,
        int(ctx, 1),
        int(ctx, 2),
    ) else {
        return Ok(Value::Null);
    };
    let i = index(&b, n)?;
    // PostgreSQL stores the value's low eight bits.
    b[i] = (v & 0xff) as u8;
    Ok(Value::Blob(b))
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Latin1,
    SqlAscii,
}

/// An encoding by name, as PostgreSQL reads one (case and punctuation
/// aside); `Err` says which end it names (`source`/`destination`).
fn encoding(name: &str, end: &str) -> rusqlite::Result<Encoding> {
    let key: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match key.as_str() {
        "utf8" | "unicode" => Ok(Encoding::Utf8),
        "latin1" | "iso88591" => Ok(Encoding::Latin1),
        "sqlascii" => Ok(Encoding::SqlAscii),
        k if KNOWN.contains(&k) => Err(fail(Error::Unsupported(format!(
            "encoding \"{}\"",
            name.to_uppercase()
        )))),
        _ => Err(fail(Error::InvalidParameter(format!(
            "invalid {end} encoding name \"{name}\""
        )))),
    }
}

/// PostgreSQL's other encoding names (pg_wchar.h), folded.
const KNOWN: &[&str] = &[
    "eucjp",
    "euccn",
    "euckr",
    "euctw",
    "eucjis2004",
    "mulecinternal",
    "latin2",
    "latin3",
    "latin4",
    "latin5",
    "latin6",
    "latin7",
    "latin8",
    "latin9",
    "latin10",
    "win1256",
    "win1258",
    "win866",
    "win874",
    "koi8r",
    "win1251",
    "win1252",
    "iso88595",
    "iso88596",
    "iso88597",
    "iso88598",
    "win1250",
    "win1253",
    "win1254",
    "win1255",
    "win1257",
    "koi8u",
    "sjis",
    "big5",
    "gbk",
    "uhc",
    "gb18030",
    "johab",
    "shiftjis2004",
];

fn convert_to(ctx: &mut Context<'_>) -> FnResult {
    let (Some(s), Some(name)) = (as_text(ctx.get_raw(0)), as_text(ctx.get_raw(1))) else {
        return Ok(Value::Null);
    };
    match encoding(&name, "destination")? {
        Encoding::Utf8 | Encoding::SqlAscii => Ok(Value::Blob(s.into_bytes())),
        Encoding::Latin1 => {
            let mut out = Vec::with_capacity(s.len());
            for ch in s.chars() {
                match u8::try_from(u32::from(ch)) {
                    Ok(b) => out.push(b),
                    Err(_) => {
                        let mut buf = [0u8; 4];
                        let seq: Vec<String> = (ch.encode_utf8(&mut buf).bytes())
                            .map(|b| format!("0x{b:02x}"))
                            .collect();
                        return Err(fail(Error::UntranslatableCharacter(format!(
                            "character with byte sequence {} in encoding \"UTF8\" has no equivalent in encoding \"LATIN1\"",
                            seq.join(" ")
                        ))));
                    }
                }
            }
            Ok(Value::Blob(out))
        }
    }
}

fn convert_from(ctx: &mut Context<'_>) -> FnResult {
    let (Some(b), Some(name)) = (
        bytes(ctx, 0, "convert_from(text, unknown)")?,
        as_text(ctx.get_raw(1)),
    ) else {
        return Ok(Value::Null);
    };
    let text = match encoding(&name, "source")? {
        Encoding::Latin1 => b.iter().map(|&x| char::from(x)).collect(),
        Encoding::Utf8 | Encoding::SqlAscii => {
            crate::types::utf8_text(&b).map_err(fail)?.to_string()
        }
    };
    if text.contains('\0') {
        return Err(fail(Error::CharacterNotInRepertoire(
            "invalid byte sequence for encoding \"UTF8\": 0x00".into(),
        )));
    }
    Ok(Value::Text(text))
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    // A bytea literal the typed step read (`sql::infer::typed::calls`).
    conn.create_scalar_function("pg_bytea_value", 1, det, |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("get_byte", 2, det, get_byte)?;
    conn.create_scalar_function("set_byte", 3, det, set_byte)?;
    conn.create_scalar_function("convert_to", 2, det, convert_to)?;
    conn.create_scalar_function("convert_from", 2, det, convert_from)?;
    Ok(())
}
