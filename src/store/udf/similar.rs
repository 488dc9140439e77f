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
/// The pattern as the `regex` crate parses it (`None`: it does not).
fn hir(pattern: &str, icase: bool) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .case_insensitive(icase)
        .dot_matches_new_line(true)
        .build()
        .parse(pattern)
        .ok()
}

fn refused(what: &str) -> rusqlite::Error {
    fail(Error::Unsupported(format!(
        "a regular expression with {what}"
    )))
}

/// Whether `h` holds a word boundary: PostgreSQL reads `\b` as a
/// backspace (its word boundary is `\y`), the `regex` crate as a word
/// boundary, so such a pattern would match other strings.
fn word_boundary(h: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::{HirKind, Look};
    match h.kind() {
        HirKind::Look(l) => matches!(
            l,
            Look::WordAscii | Look::WordAsciiNegate | Look::WordUnicode | Look::WordUnicodeNegate
        ),
        HirKind::Repetition(r) => word_boundary(&r.sub),
        HirKind::Capture(c) => word_boundary(&c.sub),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(word_boundary),
        _ => false,
    }
}

/// What in `h` could make PostgreSQL pick another match than the `regex`
/// crate does, if anything. The crate takes the first alternative that
/// leads to a match (as a backtracking engine would); PostgreSQL's
/// regular expressions take the longest match, or the shortest after a
/// lazy quantifier. The two agree while every choice is a single
/// character's (`a*`, `[0-9]+`, `.?`, groups that are not repeated) and
/// alternatives are literals none of which begins another: then nothing
/// is left to prefer. (`tests/regex.rs` checks the first rule against PostgreSQL on random
/// patterns; under the second at most one alternative can match.)
fn extent_choice(h: &regex_syntax::hir::Hir) -> Option<&'static str> {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Repetition(r) => {
            if !r.greedy {
                return Some("a lazy quantifier (PostgreSQL makes the whole match shortest)");
            }
            // A group around a single character (`(x)?`) chooses no more.
            let sub = match r.sub.kind() {
                HirKind::Capture(c) => &c.sub,
                _ => &r.sub,
            };
            let single = match sub.kind() {
                HirKind::Class(_) => true,
                HirKind::Literal(l) => {
                    std::str::from_utf8(&l.0).is_ok_and(|s| s.chars().count() == 1)
                }
                _ => false,
            };
            (!single).then_some("a repeated group (PostgreSQL prefers the longest match)")
        }
        HirKind::Capture(c) => extent_choice(&c.sub),
        HirKind::Concat(v) => v.iter().find_map(extent_choice),
        HirKind::Alternation(v) => {
            let literals: Option<Vec<&[u8]>> = v
                .iter()
                .map(|a| match a.kind() {
                    HirKind::Literal(l) => Some(&l.0[..]),
                    _ => None,
                })
                .collect();
            let prefix_free = literals.is_some_and(|ls| {
                ls.iter().enumerate().all(|(i, a)| {
                    ls.iter()
                        .enumerate()
                        .all(|(j, b)| i == j || !b.starts_with(a))
                })
            });
            (!prefix_free).then_some(
                "alternatives (|) that may begin alike (PostgreSQL prefers the longest match)",
            )
        }
        _ => None,
    }
}

/// `compile` for the functions whose answer depends on what the match
/// spans (`regexp_replace`), refusing (0A000) the patterns whose match
/// PostgreSQL would choose otherwise (`extent_choice`).
pub(super) fn compile_for_extent(pattern: &str, icase: bool) -> rusqlite::Result<regex::Regex> {
    if let Some(what) = hir(pattern, icase).as_ref().and_then(extent_choice) {
        return Err(refused(what));
    }
    compile(pattern, icase)
}

pub(super) fn compile(pattern: &str, icase: bool) -> rusqlite::Result<regex::Regex> {
    if hir(pattern, icase).as_ref().is_some_and(word_boundary) {
        return Err(refused(
            "\\b or \\B (PostgreSQL reads \\b as a backspace; its word boundary is \\y)",
        ));
    }
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
