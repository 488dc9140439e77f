"""Enum types through the drivers: psycopg 3 (text and binary results, a
label as a parameter, EnumInfo's catalog query, 22P02 for a bad label),
asyncpg (which introspects an enum's oid through pg_type before it can
bind or decode one) and
SQLAlchemy's sa.Enum (create_all issues CREATE TYPE … AS ENUM, the
Inspector reflects the type and its labels, drop_all drops it). The same
file passes against PostgreSQL 15."""

import asyncio
import uuid

import asyncpg
import psycopg
import pytest
import sqlalchemy as sa
from psycopg.types.enum import EnumInfo


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:10]
    return f"mood_{suffix}", f"t_{suffix}"


def test_psycopg_enum_columns(dsn, names):
    mood, table = names
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"CREATE TYPE {mood} AS ENUM ('sad', 'ok', 'happy')")
        c.execute(f"CREATE TABLE {table} (id int, m {mood})")
        c.execute(f"INSERT INTO {table} VALUES (%s, %s), (%s, %s)", (1, "happy", 2, "sad"))
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            c.execute(f"INSERT INTO {table} VALUES (%s, %s)", (3, "nah"))
        cur = c.execute(f"SELECT id, m FROM {table} ORDER BY m")
        assert cur.fetchall() == [(2, "sad"), (1, "happy")]
        oid = c.execute("SELECT oid FROM pg_type WHERE typname = %s", (mood,)).fetchone()[0]
        assert cur.description[1].type_code == oid
        bcur = c.cursor(binary=True)
        bcur.execute(f"SELECT m FROM {table} WHERE m > %s ORDER BY m", ("sad",))
        assert bcur.fetchall() == [(b"happy",)]
        info = EnumInfo.fetch(c, mood)
        assert info.labels == ["sad", "ok", "happy"]
        c.execute(f"DROP TABLE {table}")
        c.execute(f"DROP TYPE {mood}")


def test_asyncpg_enum_columns(dsn, names):
    mood, table = names

    async def body():
        c = await asyncpg.connect(dsn)
        try:
            await c.execute(f"CREATE TYPE {mood} AS ENUM ('sad', 'ok', 'happy')")
            await c.execute(f"CREATE TABLE {table} (id int, m {mood})")
            await c.executemany(f"INSERT INTO {table} VALUES ($1, $2)", [(1, "happy"), (2, "sad")])
            rows = await c.fetch(f"SELECT id, m FROM {table} WHERE m >= $1 ORDER BY m", "sad")
            assert [(r["id"], r["m"]) for r in rows] == [(2, "sad"), (1, "happy")]
            with pytest.raises(asyncpg.InvalidTextRepresentationError):
                await c.execute(f"INSERT INTO {table} VALUES ($1, $2)", 3, "nah")
            await c.execute(f"DROP TABLE {table}")
            await c.execute(f"DROP TYPE {mood}")
        finally:
            await c.close()

    asyncio.run(body())


def test_sqlalchemy_enum(dsn, names):
    kind, table = names
    eng = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    md = sa.MetaData()
    t = sa.Table(
        table,
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Enum("cat", "dog", "bird", name=kind)),
    )
    md.create_all(eng)
    try:
        with eng.begin() as conn:
            conn.execute(t.insert(), [{"id": 1, "kind": "dog"}, {"id": 2, "kind": "cat"}])
            rows = conn.execute(sa.select(t).order_by(t.c.kind)).fetchall()
            assert rows == [(2, "cat"), (1, "dog")]
        insp = sa.inspect(eng)
        col = [c for c in insp.get_columns(table) if c["name"] == "kind"][0]
        assert list(col["type"].enums) == ["cat", "dog", "bird"]
        assert {"name": kind, "labels": ["cat", "dog", "bird"]}.items() <= [
            e for e in insp.get_enums() if e["name"] == kind
        ][0].items()
    finally:
        md.drop_all(eng)
        eng.dispose()
    assert kind not in [e["name"] for e in sa.inspect(eng).get_enums()]


def test_sqlalchemy_enum_in_a_schema(dsn, names):
    """sa.Enum(schema=…) is created in its schema, reflected there (its
    column's type found through format_type and pg_type_is_visible, which
    say it is not on the search path), and rows round-trip."""
    mood, table = names
    schema = "s_" + mood
    engine = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        meta = sa.MetaData(schema=schema)
        kind = sa.Enum("sad", "ok", name=mood, schema=schema, metadata=meta)
        t = sa.Table(table, meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", kind))
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(t.insert().values(id=1, m="ok"))
            assert conn.execute(sa.select(t.c.m)).scalar_one() == "ok"
        insp = sa.inspect(engine)
        enums = insp.get_enums(schema=schema)
        assert [(e["name"], e["visible"], e["labels"]) for e in enums] == [(mood, False, ["sad", "ok"])]
        reflected = {c["name"]: c["type"] for c in insp.get_columns(table, schema=schema)}
        assert isinstance(reflected["m"], sa.Enum)
        assert reflected["m"].enums == ["sad", "ok"]
        assert reflected["m"].schema == schema
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()
