//! PostgreSQL type inference: the names and types of a statement's result
//! columns and the types of its `$n` parameters, from the catalog and the
//! AST (never from SQLite's dynamic types). Runs on the PostgreSQL AST,
//! before `sql::rewrite`.

mod arrays;
mod expr;
mod names;
mod params;
pub(crate) mod typed;
pub(crate) mod using;

use sqlparser::ast::{
    FromTable, Ident, ObjectName, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Statement, TableAlias, TableFactor, TableObject, TableWithJoins, UpdateTableFromKind,
};

use crate::error::{Error, Result};
use crate::sql::Schema;
use crate::types::PgType;

pub use params::param_types;
pub use typed::{assignment_mismatch, cast_to, type_numeric, type_numeric_expr, typed_default};
pub use using::spell_out_merged;

/// Output columns of `stmt` (a query, or the RETURNING list of a write), as
/// PostgreSQL names and types them: `count(*)` is `count` of type int8,
/// `a + 1` is `?column?`, and so on. Empty for statements without rows.
pub fn result_columns(
    stmt: &Statement,
    catalog: &dyn Schema,
    params: &[PgType],
) -> Result<Vec<(String, PgType)>> {
    let mut env = Env::new(catalog, params);
    match stmt {
        Statement::Query(q) => env.query_cols(q),
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
            let (rels, returning) = env.write_scope(stmt)?;
            match returning {
                Some(items) => env.with_scope(rels, |env| env.projection(items)),
                None => Ok(vec![]),
            }
        }
        _ => Ok(vec![]),
    }
}

type Cols = Vec<(String, PgType)>;

/// One relation in a FROM list: its visible name and its columns.
#[derive(Clone, Default)]
struct Rel {
    name: String,
    cols: Cols,
    /// Other names of columns, which `*` does not list (a set-returning
    /// function's alias names its one column: `jsonb_array_elements(d)
    /// AS e` reads as `e` or `e.value`).
    synonyms: Cols,
    /// A table of the catalog (not a view, system relation, CTE, subquery
    /// or function): its columns' types are declared, exactly PostgreSQL's.
    stored: bool,
    /// Columns of a subquery in FROM (or a CTE) made only of quoted
    /// literals or NULLs: text for certain, as PostgreSQL resolves them.
    literal_text: Vec<String>,
    /// The columns of a stored table that are of a domain, and its name.
    domains: Vec<(String, String)>,
}

/// A CTE in scope: its name, its columns, and the positions of those made
/// only of quoted literals or NULLs (`Rel::literal_text`).
type Cte = (String, Cols, Vec<usize>);

/// What inference knows at a point of the AST: the catalog, the CTEs in
/// scope, and the FROM scopes from outermost to innermost (for correlated
/// subqueries).
struct Env<'a> {
    catalog: &'a dyn Schema,
    params: &'a [PgType],
    ctes: Vec<Cte>,
    scopes: Vec<Vec<Rel>>,
    /// For visitors: whether each statement entered pushed a scope, and
    /// how many CTEs were in scope before each query entered.
    statement_scopes: Vec<bool>,
    cte_marks: Vec<usize>,
}

/// An identifier as PostgreSQL folds it: unquoted names are lowercased.
fn norm(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p.as_ident() {
            Some(id) => norm(id),
            None => p.to_string(),
        })
        .collect()
}

/// A subquery's columns made only of quoted literals or NULLs (a
/// SELECT's items, a VALUES list's columns) are text, as PostgreSQL
/// resolves them; returns their names.
fn literal_text(q: &Query, cols: &mut Cols) -> Vec<String> {
    let untyped = |e: &sqlparser::ast::Expr| {
        expr::is_quoted(e)
            || matches!(e, sqlparser::ast::Expr::Value(v) if v.value == sqlparser::ast::Value::Null)
    };
    let literal: Vec<bool> = match q.body.as_ref() {
        SetExpr::Select(sel) => (sel.projection.iter())
            .map(|i| match i {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    untyped(e)
                }
                _ => false,
            })
            .collect(),
        SetExpr::Values(v) => (0..cols.len())
            .map(|j| v.rows.iter().all(|r| r.get(j).is_some_and(untyped)))
            .collect(),
        _ => vec![],
    };
    if literal.len() != cols.len() {
        return vec![];
    }
    let mut names = Vec::new();
    for ((name, ty), lit) in cols.iter_mut().zip(literal) {
        if lit && matches!(ty, PgType::Unknown | PgType::Text) {
            *ty = PgType::Text;
            names.push(name.clone());
        }
    }
    names
}

fn apply_alias(cols: &mut Cols, alias: Option<&TableAlias>) {
    if let Some(a) = alias {
        for (c, new) in cols.iter_mut().zip(&a.columns) {
            c.0 = norm(&new.name);
        }
    }
}

/// The set-returning json function a FROM item names, if it does:
/// (unqualified name, what it reads, jsonb, as text).
pub(crate) fn json_function(
    name: &ObjectName,
) -> Option<(String, crate::types::json::Items, bool, bool)> {
    let full = crate::sql::object_name(name);
    let short = full
        .strip_prefix("pg_catalog.")
        .unwrap_or(&full)
        .to_string();
    let (what, jsonb, text) = crate::types::json::Items::of(&short)?;
    Some((short, what, jsonb, text))
}

/// The relation a set-returning json function in FROM is: `value` (and
/// `key` for `_each`), or one column named by its alias or the function
/// (`_object_keys`); `ordinality` WITH ORDINALITY.
fn json_function_rel(name: &ObjectName, alias: Option<&TableAlias>, with_ordinality: bool) -> Rel {
    use crate::types::json::Items;
    let Some((fname, what, jsonb, text)) = json_function(name) else {
        return Rel::default();
    };
    let value = match (text, jsonb) {
        (true, _) => PgType::Text,
        (false, true) => PgType::Jsonb,
        (false, false) => PgType::Json,
    };
    let rel_name = alias.map_or_else(|| fname.clone(), |a| norm(&a.name));
    let mut cols: Cols = match what {
        Items::Elements => vec![("value".into(), value.clone())],
        Items::Each => vec![
            ("key".into(), PgType::Text),
            ("value".into(), value.clone()),
        ],
        Items::Keys => vec![(rel_name.clone(), PgType::Text)],
    };
    if with_ordinality {
        cols.push(("ordinality".into(), PgType::Int8));
    }
    apply_alias(&mut cols, alias);
    let synonyms = match (what, alias) {
        (Items::Elements, Some(a)) if a.columns.is_empty() => vec![(rel_name.clone(), value)],
        _ => vec![],
    };
    Rel {
        name: rel_name,
        cols,
        synonyms,
        ..Rel::default()
    }
}

impl<'a> Env<'a> {
    fn new(catalog: &'a dyn Schema, params: &'a [PgType]) -> Env<'a> {
        Env {
            catalog,
            params,
            ctes: vec![],
            scopes: vec![],
            statement_scopes: vec![],
            cte_marks: vec![],
        }
    }

    /// A visitor enters a statement: an INSERT, UPDATE or DELETE brings
    /// its target (and FROM) into scope until [`Env::leave_statement`].
    fn enter_statement(&mut self, s: &Statement) {
        let scope = match s {
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                self.write_scope(s).ok().map(|(rels, _)| rels)
            }
            _ => None,
        };
        // ON CONFLICT DO UPDATE reads the row proposed for insertion as
        // `excluded`, with the target's columns.
        let scope = scope.map(|mut rels| {
            if let Statement::Insert(ins) = s {
                let upsert = matches!(
                    &ins.on,
                    Some(sqlparser::ast::OnInsert::OnConflict(oc))
                        if matches!(oc.action, sqlparser::ast::OnConflictAction::DoUpdate(_))
                );
                if let (true, Some(target)) = (upsert, rels.first()) {
                    let excluded = Rel {
                        name: "excluded".into(),
                        cols: target.cols.clone(),
                        ..Rel::default()
                    };
                    rels.push(excluded);
                }
            }
            rels
        });
        self.statement_scopes.push(scope.is_some());
        if let Some(rels) = scope {
            self.scopes.push(rels);
        }
    }

    fn leave_statement(&mut self) {
        if self.statement_scopes.pop() == Some(true) {
            self.scopes.pop();
        }
    }

    /// A visitor enters a query: its CTEs are in scope until
    /// [`Env::leave_query`].
    pub(super) fn enter_query(&mut self, q: &Query) {
        self.cte_marks.push(self.ctes.len());
        let _ = self.push_ctes(q);
    }

    pub(super) fn leave_query(&mut self) {
        if let Some(mark) = self.cte_marks.pop() {
            self.ctes.truncate(mark);
        }
    }

    fn with_scope<T>(&mut self, rels: Vec<Rel>, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(rels);
        let r = f(self);
        self.scopes.pop();
        r
    }

    /// Register a query's CTEs; returns how many to drop afterwards.
    fn push_ctes(&mut self, q: &Query) -> Result<usize> {
        let mark = self.ctes.len();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let mut cols = self.query_cols(&cte.query)?;
                let literal = literal_text(&cte.query, &mut cols);
                let positions = (cols.iter().enumerate())
                    .filter(|(_, (n, _))| literal.contains(n))
                    .map(|(i, _)| i)
                    .collect();
                apply_alias(&mut cols, Some(&cte.alias));
                self.ctes.push((norm(&cte.alias.name), cols, positions));
            }
        }
        Ok(mark)
    }

    fn query_cols(&mut self, q: &Query) -> Result<Cols> {
        let mark = self.push_ctes(q)?;
        let r = self.set_cols(&q.body);
        self.ctes.truncate(mark);
        r
    }

    fn set_cols(&mut self, body: &SetExpr) -> Result<Cols> {
        match body {
            SetExpr::Select(s) => {
                let rels = self.scope_of(&s.from)?;
                self.with_scope(rels, |env| env.projection(&s.projection))
            }
            SetExpr::Query(q) => self.query_cols(q),
            SetExpr::SetOperation { left, right, .. } => {
                let mut cols = self.set_cols(left)?;
                // The right arm may not type on its own (a recursive CTE's
                // names itself): the left arm's types stand then.
                let other = self.set_cols(right).unwrap_or_default();
                for (c, (_, t)) in cols.iter_mut().zip(other) {
                    c.1 = expr::common_type(&[c.1.clone(), t]);
                }
                Ok(cols)
            }
            // Each column of the type all its rows resolve to, as a UNION's
            // arms do (`VALUES (1), (2.5)` is numeric).
            SetExpr::Values(v) => {
                let width = v.rows.first().map_or(0, |r| r.content.len());
                (0..width)
                    .map(|i| {
                        let column: Vec<&sqlparser::ast::Expr> =
                            v.rows.iter().filter_map(|r| r.content.get(i)).collect();
                        Ok((format!("column{}", i + 1), self.resolved(&column)?))
                    })
                    .collect()
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => {
                let (rels, returning) = self.write_scope(s)?;
                match returning {
                    Some(items) => self.with_scope(rels, |env| env.projection(items)),
                    None => Ok(vec![]),
                }
            }
            other => Err(Error::Unsupported(format!("query form {other}"))),
        }
    }

    fn scope_of(&mut self, from: &[TableWithJoins]) -> Result<Vec<Rel>> {
        let mut rels = vec![];
        for twj in from {
            self.factor(&twj.relation, &mut rels)?;
            for j in &twj.joins {
                self.factor(&j.relation, &mut rels)?;
            }
        }
        Ok(rels)
    }

    fn factor(&mut self, tf: &TableFactor, out: &mut Vec<Rel>) -> Result<()> {
        match tf {
            TableFactor::Table {
                name,
                alias,
                args: Some(_),
                with_ordinality,
                ..
            } if json_function(name).is_some() => {
                out.push(json_function_rel(name, alias.as_ref(), *with_ordinality));
            }
            TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality,
                ..
            } if crate::sql::rewrite::pg_catalog::is_table_function(name) => {
                let (default, mut ty) =
                    crate::sql::rewrite::pg_catalog::table_function_column(name);
                // A series of timestamps (typed::interval builds it).
                if default == "generate_series" {
                    ty = self.series_type(&args.args, ty)?;
                }
                let col = alias
                    .as_ref()
                    .map(|a| norm(&a.name))
                    .unwrap_or_else(|| default.into());
                let mut cols: Cols = vec![(col.clone(), ty.clone())];
                if default == "unnest" {
                    // One column per array, of its element type (text for
                    // the catalog's arrays, which are typed text).
                    cols.clear();
                    for a in &args.args {
                        if let sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(x),
                        ) = a
                        {
                            // The FROM items before it are in scope (a function
                            // in FROM is implicitly LATERAL).
                            self.scopes.push(out.clone());
                            let own = self.expr_type(x);
                            self.scopes.pop();
                            let own = own?;
                            let elem = match own {
                                PgType::Array(elem) => *elem,
                                _ => ty.clone(),
                            };
                            let name = if args.args.len() == 1 {
                                col.clone()
                            } else {
                                default.into()
                            };
                            cols.push((name, elem));
                        }
                    }
                }
                if *with_ordinality {
                    cols.push(("ordinality".into(), PgType::Int8));
                }
                apply_alias(&mut cols, alias.as_ref());
                out.push(Rel {
                    name: col,
                    cols,
                    ..Rel::default()
                });
            }
            TableFactor::Table { name, alias, .. } => out.push(self.named_rel(name, alias)?),
            TableFactor::Derived {
                subquery,
                alias,
                lateral,
                ..
            } => {
                // A LATERAL subquery sees the FROM items before it
                // (`typed::lateral` runs it through SQLite's `json_each`).
                if *lateral {
                    self.scopes.push(out.clone());
                }
                let cols = self.query_cols(subquery);
                if *lateral {
                    self.scopes.pop();
                }
                let mut cols = cols?;
                apply_alias(&mut cols, alias.as_ref());
                let literal_text = literal_text(subquery, &mut cols);
                out.push(Rel {
                    name: alias.as_ref().map(|a| norm(&a.name)).unwrap_or_default(),
                    cols,
                    literal_text,
                    ..Rel::default()
                });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                self.factor(&table_with_joins.relation, out)?;
                for j in &table_with_joins.joins {
                    self.factor(&j.relation, out)?;
                }
            }
            other => return Err(Error::Unsupported(format!("FROM item {other}"))),
        }
        Ok(())
    }

    /// A relation named in FROM (a CTE or a catalog table), as the query
    /// calls it.
    fn named_rel(
        &self,
        name: &ObjectName,
        alias: &Option<sqlparser::ast::TableAlias>,
    ) -> Result<Rel> {
        let mut cols = self.relation(name)?;
        apply_alias(&mut cols, alias.as_ref());
        let literal_text = (self.cte(name).map(|(_, _, p)| p.as_slice()))
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| cols.get(i).map(|(n, _)| n.clone()))
            .collect();
        let parts = name_parts(name);
        let rel_name = match alias {
            Some(a) => norm(&a.name),
            None => parts.last().cloned().unwrap_or_default(),
        };
        let stored = self.stored_table(name);
        let domains = match self.catalog.table(&crate::sql::object_name(name)) {
            Some(def) if stored => (def.columns.iter())
                .filter_map(|c| Some((c.name.clone(), c.domain.as_ref()?.name.clone())))
                .collect(),
            _ => vec![],
        };
        Ok(Rel {
            name: rel_name,
            cols,
            stored,
            literal_text,
            domains,
            ..Rel::default()
        })
    }

    /// The CTE in scope a relation name denotes, if any.
    fn cte(&self, name: &ObjectName) -> Option<&Cte> {
        match name_parts(name).as_slice() {
            [one] => self.ctes.iter().rev().find(|(n, _, _)| n == one),
            _ => None,
        }
    }

    /// Columns of a named relation: a CTE in scope, else a catalog table.
    fn relation(&self, name: &ObjectName) -> Result<Cols> {
        let parts = name_parts(name);
        if let Some((_, cols, _)) = self.cte(name) {
            return Ok(cols.clone());
        }
        match self.catalog.table(&crate::sql::object_name(name)) {
            Some(def) => Ok(def
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.clone()))
                .collect()),
            None => Err(Error::NoSuchTable(parts.join("."))),
        }
    }

    /// Whether `name` is a table of the catalog (not a CTE, view or
    /// system relation; those have no oid).
    fn stored_table(&self, name: &ObjectName) -> bool {
        let parts = name_parts(name);
        let cte = parts.len() == 1 && self.ctes.iter().any(|(n, _, _)| Some(n) == parts.last());
        !cte && self
            .catalog
            .table(&crate::sql::object_name(name))
            .is_some_and(|d| d.is_table() && d.oid != 0)
    }

    /// The domain of `e` when it is a bare column of a table whose type
    /// is a domain (`pg_typeof` names it).
    pub(super) fn column_domain(&self, e: &sqlparser::ast::Expr) -> Option<String> {
        use sqlparser::ast::Expr;
        let (qualifier, name) = match e {
            Expr::Identifier(id) => (None, norm(id)),
            Expr::CompoundIdentifier(ids) if ids.len() == 2 => (Some(norm(&ids[0])), norm(&ids[1])),
            Expr::Nested(inner) => return self.column_domain(inner),
            _ => return None,
        };
        let (rel, _) = self.scoped_column(qualifier.as_deref(), &name)?;
        let found = rel.domains.iter().find(|(c, _)| *c == name);
        found.map(|(_, d)| d.clone())
    }

    /// Whether `e` is a bare column whose type is certain: a catalog
    /// table's (as declared, not a synonym), or a FROM subquery's made only
    /// of quoted literals or NULLs (text, as PostgreSQL resolves it).
    pub(super) fn certain_column(&self, e: &sqlparser::ast::Expr) -> bool {
        use sqlparser::ast::Expr;
        let (qualifier, name) = match e {
            Expr::Identifier(id) => (None, norm(id)),
            Expr::CompoundIdentifier(ids) if ids.len() == 2 => (Some(norm(&ids[0])), norm(&ids[1])),
            Expr::Nested(inner) => return self.certain_column(inner),
            _ => return false,
        };
        self.scoped_column(qualifier.as_deref(), &name)
            .is_some_and(|(rel, _)| {
                (rel.stored && rel.cols.iter().any(|(c, _)| *c == name))
                    || rel.literal_text.contains(&name)
            })
    }

    /// The target scope and RETURNING list of an INSERT/UPDATE/DELETE.
    fn write_scope<'s>(
        &mut self,
        stmt: &'s Statement,
    ) -> Result<(Vec<Rel>, Option<&'s Vec<SelectItem>>)> {
        match stmt {
            Statement::Insert(ins) => {
                let TableObject::TableName(name) = &ins.table else {
                    return Err(Error::Unsupported("INSERT into a table function".into()));
                };
                let cols = self.relation(name)?;
                let rel_name = match &ins.table_alias {
                    Some(a) => norm(&a.alias),
                    None => name_parts(name).last().cloned().unwrap_or_default(),
                };
                let rel = Rel {
                    name: rel_name,
                    cols,
                    ..Rel::default()
                };
                Ok((vec![rel], ins.returning.as_ref()))
            }
            Statement::Update(u) => {
                let mut from = vec![u.table.clone()];
                if let Some(UpdateTableFromKind::BeforeSet(f) | UpdateTableFromKind::AfterSet(f)) =
                    &u.from
                {
                    from.extend(f.iter().cloned());
                }
                Ok((self.scope_of(&from)?, u.returning.as_ref()))
            }
            Statement::Delete(d) => {
                let (FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f)) = &d.from;
                let mut rels = self.scope_of(f)?;
                if let Some(using) = &d.using {
                    rels.extend(self.scope_of(using)?);
                }
                Ok((rels, d.returning.as_ref()))
            }
            _ => Ok((vec![], None)),
        }
    }

    fn projection(&mut self, items: &[SelectItem]) -> Result<Cols> {
        let mut out = vec![];
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let ty = self.expr_type(e)?;
                    out.push((self.expr_name(e), ty));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    out.push((norm(alias), self.expr_type(expr)?));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let name = aliases.first().map(norm).unwrap_or_default();
                    out.push((name, self.expr_type(expr)?));
                }
                SelectItem::Wildcard(_) => {
                    let scope = self.scopes.last().map(Vec::as_slice).unwrap_or_default();
                    out.extend(scope.iter().flat_map(|r| r.cols.iter().cloned()));
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let SelectItemQualifiedWildcardKind::ObjectName(name) = kind else {
                        return Err(Error::Unsupported("expression.*".into()));
                    };
                    let qual = name_parts(name).last().cloned().unwrap_or_default();
                    let rel = self
                        .scopes
                        .iter()
                        .rev()
                        .flat_map(|s| s.iter())
                        .find(|r| r.name == qual)
                        .ok_or_else(|| Error::NoSuchTable(qual.clone()))?;
                    out.extend(rel.cols.iter().cloned());
                }
            }
        }
        Ok(out)
    }

    /// The innermost relation in scope (the one named `qualifier`, if
    /// given) with a column `name`, and that column's type.
    fn scoped_column(&self, qualifier: Option<&str>, name: &str) -> Option<(&Rel, &PgType)> {
        self.scopes
            .iter()
            .rev()
            .flatten()
            .filter(|rel| qualifier.is_none_or(|q| q == rel.name))
            .find_map(|rel| {
                let (_, ty) = rel
                    .cols
                    .iter()
                    .chain(&rel.synonyms)
                    .find(|(c, _)| c == name)?;
                Some((rel, ty))
            })
    }

    /// How deep in the scopes the innermost relation is that a column
    /// reference names (its scope's index), and that relation's name.
    fn column_depth(&self, qualifier: Option<&str>, name: &str) -> Option<(usize, &str)> {
        self.scopes
            .iter()
            .enumerate()
            .rev()
            .find_map(|(depth, scope)| {
                scope
                    .iter()
                    .filter(|rel| qualifier.is_none_or(|q| q == rel.name))
                    .find(|rel| rel.cols.iter().chain(&rel.synonyms).any(|(c, _)| c == name))
                    .map(|rel| (depth, rel.name.as_str()))
            })
    }

    /// The name of the innermost relation in scope with a column `name`.
    fn relation_of(&self, name: &str) -> Option<String> {
        self.scoped_column(None, name)
            .map(|(rel, _)| rel.name.clone())
    }

    /// The type of a column reference, searching inner scopes first.
    fn column(&self, qualifier: Option<&str>, name: &str) -> Result<PgType> {
        if let Some((_, ty)) = self.scoped_column(qualifier, name) {
            return Ok(ty.clone());
        }
        let in_scope = |q: &str| self.scopes.iter().flatten().any(|rel| rel.name == q);
        match qualifier {
            Some(q) if !in_scope(q) => Err(Error::NoSuchTable(q.to_string())),
            Some(q) => Err(Error::NoSuchColumn(format!("{q}.{name}"))),
            None => Err(Error::NoSuchColumn(name.to_string())),
        }
    }
}

#[cfg(test)]
mod tests;

impl Env<'_> {
    /// The column type of `generate_series(args)` in FROM: a series of
    /// timestamps, or `ty` (an integer's). A date is read as timestamptz,
    /// as PostgreSQL resolves the call. A start reading an earlier FROM
    /// item (not in scope here) is taken for an integer (`typed::lateral`
    /// refuses any other).
    fn series_type(&mut self, args: &[sqlparser::ast::FunctionArg], ty: PgType) -> Result<PgType> {
        let Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
            first,
        ))) = args.first()
        else {
            return Ok(ty);
        };
        let second = match args.get(1) {
            Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                e,
            ))) => self.expr_type(e).unwrap_or(PgType::Unknown),
            _ => PgType::Unknown,
        };
        let third = match args.get(2) {
            Some(sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                e,
            ))) => self.expr_type(e).unwrap_or(PgType::Unknown),
            _ => PgType::Unknown,
        };
        let numeric = |t: &PgType| matches!(t, PgType::Numeric(_));
        Ok(match self.expr_type(first) {
            Ok(PgType::Timestamp) => PgType::Timestamp,
            // Any numeric argument makes a series of numerics.
            Ok(t) if numeric(&t) || numeric(&second) || numeric(&third) => PgType::Numeric(None),
            Ok(PgType::Timestamptz | PgType::Date) => PgType::Timestamptz,
            // A bigint bound makes a series of bigints.
            Ok(PgType::Int8) => PgType::Int8,
            Ok(_) if second == PgType::Int8 => PgType::Int8,
            Ok(_) => ty,
            Err(_) if crate::sql::rewrite::pg_catalog::is_lateral_series(args) => ty,
            Err(e) => return Err(e),
        })
    }
}
