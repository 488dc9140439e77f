"""The session's time zone through the drivers. psycopg sets it with SET
and sends aware datetimes (with their offset) and naive ones (read in the
session's zone) in text (`%s`) and binary (`%b`); rows come back in the
session's zone in text and as the same instants in binary. asyncpg sends
the zone as a startup setting (`server_settings`, as JDBC sends its JVM's
zone), and reads timestamptz in binary (UTC microseconds) while text
built in SQL (`::text`, to_char, date_trunc) follows the zone."""

import asyncio
import datetime
from zoneinfo import ZoneInfo

import asyncpg
import psycopg
import pytest

UTC = datetime.timezone.utc
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize("placeholder", ["%s", "%b"])
@pytest.mark.parametrize("binary", [False, True])
def test_psycopg_reads_and_writes_in_the_session_zone(dsn, table, ddl, placeholder, binary):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, t timestamptz)")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET TIME ZONE 'Europe/Paris'")
        assert c.info.parameter_status("TimeZone") == "Europe/Paris"
        with c.cursor() as cur:
            # An aware value keeps its instant; a naive text is a wall
            # time in Paris (summer: +02).
            cur.execute(
                f"INSERT INTO {table} VALUES (1, {placeholder})",
                (datetime.datetime(2024, 7, 1, 10, 0, tzinfo=UTC),),
            )
            cur.execute(f"INSERT INTO {table} VALUES (2, %s::text::timestamptz)", ("2024-07-01 12:00",))
            cur.execute(f"INSERT INTO {table} VALUES (3, '2024-12-01 12:00')")
        with c.cursor(binary=binary) as cur:
            cur.execute(f"SELECT t FROM {table} ORDER BY id")
            got = [r[0] for r in cur.fetchall()]
            assert got == [
                datetime.datetime(2024, 7, 1, 12, 0, tzinfo=PARIS),
                datetime.datetime(2024, 7, 1, 12, 0, tzinfo=PARIS),
                datetime.datetime(2024, 12, 1, 12, 0, tzinfo=PARIS),
            ]
            assert got[0].utcoffset() == datetime.timedelta(hours=2)
            assert got[2].utcoffset() == datetime.timedelta(hours=1)
            cur.execute(
                f"SELECT t::text, date_trunc('day', t)::text, to_char(t, 'HH24:MI TZ') FROM {table} "
                f"WHERE t < {placeholder} ORDER BY id",
                (datetime.datetime(2024, 8, 1, tzinfo=UTC),),
            )
            assert cur.fetchall() == [
                ("2024-07-01 12:00:00+02", "2024-07-01 00:00:00+02", "12:00 CEST"),
                ("2024-07-01 12:00:00+02", "2024-07-01 00:00:00+02", "12:00 CEST"),
            ]


def test_asyncpg_startup_zone_and_binary_instants(dsn, table, ddl):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, t timestamptz)")

    async def run():
        c = await asyncpg.connect(dsn, server_settings={"TimeZone": "America/New_York"})
        try:
            assert await c.fetchval("SHOW timezone") == "America/New_York"
            start = datetime.datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
            await c.executemany(
                f"INSERT INTO {table} VALUES ($1, $2)",
                [(i, start + datetime.timedelta(hours=12 * i)) for i in range(4)],
            )
            rows = await c.fetch(f"SELECT id, t FROM {table} ORDER BY id")
            assert [r["t"] for r in rows] == [start + datetime.timedelta(hours=12 * i) for i in range(4)]
            # The daylight saving change of 2024-03-10 in New York: a day
            # later on the local calendar is 23 hours later.
            got = await c.fetch(
                f"SELECT (t + interval '1 day')::text AS a, extract(hour FROM t) AS h FROM {table} ORDER BY id"
            )
            assert [(r["a"], int(r["h"])) for r in got] == [
                ("2024-03-10 07:00:00-04", 7),
                ("2024-03-10 19:00:00-04", 19),
                ("2024-03-11 08:00:00-04", 8),
                ("2024-03-11 20:00:00-04", 20),
            ]
            naive = await c.fetchval("SELECT $1::text::timestamptz", "2024-03-10 03:30")
            assert naive == datetime.datetime(2024, 3, 10, 7, 30, tzinfo=UTC)
        finally:
            await c.close()

    asyncio.run(run())


def test_copy_reads_and_writes_in_the_session_zone(dsn, table, ddl):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, t timestamptz)")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET TIME ZONE 'Asia/Kolkata'")
        with c.cursor() as cur:
            with cur.copy(f"COPY {table} FROM STDIN") as cp:
                cp.write("1\t2024-07-01 12:00\n2\t2024-07-01 12:00+00\n")
            with cur.copy(f"COPY {table} TO STDOUT") as cp:
                lines = b"".join(bytes(x) for x in cp).decode().splitlines()
        assert lines == ["1\t2024-07-01 12:00:00+05:30", "2\t2024-07-01 17:30:00+05:30"]
        c.execute("SET TIME ZONE 'UTC'")
        got = c.execute(f"SELECT t::text FROM {table} ORDER BY id").fetchall()
        assert got == [("2024-07-01 06:30:00+00",), ("2024-07-01 12:00:00+00",)]
