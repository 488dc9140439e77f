//! PostgreSQL's array input (`array_in`) for one-dimensional arrays: the
//! elements of `'{a, "b c", NULL}'`, each as its text (`None` for NULL),
//! with PostgreSQL's rules for quotes, backslashes and whitespace. Arrays
//! of several dimensions and explicit bounds (`'[0:1]={1,2}'`) are
//! refused (0A000): MosaicDB stores one-dimensional arrays only.

use crate::error::{Error, Result};

fn malformed(s: &str, detail: &str) -> Error {
    Error::InvalidInput(format!("malformed array literal: \"{s}\"")).with_detail(detail)
}

/// The elements of the array literal `s`.
pub fn elements(s: &str) -> Result<Vec<Option<String>>> {
    let body = s.trim_start_matches(is_space);
    if body.starts_with('[') {
        return Err(Error::Unsupported(
            "arrays with explicit bounds ('[m:n]={…}')".into(),
        ));
    }
    let Some(body) = body.strip_prefix('{') else {
        return Err(malformed(
            s,
            "Array value must start with \"{\" or dimension information.",
        ));
    };
    let mut chars = body.chars().peekable();
    let mut out = Vec::new();
    loop {
        while chars.next_if(|c| is_space(*c)).is_some() {}
        match chars.peek() {
            None => return Err(malformed(s, "Unexpected end of input.")),
            Some('}') if out.is_empty() => {
                chars.next();
                break;
            }
            Some('{') => return Err(Error::Unsupported("multidimensional arrays".into())),
            _ => {}
        }
        out.push(element(&mut chars, s)?);
        while chars.next_if(|c| is_space(*c)).is_some() {}
        match chars.next() {
            Some(',') => {}
            Some('}') => break,
            Some(c) => return Err(malformed(s, &format!("Unexpected \"{c}\" character."))),
            None => return Err(malformed(s, "Unexpected end of input.")),
        }
    }
    if chars.any(|c| !is_space(c)) {
        return Err(malformed(s, "Junk after closing right brace."));
    }
    Ok(out)
}

/// PostgreSQL's array_isspace: the ASCII whitespace characters.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// One element, quoted or not, up to (not including) its `,` or `}`.
fn element(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    s: &str,
) -> Result<Option<String>> {
    let mut text = String::new();
    if chars.next_if_eq(&'"').is_some() {
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some(c) => text.push(c),
                    None => return Err(malformed(s, "Unexpected end of input.")),
                },
                Some('"') => return Ok(Some(text)),
                Some(c) => text.push(c),
                None => return Err(malformed(s, "Unexpected end of input.")),
            }
        }
    }
    // Unquoted: trailing whitespace goes unless a backslash kept it.
    let mut kept = 0;
    let mut escaped = false;
    while let Some(&c) = chars.peek() {
        match c {
            ',' | '}' => break,
            '"' | '{' => return Err(malformed(s, &format!("Unexpected \"{c}\" character."))),
            '\\' => {
                chars.next();
                let Some(c) = chars.next() else {
                    return Err(malformed(s, "Unexpected end of input."));
                };
                text.push(c);
                kept = text.len();
                escaped = true;
            }
            c => {
                chars.next();
                text.push(c);
                if !is_space(c) {
                    kept = text.len();
                }
            }
        }
    }
    text.truncate(kept);
    if text.is_empty() {
        let c = chars.peek().copied().unwrap_or('}');
        return Err(malformed(s, &format!("Unexpected \"{c}\" character.")));
    }
    if !escaped && text.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Vec<Option<String>> {
        elements(s).unwrap()
    }

    #[test]
    fn reads_postgres_array_literals() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(ok("{}"), vec![]);
        assert_eq!(ok(" { } "), vec![]);
        assert_eq!(ok("{1, 2 ,3}"), vec![s("1"), s("2"), s("3")]);
        assert_eq!(
            ok(r#"{"a b","",NULL,"NULL",x\ }"#),
            vec![s("a b"), s(""), None, s("NULL"), s("x ")]
        );
        assert_eq!(ok(r#"{"a\"b",c\,d}"#), vec![s("a\"b"), s("c,d")]);
        assert_eq!(ok("{a b}"), vec![s("a b")]);
    }

    #[test]
    fn refuses_malformed_and_multidimensional_input() {
        for bad in [
            "{1,2",
            "1,2",
            "{1,,2}",
            "{1}x",
            "{,}",
            r#"{"a"b}"#,
            "{a\"b}",
        ] {
            assert_eq!(elements(bad).unwrap_err().sqlstate(), "22P02", "{bad}");
        }
        assert_eq!(elements("{{1},{2}}").unwrap_err().sqlstate(), "0A000");
        assert_eq!(elements("[0:1]={1,2}").unwrap_err().sqlstate(), "0A000");
    }
}
