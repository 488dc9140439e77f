//! jsonb normalization: PostgreSQL prints jsonb with object keys sorted by
//! length then bytes, the last of duplicate keys kept, one space after `:`
//! and `,`, and numbers as numeric prints them. serde_json validates, but
//! loses number text, so this small parser keeps each number's lexeme.

use serde_json::Value;

mod build;
mod edit;
mod items;
mod ops;
pub mod path;

pub use build::{
    build_array, build_object, build_row, datum_json, null_key, row_object, ObjectBuilder,
};
pub use edit::{jsonb_edit, PathEdit};
pub use items::{json_items, Item, Items};
pub use ops::*;

pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

pub(crate) struct Parser<'a> {
    pub(crate) s: &'a str,
    pub(crate) i: usize,
}

impl Parser<'_> {
    pub(crate) fn ws(&mut self) {
        let b = self.s.as_bytes();
        while self.i < b.len() && matches!(b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    pub(crate) fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > 512 {
            return None;
        }
        self.ws();
        let b = self.s.as_bytes();
        let c = *b.get(self.i)?;
        match c {
            b'{' => {
                self.i += 1;
                let mut fields: Vec<(String, Node)> = Vec::new();
                self.ws();
                if b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Some(Node::Object(fields));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if b.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    fields.retain(|(key, _)| *key != k);
                    fields.push((k, v));
                    self.ws();
                    match b.get(self.i)? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                fields
                    .sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
                Some(Node::Object(fields))
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Some(Node::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match b.get(self.i)? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                Some(Node::Array(items))
            }
            b'"' => self.string().map(Node::Str),
            b't' => self.word("true", Node::Bool(true)),
            b'f' => self.word("false", Node::Bool(false)),
            b'n' => self.word("null", Node::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, w: &str, n: Node) -> Option<Node> {
        if self.s[self.i..].starts_with(w) {
            self.i += w.len();
            Some(n)
        } else {
            None
        }
    }

    pub(crate) fn string(&mut self) -> Option<String> {
        let rest = &self.s[self.i..];
        if !rest.starts_with('"') {
            return None;
        }
        // Find the closing quote, then let serde_json decode the escapes.
        let b = rest.as_bytes();
        let mut j = 1;
        while j < b.len() {
            match b[j] {
                b'\\' => j += 2,
                b'"' => break,
                _ => j += 1,
            }
        }
        if j >= b.len() {
            return None;
        }
        let s: String = serde_json::from_str(&rest[..=j]).ok()?;
        self.i += j + 1;
        Some(s)
    }

    fn number(&mut self) -> Option<Node> {
        let b = self.s.as_bytes();
        let start = self.i;
        while self.i < b.len()
            && matches!(b[self.i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        {
            self.i += 1;
        }
        let lex = &self.s[start..self.i];
        // serde_json checks the JSON number grammar; numeric prints it
        // (`1e2` is 100, `-0` is 0, `0.1000` keeps its scale).
        let _: serde_json::Number = serde_json::from_str(lex).ok()?;
        let text = super::numeric::Numeric::parse(lex).ok()?.to_string();
        Some(Node::Number(text))
    }
}

pub(crate) fn write(n: &Node, out: &mut String) {
    match n {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(t) => out.push_str(t),
        Node::Str(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Node::Array(items) => {
            out.push('[');
            for (k, v) in items.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                write(v, out);
            }
            out.push(']');
        }
        Node::Object(fields) => {
            out.push('{');
            for (k, (key, v)) in fields.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write(v, out);
            }
            out.push('}');
        }
    }
}

/// `s` as a jsonb tree; `None` when it is not JSON.
pub(crate) fn parse(s: &str) -> Option<Node> {
    let mut p = Parser { s, i: 0 };
    let node = p.value(0)?;
    p.ws();
    if p.i != s.len() || s.contains("\\u0000") {
        return None;
    }
    Some(node)
}

/// The text PostgreSQL prints for `s::jsonb`; `None` when `s` is not JSON.
pub fn normalize_jsonb(s: &str) -> Option<String> {
    let node = parse(s)?;
    let mut out = String::new();
    write(&node, &mut out);
    Some(out)
}

/// `a || b` on jsonb, as PostgreSQL has it: two objects merge (the right
/// one's keys win), two arrays concatenate, and otherwise each side that
/// is not an array counts as a one-element array.
pub fn concat_jsonb(a: &str, b: &str) -> Option<String> {
    let node = match (parse(a)?, parse(b)?) {
        (Node::Object(mut l), Node::Object(r)) => {
            for (k, v) in r {
                l.retain(|(key, _)| *key != k);
                l.push((k, v));
            }
            l.sort_by(|x, y| (x.0.len(), x.0.as_bytes()).cmp(&(y.0.len(), y.0.as_bytes())));
            Node::Object(l)
        }
        (l, r) => {
            let items = |n: Node| match n {
                Node::Array(items) => items,
                other => vec![other],
            };
            let mut all = items(l);
            all.extend(items(r));
            Node::Array(all)
        }
    };
    let mut out = String::new();
    write(&node, &mut out);
    Some(out)
}

/// jsonb equality: the same tree, numbers equal by value (`1.0` = `1`).
pub fn jsonb_equal(a: &str, b: &str) -> Option<bool> {
    Some(same(&parse(a)?, &parse(b)?))
}

pub(crate) fn same(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Null, Node::Null) => true,
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::Str(x), Node::Str(y)) => x == y,
        (Node::Number(x), Node::Number(y)) => {
            match (
                super::numeric::Numeric::parse(x),
                super::numeric::Numeric::parse(y),
            ) {
                (Ok(x), Ok(y)) => x == y,
                _ => x == y,
            }
        }
        (Node::Array(x), Node::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Node::Object(x), Node::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

#[cfg(test)]
mod jsonb_ops_tests {
    use super::{concat_jsonb, jsonb_equal};

    #[test]
    fn concatenation_and_equality_as_postgresql() {
        let c = |a, b| concat_jsonb(a, b).unwrap();
        assert_eq!(
            c(r#"{"a":1,"b":2}"#, r#"{"b":3,"c":4}"#),
            r#"{"a": 1, "b": 3, "c": 4}"#
        );
        assert_eq!(c("[1,2]", "[3]"), "[1, 2, 3]");
        assert_eq!(c("[1]", "2"), "[1, 2]");
        assert_eq!(c(r#"{"a":1}"#, "[2]"), r#"[{"a": 1}, 2]"#);
        assert_eq!(c("1", "2"), "[1, 2]");
        assert_eq!(jsonb_equal(r#"{"a":1.0}"#, r#"{"a":1}"#), Some(true));
        assert_eq!(jsonb_equal("[1,2]", "[2,1]"), Some(false));
        assert_eq!(jsonb_equal(r#"{"a":"1"}"#, r#"{"a":1}"#), Some(false));
        assert_eq!(jsonb_equal("{", "1"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonb_prints_like_postgres() {
        let cases = [
            (r#"{"b":[1,2],"a":1}"#, r#"{"a": 1, "b": [1, 2]}"#),
            (
                r#"{"aa":1,"b":2,"a":3,"a":4}"#,
                r#"{"a": 4, "b": 2, "aa": 1}"#,
            ),
            (
                r#" [1.50, 1e2, "x\ny", null, true] "#,
                r#"[1.50, 100, "x\ny", null, true]"#,
            ),
            (r#""caf\u00e9""#, r#""café""#),
            ("{}", "{}"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_jsonb(input).as_deref(), Some(want), "{input}");
        }
        for bad in ["{", "[1,]", "01", "{\"a\" 1}", "nul", "1 2"] {
            assert_eq!(normalize_jsonb(bad), None, "{bad}");
        }
    }
}
