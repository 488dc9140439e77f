//! CREATE, ALTER and DROP DOMAIN. A domain is a catalog object
//! (`RelKind::Domain`) in the relations' namespace, journaled, staged and
//! spread like a table; the columns of its type carry a copy of its
//! definition (`Column::domain`), rewritten here in the same transaction
//! when the domain changes, and their tables' open segments rebuilt with
//! its constraints (see `types::domain`). A new constraint is checked
//! against the rows of every column of the domain, on every node.

use super::alter::existing_rows;
use super::record;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::domain::{AlterDomain, CreateDomain, DomainStatement};
use crate::types::domain::{DomainCheck, DomainType};
use crate::types::table::{RelKind, TableDef};
use crate::types::{quote, PgType};

pub(super) fn run(sess: &mut Session, stmt: &DomainStatement) -> Result<Outcome> {
    match stmt {
        DomainStatement::Create(c) => create(sess, c),
        DomainStatement::Alter { name, action } => alter(sess, name, action),
        DomainStatement::Drop {
            if_exists,
            names,
            cascade,
        } => drop(sess, *if_exists, names, *cascade),
    }
}

fn create(sess: &mut Session, c: &CreateDomain) -> Result<Outcome> {
    let name = super::schema::new_object_name(sess, &c.name)?;
    if sess.catalog().object(&name).is_some() {
        return Err(Error::ObjectExists(format!(
            "type \"{name}\" already exists"
        )));
    }
    let base = base_type(&c.base)?;
    let mut domain = DomainType {
        oid: sess.store.next_oid()?,
        name: name.clone(),
        array_oid: sess.store.next_oid()?,
        base,
        not_null: c.not_null,
        default: None,
        checks: vec![],
    };
    if let Some(d) = &c.default {
        crate::sql::default_to_sqlite(d, &domain.base)?;
        domain.default = Some(d.clone());
    }
    for (given, expr) in &c.checks {
        add_check(&mut domain, given.clone(), expr, false)?;
    }
    let def = TableDef {
        name: name.clone(),
        oid: domain.oid,
        kind: RelKind::Domain(Box::new(domain)),
        ..Default::default()
    };
    record(sess, &name, Some(def))?;
    Ok(Outcome::Command("CREATE DOMAIN".into()))
}

/// The base type of a new domain.
fn base_type(dt: &sqlparser::ast::DataType) -> Result<PgType> {
    if let Some(d) = crate::types::domain::of_sql(dt) {
        return Err(Error::Unsupported(format!(
            "a domain over another domain ({})",
            d.name
        )));
    }
    let ty = PgType::from_sql(dt).map_err(|e| match dt {
        sqlparser::ast::DataType::Custom(n, _) if e.sqlstate() == "0A000" => {
            Error::NoSuchObject(format!(
                "type \"{}\" does not exist",
                crate::types::enums::type_name(&n.to_string())
            ))
        }
        _ => e,
    })?;
    if matches!(ty, PgType::Enum(_)) {
        return Err(Error::Unsupported(
            "a domain over an enum type (the domain would keep a copy of its labels)".into(),
        ));
    }
    Ok(ty)
}

/// Add CHECK `expr` to `domain`, named `given` or as PostgreSQL derives
/// it; its translation for SQLite is tried here so that a CHECK MosaicDB
/// cannot run is refused when it is made.
fn add_check(
    domain: &mut DomainType,
    given: Option<String>,
    expr: &str,
    not_valid: bool,
) -> Result<String> {
    let name = match given {
        Some(n) if domain.checks.iter().any(|c| c.name == n) => {
            return Err(Error::ObjectExists(format!(
                "constraint \"{n}\" for domain \"{}\" already exists",
                domain.name
            )))
        }
        Some(n) => n,
        None => domain.fresh_check_name(),
    };
    crate::sql::domain::check_to_sqlite(expr, "value", &domain.base)?;
    domain.checks.push(DomainCheck {
        name: name.clone(),
        expr: expr.to_string(),
        not_valid,
    });
    Ok(name)
}

/// The domain `name`, or PostgreSQL's error for what it is instead.
fn domain_def(sess: &Session, name: &str) -> Result<(std::sync::Arc<TableDef>, DomainType)> {
    match sess.catalog().object(name) {
        Some(d) => match d.domain_type() {
            Some(t) => {
                let t = t.clone();
                Ok((d, t))
            }
            None => Err(Error::WrongObjectType(format!(
                "\"{name}\" is not a domain"
            ))),
        },
        None => Err(Error::NoSuchObject(format!(
            "type \"{name}\" does not exist"
        ))),
    }
}

fn alter(sess: &mut Session, name: &str, action: &AlterDomain) -> Result<Outcome> {
    let name = super::schema::resolve_type(sess, name);
    let (def, mut ty) = domain_def(sess, &name)?;
    sess.check_owner(&def)?;
    let missing = |c: &str| {
        Error::NoSuchObject(format!(
            "constraint \"{c}\" of domain \"{name}\" does not exist"
        ))
    };
    match action {
        AlterDomain::Default(d) => {
            if let Some(d) = d {
                crate::sql::default_to_sqlite(d, &ty.base)?;
            }
            ty.default = d.clone();
        }
        AlterDomain::NotNull(n) => {
            if *n && !ty.not_null {
                check_rows(sess, &name, None)?;
            }
            ty.not_null = *n;
        }
        AlterDomain::AddCheck {
            name: given,
            expr,
            not_valid,
        } => {
            add_check(&mut ty, given.clone(), expr, *not_valid)?;
            if !not_valid {
                check_rows(sess, &name, Some(expr))?;
            }
        }
        AlterDomain::DropConstraint { name: c, if_exists } => {
            match ty.checks.iter().position(|x| x.name == *c) {
                Some(i) => {
                    ty.checks.remove(i);
                }
                None if *if_exists => {
                    sess.notice(
                        "00000",
                        format!("constraint \"{c}\" of domain \"{name}\" does not exist, skipping"),
                    );
                    return Ok(Outcome::Command("ALTER DOMAIN".into()));
                }
                None => return Err(missing(c)),
            }
        }
        AlterDomain::RenameConstraint { from, to } => {
            if ty.checks.iter().any(|x| x.name == *to) {
                return Err(Error::ObjectExists(format!(
                    "constraint \"{to}\" for domain {name} already exists"
                )));
            }
            let Some(c) = ty.checks.iter_mut().find(|x| x.name == *from) else {
                return Err(Error::NoSuchObject(format!(
                    "constraint \"{from}\" for domain {name} does not exist"
                )));
            };
            c.name = to.clone();
        }
        AlterDomain::Validate(c) => {
            let Some(check) = ty.checks.iter().find(|x| x.name == *c).cloned() else {
                return Err(missing(c));
            };
            if check.not_valid {
                check_rows(sess, &name, Some(&check.expr))?;
            }
            for x in ty.checks.iter_mut().filter(|x| x.name == *c) {
                x.not_valid = false;
            }
        }
        AlterDomain::RenameTo(new) => {
            // The new name is in the domain's schema.
            let new = crate::types::schema::beside(&def.name, new);
            return rename(sess, &def, ty, &new);
        }
        AlterDomain::SetSchema(schema) => {
            let new = crate::types::schema::qualify(schema, crate::types::schema::split(&name).1);
            if new == name {
                return Ok(Outcome::Command("ALTER DOMAIN".into()));
            }
            super::schema::new_object_name(sess, &new)?;
            return rename(sess, &def, ty, &new);
        }
        AlterDomain::OwnerTo(owner) => {
            let owner = super::grant::owner_name(sess, owner);
            let new = super::grant::owner_to(sess, &def, &owner)?;
            record(sess, &name, Some(new))?;
            return Ok(Outcome::Command("ALTER DOMAIN".into()));
        }
    }
    put(sess, &def, ty)?;
    Ok(Outcome::Command("ALTER DOMAIN".into()))
}

/// No row of any column of domain `name`, on any node, is NULL (`None`)
/// or makes CHECK `expr` false.
fn check_rows(sess: &mut Session, name: &str, expr: Option<&str>) -> Result<()> {
    for rel in users(sess, name) {
        if !rel.is_table() {
            continue;
        }
        let columns = rel.columns.iter().filter(|c| of_domain(c, name));
        for col in columns {
            let value = quote(&col.name);
            let (filter, error): (String, fn(String) -> Error) = match expr {
                None => (format!("{value} IS NULL"), Error::NotNullViolation),
                Some(e) => (
                    format!("NOT ({})", crate::sql::domain::over(e, &value)?),
                    Error::CheckViolation,
                ),
            };
            let sql = format!("SELECT 1 FROM {} WHERE {filter} LIMIT 1", quote(&rel.name));
            if existing_rows(sess, &rel.name, &[&col.name], &sql)?.is_empty() {
                continue;
            }
            let what = match expr {
                None => "null values",
                Some(_) => "values that violate the new constraint",
            };
            return Err(error(format!(
                "column \"{}\" of table \"{}\" contains {what}",
                col.name,
                rel.rel_name()
            )));
        }
    }
    Ok(())
}

/// PostgreSQL's error when `value` (PostgreSQL SQL, a constant) is not a
/// value of domain `d`: a default given to the rows already in a table.
pub(crate) fn check_value(sess: &mut Session, d: &DomainType, value: &str) -> Result<()> {
    let mut tests = vec![(None, format!("({value}) IS NOT NULL"))];
    tests.truncate(usize::from(d.not_null));
    for c in d.checks_in_order() {
        let cast = format!("CAST(({value}) AS {})", d.base.display_name());
        tests.push((
            Some(c.name.as_str()),
            crate::sql::domain::over(&c.expr, &cast)?,
        ));
    }
    for (name, test) in tests {
        let sql = format!("SELECT {}", crate::sql::check_to_sqlite(&test, &[])?);
        let mut ok = true;
        sess.conn.query(&sql, &[], &mut |row| {
            ok = !matches!(row.first(), Some(crate::types::Datum::Int(0)));
            Ok(())
        })?;
        if !ok {
            return Err(crate::store::errors::domain_violation(&d.name, name));
        }
    }
    Ok(())
}

/// Give the domain the catalog name `new` (RENAME TO, SET SCHEMA).
fn rename(sess: &mut Session, def: &TableDef, mut ty: DomainType, new: &str) -> Result<Outcome> {
    let moving = crate::types::schema::split(new).0 != crate::types::schema::split(&def.name).0;
    super::enums::free_type_name(sess, new, moving)?;
    let old = ty.name.clone();
    ty.name = new.to_string();
    let mut renamed = def.clone();
    renamed.name = new.to_string();
    renamed.kind = RelKind::Domain(Box::new(ty.clone()));
    // The owner is named explicitly: one recorded by default would be
    // taken as the renaming role.
    renamed.access.owner = Some(sess.owner_of(&def.access));
    record(sess, &old, None)?;
    record(sess, new, Some(renamed))?;
    rewrite_users(sess, &old, &ty)?;
    Ok(Outcome::Command("ALTER DOMAIN".into()))
}

/// Record the domain's new definition and the new copy of it in every
/// relation that uses it, their open segments rebuilt for its constraints.
fn put(sess: &mut Session, def: &TableDef, ty: DomainType) -> Result<()> {
    let mut new = def.clone();
    new.kind = RelKind::Domain(Box::new(ty.clone()));
    record(sess, &ty.name, Some(new))?;
    rewrite_users(sess, &ty.name.clone(), &ty)
}

/// Give every column of domain `old` (its name before this change) the
/// definition `ty`.
fn rewrite_users(sess: &mut Session, old: &str, ty: &DomainType) -> Result<()> {
    for rel in users(sess, old) {
        let mut new = (*rel).clone();
        for c in new.columns.iter_mut().filter(|c| of_domain(c, old)) {
            c.domain = Some(Box::new(ty.clone()));
        }
        if rel.is_table() && crate::store::segment::needs_rebuild(&rel, &new) {
            sess.conn.rebuild_segment(&rel, &new)?;
        }
        let name = new.name.clone();
        record(sess, &name, Some(new))?;
    }
    Ok(())
}

fn of_domain(c: &crate::types::table::Column, name: &str) -> bool {
    c.domain.as_ref().is_some_and(|d| d.name == name)
}

/// The relations whose columns are of domain `name`.
fn users(sess: &Session, name: &str) -> Vec<std::sync::Arc<TableDef>> {
    sess.catalog()
        .relations()
        .into_iter()
        .filter(|r| r.uses_domain(name))
        .collect()
}

/// DROP DOMAIN (and DROP TYPE of a domain).
pub(super) fn drop(
    sess: &mut Session,
    if_exists: bool,
    names: &[String],
    cascade: bool,
) -> Result<Outcome> {
    let mut dropping = Vec::new();
    for n in names {
        let name = super::schema::resolve_type(sess, n);
        if sess.catalog().object(&name).is_none() && if_exists {
            super::missing_skipped(sess, "type", &name);
            continue;
        }
        let (def, _) = domain_def(sess, &name)?;
        sess.check_owner(&def)?;
        let mut detail: Vec<String> = users(sess, &name)
            .iter()
            .flat_map(|r| {
                let cols = r.columns.iter().filter(|c| of_domain(c, &name));
                cols.map(|c| {
                    format!(
                        "column {} of table {} depends on type {name}",
                        c.name,
                        r.rel_name()
                    )
                })
                .collect::<Vec<_>>()
            })
            .collect();
        // A SQL function taking or returning it.
        let objects = sess.catalog().objects();
        for f in objects.iter().filter_map(|o| o.function()) {
            let mut domains = f.args.iter().map(|a| &a.domain).chain([&f.returns_domain]);
            if domains.any(|d| d.as_deref() == Some(name.as_str())) {
                detail.push(format!("function {} depends on type {name}", f.signature()));
            }
        }
        super::enums::refuse_dependents("DROP DOMAIN", &name, &detail, cascade)?;
        dropping.push(name);
    }
    for name in dropping {
        record(sess, &name, None)?;
    }
    Ok(Outcome::Command("DROP DOMAIN".into()))
}
