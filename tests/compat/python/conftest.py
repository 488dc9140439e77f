"""Shared fixtures for the Python driver compatibility tests.

The DSN comes from MOSAIC_TEST_DSN as a URL
(postgresql://USER:PASSWORD@HOST:PORT/DB), which psycopg, psycopg2 and
asyncpg all accept. tests/compat_python.rs starts a node and sets it.
MOSAIC_TEST_DSNS, when set, names every node of a cluster (comma
separated; the first is MOSAIC_TEST_DSN): tests that spread their
sessions over nodes take them from the `dsns` fixture.
"""

import os
import uuid

import pytest


@pytest.fixture(scope="session")
def dsn():
    value = os.environ.get("MOSAIC_TEST_DSN")
    if not value:
        pytest.fail("MOSAIC_TEST_DSN is not set (run through cargo test --test compat_python)")
    return value


@pytest.fixture(scope="session")
def dsns(dsn):
    """Every node's DSN: those of MOSAIC_TEST_DSNS, or the one node's."""
    value = os.environ.get("MOSAIC_TEST_DSNS")
    return value.split(",") if value else [dsn]


@pytest.fixture
def table():
    """A fresh table name per test, so tests never see each other's rows."""
    return "t_" + uuid.uuid4().hex[:12]


@pytest.fixture
def ddl(dsn):
    """Runs DDL on its own autocommit connection, committed before the test
    body connects."""
    import psycopg

    def run(sql):
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(sql)

    return run
