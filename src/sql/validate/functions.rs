//! Functions SQLite has and PostgreSQL does not: a client statement that
//! calls one fails with 42883, as it would on PostgreSQL, instead of
//! running SQLite's (`instr`, `printf`, `typeof`, `ifnull`, …), and so
//! do the scalar forms of `min`/`max` with several arguments. MosaicDB's
//! own SQL never names these before translation (the translation writes
//! `strpos` as `instr`, `string_agg` as `group_concat`, after this check).

use sqlparser::ast::{Function, FunctionArguments, ObjectNamePart};

use crate::error::{Error, Result};

/// SQLite's core functions that PostgreSQL 15 lacks. JSON1's `json_array`
/// and `json_object` are left out: the typed step writes them.
const SQLITE_ONLY: &[&str] = &[
    "changes",
    "glob",
    "group_concat",
    "hex",
    "ifnull",
    "iif",
    "instr",
    "json_extract",
    "json_group_array",
    "json_group_object",
    "json_insert",
    "json_patch",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
    "julianday",
    "last_insert_rowid",
    "likelihood",
    "likely",
    "load_extension",
    "printf",
    "quote",
    "randomblob",
    "soundex",
    "sqlite_compileoption_get",
    "sqlite_compileoption_used",
    "sqlite_offset",
    "sqlite_source_id",
    "sqlite_version",
    "strftime",
    "datetime",
    "total",
    "total_changes",
    "typeof",
    "unhex",
    "unicode",
    "unixepoch",
    "unlikely",
    "zeroblob",
];

/// The advisory lock functions (`store::udf::coordination`).
pub const ADVISORY: &[&str] = &[
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
];

/// The other functions that act for the session calling them
/// (notifications, sleeping, transaction ids, signalling its node's
/// other sessions, seeding the session's random numbers).
const SESSION_OTHERS: &[&str] = &[
    "setseed",
    "pg_notify",
    "pg_cancel_backend",
    "pg_terminate_backend",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "pg_listening_channels_json",
    "txid_current",
    "pg_current_xact_id",
    "mosaic.issue_token",
    "mosaic.revoke_token",
    "mosaic.rotate_token_key",
];

/// Whether `name` acts for the session calling it (an advisory lock
/// function or one of `SESSION_OTHERS`): a statement calling one runs
/// whole on the session's own connection, never split into fragments run
/// elsewhere.
pub fn is_session_bound(name: &str) -> bool {
    ADVISORY.contains(&name) || SESSION_OTHERS.contains(&name)
}

/// Whether `stmt` calls a function that [`is_session_bound`].
pub fn calls_session_bound(stmt: &sqlparser::ast::Statement) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_expressions(stmt, |e| {
        if let sqlparser::ast::Expr::Function(f) = e {
            let name = crate::sql::object_name(&f.name);
            let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
            found |= is_session_bound(name);
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// 42883 for a call PostgreSQL has no function for.
pub(super) fn check(f: &Function) -> Result<()> {
    let [ObjectNamePart::Identifier(id)] = f.name.0.as_slice() else {
        return Ok(());
    };
    let name = crate::sql::ident_name(id);
    let args = match &f.args {
        FunctionArguments::List(l) => l.args.len(),
        _ => 0,
    };
    let distinct = matches!(
        &f.args,
        FunctionArguments::List(l)
            if matches!(l.duplicate_treatment, Some(sqlparser::ast::DuplicateTreatment::Distinct))
    );
    if distinct && f.over.is_some() {
        return Err(Error::NotSupported(
            "DISTINCT is not implemented for window functions".into(),
        ));
    }
    let several = matches!(name.as_str(), "min" | "max") && args > 1 && f.over.is_none();
    if !SQLITE_ONLY.contains(&name.as_str()) && !several {
        return Ok(());
    }
    Err(Error::NoSuchFunction(name).with_hint(
        "No function matches the given name and argument types. \
         You might need to add explicit type casts.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(sql: &str) -> Result<()> {
        let e = crate::sql::parse_expr(sql).unwrap();
        match e {
            sqlparser::ast::Expr::Function(f) => check(&f),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sqlite_only_functions_do_not_exist() {
        for sql in ["instr('a', 'b')", "typeof(1)", "IFNULL(1, 2)", "max(1, 2)"] {
            let e = call(sql).unwrap_err();
            assert_eq!(e.sqlstate(), "42883", "{sql}");
        }
        for sql in [
            "strpos('a', 'b')",
            "max(1)",
            "coalesce(1, 2)",
            "date('2024-01-01')",
        ] {
            call(sql).unwrap();
        }
    }
}
