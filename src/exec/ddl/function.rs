//! CREATE [OR REPLACE] FUNCTION … LANGUAGE sql and DROP FUNCTION. A SQL
//! function is a catalog object (`types::function`) journaled and spread
//! like a table; its calls are replaced by its body where they are
//! written (`sql::functions`). The body is checked when it is created, as
//! PostgreSQL checks it: it must prepare with the arguments' types, and
//! its result must fit the declared return type. Other languages, DO
//! blocks, OUT parameters and overloading are refused (0A000).

use std::sync::Arc;

use sqlparser::ast::{
    ArgMode, CreateFunction, CreateFunctionBody, DataType, DropFunction, Expr, FunctionBehavior,
    FunctionCalledOnNull, FunctionReturnType, FunctionSecurity, Value,
};

use super::record;
use crate::error::{Error, Result};
use crate::exec::{Outcome, Session};
use crate::sql::{object_name, Schema};
use crate::types::function::{key, FunctionArg, FunctionDef, Returns};
use crate::types::table::{RelKind, TableDef};
use crate::types::PgType;

/// PostgreSQL's own function names: a function of one of these names
/// would be found before a user's of the same arguments in PostgreSQL
/// (pg_catalog comes first in the search path), where here the user's
/// would be inlined; so none may be created.
const BUILTIN: &str = include_str!("../../sql/pg_function_names.txt");

fn unsupported(what: &str) -> Error {
    Error::Unsupported(what.to_string())
}

/// The catalog name of the function `name` denotes: a new one's goes to
/// the search path's first schema (`creating`), an existing one's is
/// found along the path; `s.f` as written.
fn function_name(
    sess: &Session,
    name: &sqlparser::ast::ObjectName,
    creating: bool,
) -> Result<String> {
    let n = object_name(name);
    if creating {
        return super::schema::new_object_name(sess, &n);
    }
    Ok(super::schema::resolve_function(sess, &n))
}

fn body_text(e: &Expr) -> Result<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Ok(s.clone()),
            Value::DollarQuotedString(d) => Ok(d.value.clone()),
            _ => Err(unsupported("a function body that is not a string")),
        },
        _ => Err(unsupported("a function body that is not a string")),
    }
}

/// The body's one query, as SQL text.
fn body(cf: &CreateFunction) -> Result<String> {
    let text = match &cf.function_body {
        Some(CreateFunctionBody::AsBeforeOptions { body, .. })
        | Some(CreateFunctionBody::AsAfterOptions(body)) => body_text(body)?,
        Some(CreateFunctionBody::Return(e)) => return Ok(format!("SELECT {e}")),
        Some(_) => return Err(unsupported("BEGIN ATOMIC function bodies")),
        None => {
            return Err(Error::InvalidFunctionDefinition(
                "no function body specified".into(),
            ))
        }
    };
    let mut stmts = crate::sql::parse(&text)?;
    match (stmts.pop(), stmts.is_empty()) {
        (Some(sqlparser::ast::Statement::Query(q)), true) => Ok(q.to_string()),
        (Some(_), true) => Err(unsupported(
            "a SQL function whose body is not a query (INSERT, UPDATE, DELETE, DDL)",
        )),
        (None, _) => Err(unsupported("a SQL function with an empty body")),
        (Some(_), false) => Err(unsupported("a SQL function body of several statements")),
    }
}

fn args(cf: &CreateFunction) -> Result<Vec<FunctionArg>> {
    let mut out: Vec<FunctionArg> = Vec::new();
    for a in cf.args.iter().flatten() {
        if matches!(
            a.mode,
            Some(ArgMode::Out | ArgMode::InOut | ArgMode::Variadic)
        ) {
            return Err(unsupported("OUT, INOUT and VARIADIC function parameters"));
        }
        let default = a.default_expr.as_ref().map(|d| d.to_string());
        if default.is_none() && out.iter().any(|p| p.default.is_some()) {
            return Err(Error::InvalidFunctionDefinition(
                "input parameters after one with a default value must also have defaults".into(),
            ));
        }
        let (ty, domain) = typed(&a.data_type)?;
        out.push(FunctionArg {
            name: a.name.as_ref().map(crate::sql::ident_name),
            ty,
            default,
            domain,
        });
    }
    Ok(out)
}

/// An argument's or result's type: a domain's base type and its name, or
/// the type.
fn typed(dt: &DataType) -> Result<(PgType, Option<String>)> {
    Ok(match crate::types::domain::of_sql(dt) {
        Some(d) => (d.base, Some(d.name)),
        None => (PgType::from_sql(dt)?, None),
    })
}

fn returns(sess: &Session, cf: &CreateFunction) -> Result<Returns> {
    let columns_of = |dt: &DataType| -> Option<Vec<(String, PgType)>> {
        let DataType::Custom(name, _) = dt else {
            return None;
        };
        let def = sess.catalog().table(&object_name(name))?;
        Some(
            def.columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.clone()))
                .collect(),
        )
    };
    Ok(match &cf.return_type {
        None => {
            return Err(Error::InvalidFunctionDefinition(
                "function result type must be specified".into(),
            ))
        }
        Some(FunctionReturnType::DataType(DataType::Table(Some(cols)))) => Returns::Table(
            cols.iter()
                .map(|c| {
                    Ok((
                        crate::sql::ident_name(&c.name),
                        PgType::from_sql(&c.data_type)?,
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        Some(FunctionReturnType::SetOf(dt)) => match columns_of(dt) {
            Some(cols) => Returns::Table(cols),
            None => Returns::SetOf(PgType::from_sql(dt)?),
        },
        Some(FunctionReturnType::DataType(dt)) => {
            if columns_of(dt).is_some() {
                return Err(unsupported("a function returning a row type"));
            }
            if dt.to_string().eq_ignore_ascii_case("void") {
                return Err(unsupported("a function returning void"));
            }
            Returns::Scalar(typed(dt)?.0)
        }
    })
}

/// The domain a scalar result is of.
fn returns_domain(cf: &CreateFunction) -> Option<String> {
    match &cf.return_type {
        Some(FunctionReturnType::DataType(dt)) => crate::types::domain::of_sql(dt).map(|d| d.name),
        _ => None,
    }
}

/// The language: `sql` only.
fn language(cf: &CreateFunction) -> Result<()> {
    let lang = match (&cf.language, &cf.function_body) {
        (Some(l), _) => l.value.to_ascii_lowercase(),
        (None, Some(CreateFunctionBody::Return(_))) => "sql".into(),
        (None, _) => {
            return Err(Error::InvalidFunctionDefinition(
                "no language specified".into(),
            ))
        }
    };
    match lang.as_str() {
        "sql" => Ok(()),
        "plpgsql" | "c" | "internal" => Err(Error::Unsupported(format!(
            "LANGUAGE {lang} functions (MosaicDB runs LANGUAGE sql functions)"
        ))),
        other => Err(Error::NoSuchObject(format!(
            "language \"{other}\" does not exist"
        ))),
    }
}

/// A catalog that knows the function being created, for checking its body.
struct WithFunction<'a> {
    catalog: &'a dyn Schema,
    def: Arc<FunctionDef>,
}

impl Schema for WithFunction<'_> {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        self.catalog.table(name)
    }

    fn view(&self, name: &str) -> Option<Arc<TableDef>> {
        self.catalog.view(name)
    }

    fn function(&self, name: &str) -> Option<Arc<FunctionDef>> {
        match name == self.def.name {
            true => Some(self.def.clone()),
            false => self.catalog.function(name),
        }
    }
}

/// Check the body as PostgreSQL does at CREATE: it prepares with the
/// arguments' types, and its result fits the return type.
fn check(sess: &Session, f: &FunctionDef) -> Result<()> {
    let catalog = sess.catalog();
    let probe_args: Vec<String> = f
        .args
        .iter()
        .map(|a| format!("CAST(NULL AS {})", a.ty.display_name()))
        .collect();
    let declared = match &f.returns {
        Returns::Scalar(t) | Returns::SetOf(t) => t.display_name(),
        Returns::Table(_) => "record".into(),
    };
    let mismatch = |detail: String| {
        Error::InvalidFunctionDefinition(format!(
            "return type mismatch in function declared to return {declared}"
        ))
        .with_detail(detail)
    };
    // The body's own result, before the return type's cast.
    let body = crate::exec::prepare_single(&catalog, &substituted(f, &probe_args)?, &[])?;
    let want = match &f.returns {
        Returns::Scalar(_) | Returns::SetOf(_) => 1,
        Returns::Table(cols) => cols.len(),
    };
    if body.columns.len() != want {
        return Err(mismatch(match want {
            1 => "Final statement must return exactly one column.".into(),
            _ => format!("Final statement returns {} columns.", body.columns.len()),
        }));
    }
    let targets: Vec<&PgType> = match &f.returns {
        Returns::Scalar(t) | Returns::SetOf(t) => vec![t],
        Returns::Table(cols) => cols.iter().map(|(_, t)| t).collect(),
    };
    for (c, t) in body.columns.iter().zip(targets) {
        // Text has no assignment cast to other types (an unknown type,
        // which inference could not tell, is left to run).
        let text = |t: &PgType| matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_));
        if text(&c.ty) && !text(t) && *t != PgType::Unknown {
            return Err(mismatch(format!(
                "Actual return type is {}.",
                c.ty.display_name()
            )));
        }
    }
    // A call, inlined as every call will be.
    let with = WithFunction {
        catalog: &catalog,
        def: Arc::new(f.clone()),
    };
    let call = format!(
        "{}({})",
        crate::types::quote(&f.name),
        probe_args.join(", ")
    );
    let probe = match f.returns_set() {
        true => format!("SELECT * FROM {call}"),
        false => format!("SELECT {call}"),
    };
    crate::exec::prepare_single(&with, &probe, &[]).map(|_| ())
}

/// The body with its parameters replaced by `args` (SQL text each).
fn substituted(f: &FunctionDef, args: &[String]) -> Result<String> {
    let exprs = args
        .iter()
        .map(|a| crate::sql::parse_expr(a))
        .collect::<Result<Vec<_>>>()?;
    crate::sql::functions::body_with(f, &exprs).map(|q| q.to_string())
}

pub(super) fn create(sess: &mut Session, cf: &CreateFunction) -> Result<Outcome> {
    language(cf)?;
    if cf.temporary || cf.or_alter || cf.if_not_exists {
        return Err(unsupported(
            "CREATE TEMPORARY, OR ALTER or IF NOT EXISTS FUNCTION",
        ));
    }
    if matches!(cf.security, Some(FunctionSecurity::Definer)) {
        return Err(unsupported("SECURITY DEFINER functions"));
    }
    if !cf.set_params.is_empty() {
        return Err(unsupported("SET clauses of a function"));
    }
    let name = function_name(sess, &cf.name, true)?;
    if BUILTIN
        .lines()
        .any(|b| b == crate::types::schema::split(&name).1)
    {
        return Err(Error::Unsupported(format!(
            "a function named {name}, as one of PostgreSQL's own (MosaicDB would call this one where PostgreSQL calls its own)"
        )));
    }
    let f = FunctionDef {
        name: name.clone(),
        args: args(cf)?,
        returns: returns(sess, cf)?,
        body: body(cf)?,
        volatility: match cf.behavior {
            Some(FunctionBehavior::Immutable) => 'i',
            Some(FunctionBehavior::Stable) => 's',
            _ => 'v',
        },
        strict: matches!(
            cf.called_on_null,
            Some(FunctionCalledOnNull::Strict | FunctionCalledOnNull::ReturnsNullOnNullInput)
        ),
        returns_domain: returns_domain(cf),
    };
    let key = key(&name);
    let old = sess.catalog().object(&key);
    if let Some(old) = old.as_ref().and_then(|d| d.function().cloned()) {
        let same_args = old
            .args
            .iter()
            .map(|a| &a.ty)
            .eq(f.args.iter().map(|a| &a.ty));
        if !same_args {
            return Err(Error::Unsupported(format!(
                "a second function named {name} with other argument types (overloading)"
            )));
        }
        if !cf.or_replace {
            return Err(Error::DuplicateFunction(format!(
                "function \"{name}\" already exists with same argument types"
            )));
        }
        if old.returns != f.returns {
            return Err(Error::InvalidFunctionDefinition(
                "cannot change return type of existing function".into(),
            )
            .with_hint(format!("Use DROP FUNCTION {} first.", old.signature())));
        }
    }
    check(sess, &f)?;
    let def = TableDef {
        name: key.clone(),
        oid: match &old {
            Some(o) => o.oid,
            None => sess.store.next_oid()?,
        },
        kind: RelKind::Function(Box::new(f)),
        access: old.map(|o| o.access.clone()).unwrap_or_default(),
        ..Default::default()
    };
    record(sess, &key, Some(def))?;
    Ok(Outcome::Command("CREATE FUNCTION".into()))
}

pub(super) fn drop(sess: &mut Session, df: &DropFunction) -> Result<Outcome> {
    if matches!(
        df.drop_behavior,
        Some(sqlparser::ast::DropBehavior::Cascade)
    ) {
        return Err(unsupported("DROP FUNCTION … CASCADE"));
    }
    for desc in &df.func_desc {
        let name = function_name(sess, &desc.name, false)?;
        let key = key(&name);
        let def = sess.catalog().object(&key);
        let found = def.as_ref().and_then(|d| d.function().cloned());
        let asked: Option<Vec<PgType>> = desc
            .args
            .as_ref()
            .map(|a| a.iter().map(|a| PgType::from_sql(&a.data_type)).collect())
            .transpose()?;
        let matches = |f: &FunctionDef| match &asked {
            Some(types) => f.args.iter().map(|a| &a.ty).eq(types.iter()),
            None => true,
        };
        match found {
            Some(f) if matches(&f) => {
                if let Some(def) = &def {
                    // Messages name the function, not its catalog key.
                    let mut shown = (**def).clone();
                    shown.name = f.name.clone();
                    sess.check_owner(&shown)?;
                }
                record(sess, &key, None)?;
            }
            _ => {
                let shown = match &asked {
                    Some(types) => {
                        let t: Vec<String> = types.iter().map(PgType::display_name).collect();
                        format!("{name}({})", t.join(", "))
                    }
                    None => format!("{name}()"),
                };
                if df.if_exists {
                    sess.notice(
                        "00000",
                        format!("function {shown} does not exist, skipping"),
                    );
                    continue;
                }
                return Err(match asked {
                    Some(_) => Error::NoSuchFunction(shown),
                    // 42883 in PostgreSQL's other words.
                    None => {
                        Error::NoSuchOperator(format!("could not find a function named \"{name}\""))
                    }
                });
            }
        }
    }
    Ok(Outcome::Command("DROP FUNCTION".into()))
}
