//! `CURRENT_USER`, `SESSION_USER`, `CURRENT_ROLE` and `USER` in a query are the session's
//! role name, the same on every node: a fragment a peer runs for the
//! statement would otherwise answer with the peer's own session. The
//! session writes its name in before the statement is typed, keeping the
//! column name PostgreSQL gives the item. `CURRENT_SCHEMA` without
//! parentheses (a keyword to PostgreSQL, a name to the parser) becomes
//! the call, named the same way.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FunctionArguments, Ident, SelectItem, SetExpr, Statement, Value, VisitMut, VisitorMut,
};

fn user_function(e: &Expr) -> Option<String> {
    // CURRENT_ROLE and CURRENT_SCHEMA are keywords to PostgreSQL and
    // names to the parser.
    if let Expr::Identifier(id) = e {
        let name = id.value.to_ascii_lowercase();
        return (id.quote_style.is_none()
            && matches!(name.as_str(), "current_role" | "current_schema"))
        .then_some(name);
    }
    let Expr::Function(f) = e else { return None };
    if !matches!(f.args, FunctionArguments::None) {
        return None;
    }
    let name = crate::sql::object_name(&f.name).to_ascii_lowercase();
    matches!(name.as_str(), "current_user" | "session_user" | "user").then_some(name)
}

/// Replace the user functions of a query, INSERT, UPDATE or DELETE with
/// the role names as strings: `session_user` with `session`, the others
/// with `current` (DDL keeps them: a DEFAULT or a view runs them later).
pub fn substitute(stmt: &mut Statement, current: &str, session: &str) {
    if !matches!(
        stmt,
        Statement::Query(_)
            | Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)
    ) {
        return;
    }
    if let Statement::Query(q) = stmt {
        name_items(&mut q.body);
    }
    struct V<'a>(&'a str, &'a str);
    impl VisitorMut for V<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
            match user_function(e).as_deref() {
                // Not the session's: the call with parentheses.
                Some("current_schema") => {
                    *e = crate::sql::build::call("current_schema", vec![]);
                }
                Some(f) => {
                    let name = if f == "session_user" { self.1 } else { self.0 };
                    *e = Expr::Value(Value::SingleQuotedString(name.to_string()).into());
                }
                None => {}
            }
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut V(current, session));
}

/// An unaliased `SELECT current_user` keeps its column name.
fn name_items(body: &mut SetExpr) {
    match body {
        SetExpr::Select(s) => {
            for item in &mut s.projection {
                if let SelectItem::UnnamedExpr(e) = item {
                    if let Some(name) = user_function(e) {
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias: Ident::with_quote('"', name),
                        };
                    }
                }
            }
        }
        SetExpr::SetOperation { left, .. } => name_items(left),
        SetExpr::Query(q) => name_items(&mut q.body),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_session_user_is_written_in() {
        let mut stmt = crate::sql::parse(
            "SELECT current_user, x FROM t WHERE o = session_user OR o = current_role",
        )
        .unwrap_or_default()
        .remove(0);
        super::substitute(&mut stmt, "alice", "bob");
        assert_eq!(
            stmt.to_string(),
            "SELECT 'alice' AS \"current_user\", x FROM t WHERE o = 'bob' OR o = 'alice'"
        );
        let mut ddl = crate::sql::parse("CREATE TABLE t (o text DEFAULT current_user)")
            .unwrap_or_default()
            .remove(0);
        let before = ddl.to_string();
        super::substitute(&mut ddl, "alice", "alice");
        assert_eq!(ddl.to_string(), before);
    }
}
