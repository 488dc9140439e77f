//! What `has_table_privilege`, `has_schema_privilege` and
//! `has_database_privilege` answer: the privileges a role holds on a
//! relation, a schema or the database, from their owners and access
//! lists.

use super::{derived_oid, objects, StoreLookup};
use crate::error::Result;
use crate::store::udf::pg_catalog::Lookup;
use crate::types::table::RelKind;

impl StoreLookup {
    /// Whether `role`, holding `held` on an object `owner` owns (`None`:
    /// the bootstrap user), holds any privilege `privileges` names (of
    /// those in `applicable`); with GRANT OPTION, only if it acts as the
    /// owner (grants carry none here).
    fn answer(
        &self,
        role: &str,
        owner: Option<&str>,
        held: u32,
        privileges: &str,
        applicable: u32,
    ) -> Result<bool> {
        let (wanted, option) =
            crate::exec::privileges::parse_privilege_list(privileges, applicable)?;
        if wanted & held == 0 {
            return Ok(false);
        }
        if !option {
            return Ok(true);
        }
        let boot = crate::exec::privileges::bootstrap_role(&self.0).unwrap_or_default();
        let owner = owner.unwrap_or(&boot);
        Ok((self.0.catalog).with_roles(|r| r.is_superuser(role) || r.has_privs_of(role, owner)))
    }

    /// A `has_…_privilege` function's role: the one named, which must
    /// exist, or the current one.
    fn role_arg(&self, role: Option<&str>) -> Result<String> {
        match role {
            Some(r) if self.0.catalog.role(r).is_none() => Err(crate::error::Error::NoSuchObject(
                format!("role \"{r}\" does not exist"),
            )),
            Some(r) => Ok(r.to_string()),
            None => Ok(self.3.read().clone()),
        }
    }

    pub(super) fn table_access(
        &self,
        role: Option<&str>,
        table: &crate::store::udf::pg_catalog::RelationArg,
        privileges: &str,
    ) -> Result<bool> {
        use crate::store::udf::pg_catalog::RelationArg;
        let role = self.role_arg(role)?;
        let def = match table {
            RelationArg::Oid(oid) => self.relation_by_oid(*oid),
            RelationArg::Name(name) => {
                let bare = name.strip_prefix("public.").unwrap_or(name);
                match self.with_view(|v| v.relation(bare)) {
                    Some(def) => Some(def),
                    None if self.relation_oid(name).is_some() => None,
                    None => return Err(crate::error::Error::NoSuchTable(name.to_string())),
                }
            }
        };
        let Some(def) = def else {
            // A system view or catalog: readable by everyone.
            let (wanted, option) = crate::exec::privileges::parse_privilege_list(
                privileges,
                crate::types::acl::TABLE_ALL,
            )?;
            return Ok(!option && wanted & crate::types::acl::SELECT != 0);
        };
        let owner = def.access.owner.clone();
        let held = self.held(&role, &def);
        self.answer(
            &role,
            owner.as_deref(),
            held,
            privileges,
            crate::types::acl::TABLE_ALL,
        )
    }

    pub(super) fn schema_access(
        &self,
        role: Option<&str>,
        schema: &crate::store::udf::pg_catalog::RelationArg,
        privileges: &str,
    ) -> Result<Option<bool>> {
        use crate::store::udf::pg_catalog::RelationArg;
        let role = self.role_arg(role)?;
        let created = self.with_view(|v| {
            (v.objects().into_iter())
                .filter_map(|d| match &d.kind {
                    RelKind::Schema(n) => Some((n.clone(), d.clone())),
                    _ => None,
                })
                .collect::<Vec<_>>()
        });
        let name = match schema {
            RelationArg::Name(n) => n.clone(),
            RelationArg::Oid(oid) => {
                let built_in = objects::NAMESPACES.iter().find(|(o, _)| o == oid);
                match built_in.map(|(_, n)| n.to_string()).or_else(|| {
                    (created.iter())
                        .find(|(n, _)| objects::namespace_oid(n) == *oid)
                        .map(|(n, _)| n.clone())
                }) {
                    Some(n) => n,
                    None => return Ok(None),
                }
            }
        };
        let boot = crate::exec::privileges::bootstrap_role(&self.0).unwrap_or_default();
        let def = self.with_view(|v| super::schema_def(&v, &name, &boot));
        // A session's temporary schema: everyone's to use, as public is.
        let temp = || {
            name.starts_with("pg_temp").then(|| {
                let oid = objects::namespace_oid(&name) as u32;
                std::sync::Arc::new(crate::types::schema::built_in(&name, &boot, oid))
            })
        };
        let Some(def) = def.or_else(temp) else {
            return Err(crate::error::Error::NoSuchSchema(name));
        };
        let applicable = crate::types::acl::USAGE | crate::types::acl::CREATE;
        let held = self.held(&role, &def);
        let owner = def.access.owner.as_deref();
        self.answer(&role, owner, held, privileges, applicable)
            .map(Some)
    }

    /// The one database, `mosaic`: its owner (the bootstrap user) and
    /// superusers hold CREATE, CONNECT and TEMPORARY, everyone else CONNECT
    /// and TEMPORARY (PUBLIC's, as in PostgreSQL).
    pub(super) fn database_access(
        &self,
        role: Option<&str>,
        database: &crate::store::udf::pg_catalog::RelationArg,
        privileges: &str,
    ) -> Result<Option<bool>> {
        use crate::store::udf::pg_catalog::RelationArg;
        let role = self.role_arg(role)?;
        match database {
            RelationArg::Name(n) if n != "mosaic" => {
                return Err(crate::error::Error::NoSuchDatabase(n.clone()))
            }
            RelationArg::Oid(o) if *o != derived_oid("database", "mosaic") => return Ok(None),
            _ => {}
        }
        use crate::types::acl::{CONNECT, CREATE, TEMPORARY};
        let boot = crate::exec::privileges::bootstrap_role(&self.0).unwrap_or_default();
        let owner =
            (self.0.catalog).with_roles(|r| r.is_superuser(&role) || r.has_privs_of(&role, &boot));
        let held = if owner {
            CREATE | CONNECT | TEMPORARY
        } else {
            CONNECT | TEMPORARY
        };
        let all = CREATE | CONNECT | TEMPORARY;
        self.answer(&role, Some(&boot), held, privileges, all)
            .map(Some)
    }
}
