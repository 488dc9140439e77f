//! Running a statement whose WITH clause writes (`sql::with_writes`):
//! each data-modifying WITH query runs through the write path, in order,
//! and the main statement then reads the rows each returned, all one
//! statement.

use sqlparser::ast::{Query, Statement};

use super::{Kind, Outcome, Prepared, RowSink, Session};
use crate::error::{Error, Result};
use crate::sql::with_writes as w;
use crate::types::{Datum, PgType};

/// One data-modifying WITH query.
#[derive(Debug, Clone)]
struct Write {
    prepared: Prepared,
    /// Its place in the main statement's WITH list (`None`: the main
    /// statement does not read it; it runs all the same).
    cte: Option<usize>,
}

/// A statement with data-modifying WITH queries, prepared.
#[derive(Debug, Clone)]
pub struct WithWrites {
    writes: Vec<Write>,
    /// The main statement; the WITH queries `writes` fill are placeholders.
    main: Box<Query>,
    /// The parameter types, as the parts were prepared with them.
    params: Vec<PgType>,
    /// The command tag of the main statement's rows.
    pub tag: &'static str,
}

impl PartialEq for WithWrites {
    fn eq(&self, other: &WithWrites) -> bool {
        self.main == other.main
    }
}

impl WithWrites {
    /// The kind of its first data-modifying WITH query, as PostgreSQL names
    /// it in a read-only transaction's refusal.
    pub fn first_write(&self) -> &'static str {
        match self.writes.first().map(|x| &x.prepared.kind) {
            Some(Kind::Insert) => "INSERT",
            Some(Kind::Update) => "UPDATE",
            _ => "DELETE",
        }
    }
}

fn columns(p: &Prepared) -> Vec<(String, PgType)> {
    p.columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect()
}

/// Prepare `q`, a query whose WITH clause writes.
pub(super) fn prepare(
    catalog: &dyn crate::sql::Schema,
    q: &Query,
    declared: &[Option<PgType>],
) -> Result<Prepared> {
    let mut main = Box::new(q.clone());
    let names = w::cte_names(q);
    let mut writes = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let mut keep = Vec::new();
    let ctes = main
        .with
        .as_mut()
        .map(|x| std::mem::take(&mut x.cte_tables));
    for mut cte in ctes.unwrap_or_default() {
        let Some(stmt) = w::write_of(&cte.query) else {
            keep.push(cte);
            continue;
        };
        let name = crate::sql::ident_name(&cte.alias.name);
        let reads = w::relations(stmt);
        if let Some(other) = reads.iter().find(|r| names.contains(r)) {
            return Err(Error::Unsupported(format!(
                "a data-modifying WITH query reading another WITH query (\"{name}\" reads \"{other}\")"
            )));
        }
        let prepared = super::prepare_single(catalog, &stmt.to_string(), declared)?;
        if !matches!(prepared.kind, Kind::Insert | Kind::Update | Kind::Delete) {
            return Err(Error::Unsupported(format!(
                "WITH query \"{name}\" of this kind"
            )));
        }
        let target = crate::sql::views::write_target(stmt)
            .map(crate::sql::object_name)
            .unwrap_or_default();
        if written.contains(&target) {
            return Err(Error::Unsupported(format!(
                "two data-modifying WITH queries changing table \"{target}\""
            )));
        }
        written.push(target);
        let cte_at = if prepared.columns.is_empty() {
            None
        } else {
            let placeholder = w::rows_query(&columns(&prepared), &[]);
            cte.query = crate::sql::parse_query(&placeholder)?;
            keep.push(cte);
            Some(keep.len() - 1)
        };
        writes.push(Write {
            prepared,
            cte: cte_at,
        });
    }
    if let Some(with) = main.with.as_mut() {
        with.cte_tables = keep;
    }
    if main.with.as_ref().is_some_and(|x| x.cte_tables.is_empty()) {
        main.with = None;
    }
    // What the main statement reads: a WITH query without RETURNING is
    // PostgreSQL's 0A000; a table a WITH query changes is refused.
    let reads = w::relations(&Statement::Query(main.clone()));
    let kept = w::cte_names(&main);
    for name in names.iter().filter(|n| !kept.contains(n)) {
        if reads.contains(name) {
            return Err(Error::NotSupported(format!(
                "WITH query \"{name}\" does not have a RETURNING clause"
            )));
        }
    }
    if let Some(t) = written.iter().find(|t| reads.contains(t)) {
        return Err(Error::Unsupported(format!(
            "a statement reading or writing table \"{t}\" that its WITH query changes (PostgreSQL would show it the rows as they were)"
        )));
    }
    let main_p = super::prepare_single(catalog, &main.to_string(), declared)?;
    let tag = match main_p.kind {
        Kind::Query => "SELECT",
        Kind::Insert => "INSERT 0",
        _ => {
            return Err(Error::Unsupported(
                "a data-modifying WITH query before this statement".into(),
            ))
        }
    };
    let n = writes
        .iter()
        .map(|x| x.prepared.params.len())
        .chain([main_p.params.len()])
        .max()
        .unwrap_or(0);
    let params: Vec<PgType> = (0..n)
        .map(|i| {
            writes
                .iter()
                .map(|x| &x.prepared)
                .chain([&main_p])
                .find_map(|p| p.params.get(i).cloned())
                .unwrap_or(PgType::Text)
        })
        .collect();
    let written_needs = writes.iter().flat_map(|x| &x.prepared.needs);
    let needs: Vec<_> = main_p.needs.iter().chain(written_needs).cloned().collect();
    Ok(Prepared {
        id: super::next_id(),
        stmt: Some(Statement::Query(Box::new(q.clone()))),
        kind: Kind::WithWrites(Box::new(WithWrites {
            writes,
            main,
            params: params.clone(),
            tag,
        })),
        params,
        columns: main_p.columns,
        needs,
        inlined: None,
        text: None,
    })
}

/// Run the WITH queries, then the main statement over what they returned
/// (inside its statement: see `Session::in_statement`).
fn run(
    sess: &mut Session,
    plan: &WithWrites,
    params: &[Datum],
    sink: &mut RowSink,
) -> Result<Outcome> {
    let mut main = plan.main.clone();
    for x in &plan.writes {
        let Some(stmt) = x.prepared.stmt.clone() else {
            continue;
        };
        let cols = columns(&x.prepared);
        let mut rows = Vec::new();
        super::write::write_statement(sess, stmt, params, &mut |r: Vec<Datum>| {
            rows.push(
                r.iter()
                    .zip(&cols)
                    .map(|(v, (_, ty))| ty.render_text(v))
                    .collect(),
            );
            Ok(())
        })?;
        let (Some(at), Some(with)) = (x.cte, main.with.as_mut()) else {
            continue;
        };
        if let Some(cte) = with.cte_tables.get_mut(at) {
            cte.query = crate::sql::parse_query(&w::rows_query(&cols, &rows))?;
        }
    }
    let declared: Vec<Option<PgType>> = plan.params.iter().cloned().map(Some).collect();
    let p = sess
        .prepare(&main.to_string(), &declared)?
        .pop()
        .ok_or_else(|| Error::Internal("empty statement".into()))?;
    let Some(stmt) = p.stmt.clone() else {
        return Err(Error::Internal("statement without a parse tree".into()));
    };
    match p.kind {
        Kind::Query => super::query::run(sess, stmt, &p, params, sink),
        _ => super::write::run(sess, stmt, &p, params, sink),
    }
}

impl Session {
    /// A statement with data-modifying WITH queries, as one statement with
    /// the write path's reach to other nodes.
    pub(super) fn with_writes(
        &mut self,
        plan: &WithWrites,
        params: &[Datum],
        sink: &mut RowSink,
    ) -> Result<Outcome> {
        if !self.writing && self.has_peers() {
            for x in &plan.writes {
                if let Some(stmt) = &x.prepared.stmt {
                    super::write::seal_peers_first(self, stmt, params)?;
                }
            }
        }
        let r = self.retrying_peers(true, sink, |sess, sink| run(sess, plan, params, sink));
        self.after_write()?;
        self.deliver_tombstones();
        r
    }
}
