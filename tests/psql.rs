//! The real `psql` against a real node: `-c`, `-f` with ON_ERROR_STOP, and
//! `\copy`. psql must be installed (scripts/install-test-deps.sh); a missing
//! psql fails these tests rather than skipping them.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestNode;

/// Runs psql against the node with `args` after the connection string.
fn psql(node: &TestNode, args: &[&str]) -> Output {
    let output = Command::new("psql")
        .arg(node.conn_string())
        // No ~/.psqlrc; unaligned, tuples-only output; stop on the first error.
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run psql ({e}); install it with scripts/install-test-deps.sh")
        });
    output
}

fn stdout_of(node: &TestNode, args: &[&str]) -> String {
    let out = psql(node, args);
    assert!(
        out.status.success(),
        "psql {args:?} failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("psql output is UTF-8")
}

/// Runs a describe command (`\\d t`) unaligned but with headers and footers.
fn describe(node: &TestNode, command: &str) -> String {
    let out = Command::new("psql")
        .arg(node.conn_string())
        .args(["-X", "-A", "-c", command])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {command} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("psql output is UTF-8")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write psql input");
    path.to_str().expect("UTF-8 temp path").to_string()
}

#[test]
fn psql_runs_a_command() {
    let node = TestNode::start();
    assert_eq!(stdout_of(&node, &["-c", "SELECT 1"]), "1\n");
    assert_eq!(
        stdout_of(&node, &["-c", "SELECT 'a' AS x, 2 AS y, NULL AS z"]),
        "a|2|\n"
    );
}

#[test]
fn psql_runs_a_script_file() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write(
        dir.path(),
        "setup.sql",
        "CREATE TABLE psql_items (id integer PRIMARY KEY, name text NOT NULL);\n\
         INSERT INTO psql_items VALUES (1, 'one'), (2, 'two');\n\
         INSERT INTO psql_items\n  SELECT g, 'n' || g FROM generate_series(3, 30) AS g;\n\
         UPDATE psql_items SET name = 'TWO' WHERE id = 2;\n\
         SELECT id, name FROM psql_items WHERE id <= 3 ORDER BY id;\n\
         SELECT count(*) FROM psql_items;\n",
    );
    assert_eq!(
        stdout_of(&node, &["-q", "-f", &script]),
        "1|one\n2|TWO\n3|n3\n30\n"
    );
}

#[test]
fn psql_stops_on_the_first_error() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write(
        dir.path(),
        "broken.sql",
        "CREATE TABLE psql_broken (id integer PRIMARY KEY);\n\
         INSERT INTO psql_broken VALUES (1);\n\
         INSERT INTO psql_broken VALUES (1);\n\
         INSERT INTO psql_broken VALUES (2);\n",
    );
    let out = psql(&node, &["-q", "-f", &script]);
    // psql exits with 3 when ON_ERROR_STOP stops a script.
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("duplicate key value violates unique constraint"),
        "{stderr}"
    );
    assert_eq!(
        stdout_of(&node, &["-c", "SELECT count(*) FROM psql_broken"]),
        "1\n"
    );
}

#[test]
fn psql_copies_a_csv_file_in() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let csv: String = (1..=25).map(|i| format!("{i},\"name, {i}\"\n")).collect();
    let csv_path = write(dir.path(), "rows.csv", &csv);
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_copy (id integer PRIMARY KEY, name text)",
        ],
    );
    let copied = stdout_of(
        &node,
        &[
            "-c",
            &format!("\\copy psql_copy FROM '{csv_path}' WITH (FORMAT csv)"),
        ],
    );
    assert_eq!(copied, "COPY 25\n");
    assert_eq!(
        stdout_of(&node, &["-c", "SELECT count(*), max(name) FROM psql_copy"]),
        "25|name, 9\n"
    );
}

#[test]
fn psql_describe_lists_tables() {
    // \dt queries pg_catalog the way every BI tool does.
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_listed (id integer PRIMARY KEY, v text)",
        ],
    );
    let listing = stdout_of(&node, &["-c", "\\dt"]);
    assert!(listing.contains("psql_listed"), "{listing}");
    let columns = stdout_of(&node, &["-c", "\\d psql_listed"]);
    assert!(columns.contains("id|integer"), "{columns}");
    assert!(columns.contains("v|text"), "{columns}");
}

#[test]
fn psql_describes_a_table_with_keys_defaults_and_checks() {
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_shop (id serial PRIMARY KEY, name varchar(20) NOT NULL UNIQUE, \
             price numeric(10,2) DEFAULT 0, CHECK (price >= 0))",
            "-c",
            "CREATE INDEX psql_shop_price_idx ON psql_shop (price)",
        ],
    );
    let d = describe(&node, "\\d psql_shop");
    assert!(
        d.contains("id|integer||not null|nextval('psql_shop_id_seq'::regclass)"),
        "{d}"
    );
    assert!(d.contains("name|character varying(20)||not null|"), "{d}");
    assert!(d.contains("price|numeric(10,2)|||0"), "{d}");
    assert!(
        d.contains("\"psql_shop_pkey\" PRIMARY KEY, btree (id)"),
        "{d}"
    );
    assert!(
        d.contains("\"psql_shop_name_key\" UNIQUE CONSTRAINT, btree (name)"),
        "{d}"
    );
    assert!(d.contains("\"psql_shop_price_idx\" btree (price)"), "{d}");
    assert!(
        d.contains("\"psql_shop_price_check\" CHECK (price >= 0)"),
        "{d}"
    );
    let plus = describe(&node, "\\d+ psql_shop");
    assert!(plus.contains("id|integer||not null|nextval("), "{plus}");
    assert!(plus.contains("Access method: heap"), "{plus}");
    let di = stdout_of(&node, &["-c", "\\di"]);
    assert!(
        di.contains("public|psql_shop_pkey|index|mosaic|psql_shop"),
        "{di}"
    );
    assert!(di.contains("public|psql_shop_price_idx|index"), "{di}");
    let dt = stdout_of(&node, &["-c", "\\dt"]);
    assert!(dt.contains("public|psql_shop|table|mosaic"), "{dt}");
}

/// `\d` of a table with FOREIGN KEYs and of the table they reference,
/// as psql 15 prints them from PostgreSQL 15.
/// Expression, partial and DESC indexes in `\d`, as psql 15 prints them
/// against PostgreSQL 15.
#[test]
fn psql_describes_expression_and_partial_indexes() {
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_users (email text, slug text, deleted_at timestamp, a integer, b integer)",
            "-c",
            "CREATE UNIQUE INDEX ON psql_users (lower(email))",
            "-c",
            "CREATE UNIQUE INDEX ON psql_users (slug) WHERE deleted_at IS NULL",
            "-c",
            "CREATE INDEX ON psql_users ((a + b), a DESC) WHERE a > 0 AND b < 10",
        ],
    );
    let d = describe(&node, "\\d psql_users");
    for line in [
        "\"psql_users_lower_idx\" UNIQUE, btree (lower(email))",
        "\"psql_users_slug_idx\" UNIQUE, btree (slug) WHERE deleted_at IS NULL",
        "\"psql_users_expr_a_idx\" btree ((a + b), a DESC) WHERE a > 0 AND b < 10",
    ] {
        assert!(d.contains(line), "{d}");
    }
}

#[test]
fn psql_describes_foreign_keys_both_ways() {
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_parent (id int PRIMARY KEY, code text UNIQUE)",
            "-c",
            "CREATE TABLE psql_child (id int PRIMARY KEY, \
             pid int REFERENCES psql_parent ON DELETE CASCADE, \
             pcode text, CONSTRAINT psql_child_code FOREIGN KEY (pcode) REFERENCES psql_parent (code) ON UPDATE SET NULL)",
        ],
    );
    let child = describe(&node, "\\d psql_child");
    let want = "Foreign-key constraints:\n    \
        \"psql_child_code\" FOREIGN KEY (pcode) REFERENCES psql_parent(code) ON UPDATE SET NULL\n    \
        \"psql_child_pid_fkey\" FOREIGN KEY (pid) REFERENCES psql_parent(id) ON DELETE CASCADE\n";
    assert!(child.contains(want), "{child}");
    let parent = describe(&node, "\\d psql_parent");
    let want = "Referenced by:\n    \
        TABLE \"psql_child\" CONSTRAINT \"psql_child_code\" FOREIGN KEY (pcode) REFERENCES psql_parent(code) ON UPDATE SET NULL\n    \
        TABLE \"psql_child\" CONSTRAINT \"psql_child_pid_fkey\" FOREIGN KEY (pid) REFERENCES psql_parent(id) ON DELETE CASCADE\n";
    assert!(parent.contains(want), "{parent}");
    assert!(!parent.contains("Foreign-key constraints"), "{parent}");
}

#[test]
fn psql_shows_comments_views_and_sequences() {
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_noted (id int PRIMARY KEY, name text)",
            "-c",
            "COMMENT ON TABLE psql_noted IS 'Noted things'",
            "-c",
            "COMMENT ON COLUMN psql_noted.name IS 'Their name'",
            "-c",
            "CREATE VIEW psql_view AS SELECT id FROM psql_noted",
            "-c",
            "CREATE SEQUENCE psql_seq",
        ],
    );
    let table = describe(&node, "\\d+ psql_noted");
    assert!(
        table.contains("name|text||||extended|||Their name"),
        "{table}"
    );
    let listed = describe(&node, "\\dt+ psql_noted");
    assert!(listed.contains("|Noted things"), "{listed}");
    let views = describe(&node, "\\dv");
    assert!(views.contains("public|psql_view|view|"), "{views}");
    let sequences = describe(&node, "\\ds");
    assert!(
        sequences.contains("public|psql_seq|sequence|"),
        "{sequences}"
    );
}

#[test]
fn psql_lists_schemas_databases_and_roles() {
    let node = TestNode::start();
    let dn = stdout_of(&node, &["-c", "\\dn"]);
    assert!(dn.contains("public|mosaic"), "{dn}");
    let l = stdout_of(&node, &["-c", "\\l"]);
    assert!(l.contains("mosaic|mosaic|UTF8|"), "{l}");
    let du = stdout_of(&node, &["-c", "\\du"]);
    assert!(du.starts_with("mosaic|Superuser"), "{du}");
}

#[test]
fn psql_describes_relations_of_a_schema() {
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE SCHEMA psql_app",
            "-c",
            "CREATE TABLE psql_app.item (id serial PRIMARY KEY, code text UNIQUE)",
            "-c",
            "CREATE TABLE psql_app.part (id int PRIMARY KEY, item int REFERENCES psql_app.item)",
            "-c",
            "CREATE TABLE item (x int)",
        ],
    );
    let dn = describe(&node, "\\dn");
    assert!(dn.contains("psql_app|mosaic"), "{dn}");
    // Only the visible `item` (public's) unless the schema is named.
    let dt = describe(&node, "\\dt");
    assert!(dt.contains("public|item|table|mosaic"), "{dt}");
    assert!(!dt.contains("psql_app"), "{dt}");
    let dt = describe(&node, "\\dt psql_app.*");
    assert!(
        dt.contains("psql_app|item|table|mosaic\npsql_app|part|table|mosaic"),
        "{dt}"
    );
    let d = describe(&node, "\\d psql_app.part");
    assert!(d.starts_with("Table \"psql_app.part\""), "{d}");
    assert!(
        d.contains("\"part_item_fkey\" FOREIGN KEY (item) REFERENCES psql_app.item(id)"),
        "{d}"
    );
    let d = describe(&node, "\\d psql_app.item");
    assert!(
        d.contains("id|integer||not null|nextval('psql_app.item_id_seq'::regclass)"),
        "{d}"
    );
    assert!(d.contains("\"item_pkey\" PRIMARY KEY, btree (id)"), "{d}");
}

#[test]
fn catalog_queries_answer_from_the_catalog() {
    let node = TestNode::start();
    stdout_of(
        &node,
        &[
            "-c",
            "CREATE TABLE psql_cat (id integer PRIMARY KEY, v varchar(5))",
        ],
    );
    let out = stdout_of(
        &node,
        &[
            "-c",
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull \
             FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'psql_cat'::regclass \
             AND a.attnum > 0 ORDER BY a.attnum",
        ],
    );
    assert_eq!(out, "id|integer|t\nv|character varying(5)|f\n");
    let out = stdout_of(
        &node,
        &[
            "-c",
            "SELECT c.oid::pg_catalog.regclass::pg_catalog.text, i.indkey, i.indisprimary \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'psql_cat'::regclass",
        ],
    );
    assert_eq!(out, "psql_cat_pkey|1|t\n");
}

/// `\x`: expanded display prints a record per row, a line per column.
#[test]
fn psql_expanded_display() {
    let node = TestNode::start();
    let out = Command::new("psql")
        .arg(node.conn_string())
        .args(["-X", "-P", "pager=off", "-c", "\\x", "-c"])
        .arg("SELECT n AS id, 'row ' || n AS label, NULL::text AS note FROM generate_series(1, 2) AS s(n)")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql \\x failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("psql output is UTF-8");
    assert_eq!(
        text,
        "Expanded display is on.\n\
         -[ RECORD 1 ]\n\
         id    | 1\n\
         label | row 1\n\
         note  | \n\
         -[ RECORD 2 ]\n\
         id    | 2\n\
         label | row 2\n\
         note  | \n\n"
    );
}

/// IF [NOT] EXISTS that skips says so with PostgreSQL's NOTICE and its
/// SQLSTATE, BEGIN inside a block and SET TRANSACTION outside one warn
/// with theirs, and `client_min_messages = warning` hides the NOTICEs:
/// the same script through psql prints the same on PostgreSQL and on a
/// node.
#[test]
fn notices_are_postgresqls() {
    let pg = common::postgres::Postgres::start();
    let node = TestNode::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/psql_notices.sql");
    let run = |conn: &str| -> String {
        let out = Command::new("psql")
            .arg(conn)
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                "VERBOSITY=verbose",
                "-f",
            ])
            .arg(&script)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("run psql (scripts/install-test-deps.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // PostgreSQL names the source line of each message; a node does not.
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("LOCATION:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let want = run(&pg.conn_string());
    assert_eq!(want.matches("NOTICE:").count(), 27, "{want}");
    assert_eq!(run(&node.conn_string()), want);
}
