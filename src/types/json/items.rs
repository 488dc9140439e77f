//! What the set-returning json functions read of a document: the elements
//! of an array (`json[b]_array_elements[_text]`), the members of an
//! object (`json[b]_each[_text]`) or its keys (`json[b]_object_keys`),
//! with PostgreSQL's errors for a document of the wrong kind.

use super::{write, Parser};

/// Which set-returning function reads the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    Elements,
    Each,
    Keys,
}

impl Items {
    /// The function by its name (`jsonb_each_text` is `Each`, as text).
    pub fn of(name: &str) -> Option<(Items, bool, bool)> {
        let (jsonb, rest) = match name.strip_prefix("jsonb_") {
            Some(r) => (true, r),
            None => (false, name.strip_prefix("json_")?),
        };
        Some(match rest {
            "array_elements" => (Items::Elements, jsonb, false),
            "array_elements_text" => (Items::Elements, jsonb, true),
            "each" => (Items::Each, jsonb, false),
            "each_text" => (Items::Each, jsonb, true),
            "object_keys" => (Items::Keys, jsonb, false),
            _ => return None,
        })
    }
}

/// One row: the member's key (objects) and the value, as JSON text, or
/// with `as_text` a string's own text (`None` for a JSON null).
pub type Item = (Option<String>, Option<String>);

/// The rows `what` reads of `doc`. A json document (`jsonb` false) gives
/// each value as it was written and keeps repeated keys; a jsonb one as
/// jsonb prints it. `Err` carries PostgreSQL's message (22023).
pub fn json_items(
    doc: &str,
    what: Items,
    fname: &str,
    jsonb: bool,
    as_text: bool,
) -> Result<Vec<Item>, String> {
    let doc = if jsonb {
        super::normalize_jsonb(doc)
            .ok_or_else(|| "invalid input syntax for type json".to_string())?
    } else {
        doc.to_string()
    };
    let mut p = Parser { s: &doc, i: 0 };
    p.ws();
    let b = doc.as_bytes();
    let kind = match b.get(p.i) {
        Some(b'[') => "array",
        Some(b'{') => "object",
        _ => "scalar",
    };
    match (what, kind) {
        (Items::Elements, "object") => return Err("cannot extract elements from an object".into()),
        (Items::Elements, "scalar") => return Err("cannot extract elements from a scalar".into()),
        (Items::Each, "array" | "scalar") => {
            return Err(format!("cannot call {fname} on a non-object"))
        }
        (Items::Keys, "array") => return Err(format!("cannot call {fname} on an array")),
        (Items::Keys, "scalar") => return Err(format!("cannot call {fname} on a scalar")),
        _ => {}
    }
    let mut out = vec![];
    p.i += 1;
    p.ws();
    if matches!(b.get(p.i), Some(b']' | b'}')) {
        return Ok(out);
    }
    loop {
        p.ws();
        let key = if kind == "object" {
            let k = p.string().ok_or("invalid json")?;
            p.ws();
            p.i += 1;
            p.ws();
            Some(k)
        } else {
            None
        };
        let start = p.i;
        let node = p.value(1).ok_or("invalid json")?;
        let raw = &doc[start..p.i];
        let value = match (&node, as_text) {
            (super::Node::Null, true) => None,
            (super::Node::Str(s), true) => Some(s.clone()),
            _ if jsonb => {
                let mut t = String::new();
                write(&node, &mut t);
                Some(t)
            }
            _ => Some(raw.to_string()),
        };
        out.push(match what {
            Items::Keys => (None, key),
            _ => (key, value),
        });
        p.ws();
        match b.get(p.i) {
            Some(b',') => p.i += 1,
            _ => break,
        }
    }
    Ok(out)
}
