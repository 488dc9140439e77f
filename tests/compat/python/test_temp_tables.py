"""Temporary tables from several psycopg sessions: each session sees only
its own, two sessions can each have one of the same name, a temporary
table shadows a permanent one in its session only, it is gone when its
session ends (also abruptly), and ON COMMIT DROP / DELETE ROWS act at
COMMIT."""

import socket

import psycopg
import psycopg.errors
import pytest


def count(conn, sql):
    return conn.execute(sql).fetchone()[0]


def test_a_temp_table_is_private_to_its_session(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn, autocommit=True) as b:
        a.execute(f"CREATE TEMP TABLE {table} (id int PRIMARY KEY, v text)")
        a.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
        assert count(a, f"SELECT count(*) FROM {table}") == 2
        with pytest.raises(psycopg.errors.UndefinedTable):
            b.execute(f"SELECT * FROM {table}")
        assert count(b, f"SELECT count(*) FROM pg_class WHERE relname = '{table}' AND pg_table_is_visible(oid)") == 0
        assert count(a, f"SELECT count(*) FROM pg_class WHERE relname = '{table}' AND pg_table_is_visible(oid)") == 1


def test_two_sessions_each_have_their_own(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn, autocommit=True) as b:
        a.execute(f"CREATE TEMP TABLE {table} (id int PRIMARY KEY)")
        b.execute(f"CREATE TEMP TABLE {table} (id int PRIMARY KEY, extra text)")
        a.execute(f"INSERT INTO {table} VALUES (1), (2), (3)")
        b.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        assert count(a, f"SELECT count(*) FROM {table}") == 3
        assert count(b, f"SELECT count(*) FROM {table}") == 1
        # The same key in both: each table has its own.
        b.execute(f"INSERT INTO {table} VALUES (2, 'y')")
        a.execute(f"DROP TABLE {table}")
        assert count(b, f"SELECT count(*) FROM {table}") == 2


def test_shadowing_is_per_session(dsn, ddl, table):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, v text)")
    try:
        with psycopg.connect(dsn, autocommit=True) as a, psycopg.connect(dsn, autocommit=True) as b:
            b.execute(f"INSERT INTO {table} VALUES (1, 'perm'), (2, 'perm')")
            a.execute(f"CREATE TEMP TABLE {table} (id int, v text)")
            a.execute(f"INSERT INTO {table} VALUES (10, 'temp')")
            assert a.execute(f"SELECT id, v FROM {table}").fetchall() == [(10, "temp")]
            assert count(a, f"SELECT count(*) FROM public.{table}") == 2
            assert count(b, f"SELECT count(*) FROM {table}") == 2
            # The permanent table is untouched by the session's writes.
            a.execute(f"DELETE FROM {table}")
            assert count(b, f"SELECT count(*) FROM {table}") == 2
            a.execute(f"DROP TABLE {table}")
            assert count(a, f"SELECT count(*) FROM {table}") == 2
    finally:
        ddl(f"DROP TABLE {table}")


def test_gone_when_the_session_ends(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as a:
        a.execute(f"CREATE TEMP TABLE {table} (id int)")
        a.execute(f"INSERT INTO {table} VALUES (1)")
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute(f"SELECT * FROM {table}")
        # The name is free again.
        c.execute(f"CREATE TEMP TABLE {table} (id int)")
        assert count(c, f"SELECT count(*) FROM {table}") == 0


def test_gone_when_the_connection_breaks(dsn, table):
    a = psycopg.connect(dsn)
    a.execute(f"CREATE TEMP TABLE {table} (id int)")
    a.execute(f"INSERT INTO {table} VALUES (1)")
    a.commit()
    # Drop the socket without a Terminate message, inside an open block.
    a.execute(f"INSERT INTO {table} VALUES (2)")
    socket.socket(fileno=a.fileno()).close()
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute(f"SELECT * FROM {table}")


def test_on_commit_drop_and_delete_rows(dsn, table):
    with psycopg.connect(dsn) as a:
        a.execute(f"CREATE TEMP TABLE {table}_d (id int) ON COMMIT DROP")
        a.execute(f"INSERT INTO {table}_d VALUES (1)")
        assert count(a, f"SELECT count(*) FROM {table}_d") == 1
        a.commit()
        with pytest.raises(psycopg.errors.UndefinedTable):
            a.execute(f"SELECT * FROM {table}_d")
        a.rollback()

        a.execute(f"CREATE TEMP TABLE {table}_r (id int) ON COMMIT DELETE ROWS")
        a.commit()
        a.execute(f"INSERT INTO {table}_r VALUES (1), (2)")
        assert count(a, f"SELECT count(*) FROM {table}_r") == 2
        a.commit()
        assert count(a, f"SELECT count(*) FROM {table}_r") == 0
        a.rollback()

        a.execute(f"CREATE TEMP TABLE {table}_p (id int) ON COMMIT PRESERVE ROWS")
        a.execute(f"INSERT INTO {table}_p VALUES (1)")
        a.commit()
        assert count(a, f"SELECT count(*) FROM {table}_p") == 1


def test_rolled_back_create_does_not_exist(dsn, table):
    with psycopg.connect(dsn) as a, psycopg.connect(dsn, autocommit=True) as b:
        a.execute(f"CREATE TEMP TABLE {table} (id int)")
        a.execute(f"INSERT INTO {table} VALUES (1)")
        a.rollback()
        with pytest.raises(psycopg.errors.UndefinedTable):
            a.execute(f"SELECT * FROM {table}")
        a.rollback()
        # Another session may use the name for a permanent table meanwhile.
        b.execute(f"CREATE TABLE {table} (id int)")
        try:
            assert count(a, f"SELECT count(*) FROM {table}") == 0
        finally:
            a.rollback()
            b.execute(f"DROP TABLE {table}")


def test_prepared_statement_follows_the_shadowing(dsn, ddl, table):
    ddl(f"CREATE TABLE {table} (id int)")
    try:
        with psycopg.connect(dsn, autocommit=True) as a:
            a.execute(f"INSERT INTO {table} VALUES (1), (2)")
            sql = f"SELECT count(*) FROM {table} WHERE id > %s"
            assert a.execute(sql, (0,), prepare=True).fetchone()[0] == 2
            a.execute(f"CREATE TEMP TABLE {table} (id int)")
            assert a.execute(sql, (0,), prepare=True).fetchone()[0] == 0
            a.execute(f"DROP TABLE {table}")
            assert a.execute(sql, (0,), prepare=True).fetchone()[0] == 2
    finally:
        ddl(f"DROP TABLE {table}")


def test_discard_temp_drops_them(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as a:
        a.execute(f"CREATE TEMP TABLE {table} (id int)")
        cur = a.execute("DISCARD TEMP")
        assert cur.statusmessage == "DISCARD TEMP"
        with pytest.raises(psycopg.errors.UndefinedTable):
            a.execute(f"SELECT * FROM {table}")


def test_a_shadowed_parent_keeps_its_children(dsn, ddl, table):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    ddl(f"CREATE TABLE {table}_c (pid int REFERENCES {table} (id) ON DELETE CASCADE)")
    try:
        with psycopg.connect(dsn, autocommit=True) as a:
            a.execute(f"INSERT INTO {table} VALUES (1)")
            a.execute(f"INSERT INTO {table}_c VALUES (1)")
            a.execute(f"CREATE TEMP TABLE {table} (id int PRIMARY KEY)")
            a.execute(f"INSERT INTO {table} VALUES (1)")
            a.execute(f"DELETE FROM {table}")
            assert count(a, f"SELECT count(*) FROM {table}_c") == 1
            assert count(a, f"SELECT count(*) FROM public.{table}") == 1
    finally:
        ddl(f"DROP TABLE {table}_c, {table}")
