"""psycopg2 against MosaicDB: parameters of every supported type (psycopg2
interpolates them client-side and sends simple queries), executemany,
copy_expert, transactions and errors with their SQLSTATE."""

import datetime
import decimal
import io
import uuid

import psycopg2
import psycopg2.errorcodes
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import pytest

psycopg2.extras.register_uuid()


@pytest.fixture
def conn(dsn):
    c = psycopg2.connect(dsn)
    yield c
    c.close()


TYPED_VALUES = [
    ("smallint", 12),
    ("integer", -123456),
    ("bigint", 9_000_000_000),
    ("real", 1.5),
    ("double precision", 2.25),
    ("numeric", decimal.Decimal("12345.678")),
    ("text", "héllo 'world'"),
    ("varchar(20)", "short"),
    ("boolean", False),
    ("date", datetime.date(2024, 2, 29)),
    ("timestamp", datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)),
    ("timestamptz", datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
]


@pytest.mark.parametrize("sqltype,value", TYPED_VALUES, ids=[t for t, _ in TYPED_VALUES])
def test_roundtrip_typed_parameter(conn, ddl, table, sqltype, value):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v {sqltype})")
        cur.execute(f"INSERT INTO {table} (id, v) VALUES (%s, %s)", (1, value))
        cur.execute(f"INSERT INTO {table} (id, v) VALUES (%s, %s)", (2, None))
        cur.execute(f"SELECT v FROM {table} WHERE id = %s", (1,))
        assert cur.fetchone()[0] == value
        cur.execute(f"SELECT id FROM {table} WHERE v = %s", (value,))
        assert cur.fetchall() == [(1,)]
        cur.execute(f"SELECT v FROM {table} WHERE id = 2")
        assert cur.fetchone() == (None,)
    conn.commit()


def test_bytea(conn, ddl, table):
    data = b"\x00\x01\xff'\\bin"
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer, v bytea)")
        cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, psycopg2.Binary(data)))
        cur.execute(f"SELECT v FROM {table}")
        assert bytes(cur.fetchone()[0]) == data


@pytest.mark.parametrize("sqltype", ["json", "jsonb"])
def test_json(conn, ddl, table, sqltype):
    doc = {"a": 1, "b": [True, None, "x"]}
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer, v {sqltype})")
        cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, psycopg2.extras.Json(doc)))
        cur.execute(f"SELECT v, v->'b'->>2 FROM {table}")
        assert cur.fetchone() == (doc, "x")


def test_executemany_and_execute_values(conn, ddl, table):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, name text)")
        cur.executemany(
            f"INSERT INTO {table} (id, name) VALUES (%s, %s)",
            [(i, f"name{i}") for i in range(30)],
        )
        psycopg2.extras.execute_values(
            cur,
            f"INSERT INTO {table} (id, name) VALUES %s",
            [(i, f"name{i}") for i in range(30, 60)],
        )
        cur.execute(f"DELETE FROM {table} WHERE id >= %s", (50,))
        assert cur.rowcount == 10
        cur.execute(f"SELECT count(*) FROM {table}")
        assert cur.fetchone() == (50,)


def test_copy_expert(conn, ddl, table):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer, name text)")
        data = "".join(f"{i}\tname {i}\n" for i in range(40))
        cur.copy_expert(f"COPY {table} FROM STDIN", io.StringIO(data))
        cur.copy_from(io.StringIO("100\tlast\n"), table, columns=("id", "name"))
        cur.execute(f"SELECT count(*), max(id) FROM {table}")
        assert cur.fetchone() == (41, 100)


def test_transactions(conn, ddl, table):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY)")
        conn.commit()
        cur.execute(f"INSERT INTO {table} VALUES (1)")
        conn.commit()
        cur.execute(f"INSERT INTO {table} VALUES (2)")
        conn.rollback()
        cur.execute(f"SELECT id FROM {table}")
        assert cur.fetchall() == [(1,)]
        # A failed statement aborts the transaction until rollback.
        with pytest.raises(psycopg2.errors.UniqueViolation) as err:
            cur.execute(f"INSERT INTO {table} VALUES (1)")
        assert err.value.pgcode == psycopg2.errorcodes.UNIQUE_VIOLATION
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute("SELECT 1")
        conn.rollback()
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_errors_carry_sqlstate(conn):
    conn.autocommit = True
    with conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.UndefinedTable) as err:
            cur.execute("SELECT * FROM missing_table_xyz")
        assert err.value.pgcode == "42P01"
        with pytest.raises(psycopg2.errors.SyntaxError):
            cur.execute("SELEC 1")
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute("SELECT 1 / 0")
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)


def test_dict_cursor(conn, ddl, table):
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        ddl(f"CREATE TABLE {table} (id integer, name text)")
        cur.execute(f"INSERT INTO {table} VALUES (1, 'x')")
        cur.execute(f"SELECT id, name FROM {table}")
        assert cur.fetchall() == [{"id": 1, "name": "x"}]


def test_named_cursor(conn, ddl, table):
    ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v text)")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(i, f"v{i}") for i in range(500)])
    conn.commit()
    with conn.cursor(name="named") as cur:
        cur.itersize = 50
        cur.execute(f"SELECT id, v FROM {table} WHERE id < %s ORDER BY id", (300,))
        rows = list(cur)
    assert len(rows) == 300
    assert rows[0] == (0, "v0") and rows[-1] == (299, "v299")
    with conn.cursor(name="chunks") as cur:
        cur.execute(f"SELECT id FROM {table} ORDER BY id")
        assert cur.fetchmany(2) == [(0,), (1,)]
        cur.scroll(5)
        assert cur.fetchone() == (7,)
        assert len(cur.fetchall()) == 492
    conn.commit()
    with conn.cursor(name="held", withhold=True) as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        conn.commit()
        assert cur.fetchone() == (500,)
    conn.commit()
