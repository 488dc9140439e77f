//! Writes: INSERT, UPDATE and DELETE over a table's open segment and its
//! sealed shards, in the session's transaction.
//!
//! New rows always go to the node's open segment. Rows of the open segment
//! are updated and deleted in place. A sealed shard is never rewritten:
//! its matching rows are tombstoned (and, for UPDATE, their new versions
//! inserted into the open segment). Every row a statement writes carries
//! the statement's version, which is how the uniqueness check finds them:
//! SQLite's unique indexes cover the open segment, and the check below
//! covers the sealed shards, probing only those the bloom filters and zone
//! maps cannot exclude. RETURNING rows are held back until the statement
//! has passed every check.

use sqlparser::ast::{
    AssignmentTarget, Expr, FromTable, ObjectName, SelectItem, Statement, TableFactor, TableObject,
};

use crate::error::{Error, Result};
use crate::exec::query::compile;
use crate::exec::{Outcome, Prepared, RowSink, Session};
use crate::plan;
use crate::sql::{ident_name, object_name};
use crate::types::quote;
use crate::types::table::TableDef;
use crate::types::Datum;

mod cascade;
pub(crate) use unique::{check_unique, duplicate_key, name_violated_key};
pub(crate) mod foreign;
mod general;
mod generated;
mod own_reads;
mod unique;
pub(crate) mod unsettled;
mod upsert;

pub fn run(
    sess: &mut Session,
    stmt: Statement,
    p: &Prepared,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Outcome> {
    let mut held = Vec::new();
    let returning = !p.columns.is_empty();
    let (_, count, tag) = {
        let mut hold = |row: Vec<Datum>| {
            held.push(row);
            Ok(())
        };
        write_statement(sess, stmt, params, &mut hold)?
    };
    if returning {
        let n = held.len();
        for row in held {
            sink(row)?;
        }
        Ok(Outcome::Rows { count: n })
    } else {
        Ok(Outcome::Command(format!("{tag} {count}")))
    }
}

/// One INSERT, UPDATE or DELETE and everything it answers for: unique
/// keys across shards and nodes, and FOREIGN KEYs on both sides (whose
/// actions run further statements through here).
pub(crate) fn write_statement(
    sess: &mut Session,
    mut stmt: Statement,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<WriteResult> {
    unsettled::record_old_keys(sess, &stmt, params)?;
    let captured = foreign::capture(sess, &stmt, params)?;
    let copy = own_reads::read_from_copy(sess, &mut stmt)?;
    let r = match stmt {
        Statement::Insert(_) => insert(sess, stmt, params, sink),
        Statement::Update(_) => update(sess, stmt, params, sink),
        Statement::Delete(_) => delete(sess, stmt, params, sink),
        _ => return Err(Error::Internal("not a write".into())),
    };
    own_reads::drop_copy(sess, copy)?;
    let r = r.map_err(|e| name_violated_key(sess, e))?;
    if let Some(def) = &r.0 {
        check_unique(sess, def, params)?;
        foreign::check_references(sess, def)?;
        if let Some(c) = captured {
            foreign::after_parent_write(sess, def, c)?;
        }
        sess.note_write(&def.name);
    }
    Ok(r)
}

fn table_def(sess: &Session, name: &ObjectName) -> Result<std::sync::Arc<TableDef>> {
    let n = object_name(name);
    sess.catalog().table(&n).ok_or(Error::NoSuchTable(n))
}

/// Execute compiled SQLite SQL; rows (RETURNING) go to `sink`, the count
/// is rows returned or rows changed.
fn execute(
    sess: &Session,
    sql: &str,
    params: &[Datum],
    returning: bool,
    sink: &mut RowSink,
) -> Result<usize> {
    if returning {
        sess.conn.query(sql, params, sink)
    } else {
        sess.conn.execute(sql, params)
    }
}

type WriteResult = (Option<std::sync::Arc<TableDef>>, usize, &'static str);

fn insert(
    sess: &mut Session,
    mut stmt: Statement,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<WriteResult> {
    let Statement::Insert(ins) = &mut stmt else {
        unreachable!("checked by caller")
    };
    let TableObject::TableName(name) = &ins.table else {
        return Err(Error::Unsupported("INSERT into a table function".into()));
    };
    let def = table_def(sess, name)?;
    let target = match &ins.table_alias {
        Some(a) => ident_name(&a.alias),
        None => def.name.clone(),
    };
    expand_returning(&mut ins.returning, &def, &target);
    if ins.source.is_none() && ins.columns.is_empty() && ins.assignments.is_empty() {
        ins.source = Some(default_values(&def)?);
    }
    // The open segment has hidden columns first: name the user's columns
    // (as many as the VALUES rows supply; the rest take their defaults).
    if ins.columns.is_empty() {
        let width = ins
            .source
            .as_deref()
            .and_then(|q| crate::sql::source_width(&q.body))
            .unwrap_or(def.columns.len());
        if width > def.columns.len() {
            return Err(Error::Syntax(
                "INSERT has more expressions than target columns".into(),
            ));
        }
        ins.columns = def.columns[..width]
            .iter()
            .map(|c| ObjectName::from(vec![sqlparser::ast::Ident::with_quote('"', c.name.clone())]))
            .collect();
    }
    for c in &ins.columns {
        let name =
            c.0.last()
                .and_then(|p| p.as_ident())
                .map(ident_name)
                .unwrap_or_default();
        if def.column_index(&name).is_none() {
            return Err(Error::NoSuchColumn(format!(
                "{name}\" of relation \"{}",
                def.name
            )));
        }
    }
    let returning = ins.returning.is_some();
    generated::leave_out(ins, &def);
    fill_defaults(ins, &def)?;
    if ins.on.is_some() {
        upsert::mark_updated_rows(ins)?;
        upsert::pull_conflicting_rows(sess, &mut stmt, &def, params)?;
        // SQLite reads `INSERT … SELECT … FROM t ON CONFLICT` as a join
        // constraint unless the SELECT has a WHERE clause.
        if let Statement::Insert(ins) = &mut stmt {
            if let Some(sqlparser::ast::SetExpr::Select(sel)) =
                ins.source.as_deref_mut().map(|q| q.body.as_mut())
            {
                if sel.selection.is_none() && !sel.from.is_empty() {
                    sel.selection = Some(crate::sql::parse_expr("true")?);
                }
            }
        }
    }
    let (sql, _) = compile(sess, stmt, params)?;
    let n = execute(sess, &sql, params, returning, sink)?;
    Ok((Some(def), n, "INSERT 0"))
}

/// `INSERT … DEFAULT VALUES` as the row `VALUES (DEFAULT, …)`, one
/// `DEFAULT` per column, which [`fill_defaults`] then fills.
fn default_values(def: &TableDef) -> Result<Box<sqlparser::ast::Query>> {
    let row = vec!["DEFAULT"; def.columns.len()].join(", ");
    match crate::sql::parse(&format!("VALUES ({row})"))?.pop() {
        Some(Statement::Query(q)) => Ok(q),
        _ => Err(Error::Internal("VALUES did not parse as a query".into())),
    }
}

/// Replace `DEFAULT` in VALUES rows (SQLite has no such expression) by
/// the column's default.
fn fill_defaults(ins: &mut sqlparser::ast::Insert, def: &TableDef) -> Result<()> {
    let Some(src) = ins.source.as_mut() else {
        return Ok(());
    };
    let sqlparser::ast::SetExpr::Values(values) = src.body.as_mut() else {
        return Ok(());
    };
    let targets: Vec<Option<usize>> = ins
        .columns
        .iter()
        .map(|c| {
            c.0.last()
                .and_then(|p| p.as_ident())
                .and_then(|i| def.column_index(&ident_name(i)))
        })
        .collect();
    for row in &mut values.rows {
        for (i, e) in row.iter_mut().enumerate() {
            if !crate::sql::is_default_keyword(e) {
                continue;
            }
            let col = targets.get(i).copied().flatten().map(|c| &def.columns[c]);
            *e = default_value(col)?;
        }
    }
    Ok(())
}

/// A column's default as an expression SQLite runs (NULL when it has none).
pub(crate) fn default_value(col: Option<&crate::types::table::Column>) -> Result<Expr> {
    Ok(match col.and_then(|c| c.effective_default()) {
        None => crate::sql::parse_expr("NULL")?,
        Some(d) => match crate::types::table::sequence_name(d) {
            Some(seq) => {
                crate::sql::parse_expr(&format!("mosaic_nextval('{}')", seq.replace('\'', "''")))?
            }
            None => match col {
                Some(c) => crate::sql::infer::typed_default(d, &c.ty)?,
                None => crate::sql::parse_expr(d)?,
            },
        },
    })
}

/// The alias a write statement gives its target table (or its name).
fn target_alias(factor: &TableFactor, def: &TableDef) -> String {
    match factor {
        TableFactor::Table { alias: Some(a), .. } => ident_name(&a.name),
        _ => def.name.clone(),
    }
}

/// Spell out `*` and `t.*` in a RETURNING list: the open segment has
/// hidden columns a wildcard would expose. A column qualified with the
/// target's alias or name (`t.id`) loses the qualifier, which SQLite's
/// RETURNING does not know.
fn expand_returning(items: &mut Option<Vec<SelectItem>>, def: &TableDef, alias: &str) {
    use sqlparser::ast::VisitMut;
    let Some(list) = items else { return };
    let mut out = Vec::with_capacity(list.len());
    for item in list.drain(..) {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                for c in &def.columns {
                    out.push(SelectItem::UnnamedExpr(Expr::Identifier(
                        sqlparser::ast::Ident::with_quote('"', c.name.clone()),
                    )));
                }
            }
            other => out.push(other),
        }
    }
    let _ = out.visit(&mut Unqualify {
        alias,
        table: &def.name,
    });
    *list = out;
}

/// `alias.col` (or `table.col`) as `col`.
struct Unqualify<'a> {
    alias: &'a str,
    table: &'a str,
}

impl sqlparser::ast::VisitorMut for Unqualify<'_> {
    type Break = ();
    fn post_visit_expr(&mut self, e: &mut Expr) -> std::ops::ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = e {
            if let [q, col] = parts.as_slice() {
                let q = ident_name(q);
                if q == self.alias || q == self.table {
                    *e = Expr::Identifier(col.clone());
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

fn returning_list(items: &Option<Vec<SelectItem>>) -> Option<String> {
    items.as_ref().map(|items| {
        items
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// Collect into temp._mosaic_rids the live rows of one shard matching `cond`.
fn mark_rows(
    sess: &mut Session,
    src: &str,
    alias: &str,
    cond: Option<&Expr>,
    params: &[Datum],
) -> Result<usize> {
    sess.conn.batch("DELETE FROM temp._mosaic_rids")?;
    let sql = format!(
        "INSERT INTO temp._mosaic_rids SELECT _rid FROM ({src}) AS {}{}",
        quote(alias),
        cond.map(|c| format!(" WHERE {c}")).unwrap_or_default()
    );
    let stmt = crate::sql::parse(&sql)?
        .pop()
        .ok_or_else(|| Error::Internal("empty statement".into()))?;
    let (sql, _) = compile(sess, stmt, params)?;
    execute(sess, &sql, params, false, &mut |_| Ok(()))
}

/// Where the sealed rows an UPDATE/DELETE may change live.
enum SealedTarget {
    Local(crate::types::shard::ShardId),
    Remote(crate::exec::remote::RemoteShard),
}

/// One sealed source of the target table.
struct SealedSource {
    /// Reads its live rows, `_rid` first: the shard's tombstones gathered,
    /// or looked up row by row where the statement's condition reads
    /// through an index (`plan::prune::keyed`).
    sql: String,
    /// The same, tombstones looked up row by row: what reads the rows
    /// marked in temp._mosaic_rids, few or many.
    marked: String,
    target: SealedTarget,
}

impl SealedSource {
    fn new(sql: String, shard: &str, keyed: bool, target: SealedTarget) -> SealedSource {
        let marked = crate::types::shard::probe_per_row(&sql, shard);
        SealedSource {
            sql: if keyed { marked.clone() } else { sql },
            marked,
            target,
        }
    }

    /// Tombstone the rows in temp._mosaic_rids.
    fn tombstone_marked(&self, sess: &Session, def: &TableDef) -> Result<()> {
        match &self.target {
            SealedTarget::Local(id) => {
                crate::exec::remote::tombstone_rows(sess, def, &id.0, &self.marked, None)
                    .map(|_| ())
            }
            SealedTarget::Remote(r) => crate::exec::remote::tombstone_remote(sess, def, r),
        }
    }
}

/// The sealed rows `cond` may match: this node's candidate shards, then
/// other nodes' shards (their rows fetched with the conjuncts of `cond`
/// that can be pushed down).
fn sealed_sources(
    sess: &mut Session,
    def: &std::sync::Arc<TableDef>,
    alias: &str,
    cond: Option<&Expr>,
    params: &[Datum],
) -> Result<Vec<SealedSource>> {
    let mut out = Vec::new();
    let resolve = plan::column_resolver(def, alias);
    let keyed = cond.is_some_and(|c| plan::prune::keyed(def, c, &resolve));
    for (s, meta) in candidate_shards(sess, def, alias, cond, params)? {
        let sql = crate::store::shard::source(def, &meta, s.tombstones, true)?;
        out.push(SealedSource::new(
            sql,
            &s.id.0,
            keyed,
            SealedTarget::Local(s.id.clone()),
        ));
    }
    if sess.peers_hold(def) {
        let filter = plan::pushdown_filter(cond, &resolve);
        for r in crate::exec::remote::remote_shards(sess, def, filter, params)? {
            let sql = crate::exec::remote::remote_shard_source(def, &r);
            let shard = r.shard.clone();
            out.push(SealedSource::new(
                sql,
                &shard,
                keyed,
                SealedTarget::Remote(r),
            ));
        }
    }
    Ok(out)
}

/// The live shards of `def` that may hold rows matching `cond`.
fn candidate_shards(
    sess: &Session,
    def: &TableDef,
    alias: &str,
    cond: Option<&Expr>,
    params: &[Datum],
) -> Result<
    Vec<(
        crate::types::shard::LiveShard,
        std::sync::Arc<crate::types::shard::ShardMeta>,
    )>,
> {
    let shards = crate::exec::sources::live_shards(sess, def)?;
    let scan = plan::prune_shards(
        shards.iter().map(|(s, m)| (s, &**m)),
        def,
        cond,
        &plan::column_resolver(def, alias),
        params,
        false,
    );
    crate::exec::query::count_shards(sess, [&scan]);
    Ok(shards
        .into_iter()
        .filter(|(s, _)| scan.kept.contains(&s.id))
        .collect())
}

fn update(
    sess: &mut Session,
    mut stmt: Statement,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<WriteResult> {
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.catalog(), sess.zone())?;
    let Statement::Update(up) = &mut stmt else {
        unreachable!("checked by caller")
    };
    if up.from.is_some() {
        return Err(Error::Internal(
            "UPDATE … FROM reached the write path (sql::joined_writes expands it)".into(),
        ));
    }
    let TableFactor::Table { name, .. } = &up.table.relation else {
        return Err(Error::Unsupported("UPDATE of a derived table".into()));
    };
    let def = table_def(sess, name)?;
    let alias = target_alias(&up.table.relation, &def);
    expand_returning(&mut up.returning, &def, &alias);
    let cond = up.selection.clone();
    let returning = returning_list(&up.returning);
    let mut assigned: Vec<(usize, Expr)> = Vec::new();
    for a in &up.assignments {
        let AssignmentTarget::ColumnName(col) = &a.target else {
            return Err(Error::Unsupported("UPDATE of a column tuple".into()));
        };
        let col = col
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(ident_name)
            .unwrap_or_default();
        let idx = def
            .column_index(&col)
            .ok_or_else(|| Error::NoSuchColumn(format!("{col}\" of relation \"{}", def.name)))?;
        assigned.push((idx, a.value.clone()));
    }
    // SET g = DEFAULT of a generated column: SQLite computes it anyway
    // (validation refused any other value).
    let kept: Vec<bool> = assigned
        .iter()
        .map(|(i, _)| def.columns[*i].generated.is_none())
        .collect();
    let mut keep = kept.iter();
    up.assignments
        .retain(|_| keep.next().copied().unwrap_or(true));
    let mut keep = kept.iter();
    assigned.retain(|_| keep.next().copied().unwrap_or(true));
    // SET c = DEFAULT: the column's default, as an INSERT would write it.
    for (a, (idx, value)) in up.assignments.iter_mut().zip(assigned.iter_mut()) {
        if crate::sql::is_default_keyword(&a.value) {
            a.value = default_value(def.columns.get(*idx))?;
            *value = a.value.clone();
        }
    }
    // The open segment, in place; the row version marks the rows touched.
    up.assignments.push(sqlparser::ast::Assignment {
        target: AssignmentTarget::ColumnName(ObjectName::from(vec![sqlparser::ast::Ident::new(
            "_ver",
        )])),
        value: crate::sql::parse_expr("mosaic_hlc()")?,
    });
    let (sql, _) = compile(sess, stmt.clone(), params)?;
    let mut count = execute(sess, &sql, params, returning.is_some(), sink)?;
    // Sealed shards, here and on other nodes: tombstone the matching
    // rows, insert their new versions.
    for source in sealed_sources(sess, &def, &alias, cond.as_ref(), params)? {
        let src = source.sql.clone();
        if let SealedTarget::Local(id) = &source.target {
            sess.attach(std::slice::from_ref(id))?;
        }
        let n = mark_rows(sess, &src, &alias, cond.as_ref(), params)?;
        if n == 0 {
            continue;
        }
        // A generated column is computed for the new version.
        let stored = || {
            def.columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.generated.is_none())
        };
        let cols: Vec<String> = stored().map(|(_, c)| quote(&c.name)).collect();
        let values: Vec<String> = stored()
            .map(
                |(i, c)| match assigned.iter().rev().find(|(j, _)| *j == i) {
                    Some((_, e)) => e.to_string(),
                    None => format!("{}.{}", quote(&alias), quote(&c.name)),
                },
            )
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM ({}) AS {} WHERE _rid IN (SELECT rid FROM temp._mosaic_rids){}",
            quote(&def.name),
            cols.join(", "),
            values.join(", "),
            source.marked,
            quote(&alias),
            returning.as_ref().map(|r| format!(" RETURNING {r}")).unwrap_or_default()
        );
        let stmt = crate::sql::parse(&sql)?
            .pop()
            .ok_or_else(|| Error::Internal("empty statement".into()))?;
        let (sql, _) = compile(sess, stmt, params)?;
        let got = execute(sess, &sql, params, returning.is_some(), sink)?;
        if returning.is_some() {
            count += got;
        } else {
            count += n;
        }
        source.tombstone_marked(sess, &def)?;
    }
    Ok((Some(def), count, "UPDATE"))
}

fn delete(
    sess: &mut Session,
    mut stmt: Statement,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<WriteResult> {
    crate::sql::coerce::coerce_literals(&mut stmt, &sess.catalog(), sess.zone())?;
    let Statement::Delete(del) = &stmt else {
        unreachable!("checked by caller")
    };
    if del.using.is_some() {
        return Err(Error::Internal(
            "DELETE … USING reached the write path (sql::joined_writes expands it)".into(),
        ));
    }
    let tables = match &del.from {
        FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
    };
    let [twj] = tables.as_slice() else {
        return Err(Error::Unsupported("DELETE from several tables".into()));
    };
    let TableFactor::Table { name, .. } = &twj.relation else {
        return Err(Error::Unsupported("DELETE from a derived table".into()));
    };
    let def = table_def(sess, name)?;
    let alias = target_alias(&twj.relation, &def);
    let cond = del.selection.clone();
    if let Statement::Delete(del) = &mut stmt {
        expand_returning(&mut del.returning, &def, &alias);
    }
    let returning = match &stmt {
        Statement::Delete(del) => returning_list(&del.returning),
        _ => None,
    };
    let (sql, _) = compile(sess, stmt.clone(), params)?;
    let mut count = execute(sess, &sql, params, returning.is_some(), sink)?;
    for source in sealed_sources(sess, &def, &alias, cond.as_ref(), params)? {
        let src = source.sql.clone();
        if let SealedTarget::Local(id) = &source.target {
            sess.attach(std::slice::from_ref(id))?;
        }
        let n = mark_rows(sess, &src, &alias, cond.as_ref(), params)?;
        if n == 0 {
            continue;
        }
        if let Some(r) = &returning {
            let sql = format!(
                "SELECT {r} FROM ({}) AS {} WHERE _rid IN (SELECT rid FROM temp._mosaic_rids)",
                source.marked,
                quote(&alias)
            );
            let stmt = crate::sql::parse(&sql)?
                .pop()
                .ok_or_else(|| Error::Internal("empty statement".into()))?;
            let (sql, _) = compile(sess, stmt, params)?;
            sess.conn.query(&sql, params, sink)?;
        }
        count += n;
        source.tombstone_marked(sess, &def)?;
    }
    Ok((Some(def), count, "DELETE"))
}

/// Tombstone every row of the copies of other nodes' shards of `def` this
/// statement reads here, in this node's transaction (TRUNCATE inside a
/// block; the holders hear of it after COMMIT).
pub(crate) fn delete_copied_rows(sess: &mut Session, def: &std::sync::Arc<TableDef>) -> Result<()> {
    let shards = crate::exec::sources::live_shards(sess, def)?;
    for (s, meta) in shards.iter().filter(|(s, _)| s.home.is_some()) {
        sess.attach(std::slice::from_ref(&s.id))?;
        let src = crate::store::shard::source(def, meta, s.tombstones, true)?;
        sess.conn
            .batch(&format!(
                "DELETE FROM temp._mosaic_rids; INSERT OR IGNORE INTO temp._mosaic_rids SELECT _rid FROM ({src});"
            ))?;
        crate::exec::remote::tombstone_rows(sess, def, &s.id.0, &src, None)?;
    }
    Ok(())
}

/// Tombstone every row of `def` that other nodes hold, in this node's
/// transaction (TRUNCATE inside a block).
pub(crate) fn delete_remote_rows(sess: &mut Session, def: &std::sync::Arc<TableDef>) -> Result<()> {
    for r in crate::exec::remote::remote_shards(sess, def, None, &[])? {
        let src = crate::exec::remote::remote_shard_source(def, &r);
        sess.conn
            .batch(&format!(
                "DELETE FROM temp._mosaic_rids; INSERT OR IGNORE INTO temp._mosaic_rids SELECT _rid FROM ({src});"
            ))?;
        crate::exec::remote::tombstone_remote(sess, def, &r)?;
    }
    Ok(())
}

/// Before an UPDATE or DELETE takes this node's write lock, have the peers
/// seal the unsealed rows it may change (remote::seal_peers_first).
pub(crate) fn seal_peers_first(sess: &Session, stmt: &Statement, params: &[Datum]) -> Result<()> {
    let (factor, cond) = match stmt {
        Statement::Update(up) => (&up.table.relation, up.selection.as_ref()),
        Statement::Delete(del) => {
            let tables = match &del.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            match tables.as_slice() {
                [twj] => (&twj.relation, del.selection.as_ref()),
                _ => return Ok(()),
            }
        }
        _ => return Ok(()),
    };
    let TableFactor::Table { name, .. } = factor else {
        return Ok(());
    };
    let Ok(def) = table_def(sess, name) else {
        return Ok(());
    };
    if def.is_temp() {
        return Ok(());
    }
    let alias = target_alias(factor, &def);
    let filter = plan::pushdown_filter(cond, &plan::column_resolver(&def, &alias));
    crate::exec::remote::seal_peers_first(sess, &def.name, filter, params)
}
