//! CREATE EXTENSION and DROP EXTENSION for the extensions MosaicDB has
//! built in; any other extension is not available (0A000, as PostgreSQL
//! says of one it has no control file for).
//!
//! Built in: `plpgsql` (installed in every database, as in PostgreSQL, so
//! a plain CREATE of it fails with 42710), and `pgcrypto`, `uuid-ossp`
//! `vector` and `postgis` as far as their functions exist here
//! (`gen_random_uuid()`, `uuid_generate_v4()`, pgvector's `vector` type:
//! `types::vector`, PostGIS's `geometry` type: `types::geometry`). Those
//! are not recorded: CREATE and DROP of them succeed without changing
//! anything, their types and functions are there either way, and
//! `pg_extension` lists plpgsql alone.

use sqlparser::ast::{CreateExtension, DropExtension};

use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::ident_name;

/// The built-in extensions, with the version PostgreSQL 15 installs.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("plpgsql", "1.0"),
    ("pgcrypto", "1.3"),
    ("uuid-ossp", "1.1"),
    ("vector", "0.8.1"),
    ("postgis", "3.3.2"),
];

/// The extension PostgreSQL installs in every database.
const ALWAYS: &str = "plpgsql";

fn version_of(name: &str) -> Option<&'static str> {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

fn not_available(name: &str) -> Error {
    Error::NotSupported(format!("extension \"{name}\" is not available")).with_detail(
        "MosaicDB has these extensions built in: plpgsql, pgcrypto (gen_random_uuid only), uuid-ossp (uuid_generate_v4 only), vector (pgvector's vector type, its operators and functions) and postgis (the geometry type and the ST_ functions listed in the README).",
    )
}

pub fn create(sess: &Session, ce: &CreateExtension) -> Result<Outcome> {
    let name = ident_name(&ce.name);
    let Some(version) = version_of(&name) else {
        return Err(not_available(&name));
    };
    if let Some(v) = &ce.version {
        if ident_name(v) != version {
            return Err(Error::Unsupported(format!(
                "version \"{}\" of extension \"{name}\"",
                ident_name(v)
            )));
        }
    }
    if let Some(s) = &ce.schema {
        let schema = ident_name(s);
        if schema != "public" {
            return Err(Error::Unsupported(format!(
                "extension \"{name}\" in schema \"{schema}\""
            )));
        }
    }
    if name == ALWAYS {
        if !ce.if_not_exists {
            return Err(Error::ObjectExists(format!(
                "extension \"{name}\" already exists"
            )));
        }
        sess.notice(
            "42710",
            format!("extension \"{name}\" already exists, skipping"),
        );
    }
    Ok(Outcome::Command("CREATE EXTENSION".into()))
}

pub fn drop(sess: &Session, de: &DropExtension) -> Result<Outcome> {
    for n in &de.names {
        let name = ident_name(n);
        if name == ALWAYS {
            return Err(Error::Unsupported(format!("DROP EXTENSION {name}")));
        }
        if version_of(&name).is_none() {
            if !de.if_exists {
                return Err(Error::NoSuchObject(format!(
                    "extension \"{name}\" does not exist"
                )));
            }
            super::missing_skipped(sess, "extension", &name);
        }
    }
    Ok(Outcome::Command("DROP EXTENSION".into()))
}
