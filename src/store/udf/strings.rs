//! PostgreSQL's string and binary functions that SQLite lacks or has under
//! another meaning: digests (`md5`, `sha256`, …), `encode`/`decode`,
//! `chr`, `translate`, `bit_length`, the quoting functions, `format` (whose
//! name SQLite gives to its printf) and `regexp_replace`.

use base64::Engine;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use sha2::Digest;

use super::{as_text, fail, FnResult};
use crate::error::Error;

fn text(c: &Context<'_>, i: usize) -> Option<String> {
    as_text(c.get_raw(i))
}

/// A bytea argument: a BLOB as it is, a quoted literal as bytea input.
fn bytes(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<Vec<u8>>> {
    Ok(match c.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Blob(b) => Some(b.to_vec()),
        v => {
            let s = as_text(v).unwrap_or_default();
            match crate::types::PgType::Bytea.parse_text(&s).map_err(fail)? {
                crate::types::Datum::Blob(b) => Some(b),
                _ => Some(s.into_bytes()),
            }
        }
    })
}

fn invalid(msg: String) -> rusqlite::Error {
    fail(Error::InvalidParameter(msg))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// PostgreSQL's base64: lines of 76 characters.
fn base64_lines(b: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(b);
    let lines: Vec<&str> = s
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    lines.join("\n")
}

fn encode(b: &[u8], format: &str) -> rusqlite::Result<String> {
    Ok(match format.to_ascii_lowercase().as_str() {
        "hex" => hex(b),
        "base64" => base64_lines(b),
        "escape" => {
            let mut out = String::new();
            for &x in b {
                match x {
                    b'\\' => out.push_str("\\\\"),
                    0 | 0x80..=0xff => out.push_str(&format!("\\{x:03o}")),
                    _ => out.push(x as char),
                }
            }
            out
        }
        _ => return Err(invalid(format!("unrecognized encoding: \"{format}\""))),
    })
}

fn decode(s: &str, format: &str) -> rusqlite::Result<Vec<u8>> {
    match format.to_ascii_lowercase().as_str() {
        "hex" => {
            let digits: Vec<char> = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if digits.len() % 2 == 1 {
                return Err(invalid(
                    "invalid hexadecimal data: odd number of digits".into(),
                ));
            }
            digits
                .chunks(2)
                .map(|p| {
                    let pair: String = p.iter().collect();
                    u8::from_str_radix(&pair, 16).map_err(|_| {
                        let bad = p.iter().find(|c| !c.is_ascii_hexdigit()).unwrap_or(&p[0]);
                        invalid(format!("invalid hexadecimal digit: \"{bad}\""))
                    })
                })
                .collect()
        }
        "base64" => {
            let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .map_err(|e| invalid(format!("invalid base64 data: {e}")))
        }
        "escape" => crate::types::PgType::Bytea
            .parse_text(s)
            .map_err(fail)
            .map(|d| match d {
                crate::types::Datum::Blob(b) => b,
                _ => s.as_bytes().to_vec(),
            }),
        _ => Err(invalid(format!("unrecognized encoding: \"{format}\""))),
    }
}

fn chr(n: i64) -> rusqlite::Result<String> {
    if n == 0 {
        return Err(fail(Error::InvalidParameter(
            "null character not permitted".into(),
        )));
    }
    let c = u32::try_from(n).ok().and_then(char::from_u32);
    c.map(String::from).ok_or_else(|| {
        fail(Error::InvalidParameter(format!(
            "requested character not valid for encoding: {n}"
        )))
    })
}

fn translate(s: &str, from: &str, to: &str) -> String {
    let from: Vec<char> = from.chars().collect();
    let to: Vec<char> = to.chars().collect();
    s.chars()
        .filter_map(|c| match from.iter().position(|f| *f == c) {
            Some(i) => to.get(i).copied(),
            None => Some(c),
        })
        .collect()
}

/// `quote_literal`: single quotes doubled; with a backslash, an E'' string
/// with backslashes doubled.
pub(crate) fn quote_literal(s: &str) -> String {
    if s.contains('\\') {
        format!(
            "E{}",
            crate::types::shard::literal(&s.replace('\\', "\\\\"))
        )
    } else {
        crate::types::shard::literal(s)
    }
}

/// PostgreSQL 15's keywords that are not unreserved: `quote_ident` quotes
/// them (reserved, column-name and type/function-name keywords).
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

pub(crate) fn quote_ident(s: &str) -> String {
    let plain = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !QUOTED_KEYWORDS.contains(&s);
    if plain {
        s.to_string()
    } else {
        crate::types::quote(s)
    }
}

/// `format(fmt, args…)` with PostgreSQL's conversions `%s`, `%I`, `%L`,
/// `%%`, argument positions (`%2$s`) and widths (`%5s`, `%-5s`, `%*s`).
fn format(fmt: &str, args: &[Option<String>]) -> rusqlite::Result<String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next = 0usize;
    let too_few = || invalid("too few arguments for format()".into());
    let unterminated = || invalid("unterminated format() type specifier".into());
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // [n$][-][width | * | *n$] type
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let mut position = None;
        if chars.peek() == Some(&'$') && !digits.is_empty() {
            chars.next();
            position = Some(digits.parse::<usize>().unwrap_or(0));
            digits.clear();
        }
        let mut left = false;
        if digits.is_empty() && chars.peek() == Some(&'-') {
            chars.next();
            left = true;
        }
        let mut width: Option<i64> = None;
        if digits.is_empty() && chars.peek() == Some(&'*') {
            chars.next();
            let arg = args.get(next).ok_or_else(too_few)?;
            next += 1;
            width = Some(arg.as_deref().unwrap_or("0").trim().parse().unwrap_or(0));
        } else {
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            if !digits.is_empty() {
                width = Some(digits.parse().unwrap_or(0));
            }
        }
        let kind = chars.next().ok_or_else(unterminated)?;
        let index = match position {
            Some(0) => {
                return Err(invalid(
                    "format specifies argument 0, but arguments are numbered from 1".into(),
                ))
            }
            Some(p) => p - 1,
            None => next,
        };
        let arg = args.get(index).ok_or_else(too_few)?;
        next = index + 1;
        let value = match kind {
            's' => arg.clone().unwrap_or_default(),
            'I' => match arg {
                Some(a) => quote_ident(a),
                None => {
                    return Err(fail(Error::NullValueNotAllowed(
                        "null values cannot be formatted as an SQL identifier".into(),
                    )))
                }
            },
            'L' => arg.as_deref().map_or("NULL".to_string(), quote_literal),
            other => {
                return Err(fail(
                    Error::InvalidParameter(format!(
                        "unrecognized format() type specifier \"{other}\""
                    ))
                    .with_hint("For a single \"%\" use \"%%\"."),
                ))
            }
        };
        let (left, width) = match width {
            Some(w) if w < 0 => (true, w.unsigned_abs() as usize),
            Some(w) => (left, w as usize),
            None => (left, 0),
        };
        let pad = width.saturating_sub(value.chars().count());
        if left {
            out.push_str(&value);
            out.push_str(&" ".repeat(pad));
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&value);
        }
    }
    Ok(out)
}

/// `regexp_replace(source, pattern, replacement [, flags])`: `\1`…`\9` and
/// `\&` in the replacement; flags `g` (every match) and `i`.
fn regexp_replace(c: &mut Context<'_>) -> FnResult {
    if matches!(c.len(), 4) && matches!(c.get_raw(3), ValueRef::Integer(_)) {
        return Err(fail(Error::Unsupported(
            "regexp_replace with a start position".into(),
        )));
    }
    let (Some(s), Some(p), Some(r)) = (text(c, 0), text(c, 1), text(c, 2)) else {
        return Ok(Value::Null);
    };
    let flags = if c.len() == 4 {
        text(c, 3)
    } else {
        Some(String::new())
    };
    let Some(flags) = flags else {
        return Ok(Value::Null);
    };
    let mut global = false;
    let mut icase = false;
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => icase = true,
            'c' => icase = false,
            // PostgreSQL's other options (newline-sensitive, expanded,
            // basic, quoted, …) change the match; not built.
            'b' | 'e' | 'm' | 'n' | 'p' | 'q' | 's' | 't' | 'w' | 'x' => {
                return Err(super::fail(Error::Unsupported(format!(
                    "regular expression option \"{f}\""
                ))))
            }
            other => {
                return Err(invalid(format!(
                    "invalid regular expression option: \"{other}\""
                )))
            }
        }
    }
    let re = super::similar::compile_for_extent(&p, icase)?;
    // The matches as PostgreSQL walks them (an empty match right after
    // another counts), each replaced by the expanded template.
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in super::regexp::matches(&re, &s, 0, global, false) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        out.push_str(&expand(&r, &caps));
        last = m.end();
    }
    out.push_str(&s[last..]);
    Ok(Value::Text(out))
}

/// A replacement template with `\1`…`\9`, `\&` and `\\` expanded.
fn expand(r: &str, caps: &regex::Captures<'_>) -> String {
    let mut out = String::new();
    let mut chars = r.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '1'..='9') => {
                chars.next();
                let i = d as usize - '0' as usize;
                out.push_str(caps.get(i).map_or("", |m| m.as_str()));
            }
            Some('&') => {
                chars.next();
                out.push_str(caps.get(0).map_or("", |m| m.as_str()));
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
    out
}

fn digest(
    conn: &Connection,
    name: &str,
    det: FunctionFlags,
    f: fn(&[u8]) -> Vec<u8>,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, det, move |c| {
        Ok(bytes(c, 0)?.map_or(Value::Null, |b| Value::Blob(f(&b))))
    })
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("md5", 1, det, |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Blob(b) => Value::Text(hex(&md5::Md5::digest(b))),
            v => Value::Text(hex(&md5::Md5::digest(as_text(v).unwrap_or_default()))),
        })
    })?;
    digest(conn, "sha224", det, |b| sha2::Sha224::digest(b).to_vec())?;
    digest(conn, "sha256", det, |b| sha2::Sha256::digest(b).to_vec())?;
    digest(conn, "sha384", det, |b| sha2::Sha384::digest(b).to_vec())?;
    digest(conn, "sha512", det, |b| sha2::Sha512::digest(b).to_vec())?;
    conn.create_scalar_function("encode", 2, det, |c| {
        let (Some(b), Some(f)) = (bytes(c, 0)?, text(c, 1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Text(encode(&b, &f)?))
    })?;
    conn.create_scalar_function("decode", 2, det, |c| {
        let (Some(s), Some(f)) = (text(c, 0), text(c, 1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Blob(decode(&s, &f)?))
    })?;
    conn.create_scalar_function("chr", 1, det, |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Text(chr(n)?),
            v => {
                let s = as_text(v).unwrap_or_default();
                let n = s.trim().parse::<i64>().map_err(|_| {
                    fail(Error::InvalidInput(format!(
                        "invalid input syntax for type integer: \"{s}\""
                    )))
                })?;
                Value::Text(chr(n)?)
            }
        })
    })?;
    conn.create_scalar_function("ascii", 1, det, |c| {
        Ok(text(c, 0).map_or(Value::Null, |s| {
            Value::Integer(s.chars().next().map_or(0, |ch| ch as i64))
        }))
    })?;
    conn.create_scalar_function("translate", 3, det, |c| {
        Ok(match (text(c, 0), text(c, 1), text(c, 2)) {
            (Some(s), Some(f), Some(t)) => Value::Text(translate(&s, &f, &t)),
            _ => Value::Null,
        })
    })?;
    conn.create_scalar_function("bit_length", 1, det, |c| {
        Ok(match c.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Blob(b) => Value::Integer(b.len() as i64 * 8),
            v => Value::Integer(as_text(v).unwrap_or_default().len() as i64 * 8),
        })
    })?;
    conn.create_scalar_function("quote_ident", 1, det, |c| {
        Ok(text(c, 0).map_or(Value::Null, |s| Value::Text(quote_ident(&s))))
    })?;
    conn.create_scalar_function("quote_literal", 1, det, |c| {
        Ok(text(c, 0).map_or(Value::Null, |s| Value::Text(quote_literal(&s))))
    })?;
    conn.create_scalar_function("quote_nullable", 1, det, |c| {
        Ok(Value::Text(
            text(c, 0).map_or("NULL".to_string(), |s| quote_literal(&s)),
        ))
    })?;
    conn.create_scalar_function("format", -1, det, |c| {
        let Some(fmt) = text(c, 0) else {
            return Ok(Value::Null);
        };
        let args: Vec<Option<String>> = (1..c.len()).map(|i| text(c, i)).collect();
        Ok(Value::Text(format(&fmt, &args)?))
    })?;
    conn.create_scalar_function("regexp_replace", 3, det, regexp_replace)?;
    conn.create_scalar_function("regexp_replace", 4, det, regexp_replace)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_as_postgresql() {
        let a = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(
            format("%s|%I|%L|%%", &a(&["a", "b c", "it's"]))
                .ok()
                .as_deref(),
            Some("a|\"b c\"|'it''s'|%")
        );
        assert_eq!(
            format("%2$s %1$s", &a(&["a", "b"])).ok().as_deref(),
            Some("b a")
        );
        assert_eq!(
            format("[%5s][%-5s]", &a(&["ab", "cd"])).ok().as_deref(),
            Some("[   ab][cd   ]")
        );
        assert_eq!(format("%L", &[None]).ok().as_deref(), Some("NULL"));
        assert!(format("%s %s", &a(&["a"])).is_err());
        assert!(format("%d", &a(&["1"])).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("ab"), "ab");
        assert_eq!(quote_ident("a b"), "\"a b\"");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("Ab"), "\"Ab\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
    }

    #[test]
    fn encodings() {
        assert_eq!(encode(b"abc", "hex").ok().as_deref(), Some("616263"));
        assert_eq!(encode(b"abc", "base64").ok().as_deref(), Some("YWJj"));
        assert_eq!(decode("616263", "hex").ok(), Some(b"abc".to_vec()));
        assert_eq!(decode("YWJj", "base64").ok(), Some(b"abc".to_vec()));
        assert_eq!(translate("12345", "143", "ax"), "a2x5");
    }
}
