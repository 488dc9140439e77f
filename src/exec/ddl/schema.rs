//! CREATE SCHEMA, DROP SCHEMA, and the search path: which schema an
//! unqualified name of a statement denotes.
//!
//! A schema is a catalog object (`RelKind::Schema`, `types::schema`), and
//! a relation in it is kept under its qualified name `s.t`
//! (`types::schema`), so a statement's relation names are resolved once,
//! before it is prepared ([`resolve_names`]): an unqualified name becomes
//! `s.t` when the search path finds it in schema `s` first (a name found
//! in `public` stays as it is), and a new relation's unqualified name is
//! put in the first schema of the path that exists.
//!
//! Types (enums, domains) and SQL functions are kept and found the same
//! way ([`resolve_type`], [`resolve_function`], [`new_object_name`]; a
//! cast's or column's type name and a call's function name are resolved
//! with the relations'). The system schemas' relations (`pg_catalog`,
//! `information_schema`, `mosaic`) are built in.

use std::collections::HashSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, ObjectType, SchemaName, Statement, TableAlias,
    TableFactor, VisitMut, VisitorMut,
};

use super::record;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{ident_name, object_name};
use crate::store::catalog::View;
use crate::types::schema::{self, BUILT_IN, PUBLIC};
use crate::types::table::{RelKind, TableDef};

pub fn create(
    sess: &mut Session,
    schema_name: &SchemaName,
    if_not_exists: bool,
) -> Result<Outcome> {
    let (name, owner) = match schema_name {
        SchemaName::Simple(n) => (object_name(n), None),
        SchemaName::UnnamedAuthorization(role) => (ident_name(role), Some(ident_name(role))),
        SchemaName::NamedAuthorization(n, role) => (object_name(n), Some(ident_name(role))),
    };
    if name.contains('.') {
        return Err(Error::Syntax(format!(
            "improper qualified name (too many dotted names): {name}"
        )));
    }
    if name.starts_with("pg_") {
        return Err(
            Error::ReservedName(format!("unacceptable schema name \"{name}\""))
                .with_detail("The prefix \"pg_\" is reserved for system schemas."),
        );
    }
    if let Some(role) = &owner {
        if sess.role(role).is_none() {
            return Err(Error::NoSuchObject(format!(
                "role \"{role}\" does not exist"
            )));
        }
        if !sess.acts_as(role) {
            return Err(Error::PermissionDenied(format!(
                "must be member of role \"{role}\""
            )));
        }
    }
    if !sess.is_superuser() && !sess.acts_as(&sess.bootstrap_role()) {
        return Err(crate::types::acl::denied("database", "mosaic"));
    }
    if exists(&sess.catalog(), &name) {
        if !if_not_exists {
            return Err(Error::SchemaExists(name));
        }
        sess.notice(
            "42P06",
            format!("schema \"{name}\" already exists, skipping"),
        );
        return Ok(Outcome::Command("CREATE SCHEMA".into()));
    }
    let mut def = TableDef {
        name: schema::key(&name),
        oid: sess.store.next_oid()?,
        kind: RelKind::Schema(name),
        ..Default::default()
    };
    def.access.owner = owner;
    record(sess, &def.name.clone(), Some(def))?;
    Ok(Outcome::Command("CREATE SCHEMA".into()))
}

pub fn drop(
    sess: &mut Session,
    if_exists: bool,
    cascade: bool,
    names: &[ObjectName],
) -> Result<Outcome> {
    let mut dropping = Vec::new();
    for n in names {
        let name = object_name(n);
        if BUILT_IN.contains(&name.as_str()) {
            return Err(Error::Unsupported(format!("DROP SCHEMA {name}")));
        }
        let Some(def) = sess.catalog().schema(&name) else {
            if !if_exists {
                return Err(Error::NoSuchSchema(name));
            }
            super::missing_skipped(sess, "schema", &name);
            continue;
        };
        sess.check_owner(&def)?;
        dropping.push(name);
    }
    for name in &dropping {
        let members = members(&sess.catalog(), name);
        if let Some(first) = members.first().filter(|_| !cascade) {
            return Err(Error::DependentObjects(format!(
                "cannot drop schema {name} because other objects depend on it"
            ))
            .with_detail(format!("{} depends on schema {name}", member_label(first)))
            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
        }
        cascade_notice(sess, &members);
        // Views first (they read the tables), then what stores rows, then
        // sequences (a serial column's goes with its table).
        for kind in [
            ObjectType::View,
            ObjectType::MaterializedView,
            ObjectType::Table,
            ObjectType::Sequence,
        ] {
            for m in &members {
                let still = sess.catalog().relation(&m.name);
                if still.is_some_and(|d| object_type(&d) == kind) {
                    let names = [qualified(&m.name)];
                    match kind {
                        ObjectType::View => super::view::drop(sess, false, true, &names)?,
                        ObjectType::Sequence => super::sequence::drop(sess, false, true, &names)?,
                        _ => super::drop(sess, &kind, false, true, &names)?,
                    };
                }
            }
        }
        // Then its types, which columns of other schemas may still use.
        for m in members.iter().filter(|m| !m.is_relation()) {
            match (m.domain_type(), m.function()) {
                (Some(_), _) => {
                    super::domain::drop(sess, false, std::slice::from_ref(&m.name), true)?
                }
                // Nothing stored depends on a function.
                (_, Some(_)) => {
                    record(sess, &m.name, None)?;
                    Outcome::Command("DROP FUNCTION".into())
                }
                _ => super::enums::drop(sess, false, true, &[qualified(&m.name)])?,
            };
        }
        record(sess, &schema::key(name), None)?;
    }
    Ok(Outcome::Command("DROP SCHEMA".into()))
}

/// `ALTER SCHEMA [IF EXISTS] s OWNER TO role` (schema `public` too: its
/// owner and access list are then recorded), and `RENAME TO` of a created
/// schema that holds nothing yet (its relations, types and functions keep
/// their schema in their catalog names and their query text, so renaming
/// one that holds some is refused with 0A000).
pub fn alter(sess: &mut Session, a: &sqlparser::ast::AlterSchema) -> Result<Outcome> {
    use sqlparser::ast::AlterSchemaOperation;
    let name = object_name(&a.name);
    let def = crate::exec::pg_catalog::schema_def(&sess.catalog(), &name, &sess.bootstrap_role());
    let def = match def {
        _ if schema::fixed(&name) => {
            return Err(Error::Unsupported(format!("ALTER SCHEMA {name}")))
        }
        Some(def) => def,
        None if a.if_exists => {
            super::missing_skipped(sess, "schema", &name);
            return Ok(Outcome::Command("ALTER SCHEMA".into()));
        }
        None => return Err(Error::NoSuchSchema(name)),
    };
    match &a.operations[..] {
        [AlterSchemaOperation::OwnerTo { owner }] => {
            let role = super::grant::owner_name(sess, owner);
            let new = super::grant::owner_to(sess, &def, &role)?;
            record(sess, &def.name, Some(new))?;
        }
        [AlterSchemaOperation::Rename { name: new }] => {
            let new = object_name(new);
            if BUILT_IN.contains(&name.as_str()) {
                return Err(Error::Unsupported(format!("ALTER SCHEMA {name} RENAME TO")));
            }
            sess.check_owner(&def)?;
            if exists(&sess.catalog(), &new) {
                return Err(Error::SchemaExists(new));
            }
            if let Some(first) = members(&sess.catalog(), &name).first() {
                return Err(Error::Unsupported(format!(
                    "ALTER SCHEMA … RENAME TO of schema \"{name}\", which holds {} \"{}\"",
                    crate::exec::privileges::noun(first),
                    first.rel_name()
                )));
            }
            let mut moved = (*def).clone();
            moved.name = schema::key(&new);
            moved.kind = RelKind::Schema(new);
            record(sess, &def.name, None)?;
            record(sess, &moved.name.clone(), Some(moved))?;
        }
        _ => {
            return Err(Error::Unsupported(format!(
                "ALTER SCHEMA … {}",
                a.operations
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )))
        }
    }
    Ok(Outcome::Command("ALTER SCHEMA".into()))
}

/// PostgreSQL's NOTICE naming what a DROP SCHEMA … CASCADE drops with the
/// schema (a sequence owned by a table's column goes with the table
/// unnamed).
fn cascade_notice(sess: &Session, members: &[std::sync::Arc<TableDef>]) {
    let owned: Vec<String> = members
        .iter()
        .flat_map(|m| super::sequence::owned_by(sess, &m.name))
        .collect();
    let mut named: Vec<&TableDef> = members
        .iter()
        .filter(|m| !owned.contains(&m.name))
        .map(|m| m.as_ref())
        .collect();
    named.sort_by_key(|m| m.oid);
    let lines: Vec<String> = named
        .iter()
        .map(|m| format!("drop cascades to {}", member_label(m)))
        .collect();
    match lines.as_slice() {
        [] => {}
        [one] => sess.notice("00000", one.clone()),
        many => sess.notice(
            "00000",
            format!(
                "drop cascades to {} other objects\nDETAIL:  {}",
                many.len(),
                many.join("\n")
            ),
        ),
    }
}

/// What PostgreSQL's messages call a member of a schema: `table s.t`,
/// `function s.f(integer)`.
fn member_label(m: &TableDef) -> String {
    let noun = crate::exec::privileges::noun(m);
    match m.function() {
        Some(f) => format!("{noun} {}", f.signature()),
        None => {
            let (s, rel) = schema::split(&m.name);
            format!("{noun} {s}.{rel}")
        }
    }
}

/// The relations, types (enums, domains) and functions of schema
/// `name`, by name.
fn members(catalog: &View, name: &str) -> Vec<std::sync::Arc<TableDef>> {
    let named = |d: &TableDef| match d.function() {
        Some(f) => f.name.clone(),
        None => d.name.clone(),
    };
    catalog
        .objects()
        .into_iter()
        .filter(|d| d.is_relation() || d.is_user_type() || d.function().is_some())
        .filter(|d| !d.is_temp() && named(d).split_once('.').is_some_and(|(s, _)| s == name))
        .collect()
}

fn object_type(def: &TableDef) -> ObjectType {
    match def.kind {
        RelKind::View { .. } => ObjectType::View,
        RelKind::MatView { .. } => ObjectType::MaterializedView,
        RelKind::Sequence(_) => ObjectType::Sequence,
        _ => ObjectType::Table,
    }
}

/// An object name for a catalog name, each part quoted as it is.
fn qualified(name: &str) -> ObjectName {
    let (s, rel) = schema::split(name);
    ObjectName(
        [s, rel]
            .into_iter()
            .map(|p| ObjectNamePart::Identifier(Ident::with_quote('"', p)))
            .collect(),
    )
}

/// The catalog name of the relation an unqualified name denotes: its
/// first schema on the search path holding one of that name (`name` as
/// it is when none does, or when it is qualified).
pub fn resolve_relation(sess: &Session, name: &str) -> String {
    if name.contains('.') {
        return name.to_string();
    }
    let catalog = sess.catalog();
    search_path(sess)
        .iter()
        .map(|s| schema::qualify(s, name))
        .find(|n| catalog.relation(n).is_some())
        .unwrap_or_else(|| name.to_string())
}

/// A DEFAULT `nextval('s')` written in CREATE TABLE names a sequence that
/// exists (42P01 otherwise, as PostgreSQL's `regclass` does), found along
/// the search path now: the default keeps its catalog name, so it draws
/// from that sequence whatever path a later session has.
pub fn bind_default_sequences(
    sess: &Session,
    ct: &sqlparser::ast::CreateTable,
    def: &mut TableDef,
) -> Result<()> {
    for cd in &ct.columns {
        let written = cd.options.iter().find_map(|o| match &o.option {
            sqlparser::ast::ColumnOption::Default(e) => {
                crate::types::table::sequence_name(&e.to_string())
            }
            _ => None,
        });
        let Some(seq) = written else { continue };
        let name = ident_name(&cd.name);
        let found = resolve_relation(sess, &seq);
        let durable = sess
            .catalog()
            .relation(&found)
            .is_some_and(|r| r.sequence().is_some());
        // Another column of this table may make it (a serial column).
        let own = def.columns.iter().any(|c| {
            c.name != name
                && c.default
                    .as_deref()
                    .and_then(crate::types::table::sequence_name)
                    == Some(seq.clone())
        });
        if !durable && !own && !super::sequence::serial_sequence_exists(sess, &seq) {
            return Err(Error::NoSuchTable(seq));
        }
        if durable && found != seq {
            if let Some(col) = def.columns.iter_mut().find(|c| c.name == name) {
                col.default = Some(format!("nextval('{}')", found.replace('\'', "''")));
            }
        }
    }
    Ok(())
}

/// The table holding index `name` (qualified, or found by the search
/// path) and the index's own name.
pub fn find_index(sess: &Session, name: &str) -> Option<(std::sync::Arc<TableDef>, String)> {
    let candidates: Vec<String> = if name.contains('.') {
        vec![name.to_string()]
    } else {
        search_path(sess)
            .iter()
            .map(|s| schema::qualify(s, name))
            .collect()
    };
    let tables = sess.catalog().tables();
    candidates.iter().find_map(|full| {
        tables.iter().find_map(|t| {
            t.indexes
                .iter()
                .find(|i| t.index_storage_name(&i.name) == *full)
                .map(|i| (t.clone(), i.name.clone()))
        })
    })
}

/// Whether schema `name` exists: a built-in one or one created.
pub fn exists(catalog: &View, name: &str) -> bool {
    BUILT_IN.contains(&name) || name == "pg_temp" || catalog.schema(name).is_some()
}

/// May a relation be created under catalog name `name`: its schema must
/// exist (3F000) and be one the current role may create in.
pub fn check_creatable(sess: &Session, name: &str) -> Result<()> {
    let (s, _) = schema::split(name);
    if s == PUBLIC {
        return sess.check_create();
    }
    match sess.catalog().schema(s) {
        Some(_) => sess.check_schema(s, crate::types::acl::CREATE),
        None if BUILT_IN.contains(&s) => Err(Error::Unsupported(format!(
            "creating relations in schema \"{s}\""
        ))),
        None => Err(Error::NoSuchSchema(s.to_string())),
    }
}

/// The schemas of the session's search path that hold user relations and
/// exist, in order (`types::schema::effective_path`).
pub fn search_path(sess: &Session) -> Vec<String> {
    let setting = sess.settings().get("search_path").unwrap_or_default();
    let catalog = sess.catalog();
    schema::effective_path(&setting, &sess.current_role(), |s| {
        catalog.schema(s).is_some()
    })
}

/// Resolve the relation names of `stmt` by the session's search path
/// (see the module's comment), before it is prepared. Without schemas
/// other than `public` in the path nothing changes.
pub fn resolve_names(sess: &Session, stmt: &mut Statement) -> Result<()> {
    let path = search_path(sess);
    let catalog = sess.catalog();
    let created = created_name(stmt);
    if let Some(target) = created {
        if let [one] = target.0.as_slice() {
            let schema = path.first().ok_or(Error::NoSchemaSelected)?;
            if let (false, Some(ident)) = (schema == PUBLIC, one.as_ident()) {
                *target = one_ident(schema::qualify(schema, &ident_name(ident)));
            }
        }
    }
    if path.iter().all(|s| s == PUBLIC) && !catalog.has_schemas() {
        return Ok(());
    }
    let mut ctes = HashSet::new();
    let _ = sqlparser::ast::visit_statements(&*stmt, |s| {
        collect_ctes(s, &mut ctes);
        ControlFlow::<()>::Continue(())
    });
    let mut v = Resolver {
        catalog: &catalog,
        path: &path,
        ctes,
        temps: sess.temps_now(),
        kept: matches!(stmt, Statement::CreateView(_)),
    };
    let _ = stmt.visit(&mut v);
    // An INSERT's target of a user schema is called by its bare name
    // (`RETURNING s.t.id` reads `t.id`).
    if let Statement::Insert(ins) = stmt {
        if let (sqlparser::ast::TableObject::TableName(name), None) = (&ins.table, &ins.table_alias)
        {
            let full = object_name(name);
            if !v.kept && v.in_user_schema(&full) {
                ins.table_alias = Some(sqlparser::ast::TableAliasWithoutColumns {
                    explicit: true,
                    alias: Ident::with_quote('"', schema::split(&full).1),
                });
            }
        }
    }
    Ok(())
}

/// The name a CREATE of a relation gives it.
fn created_name(stmt: &mut Statement) -> Option<&mut ObjectName> {
    match stmt {
        Statement::CreateTable(ct) if !ct.temporary => Some(&mut ct.name),
        Statement::CreateView(cv) if !cv.temporary => Some(&mut cv.name),
        Statement::CreateSequence {
            name,
            temporary: false,
            ..
        } => Some(name),
        Statement::CreateType { name, .. } => Some(name),
        _ => None,
    }
}

fn collect_ctes(stmt: &Statement, out: &mut HashSet<String>) {
    let mut names = Vec::new();
    let _ = sqlparser::ast::Visit::visit(stmt, &mut CteNames(&mut names));
    out.extend(names);
}

struct CteNames<'a>(&'a mut Vec<String>);

impl sqlparser::ast::Visitor for CteNames<'_> {
    type Break = ();
    fn pre_visit_query(&mut self, q: &sqlparser::ast::Query) -> ControlFlow<()> {
        if let Some(w) = &q.with {
            self.0
                .extend(w.cte_tables.iter().map(|c| ident_name(&c.alias.name)));
        }
        ControlFlow::Continue(())
    }
}

struct Resolver<'a> {
    catalog: &'a View<'a>,
    path: &'a [String],
    ctes: HashSet<String>,
    temps: &'a crate::store::catalog::Temps,
    /// The statement keeps its text (a view's query): names are written
    /// `s.t`, as PostgreSQL shows them, and no alias is added.
    kept: bool,
}

impl Resolver<'_> {
    /// The schema an unqualified relation name resolves to, when it is
    /// not `public`.
    fn schema_of(&self, rel: &str) -> Option<&str> {
        if self.ctes.contains(rel) || self.temps.contains_key(rel) {
            return None;
        }
        self.path
            .iter()
            .find(|s| self.catalog.relation(&schema::qualify(s, rel)).is_some())
            .map(|s| s.as_str())
            .filter(|s| *s != PUBLIC)
    }

    /// Whether `name` is the catalog name of a relation in a user schema.
    fn in_user_schema(&self, name: &str) -> bool {
        name.split_once('.')
            .is_some_and(|(s, _)| self.catalog.schema(s).is_some())
    }

    /// `name` as the catalog names it: `s.t` of a user schema, written so
    /// or found by the search path, becomes the one identifier `"s.t"`
    /// (as SQLite knows its open segment); other names stay as written.
    fn resolve(&self, name: &mut ObjectName) {
        let full = match name.0.as_slice() {
            [one] => match one.as_ident() {
                Some(ident) if !ident.value.contains('.') => {
                    let rel = ident_name(ident);
                    match self.schema_of(&rel) {
                        Some(s) => schema::qualify(s, &rel),
                        None => return,
                    }
                }
                _ => return,
            },
            [_, _] => {
                let full = object_name(name);
                if !self.in_user_schema(&full) {
                    return;
                }
                full
            }
            _ => return,
        };
        *name = match self.kept {
            true => two_parts(&full),
            false => one_ident(full),
        };
    }
}

/// An object name of a schema and a relation, each quoted only where it
/// must be.
fn two_parts(full: &str) -> ObjectName {
    let (s, rel) = schema::split(full);
    let ident = |n: &str| match crate::types::ident_text(n) == n {
        true => Ident::new(n),
        false => Ident::with_quote('"', n),
    };
    ObjectName(vec![
        ObjectNamePart::Identifier(ident(s)),
        ObjectNamePart::Identifier(ident(rel)),
    ])
}

/// An object name of one quoted identifier.
fn one_ident(name: String) -> ObjectName {
    ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
        '"', name,
    ))])
}

impl VisitorMut for Resolver<'_> {
    type Break = ();

    fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
        self.resolve(name);
        ControlFlow::Continue(())
    }

    /// A relation of a user schema read without an alias is named by its
    /// bare name in the query (`SELECT t.a FROM s.t`).
    fn post_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = f {
            let full = object_name(name);
            if alias.is_none() && !self.kept && self.in_user_schema(&full) {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: Ident::with_quote('"', schema::split(&full).1),
                    columns: vec![],
                    at: None,
                });
            }
        }
        ControlFlow::Continue(())
    }

    /// `s.t.c` names column `c` of relation `t` of schema `s`; a cast's
    /// type is found along the path.
    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            Expr::CompoundIdentifier(parts)
                if parts.len() == 3 && self.catalog.schema(&ident_name(&parts[0])).is_some() =>
            {
                parts.remove(0);
            }
            Expr::Cast { data_type, .. } => self.resolve_type(data_type),
            Expr::TypedString(ts) => self.resolve_type(&mut ts.data_type),
            Expr::Function(f) => self.resolve_function(&mut f.name),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// A set-returning SQL function in FROM is found along the path.
    fn pre_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<()> {
        match f {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            }
            | TableFactor::Function { name, .. } => self.resolve_function(name),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// A new or altered column's type is found along the path.
    fn pre_visit_statement(&mut self, s: &mut Statement) -> ControlFlow<()> {
        use sqlparser::ast::{AlterColumnOperation as C, AlterTableOperation as A};
        match s {
            Statement::CreateTable(ct) => {
                for c in &mut ct.columns {
                    self.resolve_type(&mut c.data_type);
                }
            }
            Statement::AlterTable(at) => {
                for op in &mut at.operations {
                    match op {
                        A::AddColumn { column_def, .. } => {
                            self.resolve_type(&mut column_def.data_type)
                        }
                        A::AlterColumn {
                            op: C::SetDataType { data_type, .. },
                            ..
                        } => self.resolve_type(data_type),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

impl Resolver<'_> {
    /// An unqualified function name the search path finds in a user
    /// schema becomes `s.f`.
    fn resolve_function(&self, name: &mut ObjectName) {
        let [one] = name.0.as_slice() else {
            return;
        };
        let Some(ident) = one.as_ident() else {
            return;
        };
        if let Some(full) = find_function(self.catalog, self.path, &ident_name(ident)) {
            *name = two_parts(&full);
        }
    }

    /// An unqualified type name the search path finds in a user schema
    /// (an enum type or a domain) becomes `s.name`.
    fn resolve_type(&self, dt: &mut sqlparser::ast::DataType) {
        use sqlparser::ast::{ArrayElemTypeDef, DataType};
        match dt {
            DataType::Custom(name, mods) if mods.is_empty() => {
                let [one] = name.0.as_slice() else {
                    return;
                };
                let Some(ident) = one.as_ident() else {
                    return;
                };
                let bare = ident_name(ident);
                if let Some(full) = find_type(self.catalog, self.path, &bare) {
                    *name = two_parts(&full);
                }
            }
            DataType::Array(ArrayElemTypeDef::SquareBracket(elem, _)) => self.resolve_type(elem),
            _ => {}
        }
    }
}

/// The catalog name of the user type (enum or domain) an unqualified
/// name denotes along `path`, when it lives in a schema other than
/// `public` (`None`: in `public`, or none).
fn find_type(catalog: &View, path: &[String], bare: &str) -> Option<String> {
    let is_type = |n: &str| catalog.object(n).is_some_and(|d| d.is_user_type());
    let s = path.iter().find(|s| is_type(&schema::qualify(s, bare)))?;
    (s != PUBLIC).then(|| schema::qualify(s, bare))
}

/// The catalog name of the type `name` (a catalog name as written, from
/// `types::enums::type_name`) denotes for DDL that changes or drops it:
/// an unqualified one found along the search path.
pub fn resolve_type(sess: &Session, name: &str) -> String {
    if name.contains('.') {
        return name.to_string();
    }
    find_type(&sess.catalog(), &search_path(sess), name).unwrap_or_else(|| name.to_string())
}

/// The catalog name of the SQL function `name` denotes: an unqualified
/// one found along the search path (as it is when none is found).
pub fn resolve_function(sess: &Session, name: &str) -> String {
    if name.contains('.') {
        return name.to_string();
    }
    find_function(&sess.catalog(), &search_path(sess), name).unwrap_or_else(|| name.to_string())
}

/// The catalog name of the user function an unqualified name denotes
/// along `path`, when it lives in a schema other than `public`.
fn find_function(catalog: &View, path: &[String], bare: &str) -> Option<String> {
    let is_function = |n: &str| catalog.object(&crate::types::function::key(n)).is_some();
    let s = path
        .iter()
        .find(|s| is_function(&schema::qualify(s, bare)))?;
    (s != PUBLIC).then(|| schema::qualify(s, bare))
}

/// The catalog name a new type or function `name` gets: an unqualified
/// one goes to the first schema of the search path; its schema must
/// exist and take new objects from the current role.
pub fn new_object_name(sess: &Session, name: &str) -> Result<String> {
    let name = match name.contains('.') {
        true => name.to_string(),
        false => {
            let path = search_path(sess);
            let first = path.first().ok_or(Error::NoSchemaSelected)?;
            schema::qualify(first, name)
        }
    };
    check_creatable(sess, &name)?;
    Ok(name)
}
