"""psycopg 3 against MosaicDB: server-side parameters of every supported
type, executemany, COPY, transactions and errors with their SQLSTATE."""

import datetime
import decimal
import json
import uuid

import psycopg
import psycopg.errors
import pytest
from psycopg.types.json import Json, Jsonb


@pytest.fixture
def conn(dsn):
    with psycopg.connect(dsn) as c:
        yield c


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


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize("sqltype,value", TYPED_VALUES, ids=[t for t, _ in TYPED_VALUES])
def test_roundtrip_typed_parameter(conn, ddl, table, sqltype, value, binary):
    with conn.cursor(binary=binary) as cur:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v {sqltype})")
        cur.execute(f"INSERT INTO {table} (id, v) VALUES (%s, %s)", (1, value))
        cur.execute(f"INSERT INTO {table} (id, v) VALUES (%s, %s)", (2, None))
        cur.execute(f"SELECT v FROM {table} WHERE id = %s", (1,))
        (got,) = cur.fetchone()
        assert got == value
        cur.execute(f"SELECT id FROM {table} WHERE v = %s", (value,))
        assert cur.fetchall() == [(1,)]
        cur.execute(f"SELECT v FROM {table} WHERE id = %s", (2,))
        assert cur.fetchone() == (None,)


@pytest.mark.parametrize("sqltype", ["json", "jsonb"])
def test_json_parameters(conn, ddl, table, sqltype):
    doc = {"a": 1, "b": [True, None, "x"]}
    wrap = Json if sqltype == "json" else Jsonb
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer, v {sqltype})")
        cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, wrap(doc)))
        cur.execute(f"SELECT v FROM {table}")
        assert cur.fetchone()[0] == doc
        cur.execute(f"SELECT v->>'a' FROM {table}")
        assert cur.fetchone()[0] == "1"


def test_jsonb_subscript_parameters(conn, ddl, table):
    """A parameter in a jsonb subscript is text (a key, or an array
    position written out), in both protocols, as PostgreSQL types it."""
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer, v jsonb)")
        cur.execute(f"INSERT INTO {table} VALUES (1, %s)", (Jsonb({"a": [10, 20]}),))
        for prepare in (False, True):
            cur.execute(f"SELECT v[%s][%s] FROM {table}", ("a", "1"), prepare=prepare)
            assert cur.fetchone()[0] == 20
            cur.execute(f"SELECT v[%s] FROM {table}", ("b",), prepare=prepare)
            assert cur.fetchone()[0] is None


def test_executemany_and_rowcount(conn, ddl, table):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, name text)")
        cur.executemany(
            f"INSERT INTO {table} (id, name) VALUES (%s, %s)",
            [(i, f"name{i}") for i in range(50)],
        )
        cur.execute(f"UPDATE {table} SET name = name || '!' WHERE id < %s", (10,))
        assert cur.rowcount == 10
        cur.execute(f"SELECT count(*), min(name) FROM {table}")
        assert cur.fetchone() == (50, "name0!")


def test_copy_from_stdin(conn, ddl, table):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer, name text, amount numeric)")
        with cur.copy(f"COPY {table} (id, name, amount) FROM STDIN") as copy:
            for i in range(100):
                copy.write_row((i, f"row {i}", decimal.Decimal(i) / 4))
        cur.execute(f"SELECT count(*), sum(amount) FROM {table}")
        assert cur.fetchone() == (100, decimal.Decimal("1237.5"))
        cur.execute(f"SELECT name FROM {table} WHERE id = 7")
        assert cur.fetchone() == ("row 7",)


def test_copy_binary(conn, ddl, table):
    ddl(f"CREATE TABLE {table} (id bigint, name text, at timestamptz, data bytea)")
    at = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} (id, name, at, data) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "timestamptz", "bytea"])
            for i in range(200):
                copy.write_row((i, f"row {i}", at, bytes([i % 256, 0])))
            copy.write_row((999, None, None, None))
        cur.execute(f"SELECT count(*), sum(id) FROM {table}")
        assert cur.fetchone() == (201, sum(range(200)) + 999)
        cur.execute(f"SELECT name, at, data FROM {table} WHERE id = 5")
        assert cur.fetchone() == ("row 5", at, b"\x05\x00")


def test_commit_and_rollback(conn, ddl, table):
    with conn.cursor() as cur:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY)")
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} VALUES (1)")
    conn.commit()
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} VALUES (2)")
    conn.rollback()
    with conn.cursor() as cur:
        cur.execute(f"SELECT id FROM {table} ORDER BY id")
        assert cur.fetchall() == [(1,)]
    # Outside a block conn.transaction() sends BEGIN; inside one it would
    # send SAVEPOINT, which MosaicDB does not support yet.
    conn.commit()
    with conn.transaction():
        conn.execute(f"INSERT INTO {table} VALUES (3)")
    with pytest.raises(RuntimeError):
        with conn.transaction():
            conn.execute(f"INSERT INTO {table} VALUES (4)")
            raise RuntimeError("roll it back")
    assert [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")] == [1, 3]


def test_failed_transaction_then_rollback(conn, ddl, table):
    ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY)")
    with pytest.raises(psycopg.errors.UndefinedTable) as err:
        conn.execute("SELECT * FROM no_such_table_here")
    assert err.value.sqlstate == "42P01"
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        conn.execute("SELECT 1")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    conn.rollback()
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_nested_transactions_use_savepoints(dsn, ddl, table):
    ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v text)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(f"INSERT INTO {table} VALUES (1, 'kept')")
            with pytest.raises(psycopg.errors.UniqueViolation):
                with conn.transaction():
                    conn.execute(f"INSERT INTO {table} VALUES (2, 'undone')")
                    conn.execute(f"INSERT INTO {table} VALUES (1, 'dup')")
            conn.execute(f"INSERT INTO {table} VALUES (3, 'after')")
        rows = conn.execute(f"SELECT id, v FROM {table} ORDER BY id").fetchall()
    assert rows == [(1, "kept"), (3, "after")]


def test_errors_carry_sqlstate(dsn, ddl, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v text NOT NULL)")
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "a"))
        with pytest.raises(psycopg.errors.UniqueViolation) as err:
            conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "b"))
        assert err.value.sqlstate == "23505"
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (2, None))
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM missing_table_xyz")
        with pytest.raises(psycopg.errors.SyntaxError):
            conn.execute("SELEC 1")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / %s", (0,))
        # The connection is still usable after every error.
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)


def test_server_side_cursor_and_prepare(conn, ddl, table):
    ddl(f"CREATE TABLE {table} (id integer, v text)")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(i, str(i)) for i in range(20)])
    for i in range(8):
        # prepare=True makes psycopg use a named prepared statement.
        row = conn.execute(f"SELECT v FROM {table} WHERE id = %s", (i,), prepare=True).fetchone()
        assert row == (str(i),)


def test_unsupported_binary_parameter_is_refused(dsn):
    """psycopg sends an aware time as timetz; MosaicDB has no timetz type,
    and refuses it instead of reading its bytes as text. A time and an
    interval, which it has, come back as they were sent."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            conn.execute("SELECT %b", (datetime.time(1, 2, 3, tzinfo=datetime.timezone.utc),))
        assert conn.execute("SELECT 1").fetchone() == (1,)
        t = datetime.time(1, 2, 3, 4)
        assert conn.execute("SELECT %b", (t,)).fetchone() == (t,)
        day = datetime.timedelta(days=1, microseconds=7)
        assert conn.execute("SELECT %s", (day,)).fetchone() == (day,)


def test_stream(conn, ddl, table):
    ddl(f"CREATE TABLE {table} (id integer)")
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} VALUES (%s)", [(i,) for i in range(100)])
        ids = [row[0] for row in cur.stream(f"SELECT id FROM {table} WHERE id >= %s ORDER BY id", (50,))]
        assert ids == list(range(50, 100))


def test_settings_as_functions(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT set_config(%s, %s, false)", ("app.tenant", "acme"))
        assert conn.execute("SELECT current_setting(%s)", ("app.tenant",)).fetchone() == ("acme",)
        conn.execute("SET application_name = 'compat'")
        assert conn.execute("SELECT current_setting('application_name')").fetchone() == ("compat",)
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("SELECT current_setting(%s)", ("no_such_setting",))


def test_server_info(conn):
    assert conn.info.server_version >= 150000
    assert conn.execute("SHOW server_encoding").fetchone()[0] == "UTF8"
    assert conn.execute("SELECT %s::text || %s::text", ("a", "b")).fetchone() == ("ab",)
    assert json.loads(json.dumps(conn.execute("SELECT 1::int AS one").fetchone()[0])) == 1


def test_deallocate_all_after_rollback(conn, ddl, table):
    """Past prepare_threshold (5) psycopg prepares the query by name; on
    ROLLBACK it sends DEALLOCATE ALL and prepares again on later use."""
    ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v text)")
    conn.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
    conn.commit()
    for _ in range(10):
        assert conn.execute(f"SELECT v FROM {table} WHERE id = %s", (1,)).fetchone() == ("a",)
    assert conn._prepared._names, "psycopg prepared the query by name"
    conn.rollback()
    assert not conn._prepared._names, "the rollback deallocated every statement"
    for i in range(10):
        assert conn.execute(f"SELECT v FROM {table} WHERE id = %s", (2,)).fetchone() == ("b",), i
    conn.commit()
    with conn.transaction():
        conn.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (3,)
    with pytest.raises(psycopg.errors.InvalidSqlStatementName):
        conn.execute("DEALLOCATE no_such_statement")
    conn.rollback()


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_named_cursor(conn, ddl, table, binary):
    ddl(f"CREATE TABLE {table} (id integer PRIMARY KEY, v text, x double precision)")
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} VALUES (%s, %s, %s)",
            [(i, f"row {i}", i / 4) for i in range(1000)],
        )
    conn.commit()
    seen = []
    with conn.cursor(name="c", binary=binary) as cur:
        cur.itersize = 64
        cur.execute(f"SELECT id, v, x FROM {table} WHERE id >= %s ORDER BY id", (0,))
        assert [d.name for d in cur.description] == ["id", "v", "x"]
        for row in cur:
            seen.append(row)
    assert len(seen) == 1000
    assert seen[0] == (0, "row 0", 0.0)
    assert seen[999] == (999, "row 999", 999 / 4)
    assert [r[0] for r in seen] == list(range(1000))
    with conn.cursor(name="s", scrollable=True) as cur:
        cur.execute(f"SELECT id FROM {table} ORDER BY id DESC")
        assert cur.fetchmany(3) == [(999,), (998,), (997,)]
        cur.scroll(10, mode="absolute")
        assert cur.fetchone() == (989,)
        cur.scroll(-2)
        assert cur.fetchone() == (990,)
    conn.commit()
    with pytest.raises(psycopg.errors.InvalidCursorName):
        conn.execute("FETCH 1 FROM gone")
    conn.rollback()
