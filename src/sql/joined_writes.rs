//! `UPDATE t SET … FROM u … WHERE cond` and `DELETE FROM t USING u …
//! WHERE cond`, in the forms every write path already runs: correlated
//! subqueries over the other tables.
//!
//! - DELETE … USING deletes the target rows for which some row of the
//!   other tables satisfies `cond`: `WHERE EXISTS (SELECT 1 FROM u WHERE
//!   cond)`.
//! - UPDATE … FROM changes those same rows, each once, with values from
//!   one matching row: every SET value is read as `(SELECT value FROM u
//!   WHERE cond LIMIT 1)`. PostgreSQL takes an unpredictable one of several
//!   matching rows; here every SET value of a target row comes from the
//!   same first match, since the subqueries differ only in what they
//!   select.
//!
//! RETURNING may name the target's columns only (the other tables are not
//! in its scope any more: naming one is an error, never a wrong value).

use sqlparser::ast::{Delete, Expr, Statement, TableWithJoins, Update, UpdateTableFromKind};

use crate::error::{Error, Result};

/// Rewrite `stmt` in place if it is an UPDATE … FROM or DELETE … USING.
pub fn expand(stmt: &mut Statement) -> Result<()> {
    match stmt {
        Statement::Update(u) => update(u),
        Statement::Delete(d) => delete(d),
        _ => Ok(()),
    }
}

fn update(u: &mut Update) -> Result<()> {
    let from = match u.from.take() {
        None => return Ok(()),
        Some(UpdateTableFromKind::AfterSet(f)) => f,
        Some(UpdateTableFromKind::BeforeSet(_)) => {
            return Err(Error::Unsupported("UPDATE FROM … SET".into()))
        }
    };
    let cond = u.selection.take();
    for a in &mut u.assignments {
        if crate::sql::is_default_keyword(&a.value) {
            continue;
        }
        let value = std::mem::replace(
            &mut a.value,
            Expr::Value(sqlparser::ast::Value::Null.into()),
        );
        a.value = scalar(value, &from, cond.as_ref())?;
    }
    u.selection = Some(exists(&from, cond)?);
    Ok(())
}

fn delete(d: &mut Delete) -> Result<()> {
    let Some(using) = d.using.take() else {
        return Ok(());
    };
    let cond = d.selection.take();
    d.selection = Some(exists(&using, cond)?);
    Ok(())
}

fn from_list(from: &[TableWithJoins]) -> String {
    from.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn where_clause(cond: Option<&Expr>) -> String {
    cond.map(|c| format!(" WHERE {c}")).unwrap_or_default()
}

/// `EXISTS (SELECT 1 FROM from WHERE cond)`.
fn exists(from: &[TableWithJoins], cond: Option<Expr>) -> Result<Expr> {
    let sql = format!(
        "EXISTS (SELECT 1 FROM {}{})",
        from_list(from),
        where_clause(cond.as_ref())
    );
    crate::sql::parse_expr(&sql)
}

/// `(SELECT value FROM from WHERE cond LIMIT 1)`.
fn scalar(value: Expr, from: &[TableWithJoins], cond: Option<&Expr>) -> Result<Expr> {
    let sql = format!(
        "(SELECT {value} FROM {}{} LIMIT 1)",
        from_list(from),
        where_clause(cond)
    );
    crate::sql::parse_expr(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut stmt = crate::sql::parse(sql).unwrap().pop().unwrap();
        expand(&mut stmt).unwrap();
        stmt.to_string()
    }

    #[test]
    fn joined_writes_become_correlated_subqueries() {
        assert_eq!(
            rewritten("UPDATE t SET a = u.b, c = DEFAULT FROM u WHERE t.id = u.id"),
            "UPDATE t SET a = (SELECT u.b FROM u WHERE t.id = u.id LIMIT 1), c = DEFAULT \
             WHERE EXISTS (SELECT 1 FROM u WHERE t.id = u.id)"
        );
        assert_eq!(
            rewritten("DELETE FROM t USING u, v WHERE t.id = u.id AND u.k = v.k"),
            "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u, v WHERE t.id = u.id AND u.k = v.k)"
        );
        assert_eq!(rewritten("UPDATE t SET a = 1"), "UPDATE t SET a = 1");
    }
}
