//! SQL/JSON paths against PostgreSQL: random paths (lax and strict;
//! member, wildcard, index, range, `last` and recursive accessors;
//! filters with comparisons, `&&`, `||`, `!`, `exists`, `is unknown`,
//! `starts with`; arithmetic; the item methods) over random documents,
//! through jsonb_path_query_array (errors raised and suppressed),
//! jsonb_path_exists and jsonb_path_match, must give PostgreSQL's answer
//! or PostgreSQL's SQLSTATE.

mod common;

use common::postgres::Postgres;
use common::rng::Rng;
use common::TestNode;

fn value(rng: &mut Rng, depth: usize) -> String {
    let kinds = if depth == 0 { 5 } else { 7 };
    match rng.below(kinds) {
        0 => rng.pick(&["1", "2", "-3.5", "0", "10", "2.50"]).to_string(),
        1 => rng
            .pick(&["\"a\"", "\"ab\"", "\"b\"", "\"\"", "\"10\""])
            .to_string(),
        2 => "null".into(),
        3 => rng.pick(&["true", "false"]).to_string(),
        4 => rng.pick(&["1", "\"a\""]).to_string(),
        5 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n).map(|_| value(rng, depth - 1)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "\"{}\": {}",
                        rng.pick(&["a", "b", "c"]),
                        value(rng, depth - 1)
                    )
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn operand(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => rng.pick(&["1", "2", "\"a\"", "null", "true"]).to_string(),
        1 => format!("@{}", accessors(rng, 1)),
        2 => "@".into(),
        3 => format!("$.{}", rng.pick(&["a", "b", "c"])),
        _ => format!(
            "@.{} {} 1",
            rng.pick(&["a", "b"]),
            rng.pick(&["+", "*", "-"])
        ),
    }
}

fn predicate(rng: &mut Rng, depth: usize) -> String {
    match rng.below(if depth == 0 { 3 } else { 6 }) {
        0 | 1 => format!(
            "{} {} {}",
            operand(rng),
            rng.pick(&["==", "!=", "<", "<=", ">", ">="]),
            operand(rng)
        ),
        2 => format!("exists (@{})", accessors(rng, 2)),
        3 => format!(
            "{} {} {}",
            predicate(rng, depth - 1),
            rng.pick(&["&&", "||"]),
            predicate(rng, depth - 1)
        ),
        4 => format!("!({})", predicate(rng, depth - 1)),
        _ => format!("({}) is unknown", predicate(rng, depth - 1)),
    }
}

fn accessors(rng: &mut Rng, max: usize) -> String {
    (0..rng.below(max + 1))
        .map(|_| match rng.below(10) {
            0..=2 => format!(".{}", rng.pick(&["a", "b", "c"])),
            3 => ".*".into(),
            4 => "[*]".into(),
            5 => rng
                .pick(&[
                    "[0]",
                    "[1]",
                    "[last]",
                    "[0 to 1]",
                    "[1 to last]",
                    "[2]",
                    "[0, last]",
                ])
                .to_string(),
            6 => rng
                .pick(&[".**", ".**{1}", ".**{0 to 1}", ".**{2 to last}"])
                .to_string(),
            7 => rng
                .pick(&[".type()", ".size()", ".abs()", ".floor()", ".double()"])
                .to_string(),
            _ => format!(" ? ({})", predicate(rng, 1)),
        })
        .collect()
}

fn path(rng: &mut Rng) -> String {
    let mode = rng.pick(&["", "lax ", "strict "]);
    let body = match rng.below(6) {
        0 => format!("$.{} + 1", rng.pick(&["a", "b"])),
        1 => predicate(rng, 1).replace('@', "$"),
        _ => format!("${}", accessors(rng, 3)),
    };
    format!("{mode}{body}")
}

async fn answer(c: &tokio_postgres::Client, sql: &str, doc: &str, path: &str) -> String {
    match c.query_one(sql, &[&doc, &path]).await {
        Ok(row) => format!("{:?}", row.get::<_, Option<String>>(0)),
        Err(e) => format!(
            "error {}",
            e.code().map(|s| s.code().to_string()).unwrap_or_default()
        ),
    }
}

#[tokio::test]
async fn json_paths_answer_as_postgresql() {
    let pg = Postgres::start();
    let pg = common::connect(&pg.conn_string()).await.expect("connect");
    let node = TestNode::start();
    let mosaic = node.client().await;
    let functions = [
        "SELECT jsonb_path_query_array($1::text::jsonb, $2::text::jsonpath)::text",
        "SELECT jsonb_path_query_array($1::text::jsonb, $2::text::jsonpath, '{\"v\": 1}', true)::text",
        "SELECT jsonb_path_exists($1::text::jsonb, $2::text::jsonpath)::text",
        "SELECT ($1::text::jsonb @@ $2::text::jsonpath)::text",
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut differ = vec![];
    let mut answered = 0;
    for _ in 0..400 {
        let (d, p) = (value(&mut rng, 3), path(&mut rng));
        for f in functions {
            let want = answer(&pg, f, &d, &p).await;
            let got = answer(&mosaic, f, &d, &p).await;
            if !want.starts_with("error") {
                answered += 1;
            }
            if got != want {
                differ.push(format!(
                    "{f} with ({d}, {p}): PostgreSQL {want}, MosaicDB {got}"
                ));
            }
        }
    }
    assert!(answered > 800, "too few paths answered: {answered}");
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        400 * functions.len(),
        differ
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
