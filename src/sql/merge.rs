//! MERGE (PostgreSQL 15's) as statements every write path already runs.
//!
//! `MERGE INTO t USING s ON cond WHEN …` becomes
//!
//! - one **snapshot** query, `SELECT <t's primary key>, <clause>, <values>
//!   FROM s LEFT JOIN t ON cond` (an inner join when no clause is WHEN NOT
//!   MATCHED): per joined row, the number of the first WHEN clause whose
//!   condition holds (0: none), and every value an action computes from
//!   columns, each evaluated only for the rows its clause takes;
//! - per clause, one **action** statement for one row: `UPDATE t SET … WHERE
//!   <key> = …`, `DELETE FROM t WHERE <key> = …` or `INSERT INTO t … VALUES
//!   (…)`, whose parameters are the MERGE's own (`$1`…`$n`), then the
//!   values the snapshot computed, then the key.
//!
//! The snapshot is read before any action runs, so every condition and
//! value sees the rows as they were when the statement began, as in
//! PostgreSQL; then each joined row's action runs in the snapshot's order.
//! Values without a column (constants, parameters, `DEFAULT`, `now()`,
//! `nextval(…)`) are written into the action as they stand, so they are
//! typed by the column they are assigned to and volatile ones are computed
//! per row. A target row that two source rows would change is PostgreSQL's
//! 21000, found before anything is written.
//!
//! In a WHEN NOT MATCHED clause only the source is in scope, as in
//! PostgreSQL: an unqualified name is the source's column, a name only the
//! target has is 42703, and the target's name is 42P01.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, Merge, MergeAction, MergeClauseKind, MergeInsertKind, MergeUpdateKind, Query,
    TableFactor, VisitMut, VisitorMut,
};

use crate::error::{Error, Result};
use crate::sql::{ident_name, is_default_keyword};
use crate::types::quote;
use crate::types::table::TableDef;

/// What a WHEN clause does with its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Update,
    Delete,
    Insert,
    Nothing,
}

/// One WHEN clause, as its action statement for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub act: Act,
    /// The action statement (none for DO NOTHING).
    pub sql: Option<String>,
    /// The snapshot columns passed as its parameters after the MERGE's own.
    pub values: Vec<usize>,
    /// The column each of those values is assigned to.
    pub columns: Vec<String>,
}

/// A MERGE, planned (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSpec {
    /// The target table.
    pub target: String,
    /// How many primary key columns lead the snapshot's rows.
    pub keys: usize,
    /// The snapshot query; its column `keys` is the clause number.
    pub snapshot: String,
    /// Per WHEN clause, in order (clause `i` is number `i + 1`).
    pub actions: Vec<Action>,
}

/// The names the two sides of a MERGE go by.
pub struct Sides<'a> {
    pub target: &'a TableDef,
    /// The source's output column names.
    pub source_columns: Vec<String>,
}

/// The FROM item a MERGE reads: the name it goes by and the item with an
/// alias wherever it needs one.
fn source_of(m: &Merge) -> Result<(String, TableFactor)> {
    let mut source = m.source.clone();
    let name = match &mut source {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            ident_name(&a.name)
        }
        TableFactor::Table { name, .. } => match name.0.last().and_then(|p| p.as_ident()) {
            Some(i) => ident_name(i),
            None => return Err(Error::Unsupported("this MERGE source".into())),
        },
        TableFactor::Derived { alias, .. } => {
            *alias = Some(sqlparser::ast::TableAlias {
                explicit: true,
                name: Ident::new("_merge_source"),
                columns: vec![],
                at: None,
            });
            "_merge_source".into()
        }
        _ => {
            return Err(Error::Unsupported(
                "MERGE with a source other than a table or a subquery".into(),
            ))
        }
    };
    Ok((name, source))
}

/// The target table's name and the name its columns are qualified by.
pub fn target_of(m: &Merge) -> Result<(String, String)> {
    match &m.table {
        TableFactor::Table { name, alias, .. } => {
            let table = crate::sql::object_name(name);
            let table = table.strip_prefix("public.").unwrap_or(&table).to_string();
            let shown = match alias {
                Some(a) => ident_name(&a.name),
                None => table.clone(),
            };
            Ok((table, shown))
        }
        _ => Err(Error::Syntax("MERGE target must be a table".into())),
    }
}

/// Refuse what PostgreSQL 15 does not read or MosaicDB does not build.
fn check_form(m: &Merge) -> Result<()> {
    if m.output.is_some() {
        return Err(Error::Unsupported(
            "MERGE … RETURNING (PostgreSQL 17)".into(),
        ));
    }
    // Whether a WHEN MATCHED / WHEN NOT MATCHED clause without AND came.
    let mut unconditional = [false; 2];
    for c in &m.clauses {
        let matched = match c.clause_kind {
            MergeClauseKind::Matched => true,
            MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget => false,
            MergeClauseKind::NotMatchedBySource => {
                return Err(Error::Unsupported(
                    "WHEN NOT MATCHED BY SOURCE (PostgreSQL 17)".into(),
                ))
            }
        };
        if unconditional[usize::from(matched)] {
            return Err(Error::Syntax(
                "unreachable WHEN clause specified after unconditional WHEN clause".into(),
            ));
        }
        if c.predicate.is_none() {
            unconditional[usize::from(matched)] = true;
        }
        let odd = match &c.action {
            MergeAction::Update(u) => {
                matches!(u.kind, MergeUpdateKind::Wildcard)
                    || u.update_predicate.is_some()
                    || u.delete_predicate.is_some()
            }
            MergeAction::Insert(i) => {
                !matches!(i.kind, MergeInsertKind::Values(_)) || i.insert_predicate.is_some()
            }
            _ => false,
        };
        if odd {
            return Err(Error::Syntax(format!(
                "syntax error in MERGE clause \"{}\"",
                c
            )));
        }
    }
    Ok(())
}

/// Whether `e` reads no column (nor a subquery): it can be written into
/// the action statement as it stands.
fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    let _ = sqlparser::ast::visit_expressions(e, |x: &Expr| {
        let reads = match x {
            Expr::Identifier(_) => !is_default_keyword(x),
            Expr::CompoundIdentifier(_) | Expr::Subquery(_) | Expr::Exists { .. } => true,
            Expr::In { target, .. } => matches!(target, sqlparser::ast::InTarget::Subquery(_)),
            _ => false,
        };
        if reads {
            constant = false;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    constant
}

/// Puts a WHEN NOT MATCHED clause's names in the source's scope (see the
/// module doc); names inside subqueries are the subqueries' own.
struct SourceScope<'a> {
    source: &'a str,
    target: &'a str,
    source_columns: &'a [String],
    target_columns: Vec<String>,
    depth: usize,
    error: Option<Error>,
}

impl SourceScope<'_> {
    fn hint(&self, what: &str) -> String {
        format!(
            "There is {what} \"{}\", but it cannot be referenced from this part of the query.",
            self.target
        )
    }
}

impl VisitorMut for SourceScope<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        match e {
            Expr::CompoundIdentifier(parts)
                if parts.len() == 2
                    && self.target != self.source
                    && ident_name(&parts[0]) == self.target =>
            {
                self.error = Some(
                    Error::NoSuchRelation(format!(
                        "invalid reference to FROM-clause entry for table \"{}\"",
                        self.target
                    ))
                    .with_hint(self.hint("an entry for table")),
                );
                ControlFlow::Break(())
            }
            Expr::Identifier(_) if self.depth == 0 && !is_default_keyword(e) => {
                let Expr::Identifier(i) = e else {
                    return ControlFlow::Continue(());
                };
                let name = ident_name(i);
                if self.source_columns.contains(&name) {
                    *e = Expr::CompoundIdentifier(vec![
                        Ident::with_quote('"', self.source),
                        i.clone(),
                    ]);
                } else if self.target_columns.contains(&name) {
                    let hint = format!(
                        "There is a column named \"{name}\" in table \"{}\", but it cannot be referenced from this part of the query.",
                        self.target
                    );
                    self.error = Some(
                        Error::UndefinedColumn(format!("column \"{name}\" does not exist"))
                            .with_hint(hint),
                    );
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

/// The snapshot's select list and the action statements, built clause by
/// clause.
struct Builder<'a> {
    sides: &'a Sides<'a>,
    source: String,
    target_name: String,
    /// The clause number of a joined row (SQL).
    clause: String,
    /// Snapshot columns after the key and the clause number.
    values: Vec<String>,
    /// How many parameters the MERGE itself takes.
    params: usize,
}

impl Builder<'_> {
    fn scoped(&self, e: &Expr) -> Result<Expr> {
        let mut e = e.clone();
        let mut scope = SourceScope {
            source: &self.source,
            target: &self.target_name,
            source_columns: &self.sides.source_columns,
            target_columns: self
                .sides
                .target
                .columns
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            depth: 0,
            error: None,
        };
        let _ = e.visit(&mut scope);
        match scope.error {
            Some(err) => Err(err),
            None => Ok(e),
        }
    }

    /// `e` as the action statement writes it: itself when constant, else
    /// the parameter the snapshot fills for clause `number`.
    fn value(&mut self, e: &Expr, number: usize, column: String, action: &mut Action) -> String {
        if is_constant(e) {
            return e.to_string();
        }
        action.columns.push(column);
        let at = self.sides_keys() + 1 + self.values.len();
        self.values.push(format!(
            "CASE WHEN ({}) = {number} THEN ({e}) END",
            self.clause
        ));
        action.values.push(at);
        format!("${}", self.params + action.values.len())
    }

    fn sides_keys(&self) -> usize {
        self.sides.target.primary_key.len()
    }

    /// `WHERE <key> = $…` after the parameters `values` takes.
    fn key_filter(&self, values: usize) -> String {
        let def = self.sides.target;
        def.primary_key
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                format!(
                    "{} = ${}",
                    quote(&def.columns[c].name),
                    self.params + values + k + 1
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// Plan `m` (see the module doc); `params` is how many `$n` it takes.
pub fn plan(m: &Merge, sides: &Sides<'_>, params: usize) -> Result<MergeSpec> {
    check_form(m)?;
    let def = sides.target;
    if def.primary_key.is_empty() {
        return Err(Error::Unsupported(format!(
            "MERGE into a table without a primary key (\"{}\")",
            def.name
        )));
    }
    let (_, target_name) = target_of(m)?;
    let (source, source_factor) = source_of(m)?;
    let key = |c: usize| format!("{}.{}", quote(&target_name), quote(&def.columns[c].name));
    let matched = format!("{} IS NOT NULL", key(def.primary_key[0]));
    let mut b = Builder {
        sides,
        source: source.clone(),
        target_name: target_name.clone(),
        clause: String::new(),
        values: vec![],
        params,
    };
    // The clause number: the first clause of the row's kind whose
    // condition holds.
    let mut arms = [Vec::new(), Vec::new()];
    for (i, c) in m.clauses.iter().enumerate() {
        let is_matched = c.clause_kind == MergeClauseKind::Matched;
        let cond = match &c.predicate {
            None => "true".to_string(),
            Some(p) if is_matched => p.to_string(),
            Some(p) => b.scoped(p)?.to_string(),
        };
        arms[usize::from(!is_matched)].push(format!("WHEN {cond} THEN {}", i + 1));
    }
    let case = |arms: &[String]| match arms {
        [] => "0".to_string(),
        _ => format!("CASE {} ELSE 0 END", arms.join(" ")),
    };
    b.clause = format!(
        "CASE WHEN {matched} THEN {} ELSE {} END",
        case(&arms[0]),
        case(&arms[1])
    );
    let mut actions = Vec::new();
    for (i, c) in m.clauses.iter().enumerate() {
        actions.push(action(&mut b, &c.action, i + 1)?);
    }
    let mut select: Vec<String> = def.primary_key.iter().map(|&c| key(c)).collect();
    select.push(b.clause.clone());
    select.extend(b.values.iter().cloned());
    let join = if arms[1].is_empty() {
        "JOIN"
    } else {
        "LEFT JOIN"
    };
    Ok(MergeSpec {
        target: def.name.clone(),
        keys: def.primary_key.len(),
        snapshot: format!(
            "SELECT {} FROM {source_factor} {join} {} ON {}",
            select.join(", "),
            m.table,
            m.on
        ),
        actions,
    })
}

/// The action statement of one clause (number `number`).
fn action(b: &mut Builder<'_>, a: &MergeAction, number: usize) -> Result<Action> {
    let target = quote(&b.sides.target.name);
    let mut out = Action {
        act: Act::Nothing,
        sql: None,
        values: vec![],
        columns: vec![],
    };
    match a {
        MergeAction::DoNothing { .. } => {}
        MergeAction::Delete { .. } => {
            out.act = Act::Delete;
            out.sql = Some(format!("DELETE FROM {target} WHERE {}", b.key_filter(0)));
        }
        MergeAction::Update(u) => {
            let MergeUpdateKind::Set(assignments) = &u.kind else {
                return Err(Error::Syntax("UPDATE SET * in MERGE".into()));
            };
            let mut sets = Vec::new();
            for a in assignments {
                if let sqlparser::ast::AssignmentTarget::ColumnName(n) = &a.target {
                    if let [first, _, ..] = n.0.as_slice() {
                        return Err(Error::UndefinedColumn(format!(
                            "column \"{first}\" of relation \"{}\" does not exist",
                            b.sides.target.name
                        )));
                    }
                }
                let column = match &a.target {
                    sqlparser::ast::AssignmentTarget::ColumnName(n) => crate::sql::object_name(n),
                    other => other.to_string(),
                };
                let v = b.value(&a.value, number, column, &mut out);
                sets.push(format!("{} = {v}", a.target));
            }
            out.act = Act::Update;
            out.sql = Some(format!(
                "UPDATE {target} SET {} WHERE {}",
                sets.join(", "),
                b.key_filter(out.values.len())
            ));
        }
        MergeAction::Insert(ins) => {
            let MergeInsertKind::Values(values) = &ins.kind else {
                return Err(Error::Syntax("INSERT without VALUES in MERGE".into()));
            };
            let [row] = values.rows.as_slice() else {
                return Err(Error::Syntax(
                    "MERGE's INSERT takes one row of VALUES".into(),
                ));
            };
            let mut items = Vec::new();
            for (i, e) in row.content.iter().enumerate() {
                let e = b.scoped(e)?;
                let column = match ins.columns.get(i) {
                    Some(c) => crate::sql::object_name(c),
                    None => (b.sides.target.columns.get(i))
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                };
                items.push(b.value(&e, number, column, &mut out));
            }
            let columns = match ins.columns.as_slice() {
                [] => String::new(),
                cols => format!(
                    " ({})",
                    cols.iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.act = Act::Insert;
            out.sql = Some(format!(
                "INSERT INTO {target}{columns} VALUES ({})",
                items.join(", ")
            ));
        }
    }
    Ok(out)
}

/// `INSERT DEFAULT VALUES` in a MERGE (which sqlparser does not read)
/// respelled `INSERT VALUES (DEFAULT)`, which means the same.
pub(super) fn respell_default_values(sql: &str) -> std::borrow::Cow<'_, str> {
    use sqlparser::tokenizer::Token;
    if !super::table_query::has_word(sql, "merge") || !super::table_query::has_word(sql, "default")
    {
        return sql.into();
    }
    let Some((tokens, mut texts)) = super::tokens::with_text(sql) else {
        return sql.into();
    };
    let solid = super::tokens::solid(&tokens);
    let word = |k: usize, w: &str| {
        solid
            .get(k)
            .is_some_and(|&i| super::tokens::is_word(&tokens[i], w))
    };
    let mut in_merge = false;
    let mut changed = false;
    for k in 0..solid.len() {
        let starts = k == 0 || matches!(tokens[solid[k - 1]], Token::SemiColon);
        if starts {
            in_merge = word(k, "MERGE");
        }
        if in_merge && word(k, "INSERT") && word(k + 1, "DEFAULT") && word(k + 2, "VALUES") {
            texts[solid[k + 1]] = "VALUES";
            texts[solid[k + 2]] = "(DEFAULT)";
            changed = true;
        }
    }
    if changed {
        texts.concat().into()
    } else {
        sql.into()
    }
}
