//! The names PostgreSQL gives result columns: an unaliased select item
//! is named after its column, function or cast type (`?column?` when
//! nothing names it).

use sqlparser::ast::{DataType, Expr, TrimWhereField};

use super::expr::func_name;
use super::{norm, Env};
use crate::types::PgType;

/// PostgreSQL's internal name of a type, as it names a cast column.
fn internal_name(dt: &DataType) -> String {
    match PgType::from_sql(dt) {
        Ok(t) => internal_name_of(&t),
        // A domain, named without its schema.
        Err(_) => crate::types::enums::type_name(&dt.to_string())
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The internal name of a type; an array cast is named after its element.
fn internal_name_of(t: &PgType) -> String {
    match t {
        PgType::Array(elem) => return internal_name_of(elem),
        PgType::Bool => "bool",
        PgType::Int2 => "int2",
        PgType::Int4 => "int4",
        PgType::Int8 => "int8",
        PgType::Float4 => "float4",
        PgType::Float8 => "float8",
        PgType::Numeric(_) => "numeric",
        PgType::Text | PgType::Unknown => "text",
        PgType::Void => "void",
        PgType::Xid8 => "xid8",
        PgType::Char => "char",
        PgType::Oid => "oid",
        PgType::Varchar(_) => "varchar",
        PgType::Bpchar(_) => "bpchar",
        PgType::Bytea => "bytea",
        PgType::Date => "date",
        PgType::Time => "time",
        PgType::Timestamp => "timestamp",
        PgType::Timestamptz => "timestamptz",
        PgType::Json => "json",
        PgType::Jsonb => "jsonb",
        PgType::Uuid => "uuid",
        PgType::Interval => "interval",
        PgType::Vector(_) => "vector",
        PgType::Geometry(_) => "geometry",
        PgType::Enum(e) => return crate::types::schema::split(&e.name).1.to_string(),
    }
    .to_string()
}

impl Env<'_> {
    /// Name the output columns of a derived table or CTE body as
    /// PostgreSQL names them, for the queries that read them by name
    /// (SQLite would name `lower('A')` after its text, not `lower`). A
    /// plain column keeps its own name.
    pub(super) fn name_outputs(&mut self, q: &mut sqlparser::ast::Query) {
        use sqlparser::ast::{Ident, SelectItem, SetExpr};
        let mut body = q.body.as_mut();
        while let SetExpr::SetOperation { left, .. } = body {
            body = left.as_mut();
        }
        let SetExpr::Select(sel) = body else {
            return;
        };
        for item in &mut sel.projection {
            let SelectItem::UnnamedExpr(e) = item else {
                continue;
            };
            if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                continue;
            }
            let name = self.expr_name(e);
            let expr = std::mem::replace(e, Expr::Value(sqlparser::ast::Value::Null.into()));
            *item = SelectItem::ExprWithAlias {
                expr,
                alias: Ident::with_quote('"', name),
            };
        }
    }

    /// The column name PostgreSQL gives an unaliased select item.
    pub(super) fn expr_name(&mut self, e: &Expr) -> String {
        self.name_of(e).unwrap_or_else(|| "?column?".into())
    }

    /// Whether `e`'s column name is one a cast around it overrides
    /// (PostgreSQL's weaker name): a type's (a cast of an argument without
    /// a stronger name, a typed literal) or CASE's.
    fn weakly_named(&mut self, e: &Expr) -> bool {
        if let Some(cast) = crate::sql::domain::as_cast(e) {
            return self.weakly_named(&cast);
        }
        match e {
            Expr::Nested(inner) => self.weakly_named(inner),
            Expr::Cast { expr, .. } => self.name_of(expr).is_none() || self.weakly_named(expr),
            Expr::TypedString(_) | Expr::Interval(_) | Expr::Case { .. } => true,
            _ => false,
        }
    }

    fn name_of(&mut self, e: &Expr) -> Option<String> {
        if let Some(cast) = crate::sql::domain::as_cast(e) {
            return self.name_of(&cast);
        }
        Some(match e {
            Expr::Identifier(id) => norm(id),
            Expr::CompoundIdentifier(ids) => norm(ids.last()?),
            Expr::Function(f) => func_name(f),
            Expr::Nested(inner) => return self.name_of(inner),
            // A cast names its column after its argument, unless that was
            // named only by a type (another cast, a typed literal): then
            // by its own type (`1.1::float4::float8` is float8).
            Expr::Cast {
                expr, data_type, ..
            } => match self.name_of(expr) {
                Some(n) if !self.weakly_named(expr) => n,
                _ => internal_name(data_type),
            },
            Expr::TypedString(ts) => internal_name(&ts.data_type),
            // `interval '1 day'` is a typed literal, named by its type; a
            // bare `true` is a constant of its own since PostgreSQL 15 and
            // names no column.
            Expr::Interval(_) => "interval".into(),
            Expr::AtTimeZone { .. } => "timezone".into(),
            Expr::Case { .. } => "case".into(),
            Expr::Exists { .. } => "exists".into(),
            Expr::Extract { .. } => "extract".into(),
            Expr::Substring {
                shorthand: true, ..
            } => "substr".into(),
            Expr::Substring { .. } => "substring".into(),
            Expr::Position { .. } => "position".into(),
            Expr::Overlay { .. } => "overlay".into(),
            Expr::Ceil { .. } => "ceil".into(),
            Expr::Floor { .. } => "floor".into(),
            Expr::Trim { trim_where, .. } => match trim_where {
                Some(TrimWhereField::Leading) => "ltrim",
                Some(TrimWhereField::Trailing) => "rtrim",
                _ => "btrim",
            }
            .into(),
            Expr::Array(_) => "array".into(),
            Expr::Tuple(_) => "row".into(),
            // The last field named, past any subscripts (`t.a[1]` is `a`).
            Expr::CompoundFieldAccess { root, access_chain } => {
                use sqlparser::ast::AccessExpr;
                return match access_chain
                    .iter()
                    .rev()
                    .find(|a| !matches!(a, AccessExpr::Subscript(_)))
                {
                    None => self.name_of(root),
                    Some(AccessExpr::Dot(Expr::Identifier(field))) => Some(norm(field)),
                    Some(_) => None,
                };
            }
            Expr::Subquery(q) => {
                let cols = self.query_cols(q).ok()?;
                let first = cols.into_iter().next()?.0;
                if first == "?column?" {
                    return None;
                }
                first
            }
            _ => return None,
        })
    }
}
