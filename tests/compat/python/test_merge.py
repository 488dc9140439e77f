"""MERGE and data-modifying WITH queries through the drivers, with
parameters in the source, the conditions and the values: psycopg in text
(`%s`) and binary (`%b`), asyncpg (binary, its parameter types the server's
inference), the command tag counting the rows changed, and a duplicate
match failing with 21000 without changing anything."""

import asyncio
import decimal

import asyncpg
import psycopg
import pytest

D = decimal.Decimal

UPSERT = (
    "MERGE INTO {t} AS t USING (SELECT {p}::int AS id, {p}::int AS q) AS s ON t.id = s.id "
    "WHEN MATCHED AND t.qty + s.q <= 0 THEN DELETE "
    "WHEN MATCHED THEN UPDATE SET qty = t.qty + s.q, price = {p} "
    "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.q, {p})"
)


@pytest.mark.parametrize("placeholder", ["%s", "%b"])
def test_psycopg_merge_upserts(dsn, table, ddl, placeholder):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, qty int NOT NULL, price numeric(6,2))")
    sql = UPSERT.format(t=table, p=placeholder)
    with psycopg.connect(dsn, autocommit=True) as c:
        tags = []
        for args in [(1, 5, D("1.255"), D("2")), (1, 3, D("9.999"), D("0")), (2, 4, None, D("3.5"))]:
            tags.append(c.execute(sql, args).statusmessage)
        assert tags == ["MERGE 1", "MERGE 1", "MERGE 1"]
        rows = c.execute(f"SELECT id, qty, price FROM {table} ORDER BY id").fetchall()
        assert rows == [(1, 8, D("10.00")), (2, 4, D("3.50"))]
        # Taking 8 from row 1 deletes it.
        assert c.execute(sql, (1, -8, D("0"), D("0"))).statusmessage == "MERGE 1"
        assert c.execute(f"SELECT id FROM {table} ORDER BY id").fetchall() == [(2,)]


def test_asyncpg_merge_and_duplicate_match(dsn, table, ddl):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, qty int NOT NULL, price numeric(6,2))")

    async def run():
        c = await asyncpg.connect(dsn)
        try:
            await c.execute(f"INSERT INTO {table} VALUES (1, 1, 1), (2, 2, 2)")
            tag = await c.execute(
                f"MERGE INTO {table} t USING (SELECT unnest($1::int[]) AS id) s ON t.id = s.id "
                "WHEN MATCHED THEN UPDATE SET qty = t.qty * $2 "
                "WHEN NOT MATCHED THEN INSERT (id, qty) VALUES (s.id, $2)",
                [1, 2, 3],
                10,
            )
            assert tag == "MERGE 3"
            rows = await c.fetch(f"SELECT id, qty FROM {table} ORDER BY id")
            assert [tuple(r) for r in rows] == [(1, 10), (2, 20), (3, 10)]
            with pytest.raises(asyncpg.PostgresError) as e:
                await c.execute(
                    f"MERGE INTO {table} t USING (SELECT unnest($1::int[]) AS id) s "
                    "ON t.id = s.id WHEN MATCHED THEN UPDATE SET qty = 0",
                    [3, 1, 3],
                )
            assert e.value.sqlstate == "21000"
            rows = await c.fetch(f"SELECT id, qty FROM {table} ORDER BY id")
            assert [tuple(r) for r in rows] == [(1, 10), (2, 20), (3, 10)]
        finally:
            await c.close()

    asyncio.run(run())


@pytest.mark.parametrize("placeholder", ["%s", "%b"])
def test_psycopg_with_delete_returning_moves_rows(dsn, table, ddl, placeholder):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, v text, n numeric(5,1))")
    ddl(f"CREATE TABLE {table}_old (id int PRIMARY KEY, v text, n numeric(5,1))")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"INSERT INTO {table} VALUES (1, 'a', 1.5), (2, 'b''s', NULL), (3, 'c', 3)")
        p = placeholder
        cur = c.execute(
            f"WITH moved AS (DELETE FROM {table} WHERE id <= {p} RETURNING *) "
            f"INSERT INTO {table}_old SELECT id, v || {p}, n FROM moved RETURNING id, v, n",
            (2, "!"),
        )
        assert cur.statusmessage == "INSERT 0 2"
        assert sorted(cur.fetchall()) == [(1, "a!", D("1.5")), (2, "b's!", None)]
        assert c.execute(f"SELECT id FROM {table}").fetchall() == [(3,)]
        got = c.execute(
            f"WITH u AS (UPDATE {table} SET n = n + {p} RETURNING id, n) SELECT id, n FROM u",
            (D("0.25"),),
        ).fetchall()
        assert got == [(3, D("3.3"))]
