//! How a session sees the catalog: its open block's staged DDL and its
//! temporary tables (see `exec::ddl::temp`) over the committed catalog,
//! and statements prepared against that.

use super::Session;
use crate::error::Result;
use crate::exec::Prepared;
use crate::types::PgType;

impl Session {
    /// Classify and type one statement of a parsed script, as this session
    /// sees the catalog (its earlier statements' DDL included).
    pub fn prepare_parsed(&self, parsed: crate::exec::Parsed) -> Result<Prepared> {
        self.prepare_with(parsed, &[])
    }

    /// Parse, classify and type `sql` as this session sees the catalog
    /// (its open block's DDL included).
    pub fn prepare(&self, sql: &str, declared: &[Option<PgType>]) -> Result<Vec<Prepared>> {
        crate::exec::parse_script(sql)?
            .into_iter()
            .map(|p| self.prepare_with(p, declared))
            .collect()
    }

    /// The catalog as this session sees it: its open block's DDL over the
    /// committed tables.
    pub fn catalog(&self) -> crate::store::catalog::View<'_> {
        self.store
            .catalog
            .view(&self.staged)
            .with_temps(self.temps_now())
    }

    /// Make the open block's DDL this session's view of the catalog.
    pub(crate) fn stage_ddl(&mut self) {
        self.staged = self.ddl.staged();
        *self.shared_staged.write() = self.staged.clone();
        self.store.catalog.touch();
    }

    /// Drop the uncommitted DDL from this session's view of the catalog.
    pub(crate) fn unstage_ddl(&mut self) {
        if !self.staged.is_empty() {
            self.staged.clear();
            self.shared_staged.write().clear();
            self.store.catalog.touch();
        }
    }

    /// Prepare one parsed statement, its names resolved first against the
    /// session's temporary tables (`ddl::temp::resolve_names`).
    pub(crate) fn prepare_with(
        &self,
        mut parsed: crate::exec::Parsed,
        declared: &[Option<PgType>],
    ) -> Result<Prepared> {
        let _types = self.type_scope();
        if let crate::exec::Parsed::Statement(stmt) = &mut parsed {
            crate::exec::ddl::temp::resolve_names(self.temps_now(), stmt)?;
            crate::exec::ddl::schema::resolve_names(self, stmt)?;
            crate::sql::session_user::substitute(stmt, &self.current_role(), &self.session_user());
        }
        let mut p = crate::exec::prepare_parsed(&self.catalog(), parsed, declared)?;
        crate::exec::statements::describe(self, &mut p)?;
        Ok(p)
    }

    /// The session's temporary tables as it sees them now (its open
    /// block's changes included).
    pub fn temps_now(&self) -> &crate::store::catalog::Temps {
        self.ddl.temps().unwrap_or(&self.temps)
    }

    /// Whether `stmt` reads or writes a temporary table: it then runs
    /// whole on the session's own connection.
    pub fn touches_temp(&self, stmt: &sqlparser::ast::Statement) -> bool {
        let temps = self.temps_now();
        !temps.is_empty()
            && crate::plan::relations(stmt)
                .iter()
                .any(|n| temps.contains_key(n.strip_prefix("pg_temp.").unwrap_or(n)))
    }

    /// Whether other nodes may hold rows of `def` (never of a temporary
    /// table, whose rows are this session's own).
    pub fn peers_hold(&self, def: &crate::types::table::TableDef) -> bool {
        !def.is_temp() && self.has_peers()
    }

    /// Whether `name` is a temporary table of this session, as it sees the
    /// catalog now.
    pub fn is_temp(&self, name: &str) -> bool {
        self.temps_now().contains_key(name)
    }

    /// DISCARD TEMP: the session's temporary tables go (outside a
    /// transaction block only).
    pub fn discard_temp(&mut self) -> Result<()> {
        if self.txn != crate::exec::TxnState::Idle {
            return Err(crate::error::Error::Unsupported(
                "DISCARD TEMP inside a transaction block".into(),
            ));
        }
        crate::exec::ddl::temp::discard(self);
        Ok(())
    }
}
