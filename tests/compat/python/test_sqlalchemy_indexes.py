"""SQLAlchemy's Inspector.get_indexes on expression, partial and DESC
indexes reports what it reports against PostgreSQL 15 (the expected
values below are PostgreSQL's)."""

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect


@pytest.fixture(params=["psycopg", "psycopg2"])
def engine(request, dsn):
    url = dsn.replace("postgresql://", f"postgresql+{request.param}://", 1)
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


def test_expression_and_partial_indexes_reflect(engine, ddl, table):
    ddl(f"CREATE TABLE {table} (id integer, email text, slug text, deleted_at timestamp, a integer, b integer)")
    ddl(f"CREATE UNIQUE INDEX {table}_email ON {table} (lower(email))")
    ddl(f"CREATE UNIQUE INDEX {table}_slug ON {table} (slug) WHERE deleted_at IS NULL")
    ddl(f"CREATE INDEX {table}_mixed ON {table} (id, (a + b)) WHERE a > 0 AND b < 10")
    ddl(f"CREATE INDEX {table}_desc ON {table} (a DESC, b NULLS FIRST)")
    try:
        got = sorted(inspect(engine).get_indexes(table), key=lambda i: i["name"])
        assert [i["name"] for i in got] == [
            f"{table}_desc",
            f"{table}_email",
            f"{table}_mixed",
            f"{table}_slug",
        ]
        desc, email, mixed, slug = got
        assert desc["column_names"] == ["a", "b"]
        assert desc["unique"] is False
        assert desc["column_sorting"] == {"a": ("desc",), "b": ("nulls_first",)}
        assert email["unique"] is True
        assert email["column_names"] == [None]
        assert email["expressions"] == ["lower(email)"]
        assert mixed["column_names"] == ["id", None]
        assert mixed["expressions"] == ["id", "(a + b)"]
        assert mixed["dialect_options"]["postgresql_where"] == "((a > 0) AND (b < 10))"
        assert slug["unique"] is True
        assert slug["column_names"] == ["slug"]
        assert slug["dialect_options"]["postgresql_where"] == "(deleted_at IS NULL)"
    finally:
        ddl(f"DROP TABLE {table}")
