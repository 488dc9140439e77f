//! Running a fragment/merge split (plan::fragment): the open segment's
//! fragment runs on the session connection (it must see the transaction's
//! own writes), each shard's fragment runs on a worker thread of its own
//! connection, in parallel, and the merge runs over their rows on the
//! session connection.
//!
//! Tombstones are read in the statement's transaction and handed to each
//! worker, so every fragment sees the same snapshot of the table.

use parking_lot::Mutex;
use sqlparser::ast::{Ident, SetExpr, Statement, TableAlias, TableFactor};

use crate::error::{Error, Result};
use crate::exec::{Outcome, RowSink, Session, Shared};
use crate::plan::fragment::Split;
use crate::plan::{self, Scan};
use crate::types::quote;
use crate::types::shard::ShardId;
use crate::types::Datum;
use std::sync::Arc;

/// Run `split` if the table has enough shards to gain from it; `None`
/// sends the caller to the gather path.
pub fn run(
    sess: &mut Session,
    split: &Split,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Option<Outcome>> {
    let Some(FragmentPlan { jobs, peers, .. }) = prepare(sess, split, params)? else {
        return Ok(None);
    };
    let width = split.columns.len();
    sess.conn.batch(&format!(
        "DROP TABLE IF EXISTS temp._mosaic_partials; CREATE TEMP TABLE _mosaic_partials ({});",
        split.columns.join(", ")
    ))?;
    // The open segment, on the session's own connection.
    let seg_sql = compile(sess, split, &plan::segment_source(&split.table, false))?;
    let started = std::time::Instant::now();
    let seg_rows = sess.conn.rows(&seg_sql, params)?;
    sess.analyzed(|| {
        format!(
            "open segment: {} rows in {}",
            seg_rows.len(),
            crate::exec::explain::millis(started.elapsed())
        )
    });
    let shard_rows = run_nearest_first(sess, split, jobs, params)?;
    let peer_rows = match peers {
        None => vec![],
        Some(peers) => crate::exec::remote::query(
            sess,
            std::slice::from_ref(&split.table.name),
            &peers,
            &split.fragment.to_string(),
            params,
        )?
        .into_rows(),
    };
    insert_rows(
        sess,
        "_mosaic_partials",
        width,
        seg_rows
            .iter()
            .chain(shard_rows.iter().flatten())
            .chain(peer_rows.iter()),
    )?;
    let mut merge = split.merge.clone();
    crate::sql::rewrite::to_sqlite(&mut merge)?;
    let count = sess.conn.query(&merge.to_string(), params, sink)?;
    Ok(Some(Outcome::Rows { count }))
}

/// Rows of one fragment.
type Rows = Vec<Vec<Datum>>;

/// A query over one shard, to run on a worker.
pub struct Job {
    pub id: ShardId,
    pub tombstones: Vec<i64>,
    pub sql: String,
    /// Its rows are read through the shard's R*Tree (EXPLAIN says so).
    pub rtree: bool,
    /// `sql` reads the nearest rows through the shard's vec0 index or
    /// R*Tree.
    pub nearest: Option<NearestJob>,
    /// Its rows may be kept for reuse, and found, under this key
    /// (`store::results`).
    pub keep: Option<crate::store::results::Key>,
}

/// A fragment through a shard's vec0 index or R*Tree (`plan::nearest`):
/// `sql` takes one more parameter (candidates, a radius), tried in turn
/// from `how.tries`; its rows are the answer once there are `how.keep` of
/// them, and `fallback` (the fragment over every row) is the answer
/// otherwise.
pub struct NearestJob {
    pub fallback: String,
    pub how: plan::nearest::Narrowing,
    /// `sql` with the candidates listed by the shard's vectors kept in
    /// memory (`how.memory`), when the node keeps them.
    pub memory_sql: Option<String>,
    /// The shard's rows, for the vectors' room in memory.
    pub rows: u64,
}

/// The tombstoned rows of a shard, as this transaction sees them.
pub fn tombstones(sess: &Session, id: &ShardId, count: i64) -> Result<Vec<i64>> {
    if count == 0 {
        return Ok(vec![]);
    }
    sess.conn.tombstones(id)
}

/// Copy the live rows of a gathered table reference's shards into its temp
/// table (plan::Gather), reading the shards in parallel.
pub fn gather(sess: &mut Session, g: &plan::Gather) -> Result<()> {
    let cols: Vec<String> = g.table.columns.iter().map(|c| quote(&c.name)).collect();
    sess.conn.batch(&format!(
        "DROP TABLE IF EXISTS temp.{t}; CREATE TEMP TABLE {t} ({});",
        crate::store::segment::typed_columns(&g.table).join(", "),
        t = quote(&g.temp)
    ))?;
    let mut jobs = Vec::with_capacity(g.shards.len());
    for (id, count, sql) in &g.shards {
        jobs.push(Job {
            id: id.clone(),
            tombstones: tombstones(sess, id, *count)?,
            sql: sql.clone(),
            rtree: false,
            nearest: None,
            keep: None,
        });
    }
    let rows = run_parallel(sess, jobs, &[])?;
    insert_rows(sess, &g.temp, cols.len(), rows.iter().flatten())
}

/// Insert rows of `width` values into `temp.<temp>`.
pub(crate) fn insert_rows<'a>(
    sess: &Session,
    temp: &str,
    width: usize,
    rows: impl IntoIterator<Item = &'a Vec<Datum>>,
) -> Result<()> {
    let insert = format!(
        "INSERT INTO temp.{} VALUES ({})",
        quote(temp),
        (1..=width)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut st = sess.conn.prepare(&insert)?;
    for row in rows {
        if row.len() != width {
            return Err(Error::Internal(format!(
                "{} values for {width} columns of temp.{temp}",
                row.len()
            )));
        }
        st.execute(row)?;
    }
    Ok(())
}

/// Prune the table's shards, compile a fragment per kept shard, and pick
/// the peers that may hold matching rows; `None` when fewer than two
/// shards remain and no peer is needed (the gather path is as good).
fn prepare(sess: &mut Session, split: &Split, params: &[Datum]) -> Result<Option<FragmentPlan>> {
    if sess.settings.get("mosaic.fragments").as_deref() == Some("off") {
        return Ok(None);
    }
    let def = split.table.clone();
    let shards = crate::exec::sources::live_shards(sess, &def)?;
    let resolve = plan::column_resolver(&def, &split.qualifier);
    let scan = plan::prune_shards(
        shards.iter().map(|(s, m)| (s, &**m)),
        &def,
        split.filter.as_ref(),
        &resolve,
        params,
        true,
    );
    let peers =
        crate::exec::remote::peers_for(sess, &def, split.filter.as_ref(), &resolve, params)?;
    // With peers to ask, the fragment/merge split is what lets them
    // aggregate their own rows; alone, it pays off only over two shards or
    // more.
    // A nearest-neighbour top-k reads even one shard through its vec0
    // index, which the gather path does not.
    let nearest_single = split.nearest.is_some() && scan.kept.len() == 1;
    if scan.kept.len() < 2 && peers.is_none() && !nearest_single {
        return Ok(None);
    }
    // Peers aggregate their rows with the tombstones and the definition
    // they know; while this node holds tombstones they do not have yet, or
    // this block altered the table, gather instead.
    if peers.as_ref().is_some_and(|p| !p.is_empty())
        && (sess.catalog().is_staged(&def.name)
            || crate::exec::remote::undelivered_tombstones(sess, &def.name)?)
    {
        return Ok(None);
    }
    // A down node's unsealed rows read from a copy go through the gather
    // path, which reads them beside the open segment.
    if sess.reads.reads_open_copies(&def.name) || !sess.reads.scope.open_of.is_empty() {
        return Ok(None);
    }
    let context = reuse_context(sess);
    let mut jobs = Vec::new();
    for (s, meta) in &shards {
        if !scan.kept.contains(&s.id) {
            continue;
        }
        let tombstones = tombstones(sess, &s.id, s.tombstones)?;
        // Through the shard's R*Tree where a spatial predicate allows.
        let narrow = split
            .filter
            .as_ref()
            .and_then(|f| plan::prune::rtree_condition(meta, &def, f, &resolve, params));
        let source = crate::store::shard::narrowed_source(
            &def,
            meta,
            s.tombstones,
            false,
            narrow.as_deref(),
        )?;
        // Nearest rows through the shard's vec0 index or R*Tree, proven or
        // read again whole (plan::nearest).
        let nearest = split
            .nearest
            .as_ref()
            .and_then(|n| n.narrowing(meta, &def, &resolve, params, params.len() + 1));
        let (sql, nearest) = match nearest {
            None => (compile(sess, split, &source)?, None),
            Some(n) => {
                let through = |with: Option<&str>, condition: &str| -> Result<String> {
                    let condition = match &narrow {
                        Some(r) => format!("{r} AND {condition}"),
                        None => condition.to_string(),
                    };
                    let source = crate::store::shard::narrowed_source(
                        &def,
                        meta,
                        s.tombstones,
                        false,
                        Some(&condition),
                    )?;
                    compile(
                        sess,
                        split,
                        &format!("{} {source}", with.unwrap_or_default()),
                    )
                };
                let memory_sql = match &n.memory {
                    Some(m) => Some(through(None, &m.condition)?),
                    None => None,
                };
                let job = NearestJob {
                    fallback: compile(sess, split, &source)?,
                    memory_sql,
                    rows: meta.row_count,
                    how: n,
                };
                let sql = match &job.how.condition {
                    Some(c) => through(job.how.with.as_deref(), c)?,
                    None => job.fallback.clone(),
                };
                (sql, Some(job))
            }
        };
        // A nearest-neighbour job's rows depend on the tries it made.
        let keep = context
            .as_ref()
            .filter(|_| nearest.is_none() && !crate::store::results::calls_sqlite_volatile(&sql))
            .map(|c| crate::store::results::key(&s.id, &tombstones, &sql, params, c));
        jobs.push(Job {
            id: s.id.clone(),
            tombstones,
            sql,
            rtree: narrow.is_some(),
            nearest,
            keep,
        });
    }
    crate::exec::query::count_shards(sess, [&scan]);
    Ok(Some(FragmentPlan { scan, jobs, peers }))
}

/// What a fragment's rows over a sealed shard depend on beyond the shard,
/// its tombstones, the SQL and the parameters (`store::results`): the
/// catalog's version (enum orders, definitions), the zone the functions
/// read and the session's settings. `None` when rows may be neither kept
/// nor reused: the node keeps none, the session turned it off, or its open
/// block changed the catalog (its definitions are its own, under a version
/// number other sessions share).
fn reuse_context(sess: &Session) -> Option<Vec<u8>> {
    if !sess.store.results.enabled()
        || sess.settings.get("mosaic.result_cache").as_deref() == Some("off")
        || !sess.staged.is_empty()
    {
        return None;
    }
    Some(
        format!(
            "{}\0{:?}\0{}",
            sess.store.catalog.version(),
            sess.zone(),
            sess.settings.fingerprint()
        )
        .into_bytes(),
    )
}

/// What `prepare` decided: the local shards kept, a fragment job per
/// shard, and the peers to ask (`None`: no other node is needed).
struct FragmentPlan {
    scan: Scan,
    jobs: Vec<Job>,
    peers: Option<Vec<String>>,
}

/// The fragment over one source, as SQLite SQL.
fn compile(sess: &Session, split: &Split, source: &str) -> Result<String> {
    let mut stmt = split.fragment.clone();
    let Some(Statement::Query(sub)) = crate::sql::parse(source)?.pop() else {
        return Err(Error::Internal("fragment source did not parse".into()));
    };
    if let Statement::Query(q) = &mut stmt {
        if let SetExpr::Select(sel) = q.body.as_mut() {
            if let Some(twj) = sel.from.first_mut() {
                twj.relation = TableFactor::Derived {
                    lateral: false,
                    subquery: sub,
                    alias: Some(TableAlias {
                        explicit: true,
                        name: Ident::with_quote('"', split.qualifier.clone()),
                        columns: vec![],
                        at: None,
                    }),
                    sample: None,
                };
            }
        }
    }
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.catalog(), sess.zone())?;
    crate::sql::rewrite::to_sqlite(&mut stmt)?;
    Ok(stmt.to_string())
}

/// One shard's fragment: rows kept from an earlier statement that asked
/// the same (`store::results`), or run on a connection of its own.
fn run_job(
    store: &crate::store::Store,
    job: &Job,
    params: &[Datum],
    session: &crate::store::udf::session::SessionFunctions,
    shared: &Arc<Shared>,
) -> Result<(Rows, Option<String>)> {
    use crate::store::results;
    let Some(key) = &job.keep else {
        return run_on_shard(store, job, params, session, shared);
    };
    if let Some(rows) = store.results.get(key) {
        metrics::counter!(crate::observe::RESULT_CACHE_HITS).increment(1);
        return Ok(((*rows).clone(), Some(KEPT.into())));
    }
    metrics::counter!(crate::observe::RESULT_CACHE_MISSES).increment(1);
    // Clear what an earlier job on this worker thread marked.
    results::take_outside();
    let (rows, how) = run_on_shard(store, job, params, session, shared)?;
    // Not kept when a function read the clock, chance or the session.
    if !results::take_outside() {
        store.results.put(*key, Arc::new(rows.clone()));
    }
    Ok((rows, how))
}

/// How EXPLAIN ANALYZE tells a shard's rows that were kept.
const KEPT: &str = "kept from an earlier statement";

/// One shard's fragment on a connection of its own.
fn run_on_shard(
    store: &crate::store::Store,
    job: &Job,
    params: &[Datum],
    session: &crate::store::udf::session::SessionFunctions,
    shared: &Arc<Shared>,
) -> Result<(Rows, Option<String>)> {
    let conn = store.scratch(session, &job.id, &job.tombstones)?;
    // A cancel or statement_timeout reaches this connection too.
    let _cancellable = shared.register(&conn);
    let Some(nearest) = &job.nearest else {
        return Ok((conn.rows(&job.sql, params)?, None));
    };
    let NearestJob { fallback, how, .. } = nearest;
    if let Some(answer) = through_memory(store, &conn, job, nearest, params)? {
        return Ok(answer);
    }
    if how.condition.is_none() {
        return Ok((conn.rows(fallback, params)?, None));
    }
    let mut with_try = params.to_vec();
    with_try.push(Datum::Null);
    for (value, what) in &how.tries {
        with_try[params.len()] = value.clone();
        let rows = conn.rows(&job.sql, &with_try)?;
        if rows.len() >= how.keep {
            return Ok((rows, Some(format!("through the {}, {what}", how.index))));
        }
    }
    let rows = conn.rows(fallback, params)?;
    let why = format!("the {} could not prove them: every row read", how.index);
    Ok((rows, Some(why)))
}

/// A nearest-neighbour fragment through the shard's vectors kept in memory
/// (`store::vectors`): each try's candidates listed by their exact
/// distances, then every row; `None` when the node does not keep them.
fn through_memory(
    store: &crate::store::Store,
    conn: &crate::store::Conn,
    job: &Job,
    nearest: &NearestJob,
    params: &[Datum],
) -> Result<Option<(Rows, Option<String>)>> {
    let (Some(sql), Some(m)) = (&nearest.memory_sql, &nearest.how.memory) else {
        return Ok(None);
    };
    let kept = store
        .vectors
        .of(conn, &job.id, &m.column, m.query.len(), nearest.rows)?;
    let Some(vectors) = kept else {
        return Ok(None);
    };
    let distances = vectors.distances(m.metric, &m.query);
    let mut with_list = params.to_vec();
    with_list.push(Datum::Null);
    for (value, _) in &nearest.how.tries {
        let Datum::Int(n) = value else { continue };
        let listed = vectors.proven(&distances, usize::try_from(*n).unwrap_or(0));
        let listed: Vec<String> = listed.iter().map(i64::to_string).collect();
        with_list[params.len()] = Datum::Text(format!("{{{}}}", listed.join(",")));
        let rows = conn.rows(sql, &with_list)?;
        if rows.len() >= nearest.how.keep {
            let how = format!("through the shard's vectors in memory, {n} candidates");
            return Ok(Some((rows, Some(how))));
        }
    }
    let rows = conn.rows(&nearest.fallback, params)?;
    let why = "the vectors in memory could not prove them: every row read";
    Ok(Some((rows, Some(why.into()))))
}

/// Run the shard fragments, nearest first where each shard's rows are
/// known to be no nearer than a bound (a nearest-neighbour top-k over
/// geometries: the distance to the shard's box): the shard with the least
/// bound runs first, and a shard whose bound exceeds the k-th distance it
/// found holds no row of the answer and is not read.
fn run_nearest_first(
    sess: &Session,
    split: &Split,
    mut jobs: Vec<Job>,
    params: &[Datum],
) -> Result<Vec<Rows>> {
    let bound = |j: &Job| j.nearest.as_ref().and_then(|n| n.how.bound);
    let key = split.first_sort_key();
    let keep = jobs
        .first()
        .and_then(|j| j.nearest.as_ref())
        .map(|n| n.how.keep);
    let (Some(key), Some(keep)) = (key, keep) else {
        return run_parallel(sess, jobs, params);
    };
    if jobs.len() < 2 || jobs.iter().any(|j| bound(j).is_none()) {
        return run_parallel(sess, jobs, params);
    }
    jobs.sort_by(|a, b| {
        bound(a)
            .partial_cmp(&bound(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let rest = jobs.split_off(1);
    let mut out = run_parallel(sess, jobs, params)?;
    let kth = out
        .first()
        .and_then(|rows| rows.get(keep - 1))
        .and_then(|r| match r.get(key) {
            Some(Datum::Real(d)) => Some(*d),
            Some(Datum::Int(i)) => Some(*i as f64),
            _ => None,
        });
    let rest: Vec<Job> = match kth {
        Some(d) => rest
            .into_iter()
            .filter(|j| {
                let far = bound(j).is_some_and(|b| b > d);
                if far {
                    sess.analyzed(|| {
                        format!(
                            "shard {}: not read, its box lies beyond the nearest {keep} rows found",
                            j.id
                        )
                    });
                }
                !far
            })
            .collect(),
        None => rest,
    };
    out.extend(run_parallel(sess, rest, params)?);
    Ok(out)
}

/// Run the shard fragments on up to one worker per core.
fn run_parallel(sess: &Session, jobs: Vec<Job>, params: &[Datum]) -> Result<Vec<Rows>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len())
        .max(1);
    let queue = Mutex::new(jobs.iter().enumerate().collect::<Vec<_>>());
    type Done = (usize, Result<(Rows, Option<String>)>, std::time::Duration);
    let results = Mutex::new(Vec::<Done>::new());
    let (store, functions, shared) = (&sess.store, &sess.functions, &sess.shared);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let (queue, results) = (&queue, &results);
            std::thread::Builder::new()
                .name("fragment".into())
                .stack_size(8 << 20)
                .spawn_scoped(scope, move || loop {
                    let Some((i, job)) = queue.lock().pop() else {
                        break;
                    };
                    let started = std::time::Instant::now();
                    let r = run_job(store, job, params, functions, shared);
                    let failed = r.is_err();
                    results.lock().push((i, r, started.elapsed()));
                    if failed {
                        queue.lock().clear();
                    }
                })
                .map_err(Error::internal)?;
        }
        Ok(())
    })?;
    let mut results = results.into_inner();
    results.sort_by_key(|(i, ..)| *i);
    for (i, r, took) in &results {
        if let (Some(job), Ok((rows, how))) = (jobs.get(*i), r) {
            sess.analyzed(|| {
                format!(
                    "shard {}: {} rows in {}{}",
                    job.id,
                    rows.len(),
                    crate::exec::explain::millis(*took),
                    how.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
                )
            });
        }
    }
    results
        .into_iter()
        .map(|(_, r, _)| r.map(|(rows, _)| rows))
        .collect()
}

/// The peers a query goes to, and the state of the others, for EXPLAIN.
pub fn peer_names(c: &crate::cluster::Cluster) -> String {
    let mut names: Vec<String> = c
        .members()
        .into_iter()
        .map(|(m, s)| match s {
            crate::cluster::membership::MemberState::Alive => m.name,
            other => format!("{} ({})", m.name, other.as_str()),
        })
        .collect();
    names.sort();
    names.join(", ")
}

/// EXPLAIN lines for a split, if it would be used.
pub fn explain(sess: &mut Session, split: &Split, params: &[Datum]) -> Result<Option<Vec<String>>> {
    let Some(FragmentPlan { scan, jobs, peers }) = prepare(sess, split, params)? else {
        return Ok(None);
    };
    let node = sess.store.node_name.clone();
    let mut lines = vec![format!(
        "Fragments ({}): open segment + {} of {} shards of {} on node {node}, in parallel ({} pruned)",
        split.kind,
        scan.kept.len(),
        scan.shards_total,
        split.table.name,
        scan.pruned.len()
    )];
    if let Some(c) = sess.cluster.as_ref().filter(|_| sess.has_peers()) {
        let peers = peers.unwrap_or_default();
        if peers.is_empty() {
            lines.push(format!(
                "Peers {}: none asked, their holdings of {} cannot match",
                peer_names(c),
                split.table.name
            ));
        } else {
            lines.push(format!(
                "Fragments on peers {}: each runs the fragment over its own open segment and shards: {}",
                peers.join(", "),
                split.fragment
            ));
        }
        lines.extend(crate::exec::remote::explain_copies(sess, &split.table.name));
    }
    for j in &jobs {
        let through = match (&j.nearest, j.rtree) {
            (Some(n), _) => format!(
                " (its nearest rows through the shard's {}, each checked by its exact distance; every row when they cannot be proven the nearest)",
                match (&n.memory_sql, &n.how.condition) {
                    (Some(_), Some(_)) => format!("vectors in memory or its {}", n.how.index),
                    (Some(_), None) => "vectors in memory".to_string(),
                    (None, _) => n.how.index.to_string(),
                }
            ),
            (None, true) => " (its rows through the shard's R*Tree)".into(),
            (None, false) => String::new(),
        };
        lines.push(format!("  fragment on shard {}{through}", j.id));
    }
    for (id, why) in &scan.pruned {
        lines.push(format!("  pruned shard {id}: {why}"));
    }
    lines.push(format!(
        "  fragment SQL: {}",
        compile(sess, split, &plan::segment_source(&split.table, false))?
    ));
    let mut merge = split.merge.clone();
    crate::sql::rewrite::to_sqlite(&mut merge)?;
    lines.push(format!("Merge on node {node}: {merge}"));
    Ok(Some(lines))
}
