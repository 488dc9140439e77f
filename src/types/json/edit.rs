//! jsonb's path edits: `jsonb_set`, `jsonb_insert` and `#-`
//! (`jsonb_delete_path`), walked as PostgreSQL's `setPath` walks them.
//! Every path element before the last must exist (nothing is created on
//! the way); the last is an object key or an array index (negative from
//! the end). A new object key takes its place in jsonb's key order.

use super::{normalize_jsonb, parse, write, Node};
use crate::error::Error;

/// What to do at the end of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathEdit {
    /// `jsonb_set`: replace, and add when `create` and missing.
    Set { create: bool },
    /// `jsonb_insert`: add before (or after) an array element, or a key
    /// that is not there yet.
    Insert { after: bool },
    /// `#-`: remove.
    Delete,
}

impl PathEdit {
    fn adds(self) -> bool {
        matches!(
            self,
            PathEdit::Set { create: true } | PathEdit::Insert { .. }
        )
    }
}

fn invalid(m: &str) -> Error {
    Error::InvalidParameter(m.into())
}

/// Apply `edit` at `path` in the jsonb `doc` (`new`: the new value's
/// jsonb text, `None` for a delete). `Ok(None)` when `doc` is not JSON.
pub fn jsonb_edit(
    doc: &str,
    path: &[Option<String>],
    new: Option<&str>,
    edit: PathEdit,
) -> Result<Option<String>, Error> {
    let Some(root) = parse(doc) else {
        return Ok(None);
    };
    let new = match new.map(parse) {
        Some(None) => return Ok(None),
        Some(Some(n)) => Some(n),
        None => None,
    };
    let empty = match &root {
        Node::Object(f) => f.is_empty(),
        Node::Array(items) => items.is_empty(),
        _ => {
            return Err(invalid(if edit == PathEdit::Delete {
                "cannot delete path in scalar"
            } else {
                "cannot set path in scalar"
            }))
        }
    };
    let unchanged = path.is_empty()
        || (empty && matches!(edit, PathEdit::Delete | PathEdit::Set { create: false }));
    if unchanged {
        return Ok(Some(doc.to_string()));
    }
    let walk = Walk { path, new, edit };
    let out = walk.node(root, 0)?;
    let mut text = String::new();
    write(&out, &mut text);
    Ok(Some(normalize_jsonb(&text).unwrap_or(text)))
}

struct Walk<'a> {
    path: &'a [Option<String>],
    new: Option<Node>,
    edit: PathEdit,
}

impl Walk<'_> {
    fn new_value(&self) -> Node {
        self.new.as_ref().map_or(Node::Null, clone)
    }

    fn node(&self, n: Node, level: usize) -> Result<Node, Error> {
        let Some(Some(key)) = self.path.get(level) else {
            return Err(Error::NullValueNotAllowed(format!(
                "path element at position {} is null",
                level + 1
            )));
        };
        Ok(match n {
            Node::Object(fields) => Node::Object(self.object(fields, key, level)?),
            Node::Array(items) => Node::Array(self.array(items, key, level)?),
            scalar => scalar,
        })
    }

    fn object(
        &self,
        fields: Vec<(String, Node)>,
        key: &str,
        level: usize,
    ) -> Result<Vec<(String, Node)>, Error> {
        let last = level + 1 == self.path.len();
        let mut out = Vec::with_capacity(fields.len() + 1);
        if fields.is_empty() && self.edit.adds() && last {
            out.push((key.to_string(), self.new_value()));
        }
        let mut done = false;
        let count = fields.len();
        for (i, (k, v)) in fields.into_iter().enumerate() {
            if !done && k == key {
                done = true;
                if !last {
                    out.push((k, self.node(v, level + 1)?));
                } else if let PathEdit::Insert { .. } = self.edit {
                    return Err(invalid("cannot replace existing key")
                        .with_hint("Try using the function jsonb_set to replace key value."));
                } else if self.edit != PathEdit::Delete {
                    out.push((k, self.new_value()));
                }
                continue;
            }
            if self.edit.adds() && !done && last && i + 1 == count {
                out.push((key.to_string(), self.new_value()));
            }
            out.push((k, v));
        }
        Ok(out)
    }

    fn array(&self, items: Vec<Node>, key: &str, level: usize) -> Result<Vec<Node>, Error> {
        let last = level + 1 == self.path.len();
        let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let idx: i64 = strtoint(key).ok_or_else(|| {
            Error::InvalidInput(format!(
                "path element at position {} is not an integer: \"{key}\"",
                level + 1
            ))
        })?;
        // i64::MIN stands for "before the first" (PostgreSQL's INT_MIN).
        let idx = match idx {
            i if i < 0 && -i > n => i64::MIN,
            i if i < 0 => n + i,
            i if i > n => n,
            i => i,
        };
        let mut out = Vec::with_capacity(items.len() + 1);
        let mut done = false;
        if (idx == i64::MIN || n == 0) && last && self.edit.adds() {
            out.push(self.new_value());
            done = true;
        }
        for (i, item) in items.into_iter().enumerate() {
            if i64::try_from(i).ok() != Some(idx) {
                out.push(item);
                continue;
            }
            done = true;
            if !last {
                out.push(self.node(item, level + 1)?);
                continue;
            }
            match self.edit {
                PathEdit::Set { .. } => out.push(self.new_value()),
                PathEdit::Insert { after: false } => {
                    out.push(self.new_value());
                    out.push(item);
                }
                PathEdit::Insert { after: true } => {
                    out.push(item);
                    out.push(self.new_value());
                }
                PathEdit::Delete => {}
            }
        }
        if self.edit.adds() && !done && last {
            out.push(self.new_value());
        }
        Ok(out)
    }
}

/// C's `strtol` into an int, as PostgreSQL's `strtoint` reads a path
/// element: leading spaces and a sign, then digits and nothing else.
fn strtoint(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let v: i64 = t.parse().ok()?;
    i32::try_from(v).ok().map(i64::from)
}

fn clone(n: &Node) -> Node {
    match n {
        Node::Null => Node::Null,
        Node::Bool(b) => Node::Bool(*b),
        Node::Number(s) => Node::Number(s.clone()),
        Node::Str(s) => Node::Str(s.clone()),
        Node::Array(items) => Node::Array(items.iter().map(clone).collect()),
        Node::Object(f) => Node::Object(f.iter().map(|(k, v)| (k.clone(), clone(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(xs: &[&str]) -> Vec<Option<String>> {
        xs.iter().map(|s| Some(s.to_string())).collect()
    }

    fn set(doc: &str, path: &[&str], new: &str) -> String {
        jsonb_edit(doc, &p(path), Some(new), PathEdit::Set { create: true })
            .unwrap()
            .unwrap()
    }

    #[test]
    fn set_replaces_and_creates_at_the_end_only() {
        assert_eq!(set(r#"{"a": 1}"#, &["b"], "2"), r#"{"a": 1, "b": 2}"#);
        assert_eq!(set(r#"{"a": 1}"#, &["a"], "[3]"), r#"{"a": [3]}"#);
        assert_eq!(set(r#"{"a": 1}"#, &["x", "y"], "2"), r#"{"a": 1}"#);
        assert_eq!(set("[1, 2, 3]", &["-1"], "9"), "[1, 2, 9]");
        assert_eq!(set("[1, 2, 3]", &["-9"], "0"), "[0, 1, 2, 3]");
        assert_eq!(set("[1, 2, 3]", &["7"], "4"), "[1, 2, 3, 4]");
        assert!(jsonb_edit("[1]", &p(&["x"]), Some("1"), PathEdit::Set { create: true }).is_err());
        assert!(jsonb_edit("1", &p(&["x"]), Some("1"), PathEdit::Set { create: true }).is_err());
    }

    #[test]
    fn insert_and_delete() {
        let ins = |doc: &str, path: &[&str], after| {
            jsonb_edit(doc, &p(path), Some("0"), PathEdit::Insert { after })
                .unwrap()
                .unwrap()
        };
        assert_eq!(ins("[1, 2]", &["1"], false), "[1, 0, 2]");
        assert_eq!(ins("[1, 2]", &["1"], true), "[1, 2, 0]");
        assert!(jsonb_edit(
            r#"{"a": 1}"#,
            &p(&["a"]),
            Some("0"),
            PathEdit::Insert { after: false }
        )
        .is_err());
        let del = |doc: &str, path: &[&str]| {
            jsonb_edit(doc, &p(path), None, PathEdit::Delete)
                .unwrap()
                .unwrap()
        };
        assert_eq!(
            del(r#"{"a": {"b": 1, "c": 2}}"#, &["a", "b"]),
            r#"{"a": {"c": 2}}"#
        );
        assert_eq!(del("[1, 2, 3]", &["-1"]), "[1, 2]");
    }
}
