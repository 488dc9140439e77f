//! Domains (`CREATE DOMAIN name AS type …`): a base type with a default,
//! NOT NULL and CHECK constraints over `VALUE`.
//!
//! A value of a domain is stored and sent as its base type's (PostgreSQL
//! sends the base type's oid in a RowDescription too), so everything that
//! reads values needs nothing of domains. What a domain adds is checked
//! where a value becomes one:
//!
//! - written to a column of the domain: a column keeps a copy of the
//!   domain's definition (`Column::domain`, rewritten by ALTER DOMAIN in
//!   its transaction, as enum types are), and the table's open segment
//!   carries the constraints as SQLite CHECKs (`store::segment`), so every
//!   write on any node is checked, whatever statement made it;
//! - cast to the domain (`x::d`, `d '…'`): `sql::domains` rewrites the
//!   cast into a cast to the base type checked by `pg_domain_check`.
//!
//! Type names in SQL text are resolved against the domains in [`scope`],
//! as enum types are (`types::enums::scope`).

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use super::PgType;

/// A domain: its oid, name, base type and constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainType {
    pub oid: u32,
    pub name: String,
    /// The oid of its array type (`_name` in pg_type).
    pub array_oid: u32,
    /// The base type, with its typmod (`varchar(5)`, `numeric(5,2)`).
    pub base: PgType,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `DEFAULT expr`, as PostgreSQL SQL text.
    pub default: Option<String>,
    /// The CHECK constraints, in the order they were added.
    pub checks: Vec<DomainCheck>,
}

/// A domain's CHECK constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub name: String,
    /// The expression over `VALUE`, as PostgreSQL SQL text.
    pub expr: String,
    /// Added NOT VALID and not validated since (pg_constraint.convalidated).
    #[serde(default)]
    pub not_valid: bool,
}

impl DomainType {
    /// The CHECK constraints in the order PostgreSQL applies them: by name.
    pub fn checks_in_order(&self) -> Vec<&DomainCheck> {
        let mut v: Vec<&DomainCheck> = self.checks.iter().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// A name PostgreSQL would derive for a new CHECK constraint of this
    /// domain: `<domain>_check`, then `…_check1`, … until it is free.
    pub fn fresh_check_name(&self) -> String {
        let base = format!("{}_check", super::schema::split(&self.name).1);
        let taken = |n: &str| self.checks.iter().any(|c| c.name == n);
        if !taken(&base) {
            return base;
        }
        (1..)
            .map(|i| format!("{base}{i}"))
            .find(|n| !taken(n))
            .unwrap_or(base)
    }
}

thread_local! {
    static SCOPE: RefCell<Vec<DomainType>> = const { RefCell::new(Vec::new()) };
}

/// Puts `domains` in scope for type names until the guard is dropped.
pub fn scope(domains: Vec<DomainType>) -> ScopeGuard {
    let previous = SCOPE.with(|s| std::mem::replace(&mut *s.borrow_mut(), domains));
    ScopeGuard(Some(previous))
}

/// Restores the previous scope when dropped.
pub struct ScopeGuard(Option<Vec<DomainType>>);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.0.take() {
            SCOPE.with(|s| *s.borrow_mut() = prev);
        }
    }
}

/// Whether any domain is in scope (most statements skip the cast pass).
pub fn any_in_scope() -> bool {
    SCOPE.with(|s| !s.borrow().is_empty())
}

/// The domain called `name` (a catalog name), if one is in scope.
pub fn lookup(name: &str) -> Option<DomainType> {
    SCOPE.with(|s| s.borrow().iter().find(|t| t.name == name).cloned())
}

/// The domain a type as sqlparser parsed it names, if it names one in
/// scope (`posint`, `public.posint`, `"PosInt"`).
pub fn of_sql(dt: &sqlparser::ast::DataType) -> Option<DomainType> {
    match dt {
        sqlparser::ast::DataType::Custom(name, mods) if mods.is_empty() => {
            lookup(&super::enums::type_name(&name.to_string()))
        }
        _ => None,
    }
}

/// 0A000 for a domain named where MosaicDB takes no domain (columns and
/// casts read domains before they ask `PgType::from_sql`).
pub fn not_here(dt: &sqlparser::ast::DataType) -> Option<crate::error::Error> {
    let d = of_sql(dt)?;
    Some(crate::error::Error::Unsupported(format!(
        "domain {} here (a domain serves as a column's type and in casts)",
        d.name
    )))
}
