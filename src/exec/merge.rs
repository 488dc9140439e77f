//! Running a MERGE that `sql::merge` planned: its snapshot query first,
//! then each joined row's action statement through the write path (so
//! constraints, keys, FOREIGN KEYs and other nodes' rows are handled as
//! for any INSERT, UPDATE or DELETE), all one statement.

use std::collections::HashSet;

use sqlparser::ast::{Merge, SetExpr, Statement, With};

use super::{Kind, Outcome, Prepared, RowSink, Session};
use crate::error::{Error, Result};
use crate::sql::merge::{Act, MergeSpec, Sides};
use crate::types::{Datum, PgType};

/// A MERGE prepared: its plan and the statements it runs, typed.
#[derive(Debug, Clone)]
pub struct MergePlan {
    pub spec: MergeSpec,
    snapshot: Prepared,
    actions: Vec<Option<Prepared>>,
}

impl PartialEq for MergePlan {
    fn eq(&self, other: &MergePlan) -> bool {
        self.spec == other.spec
    }
}

/// The MERGE `stmt` is, with the WITH clause before it, if any.
pub(super) fn of(stmt: &Statement) -> Option<(&Merge, Option<&With>)> {
    match stmt {
        Statement::Merge(m) => Some((m, None)),
        Statement::Query(q) => match q.body.as_ref() {
            SetExpr::Merge(Statement::Merge(m)) => Some((m, q.with.as_ref())),
            _ => None,
        },
        _ => None,
    }
}

/// Plan and type `m` (its common table expressions are `with`'s);
/// `declared` are the parameter types the client gave.
pub(super) fn prepare(
    catalog: &dyn crate::sql::Schema,
    m: &Merge,
    with: Option<&With>,
    declared: &[Option<PgType>],
    params: usize,
) -> Result<Prepared> {
    let with = with.map(|w| format!("{w} ")).unwrap_or_default();
    let (table, _) = crate::sql::merge::target_of(m)?;
    let not_table = |what: &str| {
        Error::WrongObjectType(format!("cannot execute MERGE on relation \"{table}\""))
            .with_detail(format!("This operation is not supported for {what}."))
    };
    if catalog.view(&table).is_some() {
        return Err(not_table("views"));
    }
    let def = catalog
        .table(&table)
        .ok_or_else(|| Error::NoSuchTable(table.clone()))?;
    if def.is_matview() {
        return Err(not_table("materialized views"));
    }
    let schema = super::system::SystemSchema(catalog);
    let known: Vec<PgType> = declared
        .iter()
        .map(|t| t.clone().unwrap_or(PgType::Unknown))
        .collect();
    let source = crate::sql::parse(&format!("{with}SELECT * FROM {}", m.source))?
        .pop()
        .ok_or_else(|| Error::Internal("empty MERGE source".into()))?;
    let source_columns = crate::sql::infer::result_columns(&source, &schema, &known)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let sides = Sides {
        target: &def,
        source_columns,
    };
    let spec = crate::sql::merge::plan(m, &sides, params)?;
    let snapshot = super::prepare_single(catalog, &format!("{with}{}", spec.snapshot), declared)?;
    let own: Vec<Option<PgType>> = (0..params)
        .map(|i| snapshot.params.get(i).cloned())
        .collect();
    let mut needs = snapshot.needs.clone();
    let mut actions = Vec::new();
    for a in &spec.actions {
        let Some(sql) = &a.sql else {
            actions.push(None);
            continue;
        };
        let mut types = own.clone();
        for (&v, name) in a.values.iter().zip(&a.columns) {
            let src = snapshot.columns.get(v).map(|c| c.ty.clone());
            let column = def.columns.iter().find(|c| c.name == *name);
            if let (Some(src), Some(column)) = (&src, column) {
                if let Some(e) = crate::sql::infer::assignment_mismatch(name, &column.ty, src) {
                    return Err(e);
                }
            }
            types.push(src);
        }
        if matches!(a.act, Act::Update | Act::Delete) {
            types.extend(
                def.primary_key
                    .iter()
                    .map(|&c| Some(def.columns[c].ty.clone())),
            );
        }
        let p = super::prepare_single(catalog, sql, &types)?;
        needs.extend(p.needs.iter().cloned());
        actions.push(Some(p));
    }
    Ok(Prepared {
        id: super::next_id(),
        stmt: Some(Statement::Merge(m.clone())),
        params: own.into_iter().map(|t| t.unwrap_or(PgType::Text)).collect(),
        kind: Kind::Merge(Box::new(MergePlan {
            spec,
            snapshot,
            actions,
        })),
        columns: vec![],
        needs,
        inlined: None,
        text: None,
    })
}

/// Run a MERGE (inside its statement: see `Session::in_statement`).
pub(crate) fn run(sess: &mut Session, plan: &MergePlan, params: &[Datum]) -> Result<Outcome> {
    let Some(stmt) = plan.snapshot.stmt.clone() else {
        return Err(Error::Internal("MERGE snapshot without a query".into()));
    };
    let mut rows = Vec::new();
    super::query::run(sess, stmt, &plan.snapshot, params, &mut |r| {
        rows.push(r);
        Ok(())
    })?;
    let keys = plan.spec.keys;
    let clause_of = |row: &[Datum]| match row.get(keys) {
        Some(Datum::Int(n)) => usize::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    // A target row a second source row would change: PostgreSQL's 21000,
    // when that second change comes.
    let mut changed: HashSet<Vec<String>> = HashSet::new();
    let mut count = 0;
    for row in &rows {
        let Some(i) = clause_of(row).checked_sub(1) else {
            continue;
        };
        let (Some(action), Some(Some(p))) = (plan.spec.actions.get(i), plan.actions.get(i)) else {
            continue;
        };
        let Some(stmt) = p.stmt.clone() else {
            continue;
        };
        let mut args = params.to_vec();
        args.extend(
            action
                .values
                .iter()
                .map(|&c| row.get(c).cloned().unwrap_or(Datum::Null)),
        );
        if matches!(action.act, Act::Update | Act::Delete) {
            let key = row[..keys].iter().map(|d| format!("{d:?}")).collect();
            if !changed.insert(key) {
                return Err(Error::MergeTwice.with_hint(
                    "Ensure that not more than one source row matches any one target row.",
                ));
            }
            args.extend(row[..keys].iter().cloned());
        }
        let (_, n, _) = super::write::write_statement(sess, stmt, &args, &mut |_| Ok(()))?;
        count += n;
    }
    Ok(Outcome::Command(format!("MERGE {count}")))
}

/// Whether the MERGE updates or deletes rows (which may sit in other
/// nodes' unsealed segments).
fn changes_rows(spec: &MergeSpec) -> bool {
    spec.actions
        .iter()
        .any(|a| matches!(a.act, Act::Update | Act::Delete))
}

impl Session {
    /// MERGE as one statement, with the write path's reach to other nodes:
    /// their unsealed rows of the target are sealed first when it updates
    /// or deletes, and the tombstones it leaves are delivered after.
    pub(super) fn merge(
        &mut self,
        plan: &MergePlan,
        params: &[Datum],
        sink: &mut RowSink,
    ) -> Result<Outcome> {
        if changes_rows(&plan.spec) && !self.writing && self.has_peers() {
            let all = crate::sql::parse(&format!(
                "DELETE FROM {}",
                crate::types::quote(&plan.spec.target)
            ))?;
            if let Some(stmt) = all.first() {
                super::write::seal_peers_first(self, stmt, params)?;
            }
        }
        let r = self.retrying_peers(true, sink, |sess, _| run(sess, plan, params));
        self.after_write()?;
        self.deliver_tombstones();
        r
    }
}
