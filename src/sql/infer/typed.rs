//! The typed step: numeric operations made explicit (and, in `values`, date
//! and timestamp comparisons, jsonb operators and booleans as text), on the PostgreSQL AST,
//! before `sql::rewrite`.
//!
//! SQLite has no decimal type. Numeric values are text in PostgreSQL's
//! printed form (`store::udf::numeric` says why), so an operator SQLite
//! applies to them would compare text or do float arithmetic. This step
//! knows each operand's PostgreSQL type (from `infer`'s scopes) and turns
//! numeric `+ - * / %`, unary minus, comparisons, BETWEEN, IN, CASE,
//! `sum/avg/min/max` and the numeric functions into calls of the
//! registered `pg_numeric_*` functions; numeric literals become their
//! exact text; casts from numeric become `pg_numeric_cast`; numeric sort,
//! group and DISTINCT keys get `COLLATE pg_numeric`; values assigned to a
//! `numeric(p, s)` (or integer) column are cast to it. As PostgreSQL does,
//! an integer operand is promoted to numeric and a numeric one meeting a
//! float becomes float8. Where a numeric operation meets an operand whose
//! type cannot be known, the statement is refused (0A000) rather than
//! computed in floats.

mod arith;
mod array;
mod calls;
mod cast;
mod compare;
mod divisors;
mod enums;
mod expr;
pub(crate) mod geometry;
mod insert;
mod interval;
mod json;
mod json_edit;
mod lateral;
mod ordered;
mod overlaps;
mod series;
pub(crate) mod time;
mod values;
pub(crate) mod vector;
mod zone;

use std::mem::discriminant;
use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, Distinct, Expr, GroupByExpr, Ident, ObjectName, OrderByKind, Query, Select,
    SelectItem, SetExpr, SetQuantifier, Statement, Value, VisitMut, VisitorMut,
};

use super::{name_parts, Env, Rel};
use crate::error::{Error, Result};
use crate::sql::Schema;
use crate::types::{PgType, BPCHAR_COLLATION, NUMERIC_COLLATION};

/// Make `stmt`'s numeric operations explicit (see the module doc).
pub fn type_numeric(stmt: &mut Statement, catalog: &dyn Schema, params: &[PgType]) -> Result<()> {
    let mut t = Typer {
        env: Env::new(catalog, params),
        insert_values: false,
        laterals: vec![],
        typed_order: vec![],
    };
    match stmt.visit(&mut t) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// The same for one expression over the columns `cols` (a CHECK).
pub fn type_numeric_expr(e: &mut Expr, cols: Vec<(String, PgType)>) -> Result<()> {
    struct NoTables;
    impl Schema for NoTables {
        fn table(&self, _: &str) -> Option<std::sync::Arc<crate::types::table::TableDef>> {
            None
        }
    }
    let mut t = Typer {
        env: Env::new(&NoTables, &[]),
        insert_values: false,
        laterals: vec![],
        typed_order: vec![],
    };
    t.env.scopes.push(vec![Rel {
        name: String::new(),
        cols,
        ..Rel::default()
    }]);
    match e.visit(&mut t) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// A column default typed and cast to the column's type (numeric only;
/// other defaults are returned as parsed).
pub fn typed_default(text: &str, ty: &PgType) -> Result<Expr> {
    let mut e = crate::sql::parse_expr(text)?;
    if let PgType::Enum(_) = ty {
        // DDL checks a label when it is given; anything else is checked on
        // each write by a cast that carries the labels (no type name is
        // looked up here).
        if matches!(&e, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))) {
            return Ok(e);
        }
        let spec = Expr::Value(Value::SingleQuotedString(crate::types::cast_spec(ty)).into());
        return Ok(crate::sql::build::call("pg_cast", vec![e, spec]));
    }
    if matches!(ty, PgType::Numeric(_)) {
        e = cast_to(e, ty)?;
        type_numeric_expr(&mut e, vec![])?;
    }
    Ok(e)
}

struct Typer<'a> {
    env: Env<'a>,
    /// The next query is an INSERT's VALUES list, typed by its columns.
    insert_values: bool,
    /// The lateral `unnest` calls of each query being typed (`lateral`).
    laterals: Vec<Vec<lateral::Lateral>>,
    /// Each query's ORDER BY over a select, typed in the select's scope
    /// (`query`), held out of the visit that follows, which sees the keys
    /// outside that scope, and put back when the query is left.
    typed_order: Vec<Option<sqlparser::ast::OrderBy>>,
}

/// The relation a `t.*` select item names, as scopes name relations.
pub(super) fn wildcard_relation(
    kind: &sqlparser::ast::SelectItemQualifiedWildcardKind,
) -> Option<String> {
    match kind {
        sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
            n.0.last().and_then(|p| p.as_ident()).map(super::norm)
        }
        sqlparser::ast::SelectItemQualifiedWildcardKind::Expr(_) => None,
    }
}

pub(super) fn is_numeric(t: &PgType) -> bool {
    matches!(t, PgType::Numeric(_))
}

fn collation() -> ObjectName {
    ObjectName::from(vec![Ident::new(NUMERIC_COLLATION)])
}

/// `e COLLATE pg_numeric` (once).
pub(super) fn collate(e: Expr) -> Expr {
    match e {
        c @ Expr::Collate { .. } => c,
        e => Expr::Collate {
            expr: Box::new(e),
            collation: collation(),
        },
    }
}

/// `e` under the collation its type sorts by: numeric's, an enum's; as
/// it is for other types.
pub(super) fn collate_as(e: Expr, ty: &PgType) -> Expr {
    match ty {
        PgType::Numeric(_) => collate(e),
        PgType::Enum(t) => enums::collate_enum(e, t),
        PgType::Interval => match e {
            c @ Expr::Collate { .. } => c,
            e => Expr::Collate {
                expr: Box::new(e),
                collation: ObjectName::from(vec![Ident::new(crate::types::interval::COLLATION)]),
            },
        },
        PgType::Jsonb => Expr::Collate {
            expr: Box::new(e),
            collation: ObjectName::from(vec![Ident::new(crate::types::JSONB_COLLATION)]),
        },
        PgType::Bpchar(_) => match e {
            c @ Expr::Collate { .. } => c,
            e => Expr::Collate {
                expr: Box::new(e),
                collation: ObjectName::from(vec![Ident::new(BPCHAR_COLLATION)]),
            },
        },
        PgType::Array(elem) => match (e, crate::types::array::Family::of(elem)) {
            (c @ Expr::Collate { .. }, _) => c,
            (e, Some(f)) => Expr::Collate {
                expr: Box::new(e),
                collation: ObjectName::from(vec![Ident::new(f.collation())]),
            },
            (e, None) => e,
        },
        _ => e,
    }
}

/// Whether a type sorts under a collation of its own.
fn collated_type(ty: &PgType) -> bool {
    matches!(
        ty,
        PgType::Numeric(_)
            | PgType::Enum(_)
            | PgType::Jsonb
            | PgType::Bpchar(_)
            | PgType::Interval
            | PgType::Array(_)
    )
}

/// `CAST(e AS ty)` in PostgreSQL syntax.
pub fn cast_to(e: Expr, ty: &PgType) -> Result<Expr> {
    let mut c = crate::sql::parse_expr(&format!("CAST(NULL AS {})", ty.display_name()))?;
    if let Expr::Cast { expr, .. } = &mut c {
        **expr = e;
    }
    Ok(c)
}

/// PostgreSQL's 42804 for a value of type `src` assigned to column `col`
/// of type `ty` where no assignment cast exists: text is assigned to text
/// types only.
pub fn assignment_mismatch(col: &str, ty: &PgType, src: &PgType) -> Option<Error> {
    let string = |t: &PgType| matches!(t, PgType::Text | PgType::Varchar(_) | PgType::Bpchar(_));
    if !string(src) || string(ty) || *ty == PgType::Unknown {
        return None;
    }
    let bare = |t: &PgType| {
        let name = t.display_name();
        name.split('(')
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_string()
    };
    Some(
        Error::DatatypeMismatch(format!(
            "column \"{col}\" is of type {} but expression is of type {}",
            bare(ty),
            bare(src)
        ))
        .with_hint("You will need to rewrite or cast the expression."),
    )
}

/// A literal that takes its type from its context (PostgreSQL's unknown),
/// NULL, a parameter or DEFAULT: assignments and coercions handle these.
fn is_plain_literal(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => !matches!(v.value, Value::Boolean(_)),
        Expr::Identifier(_) => crate::sql::is_default_keyword(e),
        Expr::UnaryOp { expr, .. } | Expr::Nested(expr) => {
            matches!(expr.as_ref(), Expr::Value(_))
        }
        _ => false,
    }
}

impl Typer<'_> {
    /// The type of `e`, or `Unknown` when it cannot be told here.
    pub(super) fn type_of(&mut self, e: &Expr) -> PgType {
        self.env.expr_type(e).unwrap_or(PgType::Unknown)
    }

    /// Cast a value assigned to a column of type `ty` when the column is
    /// numeric with a typmod, or when a numeric meets an integer column
    /// (PostgreSQL's assignment casts round), or json meets jsonb.
    pub(super) fn assign(&mut self, e: &mut Expr, ty: &PgType, col: &str) -> Result<()> {
        let src = self.type_of(e);
        if self.zone_assign(e, &src, ty) {
            return Ok(());
        }
        if let PgType::Enum(t) = ty {
            return enums::assign(e, t, &src, col);
        }
        if let PgType::Geometry(_) = ty {
            return self.geometry_assign(e, &src, ty, col);
        }
        if let PgType::Array(to) = ty {
            let mismatch = || {
                Error::DatatypeMismatch(format!(
                    "column \"{col}\" is of type {} but expression is of type {}",
                    ty.display_name(),
                    src.display_name()
                ))
            };
            let from = match &src {
                PgType::Array(from) => from,
                PgType::Unknown | PgType::Text if is_plain_literal(e) => return Ok(()),
                PgType::Unknown => return Ok(()),
                _ => return Err(mismatch()),
            };
            let number = |t: &PgType| t.storage() != crate::types::Storage::Text || is_numeric(t);
            let same = crate::types::array::Family::of(to) == crate::types::array::Family::of(from);
            if !(same
                || number(to) && number(from) && **to != PgType::Bool && **from != PgType::Bool)
            {
                return Err(mismatch());
            }
            // An array of another element type is cast element by element.
            if discriminant(&**to) != discriminant(&**from) {
                let inner = std::mem::replace(e, Expr::Value(Value::Null.into()));
                *e = cast_to(inner, ty)?;
            }
            return Ok(());
        }
        // varchar(n) and character(n): the length checked (trailing
        // spaces beyond it dropped), character(n) padded, for every value
        // but DEFAULT and NULL (`store::udf`'s `pg_assign_text`).
        if matches!(ty, PgType::Varchar(Some(_)) | PgType::Bpchar(Some(_))) {
            let null = matches!(e, Expr::Value(v) if matches!(v.value, Value::Null));
            // A VALUES list's quoted literals are checked as they are typed
            // (`sql::coerce`): no call per row for them.
            let checked = self.insert_values
                && matches!(e, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)));
            if !null && !checked && !crate::sql::is_default_keyword(e) {
                let inner = std::mem::replace(e, Expr::Value(Value::Null.into()));
                *e = expr::call(
                    "pg_assign_text",
                    vec![inner, expr::string(crate::types::cast_spec(ty))],
                );
            }
            return Ok(());
        }
        // (A parameter's type may be a guess: where it stands, not checked.)
        let guessed = || {
            sqlparser::ast::visit_expressions(e, |x: &Expr| match x {
                Expr::Value(v) if matches!(v.value, Value::Placeholder(_)) => {
                    std::ops::ControlFlow::Break(())
                }
                _ => std::ops::ControlFlow::Continue(()),
            })
            .is_break()
        };
        if !is_plain_literal(e) && !guessed() {
            if let Some(err) = assignment_mismatch(col, ty, &src) {
                return Err(err);
            }
        }
        let to_int = matches!(ty, PgType::Int2 | PgType::Int4 | PgType::Int8);
        // A VALUES list's literals are typed by their columns later
        // (`sql::coerce`); elsewhere (a SELECT's, SET's) a numeric(p,s)
        // column casts them here.
        // A parameter of another type is cast there too.
        let placeholder = matches!(e, Expr::Value(v) if matches!(v.value, Value::Placeholder(_)));
        let typmod = matches!(ty, PgType::Numeric(Some((p, _))) if *p > 0)
            && (!self.insert_values || (placeholder && src != *ty))
            && !crate::sql::is_default_keyword(e);
        // Outside a VALUES list nothing else reads a quoted literal as a
        // column stored as a BLOB (`INSERT … SELECT '\x01'`, `SET v = '[1]'`).
        let blob_literal = !self.insert_values
            && matches!(ty, PgType::Bytea | PgType::Vector(_))
            && matches!(e, Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_)));
        let cast_anyway = typmod || blob_literal || to_int && is_numeric(&src);
        if is_plain_literal(e) && !cast_anyway {
            return Ok(());
        }
        let wanted = blob_literal
            || match ty {
                PgType::Numeric(Some((p, _))) if *p > 0 => true,
                PgType::Numeric(_) => !is_numeric(&src) && src != PgType::Unknown,
                PgType::Int2 | PgType::Int4 | PgType::Int8 => is_numeric(&src),
                // json text becomes jsonb's normal form as it is stored.
                PgType::Jsonb => src == PgType::Json,
                _ => false,
            };
        if wanted {
            let inner = std::mem::replace(e, Expr::Value(Value::Null.into()));
            *e = cast_to(inner, ty)?;
        }
        Ok(())
    }

    pub(super) fn target_types(&self, columns: &[ObjectName]) -> Vec<Option<(String, PgType)>> {
        let Some(rel) = self.env.scopes.last().and_then(|s| s.first()) else {
            return vec![];
        };
        if columns.is_empty() {
            return rel.cols.iter().map(|c| Some(c.clone())).collect();
        }
        columns
            .iter()
            .map(|c| {
                let name = name_parts(c).last().cloned().unwrap_or_default();
                rel.cols.iter().find(|(n, _)| *n == name).cloned()
            })
            .collect()
    }

    pub(super) fn assignments(&mut self, list: &mut [sqlparser::ast::Assignment]) -> Result<()> {
        for a in list {
            if let AssignmentTarget::ColumnName(c) = &a.target {
                let col = name_parts(c).last().cloned().unwrap_or_default();
                if let Ok(ty) = self.env.column(None, &col) {
                    self.assign(&mut a.value, &ty, &col)?;
                }
            }
        }
        Ok(())
    }

    /// The type of the output column an ORDER BY or GROUP BY key names by
    /// position or by alias, if it does.
    fn output_ref(&mut self, key: &Expr, items: &[SelectItem]) -> Option<PgType> {
        match key {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => {
                    let k: usize = n.parse().ok()?;
                    match items.get(k.checked_sub(1)?)? {
                        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                            Some(self.type_of(e))
                        }
                        _ => None,
                    }
                }
                _ => None,
            },
            Expr::Identifier(id) => {
                let name = super::norm(id);
                items
                    .iter()
                    .find_map(|i| match i {
                        SelectItem::ExprWithAlias { expr, alias } if super::norm(alias) == name => {
                            Some(expr.clone())
                        }
                        _ => None,
                    })
                    .map(|e| self.type_of(&e))
            }
            _ => None,
        }
    }

    /// A sort or group key: collated when numeric.
    /// json has neither order nor equality in PostgreSQL (`sort` says
    /// which the key needs).
    fn key(&mut self, key: &mut Expr, items: &[SelectItem], sort: bool) -> Result<()> {
        let output = self.output_ref(key, items);
        let ty = match &output {
            Some(t) => t.clone(),
            None => self.type_of(key),
        };
        if sort && matches!(ty, PgType::Vector(_)) {
            if output.is_some() {
                return Err(vector::output_key_refused());
            }
            let inner = std::mem::replace(key, Expr::Value(Value::Null.into()));
            *key = vector::sort_key(inner);
            return Ok(());
        }
        if sort && matches!(ty, PgType::Geometry(_)) {
            return Err(Error::Unsupported(
                "ORDER BY a geometry (PostGIS's btree order); order by a distance".into(),
            ));
        }
        if ty == PgType::Json {
            return Err(json_key_error(sort));
        }
        if collated_type(&ty) {
            let inner = std::mem::replace(key, Expr::Value(Value::Null.into()));
            *key = collate_as(inner, &ty);
        }
        Ok(())
    }

    /// Collate the numeric output columns of `sel` (DISTINCT, or an arm of
    /// UNION/INTERSECT/EXCEPT), keeping their names.
    fn collate_outputs(&mut self, sel: &mut Select) {
        for item in &mut sel.projection {
            match item {
                SelectItem::UnnamedExpr(e)
                    if collated_type(&self.type_of(e)) && !matches!(e, Expr::Collate { .. }) =>
                {
                    let ty = self.type_of(e);
                    let name = self.env.expr_name(e);
                    let inner = std::mem::replace(e, Expr::Value(Value::Null.into()));
                    *item = SelectItem::ExprWithAlias {
                        expr: collate_as(inner, &ty),
                        alias: Ident::with_quote('"', name),
                    };
                }
                SelectItem::ExprWithAlias { expr, .. } if collated_type(&self.type_of(expr)) => {
                    let ty = self.type_of(expr);
                    let inner = std::mem::replace(expr, Expr::Value(Value::Null.into()));
                    *expr = collate_as(inner, &ty);
                }
                _ => {}
            }
        }
    }

    /// The arms of a set operation that removes duplicates.
    fn set_arms(&mut self, body: &mut SetExpr, dedup: bool) {
        match body {
            SetExpr::SetOperation {
                left,
                right,
                set_quantifier,
                ..
            } => {
                let d = dedup || !matches!(set_quantifier, SetQuantifier::All);
                self.set_arms(left, d);
                self.set_arms(right, d);
            }
            SetExpr::Select(sel) if dedup => {
                let rels = self.env.scope_of(&sel.from).unwrap_or_default();
                self.env.scopes.push(rels);
                self.collate_outputs(sel);
                self.env.scopes.pop();
            }
            _ => {}
        }
    }

    /// The arms of a set operation whose column resolves to numeric give
    /// it as numeric (an integer arm is cast), so the rows compare, sort
    /// and remove duplicates as one type; interval columns are collated
    /// likewise.
    fn numeric_arms(&mut self, body: &mut SetExpr, cols: &[(String, PgType)]) {
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.numeric_arms(left, cols);
                self.numeric_arms(right, cols);
            }
            SetExpr::Select(sel) => {
                let rels = self.env.scope_of(&sel.from).unwrap_or_default();
                self.env.scopes.push(rels);
                for (item, (_, ty)) in sel.projection.iter_mut().zip(cols) {
                    let (SelectItem::UnnamedExpr(x) | SelectItem::ExprWithAlias { expr: x, .. }) =
                        &*item
                    else {
                        continue;
                    };
                    let own = self.type_of(x);
                    let int = matches!(own, PgType::Int2 | PgType::Int4 | PgType::Int8);
                    let interval = *ty == PgType::Interval;
                    if !interval && (!is_numeric(ty) || !(int || is_numeric(&own))) {
                        continue;
                    }
                    // Numeric (or interval), and collated: SQLite sorts a
                    // compound SELECT's rows by its arms' column collation.
                    let as_numeric = |inner: Expr| {
                        if interval {
                            collate_as(inner, &PgType::Interval)
                        } else if int {
                            collate(expr::numeric_of_int(inner))
                        } else {
                            collate(inner)
                        }
                    };
                    let name = self.env.expr_name(x);
                    match item {
                        SelectItem::UnnamedExpr(x) => {
                            let inner = std::mem::replace(x, Expr::Value(Value::Null.into()));
                            *item = SelectItem::ExprWithAlias {
                                expr: as_numeric(inner),
                                alias: Ident::with_quote('"', name),
                            };
                        }
                        SelectItem::ExprWithAlias { expr: x, .. } => {
                            let inner = std::mem::replace(x, Expr::Value(Value::Null.into()));
                            *x = as_numeric(inner);
                        }
                        _ => {}
                    }
                }
                self.env.scopes.pop();
            }
            _ => {}
        }
    }

    /// A VALUES list whose column mixes numeric and integers is numeric
    /// (PostgreSQL resolves the column to one type): its integers become
    /// numeric values, so they compare and sort with the others.
    fn numeric_values(&mut self, v: &mut sqlparser::ast::Values) {
        let width = v.rows.first().map_or(0, |r| r.len());
        for j in 0..width {
            let types: Vec<PgType> = v
                .rows
                .iter()
                .map(|r| r.get(j).map_or(PgType::Unknown, |e| self.type_of(e)))
                .collect();
            if !types.iter().any(is_numeric) {
                continue;
            }
            for (row, ty) in v.rows.iter_mut().zip(&types) {
                if let (Some(e), PgType::Int2 | PgType::Int4 | PgType::Int8) = (row.get_mut(j), ty)
                {
                    let inner = std::mem::replace(e, Expr::Value(Value::Null.into()));
                    *e = expr::numeric_of_int(inner);
                }
            }
        }
    }

    fn query(&mut self, q: &mut Query) -> Result<()> {
        if let SetExpr::Values(v) = q.body.as_mut() {
            if !std::mem::take(&mut self.insert_values) {
                self.numeric_values(v);
                self.zone_values(v);
                self.geometry_values(v)?;
                self.values_literals(v)?;
            }
        }
        if matches!(q.body.as_ref(), SetExpr::SetOperation { .. }) {
            let cols = self.env.set_cols(&q.body).unwrap_or_default();
            self.zone_arms(&mut q.body, &cols);
            self.numeric_arms(&mut q.body, &cols);
            self.literal_arms(&mut q.body, &cols)?;
            self.set_arms(&mut q.body, false);
        }
        let Some(order) = q.order_by.as_mut() else {
            return Ok(());
        };
        let OrderByKind::Expressions(keys) = &mut order.kind else {
            return Ok(());
        };
        match q.body.as_ref() {
            SetExpr::Select(sel) => {
                let rels = self.env.scope_of(&sel.from).unwrap_or_default();
                let items = sel.projection.clone();
                self.env.scopes.push(rels);
                for k in keys.iter_mut() {
                    // Typed here, in the select's scope (the visit that
                    // follows does not see them: `typed_order`).
                    if let ControlFlow::Break(e) = k.expr.visit(self) {
                        self.env.scopes.pop();
                        return Err(e);
                    }
                    if let Err(e) = self.key(&mut k.expr, &items, true) {
                        self.env.scopes.pop();
                        return Err(e);
                    }
                }
                self.env.scopes.pop();
            }
            _ => {
                // Over a set operation, keys name output columns.
                let cols = self.env.set_cols(&q.body).unwrap_or_default();
                self.env.scopes.push(vec![Rel {
                    name: String::new(),
                    cols,
                    ..Rel::default()
                }]);
                for k in keys.iter_mut() {
                    self.key(&mut k.expr, &[], true)?;
                }
                self.env.scopes.pop();
            }
        }
        Ok(())
    }

    fn select(&mut self, sel: &mut Select) -> Result<()> {
        if let GroupByExpr::Expressions(keys, _) = &mut sel.group_by {
            let items = sel.projection.clone();
            for k in keys.iter_mut() {
                self.key(k, &items, false)?;
            }
        }
        if matches!(sel.distinct, Some(Distinct::Distinct)) {
            let json = sel.projection.iter().any(|i| match i {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    self.type_of(e) == PgType::Json
                }
                _ => false,
            });
            if json {
                return Err(json_key_error(false));
            }
            self.collate_outputs(sel);
        }
        Ok(())
    }
}

/// PostgreSQL's error for a json sort key (`sort`) or a json value
/// grouped or made distinct.
fn json_key_error(sort: bool) -> Error {
    if sort {
        Error::NoSuchOperator("could not identify an ordering operator for type json".into())
            .with_hint("Use an explicit ordering operator or modify the query.")
    } else {
        Error::NoSuchOperator("could not identify an equality operator for type json".into())
    }
}

/// `alias.column[i]`, which sqlparser reads as `alias` followed by `.column`
/// and `[i]`, as the qualified column subscripted, so that it is typed (and
/// read from a lateral item) as `column[i]` is.
fn qualified_subscript(e: &mut Expr) {
    use sqlparser::ast::AccessExpr;
    let Expr::CompoundFieldAccess { root, access_chain } = e else {
        return;
    };
    let (Expr::Identifier(q), [AccessExpr::Dot(Expr::Identifier(c)), AccessExpr::Subscript(_), ..]) =
        (root.as_ref(), access_chain.as_slice())
    else {
        return;
    };
    **root = Expr::CompoundIdentifier(vec![q.clone(), c.clone()]);
    access_chain.remove(0);
}

fn flow(r: Result<()>) -> ControlFlow<Error> {
    match r {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    }
}

impl VisitorMut for Typer<'_> {
    type Break = Error;

    fn pre_visit_statement(&mut self, s: &mut Statement) -> ControlFlow<Error> {
        self.env.enter_statement(s);
        flow(match s {
            Statement::Insert(ins) => self.insert(ins),
            Statement::Update(u) => self.assignments(&mut u.assignments),
            _ => Ok(()),
        })
    }

    fn post_visit_statement(&mut self, _: &mut Statement) -> ControlFlow<Error> {
        self.env.leave_statement();
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
        for cte in q.with.iter_mut().flat_map(|w| &mut w.cte_tables) {
            self.env.name_outputs(&mut cte.query);
        }
        self.env.enter_query(q);
        if let Err(e) = self.enter_laterals(&mut *q) {
            // Entered all the same, so the visit's end leaves it.
            self.laterals.push(vec![]);
            return ControlFlow::Break(e);
        }
        let typed = self.query(q);
        self.typed_order.push(match q.body.as_ref() {
            SetExpr::Select(_) => q.order_by.take(),
            _ => None,
        });
        flow(typed)
    }

    fn post_visit_query(&mut self, q: &mut Query) -> ControlFlow<Error> {
        if let Some(order) = self.typed_order.pop().flatten() {
            q.order_by = Some(order);
        }
        self.leave_laterals(q);
        self.env.leave_query();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &mut Select) -> ControlFlow<Error> {
        let rels = self.env.scope_of(&s.from).unwrap_or_default();
        self.env.scopes.push(rels);
        flow(self.select(s))
    }

    fn post_visit_select(&mut self, _: &mut Select) -> ControlFlow<Error> {
        self.env.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<Error> {
        qualified_subscript(e);
        if self.lateral_column(e) {
            return ControlFlow::Continue(());
        }
        flow(self.expr(e))
    }

    fn pre_visit_table_factor(
        &mut self,
        tf: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<Error> {
        if let sqlparser::ast::TableFactor::Derived { subquery, .. } = tf {
            self.env.name_outputs(subquery);
        }
        flow(
            self.timestamp_series(tf)
                .and_then(|_| self.numeric_series(tf))
                .and_then(|_| self.unnest_factor(tf)),
        )
    }

    fn post_visit_table_factor(
        &mut self,
        tf: &mut sqlparser::ast::TableFactor,
    ) -> ControlFlow<Error> {
        flow(self.subquery_rows(tf))
    }
}
