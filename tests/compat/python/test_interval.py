"""interval through the drivers: asyncpg sends and reads it in binary,
psycopg in text (and binary when asked), both as datetime.timedelta;
arithmetic with parameters, comparisons by value, COPY in and out."""

import asyncio
import datetime

import asyncpg
import psycopg

TD = datetime.timedelta


def test_asyncpg_binary_interval(dsn, table):
    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, d interval)")
            values = [TD(days=1, hours=2, microseconds=5), TD(hours=24), TD(seconds=-90), TD(0)]
            await conn.executemany(
                f"INSERT INTO {table} VALUES ($1, $2)", list(enumerate(values))
            )
            got = await conn.fetch(f"SELECT id, d FROM {table} ORDER BY d, id")
            assert [r["id"] for r in got] == [2, 3, 1, 0]
            assert [r["d"] for r in got] == [values[2], values[3], values[1], values[0]]
            # 24 hours equals 1 day: the comparison is by value.
            n = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE d = $1", TD(days=1))
            assert n == 1
            ts = datetime.datetime(2024, 1, 31, 10, 0)
            assert await conn.fetchval("SELECT $1::timestamp + $2::interval", ts, TD(days=1)) == (
                datetime.datetime(2024, 2, 1, 10, 0)
            )
            assert await conn.fetchval("SELECT $1::timestamp - $2::timestamp", ts, ts - TD(hours=25)) == TD(
                days=1, hours=1
            )
            # An untyped parameter takes the type the operator wants.
            assert await conn.fetchval("SELECT $1::timestamp + $2", ts, TD(days=1)) == (
                datetime.datetime(2024, 2, 1, 10, 0)
            )
            assert await conn.fetchval(f"SELECT d * $1 FROM {table} WHERE id = 1", 1.5) == TD(hours=36)
            await conn.execute("SELECT pg_sleep_for($1)", TD(milliseconds=1))
            # A month is not a fixed span: asyncpg reads it as 30 days.
            assert await conn.fetchval("SELECT interval '1 mon 2 days'") == TD(days=32)
            assert await conn.fetchval(f"SELECT sum(d) FROM {table}") == sum(values, TD(0))
        finally:
            await conn.close()

    asyncio.run(body())


def test_psycopg_text_and_binary_interval(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, d interval)")
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, TD(days=-1, hours=2)))
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (2, TD(minutes=90, microseconds=250)))
        rows = conn.execute(f"SELECT id, d, d::text FROM {table} ORDER BY id").fetchall()
        assert rows == [
            (1, TD(days=-1, hours=2), "-1 days +02:00:00"),
            (2, TD(minutes=90, microseconds=250), "01:30:00.00025"),
        ]
        cur = conn.cursor(binary=True)
        cur.execute(f"SELECT d FROM {table} WHERE d > %s ORDER BY id", (TD(0),))
        assert cur.fetchall() == [(TD(minutes=90, microseconds=250),)]
        got = conn.execute("SELECT now() - %s < now(), %s * 2", (TD(days=1), TD(hours=7))).fetchone()
        assert got == (True, TD(hours=14))
        with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
            copy.write_row((3, "1 year 2 mons"))
            copy.write_row((4, None))
        with conn.cursor().copy(f"COPY {table} (id, d) TO STDOUT") as copy:
            out = sorted(copy.rows())
        assert out == [
            ("1", "-1 days +02:00:00"),
            ("2", "01:30:00.00025"),
            ("3", "1 year 2 mons"),
            ("4", None),
        ]
        bad = None
        try:
            conn.execute(f"INSERT INTO {table} VALUES (5, 'soon')")
        except psycopg.errors.InvalidDatetimeFormat as e:
            bad = e
        assert bad is not None
