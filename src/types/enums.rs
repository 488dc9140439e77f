//! Enumerated types (`CREATE TYPE name AS ENUM (…)`).
//!
//! A value is stored as its label (TEXT), so sealed shards stay readable
//! whatever happens to the type later. Its order is the type's: every
//! comparison, sort, min/max and grouping key of an enum expression runs
//! under the SQLite collation [`EnumType::collation`], whose name carries
//! the labels in their sort order (hex-encoded), so a connection — on
//! this node, a fragment worker or a peer — that meets the name knows the
//! order without asking the catalog (`store::udf` registers it when
//! SQLite first needs it).
//!
//! A column's type is a copy of the enum's definition (`PgType::Enum`);
//! ALTER TYPE rewrites the definitions of the relations that use it in the
//! same transaction. Type names in SQL text (`x::mood`, a column type) are
//! resolved against the enum types in [`scope`]: the session puts its
//! view of the catalog's types there while it prepares and runs a
//! statement.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An enum type: its oid, name and labels in sort order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnumType {
    pub oid: u32,
    pub name: String,
    pub labels: Vec<String>,
    /// The oid of its array type (`_name` in pg_type).
    #[serde(default)]
    pub array_oid: u32,
    /// pg_enum.enumsortorder of each label (an f32's bits), as PostgreSQL
    /// numbers them: 1, 2, … at CREATE, then the next whole number after
    /// the last, one less than the first, or the midpoint of two
    /// neighbours. Empty: 1, 2, ….
    #[serde(default)]
    pub sort_orders: Vec<u32>,
}

/// The prefix of enum collation names.
pub const COLLATION_PREFIX: &str = "pg_enum_";

impl EnumType {
    /// The stored value of the label `s`; 22P02 when it is not one.
    pub fn parse(&self, s: &str) -> Result<String> {
        if self.labels.iter().any(|l| l == s) {
            Ok(s.to_string())
        } else {
            Err(Error::InvalidInput(format!(
                "invalid input value for enum {}: \"{s}\"",
                self.name
            )))
        }
    }

    /// The SQLite collation that orders this type's labels.
    pub fn collation(&self) -> String {
        let mut name = String::from(COLLATION_PREFIX);
        for (i, l) in self.labels.iter().enumerate() {
            if i > 0 {
                name.push('_');
            }
            name.push('x');
            for b in l.as_bytes() {
                name.push_str(&format!("{b:02x}"));
            }
        }
        name
    }

    /// pg_enum.enumsortorder of each label, in order.
    pub fn sort_orders(&self) -> Vec<f32> {
        if self.sort_orders.len() == self.labels.len() {
            self.sort_orders
                .iter()
                .map(|b| f32::from_bits(*b))
                .collect()
        } else {
            (1..=self.labels.len()).map(|n| n as f32).collect()
        }
    }

    /// Insert `label` at position `at`, numbering it as PostgreSQL does
    /// (renumbering all 1, 2, … when no float lies between neighbours).
    pub fn insert(&mut self, at: usize, label: String) {
        let mut orders = self.sort_orders();
        let new = match (at.checked_sub(1).map(|p| orders[p]), orders.get(at)) {
            (None, None) => 1.0,
            (Some(prev), None) => prev.floor() + 1.0,
            (None, Some(next)) => next - 1.0,
            (Some(prev), Some(next)) => (prev + next) / 2.0,
        };
        orders.insert(at, new);
        self.labels.insert(at, label);
        let clash = orders.windows(2).any(|w| w[0] >= w[1]);
        if clash {
            orders = (1..=self.labels.len()).map(|n| n as f32).collect();
        }
        self.sort_orders = orders.iter().map(|f| f.to_bits()).collect();
    }
}

/// The labels an enum collation name carries, in order; `None` when the
/// name is not one.
pub fn collation_labels(name: &str) -> Option<Vec<Vec<u8>>> {
    let rest = name.strip_prefix(COLLATION_PREFIX)?;
    if rest.is_empty() {
        return Some(vec![]);
    }
    rest.split('_')
        .map(|h| {
            let h = h.strip_prefix('x')?;
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .collect()
}

thread_local! {
    static SCOPE: RefCell<Vec<EnumType>> = const { RefCell::new(Vec::new()) };
}

/// Puts `types` in scope for type names until the guard is dropped.
pub fn scope(types: Vec<EnumType>) -> ScopeGuard {
    let previous = SCOPE.with(|s| std::mem::replace(&mut *s.borrow_mut(), types));
    ScopeGuard(Some(previous))
}

/// Restores the previous scope when dropped.
pub struct ScopeGuard(Option<Vec<EnumType>>);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.0.take() {
            SCOPE.with(|s| *s.borrow_mut() = prev);
        }
    }
}

/// The enum type called `name`, if one is in scope.
pub fn lookup(name: &str) -> Option<EnumType> {
    SCOPE.with(|s| s.borrow().iter().find(|t| t.name == name).cloned())
}

/// The catalog name a type name in SQL text denotes (`public.mood` and
/// `mood` are `mood`, `s.mood` is `s.mood`, `"Mood"` is `Mood`): each
/// part folded to lower case unless quoted, qualified as relations are
/// (`types::schema`).
pub fn type_name(written: &str) -> String {
    let parts = crate::types::schema::parse_name(written);
    match parts.as_slice() {
        [s, n] => crate::types::schema::qualify(s, n),
        _ => parts.join("."),
    }
}

/// A type's catalog name as `format_type` prints it: each part quoted
/// when it must be, the schema named unless it is `public`.
pub fn display_name(name: &str) -> String {
    match crate::types::schema::split(name) {
        (crate::types::schema::PUBLIC, n) => crate::types::ident_text(n),
        (s, n) => format!(
            "{}.{}",
            crate::types::ident_text(s),
            crate::types::ident_text(n)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collation_names_carry_the_labels_in_order() {
        let t = EnumType {
            oid: 1,
            name: "mood".into(),
            labels: vec!["sad".into(), "o_k".into(), "".into()],
            array_oid: 0,
            sort_orders: vec![],
        };
        let labels = collation_labels(&t.collation()).unwrap();
        assert_eq!(labels, vec![b"sad".to_vec(), b"o_k".to_vec(), vec![]]);
        assert!(t.parse("x").is_err());
        assert_eq!(t.parse("sad").unwrap(), "sad");
    }
}
