//! CREATE SCHEMA and DROP SCHEMA, as far as MosaicDB has schemas: every
//! relation lives in `public`, beside the system schemas `pg_catalog` and
//! `information_schema`. Creating one of those says it exists (42P06, or
//! nothing with IF NOT EXISTS, as PostgreSQL does), and dropping a schema
//! that does not exist says so (3F000); creating another schema, or
//! dropping one of those, is refused with 0A000, never half done.

use sqlparser::ast::{ObjectName, SchemaName};

use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::object_name;

/// The schemas there are.
const SCHEMAS: &[&str] = &["public", "pg_catalog", "information_schema"];

pub fn create(sess: &Session, schema_name: &SchemaName, if_not_exists: bool) -> Result<Outcome> {
    let SchemaName::Simple(name) = schema_name else {
        return Err(Error::Unsupported("CREATE SCHEMA … AUTHORIZATION".into()));
    };
    let name = object_name(name);
    if name.starts_with("pg_") {
        return Err(
            Error::ReservedName(format!("unacceptable schema name \"{name}\""))
                .with_detail("The prefix \"pg_\" is reserved for system schemas."),
        );
    }
    if !SCHEMAS.contains(&name.as_str()) {
        return Err(Error::Unsupported(format!(
            "CREATE SCHEMA \"{name}\" (every relation lives in schema \"public\")"
        )));
    }
    if !if_not_exists {
        return Err(Error::SchemaExists(name));
    }
    sess.notice(
        "42P06",
        format!("schema \"{name}\" already exists, skipping"),
    );
    Ok(Outcome::Command("CREATE SCHEMA".into()))
}

pub fn drop(sess: &Session, if_exists: bool, names: &[ObjectName]) -> Result<Outcome> {
    for n in names {
        let name = object_name(n);
        if SCHEMAS.contains(&name.as_str()) {
            return Err(Error::Unsupported(format!("DROP SCHEMA {name}")));
        }
        if !if_exists {
            return Err(Error::NoSuchSchema(name));
        }
        super::missing_skipped(sess, "schema", &name);
    }
    Ok(Outcome::Command("DROP SCHEMA".into()))
}
