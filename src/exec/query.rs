//! Reads: plan the sources, rewrite to SQLite, run, and stream the rows.

use std::sync::Arc;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr, Statement, Value,
};

use crate::error::Result;
use crate::exec::{system, Outcome, Prepared, RowSink, Session};
use crate::observe;
use crate::plan::fragment::Split;
use crate::plan::{self, ReadPlan};
use crate::types::Datum;

/// The functions MosaicDB runs itself rather than inside a query, with
/// how many arguments each takes.
const ADMIN_FUNCTIONS: [(&str, usize); 8] = [
    ("mosaic.seal", 1),
    ("mosaic.replicate", 1),
    ("mosaic.forget_node", 1),
    ("mosaic.backup_manifest", 0),
    ("mosaic.backup_chunk", 2),
    ("mosaic.restore_catalog", 1),
    ("mosaic.restore_chunk", 3),
    ("mosaic.restore_shard", 2),
];

/// An argument of an admin call: a literal, or a parameter bound later.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminArg {
    Text(String),
    Int(i64),
    /// `$n`, zero-based.
    Param(usize),
}

impl AdminArg {
    /// The argument's value, with `params` bound.
    pub fn value(&self, params: &[Datum]) -> Datum {
        match self {
            AdminArg::Text(t) => Datum::Text(t.clone()),
            AdminArg::Int(i) => Datum::Int(*i),
            AdminArg::Param(i) => params.get(*i).cloned().unwrap_or(Datum::Null),
        }
    }

    /// The argument's text, with `params` bound.
    pub fn resolve(&self, function: &str, params: &[Datum]) -> Result<String> {
        match self.value(params) {
            Datum::Text(t) => Ok(t),
            _ => Err(crate::error::Error::InvalidParameter(format!(
                "{function}() needs a non-null text argument"
            ))),
        }
    }
}

/// `SELECT mosaic.seal('t')` (or another of `ADMIN_FUNCTIONS`, with
/// literals or `$n` parameters, cast or not): the function and its
/// arguments. Such a function anywhere else in a statement is refused, as
/// it cannot run inside a query.
pub fn admin_call(stmt: &Statement) -> Result<Option<(String, Vec<AdminArg>)>> {
    if let Some(call) = sole_admin_call(stmt) {
        return Ok(Some(call));
    }
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(stmt, |e| {
        if let Expr::Function(f) = e {
            let name = crate::sql::object_name(&f.name);
            if let Some(known) = ADMIN_FUNCTIONS.iter().find(|(n, _)| *n == name) {
                found = Some(*known);
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    match found {
        Some((name, arity)) => Err(crate::error::Error::Unsupported(format!(
            "{name}() other than alone in SELECT {name}(…), with {arity} literal or parameter argument(s)"
        ))),
        None => Ok(None),
    }
}

fn sole_admin_call(stmt: &Statement) -> Option<(String, Vec<AdminArg>)> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    if !s.from.is_empty() || s.projection.len() != 1 || s.selection.is_some() {
        return None;
    }
    let expr = match &s.projection[0] {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return None,
    };
    let Expr::Function(f) = expr else { return None };
    let name = crate::sql::object_name(&f.name);
    let (_, arity) = ADMIN_FUNCTIONS.iter().find(|(n, _)| *n == name)?;
    let args: &[FunctionArg] = match &f.args {
        FunctionArguments::List(list) => &list.args,
        FunctionArguments::None => &[],
        _ => return None,
    };
    if args.len() != *arity {
        return None;
    }
    let args = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(arg)) => admin_arg(arg),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((name, args))
}

fn admin_arg(mut arg: &Expr) -> Option<AdminArg> {
    while let Expr::Cast { expr, .. } = arg {
        arg = expr;
    }
    let Expr::Value(v) = arg else { return None };
    match &v.value {
        Value::SingleQuotedString(t) => Some(AdminArg::Text(t.clone())),
        Value::Number(n, _) => n.parse().ok().map(AdminArg::Int),
        Value::Placeholder(p) => {
            let n = p.strip_prefix('$')?.parse::<usize>().ok()?;
            Some(AdminArg::Param(n.checked_sub(1)?))
        }
        _ => None,
    }
}

/// Plan `stmt`'s reads, attach what it needs and rewrite it to SQLite SQL.
pub fn compile(
    sess: &mut Session,
    mut stmt: Statement,
    params: &[Datum],
) -> Result<(String, ReadPlan)> {
    system::materialize(sess, &mut stmt)?;
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.catalog(), sess.zone())?;
    let snapshot = crate::exec::sources::snapshot(sess, &stmt, true)?;
    let plan = plan::plan_reads(&mut stmt, &snapshot, params)?;
    count_shards(sess, &plan.scans);
    sess.attach(&plan.attach)?;
    for g in &plan.gathers {
        crate::exec::fragment::gather(sess, g)?;
    }
    for r in &plan.remotes {
        crate::exec::remote::fill(sess, r, params)?;
    }
    crate::sql::rewrite::to_sqlite(&mut stmt)?;
    Ok((stmt.to_string(), plan))
}

/// The shard metrics of the scans a statement runs: shards read (those
/// that are copies the edge cache keeps are edge-cache hits; replicas
/// placement asks of this node are not), and shards skipped by their
/// metadata.
pub(crate) fn count_shards<'a>(sess: &Session, scans: impl IntoIterator<Item = &'a plan::Scan>) {
    let (mut read, mut pruned, mut hits) = (0, 0, 0);
    let reads = &sess.reads;
    let cached = |id: &str| reads.scope.copies.contains_key(id) && reads.cached.contains(id);
    for s in scans {
        read += s.kept.len() as u64;
        pruned += s.pruned.len() as u64;
        hits += s.kept.iter().filter(|id| cached(&id.0)).count() as u64;
    }
    metrics::counter!(observe::SHARDS_READ).increment(read);
    metrics::counter!(observe::SHARDS_PRUNED).increment(pruned);
    metrics::counter!(observe::EDGE_CACHE_HITS).increment(hits);
}

/// What a session's prepared queries compiled to.
#[derive(Default)]
pub struct Compiled {
    /// SQLite SQL and the shards it attaches, by (statement, catalog
    /// version, plan shape).
    pub sql: std::collections::HashMap<u64, (String, Vec<crate::types::shard::ShardId>)>,
    /// Per statement, the sources its last run planned over, while the
    /// catalog and this connection's view of the manifest stay the same:
    /// a point select run again neither reads the manifest nor walks the
    /// statement for system relations.
    sources: std::collections::HashMap<u64, Sources>,
}

/// `Compiled::sources`: a statement's snapshot (`exec::sources::snapshot`,
/// shape only; `None` when it reads a system relation), with what it was
/// read under (catalog version, `Conn::manifest_version`).
struct Sources {
    under: (u64, (i64, u64)),
    snapshot: Option<Arc<plan::Snapshot>>,
}

/// The shape-only snapshot of `stmt`, `None` when it reads a system
/// relation; remembered per prepared statement (`Compiled::sources`)
/// while it cannot differ: same catalog, same manifest as this connection
/// sees it (inside the statement's read transaction), no shards of other
/// nodes in the statement's scope.
fn sources_cached(
    sess: &mut Session,
    stmt: &Statement,
    id: u64,
) -> Result<Option<Arc<plan::Snapshot>>> {
    const CAPACITY: usize = 512;
    let scope = &sess.reads.scope;
    let plain = scope.copies.is_empty() && scope.skip.is_empty() && scope.open_of.is_empty();
    let under = match sess.conn.manifest_version()? {
        Some(v) if plain => Some((sess.store.catalog.version(), v)),
        _ => None,
    };
    if let Some(kept) = sess.compiled.sources.get(&id) {
        if Some(kept.under) == under {
            return Ok(kept.snapshot.clone());
        }
    }
    let snapshot = match system::mentions_system_relation(stmt, &sess.catalog()) {
        true => None,
        false => Some(Arc::new(crate::exec::sources::snapshot(sess, stmt, false)?)),
    };
    if let Some(under) = under {
        let snapshot = snapshot.clone();
        remember(
            &mut sess.compiled.sources,
            CAPACITY,
            id,
            Sources { under, snapshot },
        );
    }
    Ok(snapshot)
}

/// `compile`, remembered per prepared statement: a prepared query run
/// again over the same shards (the shape of its plan) reuses its SQLite
/// SQL, and SQLite its prepared statement.
pub fn compile_cached(
    sess: &mut Session,
    mut stmt: Statement,
    id: u64,
    params: &[Datum],
) -> Result<String> {
    use std::hash::{Hash, Hasher};
    const CAPACITY: usize = 512;
    // Peers' rows are this run's data, like system relations: nothing to
    // cache, and no reason to plan twice. Nor for a statement run once.
    if id == crate::exec::ONE_SHOT || sess.has_peers() {
        return compile(sess, stmt, params).map(|(sql, _)| sql);
    }
    let Some(snapshot) = sources_cached(sess, &stmt, id)? else {
        return compile(sess, stmt, params).map(|(sql, _)| sql);
    };
    let shape = plan::plan_shape(&mut stmt, &snapshot, params)?;
    if !shape.gathers.is_empty() {
        return compile(sess, stmt, params).map(|(sql, _)| sql);
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // Literals of timestamptz are read in the session's zone.
    (id, sess.store.catalog.version(), &shape.shape, sess.zone()).hash(&mut h);
    let key = h.finish();
    if let Some((sql, attach)) = sess.compiled.sql.get(&key).cloned() {
        metrics::counter!(observe::FRAGMENT_CACHE_HITS).increment(1);
        count_shards(sess, &shape.scans);
        sess.attach(&attach)?;
        return Ok(sql);
    }
    metrics::counter!(observe::FRAGMENT_CACHE_MISSES).increment(1);
    let (sql, plan) = compile(sess, stmt, params)?;
    // Gathered rows are this run's data, not part of the compiled SQL.
    if !plan.gathers.is_empty() {
        return Ok(sql);
    }
    remember(
        &mut sess.compiled.sql,
        CAPACITY,
        key,
        (sql.clone(), plan.attach),
    );
    Ok(sql)
}

/// Insert into one of a session's bounded caches, emptying it first when
/// it holds `capacity` entries (a working set that large starts over).
pub(crate) fn remember<K: std::hash::Hash + Eq, V>(
    cache: &mut std::collections::HashMap<K, V>,
    capacity: usize,
    key: K,
    value: V,
) {
    if cache.len() >= capacity {
        cache.clear();
    }
    cache.insert(key, value);
}

/// Fragment splits of prepared queries (`plan::fragment::split`), by
/// statement and catalog version: the split depends on nothing else.
pub type Splits = std::collections::HashMap<(u64, u64), Option<Arc<Split>>>;

/// `plan::fragment::split` of `stmt`, remembered per prepared statement.
fn split_cached(sess: &mut Session, stmt: &Statement, id: u64) -> Option<Arc<Split>> {
    const CAPACITY: usize = 512;
    if id == crate::exec::ONE_SHOT {
        return crate::plan::fragment::split(stmt, &sess.catalog()).map(Arc::new);
    }
    let key = (id, sess.store.catalog.version());
    if let Some(split) = sess.splits.get(&key) {
        return split.clone();
    }
    let split = crate::plan::fragment::split(stmt, &sess.catalog()).map(Arc::new);
    remember(&mut sess.splits, CAPACITY, key, split.clone());
    split
}

pub fn run(
    sess: &mut Session,
    stmt: Statement,
    p: &Prepared,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Outcome> {
    // A temporary table is the session connection's own: no fragment of a
    // statement reading one may run elsewhere.
    let split = match sess.touches_temp(&stmt) {
        true => None,
        false => split_cached(sess, &stmt, p.id),
    };
    if let Some(split) = split {
        if let Some(outcome) = crate::exec::fragment::run(sess, &split, params, sink)? {
            return Ok(outcome);
        }
    }
    let sql = compile_cached(sess, stmt, p.id, params)?;
    let count = sess.conn.query(&sql, params, sink)?;
    Ok(Outcome::Rows { count })
}
