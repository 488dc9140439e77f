"""time without time zone through the drivers: psycopg sends datetime.time
parameters in text (`%s`) and binary (`%b`) and reads them back in both
formats; asyncpg sends and reads them in binary (microseconds since
midnight). Arithmetic with intervals and the difference of two times come
back as the Python types."""

import asyncio
import datetime

import asyncpg
import psycopg
import pytest

T = datetime.time
TD = datetime.timedelta


@pytest.mark.parametrize("placeholder", ["%s", "%b"])
@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_time_round_trip(dsn, table, ddl, placeholder, binary):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, t time)")
    values = [T(0, 0), T(10, 30, 5), T(23, 59, 59, 999999), T(12, 0, 0, 500000)]
    with psycopg.connect(dsn, autocommit=True) as c:
        with c.cursor() as cur:
            for i, v in enumerate(values):
                cur.execute(f"INSERT INTO {table} VALUES ({placeholder}, {placeholder})", (i, v))
        with c.cursor(binary=binary) as cur:
            cur.execute(f"SELECT t FROM {table} ORDER BY id")
            assert [r[0] for r in cur.fetchall()] == values
            cur.execute(
                f"SELECT t + interval '90 minutes', t - time '10:00' FROM {table} WHERE t > {placeholder}",
                (T(10, 30),),
            )
            assert sorted(cur.fetchall()) == [
                (T(1, 29, 59, 999999), TD(hours=13, minutes=59, seconds=59, microseconds=999999)),
                (T(12, 0, 5), TD(minutes=30, seconds=5)),
                (T(13, 30, 0, 500000), TD(hours=2, microseconds=500000)),
            ]


def test_asyncpg_time_binary(dsn, table, ddl):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, t time)")

    async def run():
        c = await asyncpg.connect(dsn)
        try:
            await c.executemany(
                f"INSERT INTO {table} VALUES ($1, $2)",
                [(1, T(8, 15, 23, 500000)), (2, T(17, 0)), (3, None)],
            )
            rows = await c.fetch(f"SELECT id, t FROM {table} WHERE t < $1 ORDER BY id", T(12, 0))
            assert [tuple(r) for r in rows] == [(1, T(8, 15, 23, 500000))]
            got = await c.fetchval("SELECT max(t) - min(t) FROM " + table)
            assert got == TD(hours=8, minutes=44, seconds=36, microseconds=500000)
            got = await c.fetchval("SELECT $1::date + $2::time", datetime.date(2024, 2, 29), T(6, 7))
            assert got == datetime.datetime(2024, 2, 29, 6, 7)
        finally:
            await c.close()

    asyncio.run(run())
