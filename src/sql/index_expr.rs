//! Index expressions and partial-index predicates: which ones MosaicDB
//! takes (those it can print exactly as PostgreSQL's `pg_get_indexdef`
//! does), PostgreSQL's checks on them (volatile functions are 42P17), the
//! name part they give an unnamed index, and their text in both of
//! PostgreSQL's styles (plain, as `pg_indexes` shows it, and pretty, as
//! psql's `\d` shows it).
//!
//! An expression is read into a small tree of PostgreSQL's node kinds
//! (column, constant, function call, operator, AND/OR/NOT, IS [NOT]
//! NULL) with each operand's type. What would need an implicit cast in
//! PostgreSQL, and so print differently, is refused with 0A000 rather
//! than printed wrong.

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};

use crate::error::{Error, Result};
use crate::sql::ident_name;
use crate::types::table::TableDef;
use crate::types::PgType;

/// Where an expression stands, for PostgreSQL's wording of its errors.
#[derive(Clone, Copy, PartialEq)]
pub enum Place {
    Key,
    Predicate,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ty {
    Int(u8),
    Text,
    Bool,
    Other,
}

#[derive(Clone, Debug)]
enum Node {
    Col(String),
    Const(String),
    Func(String, Vec<Node>),
    Op(String, Box<Node>, Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    NullTest(Box<Node>, bool),
}

/// Functions PostgreSQL marks volatile or stable (not IMMUTABLE).
const NOT_IMMUTABLE: [&str; 14] = [
    "random",
    "now",
    "clock_timestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "timeofday",
    "nextval",
    "currval",
    "setval",
    "lastval",
    "gen_random_uuid",
    "uuid_generate_v4",
    "current_timestamp",
    "current_date",
];

/// Whether PostgreSQL marks function `name` volatile or stable.
pub fn not_immutable(name: &str) -> bool {
    NOT_IMMUTABLE.contains(&name)
}

fn unsupported(e: &Expr) -> Error {
    Error::Unsupported(format!("index expression {e}"))
}

fn col_ty(t: &PgType) -> Ty {
    match t {
        PgType::Int2 => Ty::Int(2),
        PgType::Int4 => Ty::Int(4),
        PgType::Int8 => Ty::Int(8),
        PgType::Text => Ty::Text,
        PgType::Bool => Ty::Bool,
        _ => Ty::Other,
    }
}

/// Read `e` (an expression over `table`) into a node and its type.
fn read(e: &Expr, table: &TableDef, place: Place) -> Result<(Node, Ty)> {
    match e {
        Expr::Nested(inner) => read(inner, table, place),
        Expr::Identifier(id) => column(&ident_name(id), table),
        Expr::CompoundIdentifier(ids) if ids.len() == 2 => {
            if ident_name(&ids[0]) != table.name {
                return Err(Error::Unsupported(format!(
                    "missing FROM-clause entry for table \"{}\"",
                    ident_name(&ids[0])
                )));
            }
            column(&ident_name(&ids[1]), table)
        }
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) if n.parse::<i32>().is_ok_and(|n| n >= 0) => {
                Ok((Node::Const(n.clone()), Ty::Int(4)))
            }
            Value::SingleQuotedString(s) => Ok((
                Node::Const(format!("'{}'::text", s.replace('\'', "''"))),
                Ty::Text,
            )),
            Value::Boolean(b) => Ok((Node::Const(b.to_string()), Ty::Bool)),
            _ => Err(unsupported(e)),
        },
        Expr::Function(f) => function(e, f, table, place),
        Expr::IsNull(inner) | Expr::IsNotNull(inner) => {
            let (n, _) = read(inner, table, place)?;
            Ok((
                Node::NullTest(Box::new(n), matches!(e, Expr::IsNotNull(_))),
                Ty::Bool,
            ))
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match read(expr, table, place)? {
            (n, Ty::Bool) => Ok((Node::Not(Box::new(n)), Ty::Bool)),
            _ => Err(unsupported(e)),
        },
        Expr::BinaryOp { left, op, right } => binary(e, left, op, right, table, place),
        _ => Err(unsupported(e)),
    }
}

fn column(name: &str, table: &TableDef) -> Result<(Node, Ty)> {
    match table.columns.iter().find(|c| c.name == name) {
        Some(c) => Ok((Node::Col(name.to_string()), col_ty(&c.ty))),
        None => Err(Error::NoSuchColumn(name.to_string())),
    }
}

fn function(
    e: &Expr,
    f: &sqlparser::ast::Function,
    table: &TableDef,
    place: Place,
) -> Result<(Node, Ty)> {
    let name = f.name.to_string().to_lowercase();
    if NOT_IMMUTABLE.contains(&name.as_str()) {
        let what = match place {
            Place::Key => "expression",
            Place::Predicate => "predicate",
        };
        return Err(Error::InvalidObjectDefinition(format!(
            "functions in index {what} must be marked IMMUTABLE"
        )));
    }
    if f.filter.is_some() || f.over.is_some() || !f.within_group.is_empty() {
        return Err(unsupported(e));
    }
    let FunctionArguments::List(list) = &f.args else {
        return Err(unsupported(e));
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return Err(unsupported(e));
    }
    let mut args = Vec::new();
    for a in &list.args {
        match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(read(x, table, place)?),
            _ => return Err(unsupported(e)),
        }
    }
    let types: Vec<Ty> = args.iter().map(|(_, t)| *t).collect();
    let ty = match (name.as_str(), types.as_slice()) {
        ("lower" | "upper" | "btrim", [Ty::Text]) => Ty::Text,
        ("length", [Ty::Text]) => Ty::Int(4),
        ("abs", [Ty::Int(w)]) => Ty::Int(*w),
        _ => return Err(unsupported(e)),
    };
    Ok((
        Node::Func(name, args.into_iter().map(|(n, _)| n).collect()),
        ty,
    ))
}

fn binary(
    e: &Expr,
    left: &Expr,
    op: &BinaryOperator,
    right: &Expr,
    table: &TableDef,
    place: Place,
) -> Result<(Node, Ty)> {
    let (l, lt) = read(left, table, place)?;
    let (r, rt) = read(right, table, place)?;
    let and = match op {
        BinaryOperator::And => Some(true),
        BinaryOperator::Or => Some(false),
        _ => None,
    };
    if let Some(and) = and {
        if lt != Ty::Bool || rt != Ty::Bool {
            return Err(unsupported(e));
        }
        // PostgreSQL's grammar folds a left-nested chain into one node.
        let mut items = match (and, l) {
            (true, Node::And(v)) if !matches!(left, Expr::Nested(_)) => v,
            (false, Node::Or(v)) if !matches!(left, Expr::Nested(_)) => v,
            (_, l) => vec![l],
        };
        items.push(r);
        return Ok((
            if and {
                Node::And(items)
            } else {
                Node::Or(items)
            },
            Ty::Bool,
        ));
    }
    let sym = match op {
        BinaryOperator::Plus => "+",
        BinaryOperator::Minus => "-",
        BinaryOperator::Multiply => "*",
        BinaryOperator::Divide => "/",
        BinaryOperator::Modulo => "%",
        BinaryOperator::StringConcat => "||",
        BinaryOperator::Eq => "=",
        BinaryOperator::NotEq => "<>",
        BinaryOperator::Lt => "<",
        BinaryOperator::LtEq => "<=",
        BinaryOperator::Gt => ">",
        BinaryOperator::GtEq => ">=",
        _ => return Err(unsupported(e)),
    };
    let ty = match (sym, lt, rt) {
        ("%", Ty::Int(a), Ty::Int(b)) if a == b => Ty::Int(a),
        ("+" | "-" | "*" | "/", Ty::Int(a), Ty::Int(b)) => Ty::Int(a.max(b).max(4)),
        ("||", Ty::Text, Ty::Text) => Ty::Text,
        ("=" | "<>" | "<" | "<=" | ">" | ">=", Ty::Int(_), Ty::Int(_)) => Ty::Bool,
        ("=" | "<>" | "<" | "<=" | ">" | ">=", Ty::Text, Ty::Text) => Ty::Bool,
        ("=" | "<>", Ty::Bool, Ty::Bool) => Ty::Bool,
        _ => return Err(unsupported(e)),
    };
    // int2 op int2 is an int2 operator in PostgreSQL, but a literal is int4.
    let ty = match (ty, lt, rt) {
        (Ty::Int(_), Ty::Int(2), Ty::Int(2)) => Ty::Int(2),
        (t, _, _) => t,
    };
    Ok((Node::Op(sym.to_string(), Box::new(l), Box::new(r)), ty))
}

/// An index key as the index records it: a column, or an expression's
/// PostgreSQL SQL text.
pub enum Key {
    Column(String),
    Expr(String),
}

/// Check an index key of `table` and say what it is; a column in
/// parentheses is a column, as in PostgreSQL.
pub fn key(e: &Expr, table: &TableDef) -> Result<Key> {
    // PostgreSQL's grammar takes a column, a function call or an
    // expression in parentheses.
    match e {
        Expr::BinaryOp { op, .. } => {
            return Err(Error::Syntax(format!("syntax error at or near \"{op}\"")))
        }
        Expr::IsNull(_) | Expr::IsNotNull(_) => {
            return Err(Error::Syntax("syntax error at or near \"IS\"".into()))
        }
        _ => {}
    }
    let mut inner = e;
    while let Expr::Nested(x) = inner {
        inner = x;
    }
    let (node, _) = read(inner, table, Place::Key)?;
    if let Node::Col(c) = node {
        return Ok(Key::Column(c));
    }
    let args: Vec<&Node> = match &node {
        Node::Op(op, l, r) if is_arith(op) => vec![l, r],
        n => vec![n],
    };
    if args.iter().any(|n| has_arith(n)) {
        return Err(unsupported(e));
    }
    Ok(Key::Expr(inner.to_string()))
}

/// Check a partial index's predicate over `table`.
pub fn predicate(e: &Expr, table: &TableDef) -> Result<String> {
    let (node, ty) = read(e, table, Place::Predicate)?;
    if has_arith(&node) {
        return Err(unsupported(e));
    }
    match (node, ty) {
        (_, Ty::Bool) => Ok(e.to_string()),
        (_, ty) => Err(Error::DatatypeMismatch(format!(
            "argument of WHERE must be type boolean, not type {}",
            match ty {
                Ty::Int(2) => "smallint",
                Ty::Int(8) => "bigint",
                Ty::Int(_) => "integer",
                _ => "text",
            }
        ))),
    }
}

/// Whether expression `text` names column `col`.
pub fn mentions(text: &str, col: &str) -> bool {
    let Ok(e) = crate::sql::parse_expr(text) else {
        return true;
    };
    let found = sqlparser::ast::visit_expressions(&e, |e| match e {
        Expr::Identifier(id) if ident_name(id) == col => std::ops::ControlFlow::Break(()),
        Expr::CompoundIdentifier(ids) if ids.last().is_some_and(|id| ident_name(id) == col) => {
            std::ops::ControlFlow::Break(())
        }
        _ => std::ops::ControlFlow::Continue(()),
    });
    found.is_break()
}

fn is_arith(op: &str) -> bool {
    matches!(op, "+" | "-" | "*" | "/" | "%")
}

/// Whether integer arithmetic appears in `n`. It is taken only as a whole
/// key, whose SQLite translation checks the result's range (an overflow
/// inside an expression would pass unseen where PostgreSQL fails).
fn has_arith(n: &Node) -> bool {
    match n {
        Node::Op(op, l, r) => is_arith(op) || has_arith(l) || has_arith(r),
        Node::Func(_, args) | Node::And(args) | Node::Or(args) => args.iter().any(has_arith),
        Node::Not(x) | Node::NullTest(x, _) => has_arith(x),
        Node::Col(_) | Node::Const(_) => false,
    }
}

/// A key expression in SQLite SQL: an int2 or int4 result out of its
/// type's range fails with 22003, as PostgreSQL's operators do (SQLite's
/// `abs` of the least 64-bit integer raises its integer overflow).
pub fn key_to_sqlite(text: &str, table: &TableDef) -> Result<String> {
    let cols: Vec<(String, PgType)> = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.clone()))
        .collect();
    let lite = crate::sql::check_to_sqlite(text, &cols)?;
    let e = crate::sql::parse_expr(text)?;
    let (node, _) = read(&e, table, Place::Key)?;
    Ok(match (node, key_range(text, table)?) {
        (Node::Op(..), Some((lo, hi))) => format!(
            "CASE WHEN ({lite}) BETWEEN {lo} AND {hi} OR ({lite}) IS NULL THEN ({lite}) ELSE abs(-9223372036854775807 - 1) END"
        ),
        _ => format!("({lite})"),
    })
}

/// The range of an int2 or int4 key expression's type.
pub fn key_range(text: &str, table: &TableDef) -> Result<Option<(i64, i64)>> {
    let e = crate::sql::parse_expr(text)?;
    Ok(match read(&e, table, Place::Key)?.1 {
        Ty::Int(2) => Some((-32768, 32767)),
        Ty::Int(4) => Some((-2147483648, 2147483647)),
        _ => None,
    })
}

fn parse(text: &str, table: &TableDef, place: Place) -> Result<Node> {
    let e = crate::sql::parse_expr(text)?;
    Ok(read(&e, table, place)?.0)
}

/// The part of an unnamed index's name an expression key gives: its
/// function's name, else `expr`, as PostgreSQL chooses.
pub fn name_part(text: &str, table: &TableDef) -> Result<String> {
    Ok(match parse(text, table, Place::Key)? {
        Node::Func(name, _) => name,
        Node::Col(c) => c,
        _ => "expr".to_string(),
    })
}

/// An index key expression as `pg_get_indexdef` prints it (a function
/// call bare, anything else in parentheses).
pub fn key_text(text: &str, table: &TableDef, pretty: bool) -> Result<String> {
    let n = parse(text, table, Place::Key)?;
    let s = deparse(&n, pretty);
    Ok(match n {
        Node::Func(..) | Node::Col(_) => s,
        _ => format!("({s})"),
    })
}

/// An expression as `pg_get_expr` prints it (not pretty).
pub fn expr_text(text: &str, table: &TableDef) -> Result<String> {
    Ok(deparse(&parse(text, table, Place::Key)?, false))
}

/// A predicate as `pg_get_indexdef` prints it after `WHERE `.
pub fn predicate_text(text: &str, table: &TableDef, pretty: bool) -> Result<String> {
    Ok(deparse(&parse(text, table, Place::Predicate)?, pretty))
}

/// Reserved words a column may be named (quoted) that PostgreSQL quotes.
const RESERVED: [&str; 16] = [
    "all", "and", "as", "check", "column", "default", "desc", "end", "from", "group", "order",
    "select", "table", "to", "user", "where",
];

fn ident(name: &str) -> String {
    match RESERVED.contains(&name) {
        true => crate::types::quote(name),
        false => crate::types::ident_text(name),
    }
}

/// PostgreSQL's `isSimpleNode`: whether `node` under `parent` prints
/// without parentheses in pretty mode.
fn simple(node: &Node, parent: &Node) -> bool {
    let prio = |op: &str| match op {
        "+" | "-" => Some(1),
        "*" | "/" | "%" => Some(2),
        _ => None,
    };
    match (node, parent) {
        (Node::Col(_) | Node::Const(_) | Node::Func(..), _) => true,
        (Node::Op(op, ..), Node::Op(pop, l, _)) => match (prio(op), prio(pop)) {
            (Some(a), Some(b)) if a != b => a > b,
            (Some(_), Some(_)) => std::ptr::eq(l.as_ref(), node),
            _ => false,
        },
        (Node::Op(..) | Node::NullTest(..), p) => {
            matches!(p, Node::And(_) | Node::Or(_) | Node::Not(_))
        }
        (Node::Not(_) | Node::And(_), Node::And(_) | Node::Or(_)) => true,
        (Node::Or(_), Node::Or(_)) => true,
        _ => false,
    }
}

fn deparse(n: &Node, pretty: bool) -> String {
    let child = |c: &Node| {
        let s = deparse(c, pretty);
        match pretty && !simple(c, n) {
            true => format!("({s})"),
            false => s,
        }
    };
    let wrap = |s: String| match pretty {
        true => s,
        false => format!("({s})"),
    };
    match n {
        Node::Col(c) => ident(c),
        Node::Const(c) => c.clone(),
        Node::Func(name, args) => {
            let args: Vec<String> = args.iter().map(|a| deparse(a, pretty)).collect();
            format!("{name}({})", args.join(", "))
        }
        Node::Op(op, l, r) => wrap(format!("{} {op} {}", child(l), child(r))),
        Node::And(items) | Node::Or(items) => {
            let sep = if matches!(n, Node::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let parts: Vec<String> = items.iter().map(child).collect();
            wrap(parts.join(sep))
        }
        Node::Not(x) => wrap(format!("NOT {}", child(x))),
        Node::NullTest(x, not) => wrap(format!(
            "{} IS {}NULL",
            child(x),
            if *not { "NOT " } else { "" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::table::Column;

    fn table() -> TableDef {
        TableDef {
            name: "t".into(),
            columns: vec![
                Column::new("a", PgType::Int4, false),
                Column::new("b", PgType::Int4, false),
                Column::new("email", PgType::Text, false),
                Column::new("d", PgType::Timestamp, false),
            ],
            ..Default::default()
        }
    }

    fn both(text: &str, pred: bool) -> (String, String) {
        let t = table();
        match pred {
            true => (
                predicate_text(text, &t, false).unwrap(),
                predicate_text(text, &t, true).unwrap(),
            ),
            false => (
                key_text(text, &t, false).unwrap(),
                key_text(text, &t, true).unwrap(),
            ),
        }
    }

    #[test]
    fn prints_as_postgresql() {
        assert_eq!(
            both("lower(email)", false),
            ("lower(email)".into(), "lower(email)".into())
        );
        assert_eq!(both("a + b", false), ("((a + b))".into(), "(a + b)".into()));
        assert_eq!(
            both("email || 'x'", false),
            (
                "((email || 'x'::text))".into(),
                "(email || 'x'::text)".into()
            )
        );
        assert_eq!(
            both("a > 0 AND b < 10", true),
            ("((a > 0) AND (b < 10))".into(), "a > 0 AND b < 10".into())
        );
        assert_eq!(
            both("d IS NULL", true),
            ("(d IS NULL)".into(), "d IS NULL".into())
        );
        assert_eq!(
            both("(a + b) * 2 > a - (b - 1)", true),
            (
                "(((a + b) * 2) > (a - (b - 1)))".into(),
                "((a + b) * 2) > (a - (b - 1))".into()
            )
        );
    }
}
