//! Prepared statements that hold SQL functions' bodies: when one of those
//! functions changes (CREATE OR REPLACE) or goes, the statement is
//! prepared again from its text before it runs, as PostgreSQL plans
//! again; its result columns must stay what the client was told.

use super::Session;
use crate::error::{Error, Result};
use crate::exec::Prepared;

impl Session {
    /// A statement prepared with SQL functions that have changed since (or
    /// gone), prepared again from its text as PostgreSQL plans again;
    /// `None` when none changed. Its result columns must stay as the
    /// client was told.
    pub(super) fn reprepared(&self, p: &Prepared) -> Result<Option<Prepared>> {
        let Some(inlined) = &p.inlined else {
            return Ok(None);
        };
        let catalog = self.catalog();
        let now = |f: &crate::types::function::FunctionDef| {
            crate::sql::Schema::function(&catalog, &f.name)
        };
        if inlined
            .functions
            .iter()
            .all(|f| now(f).is_some_and(|n| *n == **f))
        {
            return Ok(None);
        }
        // A function dropped since: the call fails as any unknown one.
        let gone = inlined.functions.iter().any(|f| now(f).is_none());
        let new = crate::exec::prepare_one(&catalog, inlined.source.clone(), &inlined.declared)?;
        let types = |p: &Prepared| p.columns.iter().map(|c| c.ty.clone()).collect::<Vec<_>>();
        if !gone && types(&new) != types(p) {
            return Err(Error::NotSupported(
                "cached plan must not change result type".into(),
            ));
        }
        Ok(Some(Prepared { id: p.id, ..new }))
    }
}
