"""Domains through the drivers: psycopg 3 and asyncpg bind and read
columns of a domain as its base type (the result column's type oid is
the base type's, as PostgreSQL sends it), a value that breaks the domain
is CheckViolation / NotNullViolation, and SQLAlchemy's Inspector reflects
the domains and a table's domain column. The same file passes against
PostgreSQL 15."""

import asyncio
import uuid

import asyncpg
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import DOMAIN


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:10]
    return f"posint_{suffix}", f"code_{suffix}", f"t_{suffix}"


def create(c, posint, code, table):
    c.execute(f"CREATE DOMAIN {posint} AS integer CHECK (VALUE > 0)")
    c.execute(
        f"CREATE DOMAIN {code} AS varchar(8) NOT NULL DEFAULT 'none' "
        f"CONSTRAINT {code}_lower CHECK (VALUE ~ '^[a-z]+$')"
    )
    c.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n {posint}, c {code})")


def drop(c, posint, code, table):
    c.execute(f"DROP TABLE {table}")
    c.execute(f"DROP DOMAIN {posint}, {code}")


def test_psycopg_domain_columns(dsn, names):
    posint, code, table = names
    with psycopg.connect(dsn, autocommit=True) as c:
        create(c, posint, code, table)
        c.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (1, 5, "abc"))
        c.execute(f"INSERT INTO {table} (id, n) VALUES (%s, %s)", (2, 7))
        with pytest.raises(psycopg.errors.CheckViolation, match=f"value for domain {posint}"):
            c.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (3, -1, "abc"))
        with pytest.raises(psycopg.errors.CheckViolation, match=f"{code}_lower"):
            c.execute(f"UPDATE {table} SET c = %s WHERE id = %s", ("ABC", 1))
        with pytest.raises(psycopg.errors.NotNullViolation, match=f"domain {code} does not allow"):
            c.execute(f"UPDATE {table} SET c = %s WHERE id = %s", (None, 1))
        cur = c.execute(f"SELECT id, n, c FROM {table} WHERE n >= %s ORDER BY id", (5,))
        assert cur.fetchall() == [(1, 5, "abc"), (2, 7, "none")]
        assert cur.description[1].type_code == 23
        assert cur.description[2].type_code == 1043
        bcur = c.cursor(binary=True)
        bcur.execute(f"SELECT n, %s::{posint} FROM {table} WHERE id = %s", (9, 2))
        assert bcur.fetchall() == [(7, 9)]
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute(f"SELECT %s::{posint}", (0,))
        drop(c, posint, code, table)


def test_asyncpg_domain_columns(dsn, names):
    posint, code, table = names

    async def body():
        c = await asyncpg.connect(dsn)
        try:
            await c.execute(f"CREATE DOMAIN {posint} AS integer CHECK (VALUE > 0)")
            await c.execute(
                f"CREATE DOMAIN {code} AS varchar(8) NOT NULL DEFAULT 'none' "
                f"CONSTRAINT {code}_lower CHECK (VALUE ~ '^[a-z]+$')"
            )
            await c.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n {posint}, c {code})")
            await c.executemany(
                f"INSERT INTO {table} VALUES ($1, $2, $3)", [(1, 5, "abc"), (2, 6, "def")]
            )
            with pytest.raises(asyncpg.CheckViolationError):
                await c.execute(f"INSERT INTO {table} VALUES ($1, $2, $3)", 3, 0, "abc")
            with pytest.raises(asyncpg.NotNullViolationError):
                await c.execute(f"INSERT INTO {table} VALUES ($1, $2, $3)", 3, 1, None)
            rows = await c.fetch(f"SELECT id, n, c FROM {table} WHERE n > $1 ORDER BY id", 4)
            assert [tuple(r) for r in rows] == [(1, 5, "abc"), (2, 6, "def")]
            assert await c.fetchval(f"SELECT sum(n) FROM {table}") == 11
            await c.execute(f"DROP TABLE {table}")
            await c.execute(f"DROP DOMAIN {posint}, {code}")
        finally:
            await c.close()

    asyncio.run(body())


def test_sqlalchemy_reflects_domains(dsn, names):
    posint, code, table = names
    engine = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE DOMAIN {posint} AS integer CHECK (VALUE > 0)")
            conn.exec_driver_sql(
                f"CREATE DOMAIN {code} AS varchar(8) NOT NULL DEFAULT 'none' "
                f"CONSTRAINT {code}_lower CHECK (VALUE ~ '^[a-z]+$')"
            )
            conn.exec_driver_sql(
                f"CREATE TABLE {table} (id int PRIMARY KEY, n {posint}, c {code})"
            )
        insp = sa.inspect(engine)
        domains = {d["name"]: d for d in insp.get_domains()}
        assert domains[posint]["type"] == "integer"
        assert domains[posint]["nullable"] is True
        assert [c["name"] for c in domains[posint]["constraints"]] == [f"{posint}_check"]
        assert domains[code]["type"].startswith("character varying")
        assert domains[code]["nullable"] is False
        assert domains[code]["default"] is not None
        assert [c["name"] for c in domains[code]["constraints"]] == [f"{code}_lower"]
        cols = {c["name"]: c for c in insp.get_columns(table)}
        assert isinstance(cols["n"]["type"], DOMAIN)
        assert cols["n"]["type"].name == posint
        assert isinstance(cols["n"]["type"].data_type, sa.Integer)
        assert isinstance(cols["id"]["type"], sa.Integer)
        meta = sa.MetaData()
        t = sa.Table(table, meta, autoload_with=engine)
        with engine.begin() as conn:
            conn.execute(t.insert().values(id=1, n=3, c="abc"))
            assert conn.execute(sa.select(t.c.n, t.c.c)).all() == [(3, "abc")]
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {table}")
            conn.exec_driver_sql(f"DROP DOMAIN {posint}, {code}")
    finally:
        engine.dispose()
