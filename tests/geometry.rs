//! PostGIS's `geometry` across a cluster: points written through every
//! node into many small shards, each shard covering a band of x (rows
//! are inserted in x order). Nearest-neighbour queries (`<->` and
//! `ST_Distance`, literal and binary EWKB parameters) must be the exact
//! global top-k computed here by brute force, from every node; spatial
//! predicates must count what a brute force counts; and EXPLAIN must show
//! shards, and whole peers, skipped by their bounding box, while a query
//! that PostgreSQL answers with an error (mixed SRIDs) still gets it.

mod common;

use common::rng::Rng;
use common::{simple_rows, start_cluster};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

const ROWS: usize = 320;

/// A point sent as a binary parameter: PostGIS's `geometry_send` layout
/// (EWKB, little-endian, SRID 4326).
#[derive(Debug)]
struct Point(f64, f64);

impl ToSql for Point {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&[1]);
        out.extend_from_slice(&0x2000_0001u32.to_le_bytes());
        out.extend_from_slice(&4326u32.to_le_bytes());
        out.extend_from_slice(&self.0.to_le_bytes());
        out.extend_from_slice(&self.1.to_le_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "geometry"
    }

    to_sql_checked!();
}

/// PostGIS's distance between two points.
fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    (dx * dx + dy * dy).sqrt()
}

/// The ids of the k nearest rows, ties by id (the merge orders rows tied
/// on the distance by their values, the id first).
fn nearest(rows: &[(i64, (f64, f64))], q: (f64, f64), k: usize) -> Vec<String> {
    let mut by: Vec<(f64, i64)> = rows.iter().map(|(id, p)| (distance(*p, q), *id)).collect();
    by.sort_by(|a, b| a.partial_cmp(b).expect("finite distances"));
    by.into_iter()
        .take(k)
        .map(|(_, id)| id.to_string())
        .collect()
}

/// That every node answers the count `sql` with `want`.
async fn every_node_counts(clients: &[tokio_postgres::Client], sql: &str, want: usize) {
    for c in clients {
        assert_eq!(
            lines(simple_rows(c, sql).await),
            vec![want.to_string()],
            "{sql}"
        );
    }
}

fn lines(rows: Vec<Vec<Option<String>>>) -> Vec<String> {
    rows.into_iter().filter_map(|r| r[0].clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn nearest_neighbours_and_bounding_boxes_across_the_cluster() {
    let nodes = start_cluster(&["g1", "g2", "g3"], &["--shard-max-rows", "16"]).await;
    let mut clients = Vec::new();
    for n in &nodes {
        clients.push(n.client().await);
    }
    clients[0]
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS postgis; \
             CREATE TABLE pts (id bigint PRIMARY KEY, kind int, geom geometry(Point, 4326))",
        )
        .await
        .unwrap();
    // Quarter-unit coordinates; some points repeat, so distances tie.
    let mut rng = Rng(0x9e0_cafe);
    let mut rows: Vec<(i64, (f64, f64))> = (1..=ROWS as i64)
        .map(|id| {
            let x = rng.below(400) as f64 * 0.25;
            let y = rng.below(200) as f64 * 0.25;
            (id, (x, y))
        })
        .collect();
    for i in (7..ROWS).step_by(25) {
        rows[i].1 = rows[i - 7].1;
    }
    let mut by_x = rows.clone();
    by_x.sort_by(|a, b| a.1 .0.partial_cmp(&b.1 .0).expect("finite"));
    for (i, chunk) in by_x.chunks(16).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, (x, y))| format!("({id}, {}, 'SRID=4326;POINT({x} {y})')", id % 3))
            .collect();
        clients[i % 3]
            .batch_execute(&format!("INSERT INTO pts VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    simple_rows(&clients[0], "SELECT mosaic.seal('pts')").await;

    for q in [(0.0, 0.0), (50.1, 25.3), rows[7].1, (99.9, 1.0)] {
        for k in [1, 6, 13] {
            let want = nearest(&rows, q, k);
            let literal = format!("'SRID=4326;POINT({} {})'", q.0, q.1);
            for (n, c) in clients.iter().enumerate() {
                for sql in [
                    format!("SELECT id FROM pts ORDER BY geom <-> {literal} LIMIT {k}"),
                    format!("SELECT id FROM pts ORDER BY ST_Distance(geom, {literal}) LIMIT {k}"),
                ] {
                    let got = lines(simple_rows(c, &sql).await);
                    assert_eq!(got, want, "node {n}: {sql}");
                }
                let bound = c
                    .query(
                        &format!("SELECT id FROM pts ORDER BY geom <-> $1 LIMIT {k}"),
                        &[&Point(q.0, q.1)],
                    )
                    .await
                    .unwrap();
                let got: Vec<String> = bound
                    .iter()
                    .map(|r| r.get::<_, i64>(0).to_string())
                    .collect();
                assert_eq!(got, want, "node {n}, binary parameter, k = {k}");
            }
        }
    }

    // Within a distance, and inside a polygon, against a brute force.
    let (q, r) = ((20.0, 30.0), 7.5);
    let want = rows.iter().filter(|(_, p)| distance(*p, q) <= r).count();
    let sql = format!(
        "SELECT count(*) FROM pts WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint({}, {}), 4326), {r})",
        q.0, q.1
    );
    every_node_counts(&clients, &sql, want).await;
    let inside = |p: &(f64, f64)| p.0 > 60.0 && p.0 < 70.0 && p.1 > 10.0 && p.1 < 20.0;
    let want = rows.iter().filter(|(_, p)| inside(p)).count();
    let polygon = "'SRID=4326;POLYGON((60 10, 70 10, 70 20, 60 20, 60 10))'";
    let sql = format!("SELECT count(*) FROM pts WHERE ST_Contains({polygon}, geom) AND kind >= 0");
    assert_eq!(
        lines(simple_rows(&clients[1], &sql).await),
        vec![want.to_string()]
    );

    // EXPLAIN: shards outside the box are skipped by their extent.
    let plan = lines(simple_rows(&clients[2], &format!("EXPLAIN {sql}")).await);
    let pruned = plan
        .iter()
        .filter(|l| l.contains("pruned shard") && l.contains("bounding box of geom"))
        .count();
    assert!(pruned > 0, "{plan:#?}");
    // The shards kept read only the rows their R*Tree finds in the box.
    assert!(
        plan.iter()
            .any(|l| l.contains("through the shard's R*Tree")),
        "{plan:#?}"
    );
    // Far from every point, no peer is even asked.
    let far = "SELECT count(*) FROM pts WHERE ST_DWithin(geom, 'SRID=4326;POINT(500 500)', 10)";
    assert_eq!(
        lines(simple_rows(&clients[0], far).await),
        vec!["0".to_string()]
    );
    let plan = lines(simple_rows(&clients[0], &format!("EXPLAIN {far}")).await);
    assert!(plan.iter().any(|l| l.contains("none asked")), "{plan:#?}");
    // Deleted rows stay deleted through the R*Tree.
    clients[2]
        .batch_execute("DELETE FROM pts WHERE id % 5 = 0")
        .await
        .unwrap();
    rows.retain(|(id, _)| id % 5 != 0);
    let (q, r) = ((70.0, 20.0), 12.0);
    let want = rows.iter().filter(|(_, p)| distance(*p, q) <= r).count();
    let sql = format!(
        "SELECT count(*) FROM pts WHERE ST_DWithin(geom, 'SRID=4326;POINT({} {})', {r})",
        q.0, q.1
    );
    every_node_counts(&clients, &sql, want).await;
    // Nearest neighbours after the delete, under a filter, from every
    // node: each shard reads the rows its R*Tree finds near the point.
    let kind_one: Vec<(i64, (f64, f64))> =
        rows.iter().filter(|(id, _)| id % 3 == 1).cloned().collect();
    for (i, q) in [(10.0, 10.0), (75.5, 40.25), (120.0, -5.0)]
        .into_iter()
        .enumerate()
    {
        let want = nearest(&kind_one, q, 9);
        let sql = format!(
            "SELECT id FROM pts WHERE kind = 1 ORDER BY geom <-> 'SRID=4326;POINT({} {})' LIMIT 9",
            q.0, q.1
        );
        assert_eq!(lines(simple_rows(&clients[i], &sql).await), want, "{sql}");
    }
    let analyze = |sql: &'static str| {
        let c = &clients[0];
        async move { lines(simple_rows(c, &format!("EXPLAIN ANALYZE {sql}")).await) }
    };
    let plan =
        analyze("SELECT id FROM pts ORDER BY geom <-> 'SRID=4326;POINT(50 25)' LIMIT 3").await;
    assert!(
        plan.iter()
            .any(|l| l.contains("(through the R*Tree, within ")),
        "{plan:#?}"
    );
    // The nearest shard answers first; one whose box lies beyond the
    // three rows it found is not read.
    assert!(
        plan.iter()
            .any(|l| l.contains("not read, its box lies beyond the nearest 3 rows found")),
        "{plan:#?}"
    );
    // About one row in sixteen passes: some shard has fewer than three.
    let plan = analyze(
        "SELECT id FROM pts WHERE id % 16 = 1 ORDER BY geom <-> 'SRID=4326;POINT(50 25)' LIMIT 3",
    )
    .await;
    assert!(
        plan.iter()
            .any(|l| l.contains("(the R*Tree could not prove them: every row read)")),
        "{plan:#?}"
    );
    // Another SRID than the rows': PostGIS's error, from the rows.
    let err = clients[2]
        .simple_query("SELECT id FROM pts ORDER BY geom <-> 'SRID=3857;POINT(5 5)' LIMIT 3")
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert!(
        db.message().contains("mixed SRID geometries"),
        "{}",
        db.message()
    );

    // Every shard could be pruned by its box, but the SRIDs differ:
    // PostgreSQL's error, not an empty answer.
    let err = clients[1]
        .simple_query(
            "SELECT count(*) FROM pts WHERE ST_DWithin(geom, 'SRID=3857;POINT(500 500)', 10)",
        )
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "XX000");
    assert!(
        db.message().contains("mixed SRID geometries"),
        "{}",
        db.message()
    );
}

/// One node, so a prepared statement's compiled SQL is reused between
/// runs over the same shards: the R*Tree condition holds each run's
/// parameters, and every run must count what a brute force counts.
#[tokio::test(flavor = "multi_thread")]
async fn a_prepared_spatial_query_reads_each_run_through_its_own_box() {
    let node = common::TestNode::start_with(&["--shard-max-rows", "100"]);
    let client = node.client().await;
    client
        .batch_execute("CREATE TABLE p (id int PRIMARY KEY, geom geometry)")
        .await
        .unwrap();
    let mut rng = Rng(0x51de_f00d);
    let mut rows: Vec<(i64, (f64, f64))> = (1..=1000)
        .map(|id| {
            (
                id,
                (rng.below(1000) as f64 / 10.0, rng.below(1000) as f64 / 10.0),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.1 .0.total_cmp(&b.1 .0));
    for chunk in rows.chunks(100) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, (x, y))| format!("({id}, 'POINT({x} {y})')"))
            .collect();
        client
            .batch_execute(&format!("INSERT INTO p VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    simple_rows(&client, "SELECT mosaic.seal('p')").await;
    let stmt = client
        .prepare(
            "SELECT count(*) FROM p WHERE ST_DWithin(geom, ST_MakePoint($1::float8, $2::float8), $3::float8)",
        )
        .await
        .unwrap();
    // Query points inside one band of x, so each run keeps the same shard.
    for i in 0..12 {
        let q = (5.0 + i as f64 * 0.1, 10.0 + i as f64 * 7.0);
        let r = 2.0 + i as f64 * 0.5;
        let want = rows.iter().filter(|(_, p)| distance(*p, q) <= r).count() as i64;
        let got: i64 = client
            .query_one(&stmt, &[&q.0, &q.1, &r])
            .await
            .unwrap()
            .get(0);
        assert_eq!(got, want, "run {i}: point {q:?}, distance {r}");
    }
}

/// One node, one shard of 3000 random points: nearest neighbours under a
/// filter that passes three rows in ten, so the rows a radius keeps are
/// often just short of k while the R*Tree's square (whose corners reach
/// beyond the radius) often holds k: only rows within the radius may
/// count as proven. Every answer must equal a brute force.
#[tokio::test(flavor = "multi_thread")]
async fn nearest_neighbours_through_the_rtree_under_a_filter() {
    let nodes = start_cluster(&["r1"], &[]).await;
    let c = nodes[0].client().await;
    c.batch_execute("CREATE TABLE near (id bigint PRIMARY KEY, kind int, geom geometry(Point))")
        .await
        .unwrap();
    let mut rng = Rng(0x7ee_d00d);
    let rows: Vec<(i64, (f64, f64))> = (1..=3000i64)
        .map(|id| {
            let x = rng.below(1_000_000) as f64 / 10_000.0;
            let y = rng.below(1_000_000) as f64 / 10_000.0;
            (id, (x, y))
        })
        .collect();
    for chunk in rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, (x, y))| format!("({id}, {}, 'POINT({x} {y})')", id % 10))
            .collect();
        c.batch_execute(&format!("INSERT INTO near VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    simple_rows(&c, "SELECT mosaic.seal('near')").await;
    let passing: Vec<(i64, (f64, f64))> =
        rows.iter().filter(|(id, _)| id % 10 < 3).cloned().collect();
    for _ in 0..40 {
        let q = (
            rng.below(1200) as f64 / 10.0 - 10.0,
            rng.below(1200) as f64 / 10.0 - 10.0,
        );
        for k in [4, 15] {
            let sql = format!(
                "SELECT id FROM near WHERE kind < 3 ORDER BY geom <-> 'POINT({} {})' LIMIT {k}",
                q.0, q.1
            );
            assert_eq!(
                lines(simple_rows(&c, &sql).await),
                nearest(&passing, q, k),
                "{sql}"
            );
        }
    }
}

/// One node, ten shards of 100 points, each a band of x ten wide: the
/// shard whose box is nearest answers first, and the others are read
/// only when their box is nearer than the k-th row it found. Query points
/// near the bands' edges make the neighbouring band matter; every answer
/// must equal a brute force.
#[tokio::test(flavor = "multi_thread")]
async fn nearest_shards_first_and_the_rest_only_when_they_can_matter() {
    let nodes = start_cluster(&["b1"], &["--shard-max-rows", "100"]).await;
    let c = nodes[0].client().await;
    c.batch_execute("CREATE TABLE bands (id bigint PRIMARY KEY, geom geometry(Point))")
        .await
        .unwrap();
    let mut rng = Rng(0xba_4d5);
    let mut rows: Vec<(i64, (f64, f64))> = (1..=1000i64)
        .map(|id| {
            let x = rng.below(100_000) as f64 / 1000.0;
            let y = rng.below(100_000) as f64 / 1000.0;
            (id, (x, y))
        })
        .collect();
    rows.sort_by(|a, b| a.1 .0.partial_cmp(&b.1 .0).expect("finite"));
    for chunk in rows.chunks(100) {
        let values: Vec<String> = chunk
            .iter()
            .map(|(id, (x, y))| format!("({id}, 'POINT({x} {y})')"))
            .collect();
        c.batch_execute(&format!("INSERT INTO bands VALUES {}", values.join(", ")))
            .await
            .unwrap();
    }
    simple_rows(&c, "SELECT mosaic.seal('bands')").await;
    let mut skipped = 0;
    for i in 0..60 {
        let q = (
            rng.below(100_000) as f64 / 1000.0,
            rng.below(100_000) as f64 / 1000.0,
        );
        let k = [1, 10, 25][i % 3];
        let sql = format!(
            "SELECT id FROM bands ORDER BY geom <-> 'POINT({} {})' LIMIT {k}",
            q.0, q.1
        );
        assert_eq!(
            lines(simple_rows(&c, &sql).await),
            nearest(&rows, q, k),
            "{sql}"
        );
        let plan = lines(simple_rows(&c, &format!("EXPLAIN ANALYZE {sql}")).await);
        skipped += plan
            .iter()
            .filter(|l| l.contains("not read, its box lies beyond"))
            .count();
    }
    assert!(skipped > 100, "shards skipped: {skipped}");
}
