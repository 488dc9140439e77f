//! PostgreSQL's catalogs (`pg_catalog.*`, `information_schema.*`) as
//! MosaicDB's catalog answers them. Each is a system view: `definition` gives its columns
//! (`pg_catalog/relations.rs` lists them all), `rows` its contents for a
//! session, built from the one catalog right before a statement that reads
//! it — only the relations the statement names are built.
//!
//! The catalog functions that look objects up (`pg_get_indexdef`,
//! `::regclass`, `pg_get_userbyid`, …) are registered on the session's
//! connection the first time it reads a catalog relation.

mod access;
mod activity;
pub(crate) mod domains;
mod enums;
pub(crate) mod foreign;
mod functions;
mod information_schema;
mod locks;
pub(crate) mod objects;
mod relations;
mod roles;
mod rows;

use std::sync::Arc;

use crate::error::Result;
use crate::exec::Session;
use crate::store::catalog::{Staged, Temps};
use crate::store::udf::pg_catalog::Lookup;
use crate::store::Store;
use crate::types::schema::PUBLIC;
use crate::types::table::{RelKind, TableDef};
use crate::types::Datum;

pub use objects::derived_oid;

/// The columns of a catalog relation by canonical name
/// (`pg_catalog.pg_class`, `information_schema.tables`; `pg_class` is
/// accepted too).
pub fn definition(name: &str) -> Option<TableDef> {
    if let Some(view) = name.strip_prefix("information_schema.") {
        return information_schema::definition(view);
    }
    let short = name.strip_prefix("pg_catalog.").unwrap_or(name);
    if !short.starts_with("pg_") {
        return None;
    }
    relations::definition(short)
}

/// The rows of a catalog relation, as this session sees the catalog.
pub fn rows(sess: &Session, name: &str) -> Result<Vec<Vec<Datum>>> {
    if let Some(view) = name.strip_prefix("information_schema.") {
        let Some(def) = information_schema::definition(view) else {
            return Ok(vec![]);
        };
        return Ok(information_schema::rows(sess, view, &def));
    }
    let short = name.strip_prefix("pg_catalog.").unwrap_or(name);
    let Some(def) = relations::definition(short) else {
        return Ok(vec![]);
    };
    rows::rows(sess, short, &def)
}

/// What the catalog-aware functions (`::regclass`, format_type, …) look
/// objects up in: this node's catalog.
pub(crate) fn lookup(
    store: &Arc<Store>,
    view: SessionView,
    role: Arc<parking_lot::RwLock<String>>,
) -> Arc<dyn Lookup> {
    Arc::new(StoreLookup(
        store.clone(),
        view.staged,
        view.temps,
        role,
        view.gate,
        view.search_path,
    ))
}

/// What of a session the lookups see: its open block's staged
/// definitions, its temporary tables, and whether it may change
/// sequences now.
pub(crate) struct SessionView {
    pub staged: Arc<parking_lot::RwLock<Staged>>,
    pub temps: Arc<parking_lot::RwLock<Temps>>,
    pub gate: Arc<SequenceGate>,
    /// The session's `search_path` setting.
    pub search_path: Arc<parking_lot::RwLock<String>>,
}

/// A relation pg_class lists: a table, a system view or a catalog relation.
pub(crate) struct Relation {
    pub oid: i64,
    /// Its catalog name (`s.t` in a schema other than `public`); the name
    /// the catalogs show is [`Relation::rel_name`].
    pub name: String,
    pub namespace: i64,
    pub kind: char,
    pub def: Arc<TableDef>,
}

/// Every schema pg_namespace lists: the built-in ones, then those
/// created, each with its oid, name and (for a created one) definition,
/// whose `access` holds its owner.
pub(crate) fn schemas(sess: &Session) -> Vec<(i64, String, Option<Arc<TableDef>>)> {
    let catalog = sess.catalog();
    // Schema public has an owner and an access list, recorded once a
    // GRANT or REVOKE changed them.
    let public = schema_def(&catalog, PUBLIC, &sess.bootstrap_role());
    let mut out: Vec<_> = objects::NAMESPACES
        .iter()
        .map(|(oid, name)| {
            let def = public.clone().filter(|_| *name == PUBLIC);
            (*oid, name.to_string(), def)
        })
        .collect();
    for d in catalog.objects() {
        match &d.kind {
            RelKind::Schema(name) if name != PUBLIC => {
                out.push((objects::namespace_oid(name), name.clone(), Some(d.clone())));
            }
            _ => {}
        }
    }
    out
}

/// Schema `name`'s definition: the catalog's, else a built-in schema's
/// as it is until changed (`types::schema::built_in`; only public's can
/// be, and is then recorded); `None` when there is no such schema (the
/// sessions' temporary schemas are not in the catalog).
pub(crate) fn schema_def(
    catalog: &crate::store::catalog::View<'_>,
    name: &str,
    owner: &str,
) -> Option<Arc<TableDef>> {
    if let Some(def) = catalog.schema(name) {
        return Some(def);
    }
    crate::types::schema::BUILT_IN.contains(&name).then(|| {
        let oid = objects::namespace_oid(name) as u32;
        Arc::new(crate::types::schema::built_in(name, owner, oid))
    })
}

/// Every relation pg_class lists, indexes aside: the user's tables and
/// views (`user`, the catalog's relations of every kind), then the system
/// views.
pub(crate) fn relations(user: Vec<Arc<TableDef>>) -> Vec<Relation> {
    let serial: Vec<Relation> = serial_sequence_owners(&user)
        .into_iter()
        .map(|(name, _, table, pos)| Relation {
            oid: derived_oid("sequence", &name),
            name: name.clone(),
            namespace: objects::namespace_oid(crate::types::schema::split(&name).0),
            kind: 'S',
            // Owned by its table's owner, as PostgreSQL keeps them
            // (ALTER TABLE … OWNER TO moves both).
            def: Arc::new(TableDef {
                name,
                kind: RelKind::Sequence(Box::new(table.columns[pos].sequence_def())),
                access: crate::types::acl::Access {
                    owner: table.access.owner.clone(),
                    ..Default::default()
                },
                ..Default::default()
            }),
        })
        .collect();
    let mut out: Vec<Relation> = user
        .into_iter()
        .map(|t| Relation {
            oid: t.oid as i64,
            name: t.name.clone(),
            namespace: objects::namespace_of(&t),
            kind: match t.kind {
                RelKind::Table => 'r',
                RelKind::View { .. } => 'v',
                RelKind::MatView { .. } => 'm',
                RelKind::Sequence(_) => 'S',
                // Never here: the catalog's relations leave types and
                // functions out.
                RelKind::Enum(_)
                | RelKind::Domain(_)
                | RelKind::Function(_)
                | RelKind::Schema(_) => 'r',
            },
            def: t,
        })
        .chain(serial)
        .collect();
    for v in crate::exec::system::VIEWS {
        if let Some(def) = crate::exec::system::view(v) {
            out.push(Relation {
                oid: derived_oid("view", v),
                name: v.trim_start_matches("mosaic.").to_string(),
                namespace: objects::MOSAIC_NS,
                kind: 'v',
                def: Arc::new(def),
            });
        }
    }
    for (name, _) in relations::RELATIONS {
        if let Some(def) = relations::definition(name) {
            out.push(Relation {
                oid: catalog_table_oid(name)
                    .unwrap_or_else(|| derived_oid("view", &format!("pg_catalog.{name}"))),
                name: name.to_string(),
                namespace: objects::PG_CATALOG_NS,
                kind: 'v',
                def: Arc::new(def),
            });
        }
    }
    for (name, _) in information_schema::RELATIONS {
        if let Some(def) = information_schema::definition(name) {
            out.push(Relation {
                oid: derived_oid("view", &format!("information_schema.{name}")),
                name: name.to_string(),
                namespace: objects::INFORMATION_SCHEMA_NS,
                kind: 'v',
                def: Arc::new(def),
            });
        }
    }
    out
}

/// The name of the role that owns every object (the bootstrap superuser).
pub(crate) fn owner_name(sess: &Session) -> String {
    sess.bootstrap_role()
}

/// The oid a role has in the catalogs, the roles by name: the first
/// bootstrap role is the bootstrap superuser (10), every other role a
/// derived oid.
pub(crate) fn role_oids(store: &Store) -> Result<Vec<(i64, crate::store::catalog::Role)>> {
    Ok(oids_of(store.catalog.roles()))
}

/// The roles of `roles` with their oids, by name (see [`role_oids`]).
pub(crate) fn oids_of(
    roles: std::collections::HashMap<String, crate::store::catalog::Role>,
) -> Vec<(i64, crate::store::catalog::Role)> {
    let mut roles: Vec<_> = roles.into_values().collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    let owner = roles.iter().position(|r| r.bootstrap);
    roles
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let oid = if Some(i) == owner {
                objects::OWNER_OID
            } else {
                derived_oid("role", &r.name)
            };
            (oid, r)
        })
        .collect()
}

/// The catalog lookups of a session's SQL functions: the committed
/// catalog with the session's own staged DDL over it (`staged` is the
/// session's, shared).
/// `Temps` are the session's temporary tables as of its current statement.
struct StoreLookup(
    Arc<Store>,
    Arc<parking_lot::RwLock<Staged>>,
    Arc<parking_lot::RwLock<Temps>>,
    /// The session's current role.
    Arc<parking_lot::RwLock<String>>,
    /// Whether the running statement may change sequences.
    Arc<SequenceGate>,
    /// The session's `search_path` setting.
    Arc<parking_lot::RwLock<String>>,
);

/// Whether a session's running statement may change sequences, set by
/// the session before each statement: not in a read-only transaction,
/// nor under a read-only token.
#[derive(Debug, Default)]
pub(crate) struct SequenceGate(std::sync::atomic::AtomicU8);

impl SequenceGate {
    const OPEN: u8 = 0;
    const READ_ONLY: u8 = 1;
    const READ_TOKEN: u8 = 2;

    pub(crate) fn set(&self, read_only: bool, read_token: bool) {
        let v = match (read_only, read_token) {
            (true, _) => Self::READ_ONLY,
            (false, true) => Self::READ_TOKEN,
            (false, false) => Self::OPEN,
        };
        self.0.store(v, std::sync::atomic::Ordering::Relaxed);
    }

    /// The refusal of a change made by `function`, if refused now.
    fn refusal(&self, function: &str) -> Option<crate::error::Error> {
        use crate::error::Error;
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            Self::READ_ONLY => Some(Error::ReadOnlyTransaction(format!("{function}()"))),
            Self::READ_TOKEN => Some(crate::exec::privileges::read_token_refusal()),
            _ => None,
        }
    }
}

impl StoreLookup {
    /// `f` over the catalog as the session sees it: its open block's
    /// definitions and its temporary tables over the committed ones.
    fn with_view<T>(&self, f: impl FnOnce(crate::store::catalog::View<'_>) -> T) -> T {
        let (staged, temps) = (self.1.read(), self.2.read());
        f(self.0.catalog.view(&staged).with_temps(&temps))
    }

    /// The catalog name of the user type (an enum or a domain) `oid` is,
    /// or whose array type it is (`true`).
    fn user_type(&self, oid: i64) -> Option<(String, bool)> {
        self.with_view(|v| {
            let objects = v.objects();
            objects.iter().find_map(|d| {
                let (own, array) = match (d.enum_type(), d.domain_type()) {
                    (Some(e), _) => (e.oid, e.array_oid),
                    (_, Some(t)) => (t.oid, t.array_oid),
                    _ => return None,
                };
                let name = d.name.clone();
                (own as i64 == oid || array as i64 == oid).then_some((name, array as i64 == oid))
            })
        })
    }

    /// Whether the search path finds the user type of catalog name `name`
    /// by its bare name (no schema before its own has one of that name).
    fn type_found(&self, name: &str) -> bool {
        let (schema, bare) = crate::types::schema::split(name);
        let is_type = |n: &str| {
            self.with_view(|v| v.object(n))
                .is_some_and(|d| d.is_user_type())
        };
        let path = self.search_path();
        let first = (path.iter()).find(|s| is_type(&crate::types::schema::qualify(s, bare)));
        first.is_some_and(|s| s == schema)
    }

    /// The privileges `role` holds on `def`.
    fn held(&self, role: &str, def: &TableDef) -> u32 {
        let boot = crate::exec::privileges::bootstrap_role(&self.0).unwrap_or_default();
        self.0
            .catalog
            .with_roles(|roles| crate::exec::privileges::held(roles, &boot, role, def))
    }

    fn tables(&self) -> Vec<Arc<TableDef>> {
        self.with_view(|v| v.tables())
    }

    fn relations(&self) -> Vec<Arc<TableDef>> {
        self.with_view(|v| v.listed())
    }

    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        self.with_view(|v| v.table(name))
    }

    fn relation_by_oid(&self, oid: i64) -> Option<Arc<TableDef>> {
        self.relations().into_iter().find(|t| t.oid as i64 == oid)
    }

    fn index(&self, oid: i64) -> Option<(Arc<TableDef>, objects::Index)> {
        self.tables().into_iter().find_map(|t| {
            objects::indexes(&t)
                .into_iter()
                .find(|i| i.oid == oid)
                .map(|i| (t.clone(), i))
        })
    }
}

impl Lookup for StoreLookup {
    fn privilege(
        &self,
        on: crate::store::udf::pg_catalog::Privileged,
        role: Option<&str>,
        object: &crate::store::udf::pg_catalog::RelationArg,
        privileges: &str,
    ) -> Result<Option<bool>> {
        use crate::store::udf::pg_catalog::Privileged;
        match on {
            Privileged::Table => self.table_access(role, object, privileges).map(Some),
            Privileged::Schema => self.schema_access(role, object, privileges),
            Privileged::Database => self.database_access(role, object, privileges),
        }
    }

    fn type_name(&self, oid: i64) -> Option<String> {
        let (name, array) = self.user_type(oid)?;
        let shown = match self.type_found(&name) {
            true => crate::types::ident_text(crate::types::schema::split(&name).1),
            false => crate::types::enums::display_name(&name),
        };
        Some(if array { format!("{shown}[]") } else { shown })
    }

    fn type_visible(&self, oid: i64) -> bool {
        self.user_type(oid)
            .is_none_or(|(name, _)| self.type_found(&name))
    }

    fn type_oid(&self, name: &str) -> Option<i64> {
        let name = name.trim();
        let (name, array) = match name.strip_suffix("[]") {
            Some(elem) => (elem.trim_end(), true),
            None => (name, false),
        };
        let oids = |n: &str| {
            self.with_view(|v| {
                let d = v.object(n)?;
                match (d.enum_type(), d.domain_type()) {
                    (Some(e), _) => Some((e.oid, e.array_oid)),
                    (_, Some(t)) => Some((t.oid, t.array_oid)),
                    _ => None,
                }
            })
        };
        // An unqualified name is found along the search path.
        let name = crate::types::enums::type_name(name);
        let found = match name.contains('.') {
            true => oids(&name),
            false => (self.search_path().iter())
                .find_map(|s| oids(&crate::types::schema::qualify(s, &name))),
        };
        let (own, arr) = found?;
        Some(if array { arr } else { own } as i64)
    }

    fn search_path(&self) -> Vec<String> {
        let role = self.3.read().clone();
        let setting = self.5.read().clone();
        self.with_view(|v| {
            crate::types::schema::effective_path(&setting, &role, |s| v.schema(s).is_some())
        })
    }

    fn resolve(&self, text: &str) -> String {
        use crate::types::schema::{parse_name, qualify};
        match parse_name(text).as_slice() {
            [rel] => {
                let path = self.search_path();
                // Only `public` to search (the common case, and every
                // `nextval('s')` call): the bare name whatever it finds.
                if path.iter().all(|s| s == crate::types::schema::PUBLIC) {
                    return rel.clone();
                }
                let tables = self.tables();
                let found = |name: &str| {
                    self.with_view(|v| v.relation(name).is_some())
                        || serial_sequence(&tables, name).is_some()
                        || tables.iter().any(|t| {
                            objects::indexes(t)
                                .iter()
                                .any(|i| t.index_storage_name(&i.name) == name)
                        })
                };
                path.iter()
                    .map(|s| qualify(s, rel))
                    .find(|n| found(n))
                    .unwrap_or_else(|| rel.clone())
            }
            [s, rel] => qualify(s, rel),
            parts => parts.join("."),
        }
    }

    fn relation_oid(&self, name: &str) -> Option<i64> {
        let resolved = self.resolve(name);
        let name = resolved.as_str();
        if let Some(t) = self.with_view(|v| v.relation(name)) {
            return Some(t.oid as i64);
        }
        if serial_sequence(&self.tables(), name).is_some() {
            return Some(derived_oid("sequence", name));
        }
        let short = name.strip_prefix("pg_catalog.").unwrap_or(name);
        relations(self.relations())
            .into_iter()
            .find(|r| {
                r.def.name == name || (r.name == short && r.namespace == objects::PG_CATALOG_NS)
            })
            .map(|r| r.oid)
            .or_else(|| {
                self.tables().into_iter().find_map(|t| {
                    objects::indexes(&t)
                        .into_iter()
                        .find(|i| t.index_storage_name(&i.name) == name)
                        .map(|i| i.oid)
                })
            })
    }

    fn relation_name(&self, oid: i64) -> Option<String> {
        if let Some(r) = relations(self.relations())
            .into_iter()
            .find(|r| r.oid == oid)
        {
            let visible = self.visible(oid);
            return Some(match r.namespace {
                objects::MOSAIC_NS => format!("mosaic.{}", r.name),
                objects::INFORMATION_SCHEMA_NS => format!("information_schema.{}", r.name),
                objects::PG_CATALOG_NS | objects::TEMP_NS => r.name,
                _ if visible => crate::types::schema::split(&r.name).1.to_string(),
                _ => {
                    let (schema, rel) = crate::types::schema::split(&r.name);
                    format!("{schema}.{rel}")
                }
            });
        }
        self.index(oid).map(|(_, i)| i.name).or_else(|| {
            serial_sequences(&self.tables())
                .into_iter()
                .find(|(n, _)| derived_oid("sequence", n) == oid)
                .map(|(n, _)| n)
        })
    }

    fn visible(&self, oid: i64) -> bool {
        let all = relations(self.relations());
        match all.iter().find(|r| r.oid == oid) {
            Some(r) if r.namespace == objects::TEMP_NS || r.namespace == objects::PG_CATALOG_NS => {
                true
            }
            Some(r)
                if matches!(
                    r.namespace,
                    objects::MOSAIC_NS | objects::INFORMATION_SCHEMA_NS
                ) =>
            {
                false
            }
            // The first schema of the path holding a relation of its name
            // must be its own; a permanent table a temporary one of its
            // name shadows is not visible, as in PostgreSQL.
            Some(r) => {
                let (schema, rel) = crate::types::schema::split(&r.name);
                if self.2.read().contains_key(rel) {
                    return false;
                }
                let named = |s: &String| {
                    let full = crate::types::schema::qualify(s, rel);
                    all.iter()
                        .any(|o| o.name == full && o.namespace != objects::TEMP_NS)
                };
                self.search_path()
                    .iter()
                    .find(|s| named(s))
                    .is_some_and(|s| s == schema)
            }
            None => true,
        }
    }

    fn index_def(&self, oid: i64, col: i64, pretty: bool) -> Option<String> {
        let (t, i) = self.index(oid)?;
        objects::index_def_of(&t, &i, usize::try_from(col).ok()?, pretty)
    }

    fn constraint_def(&self, oid: i64) -> Option<String> {
        let domains = self.0.catalog.view(&self.1.read()).domain_types();
        let of_domains = domains.iter().flat_map(domains::checks);
        if let Some((_, _, text, _)) = of_domains.into_iter().find(|c| c.0 == oid) {
            return Some(text);
        }
        let tables = self.tables();
        if let Some(f) = foreign::foreign_keys(&tables)
            .into_iter()
            .find(|f| f.oid == oid)
        {
            return Some(f.def);
        }
        tables.into_iter().find_map(|t| {
            objects::indexes(&t)
                .into_iter()
                .filter_map(|i| i.constraint)
                .chain(objects::checks(&t))
                .find(|c| c.oid == oid)
                .map(|c| c.def)
        })
    }

    fn role_name(&self, oid: i64) -> Option<String> {
        role_oids(&self.0)
            .ok()?
            .into_iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, r)| r.name)
    }

    fn column_default(&self, table: &str, column: &str) -> Option<String> {
        let t = self.table(table)?;
        let pos = t.column_index(column)?;
        t.columns[pos].default.clone()
    }

    fn sequence(&self, name: &str) -> Option<(crate::types::sequence::SequenceDef, bool)> {
        if let Some(rel) = self.0.catalog.view(&self.1.read()).relation(name) {
            return rel.sequence().map(|s| (s.clone(), true));
        }
        serial_sequence(&self.tables(), name).map(|def| (def, false))
    }

    fn sequence_call(&self, name: &str, function: &str) -> Result<()> {
        use crate::types::acl::{SELECT, UPDATE, USAGE};
        // What PostgreSQL asks: any one of these privileges will do.
        let (wanted, changes) = match function {
            "nextval" => (USAGE | UPDATE, true),
            "setval" => (UPDATE, true),
            _ => (SELECT | USAGE, false),
        };
        // A serial column's own sequence has no access list here: the
        // table's privileges cover it (see README).
        if let Some(def) = self.with_view(|v| v.relation(name)) {
            let role = self.3.read().clone();
            if self.held(&role, &def) & wanted == 0 {
                return Err(crate::error::Error::PermissionDenied(format!(
                    "permission denied for sequence {name}"
                )));
            }
        }
        match self.4.refusal(function).filter(|_| changes) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn description(&self, oid: i64, subid: i64) -> Option<String> {
        let rel = self.relation_by_oid(oid)?;
        match subid {
            0 => rel.comment.clone(),
            n => rel
                .columns
                .get(usize::try_from(n - 1).ok()?)?
                .comment
                .clone(),
        }
    }

    fn relation_bytes(&self, oid: i64) -> Option<i64> {
        let rel = self.relation_by_oid(oid)?;
        if rel.is_temp() {
            // Its rows are in the session's own temporary database.
            return Some(0);
        }
        Some(self.0.table_bytes(&rel.name) as i64)
    }

    fn function(&self, oid: i64) -> Option<crate::types::function::FunctionDef> {
        self.with_view(|v| v.objects())
            .into_iter()
            .find(|t| i64::from(t.oid) == oid)
            .and_then(|t| t.function().cloned())
    }

    fn view_def(&self, oid: i64) -> Option<String> {
        let view = self.relation_by_oid(oid)?;
        view.view_query().map(objects::view_def)
    }

    fn namespace_name(&self, oid: i64) -> Option<String> {
        objects::NAMESPACES
            .iter()
            .find(|(o, _)| *o == oid)
            .map(|(_, n)| n.to_string())
            .or_else(|| {
                self.with_view(|v| v.objects())
                    .iter()
                    .find_map(|d| match &d.kind {
                        RelKind::Schema(n) if objects::namespace_oid(n) == oid => Some(n.clone()),
                        _ => None,
                    })
            })
    }
}

/// The fixed oids PostgreSQL gives its own catalog tables, which clients
/// compare with (`pg_depend.classid = 'pg_class'::regclass`).
fn catalog_table_oid(name: &str) -> Option<i64> {
    Some(match name {
        "pg_type" => 1247,
        "pg_attribute" => 1249,
        "pg_proc" => 1255,
        "pg_class" => 1259,
        "pg_database" => 1262,
        "pg_attrdef" => 2604,
        "pg_constraint" => 2606,
        "pg_depend" => 2608,
        "pg_description" => 2609,
        "pg_index" => 2610,
        "pg_namespace" => 2615,
        "pg_sequence" => 2224,
        "pg_enum" => 3501,
        "pg_extension" => 3079,
        _ => return None,
    })
}

/// Every sequence pg_class lists: those of CREATE SEQUENCE and the
/// implicit ones of serial and identity columns.
pub(crate) fn sequence_relations(sess: &crate::exec::Session) -> Vec<Relation> {
    relations(sess.catalog().listed())
        .into_iter()
        .filter(|r| r.kind == 'S')
        .collect()
}

/// The implicit sequences of serial and identity columns, each with its
/// column's type, table and position (what pg_class and pg_depend list),
/// where no CREATE SEQUENCE made one of that name.
pub(crate) fn serial_sequence_owners(
    relations: &[Arc<TableDef>],
) -> Vec<(String, crate::types::PgType, Arc<TableDef>, usize)> {
    let mut out = Vec::new();
    for t in relations.iter().filter(|t| t.is_table()) {
        for (pos, c) in t.columns.iter().enumerate() {
            let Some(seq) = c
                .default
                .as_deref()
                .and_then(crate::types::table::sequence_name)
            else {
                continue;
            };
            if relations.iter().any(|r| r.name == seq) {
                continue;
            }
            out.push((seq, c.ty.clone(), t.clone(), pos));
        }
    }
    out
}

/// The implicit sequences of serial columns, with their definitions.
fn serial_sequences(
    tables: &[Arc<TableDef>],
) -> Vec<(String, crate::types::sequence::SequenceDef)> {
    tables
        .iter()
        .flat_map(|t| t.columns.iter())
        .filter_map(|c| {
            let seq = c
                .default
                .as_deref()
                .and_then(crate::types::table::sequence_name)?;
            Some((seq, c.sequence_def()))
        })
        .collect()
}

/// The definition of the serial column's implicit sequence `name`.
fn serial_sequence(
    tables: &[Arc<TableDef>],
    name: &str,
) -> Option<crate::types::sequence::SequenceDef> {
    serial_sequences(tables)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, def)| def)
}
