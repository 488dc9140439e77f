//! CREATE, ALTER and DROP DOMAIN, read with sqlparser's own pieces (its
//! CREATE DOMAIN wants `AS`, takes no NOT NULL and no DEFAULT after a
//! constraint; it has no ALTER DOMAIN, and DROP DOMAIN of one name only).

use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions, visit_expressions_mut, DataType, Expr, Owner, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::error::{Error, Result};
use crate::types::PgType;

#[derive(Debug, Clone, PartialEq)]
pub enum DomainStatement {
    Create(CreateDomain),
    Alter {
        name: String,
        action: AlterDomain,
    },
    Drop {
        if_exists: bool,
        names: Vec<String>,
        cascade: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateDomain {
    pub name: String,
    pub base: DataType,
    pub default: Option<String>,
    pub not_null: bool,
    /// Each CHECK: the name it was given, and its expression's text.
    pub checks: Vec<(Option<String>, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AlterDomain {
    /// SET DEFAULT expr (`Some`), DROP DEFAULT (`None`).
    Default(Option<String>),
    /// SET NOT NULL (true), DROP NOT NULL (false).
    NotNull(bool),
    AddCheck {
        name: Option<String>,
        expr: String,
        not_valid: bool,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
    },
    RenameConstraint {
        from: String,
        to: String,
    },
    Validate(String),
    RenameTo(String),
    OwnerTo(Owner),
    SetSchema(String),
}

/// One constraint of CREATE DOMAIN or ALTER DOMAIN … ADD.
enum Constraint {
    NotNull(bool),
    Check(Option<String>, String),
}

/// The domain statement `sql` is, if it is one (`None`: leave it to
/// others).
pub fn parse(sql: &str) -> Option<Result<DomainStatement>> {
    let parser = Parser::new(&PostgreSqlDialect {}).try_with_sql(sql).ok()?;
    let mut p = Reader { p: parser, sql };
    let verb = (p.p).parse_one_of_keywords(&[Keyword::CREATE, Keyword::ALTER, Keyword::DROP])?;
    if !p.p.parse_keyword(Keyword::DOMAIN) {
        return None;
    }
    let r = match verb {
        Keyword::CREATE => p.create().map(DomainStatement::Create),
        Keyword::ALTER => p.alter(),
        _ => p.drop(),
    };
    let r = match r {
        Ok(_) if p.p.consume_token(&Token::SemiColon) && p.p.peek_token().token != Token::EOF => {
            // A script: `exec::parse_script` cuts it into its statements.
            return None;
        }
        Ok(s) => {
            let end = p.p.expect_token(&Token::EOF);
            p.ok(end).map(|_| s)
        }
        Err(e) => Err(e),
    };
    Some(r)
}

/// sqlparser's parser over `sql`, its errors in PostgreSQL's words.
struct Reader<'a> {
    p: Parser<'a>,
    sql: &'a str,
}

impl Reader<'_> {
    fn ok<T>(&self, r: std::result::Result<T, ParserError>) -> Result<T> {
        r.map_err(|e| super::syntax_error(self.sql, e))
    }

    fn expected<T>(&self, what: &str) -> Result<T> {
        let r = self.p.expected(what, self.p.peek_token());
        self.ok(r)
    }

    fn expr(&mut self) -> Result<String> {
        let e = self.p.parse_expr();
        Ok(self.ok(e)?.to_string())
    }

    /// A domain's name as the catalog keeps it (`public.` dropped).
    fn name(&mut self) -> Result<String> {
        let n = self.p.parse_object_name(false);
        Ok(super::object_name(&self.ok(n)?))
    }

    fn ident(&mut self) -> Result<String> {
        let i = self.p.parse_identifier();
        Ok(super::ident_name(&self.ok(i)?))
    }

    fn create(&mut self) -> Result<CreateDomain> {
        let name = self.name()?;
        let _ = self.p.parse_keyword(Keyword::AS);
        let base = self.p.parse_data_type();
        let mut out = CreateDomain {
            name,
            base: self.ok(base)?,
            default: None,
            not_null: false,
            checks: vec![],
        };
        let mut nullness = None;
        loop {
            if self.p.parse_keyword(Keyword::DEFAULT) {
                if out.default.is_some() {
                    return Err(Error::Syntax("multiple default expressions".into()));
                }
                out.default = Some(self.expr()?);
            } else if self.p.parse_keyword(Keyword::COLLATE) {
                return Err(Error::Unsupported(
                    "COLLATE in CREATE DOMAIN (MosaicDB compares text by its bytes)".into(),
                ));
            } else if let Some(c) = self.constraint()? {
                match c {
                    Constraint::NotNull(n) => {
                        if nullness.is_some_and(|was| was != n) {
                            return Err(Error::Syntax(
                                "conflicting NULL/NOT NULL constraints".into(),
                            ));
                        }
                        nullness = Some(n);
                        out.not_null = n;
                    }
                    Constraint::Check(n, e) => out.checks.push((n, e)),
                }
            } else {
                return Ok(out);
            }
        }
    }

    /// `[CONSTRAINT n] { NOT NULL | NULL | CHECK (expr) }`, if one follows.
    fn constraint(&mut self) -> Result<Option<Constraint>> {
        let named = self.p.parse_keyword(Keyword::CONSTRAINT);
        let name = if named { Some(self.ident()?) } else { None };
        if self.p.parse_keywords(&[Keyword::NOT, Keyword::NULL]) {
            return Ok(Some(Constraint::NotNull(true)));
        }
        if self.p.parse_keyword(Keyword::NULL) {
            return Ok(Some(Constraint::NotNull(false)));
        }
        if self.p.parse_keyword(Keyword::CHECK) {
            let open = self.p.expect_token(&Token::LParen);
            self.ok(open)?;
            let e = self.expr()?;
            let close = self.p.expect_token(&Token::RParen);
            self.ok(close)?;
            return Ok(Some(Constraint::Check(name, e)));
        }
        if named {
            return self.expected("NOT NULL, NULL or CHECK");
        }
        Ok(None)
    }

    fn alter(&mut self) -> Result<DomainStatement> {
        let name = self.name()?;
        let p = &mut self.p;
        let action = if p.parse_keywords(&[Keyword::SET, Keyword::DEFAULT]) {
            AlterDomain::Default(Some(self.expr()?))
        } else if p.parse_keywords(&[Keyword::DROP, Keyword::DEFAULT]) {
            AlterDomain::Default(None)
        } else if p.parse_keywords(&[Keyword::SET, Keyword::NOT, Keyword::NULL]) {
            AlterDomain::NotNull(true)
        } else if p.parse_keywords(&[Keyword::DROP, Keyword::NOT, Keyword::NULL]) {
            AlterDomain::NotNull(false)
        } else if p.parse_keyword(Keyword::ADD) {
            match self.constraint()? {
                Some(Constraint::Check(name, expr)) => AlterDomain::AddCheck {
                    name,
                    expr,
                    not_valid: self.p.parse_keywords(&[Keyword::NOT, Keyword::VALID]),
                },
                Some(Constraint::NotNull(n)) => AlterDomain::NotNull(n),
                None => return self.expected("CONSTRAINT, NOT NULL or CHECK"),
            }
        } else if p.parse_keywords(&[Keyword::DROP, Keyword::CONSTRAINT]) {
            let if_exists = p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let name = self.ident()?;
            let _ = (self.p).parse_one_of_keywords(&[Keyword::RESTRICT, Keyword::CASCADE]);
            AlterDomain::DropConstraint { name, if_exists }
        } else if p.parse_keywords(&[Keyword::RENAME, Keyword::CONSTRAINT]) {
            let from = self.ident()?;
            let to = self.p.expect_keyword(Keyword::TO);
            self.ok(to)?;
            AlterDomain::RenameConstraint {
                from,
                to: self.ident()?,
            }
        } else if p.parse_keywords(&[Keyword::VALIDATE, Keyword::CONSTRAINT]) {
            AlterDomain::Validate(self.ident()?)
        } else if p.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
            AlterDomain::RenameTo(self.ident()?)
        } else if p.parse_keywords(&[Keyword::OWNER, Keyword::TO]) {
            let owner = self.p.parse_owner();
            AlterDomain::OwnerTo(self.ok(owner)?)
        } else if p.parse_keywords(&[Keyword::SET, Keyword::SCHEMA]) {
            AlterDomain::SetSchema(self.ident()?)
        } else {
            return self.expected("an ALTER DOMAIN action");
        };
        Ok(DomainStatement::Alter { name, action })
    }

    fn drop(&mut self) -> Result<DomainStatement> {
        let if_exists = self.p.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let mut names = vec![self.name()?];
        while self.p.consume_token(&Token::Comma) {
            names.push(self.name()?);
        }
        let behavior = (self.p).parse_one_of_keywords(&[Keyword::RESTRICT, Keyword::CASCADE]);
        Ok(DomainStatement::Drop {
            if_exists,
            names,
            cascade: behavior == Some(Keyword::CASCADE),
        })
    }
}

/// A domain CHECK's expression (`expr`, over `VALUE`) with `value`, SQL
/// text, in place of `VALUE`.
pub fn over(expr: &str, value: &str) -> Result<String> {
    let value = super::parse_expr(value)?;
    Ok(over_expr(expr, &value)?.to_string())
}

/// The same, as an expression.
pub fn over_expr(expr: &str, value: &Expr) -> Result<Expr> {
    let mut e = super::parse_expr(expr)?;
    let _ = visit_expressions_mut(&mut e, |x| {
        if let Expr::Identifier(id) = x {
            if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("value") {
                *x = value.clone();
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(e)
}

/// A domain CHECK (over `VALUE`) as SQLite SQL over column `column` of
/// the domain's base type `base`.
pub fn check_to_sqlite(expr: &str, column: &str, base: &PgType) -> Result<String> {
    let value = Expr::Identifier(sqlparser::ast::Ident::with_quote('"', column));
    let e = over_expr(expr, &value)?;
    let mut refused = None;
    let _ = visit_expressions(&e, |x| {
        if matches!(
            x,
            Expr::Subquery(_)
                | Expr::Exists { .. }
                | Expr::In {
                    target: sqlparser::ast::InTarget::Subquery(_),
                    ..
                }
        ) {
            refused = Some(Error::Unsupported(
                "cannot use subquery in check constraint".into(),
            ));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    if let Some(e) = refused {
        return Err(e);
    }
    super::check_to_sqlite(&e.to_string(), &[(column.to_string(), base.clone())])
}

/// The function a cast to a domain becomes (`store::udf` runs it).
pub const CHECK_FUNCTION: &str = "pg_domain_check";

/// Casts to a domain (`x::d`, `CAST(x AS d)`, `d '…'`) as casts to its
/// base type checked by `pg_domain_check(v, 'd', not_null, 'c1', ok1, …)`,
/// each `ok` a CHECK (in the order PostgreSQL applies them) over `v`,
/// which is written once per CHECK: a value from a volatile function,
/// which would not be one value, is refused.
pub fn expand_casts(stmt: &mut sqlparser::ast::Statement) -> Result<()> {
    if !crate::types::domain::any_in_scope() {
        return Ok(());
    }
    let mut failed = None;
    let _ = visit_expressions_mut(stmt, |e| match checked_cast(e) {
        Ok(Some(new)) => {
            *e = new;
            ControlFlow::Continue(())
        }
        Ok(None) => ControlFlow::Continue(()),
        Err(x) => {
            failed = Some(x);
            ControlFlow::Break(())
        }
    });
    failed.map_or(Ok(()), Err)
}

fn checked_cast(e: &Expr) -> Result<Option<Expr>> {
    let (inner, dt, kind) = match e {
        Expr::Cast {
            kind,
            expr,
            data_type,
            format: None,
        } => ((**expr).clone(), data_type, kind.clone()),
        Expr::TypedString(ts) => (
            Expr::Value(ts.value.clone()),
            &ts.data_type,
            sqlparser::ast::CastKind::Cast,
        ),
        _ => return Ok(None),
    };
    let Some(d) = crate::types::domain::of_sql(dt) else {
        if let DataType::Array(sqlparser::ast::ArrayElemTypeDef::SquareBracket(elem, _)) = dt {
            if let Some(d) = crate::types::domain::of_sql(elem) {
                return Err(Error::Unsupported(format!("arrays of domain {}", d.name)));
            }
        }
        return Ok(None);
    };
    let base = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&d.base.display_name())
        .and_then(|mut p| p.parse_data_type())
        .map_err(|e| Error::Internal(format!("the base type of domain {}: {e}", d.name)))?;
    let v = Expr::Cast {
        kind,
        expr: Box::new(inner),
        data_type: base,
        format: None,
    };
    let checks = d.checks_in_order();
    if !checks.is_empty() && super::functions::calls_volatile(&v) {
        return Err(Error::Unsupported(format!(
            "a cast of a volatile expression to domain {} (its CHECK would read another value)",
            d.name
        )));
    }
    let text = |s: &str| Expr::Value(Value::SingleQuotedString(s.to_string()).into());
    let not_null = super::parse_expr(if d.not_null { "1" } else { "0" })?;
    let mut args = vec![v.clone(), text(&d.name), not_null];
    for c in checks {
        args.push(text(&c.name));
        args.push(over_expr(&c.expr, &v)?);
    }
    Ok(Some(super::build::call(CHECK_FUNCTION, args)))
}

/// The cast to a domain a `pg_domain_check` call was made of, to name its
/// column as PostgreSQL names the cast's.
pub fn as_cast(e: &Expr) -> Option<Expr> {
    let Expr::Function(f) = e else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case(CHECK_FUNCTION) {
        return None;
    }
    let sqlparser::ast::FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let arg = |i: usize| match list.args.get(i) {
        Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(e))) => {
            Some(e)
        }
        _ => None,
    };
    let (Some(Expr::Cast { kind, expr, .. }), Some(Expr::Value(name))) = (arg(0), arg(1)) else {
        return None;
    };
    let Value::SingleQuotedString(name) = &name.value else {
        return None;
    };
    Some(Expr::Cast {
        kind: kind.clone(),
        expr: expr.clone(),
        data_type: DataType::Custom(
            sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new(name.clone())]),
            vec![],
        ),
        format: None,
    })
}
