//! LIKE patterns, as PostgreSQL reads them: `%` any run, `_` any one
//! character, the escape character (default `\`) makes the next one literal.

use std::cmp::Ordering;

use crate::types::shard::{cmp_sqlite, trigrams, ColumnStats};
use crate::types::Datum;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    One,
    Many,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pattern(Vec<Tok>);

/// Parse `pattern`; `None` when PostgreSQL would reject it (it ends with the
/// escape character).
pub(super) fn parse(pattern: &str, escape: Option<char>) -> Option<Pattern> {
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            c if Some(c) == escape => Tok::Lit(chars.next()?),
            '%' => Tok::Many,
            '_' => Tok::One,
            c => Tok::Lit(c),
        });
    }
    Some(Pattern(toks))
}

impl Pattern {
    /// The one string the pattern matches, when it has no wildcard.
    pub(super) fn exact(&self) -> Option<String> {
        self.0
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// The literal characters before the first wildcard.
    pub(super) fn prefix(&self) -> String {
        self.0
            .iter()
            .map_while(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// The maximal runs of literal characters.
    fn runs(&self) -> Vec<String> {
        let mut out = vec![String::new()];
        for t in &self.0 {
            match t {
                Tok::Lit(c) => {
                    if let Some(run) = out.last_mut() {
                        run.push(*c);
                    }
                }
                _ => out.push(String::new()),
            }
        }
        out.retain(|r| !r.is_empty());
        out
    }
}

/// Whether a literal run of the pattern has a trigram the column's trigram
/// bloom lacks (then no value contains the run, case-insensitively).
pub(super) fn trigrams_exclude(stats: &ColumnStats, p: &Pattern) -> bool {
    let Some(bloom) = stats.trigram_filter() else {
        return false;
    };
    p.runs()
        .iter()
        .flat_map(|run| trigrams(run))
        .any(|g| !bloom.check(g.as_bytes()))
}

/// Whether no value in `[lo, hi]` can start with `prefix` (text compares
/// bytewise, and every string starting with `prefix` sorts at or after it,
/// before any string that is greater without starting with it).
pub(super) fn prefix_excluded(prefix: &str, lo: &Datum, hi: &Datum) -> bool {
    let p = Datum::Text(prefix.to_string());
    if cmp_sqlite(hi, &p) == Ordering::Less {
        return true;
    }
    match lo {
        Datum::Text(lo) => lo.as_str() > prefix && !lo.starts_with(prefix),
        _ => false,
    }
}

/// Whether `s` matches the pattern (case-sensitively).
pub(super) fn matches(p: &Pattern, s: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    // reach[i]: the pattern so far can end just before s[i].
    let mut reach = vec![false; s.len() + 1];
    reach[0] = true;
    for t in &p.0 {
        let mut next = vec![false; s.len() + 1];
        for i in 0..=s.len() {
            if !reach[i] {
                continue;
            }
            match t {
                Tok::Many => next[i..].iter_mut().for_each(|r| *r = true),
                Tok::One => {
                    if i < s.len() {
                        next[i + 1] = true;
                    }
                }
                Tok::Lit(c) => {
                    if s.get(i) == Some(c) {
                        next[i + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[s.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = parse("ab\\%c_d%ef", Some('\\')).unwrap();
        assert_eq!(p.prefix(), "ab%c");
        assert_eq!(p.runs(), vec!["ab%c", "d", "ef"]);
        assert_eq!(p.exact(), None);
        assert_eq!(
            parse("a\\_b", Some('\\')).unwrap().exact().as_deref(),
            Some("a_b")
        );
        assert_eq!(
            parse("a!%", Some('!')).unwrap().exact().as_deref(),
            Some("a%")
        );
        assert_eq!(parse("a\\", Some('\\')), None);
        assert_eq!(parse("a\\", None).unwrap().exact().as_deref(), Some("a\\"));
    }

    #[test]
    fn matching() {
        let m = |p: &str, s: &str| matches(&parse(p, Some('\\')).unwrap(), s);
        assert!(m("a%", "abc"));
        assert!(m("%b%", "abc"));
        assert!(m("a_c", "abc"));
        assert!(!m("a_c", "abbc"));
        assert!(m("%", ""));
        assert!(!m("_", ""));
        assert!(!m("A%", "abc"));
        assert!(m("a\\%", "a%"));
    }

    #[test]
    fn prefixes() {
        let t = |s: &str| Datum::Text(s.into());
        assert!(prefix_excluded("z", &t("a"), &t("m")));
        assert!(!prefix_excluded("b", &t("a"), &t("m")));
        assert!(!prefix_excluded("ab", &t("abc"), &t("m")));
        assert!(prefix_excluded("ab", &t("ac"), &t("m")));
        assert!(!prefix_excluded("m", &t("a"), &t("m")));
    }
}
