//! Regular expressions against PostgreSQL: random patterns of the kinds
//! MosaicDB answers (single-character choices, groups that are not
//! repeated or wrap one character) over random strings, through
//! regexp_replace (one match and every match), regexp_count,
//! regexp_split_to_array, regexp_match and substring(FROM pattern), must
//! give PostgreSQL's answer, empty matches included; and patterns whose
//! match PostgreSQL could choose otherwise must be refused (0A000), not
//! answered.

mod common;

use common::postgres::Postgres;
use common::rng::Rng;
use common::TestNode;

fn pattern(rng: &mut Rng) -> String {
    const ATOMS: &[&str] = &["a", "b", "[ab]", ".", "(a)", "([ab])", "(.)", "x", "\\d"];
    const QUANTS: &[&str] = &["", "?", "*", "+", "{1,2}"];
    (0..1 + rng.below(4))
        .map(|_| format!("{}{}", rng.pick(ATOMS), rng.pick(QUANTS)))
        .collect()
}

fn subject(rng: &mut Rng) -> String {
    (0..rng.below(7))
        .map(|_| rng.pick(&["a", "b", "x", "1"]))
        .collect()
}

async fn answer(
    c: &tokio_postgres::Client,
    sql: &str,
    args: [&str; 2],
) -> Result<Option<String>, String> {
    match c.query_one(sql, &[&args[0], &args[1]]).await {
        Ok(row) => Ok(row.get(0)),
        Err(e) => Err(e.code().map(|s| s.code().to_string()).unwrap_or_default()),
    }
}

#[tokio::test]
async fn regular_expressions_answer_as_postgresql() {
    let pg = Postgres::start();
    let pg = common::connect(&pg.conn_string()).await.expect("connect");
    let node = TestNode::start();
    let mosaic = node.client().await;
    let functions = [
        "SELECT regexp_replace($1, $2, '<\\&|\\1>', 'g')",
        "SELECT regexp_replace($1, $2, '[\\&]')",
        "SELECT regexp_count($1, $2)::text",
        "SELECT regexp_split_to_array($1, $2)::text",
        "SELECT regexp_match($1, $2)::text",
        "SELECT substring($1 from $2)",
        "SELECT regexp_instr($1, $2, 1, 2, 1)::text",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut differ = vec![];
    for _ in 0..150 {
        let (p, s) = (pattern(&mut rng), subject(&mut rng));
        for f in functions {
            let want = answer(&pg, f, [&s, &p]).await;
            let got = answer(&mosaic, f, [&s, &p]).await;
            if got != want {
                differ.push(format!(
                    "{f} with ({s:?}, {p:?}): PostgreSQL {want:?}, MosaicDB {got:?}"
                ));
            }
        }
    }
    assert!(
        differ.is_empty(),
        "{} differences:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // Where PostgreSQL's longest or shortest match may differ from the
    // first one found, MosaicDB refuses.
    for p in ["a|ab", "(ab)?(abcd)?", "x+?y", "(ab|a)*c", "\\bword"] {
        let got = answer(&mosaic, "SELECT regexp_replace($1, $2, '-')", ["abcd", p]).await;
        assert_eq!(got, Err("0A000".to_string()), "{p}");
    }
}
