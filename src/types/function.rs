//! A function created with `CREATE FUNCTION … LANGUAGE sql`: its
//! arguments, what it returns and its body as PostgreSQL SQL. It is a
//! catalog object (`RelKind::Function`) journaled and spread like a
//! table, under its own key so that functions and relations keep separate
//! namespaces, and a call is replaced by its body wherever it is written
//! (`sql::functions`), as PostgreSQL inlines SQL functions.

use serde::{Deserialize, Serialize};

use super::PgType;

/// The catalog key of function `name` (a character no identifier
/// written in SQL holds keeps it apart from relations).
pub fn key(name: &str) -> String {
    format!("\u{1f}function {name}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionArg {
    /// The argument's name, when it has one (the body may use it or `$n`).
    pub name: Option<String>,
    pub ty: PgType,
    /// DEFAULT, as PostgreSQL SQL: what a call that leaves it out passes.
    pub default: Option<String>,
    /// The domain (catalog name) the argument is of; `ty` is its base
    /// type. A call casts its value to the domain, which checks it.
    #[serde(default)]
    pub domain: Option<String>,
}

impl FunctionArg {
    /// Its type as a signature prints it: its domain's name, if it has one.
    pub fn type_name(&self) -> String {
        match &self.domain {
            Some(d) => crate::types::enums::display_name(d),
            None => self.ty.display_name(),
        }
    }
}

/// What a function returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Returns {
    /// One value (the first row's, NULL without rows).
    Scalar(PgType),
    /// `SETOF type`: a column named after the function.
    SetOf(PgType),
    /// `RETURNS TABLE (…)` or `SETOF table`: rows of these columns.
    Table(Vec<(String, PgType)>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    pub name: String,
    pub args: Vec<FunctionArg>,
    pub returns: Returns,
    /// The body: one query (SELECT, VALUES or WITH … SELECT).
    pub body: String,
    /// `i`, `s` or `v` (pg_proc.provolatile).
    pub volatility: char,
    /// STRICT (RETURNS NULL ON NULL INPUT): NULL for any NULL argument.
    pub strict: bool,
    /// The domain a scalar result is of (its value is cast to it).
    #[serde(default)]
    pub returns_domain: Option<String>,
}

impl FunctionDef {
    /// Whether it returns rows (it belongs in FROM).
    pub fn returns_set(&self) -> bool {
        !matches!(self.returns, Returns::Scalar(_))
    }

    /// The argument types as PostgreSQL prints a signature:
    /// `add(integer, text)`.
    pub fn signature(&self) -> String {
        let args: Vec<String> = self.args.iter().map(FunctionArg::type_name).collect();
        format!("{}({})", self.name, args.join(", "))
    }
}
