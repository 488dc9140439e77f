//! Planning: resolve the tables a statement reads to their live shards and
//! open segment, prune shards with their metadata, and replace each table
//! reference with a source that reads exactly the live rows.
//!
//! A table `t` read by a query becomes a derived table
//! `(SELECT cols FROM main."t" UNION ALL SELECT cols FROM "s_<id>".data
//!   WHERE <not tombstoned> ...) AS t`: the open segment plus every shard the
//! pruner could not exclude, each shard ATTACHed to the session connection.
//! SQLite pushes the query's filters into each arm, so a point lookup is an
//! index probe per unpruned shard. This is the gather path of DESIGN.md: it
//! is always correct, and it is the reference every pushdown is tested
//! against. The shard list is read from the manifest inside the statement's
//! own read transaction, so a concurrent seal can never hide or double rows.
//!
//! DESIGN: plan is pure. It does no I/O and calls nothing back: `exec`
//! reads what the planner needs into a [`Snapshot`] (inside the statement's
//! transaction) and hands it over; the planner returns a [`ReadPlan`].

pub mod exercise;
pub mod fragment;
pub mod nearest;
pub mod prune;
#[cfg(test)]
mod robustness;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    Expr, Ident, JoinOperator, Query, Select, TableAlias, TableFactor, TableWithJoins, VisitMut,
    VisitorMut,
};

use crate::error::{Error, Result};
use crate::plan::prune::Verdict;
use crate::sql::{ident_name, object_name};
use crate::types::quote;
use crate::types::shard::LiveShard;
use crate::types::shard::{ShardId, ShardMeta};
use crate::types::table::TableDef;
use crate::types::Datum;

/// What the planner decided for one table reference (EXPLAIN reads this).
#[derive(Debug, Clone)]
pub struct Scan {
    pub table: String,
    pub shards_total: usize,
    pub kept: Vec<ShardId>,
    pub pruned: Vec<(ShardId, String)>,
}

/// The shards a statement needs attached, and the scans for EXPLAIN.
#[derive(Debug, Default)]
pub struct ReadPlan {
    pub attach: Vec<ShardId>,
    pub scans: Vec<Scan>,
    /// Everything the rewritten SQL depends on besides the statement: per
    /// table reference, the shards read and whether they have tombstones.
    pub shape: Vec<(ShardId, bool)>,
    /// Table references with too many shards to attach: their shards' rows
    /// are gathered into a temp table the rewritten SQL reads.
    pub gathers: Vec<Gather>,
    /// Table references whose rows on other nodes are fetched into a temp
    /// table the rewritten SQL reads (a cluster with peers).
    pub remotes: Vec<RemoteScan>,
}

/// The part of a table reference that the peers answer: each of `peers`
/// scans its own rows of the table with `filter` (the conjuncts that can
/// be pushed down, PostgreSQL over the bare table), and the rows land in
/// `temp.<temp>` with the shard and row key each lives at.
#[derive(Debug, Clone)]
pub struct RemoteScan {
    pub temp: String,
    pub table: std::sync::Arc<TableDef>,
    pub filter: Option<String>,
    pub peers: Vec<String>,
}

/// What the planner knows of the tables a statement may read, gathered
/// by `exec` in the statement's own transaction: no planner call does I/O.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub tables: HashMap<String, TableSources>,
}

/// One table's sources as this statement sees them.
#[derive(Debug, Clone)]
pub struct TableSources {
    pub def: Arc<TableDef>,
    /// The live shards of this node's manifest the statement reads.
    pub shards: Vec<ShardSource>,
    /// The other nodes' holdings of the table; `None` on a node alone.
    pub peers: Option<Peers>,
    /// SQL reading the copies of down nodes' unsealed rows of the table
    /// that this node reads (`store::copies`).
    pub open_copies: Vec<String>,
}

/// A live shard with its metadata and the SQL reading its live rows once
/// it is attached (empty when only the plan's shape is wanted).
#[derive(Debug, Clone)]
pub struct ShardSource {
    pub shard: LiveShard,
    pub meta: Arc<ShardMeta>,
    pub sql: String,
}

/// What the live peers hold of one table.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub holders: Vec<PeerShards>,
    /// Rows of the table are on a node that is not live and nobody else
    /// can serve them (the statement must say so).
    pub lacking: bool,
}

/// One live peer's holdings of a table.
#[derive(Debug, Clone)]
pub struct PeerShards {
    pub name: String,
    /// Ask it whatever the filter: its holdings are unknown, or it has
    /// unsealed rows of the table.
    pub always: bool,
    /// Its shards of the table with rows left, each with its metadata when
    /// this node has it (`None`: unknown yet, so the peer is asked).
    pub shards: Vec<Option<Arc<ShardMeta>>>,
}

/// The peers to ask for rows of `def` matching `filter` (over columns
/// `resolve` maps to `def`): those that must always be asked, and those
/// whose shards of it are not all pruned by their metadata. `None` when
/// the statement needs nothing from another node.
pub fn peers_for(
    peers: &Peers,
    def: &TableDef,
    filter: Option<&Expr>,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
    params: &[Datum],
) -> Option<Vec<String>> {
    let out: Vec<String> = peers
        .holders
        .iter()
        .filter(|p| {
            p.always
                || p.shards.iter().any(|meta| match (filter, meta) {
                    (Some(f), Some(meta)) => !prune::excludes(meta, def, f, resolve, params),
                    _ => true,
                })
        })
        .map(|p| p.name.clone())
        .collect();
    (!out.is_empty() || peers.lacking).then_some(out)
}

/// Every relation `stmt` names (tables, views, CTE references alike): the
/// tables whose sources a snapshot must hold.
pub fn relations(stmt: &sqlparser::ast::Statement) -> Vec<String> {
    let mut out = Vec::new();
    let _ = sqlparser::ast::visit_relations(stmt, |name| {
        let n = object_name(name);
        if !out.contains(&n) {
            out.push(n);
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// Shards of one table reference whose live rows are copied into
/// `temp.<temp>` (with the table's columns) before the statement runs.
#[derive(Debug, Clone)]
pub struct Gather {
    pub temp: String,
    pub table: std::sync::Arc<TableDef>,
    /// Each shard with the SQL that reads its live rows once it is
    /// attached under `attach_name` next to its tombstones.
    pub shards: Vec<(ShardId, i64, String)>,
}

/// A table reference reading more shards than this gathers them instead
/// of attaching each (SQLite attaches at most 125 databases).
pub const GATHER_ABOVE: usize = 32;

/// SQL reading the open segment of `def`.
pub fn segment_source(def: &TableDef, with_key: bool) -> String {
    let mut cols: Vec<String> = Vec::new();
    if with_key {
        cols.push("_key".into());
    }
    cols.extend(def.columns.iter().map(|c| quote(&c.name)));
    format!("SELECT {} FROM {}", cols.join(", "), def.segment())
}

/// Prune the shards of `def` for `filter`; `resolve` maps column
/// references to `def`. With `explain`, each pruned shard comes with its
/// reason (empty otherwise).
pub fn prune_shards<'a>(
    shards: impl IntoIterator<Item = (&'a LiveShard, &'a ShardMeta)>,
    def: &TableDef,
    filter: Option<&Expr>,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
    params: &[Datum],
    explain: bool,
) -> Scan {
    let mut scan = Scan {
        table: def.name.clone(),
        shards_total: 0,
        kept: vec![],
        pruned: vec![],
    };
    for (s, meta) in shards {
        scan.shards_total += 1;
        let verdict = match filter {
            Some(f) => prune::verdict(meta, def, f, resolve, params, explain),
            None => Verdict::Keep,
        };
        match verdict {
            Verdict::Keep => scan.kept.push(s.id.clone()),
            Verdict::Prune(why) => scan.pruned.push((s.id.clone(), why)),
        }
    }
    scan
}

/// Which shards of this node's manifest a statement reads: its own, but
/// those in `skip` (table and id: a peer reads them from its copy), and
/// the copies of other nodes' shards in `copies` (id to table). Each must
/// still be in the manifest, or the statement fails with
/// `Error::StaleCopy` (and runs again, decided anew).
#[derive(Debug, Default, Clone)]
pub struct ShardScope {
    pub copies: std::collections::HashMap<String, String>,
    pub skip: Vec<(String, String)>,
    /// Nodes that are down whose unsealed rows this node reads from its
    /// copy (`store::copies`), each with the copy's epoch.
    pub open_of: Vec<(String, u64)>,
}

/// Replace every table reference in `stmt`'s queries with its live sources.
pub fn plan_reads(
    stmt: &mut sqlparser::ast::Statement,
    snapshot: &Snapshot,
    params: &[Datum],
) -> Result<ReadPlan> {
    run_planner(stmt, snapshot, params, false)
}

/// What `plan_reads` would decide on this node alone (shards, shape),
/// without rewriting `stmt` (a dry run leaves it as it was, so it needs no
/// copy): the key of a cached compilation.
pub fn plan_shape(
    stmt: &mut sqlparser::ast::Statement,
    snapshot: &Snapshot,
    params: &[Datum],
) -> Result<ReadPlan> {
    run_planner(stmt, snapshot, params, true)
}

fn run_planner(
    stmt: &mut sqlparser::ast::Statement,
    snapshot: &Snapshot,
    params: &[Datum],
    dry: bool,
) -> Result<ReadPlan> {
    let mut planner = Planner {
        snapshot,
        params,
        ctes: HashSet::new(),
        plan: ReadPlan::default(),
        dry,
    };
    match stmt.visit(&mut planner) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(planner.plan),
    }
}

struct Planner<'a> {
    snapshot: &'a Snapshot,
    params: &'a [Datum],
    ctes: HashSet<String>,
    plan: ReadPlan,
    /// Decide, but leave the statement as it is.
    dry: bool,
}

/// A table reference found in a SELECT's FROM clause.
struct Occurrence {
    def: std::sync::Arc<TableDef>,
    qualifier: String,
    /// False on the nullable side of an outer join, where WHERE conjuncts
    /// must not prune.
    prunable: bool,
}

impl Planner<'_> {
    fn user_table(&self, factor: &TableFactor) -> Option<std::sync::Arc<TableDef>> {
        match factor {
            TableFactor::Table {
                name, args: None, ..
            } => {
                let n = object_name(name);
                if self.ctes.contains(&n) {
                    None
                } else {
                    self.snapshot.tables.get(&n).map(|t| t.def.clone())
                }
            }
            _ => None,
        }
    }

    fn collect(&self, twj: &TableWithJoins, out: &mut Vec<Occurrence>, others: &mut usize) {
        let outer_right = twj.joins.iter().any(|j| {
            matches!(
                j.join_operator,
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) | JoinOperator::FullOuter(_)
            )
        });
        self.collect_factor(&twj.relation, !outer_right, out, others);
        for j in &twj.joins {
            let inner = matches!(
                j.join_operator,
                JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_)
            );
            self.collect_factor(&j.relation, inner && !outer_right, out, others);
        }
    }

    fn collect_factor(
        &self,
        f: &TableFactor,
        prunable: bool,
        out: &mut Vec<Occurrence>,
        others: &mut usize,
    ) {
        match f {
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                let start = out.len();
                self.collect(table_with_joins, out, others);
                if !prunable {
                    for o in &mut out[start..] {
                        o.prunable = false;
                    }
                }
            }
            TableFactor::Table { name, alias, .. } => match self.user_table(f) {
                Some(def) => out.push(Occurrence {
                    // A relation of schema `s` read as `s.t` is called `t`.
                    qualifier: match alias {
                        Some(a) => ident_name(&a.name),
                        None => crate::types::schema::split(&object_name(name))
                            .1
                            .to_string(),
                    },
                    def,
                    prunable,
                }),
                None => *others += 1,
            },
            _ => *others += 1,
        }
    }

    fn source_for(
        &mut self,
        factor: &mut TableFactor,
        occ: &Occurrence,
        filter: Option<&Expr>,
        all: &[Occurrence],
        others: usize,
    ) -> Result<()> {
        // Keyed by the name as written: a temporary table and the
        // permanent one it shadows (named `main.t`) share `def.name`.
        let Some(sources) = self
            .snapshot
            .tables
            .get(&occ.def.name)
            .filter(|s| Arc::ptr_eq(&s.def, &occ.def))
            .or_else(|| {
                self.snapshot
                    .tables
                    .values()
                    .find(|s| Arc::ptr_eq(&s.def, &occ.def))
            })
        else {
            return Err(Error::Internal(format!(
                "no sources of table {} in the snapshot",
                occ.def.name
            )));
        };
        let shards = &sources.shards;
        let resolve = |parts: &[Ident]| -> Option<usize> {
            match parts {
                [q, c] if ident_name(q) == occ.qualifier => occ.def.column_index(&ident_name(c)),
                [c] => {
                    let name = ident_name(c);
                    let idx = occ.def.column_index(&name)?;
                    let ambiguous = others > 0
                        || all.iter().any(|o| {
                            o.qualifier != occ.qualifier && o.def.column_index(&name).is_some()
                        });
                    (!ambiguous).then_some(idx)
                }
                _ => None,
            }
        };
        let scan = prune_shards(
            shards.iter().map(|s| (&s.shard, &*s.meta)),
            &occ.def,
            if occ.prunable { filter } else { None },
            &resolve,
            self.params,
            !self.dry,
        );
        let mut arms = vec![segment_source(&occ.def, false)];
        self.plan
            .shape
            .push((ShardId(format!("table {}", occ.def.name)), false));
        for copy in &sources.open_copies {
            arms.push(copy.clone());
            self.plan.shape.push((ShardId(copy.clone()), false));
        }
        // Each kept shard's rows, through its R*Tree where a spatial
        // predicate allows. The condition holds this run's constants
        // (parameters among them), so it is part of the plan's shape: a
        // prepared statement's compiled SQL is reused only with it.
        let params = self.params;
        let narrow = |src: &ShardSource| {
            filter
                .filter(|_| occ.prunable)
                .and_then(|f| prune::rtree_condition(&src.meta, &occ.def, f, &resolve, params))
        };
        // A read through an index looks its few rows up in the tombstones
        // one by one (`prune::keyed`: the statement's, not the shape's).
        let keyed = filter.is_some_and(|f| occ.prunable && prune::keyed(&occ.def, f, &resolve));
        let read = |src: &ShardSource| {
            let sql = match keyed {
                true => crate::types::shard::probe_per_row(&src.sql, &src.shard.id.0),
                false => src.sql.clone(),
            };
            match narrow(src) {
                Some(c) => crate::types::shard::narrow(&sql, src.shard.tombstones, &c),
                None => sql,
            }
        };
        if scan.kept.len() > GATHER_ABOVE {
            arms.push(self.gather(&occ.def, shards, &scan, &read));
        } else {
            for src in shards {
                let s = &src.shard;
                if scan.kept.contains(&s.id) {
                    if !self.dry {
                        arms.push(read(src));
                    }
                    self.plan.attach.push(s.id.clone());
                    self.plan.shape.push((s.id.clone(), s.tombstones > 0));
                    if let Some(c) = narrow(src) {
                        self.plan
                            .shape
                            .push((ShardId(format!("narrowed by {c}")), false));
                    }
                }
            }
        }
        let peers = sources.peers.as_ref().and_then(|p| {
            peers_for(
                p,
                &occ.def,
                filter.filter(|_| occ.prunable),
                &resolve,
                self.params,
            )
        });
        if let Some(peers) = peers {
            let pushed = pushdown_filter(filter.filter(|_| occ.prunable), &resolve);
            arms.push(self.remote(&occ.def, pushed, peers));
        }
        self.plan.scans.push(scan);
        if self.dry {
            return Ok(());
        }
        replace_with_union(factor, &occ.qualifier, &arms)
    }

    /// Gather the kept shards of a table reference into a temp table (too
    /// many to attach); the arm that reads it.
    fn gather(
        &mut self,
        def: &Arc<TableDef>,
        shards: &[ShardSource],
        scan: &Scan,
        read: &dyn Fn(&ShardSource) -> String,
    ) -> String {
        let temp = format!("_mosaic_gather_{}", self.plan.gathers.len() + 1);
        let mut g = Gather {
            temp: temp.clone(),
            table: def.clone(),
            shards: vec![],
        };
        for src in shards {
            if scan.kept.contains(&src.shard.id) {
                g.shards
                    .push((src.shard.id.clone(), src.shard.tombstones, read(src)));
            }
        }
        let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
        self.plan
            .shape
            .push((ShardId(format!("gather {temp}")), true));
        self.plan.gathers.push(g);
        format!("SELECT {} FROM temp.{}", cols.join(", "), quote(&temp))
    }

    /// Fetch the peers' rows of a table reference into a temp table; the
    /// arm that reads it.
    fn remote(
        &mut self,
        def: &Arc<TableDef>,
        filter: Option<String>,
        peers: Vec<String>,
    ) -> String {
        let temp = format!("_mosaic_remote_{}", self.plan.remotes.len() + 1);
        let cols: Vec<String> = def.columns.iter().map(|c| quote(&c.name)).collect();
        // Rows this node tombstoned (its own transaction's, or not yet
        // delivered to their node) are skipped here.
        let arm = format!(
            "SELECT {} FROM temp.{} AS _r WHERE NOT {}",
            cols.iter()
                .map(|c| format!("_r.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            quote(&temp),
            crate::types::shard::is_tombstoned("_r._shard", "_r._rid")
        );
        self.plan
            .shape
            .push((ShardId(format!("remote {temp}")), true));
        self.plan.remotes.push(RemoteScan {
            temp,
            table: def.clone(),
            filter,
            peers,
        });
        arm
    }

    fn replace_in(
        &mut self,
        twj: &mut TableWithJoins,
        filter: Option<&Expr>,
        all: &[Occurrence],
        others: usize,
        next: &mut usize,
    ) -> Result<()> {
        self.replace_factor(&mut twj.relation, filter, all, others, next)?;
        for j in &mut twj.joins {
            self.replace_factor(&mut j.relation, filter, all, others, next)?;
        }
        Ok(())
    }

    fn replace_factor(
        &mut self,
        f: &mut TableFactor,
        filter: Option<&Expr>,
        all: &[Occurrence],
        others: usize,
        next: &mut usize,
    ) -> Result<()> {
        if let TableFactor::NestedJoin {
            table_with_joins, ..
        } = f
        {
            return self.replace_in(table_with_joins, filter, all, others, next);
        }
        if self.user_table(f).is_some() {
            let i = *next;
            *next += 1;
            if let Some(occ) = all.get(i) {
                self.source_for(f, occ, filter, all, others)?;
            }
        }
        Ok(())
    }

    fn select(&mut self, select: &mut Select) -> Result<()> {
        let mut occs = Vec::new();
        let mut others = 0;
        for twj in &select.from {
            self.collect(twj, &mut occs, &mut others);
        }
        if occs.is_empty() {
            return Ok(());
        }
        let filter = select.selection.clone();
        let mut next = 0;
        let mut from = std::mem::take(&mut select.from);
        let r = from
            .iter_mut()
            .try_for_each(|twj| self.replace_in(twj, filter.as_ref(), &occs, others, &mut next));
        select.from = from;
        r
    }
}

/// Replace a table reference with the union of its source arms, under
/// the name the query calls it by.
fn replace_with_union(factor: &mut TableFactor, qualifier: &str, arms: &[String]) -> Result<()> {
    let alias = match factor {
        TableFactor::Table { alias: Some(a), .. } => a.clone(),
        _ => TableAlias {
            explicit: true,
            name: Ident::new(qualifier.to_string()),
            columns: vec![],
            at: None,
        },
    };
    let sql = arms.join(" UNION ALL ");
    let mut parsed = crate::sql::parse(&sql)?;
    let Some(sqlparser::ast::Statement::Query(subquery)) = parsed.pop() else {
        return Err(Error::Internal("source did not parse as a query".into()));
    };
    *factor = TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias),
        sample: None,
    };
    Ok(())
}

/// Column references of a query over the one table `def`, which the query
/// calls `qualifier`: `qualifier.col` or a bare `col`.
pub fn column_resolver<'a>(
    def: &'a TableDef,
    qualifier: &'a str,
) -> impl Fn(&[Ident]) -> Option<usize> + 'a {
    move |parts: &[Ident]| match parts {
        [q, c] if ident_name(q) == qualifier => def.column_index(&ident_name(c)),
        [c] => def.column_index(&ident_name(c)),
        _ => None,
    }
}

/// The part of `filter` that a peer can evaluate on its own rows of one
/// table: the conjuncts whose every column resolves to that table
/// (`resolve`) and that are built only from columns, constants,
/// parameters, operators and a few pure functions, ANDed, as PostgreSQL
/// SQL over the bare table (qualifiers dropped). `None` when nothing can
/// be pushed down.
pub fn pushdown_filter(
    filter: Option<&Expr>,
    resolve: &dyn Fn(&[Ident]) -> Option<usize>,
) -> Option<String> {
    let mut conjuncts = Vec::new();
    split_and(filter?, &mut conjuncts);
    let pushed: Vec<String> = conjuncts
        .into_iter()
        .filter(|e| pushable(e, resolve))
        .map(|e| {
            let mut e = e.clone();
            let _ = sqlparser::ast::visit_expressions_mut(&mut e, |x| {
                if let Expr::CompoundIdentifier(parts) = x {
                    if let Some(last) = parts.last() {
                        *x = Expr::Identifier(last.clone());
                    }
                }
                ControlFlow::<()>::Continue(())
            });
            format!("({e})")
        })
        .collect();
    (!pushed.is_empty()).then(|| pushed.join(" AND "))
}

fn split_and<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: sqlparser::ast::BinaryOperator::And,
            right,
        } => {
            split_and(left, out);
            split_and(right, out);
        }
        Expr::Nested(inner) => split_and(inner, out),
        other => out.push(other),
    }
}

fn pushable(e: &Expr, resolve: &dyn Fn(&[Ident]) -> Option<usize>) -> bool {
    const PURE: &[&str] = &[
        "lower",
        "upper",
        "abs",
        "length",
        "coalesce",
        "substr",
        "substring",
        "trim",
        "pg_numeric_cmp",
        "pg_numeric_in",
        "pg_numeric_distinct",
        "pg_numeric_add",
        "pg_numeric_sub",
        "pg_numeric_mul",
        "pg_numeric_div",
        "pg_numeric_mod",
        "pg_numeric_neg",
        "pg_numeric_abs",
        "pg_numeric_cast",
    ];
    let ok = |x: &Expr| pushable(x, resolve);
    match e {
        Expr::Identifier(i) => resolve(std::slice::from_ref(i)).is_some(),
        Expr::CompoundIdentifier(parts) => resolve(parts).is_some(),
        Expr::Value(_) | Expr::TypedString { .. } => true,
        Expr::Nested(x) | Expr::UnaryOp { expr: x, .. } => ok(x),
        Expr::IsNull(x) | Expr::IsNotNull(x) | Expr::IsTrue(x) | Expr::IsFalse(x) => ok(x),
        Expr::Cast { expr, .. } => ok(expr),
        Expr::BinaryOp { left, right, .. } => ok(left) && ok(right),
        Expr::In {
            expr,
            target: sqlparser::ast::InTarget::List(list),
            ..
        } => ok(expr) && list.iter().all(ok),
        Expr::Between {
            expr, low, high, ..
        } => ok(expr) && ok(low) && ok(high),
        Expr::Like {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            expr,
            pattern,
            escape_char,
            ..
        } => ok(expr) && ok(pattern) && escape_char.is_none(),
        Expr::Function(f) => {
            let name = object_name(&f.name);
            PURE.contains(&name.as_str())
                && f.filter.is_none()
                && f.over.is_none()
                && match &f.args {
                    sqlparser::ast::FunctionArguments::List(l) => {
                        l.duplicate_treatment.is_none()
                            && l.clauses.is_empty()
                            && l.args.iter().all(|a| match a {
                                sqlparser::ast::FunctionArg::Unnamed(
                                    sqlparser::ast::FunctionArgExpr::Expr(x),
                                ) => ok(x),
                                _ => false,
                            })
                    }
                    _ => false,
                }
        }
        _ => false,
    }
}

impl VisitorMut for Planner<'_> {
    type Break = Error;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Error> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(ident_name(&cte.alias.name));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<Error> {
        match self.select(select) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}
