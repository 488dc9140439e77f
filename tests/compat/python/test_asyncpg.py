"""asyncpg against MosaicDB: it always uses the extended protocol with named
prepared statements and binary format, and introspects pg_catalog.pg_type
for the types in each statement's Describe."""

import asyncio
import datetime
import decimal
import json
import uuid

import asyncpg
import pytest


def run(coro):
    return asyncio.run(coro)


async def connect(dsn):
    return await asyncpg.connect(dsn)


TYPED_VALUES = [
    ("smallint", 12),
    ("integer", -123456),
    ("bigint", 9_000_000_000),
    ("real", 1.5),
    ("double precision", 2.25),
    ("numeric", decimal.Decimal("12345.678")),
    ("text", "héllo 'world'"),
    ("varchar(20)", "short"),
    ("boolean", True),
    ("bytea", b"\x00\x01\xffbin"),
    ("date", datetime.date(2024, 2, 29)),
    ("timestamp", datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)),
    ("timestamptz", datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
]


@pytest.mark.parametrize("sqltype,value", TYPED_VALUES, ids=[t for t, _ in TYPED_VALUES])
def test_roundtrip_typed_parameter(dsn, table, sqltype, value):
    async def body():
        conn = await connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, v {sqltype})")
            await conn.execute(f"INSERT INTO {table} (id, v) VALUES ($1, $2)", 1, value)
            await conn.execute(f"INSERT INTO {table} (id, v) VALUES ($1, $2)", 2, None)
            assert await conn.fetchval(f"SELECT v FROM {table} WHERE id = $1", 1) == value
            assert await conn.fetchval(f"SELECT id FROM {table} WHERE v = $1", value) == 1
            assert await conn.fetchval(f"SELECT v FROM {table} WHERE id = $1", 2) is None
        finally:
            await conn.close()

    run(body())


@pytest.mark.parametrize("sqltype", ["json", "jsonb"])
def test_json(dsn, table, sqltype):
    async def body():
        conn = await connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id integer, v {sqltype})")
            doc = {"a": 1, "b": [True, None]}
            await conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", 1, json.dumps(doc))
            assert json.loads(await conn.fetchval(f"SELECT v FROM {table}")) == doc
        finally:
            await conn.close()

    run(body())


def test_prepared_statement(dsn, table):
    async def body():
        conn = await connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, name text, score float8)")
            await conn.executemany(
                f"INSERT INTO {table} VALUES ($1, $2, $3)",
                [(i, f"n{i}", i / 2) for i in range(25)],
            )
            stmt = await conn.prepare(f"SELECT id, name, score FROM {table} WHERE id < $1 ORDER BY id")
            assert [a.name for a in stmt.get_attributes()] == ["id", "name", "score"]
            assert [t.name for t in stmt.get_parameters()] == ["int4"]
            rows = await stmt.fetch(3)
            assert [tuple(r) for r in rows] == [(0, "n0", 0.0), (1, "n1", 0.5), (2, "n2", 1.0)]
            assert rows[1]["name"] == "n1"
            assert await stmt.fetchval(1) == 0
            row = await stmt.fetchrow(100)
            assert row["id"] == 0
            assert len(await stmt.fetch(100)) == 25
        finally:
            await conn.close()

    run(body())


def test_transactions_and_errors(dsn, table):
    async def body():
        conn = await connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY)")
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await conn.execute(f"INSERT INTO {table} VALUES ($1)", 2)
                    raise RuntimeError("roll back")
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1
            with pytest.raises(asyncpg.exceptions.UniqueViolationError) as err:
                await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)
            assert err.value.sqlstate == "23505"
            with pytest.raises(asyncpg.exceptions.UndefinedTableError):
                await conn.fetch("SELECT * FROM missing_table_xyz")
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()

    run(body())



def test_custom_json_codec(dsn, table):
    """set_type_codec looks the type up in pg_catalog.pg_type by name."""

    async def body():
        conn = await connect(dsn)
        try:
            for name in ("json", "jsonb"):
                await conn.set_type_codec(
                    name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
                )
            await conn.execute(f"CREATE TABLE {table} (id integer, j json, b jsonb)")
            doc = {"k": [1, 2, {"x": None}]}
            await conn.execute(f"INSERT INTO {table} VALUES ($1, $2, $3)", 1, doc, doc)
            row = await conn.fetchrow(f"SELECT j, b FROM {table}")
            assert row["j"] == doc and row["b"] == doc
        finally:
            await conn.close()

    run(body())


def test_supported_types_need_no_introspection(dsn, monkeypatch):
    """asyncpg knows every type MosaicDB has by OID, so it never sends its
    pg_type introspection query (which needs oid[] parameters)."""
    calls = []
    original = asyncpg.connection.Connection._introspect_types

    async def spy(self, *args, **kwargs):
        calls.append(args)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(asyncpg.connection.Connection, "_introspect_types", spy)

    async def body():
        conn = await connect(dsn)
        try:
            row = await conn.fetchrow(
                "SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.5::float8, 1.25::numeric,"
                " 'a'::text, 'b'::varchar, true, '\\x01'::bytea, '2024-01-02'::date,"
                " '2024-01-02 03:04:05'::timestamp, '2024-01-02 03:04:05+00'::timestamptz,"
                " '{}'::json, '[]'::jsonb, '12345678-1234-5678-1234-567812345678'::uuid"
            )
            assert row[0] == 1 and row[5] == decimal.Decimal("1.25") and row[9] == b"\x01"
            assert row[12] == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        finally:
            await conn.close()

    run(body())
    assert calls == []


def test_copy_records_in_binary(dsn, table):
    """copy_records_to_table sends COPY … (FORMAT binary)."""

    async def body():
        conn = await connect(dsn)
        try:
            await conn.execute(
                f"CREATE TABLE {table} (id integer, name text, amount numeric,"
                " at timestamptz, tag uuid, ok boolean)"
            )
            at = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
            records = [
                (i, f"r{i}", decimal.Decimal(i) / 8, at, uuid.UUID(int=i), i % 2 == 0)
                for i in range(500)
            ]
            records.append((1000, None, None, None, None, None))
            result = await conn.copy_records_to_table(table, records=records)
            assert result == "COPY 501"
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 501
            row = await conn.fetchrow(f"SELECT * FROM {table} WHERE id = 9")
            assert tuple(row) == (9, "r9", decimal.Decimal("1.125"), at, uuid.UUID(int=9), False)
            assert await conn.fetchval(f"SELECT name IS NULL FROM {table} WHERE id = 1000")
            await conn.copy_records_to_table(table, records=[(2000, "x")], columns=["id", "name"])
            assert await conn.fetchval(f"SELECT name FROM {table} WHERE id = 2000") == "x"
        finally:
            await conn.close()

    run(body())


def test_cursor_fetches_in_batches(dsn, table):
    """asyncpg cursors are portals read with Execute(max_rows)."""

    async def body():
        conn = await connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id integer)")
            await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(i,) for i in range(100)])
            async with conn.transaction():
                ids = [r["id"] async for r in conn.cursor(f"SELECT id FROM {table} ORDER BY id", prefetch=7)]
                assert ids == list(range(100))
                cur = await conn.cursor(f"SELECT id FROM {table} WHERE id >= $1 ORDER BY id", 10)
                assert [r[0] for r in await cur.fetch(5)] == [10, 11, 12, 13, 14]
                assert (await cur.fetchrow())["id"] == 15
        finally:
            await conn.close()

    run(body())
