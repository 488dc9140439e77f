use std::collections::HashMap;
use std::sync::Arc;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::*;
use crate::types::table::{Column, TableDef};

struct Tables(HashMap<String, Arc<TableDef>>);

impl Schema for Tables {
    fn table(&self, name: &str) -> Option<Arc<TableDef>> {
        self.0.get(name).cloned()
    }
}

fn catalog() -> Tables {
    let table = |name: &str, cols: &[(&str, PgType)]| {
        let def = TableDef {
            name: name.into(),
            oid: 16384,
            columns: cols
                .iter()
                .map(|(n, t)| Column {
                    name: (*n).into(),
                    ty: t.clone(),
                    not_null: false,
                    default: None,
                    identity: None,
                    comment: None,
                    missing: None,
                    former_names: vec![],
                    sequence: None,
                    generated: None,
                    earlier_types: vec![],
                    domain: None,
                })
                .collect(),
            primary_key: vec![0],
            unique: vec![],
            checks: vec![],
            indexes: vec![],
            foreign_keys: vec![],
            comment: None,
            kind: Default::default(),
            altered: Default::default(),
            temp: None,
            access: Default::default(),
        };
        (name.to_string(), Arc::new(def))
    };
    use PgType::*;
    Tables(HashMap::from([
        table(
            "users",
            &[
                ("id", Int4),
                ("name", Text),
                ("age", Int2),
                ("score", Float8),
                ("created", Timestamptz),
            ],
        ),
        table(
            "orders",
            &[
                ("id", Int8),
                ("user_id", Int4),
                ("total", Numeric(None)),
                ("note", Varchar(Some(20))),
                ("day", Date),
            ],
        ),
    ]))
}

fn parse(sql: &str) -> Statement {
    Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .unwrap()
        .remove(0)
}

fn cols(sql: &str) -> String {
    match result_columns(&parse(sql), &catalog(), &[]) {
        Ok(cols) => cols
            .iter()
            .map(|(n, t)| format!("{n}:{}", t.display_name()))
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => format!("ERR {} {e}", e.sqlstate()),
    }
}

#[test]
#[rustfmt::skip]
fn result_columns_are_named_and_typed_like_postgres() {
    let cases = [
        ("SELECT * FROM users", "id:integer, name:text, age:smallint, score:double precision, created:timestamp with time zone"),
        ("SELECT u.name, o.* FROM users u JOIN orders AS o ON o.user_id = u.id", "name:text, id:bigint, user_id:integer, total:numeric, note:character varying(20), day:date"),
        ("SELECT count(*), sum(age), sum(o.id), avg(age), avg(score), max(name) FROM users, orders o", "count:bigint, sum:bigint, sum:numeric, avg:numeric, avg:double precision, max:text"),
        ("SELECT 1, 3000000000, 1.5, 'x', true, NULL", "?column?:integer, ?column?:bigint, ?column?:numeric, ?column?:text, ?column?:boolean, ?column?:text"),
        ("SELECT id + 1 AS next, age * 2, id + total, score / 2, name || 'x' FROM users, orders", "next:integer, ?column?:integer, ?column?:numeric, ?column?:double precision, ?column?:text"),
        ("SELECT x::text, '1'::int, count(*)::int, CAST(age AS bigint) FROM (SELECT 1 AS x) s, users", "x:text, int4:integer, count:integer, age:bigint"),
        ("SELECT CASE WHEN age > 1 THEN score ELSE 0 END, coalesce(NULL, age), lower(name), length(name) FROM users", "case:double precision, coalesce:smallint, lower:text, length:integer"),
        ("SELECT now(), current_date, date_trunc('day', created), extract(year FROM created) FROM users", "now:timestamp with time zone, current_date:date, date_trunc:timestamp with time zone, extract:numeric"),
        ("SELECT row_number() OVER (ORDER BY id), lag(name) OVER () FROM users", "row_number:bigint, lag:text"),
        ("SELECT (SELECT max(total) FROM orders), EXISTS (SELECT 1 FROM orders WHERE user_id = users.id) FROM users", "max:numeric, exists:boolean"),
        ("WITH t(a, b) AS (SELECT id, name FROM users) SELECT * FROM t", "a:integer, b:text"),
        ("SELECT id FROM users UNION SELECT user_id FROM orders", "id:integer"),
        ("VALUES (1, 'a'), (2, 'b')", "column1:integer, column2:text"),
        ("SELECT id = 1, name LIKE 'a%', age IS NULL, id IN (1, 2) FROM users", "?column?:boolean, ?column?:boolean, ?column?:boolean, ?column?:boolean"),
        ("INSERT INTO users (id) VALUES (1) RETURNING id, name AS n", "id:integer, n:text"),
        ("UPDATE orders SET total = 1 RETURNING *", "id:bigint, user_id:integer, total:numeric, note:character varying(20), day:date"),
        ("DELETE FROM users", ""),
        ("SELECT nope FROM users", "ERR 42703 column \"nope\" does not exist"),
        ("SELECT * FROM missing", "ERR 42P01 relation \"missing\" does not exist"),
        ("SELECT \"Name\" FROM users", "ERR 42703 column \"Name\" does not exist"),
    ];
    for (sql, want) in cases {
        assert_eq!(cols(sql), want, "{sql}");
    }
}

#[test]
fn param_types_come_from_context() {
    use PgType::*;
    let cases: Vec<(&str, Vec<Option<PgType>>)> = vec![
        (
            "SELECT * FROM users WHERE id = $1 AND $2 < score",
            vec![Some(Int4), Some(Float8)],
        ),
        (
            "SELECT * FROM users u WHERE u.name IN ($1, $2) AND age BETWEEN $3 AND 10",
            vec![Some(Text), Some(Text), Some(Int2)],
        ),
        (
            "INSERT INTO orders (total, id) VALUES ($1, $2), ($3, $4)",
            vec![
                Some(Numeric(None)),
                Some(Int8),
                Some(Numeric(None)),
                Some(Int8),
            ],
        ),
        (
            "INSERT INTO users VALUES ($1, $2)",
            vec![Some(Int4), Some(Text)],
        ),
        (
            "UPDATE users SET name = $1 WHERE id = $2",
            vec![Some(Text), Some(Int4)],
        ),
        (
            "SELECT $1::date, $3 FROM users LIMIT $2",
            vec![Some(Date), Some(Int8), None],
        ),
        (
            "SELECT * FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > $1)",
            vec![Some(Numeric(None))],
        ),
        ("SELECT * FROM nowhere WHERE x = $1", vec![None]),
    ];
    for (sql, want) in cases {
        assert_eq!(param_types(&parse(sql), &catalog()), want, "{sql}");
    }
}

#[test]
fn typed_step_makes_numeric_explicit() {
    let cat = catalog();
    let cases = [
        (
            "SELECT total, count(*) FROM orders GROUP BY total ORDER BY total",
            "SELECT total, count(*) FROM orders GROUP BY total COLLATE pg_numeric ORDER BY total COLLATE pg_numeric",
        ),
        (
            "SELECT total + 1.50 FROM orders WHERE total > 2 AND id = 3",
            "SELECT pg_numeric_add(total, '1.50') FROM orders WHERE pg_numeric_cmp(total, 2) > 0 AND id = 3",
        ),
        (
            "SELECT sum(total), 3.7::integer, total * score FROM orders, users",
            "SELECT pg_numeric_sum(total), pg_numeric_cast('3.7', 'int4'), pg_float8_mul(pg_numeric_cast(total, 'float8'), score) FROM orders, users",
        ),
        (
            "SELECT total::numeric(10, 1), count(*) FROM orders GROUP BY total ORDER BY total",
            "SELECT total::NUMERIC(10,1), count(*) FROM orders GROUP BY total COLLATE pg_numeric ORDER BY total COLLATE pg_numeric",
        ),
        (
            "SELECT total FROM orders WHERE total > 1 ORDER BY total",
            "SELECT total FROM orders WHERE pg_numeric_cmp(total, 1) > 0 ORDER BY total COLLATE pg_numeric",
        ),
        (
            "SELECT id * 2, -id, abs(score), round(score) FROM orders, users ORDER BY id + 1",
            "SELECT pg_int8_mul(id, 2), pg_int8_neg(id), pg_float8_abs(score), pg_rint(score) FROM orders, users ORDER BY pg_int8_add(id, 1)",
        ),
        (
            "SELECT DISTINCT total FROM orders",
            "SELECT DISTINCT total COLLATE pg_numeric AS \"total\" FROM orders",
        ),
    ];
    for (sql, want) in cases {
        let mut stmt = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        type_numeric(&mut stmt, &cat, &[]).unwrap();
        assert_eq!(stmt.to_string(), want, "{sql}");
    }
    let mut bad = Parser::parse_sql(
        &PostgreSqlDialect {},
        "SELECT total + name FROM orders, users",
    )
    .unwrap()
    .remove(0);
    // numeric + text: PostgreSQL has no such operator.
    assert_eq!(
        type_numeric(&mut bad, &cat, &[]).unwrap_err().sqlstate(),
        "42883"
    );
}
