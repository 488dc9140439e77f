//! CREATE TYPE … AS ENUM, ALTER TYPE … ADD VALUE / RENAME VALUE and DROP
//! TYPE. An enum type is a catalog object (`RelKind::Enum`) in the
//! relations' namespace, journaled, staged and spread like a table; the
//! relations whose columns use it carry a copy of its definition
//! (`PgType::Enum`), rewritten here in the same transaction when the type
//! changes (see `types::enums`).

use sqlparser::ast::{AlterType, AlterTypeAddValuePosition, AlterTypeOperation, Ident, ObjectName};

use super::record;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::object_name;
use crate::types::enums::EnumType;
use crate::types::table::{RelKind, TableDef};
use crate::types::PgType;

/// PostgreSQL's NAMEDATALEN - 1.
const MAX_LABEL: usize = 63;

pub(super) fn create(sess: &mut Session, name: &ObjectName, labels: &[Ident]) -> Result<Outcome> {
    let name = super::schema::new_object_name(sess, &object_name(name))?;
    if sess.catalog().object(&name).is_some() {
        return Err(Error::ObjectExists(format!(
            "type \"{name}\" already exists"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for l in labels {
        let l = label(l)?;
        if out.contains(&l) {
            return Err(Error::UniqueViolation(
                "duplicate key value violates unique constraint \"pg_enum_typid_label_index\""
                    .into(),
            ));
        }
        out.push(l);
    }
    let def = TableDef {
        name: name.clone(),
        oid: sess.store.next_oid()?,
        kind: RelKind::Enum(Box::new(EnumType {
            oid: 0,
            name: name.clone(),
            labels: out,
            array_oid: sess.store.next_oid()?,
            sort_orders: vec![],
        })),
        ..Default::default()
    };
    let mut def = def;
    if let RelKind::Enum(e) = &mut def.kind {
        e.oid = def.oid;
    }
    record(sess, &name, Some(def))?;
    Ok(Outcome::Command("CREATE TYPE".into()))
}

/// A label as written: a quoted string of 1 to 63 bytes.
fn label(l: &Ident) -> Result<String> {
    if l.quote_style != Some('\'') {
        return Err(Error::Syntax(format!(
            "syntax error at or near \"{}\"",
            l.value
        )));
    }
    if l.value.len() > MAX_LABEL {
        return Err(
            Error::InvalidName(format!("invalid enum label \"{}\"", l.value))
                .with_detail("Labels must be 63 bytes or less."),
        );
    }
    Ok(l.value.clone())
}

/// The catalog name of the existing type `name` denotes (along the
/// search path).
fn type_name(sess: &Session, name: &ObjectName) -> String {
    super::schema::resolve_type(sess, &object_name(name))
}

/// The enum type `name`, or PostgreSQL's error for what it is instead.
fn enum_type(sess: &Session, name: &str) -> Result<EnumType> {
    match sess.catalog().object(name) {
        Some(d) => match d.enum_type() {
            Some(e) => Ok(e.clone()),
            None => Err(Error::WrongObjectType(format!("{name} is not an enum"))),
        },
        None => Err(Error::NoSuchObject(format!(
            "type \"{name}\" does not exist"
        ))),
    }
}

pub(super) fn alter(sess: &mut Session, at: &AlterType) -> Result<Outcome> {
    let name = type_name(sess, &at.name);
    let mut ty = enum_type(sess, &name)?;
    match &at.operation {
        AlterTypeOperation::AddValue(add) => {
            let new = label(&add.value)?;
            // PostgreSQL lets a block use a label it added only once it
            // commits (55P04); that check is not built, so a block may not
            // add one.
            if sess.in_block() {
                return Err(Error::Unsupported(format!(
                    "ALTER TYPE {name} ADD VALUE inside a transaction block"
                )));
            }
            if ty.labels.contains(&new) {
                if add.if_not_exists {
                    sess.notice(
                        "42710",
                        format!("enum label \"{new}\" already exists, skipping"),
                    );
                    return Ok(Outcome::Command("ALTER TYPE".into()));
                }
                return Err(Error::ObjectExists(format!(
                    "enum label \"{new}\" already exists"
                )));
            }
            let at = match &add.position {
                None => ty.labels.len(),
                Some(AlterTypeAddValuePosition::Before(n)) => existing(&ty, n)?,
                Some(AlterTypeAddValuePosition::After(n)) => existing(&ty, n)? + 1,
            };
            ty.insert(at, new);
        }
        AlterTypeOperation::RenameValue(r) => {
            let (from, to) = (label(&r.from)?, label(&r.to)?);
            let i = existing(&ty, &r.from)?;
            if ty.labels.contains(&to) {
                return Err(Error::ObjectExists(format!(
                    "enum label \"{to}\" already exists"
                )));
            }
            if let Some(t) = users(sess, &name).first() {
                return Err(Error::Unsupported(format!(
                    "ALTER TYPE {name} RENAME VALUE of a type a column uses (table {} stores \"{from}\" in its shards)",
                    t.name
                )));
            }
            ty.labels[i] = to;
        }
        AlterTypeOperation::Rename(r) => {
            let new = crate::types::schema::beside(&name, &crate::sql::ident_name(&r.new_name));
            move_to(sess, ty, &new)?;
            return Ok(Outcome::Command("ALTER TYPE".into()));
        }
    }
    put(sess, ty)?;
    Ok(Outcome::Command("ALTER TYPE".into()))
}

/// `ALTER TYPE name SET SCHEMA s` of an enum type or a domain.
pub(super) fn set_schema(
    sess: &mut Session,
    set: &crate::sql::set_schema::SetSchema,
) -> Result<Outcome> {
    let name = super::schema::resolve_type(sess, &crate::types::enums::type_name(&set.name));
    if sess
        .catalog()
        .object(&name)
        .is_some_and(|d| d.domain_type().is_some())
    {
        let action = crate::sql::domain::AlterDomain::SetSchema(set.schema.clone());
        super::domain::run(
            sess,
            &crate::sql::domain::DomainStatement::Alter { name, action },
        )?;
        return Ok(Outcome::Command("ALTER TYPE".into()));
    }
    let ty = enum_type(sess, &name)?;
    let new = crate::types::schema::qualify(&set.schema, crate::types::schema::split(&name).1);
    if new != name {
        super::schema::new_object_name(sess, &new)?;
        move_to(sess, ty, &new)?;
    }
    Ok(Outcome::Command("ALTER TYPE".into()))
}

/// 42710 when catalog name `new`, which a type is to take, is taken:
/// PostgreSQL names the schema when the type moves to another schema
/// (`moving`).
pub(super) fn free_type_name(sess: &Session, new: &str, moving: bool) -> Result<()> {
    if sess.catalog().object(new).is_none() {
        return Ok(());
    }
    let (s, n) = crate::types::schema::split(new);
    Err(Error::ObjectExists(match moving {
        false => format!("type \"{n}\" already exists"),
        true => format!("type \"{n}\" already exists in schema \"{s}\""),
    }))
}

/// Give enum type `ty` the catalog name `new` (RENAME TO, SET SCHEMA):
/// the same type (oid) under the new name, and every column of it told.
fn move_to(sess: &mut Session, mut ty: EnumType, new: &str) -> Result<()> {
    let old = ty.name.clone();
    let Some(def) = sess.catalog().object(&old) else {
        return Err(Error::NoSuchObject(format!(
            "type \"{old}\" does not exist"
        )));
    };
    sess.check_owner(&def)?;
    let moving = crate::types::schema::split(new).0 != crate::types::schema::split(&old).0;
    free_type_name(sess, new, moving)?;
    ty.name = new.to_string();
    let mut moved = (*def).clone();
    moved.name = new.to_string();
    moved.kind = RelKind::Enum(Box::new(ty.clone()));
    moved.access.owner = Some(sess.owner_of(&def.access));
    record(sess, &old, None)?;
    record(sess, new, Some(moved))?;
    rewrite_users(sess, &old, &ty)
}

/// The position of an existing label; 22023 when there is none.
fn existing(ty: &EnumType, l: &Ident) -> Result<usize> {
    ty.labels.iter().position(|x| *x == l.value).ok_or_else(|| {
        Error::InvalidParameter(format!("\"{}\" is not an existing enum label", l.value))
    })
}

/// Record the type's new definition and the new copy of it in every
/// relation that uses it.
fn put(sess: &mut Session, ty: EnumType) -> Result<()> {
    let Some(old) = sess.catalog().object(&ty.name) else {
        return Err(Error::NoSuchObject(format!(
            "type \"{}\" does not exist",
            ty.name
        )));
    };
    let mut def = (*old).clone();
    def.kind = RelKind::Enum(Box::new(ty.clone()));
    record(sess, &ty.name, Some(def))?;
    rewrite_users(sess, &ty.name.clone(), &ty)
}

/// Give every column of enum type `old` (its name before this change) the
/// definition `ty`.
fn rewrite_users(sess: &mut Session, old: &str, ty: &EnumType) -> Result<()> {
    for rel in users(sess, old) {
        let mut new = (*rel).clone();
        for c in &mut new.columns {
            if matches!(&c.ty, PgType::Enum(e) if e.name == old) {
                c.ty = PgType::Enum(Box::new(ty.clone()));
            }
        }
        let name = new.name.clone();
        record(sess, &name, Some(new))?;
    }
    Ok(())
}

/// The relations whose columns use the enum `name`.
fn users(sess: &Session, name: &str) -> Vec<std::sync::Arc<TableDef>> {
    sess.catalog()
        .relations()
        .into_iter()
        .filter(|r| r.uses_enum(name))
        .collect()
}

pub(super) fn drop(
    sess: &mut Session,
    if_exists: bool,
    cascade: bool,
    names: &[ObjectName],
) -> Result<Outcome> {
    let mut dropping = Vec::new();
    for n in names {
        let name = type_name(sess, n);
        let Some(obj) = sess.catalog().object(&name) else {
            if if_exists {
                super::missing_skipped(sess, "type", &name);
                continue;
            }
            return Err(Error::NoSuchObject(format!(
                "type \"{name}\" does not exist"
            )));
        };
        if obj.domain_type().is_some() {
            super::domain::drop(sess, false, &[name], cascade)?;
            continue;
        }
        if obj.enum_type().is_none() {
            let kind = match obj.kind {
                RelKind::View { .. } => "view",
                RelKind::MatView { .. } => "materialized view",
                RelKind::Sequence(_) => "sequence",
                _ => "table",
            };
            return Err(Error::DependentObjects(format!(
                "cannot drop type {name} because {kind} {name} requires it"
            ))
            .with_hint(format!("You can drop {kind} {name} instead.")));
        }
        let detail: Vec<String> = users(sess, &name)
            .iter()
            .flat_map(|r| {
                let cols = r
                    .columns
                    .iter()
                    .filter(|c| matches!(&c.ty, PgType::Enum(e) if e.name == name));
                match r.kind {
                    RelKind::View { .. } => vec![format!("view {} depends on type {name}", r.name)],
                    _ => cols
                        .map(|c| {
                            format!(
                                "column {} of table {} depends on type {name}",
                                c.name, r.name
                            )
                        })
                        .collect::<Vec<_>>(),
                }
            })
            .collect();
        refuse_dependents("DROP TYPE", &name, &detail, cascade)?;
        dropping.push(name);
    }
    for name in dropping {
        record(sess, &name, None)?;
    }
    Ok(Outcome::Command("DROP TYPE".into()))
}

/// PostgreSQL's 2BP01 for dropping type `name` while other objects
/// (`detail`, a line each) depend on it; with CASCADE, 0A000 (the columns
/// would go too, which is not built).
pub(super) fn refuse_dependents(
    statement: &str,
    name: &str,
    detail: &[String],
    cascade: bool,
) -> Result<()> {
    if detail.is_empty() {
        return Ok(());
    }
    if cascade {
        return Err(Error::Unsupported(format!(
            "{statement} … CASCADE of type {name}, which other objects use ({})",
            detail.join("; ")
        )));
    }
    Err(Error::DependentObjects(format!(
        "cannot drop type {name} because other objects depend on it"
    ))
    .with_detail(detail.join("\n"))
    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."))
}

impl Session {
    /// The enum types and domains this session sees, in scope for the
    /// type names of the SQL it parses until the guards are dropped
    /// (`types::enums`, `types::domain`).
    pub fn type_scope(
        &self,
    ) -> (
        crate::types::enums::ScopeGuard,
        crate::types::domain::ScopeGuard,
    ) {
        let catalog = self.catalog();
        (
            crate::types::enums::scope(catalog.enum_types()),
            crate::types::domain::scope(catalog.domain_types()),
        )
    }

    /// Whether a transaction block (BEGIN, or a multi-statement query's
    /// implicit one) is open around the current statement.
    pub fn in_block(&self) -> bool {
        self.txn != crate::exec::TxnState::Idle && !self.ddl_autocommit
    }
}
