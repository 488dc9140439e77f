//! Statement execution. `prepare` turns SQL text into `Prepared`
//! statements (classified, typed); a `Session` runs them on its own SQLite
//! connection to `segments.db`, which is where the session's transaction
//! lives. Sessions are blocking code: a client's session runs on its
//! connection's own thread (`exec::host`), others on a thread of their
//! own, and `exec::handle` gives the async world a `SessionHandle`.

pub mod backends;
pub mod backup;
pub mod coordination;
pub mod copy;
pub mod cursor;
pub mod ddl;
pub mod engine;
pub mod explain;
pub mod fragment;
pub mod handle;
pub mod host;
pub mod isolation;
pub mod lifted;
pub mod locks;
pub mod merge;
pub mod peer;
pub mod pg_catalog;
pub mod privileges;
pub mod query;
pub mod remote;
pub mod roles;
pub mod session;
pub mod settings;
pub mod settle;
pub mod sources;
pub mod statements;
pub mod system;
pub mod tokens;
pub mod with_writes;
pub mod write;

use std::sync::atomic::{AtomicI64, Ordering};

use sqlparser::ast::Statement;

use crate::error::{Error, Result};
use crate::types::PgType;

pub use handle::{Execution, SessionHandle};
pub use session::{InterruptGuard, Notice, RowSink, Session, Shared};

/// A result column: PostgreSQL name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: PgType,
}

/// What kind of statement a `Prepared` is, for dispatch.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Query,
    /// A query with row locks (`FOR UPDATE` …; see exec::locks).
    LockingQuery(locks::RowLocks),
    Explain,
    Insert,
    Update,
    Delete,
    Ddl,
    Begin(isolation::Modes),
    Commit,
    Rollback,
    Savepoint(String),
    Release(String),
    RollbackTo(String),
    Set,
    Show,
    CopyFrom(copy::CopySpec),
    /// COPY … TO STDOUT: rows of a query, sent as COPY data.
    CopyTo(copy::CopySpec),
    /// MERGE, planned (`exec::merge`).
    Merge(Box<merge::MergePlan>),
    /// A statement whose WITH clause writes (`exec::with_writes`).
    WithWrites(Box<with_writes::WithWrites>),
    /// `SELECT mosaic.seal('t')`.
    Seal(query::AdminArg),
    /// `SELECT mosaic.replicate('shard id')`: copy a shard here now.
    Replicate(query::AdminArg),
    /// `SELECT mosaic.forget_node('name')`: a node that is gone for good.
    ForgetNode(query::AdminArg),
    /// `SELECT mosaic.backup_manifest()` and the other functions of
    /// `mosaic backup` and `mosaic restore` (`exec::backup`).
    Backup(String, Vec<query::AdminArg>),
    /// Accepted and ignored, with this command tag (VACUUM, CHECKPOINT, …).
    Noop(String),
    /// SET CONSTRAINTS { ALL | names } DEFERRED (true) or IMMEDIATE
    /// (false); `None`: ALL.
    SetConstraints(bool, Option<Vec<String>>),
    /// `DEALLOCATE name` (`None`: ALL); the wire layer drops the
    /// protocol-level statement, the session an SQL-level one.
    Deallocate(Option<String>),
    /// `PREPARE name AS statement` (`exec::statements`).
    Prepare(Box<statements::SqlPrepare>),
    /// `EXECUTE name (arguments)` (`exec::statements`).
    Execute(Box<statements::SqlExecute>),
    /// `DECLARE name CURSOR FOR query`.
    Declare(Box<cursor::Declare>),
    /// `FETCH` or `MOVE`.
    Fetch(cursor::Fetch),
    /// `CLOSE name` (`None`: ALL).
    Close(Option<String>),
    /// DDL sqlparser does not read, pre-parsed (DDL like any other).
    PreParsedDdl(Box<PreParsedDdl>),
    /// LISTEN, UNLISTEN or NOTIFY.
    Signal(coordination::Signal),
}

impl Kind {
    /// The `kind` label of the statement metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Kind::Query | Kind::LockingQuery(_) | Kind::Show | Kind::Fetch(_) => "select",
            Kind::Insert => "insert",
            Kind::Update => "update",
            Kind::Delete => "delete",
            Kind::Merge(_) | Kind::WithWrites(_) => "write",
            Kind::CopyFrom(_) | Kind::CopyTo(_) => "copy",
            Kind::Ddl | Kind::PreParsedDdl(_) => "ddl",
            Kind::Begin(_)
            | Kind::Commit
            | Kind::Rollback
            | Kind::Savepoint(_)
            | Kind::Release(_)
            | Kind::RollbackTo(_) => "transaction",
            Kind::Set | Kind::SetConstraints(..) => "set",
            Kind::Explain => "explain",
            Kind::Execute(_) => "execute",
            _ => "other",
        }
    }
}

/// DDL read by MosaicDB's own small parsers.
#[derive(Debug, Clone, PartialEq)]
pub enum PreParsedDdl {
    AlterSequence(crate::sql::alter_sequence::AlterSequence),
    AlterIdentity(crate::sql::alter_identity::AlterIdentity),
    SetSchema(crate::sql::set_schema::SetSchema),
    Domain(crate::sql::domain::DomainStatement),
}

/// A parsed, classified and typed statement, ready to bind and run.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Unique per prepared statement: the key of its compiled SQL.
    pub id: u64,
    pub stmt: Option<Statement>,
    pub kind: Kind,
    /// Types of `$1..$n`.
    pub params: Vec<PgType>,
    /// Result columns; empty for statements that return no rows.
    pub columns: Vec<Column>,
    /// The privileges it needs, checked each time it runs.
    pub needs: Vec<crate::sql::privileges::Need>,
    /// The SQL functions whose bodies it holds, and what it was prepared
    /// from: when one of them changes, it is prepared again.
    pub inlined: Option<Box<Inlined>>,
    /// The text the client sent (a Parse's), for pg_stat_activity.
    pub text: Option<std::sync::Arc<str>>,
}

/// What a statement that calls SQL functions was prepared from.
#[derive(Debug, Clone)]
pub struct Inlined {
    pub functions: Vec<std::sync::Arc<crate::types::function::FunctionDef>>,
    pub source: Statement,
    pub declared: Vec<Option<PgType>>,
}

impl Prepared {
    /// The command tag prefix for row-returning statements.
    pub fn row_tag(&self) -> &'static str {
        match self.kind {
            Kind::Insert => "INSERT 0",
            Kind::Update => "UPDATE",
            Kind::Delete => "DELETE",
            Kind::Explain => "EXPLAIN",
            Kind::Show => "SHOW",
            Kind::CopyTo(_) => "COPY",
            Kind::Fetch(_) => "FETCH",
            Kind::Execute(ref x) => x.tag,
            Kind::WithWrites(ref w) => w.tag,
            _ => "SELECT",
        }
    }
}

/// Statements MosaicDB accepts but sqlparser does not parse (or not in
/// full), recognized by their first keyword.
fn preclassify(sql: &str) -> Option<Result<Kind>> {
    let first = sql
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .next()?
        .to_ascii_uppercase();
    match first.as_str() {
        "VACUUM" => Some(Ok(Kind::Noop("VACUUM".into()))),
        "ANALYZE" | "ANALYSE" => Some(Ok(Kind::Noop("ANALYZE".into()))),
        "CHECKPOINT" => Some(Ok(Kind::Noop("CHECKPOINT".into()))),
        "FETCH" | "MOVE" => Some(cursor::parse_fetch(sql).map(Kind::Fetch)),
        "SET" => set_constraints(sql),
        "CREATE" | "DROP" => pre_parse_domain(sql),
        "ALTER" => pre_parse_domain(sql).or_else(|| pre_parse_alter(sql)),
        "DO" => Some(Err(Error::Unsupported(
            "DO blocks (MosaicDB runs no procedural language; CREATE FUNCTION … LANGUAGE sql works)"
                .into(),
        ))),
        _ => None,
    }
}

/// CREATE, ALTER and DROP DOMAIN.
fn pre_parse_domain(sql: &str) -> Option<Result<Kind>> {
    let d = crate::sql::domain::parse(sql)?;
    Some(d.map(|d| Kind::PreParsedDdl(Box::new(PreParsedDdl::Domain(d)))))
}

/// ALTER SEQUENCE, ALTER TABLE's identity column actions, and ALTER TABLE
/// | VIEW … SET SCHEMA.
fn pre_parse_alter(sql: &str) -> Option<Result<Kind>> {
    if let Some(set) = crate::sql::set_schema::parse(sql) {
        return Some(set.map(|s| Kind::PreParsedDdl(Box::new(PreParsedDdl::SetSchema(s)))));
    }
    let ddl = if crate::sql::alter_sequence::is_alter_sequence(sql) {
        crate::sql::alter_sequence::parse(sql).map(PreParsedDdl::AlterSequence)
    } else {
        crate::sql::alter_identity::parse(sql)?.map(PreParsedDdl::AlterIdentity)
    };
    Some(ddl.map(|d| Kind::PreParsedDdl(Box::new(d))))
}

/// `SET CONSTRAINTS { ALL | name [, …] } { DEFERRED | IMMEDIATE }`, which
/// sqlparser does not read.
fn set_constraints(sql: &str) -> Option<Result<Kind>> {
    let words: Vec<String> = sql
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    if words.get(1).map(String::as_str) != Some("CONSTRAINTS") {
        return None;
    }
    Some(match words.as_slice() {
        [_, _, all, mode] if all == "ALL" && mode == "DEFERRED" => {
            Ok(Kind::SetConstraints(true, None))
        }
        [_, _, all, mode] if all == "ALL" && mode == "IMMEDIATE" => {
            Ok(Kind::SetConstraints(false, None))
        }
        [_, _, .., mode] if words.len() > 3 && (mode == "DEFERRED" || mode == "IMMEDIATE") => {
            constraint_names(sql).map(|n| Kind::SetConstraints(mode == "DEFERRED", Some(n)))
        }
        _ => Err(Error::Syntax(format!(
            "syntax error at or near \"{}\"",
            words.last().map(String::as_str).unwrap_or("CONSTRAINTS")
        ))),
    })
}

/// The constraints `SET CONSTRAINTS a, "B", public.c MODE` names, as
/// PostgreSQL folds them.
fn constraint_names(sql: &str) -> Result<Vec<String>> {
    let text = sql.trim().trim_end_matches(';').trim();
    let body = text
        .split_once(|c: char| c.is_whitespace())
        .and_then(|(_, rest)| rest.trim_start().split_once(|c: char| c.is_whitespace()))
        .map(|(_, rest)| rest.trim())
        .and_then(|rest| rest.rsplit_once(|c: char| c.is_whitespace()))
        .map(|(names, _)| names)
        .unwrap_or_default();
    let mut out = Vec::new();
    for part in body.split(',') {
        let part = part.trim();
        let id = crate::sql::parse_expr(part)
            .map_err(|_| Error::Syntax(format!("syntax error at or near \"{part}\"")))?;
        let name = match id {
            sqlparser::ast::Expr::Identifier(i) => crate::sql::ident_name(&i),
            sqlparser::ast::Expr::CompoundIdentifier(ids) if ids.len() == 2 => {
                crate::sql::ident_name(&ids[1])
            }
            _ => return Err(Error::Syntax(format!("syntax error at or near \"{part}\""))),
        };
        out.push(name);
    }
    Ok(out)
}

/// A statement of a script, parsed but not yet typed.
pub enum Parsed {
    Noop(Kind),
    Statement(Box<Statement>),
}

/// Parse `sql` (possibly several statements) without typing it: a script's
/// later statements may use tables its earlier statements create.
pub fn parse_script(sql: &str) -> Result<Vec<Parsed>> {
    if let Some(kind) = preclassify(sql) {
        return Ok(vec![Parsed::Noop(kind?)]);
    }
    // PostgreSQL's spelling sqlparser does not read.
    let words: Vec<&str> = sql
        .trim()
        .trim_end_matches(';')
        .split_whitespace()
        .collect();
    if words.len() == 3
        && words
            .iter()
            .map(|w| w.to_ascii_lowercase())
            .eq(["reset", "time", "zone"])
    {
        return parse_script("RESET timezone");
    }
    // A script holding one of those (Django sends `ALTER TABLE …;
    // SET CONSTRAINTS name IMMEDIATE` in one query) runs piece by piece.
    let pre_parsed = |p: &str| {
        pre_parse_alter(p).is_some()
            || pre_parse_domain(p).is_some()
            || (p
                .trim_start()
                .get(..4)
                .is_some_and(|w| w.eq_ignore_ascii_case("set "))
                && set_constraints(p).is_some())
    };
    if let Some(pieces) = crate::sql::alter_sequence::split_script(sql, pre_parsed) {
        let mut out = Vec::new();
        for piece in pieces {
            out.extend(parse_script(&piece)?);
        }
        return Ok(out);
    }
    Ok(crate::sql::parse(&copy::normalize_options(sql))?
        .into_iter()
        .map(|s| Parsed::Statement(Box::new(s)))
        .collect())
}

/// Classify and type one parsed statement.
pub fn prepare_parsed(
    catalog: &dyn crate::sql::Schema,
    parsed: Parsed,
    declared: &[Option<PgType>],
) -> Result<Prepared> {
    match parsed {
        Parsed::Noop(kind) => Ok(Prepared {
            id: next_id(),
            stmt: None,
            kind,
            params: vec![],
            columns: vec![],
            needs: vec![],
            inlined: None,
            text: None,
        }),
        Parsed::Statement(s) => prepare_one(catalog, *s, declared),
    }
}

/// Parse, classify and type `sql`. `declared` are the parameter types the
/// client gave (extended protocol).
pub fn prepare(
    catalog: &dyn crate::sql::Schema,
    sql: &str,
    declared: &[Option<PgType>],
) -> Result<Vec<Prepared>> {
    parse_script(sql)?
        .into_iter()
        .map(|p| prepare_parsed(catalog, p, declared))
        .collect()
}

/// Prepare `sql`, one statement MosaicDB builds itself (a part of a MERGE
/// or of a statement whose WITH clause writes).
pub(crate) fn prepare_single(
    catalog: &dyn crate::sql::Schema,
    sql: &str,
    declared: &[Option<PgType>],
) -> Result<Prepared> {
    prepare(catalog, sql, declared)?
        .pop()
        .ok_or_else(|| Error::Internal(format!("no statement in {sql}")))
}

/// The query forms MosaicDB runs as others, respelled before a statement
/// is classified. A view's definition is kept as written; everything else
/// reads the queries of the views it names.
fn expand_forms(
    catalog: &dyn crate::sql::Schema,
    stmt: &mut Statement,
) -> Result<Vec<std::sync::Arc<crate::types::function::FunctionDef>>> {
    if matches!(stmt, Statement::CreateView(_)) {
        return Ok(vec![]);
    }
    crate::sql::joined_writes::expand(stmt)?;
    crate::sql::json_records::populate(stmt, catalog)?;
    crate::sql::views::expand(stmt, catalog)?;
    crate::sql::infer::spell_out_merged(stmt, &system::SystemSchema(catalog))?;
    // The functions views call.
    let functions = crate::sql::functions::inline(stmt, catalog)?;
    crate::sql::domain::expand_casts(stmt)?;
    crate::sql::grouping_sets::expand(stmt)?;
    crate::sql::on_constraint::resolve(stmt, catalog)?;
    crate::sql::validate::override_user_values(stmt, catalog)?;
    Ok(functions)
}

/// DISTINCT ON and WITH TIES in the queries below the statement's own,
/// each with its own result column names.
fn expand_nested(
    catalog: &dyn crate::sql::Schema,
    stmt: &mut Statement,
    params: &[PgType],
) -> Result<()> {
    let schema = system::SystemSchema(catalog);
    crate::sql::distinct_on::expand_nested(stmt, &mut |q| {
        let query = Statement::Query(Box::new(q.clone()));
        let columns = crate::sql::infer::result_columns(&query, &schema, params).ok()?;
        Some(columns.into_iter().map(|(name, _)| name).collect())
    })
}

pub(crate) fn prepare_one(
    catalog: &dyn crate::sql::Schema,
    mut stmt: Statement,
    declared: &[Option<PgType>],
) -> Result<Prepared> {
    if let Some((m, with)) = merge::of(&stmt) {
        return merge::prepare(catalog, m, with, declared, max_placeholder(&stmt));
    }
    if crate::sql::with_writes::has_writes(&stmt)? {
        if let Statement::Query(q) = &stmt {
            return with_writes::prepare(catalog, q, declared);
        }
    }
    crate::sql::with_writes::hoist(&mut stmt)?;
    let source = stmt.clone();
    // A SQL function's body reads with the caller's privileges.
    let mut functions = crate::sql::functions::inline(&mut stmt, catalog)?;
    let needs = crate::sql::privileges::needs(&stmt, catalog);
    functions.extend(expand_forms(catalog, &mut stmt)?);
    let inlined = (!functions.is_empty()).then(|| {
        Box::new(Inlined {
            functions,
            source,
            declared: declared.to_vec(),
        })
    });
    let mut kind = classify(&stmt)?;
    if let Kind::CopyTo(spec) | Kind::CopyFrom(spec) = &mut kind {
        spec.leave_out_generated(catalog)?;
    }
    if matches!(
        kind,
        Kind::Query | Kind::LockingQuery(_) | Kind::Insert | Kind::Update | Kind::Delete
    ) {
        crate::sql::validate::check(&stmt, catalog)?;
    }
    let inferred = crate::sql::infer::param_types(&stmt, &system::SystemSchema(catalog));
    let n = inferred
        .len()
        .max(declared.len())
        .max(max_placeholder(&stmt));
    let params: Vec<PgType> = (0..n)
        .map(|i| {
            declared
                .get(i)
                .cloned()
                .flatten()
                .or_else(|| inferred.get(i).cloned().flatten())
                .unwrap_or(PgType::Text)
        })
        .collect();
    if let Kind::Declare(d) = &mut kind {
        d.columns = crate::sql::infer::result_columns(
            &Statement::Query(d.query.clone()),
            &system::SystemSchema(catalog),
            &params,
        )?
        .into_iter()
        .map(|(name, ty)| Column {
            name: crate::sql::truncate_identifier(name),
            ty,
        })
        .collect();
    }
    let columns = match &kind {
        Kind::Query | Kind::LockingQuery(_) | Kind::Insert | Kind::Update | Kind::Delete => {
            crate::sql::infer::result_columns(&stmt, &system::SystemSchema(catalog), &params)?
                .into_iter()
                .map(|(name, ty)| Column {
                    name: crate::sql::truncate_identifier(name),
                    ty,
                })
                .collect()
        }
        Kind::CopyTo(spec) => match &spec.to {
            Some(q) => crate::sql::infer::result_columns(
                &Statement::Query(q.clone()),
                &system::SystemSchema(catalog),
                &params,
            )?
            .into_iter()
            .map(|(name, ty)| Column { name, ty })
            .collect(),
            None => vec![],
        },
        Kind::Explain => vec![Column {
            name: "QUERY PLAN".into(),
            ty: PgType::Text,
        }],
        Kind::Show => settings::show_columns(&stmt),
        Kind::Seal(_) | Kind::Replicate(_) | Kind::ForgetNode(_) | Kind::Backup(..) => {
            vec![admin_column(&kind)]
        }
        _ => vec![],
    };
    if matches!(kind, Kind::Query | Kind::LockingQuery(_)) {
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        crate::sql::distinct_on::expand(&mut stmt, &names)?;
        crate::sql::with_ties::expand(&mut stmt, &names)?;
    }
    expand_nested(catalog, &mut stmt, &params)?;
    type_numeric(catalog, &mut stmt, &mut kind, &params)?;
    Ok(Prepared {
        id: next_id(),
        stmt: Some(stmt),
        kind,
        params,
        columns,
        needs,
        inlined,
        text: None,
    })
}

/// Make the numeric operations of the statement's queries explicit
/// (`sql::infer::type_numeric`), once, after its result columns are known.
fn type_numeric(
    catalog: &dyn crate::sql::Schema,
    stmt: &mut Statement,
    kind: &mut Kind,
    params: &[PgType],
) -> Result<()> {
    let schema = system::SystemSchema(catalog);
    let typed = |q: &mut Box<sqlparser::ast::Query>| -> Result<()> {
        let mut s = Statement::Query(q.clone());
        crate::sql::infer::type_numeric(&mut s, &schema, params)?;
        if let Statement::Query(t) = s {
            *q = t;
        }
        Ok(())
    };
    match stmt {
        Statement::Query(_)
        | Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_) => crate::sql::infer::type_numeric(stmt, &schema, params)?,
        Statement::Explain { statement, .. } => {
            crate::sql::infer::type_numeric(statement, &schema, params)?
        }
        _ => {}
    }
    match kind {
        Kind::Declare(d) => typed(&mut d.query),
        Kind::CopyTo(spec) => match spec.to.as_mut() {
            Some(q) => typed(q),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The id of a statement that runs once (a simple Query's): its compiled
/// SQL is not kept, since nothing will look it up again. Never an id
/// `next_id` gives.
pub const ONE_SHOT: u64 = 0;

fn next_id() -> u64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) as u64
}

/// The highest `$n` in a statement.
/// The result column of an admin function (`exec::query::admin_call`).
fn admin_column(kind: &Kind) -> Column {
    let (name, ty) = match kind {
        Kind::Seal(_) => ("seal", PgType::Text),
        Kind::Replicate(_) => ("replicate", PgType::Bool),
        Kind::ForgetNode(_) => ("forget_node", PgType::Bool),
        Kind::Backup(function, _) => return backup::column(function),
        _ => ("?column?", PgType::Text),
    };
    Column {
        name: name.into(),
        ty,
    }
}

fn max_placeholder(stmt: &Statement) -> usize {
    let mut max = 0;
    let _ = sqlparser::ast::visit_expressions(stmt, |e| {
        if let sqlparser::ast::Expr::Value(v) = e {
            if let sqlparser::ast::Value::Placeholder(p) = &v.value {
                if let Some(n) = p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                    max = max.max(n);
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    max
}

fn classify(stmt: &Statement) -> Result<Kind> {
    if let Some(kind) = statements::classify(stmt) {
        return kind;
    }
    Ok(match stmt {
        Statement::Query(_) if ddl::create_as::is_select_into(stmt) => Kind::Ddl,
        Statement::Query(_) => match query::admin_call(stmt)? {
            Some((f, mut args)) if f == "mosaic.seal" => Kind::Seal(args.remove(0)),
            Some((f, mut args)) if f == "mosaic.replicate" => Kind::Replicate(args.remove(0)),
            Some((f, mut args)) if f == "mosaic.forget_node" => Kind::ForgetNode(args.remove(0)),
            Some((f, args)) => Kind::Backup(f, args),
            None => match locks::row_locks(stmt) {
                Some(l) => Kind::LockingQuery(l),
                None => Kind::Query,
            },
        },
        Statement::Explain { .. } => Kind::Explain,
        Statement::Insert(_) => Kind::Insert,
        Statement::Update(_) => Kind::Update,
        Statement::Delete(_) => Kind::Delete,
        Statement::CreateTable(_)
        | Statement::CreateView(_)
        | Statement::CreateSequence { .. }
        | Statement::Comment { .. }
        | Statement::RefreshMaterializedView(_)
        | Statement::CreateIndex(_)
        | Statement::AlterIndex { .. }
        | Statement::AlterTable(_)
        | Statement::AlterView(_)
        | Statement::Drop { .. }
        | Statement::CreateExtension(_)
        | Statement::CreateType { .. }
        | Statement::CreateFunction(_)
        | Statement::DropFunction(_)
        | Statement::AlterType(_)
        | Statement::DropExtension(_)
        | Statement::CreateSchema { .. }
        | Statement::AlterSchema(_)
        | Statement::CreateRole(_)
        | Statement::AlterRole { .. }
        | Statement::GrantRole(_)
        | Statement::RevokeRole(_)
        | Statement::Grant(_)
        | Statement::Revoke(_)
        | Statement::Truncate(_) => Kind::Ddl,
        Statement::StartTransaction { modes, .. } => {
            Kind::Begin(isolation::Modes::from_ast(modes)?)
        }
        Statement::Commit { .. } => Kind::Commit,
        Statement::Rollback {
            savepoint: None, ..
        } => Kind::Rollback,
        Statement::Rollback {
            savepoint: Some(name),
            ..
        } => Kind::RollbackTo(crate::sql::ident_name(name)),
        Statement::Savepoint { name } => Kind::Savepoint(crate::sql::ident_name(name)),
        Statement::ReleaseSavepoint { name } => Kind::Release(crate::sql::ident_name(name)),
        Statement::Set(_) | Statement::Reset(_) => Kind::Set,
        Statement::ShowVariable { .. } => Kind::Show,
        Statement::Copy { .. } => {
            let spec = copy::CopySpec::from_statement(stmt)?;
            if spec.to.is_some() {
                Kind::CopyTo(spec)
            } else {
                Kind::CopyFrom(spec)
            }
        }
        Statement::Discard { object_type } => Kind::Noop(format!("DISCARD {object_type}")),
        Statement::LISTEN { .. } | Statement::UNLISTEN { .. } | Statement::NOTIFY { .. } => {
            Kind::Signal(
                coordination::Signal::of(stmt)
                    .ok_or_else(|| Error::Internal("not a LISTEN, UNLISTEN or NOTIFY".into()))?,
            )
        }
        Statement::Deallocate { name, .. } => Kind::Deallocate(
            (name.quote_style.is_some() || !name.value.eq_ignore_ascii_case("all"))
                .then(|| crate::sql::ident_name(name)),
        ),
        Statement::Declare { .. } => Kind::Declare(Box::new(cursor::declare_of(stmt)?)),
        // sqlparser's FETCH reads fewer forms than ours: parse its text again.
        Statement::Fetch { .. } => Kind::Fetch(cursor::parse_fetch(&stmt.to_string())?),
        Statement::Close { cursor } => Kind::Close(match cursor {
            sqlparser::ast::CloseCursor::All => None,
            sqlparser::ast::CloseCursor::Specific { name } => Some(crate::sql::ident_name(name)),
        }),
        other => {
            let text = other.to_string();
            let words: Vec<&str> = text.split_whitespace().take(2).collect();
            return Err(Error::Unsupported(format!("statement {}", words.join(" "))));
        }
    })
}

/// Transaction state of a session, as PostgreSQL reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    Idle,
    InBlock,
    Failed,
}

/// How a statement ended, for the command tag.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Rows were delivered to the sink.
    Rows { count: usize },
    /// A command tag, e.g. `CREATE TABLE` or `INSERT 0 3`.
    Command(String),
    /// A transaction began (BEGIN) with this tag.
    TxnStart(String),
    /// A transaction ended (COMMIT/ROLLBACK) with this tag.
    TxnEnd(String),
    /// COPY FROM STDIN is ready for data, in the binary format or not.
    CopyIn { columns: usize, binary: bool },
}

/// Whether a statement runs outside transactions in MosaicDB
/// (`mosaic.seal`), so a script holding it cannot be one transaction.
pub fn is_non_transactional(stmt: &Statement) -> bool {
    matches!(
        classify(stmt),
        Ok(Kind::Seal(_) | Kind::Replicate(_) | Kind::ForgetNode(_) | Kind::Backup(..))
    )
}
