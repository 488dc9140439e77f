//! `s SIMILAR TO pattern [ESCAPE e]`: the SQL pattern turned into a
//! regular expression the way PostgreSQL turns it (`%` any string, `_` any
//! character, `|`, `*`, `+`, `?`, `{m,n}`, groups and bracket expressions
//! as in regular expressions, the whole string matched), then matched by
//! the `regex` crate, as `~` is; and how a regular expression is compiled
//! (`compile`) for `~`, `regexp_replace` and SIMILAR TO alike.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::Connection;

use super::{fail, FnResult};
use crate::error::{Error, Result};

/// The regular expression for SQL pattern `pattern`, with `escape` as the
/// escape character (`None`: none).
pub fn similar_to_regex(pattern: &str, escape: Option<char>) -> Result<String> {
    let mut out = String::from("^(?:");
    let mut after_escape = false;
    // Inside a bracket expression: how deep, and where its start is (1
    // right after `[`, 2 after `[^`, 3 past the start), so that a `]`
    // there is a literal.
    let (mut depth, mut start) = (0, 0);
    for c in pattern.chars() {
        if after_escape {
            if c == '"' && depth == 0 {
                return Err(Error::Unsupported(
                    "an escaped double quote in a SIMILAR TO pattern".into(),
                ));
            }
            out.push('\\');
            out.push(c);
            after_escape = false;
        } else if Some(c) == escape {
            after_escape = true;
        } else if depth > 0 {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
            if c == ']' && start > 2 {
                depth -= 1;
            } else if c == '[' {
                depth += 1;
            }
            start = if c == '^' { start + 1 } else { 3 };
        } else {
            match c {
                '[' => {
                    out.push('[');
                    depth += 1;
                    start = 1;
                }
                '%' => out.push_str(".*"),
                '_' => out.push('.'),
                '(' => out.push_str("(?:"),
                '\\' | '.' | '^' | '$' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out.push_str(")$");
    Ok(out)
}

/// The escape character of `ESCAPE e`: one character or none (22025).
fn escape_char(e: &str) -> Result<Option<char>> {
    let mut chars = e.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        _ => Err(Error::InvalidEscapeSequence("invalid escape string".into())
            .with_hint("Escape string must be empty or one character.")),
    }
}

fn similar(ctx: &mut Context<'_>) -> FnResult {
    let text = |i: usize| -> rusqlite::Result<Option<String>> {
        Ok(match ctx.get_raw(i) {
            rusqlite::types::ValueRef::Null => None,
            _ => Some(ctx.get::<String>(i)?),
        })
    };
    let (Some(s), Some(p)) = (text(0)?, text(1)?) else {
        return Ok(Value::Null);
    };
    // Without ESCAPE the escape character is a backslash.
    let escape = match ctx.len() {
        2 => Some('\\'),
        _ => match text(2)? {
            Some(e) => escape_char(&e).map_err(fail)?,
            None => return Ok(Value::Null),
        },
    };
    let re = ctx.get_or_create_aux(1, |_| {
        compile(&similar_to_regex(&p, escape).map_err(fail)?, false)
    })?;
    Ok(Value::Integer(re.is_match(&s) as i64))
}

/// A regular expression as PostgreSQL reads one by default: `.` matches
/// a newline too (`^` and `$` stay the string's ends); 2201B if it does
/// not compile.
pub(super) fn compile(pattern: &str, icase: bool) -> rusqlite::Result<regex::Regex> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(icase)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| {
            // The crate's message draws the pattern over several lines;
            // its last line says what is wrong.
            let e = e.to_string();
            let why = e.lines().last().unwrap_or_default();
            let why = why.trim_start_matches("error: ");
            fail(Error::InvalidRegex(format!(
                "invalid regular expression: {why}"
            )))
        })
}

pub(super) fn register(conn: &Connection, det: FunctionFlags) -> rusqlite::Result<()> {
    conn.create_scalar_function("pg_similar", 2, det, similar)?;
    conn.create_scalar_function("pg_similar", 3, det, similar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_postgresqls_regular_expressions() {
        let re = |p: &str| similar_to_regex(p, Some('\\')).unwrap();
        assert_eq!(re("ab%"), "^(?:ab.*)$");
        assert_eq!(re("a_(b|c)+"), "^(?:a.(?:b|c)+)$");
        assert_eq!(re("1.5$"), "^(?:1\\.5\\$)$");
        assert_eq!(re("\\%x"), "^(?:\\%x)$");
        assert_eq!(re("[]%]%"), "^(?:[]%].*)$");
        assert_eq!(re("[^]a]"), "^(?:[^]a])$");
        assert_eq!(similar_to_regex("#%", Some('#')).unwrap(), "^(?:\\%)$");
        assert_eq!(similar_to_regex("a\\b", None).unwrap(), "^(?:a\\\\b)$");
        assert!(escape_char("ab").is_err());
        assert_eq!(escape_char("").unwrap(), None);
    }
}
