//! A jsonb value as the path executor reads it.

use crate::error::Result;
use crate::types::json::Node;
use crate::types::numeric::Numeric;

/// A jsonb value as the executor reads it (numbers exact).
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Null,
    Bool(bool),
    Num(Numeric),
    Str(String),
    Array(Vec<Item>),
    Object(Vec<(String, Item)>),
}

impl Item {
    pub(crate) fn of(n: &Node) -> Result<Item> {
        Ok(match n {
            Node::Null => Item::Null,
            Node::Bool(b) => Item::Bool(*b),
            Node::Number(t) => Item::Num(Numeric::parse(t)?),
            Node::Str(s) => Item::Str(s.clone()),
            Node::Array(a) => Item::Array(a.iter().map(Item::of).collect::<Result<_>>()?),
            Node::Object(o) => Item::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), Item::of(v)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    pub(crate) fn node(&self) -> Node {
        match self {
            Item::Null => Node::Null,
            Item::Bool(b) => Node::Bool(*b),
            Item::Num(n) => Node::Number(n.to_string()),
            Item::Str(s) => Node::Str(s.clone()),
            Item::Array(a) => Node::Array(a.iter().map(Item::node).collect()),
            Item::Object(o) => Node::Object(o.iter().map(|(k, v)| (k.clone(), v.node())).collect()),
        }
    }

    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Item::Null => "null",
            Item::Bool(_) => "boolean",
            Item::Num(_) => "number",
            Item::Str(_) => "string",
            Item::Array(_) => "array",
            Item::Object(_) => "object",
        }
    }
}
