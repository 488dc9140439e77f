//! ALTER TABLE on constraints: ADD PRIMARY KEY / UNIQUE / CHECK / FOREIGN
//! KEY, each checked against the rows already there on every node, and
//! DROP CONSTRAINT.

use sqlparser::ast::TableConstraint;

use super::columns::{check_no_nulls, freeze_names};
use super::existing_rows;
use crate::error::{Error, Result};
use crate::exec::ddl::{foreign, relation_exists};
use crate::exec::pg_catalog::objects;
use crate::exec::Session;
use crate::sql::{ddl, ident_name};
use crate::types::quote;
use crate::types::table::{TableDef, UniqueKey};

/// `ADD [CONSTRAINT n] PRIMARY KEY | UNIQUE | CHECK | FOREIGN KEY …
/// [NOT VALID]`: a CHECK or FOREIGN KEY added NOT VALID is not checked
/// against the rows already there (rows written later are), and is
/// recorded as not validated.
pub(super) fn add(
    sess: &mut Session,
    def: &mut TableDef,
    constraint: &TableConstraint,
    not_valid: bool,
) -> Result<()> {
    if let Some(spec) = ddl::foreign::table_spec(constraint) {
        let name = foreign::add(sess, def, &spec?, !not_valid)?;
        if not_valid {
            def.altered.not_valid.push(name);
        }
        return Ok(());
    }
    let cannot = |what: &str| {
        Err(Error::NotSupported(format!(
            "{what} constraints cannot be marked NOT VALID"
        )))
    };
    let (cols, primary, name) = match constraint {
        TableConstraint::PrimaryKey(_) if not_valid => return cannot("PRIMARY KEY"),
        TableConstraint::Unique(_) if not_valid => return cannot("UNIQUE"),
        TableConstraint::PrimaryKey(pk) => {
            ddl::refuse_deferrable(pk.characteristics.as_ref())?;
            (&pk.columns, true, pk.name.as_ref().map(ident_name))
        }
        TableConstraint::Unique(u) => {
            ddl::refuse_key_options(u)?;
            (&u.columns, false, u.name.as_ref().map(ident_name))
        }
        TableConstraint::Check(ch) => {
            if ch.enforced == Some(false) {
                return Err(Error::Unsupported("NOT ENFORCED constraints".into()));
            }
            return add_check(
                sess,
                def,
                &ch.expr.to_string(),
                ch.name.as_ref().map(ident_name),
                !not_valid,
            );
        }
        other => return Err(Error::Unsupported(format!("ADD {other}"))),
    };
    let mut key = Vec::new();
    for c in cols {
        let sqlparser::ast::Expr::Identifier(i) = &c.column.expr else {
            return Err(Error::Unsupported("key on an expression".into()));
        };
        let col = ident_name(i);
        key.push(def.column_index(&col).ok_or_else(|| {
            Error::NoSuchColumn(format!(
                "{col}\" named in key does not exist in \"{}",
                def.name
            ))
        })?);
    }
    if primary {
        if !def.primary_key.is_empty() {
            return Err(Error::InvalidTableDefinition(format!(
                "multiple primary keys for table \"{}\" are not allowed",
                def.name
            )));
        }
        if let Some(n) = &name {
            if relation_exists(sess, n) {
                return Err(Error::TableExists(n.clone()));
            }
        }
        for &k in &key {
            if !def.columns[k].not_null {
                check_no_nulls(sess, def, k)?;
                def.columns[k].not_null = true;
            }
        }
        def.primary_key = key.clone();
        def.altered.pk_name = name.clone();
    } else {
        if let Some(n) = &name {
            let in_this = def.unique.iter().any(|u| u.constraint_name(def) == *n);
            if in_this || relation_exists(sess, n) {
                return Err(Error::TableExists(n.clone()));
            }
        }
        def.unique.push(UniqueKey::new(key.clone(), name));
    }
    check_unique(sess, def, &key)?;
    sess.conn.create_segment(def)?;
    sess.ddl.reindex.insert(def.name.clone());
    Ok(())
}

/// A new key `key` of `def` holds for every row, on every node: the first
/// repeated value fails with 23505 as PostgreSQL's index build does.
fn check_unique(sess: &mut Session, def: &TableDef, key: &[usize]) -> Result<()> {
    let cols: Vec<String> = key.iter().map(|&c| quote(&def.columns[c].name)).collect();
    let names: Vec<String> = key.iter().map(|&c| def.columns[c].name.clone()).collect();
    let needed: Vec<&str> = names.iter().map(String::as_str).collect();
    let index = def.key_constraint_name(key);
    super::check_no_duplicate(sess, &def.name, &cols, &[], &needed, (&index, &names))
}

/// `ADD [CONSTRAINT n] CHECK (expr)`: no row on any node may make it false
/// (23514), unless `validate` is false (NOT VALID).
fn add_check(
    sess: &mut Session,
    def: &mut TableDef,
    expr: &str,
    name: Option<String>,
    validate: bool,
) -> Result<()> {
    freeze_names(def);
    let existing: Vec<String> = crate::exec::pg_catalog::objects::indexes(def)
        .into_iter()
        .filter_map(|i| i.constraint.map(|c| c.name))
        .chain(def.check_constraint_names())
        .chain(def.foreign_keys.iter().map(|f| f.name.clone()))
        .collect();
    let final_name = match name {
        Some(n) if existing.contains(&n) => {
            return Err(Error::ObjectExists(format!(
                "constraint \"{n}\" for relation \"{}\" already exists",
                def.name
            )))
        }
        Some(n) => n,
        None => {
            let base = match def.check_column(expr) {
                Some(c) => format!("{}_{}_check", def.rel_name(), def.columns[c].name),
                None => format!("{}_check", def.rel_name()),
            };
            let mut name = base.clone();
            let mut n = 0;
            while existing.contains(&name) {
                n += 1;
                name = format!("{base}{n}");
            }
            name
        }
    };
    def.checks.push(expr.to_string());
    def.altered.check_names.push(Some(final_name.clone()));
    if !validate {
        def.altered.not_valid.push(final_name);
        return Ok(());
    }
    check_rows(sess, def, expr, &final_name)
}

/// No row of `def` on any node makes CHECK `expr` (constraint `name`)
/// false (23514).
fn check_rows(sess: &mut Session, def: &TableDef, expr: &str, name: &str) -> Result<()> {
    let sql = format!(
        "SELECT 1 FROM {} WHERE NOT ({expr}) LIMIT 1",
        quote(&def.name)
    );
    let needed: Vec<&str> = def
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| {
            expr.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == *n)
        })
        .collect();
    if !existing_rows(sess, &def.name, &needed, &sql)?.is_empty() {
        return Err(Error::CheckViolation(format!(
            "check constraint \"{name}\" of relation \"{}\" is violated by some row",
            def.name
        )));
    }
    Ok(())
}

/// `VALIDATE CONSTRAINT n`: a CHECK or FOREIGN KEY added NOT VALID is
/// checked against every row on every node (23514, 23503) and holds for
/// good; one already valid is left as it is.
pub(super) fn validate(sess: &mut Session, def: &mut TableDef, name: &str) -> Result<()> {
    let checks = def.check_constraint_names();
    let fk = def.foreign_keys.iter().find(|f| f.name == name).cloned();
    if !checks.iter().any(|n| n == name) && fk.is_none() {
        if def
            .unique_keys()
            .any(|k| def.key_constraint_name(k) == name)
        {
            return Err(Error::WrongObjectType(format!(
                "constraint \"{name}\" of relation \"{}\" is not a foreign key or check constraint",
                def.name
            )));
        }
        return Err(Error::NoSuchObject(format!(
            "constraint \"{name}\" of relation \"{}\" does not exist",
            def.name
        )));
    }
    if def.is_validated(name) {
        return Ok(());
    }
    match fk {
        Some(fk) => foreign::check_existing(sess, def, &fk)?,
        None => {
            let i = checks.iter().position(|n| n == name).unwrap_or_default();
            let expr = def.checks[i].clone();
            check_rows(sess, def, &expr, name)?;
        }
    }
    def.altered.not_valid.retain(|n| n != name);
    Ok(())
}

/// `DROP CONSTRAINT [IF EXISTS] n [CASCADE]`: a FOREIGN KEY, CHECK,
/// UNIQUE or PRIMARY KEY constraint of the table. A key another table's
/// FOREIGN KEY references needs CASCADE (2BP01), which drops that too.
pub(super) fn drop(
    sess: &mut Session,
    def: &mut TableDef,
    name: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<()> {
    if foreign::drop_constraint(def, name) {
        return Ok(());
    }
    if let Some(i) = def.check_constraint_names().iter().position(|n| n == name) {
        freeze_names(def);
        def.checks.remove(i);
        def.altered.check_names.remove(i);
        return Ok(());
    }
    let key: Option<Vec<usize>> = def
        .unique_keys()
        .find(|k| def.key_constraint_name(k) == name)
        .cloned();
    let Some(key) = key else {
        if if_exists {
            sess.notice(
                "00000",
                format!(
                    "constraint \"{name}\" of relation \"{}\" does not exist, skipping",
                    def.name
                ),
            );
            return Ok(());
        }
        return Err(Error::NoSuchObject(format!(
            "constraint \"{name}\" of relation \"{}\" does not exist",
            def.name
        )));
    };
    let mut cols: Vec<String> = key.iter().map(|&c| def.columns[c].name.clone()).collect();
    cols.sort();
    let depends = move |f: &crate::types::foreign::ForeignKey| {
        let mut p = f.parent_columns.clone();
        p.sort();
        p == cols
    };
    let what = format!("constraint {name} on table {}", def.name);
    foreign::drop_referencing(
        sess,
        def,
        &depends,
        &what,
        &format!("index {name}"),
        cascade,
    )?;
    freeze_names(def);
    if def.primary_key == key {
        def.primary_key.clear();
        def.altered.pk_name = None;
    } else {
        def.unique.retain(|u| u.columns != key);
    }
    Ok(())
}

/// `RENAME CONSTRAINT old TO new`: a CHECK, FOREIGN KEY or UNIQUE
/// constraint of the table takes another name (a UNIQUE one's index with
/// it); the names a table's rows are stored under do not change.
pub(super) fn rename(sess: &mut Session, def: &mut TableDef, old: &str, new: &str) -> Result<()> {
    let keys: Vec<objects::Constraint> = objects::indexes(def)
        .into_iter()
        .filter_map(|i| i.constraint)
        .collect();
    let taken = |n: &str| {
        keys.iter().any(|c| c.name == n)
            || def.check_constraint_names().iter().any(|c| c == n)
            || def.foreign_keys.iter().any(|f| f.name == n)
    };
    if !taken(old) {
        return Err(Error::NoSuchObject(format!(
            "constraint \"{old}\" for table \"{}\" does not exist",
            def.name
        )));
    }
    // A key's index is renamed first, as PostgreSQL does it.
    let key = keys
        .iter()
        .any(|c| c.name == old && matches!(c.kind, 'u' | 'p'));
    if key && relation_exists(sess, new) {
        return Err(Error::TableExists(new.to_string()));
    }
    if taken(new) {
        return Err(Error::ObjectExists(format!(
            "constraint \"{new}\" for relation \"{}\" already exists",
            def.name
        )));
    }
    freeze_names(def);
    if let Some(i) = def.check_constraint_names().iter().position(|n| n == old) {
        def.altered.check_names[i] = Some(new.to_string());
    } else if let Some(f) = def.foreign_keys.iter_mut().find(|f| f.name == old) {
        f.name = new.to_string();
    } else if key && def.pk_name() == old && !def.primary_key.is_empty() {
        def.altered.pk_name = Some(new.to_string());
    } else {
        for u in &mut def.unique {
            if u.name.as_deref() == Some(old) {
                u.name = Some(new.to_string());
            }
        }
    }
    for n in &mut def.altered.not_valid {
        if n == old {
            *n = new.to_string();
        }
    }
    Ok(())
}
