// node-postgres (pg) against MosaicDB, the way a Node application uses it:
// a Pool shared by concurrent requests, parameterized queries ($1..$n, sent
// by pg as untyped text parameters through the extended protocol), explicit
// transactions on a checked-out client, and errors carrying their SQLSTATE.
//
// tests/compat_node.rs starts a node and sets MOSAIC_TEST_URL
// (postgresql://USER:PASSWORD@HOST:PORT/DB) and TZ=UTC, so timestamps
// without a zone read back as the same Date.

"use strict";

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const pg = require("pg");

const url = process.env.MOSAIC_TEST_URL;
if (!url) {
  throw new Error("MOSAIC_TEST_URL is not set (run through cargo test --test compat_node)");
}

const pool = new pg.Pool({ connectionString: url, max: 4 });
after(() => pool.end());

/** A fresh table name per test, so tests never see each other's rows. */
function tableName() {
  return "t_" + crypto.randomBytes(6).toString("hex");
}

test("server identifies itself as PostgreSQL", async () => {
  const { rows } = await pool.query("SHOW server_version_num");
  assert.ok(Number(rows[0].server_version_num) >= 150000, JSON.stringify(rows));
  const enc = await pool.query("SHOW client_encoding");
  assert.equal(enc.rows[0].client_encoding, "UTF8");
});

test("concurrent queries share the pool", async () => {
  const results = await Promise.all(
    Array.from({ length: 16 }, (_, i) => pool.query("SELECT $1::int * 2 AS doubled, $2::text AS label", [i, `q${i}`])),
  );
  results.forEach((result, i) => {
    assert.deepEqual(result.rows, [{ doubled: i * 2, label: `q${i}` }]);
  });
  // Four clients at most, so the sixteen queries were spread over them.
  assert.ok(pool.totalCount <= 4, `pool opened ${pool.totalCount} connections`);
  assert.ok(pool.totalCount >= 2, `pool opened ${pool.totalCount} connections`);
});

test("parameters of every common type round-trip", async () => {
  const t = tableName();
  await pool.query(
    `CREATE TABLE ${t} (id integer PRIMARY KEY, name text, score double precision,
       active boolean, created timestamp, created_tz timestamptz, doc json, note text)`,
  );
  const created = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  const doc = { a: 1, b: [true, null, "x"], c: { nested: "é" } };
  const insert = await pool.query(
    `INSERT INTO ${t} (id, name, score, active, created, created_tz, doc, note)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [1, "héllo 'world'", 2.5, true, created, created, JSON.stringify(doc), null],
  );
  assert.equal(insert.rowCount, 1);
  assert.equal(insert.command, "INSERT");
  await pool.query(`INSERT INTO ${t} (id, name, score, active) VALUES ($1, $2, $3, $4)`, [2, "second", -0.125, false]);

  const { rows, fields } = await pool.query(`SELECT * FROM ${t} WHERE id = $1`, [1]);
  assert.deepEqual(
    fields.map((f) => f.name),
    ["id", "name", "score", "active", "created", "created_tz", "doc", "note"],
  );
  assert.equal(rows.length, 1);
  const row = rows[0];
  assert.equal(row.id, 1);
  assert.equal(row.name, "héllo 'world'");
  assert.equal(row.score, 2.5);
  assert.equal(row.active, true);
  assert.ok(row.created instanceof Date, `created is ${typeof row.created}: ${row.created}`);
  assert.equal(row.created.getTime(), created.getTime());
  assert.ok(row.created_tz instanceof Date, `created_tz is ${typeof row.created_tz}: ${row.created_tz}`);
  assert.equal(row.created_tz.getTime(), created.getTime());
  assert.deepEqual(row.doc, doc);
  assert.equal(row.note, null);

  const byParams = await pool.query(
    `SELECT id FROM ${t} WHERE active = $1 AND score < $2 AND name LIKE $3 ORDER BY id`,
    [false, 0, "sec%"],
  );
  assert.deepEqual(byParams.rows, [{ id: 2 }]);
  const nulls = await pool.query(`SELECT id FROM ${t} WHERE note IS NULL AND created IS NULL`);
  assert.deepEqual(nulls.rows, [{ id: 2 }]);
  const json = await pool.query(`SELECT doc->>'a' AS a, doc->'c'->>'nested' AS n FROM ${t} WHERE id = $1`, [1]);
  assert.deepEqual(json.rows, [{ a: "1", n: "é" }]);
});

test("many rows inserted concurrently, then aggregated", async () => {
  const t = tableName();
  await pool.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, grp text, amount bigint)`);
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      pool.query(`INSERT INTO ${t} (id, grp, amount) VALUES ($1, $2, $3)`, [i, i % 2 ? "odd" : "even", i * 10]),
    ),
  );
  const { rows } = await pool.query(
    `SELECT grp, count(*) AS n, sum(amount) AS total FROM ${t} WHERE id >= $1 GROUP BY grp ORDER BY grp`,
    [0],
  );
  let evenTotal = 0;
  let oddTotal = 0;
  for (let i = 0; i < 40; i++) {
    if (i % 2) oddTotal += i * 10;
    else evenTotal += i * 10;
  }
  // count and sum are bigint, which pg returns as strings to keep precision.
  assert.deepEqual(rows, [
    { grp: "even", n: "20", total: String(evenTotal) },
    { grp: "odd", n: "20", total: String(oddTotal) },
  ]);
});

test("a named prepared statement is reused", async () => {
  const t = tableName();
  await pool.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, v text)`);
  const client = await pool.connect();
  try {
    for (let i = 0; i < 5; i++) {
      await client.query({ name: `ins_${t}`, text: `INSERT INTO ${t} (id, v) VALUES ($1, $2)`, values: [i, `v${i}`] });
    }
    for (let i = 0; i < 5; i++) {
      const { rows } = await client.query({ name: `sel_${t}`, text: `SELECT v FROM ${t} WHERE id = $1`, values: [i] });
      assert.deepEqual(rows, [{ v: `v${i}` }]);
    }
  } finally {
    client.release();
  }
});

test("BEGIN ... COMMIT keeps the rows, BEGIN ... ROLLBACK drops them", async () => {
  const t = tableName();
  await pool.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, v text)`);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`INSERT INTO ${t} (id, v) VALUES ($1, $2)`, [1, "committed"]);
    await client.query(`UPDATE ${t} SET v = v || $1 WHERE id = $2`, ["!", 1]);
    const inside = await client.query(`SELECT v FROM ${t}`);
    assert.deepEqual(inside.rows, [{ v: "committed!" }]);
    await client.query("COMMIT");

    await client.query("BEGIN");
    await client.query(`INSERT INTO ${t} (id, v) VALUES ($1, $2)`, [2, "rolled back"]);
    await client.query(`DELETE FROM ${t} WHERE id = $1`, [1]);
    assert.deepEqual((await client.query(`SELECT count(*)::int AS n FROM ${t}`)).rows, [{ n: 1 }]);
    await client.query("ROLLBACK");
  } finally {
    client.release();
  }
  const { rows } = await pool.query(`SELECT id, v FROM ${t} ORDER BY id`);
  assert.deepEqual(rows, [{ id: 1, v: "committed!" }]);
});

test("an error inside a transaction aborts it until ROLLBACK", async () => {
  const t = tableName();
  await pool.query(`CREATE TABLE ${t} (id integer PRIMARY KEY)`);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`INSERT INTO ${t} (id) VALUES ($1)`, [1]);
    await assert.rejects(client.query(`INSERT INTO ${t} (id) VALUES ($1)`, [1]), { code: "23505" });
    await assert.rejects(client.query("SELECT 1"), { code: "25P02" });
    await client.query("ROLLBACK");
    assert.deepEqual((await client.query("SELECT 1 AS one")).rows, [{ one: 1 }]);
  } finally {
    client.release();
  }
  assert.deepEqual((await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows, [{ n: 0 }]);
});

test("errors carry their SQLSTATE and leave the connection usable", async () => {
  const t = tableName();
  await pool.query(`CREATE TABLE ${t} (id integer PRIMARY KEY, v text NOT NULL)`);
  await pool.query(`INSERT INTO ${t} (id, v) VALUES ($1, $2)`, [1, "a"]);
  const client = await pool.connect();
  try {
    await assert.rejects(client.query(`INSERT INTO ${t} (id, v) VALUES ($1, $2)`, [1, "b"]), (err) => {
      assert.equal(err.code, "23505");
      assert.ok(err instanceof pg.DatabaseError, String(err));
      return true;
    });
    await assert.rejects(client.query(`INSERT INTO ${t} (id, v) VALUES ($1, $2)`, [2, null]), { code: "23502" });
    await assert.rejects(client.query("SELECT * FROM no_such_table_here WHERE id = $1", [1]), { code: "42P01" });
    await assert.rejects(client.query("SELEC 1"), { code: "42601" });
    await assert.rejects(client.query("SELECT 1 / $1::int AS x", [0]), { code: "22012" });
    assert.deepEqual((await client.query(`SELECT count(*)::int AS n FROM ${t}`)).rows, [{ n: 1 }]);
  } finally {
    client.release();
  }
});

test("multi-statement simple query returns every result", async () => {
  const results = await pool.query("SELECT 1 AS a; SELECT 'two' AS b");
  assert.equal(results.length, 2);
  assert.deepEqual(results[0].rows, [{ a: 1 }]);
  assert.deepEqual(results[1].rows, [{ b: "two" }]);
});
