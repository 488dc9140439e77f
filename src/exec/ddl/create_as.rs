//! CREATE TABLE … AS query and SELECT … INTO table: a new table whose
//! columns are the query's result columns, with the types PostgreSQL gives
//! them, filled with the query's rows.
//!
//! The table is created like any other (journalled in the statement's
//! transaction), then the rows go in through the INSERT path, as
//! `INSERT INTO t (…) query`, in the same transaction: a ROLLBACK undoes
//! both, and the query reads every node's rows as any INSERT … SELECT
//! does. The column types come from the type inference that also answers
//! Describe; a column whose type it cannot pin down is refused (0A000)
//! rather than guessed, except a bare string literal or NULL, which
//! PostgreSQL makes `text`.

use sqlparser::ast::{CreateTable, Expr, Query, SelectItem, SetExpr, Statement, Value};

use super::{create_table, relation_exists};
use crate::error::{Error, Result};
use crate::exec::{system, Outcome, Session};
use crate::sql::{ctas, ident_name, object_name};
use crate::types::table::RelKind;
use crate::types::{quote, PgType};

/// What a CREATE TABLE AS, SELECT INTO or CREATE MATERIALIZED VIEW asks
/// for.
pub(super) struct CreateAs {
    pub name: String,
    /// Names given to the first columns (`CREATE TABLE t (a, b) AS`).
    pub names: Vec<String>,
    pub if_not_exists: bool,
    /// False for `WITH NO DATA`.
    pub data: bool,
    pub query: Box<Query>,
    /// A table, or a materialized view (its definition).
    pub kind: RelKind,
    /// A temporary table (CREATE TEMP TABLE … AS, SELECT … INTO TEMP).
    pub temp: Option<crate::types::table::OnCommit>,
}

/// `CREATE TABLE … AS query`.
pub fn create_table_as(sess: &mut Session, ct: &CreateTable) -> Result<Outcome> {
    let Some(query) = ct.query.clone() else {
        return Err(Error::Internal("CREATE TABLE AS without a query".into()));
    };
    let mut names = Vec::new();
    for c in &ct.columns {
        // Only names parse here (sql::ctas); a typed column is PostgreSQL's
        // syntax error.
        if c.data_type.to_string() != ctas::UNTYPED || !c.options.is_empty() {
            return Err(Error::Syntax(format!(
                "syntax error at or near \"{}\"",
                c.data_type
            )));
        }
        names.push(ident_name(&c.name));
    }
    let refused = if !ct.constraints.is_empty() {
        Some("constraints in CREATE TABLE AS")
    } else if ct.partition_by.is_some() || ct.inherits.is_some() || ct.like.is_some() {
        Some("CREATE TABLE AS with PARTITION BY, INHERITS or LIKE")
    } else if ct.on_commit.is_some() && !ct.temporary {
        Some("ON COMMIT")
    } else {
        None
    };
    if let Some(what) = refused {
        return Err(Error::Unsupported(what.into()));
    }
    run(
        sess,
        CreateAs {
            name: object_name(&ct.name),
            names,
            if_not_exists: ct.if_not_exists,
            data: ct.with_data.as_ref().is_none_or(|w| w.data),
            query,
            kind: RelKind::Table,
            temp: ct.temporary.then(|| super::temp::on_commit(ct.on_commit)),
        },
    )
}

/// Whether `stmt` is `SELECT … INTO table …`.
pub fn is_select_into(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Query(q) if matches!(q.body.as_ref(), SetExpr::Select(s) if s.into.is_some()))
}

/// `SELECT … INTO [UNLOGGED] [TABLE] name FROM …`.
pub fn select_into(sess: &mut Session, stmt: &Statement) -> Result<Outcome> {
    let Statement::Query(q) = stmt else {
        return Err(Error::Internal("not a SELECT INTO".into()));
    };
    let mut query = q.clone();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(Error::Internal("not a SELECT INTO".into()));
    };
    let Some(into) = select.into.take() else {
        return Err(Error::Internal("not a SELECT INTO".into()));
    };
    let name = match into.targets.as_slice() {
        [Expr::Identifier(i)] => ident_name(i),
        [Expr::CompoundIdentifier(parts)] => {
            let parts: Vec<String> = parts.iter().map(ident_name).collect();
            parts.join(".")
        }
        _ => return Err(Error::Unsupported(format!("SELECT {into}"))),
    };
    run(
        sess,
        CreateAs {
            kind: RelKind::Table,
            name,
            names: vec![],
            if_not_exists: false,
            data: true,
            query,
            temp: into
                .temporary
                .then_some(crate::types::table::OnCommit::PreserveRows),
        },
    )
}

pub(super) fn run(sess: &mut Session, c: CreateAs) -> Result<Outcome> {
    match c.temp {
        None => super::schema::check_creatable(sess, &c.name)?,
        Some(_) if c.name.contains('.') => {
            return Err(Error::Unsupported(format!(
                "schema-qualified temporary table {}",
                c.name
            )))
        }
        Some(_) => {}
    }
    let exists = match c.temp {
        Some(_) => sess.is_temp(&c.name),
        None => relation_exists(sess, &c.name),
    };
    if exists {
        if c.if_not_exists {
            return Ok(Outcome::Command("CREATE TABLE AS".into()));
        }
        return Err(Error::TableExists(c.name));
    }
    if crate::exec::max_placeholder(&Statement::Query(c.query.clone())) > 0 {
        return Err(Error::Unsupported("parameters in CREATE TABLE AS".into()));
    }
    let query = Statement::Query(super::view::spelled_out(sess, &c.query)?);
    crate::sql::validate::check(&query, &sess.catalog())?;
    let columns = {
        let catalog = sess.catalog();
        crate::sql::infer::result_columns(&query, &system::SystemSchema(&catalog), &[])?
    };
    let columns = column_types(&c, columns)?;
    let decls: Vec<String> = columns
        .iter()
        .map(|(n, t)| format!("{} {}", quote(n), declaration(t)))
        .collect();
    let sql = format!("CREATE TABLE {} ({})", quote(&c.name), decls.join(", "));
    let Some(Statement::CreateTable(ct)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("CREATE TABLE did not parse".into()));
    };
    let mut def = crate::sql::ddl::create_table(&ct, sess.store.next_oid()?)?;
    let empty_tag = match c.kind {
        RelKind::MatView { .. } => "CREATE MATERIALIZED VIEW",
        _ => "CREATE TABLE AS",
    };
    def.kind = c.kind;
    def.temp = c.temp;
    match def.temp {
        Some(_) => super::temp::install(sess, def)?,
        None => create_table(sess, def)?,
    }
    if !c.data {
        return Ok(Outcome::Command(empty_tag.into()));
    }
    let rows = insert_query(sess, &c.name, &columns, c.query)?;
    Ok(Outcome::Command(format!("SELECT {rows}")))
}

/// `INSERT INTO name (columns) query` in the session's transaction: how
/// many rows went in.
pub(super) fn insert_query(
    sess: &mut Session,
    name: &str,
    columns: &[(String, PgType)],
    query: Box<Query>,
) -> Result<String> {
    let names: Vec<String> = columns.iter().map(|(n, _)| quote(n)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) SELECT 1",
        quote(name),
        names.join(", ")
    );
    let Some(Statement::Insert(mut insert)) = crate::sql::parse(&sql)?.pop() else {
        return Err(Error::Internal("INSERT did not parse".into()));
    };
    insert.source = Some(query);
    let outcome = super::write(sess, Statement::Insert(insert))?;
    Ok(match &outcome {
        Outcome::Command(tag) => tag.rsplit(' ').next().unwrap_or("0").to_string(),
        _ => "0".into(),
    })
}

/// The new table's columns: the query's names (the first ones replaced by
/// the names given) and types.
fn column_types(c: &CreateAs, columns: Vec<(String, PgType)>) -> Result<Vec<(String, PgType)>> {
    if c.names.len() > columns.len() {
        return Err(Error::Syntax("too many column names were specified".into()));
    }
    let origins = origins(&c.query, columns.len());
    let mut out: Vec<(String, PgType)> = Vec::with_capacity(columns.len());
    for (i, (name, ty)) in columns.into_iter().enumerate() {
        let name = c.names.get(i).cloned().unwrap_or(name);
        if out.iter().any(|(n, _)| *n == name) {
            return Err(Error::DuplicateColumn(name));
        }
        let origin = origins.get(i).cloned().unwrap_or(Origin::Other);
        let Some(ty) = column_type(&origin, ty) else {
            return Err(Error::Unsupported(format!(
                "CREATE TABLE AS with column \"{name}\", whose type is not inferred exactly"
            )));
        };
        out.push((name, ty));
    }
    Ok(out)
}

/// What made a result column, as far as its type's modifiers go.
#[derive(Clone, PartialEq)]
enum Origin {
    /// A table's column (through `*` too): its declared type.
    Column,
    /// An explicit cast: the type cast to.
    Cast,
    /// A string literal or NULL: text.
    Literal,
    /// A function call (by name) or an operator: no type modifier.
    Function(String),
    /// Anything else (CASE, COALESCE, a subquery, a set operation): the
    /// type modifier depends on PostgreSQL's rules for each.
    Other,
}

/// The type PostgreSQL gives a column made by `origin` whose inferred type
/// is `ty`, or `None` where inference is not sure of it.
fn column_type(origin: &Origin, ty: PgType) -> Option<PgType> {
    let modified = matches!(
        ty,
        PgType::Varchar(_) | PgType::Bpchar(_) | PgType::Numeric(Some((1.., _)))
    );
    match (origin, ty) {
        (Origin::Literal, PgType::Unknown) => Some(PgType::Text),
        (_, PgType::Unknown | PgType::Array(_)) => None,
        (Origin::Column | Origin::Cast, ty) => Some(ty),
        (_, ty) if !modified => Some(ty),
        // max(varchar) is max(text); min and max of bpchar are bpchar's.
        (Origin::Function(f), PgType::Varchar(_)) if f == "min" || f == "max" => Some(PgType::Text),
        (Origin::Function(_), PgType::Varchar(_)) => Some(PgType::Varchar(None)),
        (Origin::Function(_), PgType::Bpchar(_)) => Some(PgType::Bpchar(None)),
        (Origin::Function(_), PgType::Numeric(_)) => Some(PgType::Numeric(None)),
        _ => None,
    }
}

/// The origin of each of the query's `n` result columns.
fn origins(q: &Query, n: usize) -> Vec<Origin> {
    let of = |e: &Expr| -> Origin {
        let mut e = e;
        while let Expr::Nested(inner) = e {
            e = inner;
        }
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => Origin::Column,
            Expr::Cast { .. } => Origin::Cast,
            Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_) | Value::Null) => {
                Origin::Literal
            }
            Expr::Function(f) => {
                let name = f
                    .name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(ident_name)
                    .unwrap_or_default();
                // These take their inputs' common type, modifier included.
                match name.as_str() {
                    "coalesce" | "nullif" | "greatest" | "least" => Origin::Other,
                    _ => Origin::Function(name),
                }
            }
            Expr::BinaryOp { .. } | Expr::UnaryOp { .. } => Origin::Function(String::new()),
            _ => Origin::Other,
        }
    };
    match q.body.as_ref() {
        SetExpr::Select(s) => {
            let wild = |p: &SelectItem| {
                matches!(
                    p,
                    SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                )
            };
            let items: Vec<Option<Origin>> = s
                .projection
                .iter()
                .map(|p| match p {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                        Some(of(e))
                    }
                    _ => None,
                })
                .collect();
            let wildcards = s.projection.iter().filter(|p| wild(p)).count();
            if wildcards == s.projection.len() {
                return vec![Origin::Column; n];
            }
            if wildcards > 1 {
                return vec![Origin::Other; n];
            }
            // One `*` at most: the items before it come first, the items
            // after it last, and it gives the columns between.
            let at = s.projection.iter().position(wild).unwrap_or(items.len());
            let after = items.len().saturating_sub(at + 1);
            (0..n)
                .map(|i| {
                    if i < at {
                        items[i].clone().unwrap_or(Origin::Other)
                    } else if i + after >= n && wildcards == 1 {
                        items[items.len() - (n - i)]
                            .clone()
                            .unwrap_or(Origin::Other)
                    } else if wildcards == 1 {
                        Origin::Column
                    } else {
                        Origin::Other
                    }
                })
                .collect()
        }
        SetExpr::Values(v) => (0..n)
            .map(|i| {
                let all = v.rows.iter().map(|r| r.get(i).map(of)).collect::<Vec<_>>();
                if all.iter().all(|o| o.as_ref() == Some(&Origin::Literal)) {
                    Origin::Literal
                } else {
                    Origin::Other
                }
            })
            .collect(),
        _ => vec![Origin::Other; n],
    }
}

/// A type as a column declaration: `format_type`'s name, except that an
/// unconstrained bpchar stays unconstrained (`character` alone is
/// `character(1)`) and a numeric result's display scale is no typmod.
fn declaration(ty: &PgType) -> String {
    match ty {
        PgType::Bpchar(None) => "bpchar".into(),
        other => other.display_name(),
    }
}
