//! The SQL front end and the planner's split never panic, whatever they
//! are given: random token soup and mutated real statements go through
//! parse, validation, inference, literal typing, the fragment split and
//! the SQLite rewrite, which may refuse them with an
//! error but must not crash the session thread.

use proptest::prelude::*;

use super::exercise::exercise as run_front_end;

const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "t",
    "WHERE",
    "id",
    "name",
    "v",
    "d",
    "n",
    "=",
    "<",
    ">",
    "(",
    ")",
    ",",
    "*",
    "+",
    "-",
    "/",
    "%",
    "||",
    "::",
    "int",
    "text",
    "numeric(5,2)",
    "date",
    "'x'",
    "'2024-01-01'",
    "1",
    "2.5",
    "-3",
    "$1",
    "$2",
    "NULL",
    "true",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "IS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "HAVING",
    "count",
    "sum",
    "avg",
    "max",
    "coalesce",
    "DISTINCT",
    "UNION",
    "ALL",
    "JOIN",
    "ON",
    "AS",
    "x",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "RETURNING",
    "WITH",
    "EXISTS",
    "ANY",
    "OVER",
    "PARTITION",
    "generate_series",
    ";",
    "[",
    "]",
    "ARRAY",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(0..TOKENS.len(), 1..40)) {
        let sql: Vec<&str> = tokens.iter().map(|&i| TOKENS[i]).collect();
        run_front_end(&sql.join(" "));
    }

    #[test]
    fn mutated_statements_never_panic(cut in 0usize..200, insert in 0..TOKENS.len(), at in 0usize..200) {
        let base = "SELECT name, count(*), avg(v) FROM t WHERE id > $1 AND name ILIKE 'a%' \
                    GROUP BY name HAVING sum(n) > 1.5 ORDER BY 2 DESC LIMIT 3";
        let mut s: String = base.chars().take(cut.min(base.len())).collect();
        let at = at.min(s.len());
        s.insert_str(at, &format!(" {} ", TOKENS[insert]));
        s.push_str(&base[cut.min(base.len())..]);
        run_front_end(&s);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,120}") {
        run_front_end(&text);
    }
}
