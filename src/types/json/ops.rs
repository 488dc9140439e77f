//! jsonb's operators and functions over the parsed tree: PostgreSQL's
//! btree order (`compareJsonbContainers`), containment (`@>`, `<@`),
//! key existence (`?`), `jsonb_typeof`, `jsonb_array_length`, and the
//! field and path lookups of `->`, `->>`, `#>`, `#>>` on json and jsonb.

use std::cmp::Ordering;

use super::{parse, write, Node, Parser};
use crate::types::numeric::Numeric;

fn num_cmp(a: &str, b: &str) -> Ordering {
    match (Numeric::parse(a), Numeric::parse(b)) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

/// PostgreSQL's order of value kinds: null < string < number < boolean
/// < array < object.
fn rank(n: &Node) -> u8 {
    match n {
        Node::Null => 0,
        Node::Str(_) => 1,
        Node::Number(_) => 2,
        Node::Bool(_) => 3,
        Node::Array(_) => 4,
        Node::Object(_) => 5,
    }
}

fn cmp_nodes(a: &Node, b: &Node) -> Ordering {
    match (a, b) {
        (Node::Str(x), Node::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Node::Number(x), Node::Number(y)) => num_cmp(x, y),
        (Node::Bool(x), Node::Bool(y)) => x.cmp(y),
        (Node::Array(x), Node::Array(y)) => {
            x.len().cmp(&y.len()).then_with(|| cmp_all(x.iter().zip(y)))
        }
        (Node::Object(x), Node::Object(y)) => x.len().cmp(&y.len()).then_with(|| {
            x.iter()
                .zip(y)
                .map(|((ka, va), (kb, vb))| {
                    ka.as_bytes()
                        .cmp(kb.as_bytes())
                        .then_with(|| cmp_nodes(va, vb))
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        }),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn cmp_all<'a>(pairs: impl Iterator<Item = (&'a Node, &'a Node)>) -> Ordering {
    pairs
        .map(|(a, b)| cmp_nodes(a, b))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

fn scalar(n: &Node) -> bool {
    !matches!(n, Node::Array(_) | Node::Object(_))
}

/// jsonb's btree order. A top-level scalar is a one-element "raw scalar"
/// array to PostgreSQL: below an array of one element, above an empty
/// array (`'[]' < 'null'`), and compared by its element with another
/// scalar.
pub fn jsonb_cmp(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(match (&a, &b) {
        (x, Node::Array(items)) if scalar(x) => match items.len() {
            1 => Ordering::Less,
            n => 1.cmp(&n),
        },
        (Node::Array(items), y) if scalar(y) => match items.len() {
            1 => Ordering::Greater,
            n => n.cmp(&1),
        },
        (x, Node::Object(_)) if scalar(x) => Ordering::Less,
        (Node::Object(_), y) if scalar(y) => Ordering::Greater,
        _ => cmp_nodes(&a, &b),
    })
}

/// `a @> b`: PostgreSQL's containment. Objects contain objects whose
/// pairs they hold (values recursively), arrays contain arrays whose
/// elements they hold in any order and number, and a top-level array
/// contains a top-level scalar it holds.
pub fn jsonb_contains(a: &str, b: &str) -> Option<bool> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(match (&a, &b) {
        (Node::Array(items), y) if scalar(y) => {
            items.iter().any(|x| scalar(x) && same_scalar(x, y))
        }
        (x, y) if scalar(x) && scalar(y) => same_scalar(x, y),
        _ => contains(&a, &b),
    })
}

fn same_scalar(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Number(x), Node::Number(y)) => num_cmp(x, y).is_eq(),
        _ => scalar(a) && scalar(b) && cmp_nodes(a, b).is_eq(),
    }
}

fn contains(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Object(l), Node::Object(r)) => r.iter().all(|(k, v)| {
            l.iter()
                .find(|(key, _)| key == k)
                .is_some_and(|(_, lv)| within(lv, v))
        }),
        (Node::Array(l), Node::Array(r)) => r.iter().all(|v| l.iter().any(|lv| within(lv, v))),
        _ => false,
    }
}

/// Whether the value `have` satisfies the contained value `want`.
fn within(have: &Node, want: &Node) -> bool {
    if scalar(want) {
        same_scalar(have, want)
    } else {
        contains(have, want)
    }
}

/// `a ? key`: an object's key, or a string element of a top-level array
/// (or the top-level string itself).
pub fn jsonb_exists(a: &str, key: &str) -> Option<bool> {
    Some(match parse(a)? {
        Node::Object(fields) => fields.iter().any(|(k, _)| k == key),
        Node::Array(items) => items.iter().any(|x| matches!(x, Node::Str(s) if s == key)),
        Node::Str(s) => s == key,
        _ => false,
    })
}

/// `jsonb_typeof`/`json_typeof`.
pub fn json_typeof(a: &str) -> Option<&'static str> {
    Some(match parse(a)? {
        Node::Null => "null",
        Node::Bool(_) => "boolean",
        Node::Number(_) => "number",
        Node::Str(_) => "string",
        Node::Array(_) => "array",
        Node::Object(_) => "object",
    })
}

/// `jsonb_array_length`: `Err` for a scalar or an object (PostgreSQL
/// refuses them), `Ok(None)` when `a` is not JSON.
pub fn json_array_length(a: &str) -> Result<Option<i64>, &'static str> {
    match parse(a) {
        None => Ok(None),
        Some(Node::Array(items)) => Ok(Some(items.len() as i64)),
        Some(Node::Object(_)) => Err("cannot get array length of a non-array"),
        Some(_) => Err("cannot get array length of a scalar"),
    }
}

/// One step of a lookup: an object key, or an array index (negative
/// counts from the end).
pub enum Step {
    Key(String),
    Index(i64),
    /// A path element (`#>`): a key in an object, an index in an array
    /// when it reads as an integer.
    Elem(String),
}

/// The value at `path` in `doc` as its text: a string's own text when
/// `as_text` (`->>`, `#>>`; SQL NULL for a JSON null), otherwise JSON. A
/// json document (`jsonb` false) gives the value as it was written, a
/// jsonb one as jsonb prints it. `None` when nothing is there.
pub fn json_get(doc: &str, path: &[Step], jsonb: bool, as_text: bool) -> Option<String> {
    let mut p = Parser { s: doc, i: 0 };
    for step in path {
        p.ws();
        if !find(&mut p, step)? {
            return None;
        }
    }
    p.ws();
    let start = p.i;
    let node = p.value(0)?;
    match node {
        Node::Null if as_text => None,
        Node::Str(s) if as_text => Some(s),
        n if jsonb => {
            let mut out = String::new();
            write(&n, &mut out);
            Some(out)
        }
        _ => Some(doc[start..p.i].to_string()),
    }
}

/// Move `p` to the value `step` names inside the value at `p` (the last
/// of duplicate keys); `Some(false)` when there is none.
fn find(p: &mut Parser<'_>, step: &Step) -> Option<bool> {
    let b = p.s.as_bytes();
    let open = *b.get(p.i)?;
    let mut found = None;
    let index;
    let step = match (open, step) {
        (b'[', Step::Elem(e)) => match e.trim().parse::<i64>() {
            Ok(n) => {
                index = Step::Index(n);
                &index
            }
            Err(_) => return Some(false),
        },
        _ => step,
    };
    match (open, step) {
        (b'{', Step::Key(key) | Step::Elem(key)) => {
            p.i += 1;
            p.ws();
            if b.get(p.i) == Some(&b'}') {
                return Some(false);
            }
            loop {
                p.ws();
                let k = p.string()?;
                p.ws();
                p.i += 1;
                p.ws();
                if k == *key {
                    found = Some(p.i);
                }
                p.value(1)?;
                p.ws();
                match b.get(p.i)? {
                    b',' => p.i += 1,
                    _ => break,
                }
            }
        }
        (b'[', Step::Index(n)) => {
            let mut starts = Vec::new();
            p.i += 1;
            p.ws();
            if b.get(p.i) != Some(&b']') {
                loop {
                    p.ws();
                    starts.push(p.i);
                    p.value(1)?;
                    p.ws();
                    match b.get(p.i)? {
                        b',' => p.i += 1,
                        _ => break,
                    }
                }
            }
            let len = starts.len() as i64;
            let at = if *n < 0 { len + n } else { *n };
            if (0..len).contains(&at) {
                found = Some(starts[at as usize]);
            }
        }
        _ => return Some(false),
    }
    match found {
        Some(i) => {
            p.i = i;
            Some(true)
        }
        None => Some(false),
    }
}

/// `a - key` (`Ok(None)` when `a` is not JSON): an object without the
/// key, an array without its string elements equal to it.
pub fn jsonb_delete_key(a: &str, key: &str) -> Result<Option<String>, &'static str> {
    let node = match parse(a) {
        None => return Ok(None),
        Some(Node::Object(f)) => Node::Object(f.into_iter().filter(|(k, _)| k != key).collect()),
        Some(Node::Array(items)) => Node::Array(
            items
                .into_iter()
                .filter(|x| !matches!(x, Node::Str(s) if s == key))
                .collect(),
        ),
        Some(_) => return Err("cannot delete from scalar"),
    };
    Ok(Some(text(&node)))
}

/// `a - n`: an array without its element at index `n` (negative counts
/// from the end; out of range leaves it as it is).
pub fn jsonb_delete_index(a: &str, n: i64) -> Result<Option<String>, &'static str> {
    match parse(a) {
        None => Ok(None),
        Some(Node::Array(mut items)) => {
            let len = items.len() as i64;
            let at = if n < 0 { len + n } else { n };
            if (0..len).contains(&at) {
                items.remove(at as usize);
            }
            Ok(Some(text(&Node::Array(items))))
        }
        Some(Node::Object(_)) => Err("cannot delete from object using integer index"),
        Some(_) => Err("cannot delete from scalar"),
    }
}

fn text(n: &Node) -> String {
    let mut out = String::new();
    write(n, &mut out);
    out
}

/// `jsonb_strip_nulls`: object fields whose value is null removed, at
/// every depth (nulls in arrays stay).
pub fn jsonb_strip_nulls(a: &str) -> Option<String> {
    fn strip(n: Node) -> Node {
        match n {
            Node::Object(f) => Node::Object(
                f.into_iter()
                    .filter(|(_, v)| !matches!(v, Node::Null))
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            Node::Array(items) => Node::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    Some(text(&strip(parse(a)?)))
}

/// `jsonb_pretty`: PostgreSQL's layout, four spaces a level, an empty
/// container still opened and closed on lines of their own.
pub fn jsonb_pretty(a: &str) -> Option<String> {
    fn pretty(n: &Node, level: usize, out: &mut String) {
        let pad = |l: usize| "    ".repeat(l);
        let (open, close, items): (char, char, Vec<(Option<&String>, &Node)>) = match n {
            Node::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
            Node::Object(f) => ('{', '}', f.iter().map(|(k, v)| (Some(k), v)).collect()),
            scalar => {
                write(scalar, out);
                return;
            }
        };
        out.push(open);
        for (i, (k, v)) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('\n');
            out.push_str(&pad(level + 1));
            if let Some(k) = k {
                write(&Node::Str((*k).clone()), out);
                out.push_str(": ");
            }
            pretty(v, level + 1, out);
        }
        out.push('\n');
        out.push_str(&pad(level));
        out.push(close);
    }
    let mut out = String::new();
    pretty(&parse(a)?, 0, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_containment_as_postgresql() {
        let lt = |a, b| jsonb_cmp(a, b) == Some(Ordering::Less);
        assert!(lt("[]", "null"));
        assert!(lt("1", "[1]"));
        assert!(!lt("1", "[]"));
        assert!(lt(r#"{"b":1,"d":1}"#, r#"{"aa":1,"c":1}"#));
        assert!(lt("null", r#""a""#) && lt(r#""z""#, "0") && lt("9", "false"));
        assert!(lt("[]", "true") && lt("true", "[1,2]") && lt("[1,2,3]", "{}") && lt("1", "{}"));
        assert_eq!(jsonb_cmp("1.0", "1"), Some(Ordering::Equal));
        let c = |a, b| jsonb_contains(a, b).unwrap();
        assert!(c("[1,2]", "1"));
        assert!(!c("1", "[1]"));
        assert!(!c(r#"{"a":[1]}"#, r#"{"a":1}"#));
        assert!(c("[1,[2]]", "[[2]]"));
        assert!(c("[1,2,2]", "[2,2,1,1]"));
        assert!(c(r#"{"a":{"b":1,"c":2},"d":3}"#, r#"{"a":{"c":2.0}}"#));
        assert!(!c("[[1,2]]", "[1]"));
        assert_eq!(jsonb_exists(r#"["a",1]"#, "a"), Some(true));
        assert_eq!(jsonb_exists("[1]", "1"), Some(false));
    }

    #[test]
    fn delete_strip_and_pretty_as_postgresql() {
        assert_eq!(
            jsonb_delete_key(r#"{"a":1,"b":2}"#, "a"),
            Ok(Some(r#"{"b": 2}"#.into()))
        );
        assert_eq!(
            jsonb_delete_key(r#"["a",1,"a"]"#, "a"),
            Ok(Some("[1]".into()))
        );
        assert!(jsonb_delete_key("1", "a").is_err());
        assert_eq!(jsonb_delete_index("[1,2,3]", -1), Ok(Some("[1, 2]".into())));
        assert_eq!(jsonb_delete_index("[1]", 5), Ok(Some("[1]".into())));
        assert_eq!(
            jsonb_strip_nulls(r#"{"a":null,"b":{"c":null},"d":[null]}"#).as_deref(),
            Some(r#"{"b": {}, "d": [null]}"#)
        );
        assert_eq!(
            jsonb_pretty(r#"{"a":[1,2],"b":{}}"#).as_deref(),
            Some("{\n    \"a\": [\n        1,\n        2\n    ],\n    \"b\": {\n    }\n}")
        );
        assert_eq!(jsonb_pretty("[]").as_deref(), Some("[\n]"));
    }

    #[test]
    fn lookups_keep_json_text() {
        let k = |s: &str| Step::Key(s.into());
        assert_eq!(
            json_get("[1, [2,  3]]", &[Step::Index(1)], false, false).as_deref(),
            Some("[2,  3]")
        );
        assert_eq!(
            json_get(r#"{"a":1,"a":2}"#, &[k("a")], false, true).as_deref(),
            Some("2")
        );
        assert_eq!(
            json_get(r#"{"a": 1.50}"#, &[k("a")], true, true).as_deref(),
            Some("1.50")
        );
        assert_eq!(json_get(r#"{"a": null}"#, &[k("a")], true, true), None);
        assert_eq!(json_get("[1]", &[k("a")], true, false), None);
        assert_eq!(
            json_get("[1,2,3]", &[Step::Index(-1)], true, false).as_deref(),
            Some("3")
        );
    }
}
