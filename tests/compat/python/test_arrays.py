"""Arrays through the drivers.

asyncpg sends and reads every array in binary: a parameter takes the array
type the server infers for it (`id = ANY($1)` makes $1 int4[]), and the
elements may be NULL, strings needing quotes, numerics with a scale, or aware
timestamps. psycopg 3 sends a Python list in text by default (`%s`), with an
element-derived OID: ints as the smallest fitting int2[]/int4[]/int8[],
floats as float8[], Decimals as numeric[], but lists of str, empty lists and
lists of only None as OID 0 (unknown), so the server must type them from
context; `%b` sends them in binary, and a binary cursor reads results in
binary. Also covered: ANY with a list, `x = ANY(column)`, `@>`,
`cardinality`, subscripts, `array_agg`, `unnest`, the text form the server
writes (quoting of spaces, quotes, commas, backslashes, "NULL"), ORDER BY an
int[] column comparing element by element, and COPY of array columns out and
back in."""

import asyncio
import datetime
import decimal

import asyncpg
import psycopg

D = decimal.Decimal
UTC = datetime.timezone.utc

# Strings that need quoting or escaping in the array text form, and the
# string "NULL", which must stay a string and not become a NULL element.
AWKWARD = ["a b", 'say "hi"', "x,y", "back\\slash", "", "NULL", "{braces}", "it's"]
AWKWARD_TEXT = '{"a b","say \\"hi\\"","x,y","back\\\\slash","","NULL","{braces}",it\'s,NULL}'

COLUMNS = "id int PRIMARY KEY, a int[], t text[], f float8[], b boolean[], n numeric[], ts timestamptz[]"


def test_asyncpg_binary_array_round_trip(dsn, table):
    rows = [
        (
            1,
            [1, None, -3, 2147483647],
            AWKWARD + [None],
            [1.5, -0.25, float("inf"), None],
            [True, False, None],
            [D("1.50"), D("-0.001"), D("12345678901234567890.12"), None],
            [
                datetime.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC),
                datetime.datetime(1999, 12, 31, 20, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
                None,
            ],
        ),
        (2, [], [], [], [], [], []),
        (3, None, None, None, None, None, None),
        (4, [None], [None], [None], [None], [None], [None]),
    ]

    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} ({COLUMNS})")
            await conn.executemany(f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7)", rows)
            got = await conn.fetch(f"SELECT id, a, t, f, b, n, ts FROM {table} ORDER BY id")
            assert [tuple(r) for r in got] == rows
            # The numeric scale survives: 1.50 comes back as 1.50, not 1.5.
            assert [str(x) for x in got[0]["n"][:3]] == ["1.50", "-0.001", "12345678901234567890.12"]
            # Timestamps are the same instants, read back in UTC.
            assert got[0]["ts"][1] == datetime.datetime(2000, 1, 1, 1, 0, tzinfo=UTC)
            assert got[0]["ts"][1].utcoffset() == datetime.timedelta(0)
            # An empty array is not NULL, and {NULL} is neither.
            kinds = await conn.fetch(
                f"SELECT id, a IS NULL AS is_null, cardinality(a) AS card, a::text AS txt FROM {table} ORDER BY id"
            )
            assert [tuple(r) for r in kinds] == [
                (1, False, 4, "{1,NULL,-3,2147483647}"),
                (2, False, 0, "{}"),
                (3, True, None, None),
                (4, False, 1, "{NULL}"),
            ]
            # The text form the server writes quotes what needs quoting.
            assert await conn.fetchval(f"SELECT t::text FROM {table} WHERE id = 1") == AWKWARD_TEXT
            assert await conn.fetchval(f"SELECT b::text FROM {table} WHERE id = 1") == "{t,f,NULL}"
            assert await conn.fetchval(f"SELECT n::text FROM {table} WHERE id = 1") == (
                "{1.50,-0.001,12345678901234567890.12,NULL}"
            )
            # Parameter types come from the statement: all arrays here.
            st = await conn.prepare(f"INSERT INTO {table} VALUES ($1, $2, $3, $4, $5, $6, $7)")
            assert [p.name for p in st.get_parameters()] == [
                "int4", "int4[]", "text[]", "float8[]", "bool[]", "numeric[]", "timestamptz[]"
            ]
        finally:
            await conn.close()

    asyncio.run(body())


def test_asyncpg_array_parameters_and_operators(dsn, table):
    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, a int[], t text[])")
            await conn.executemany(
                f"INSERT INTO {table} VALUES ($1, $2, $3)",
                [
                    (1, [1, 2, 3], ["x", "y z"]),
                    (2, [3, 4], ["y z"]),
                    (3, [], []),
                    (4, None, None),
                    (5, [5, None, 1], ["q,r", None]),
                ],
            )
            # id = ANY($1): asyncpg sends the list as a binary int4[].
            st = await conn.prepare(f"SELECT id FROM {table} WHERE id = ANY($1) ORDER BY id")
            assert [(p.name, p.oid) for p in st.get_parameters()] == [("int4[]", 1007)]
            assert [r["id"] for r in await st.fetch([5, 1, 42, None])] == [1, 5]
            assert await st.fetch([]) == []
            got = await conn.fetch(f"SELECT id FROM {table} WHERE id <> ALL($1) ORDER BY id", [2, 4])
            assert [r["id"] for r in got] == [1, 3, 5]
            # $1 = ANY(column)
            got = await conn.fetch(f"SELECT id FROM {table} WHERE $1 = ANY(a) ORDER BY id", 3)
            assert [r["id"] for r in got] == [1, 2]
            got = await conn.fetch(f"SELECT id FROM {table} WHERE $1 = ANY(t) ORDER BY id", "y z")
            assert [r["id"] for r in got] == [1, 2]
            got = await conn.fetch(f"SELECT id FROM {table} WHERE $1 = ANY(t) ORDER BY id", "q,r")
            assert [r["id"] for r in got] == [5]
            # A parameter cast to an array type, NULL elements included.
            assert await conn.fetchval("SELECT $1::int[]", [1, None, 3]) == [1, None, 3]
            assert await conn.fetchval("SELECT $1::int[]", []) == []
            # Two dimensions: PostgreSQL's answer, or MosaicDB's refusal
            # (it stores one-dimensional arrays only), never another answer.
            try:
                got = await conn.fetchval("SELECT $1::int[]", [[1, 2], [3, 4]])
                assert got == [[1, 2], [3, 4]]
            except asyncpg.FeatureNotSupportedError as e:
                assert "multidimensional arrays" in str(e)
            assert await conn.fetchval("SELECT $1::int[] IS NULL", None) is True
            # array_agg comes back as a list, in the ORDER BY given.
            assert await conn.fetchval(f"SELECT array_agg(id ORDER BY id) FROM {table}") == [1, 2, 3, 4, 5]
            got = await conn.fetchval(f"SELECT array_agg(id ORDER BY id DESC) FROM {table} WHERE id > $1", 2)
            assert got == [5, 4, 3]
            assert await conn.fetchval(f"SELECT array_agg(id) FROM {table} WHERE id > 100") is None
            # unnest of a text[] parameter, one row per element, NULLs kept.
            got = await conn.fetch(
                "SELECT x, n FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n",
                ["b", None, "a c", ""],
            )
            assert [tuple(r) for r in got] == [("b", 1), (None, 2), ("a c", 3), ("", 4)]
            assert await conn.fetchval("SELECT count(*) FROM unnest($1::text[])", []) == 0
            # Containment with an int4[] parameter.
            got = await conn.fetch(f"SELECT id FROM {table} WHERE a @> $1 ORDER BY id", [3])
            assert [r["id"] for r in got] == [1, 2]
            got = await conn.fetch(f"SELECT id FROM {table} WHERE a @> $1 ORDER BY id", [])
            assert [r["id"] for r in got] == [1, 2, 3, 5]
            got = await conn.fetch(f"SELECT id FROM {table} WHERE a @> $1 ORDER BY id", [1, 3])
            assert [r["id"] for r in got] == [1]
            # cardinality and subscripts (1-based; out of range is NULL).
            got = await conn.fetch(f"SELECT id, cardinality(a), a[1], a[2], a[99], t[1] FROM {table} ORDER BY id")
            assert [tuple(r) for r in got] == [
                (1, 3, 1, 2, None, "x"),
                (2, 2, 3, 4, None, "y z"),
                (3, 0, None, None, None, None),
                (4, None, None, None, None, None),
                (5, 3, 5, None, None, "q,r"),
            ]
            assert await conn.fetchval(f"SELECT a[$1] FROM {table} WHERE id = 5", 3) == 1
        finally:
            await conn.close()

    asyncio.run(body())


def test_psycopg_text_arrays(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} ({COLUMNS})")
        ts = datetime.datetime(2024, 3, 1, 12, 30, 0, 5, tzinfo=UTC)
        first = (1, [10, None, -7], AWKWARD + [None], [0.5, None], [False, True], [D("2.500"), None], [ts, None])
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, %s)", first)
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, %s)", (2, [], [], [], [], [], []))
        conn.execute(f"INSERT INTO {table} (id, a, t) VALUES (%s, %s, %s)", (3, [3, 70000], ["only"]))
        rows = conn.execute(f"SELECT id, a, t, f, b, n, ts FROM {table} ORDER BY id").fetchall()
        assert rows == [
            first,
            (2, [], [], [], [], [], []),
            (3, [3, 70000], ["only"], None, None, None, None),
        ]
        assert str(rows[0][5][0]) == "2.500"
        assert conn.execute(f"SELECT t::text FROM {table} WHERE id = 1").fetchone() == (AWKWARD_TEXT,)
        # id = ANY(%s): the list goes as text '{...}' typed int2[] or int8[]
        # after its largest element.
        got = conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id", ([3, 1, 9],)).fetchall()
        assert got == [(1,), (3,)]
        got = conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id", ([2, 2**40],)).fetchall()
        assert got == [(2,)]
        assert conn.execute("SELECT pg_typeof(%s)::text, pg_typeof(%s)::text", ([1, 2], [2**40])).fetchone() == (
            "smallint[]",
            "bigint[]",
        )
        # %s = ANY(t) with strings that need quoting.
        for s, ids in (
            ("a b", [1]),
            ('say "hi"', [1]),
            ("back\\slash", [1]),
            ("NULL", [1]),
            ("only", [3]),
            ("nope", []),
        ):
            got = conn.execute(f"SELECT id FROM {table} WHERE %s = ANY(t) ORDER BY id", (s,)).fetchall()
            assert [r[0] for r in got] == ids, s
        got = conn.execute(f"SELECT id FROM {table} WHERE %s = ANY(a) ORDER BY id", (70000,)).fetchall()
        assert got == [(3,)]
        got = conn.execute(
            f"SELECT id, cardinality(t), t[2], a @> %s::int[] FROM {table} ORDER BY id", ([-7],)
        ).fetchall()
        assert got == [(1, 9, 'say "hi"', True), (2, 0, None, False), (3, 1, None, False)]
        # Without the cast the list is a smallint[], and int[] @> smallint[]
        # has no operator (= ANY has cross-type ones, @> does not).
        bad = None
        try:
            conn.execute(f"SELECT id FROM {table} WHERE a @> %s", ([-7],))
        except psycopg.errors.UndefinedFunction as e:
            bad = e
        assert bad is not None
        got = conn.execute(
            "SELECT array_agg(x ORDER BY x) FROM unnest(%s::text[]) AS u(x)", (["b", "a", "c d"],)
        ).fetchone()
        assert got == (["a", "b", "c d"],)


def test_psycopg_binary_arrays(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} ({COLUMNS})")
        ts = datetime.datetime(2023, 7, 14, 8, 0, 0, 999999, tzinfo=UTC)
        rows = [
            (1, [1, None, 2**31 - 1], AWKWARD + [None], [1e-300, None], [None, True], [D("0.10"), D("-5")], [ts, None]),
            (2, [], [], [], [], [], []),
            (3, [4], ["z"], None, None, None, None),
        ]
        cur = conn.cursor(binary=True)
        # %b sends the lists in binary, typed from their elements.
        cur.executemany(f"INSERT INTO {table} VALUES (%b, %b, %b, %b, %b, %b, %b)", rows)
        cur.execute(f"SELECT id, a, t, f, b, n, ts FROM {table} ORDER BY id")
        assert cur.pgresult.fformat(1) == 1
        got = cur.fetchall()
        assert got == rows
        assert [str(x) for x in got[0][5]] == ["0.10", "-5"]
        cur.execute(f"SELECT id FROM {table} WHERE id = ANY(%b) ORDER BY id", ([3, 2, 100],))
        assert cur.fetchall() == [(2,), (3,)]
        cur.execute(f"SELECT id FROM {table} WHERE %b = ANY(t) ORDER BY id", ("x,y",))
        assert cur.fetchall() == [(1,)]
        cur.execute(f"SELECT id FROM {table} WHERE %b = ANY(t) ORDER BY id", ("z",))
        assert cur.fetchall() == [(3,)]
        cur.execute("SELECT pg_typeof(%b)::text, %b::text", (["a"], ["a b", None]))
        assert cur.fetchone() == ("text[]", '{"a b",NULL}')
        cur.execute(f"SELECT array_agg(id ORDER BY id DESC), %b::int[] FROM {table}", ([4, None],))
        assert cur.fetchone() == ([3, 2, 1], [4, None])
        # Two dimensions: PostgreSQL's answer, or MosaicDB's refusal.
        try:
            cur.execute("SELECT %b::int[]", ([[1, 2], [3, 4]],))
            assert cur.fetchone() == ([[1, 2], [3, 4]],)
        except psycopg.errors.FeatureNotSupported as e:
            assert "multidimensional arrays" in str(e)
        # Text parameters, binary results.
        got = conn.execute(
            f"SELECT a, t FROM {table} WHERE id = ANY(%s) ORDER BY id", ([1, 3],), binary=True
        ).fetchall()
        assert got == [([1, None, 2**31 - 1], AWKWARD + [None]), ([4], ["z"])]


def test_psycopg_int_array_order_is_numeric(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, a int[])")
        values = [[10], [9], [9, 1], [1, 2, 3], [], [1, None], [1, 2], None, [-1]]
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s::int[])", list(enumerate(values)))
        # Element by element, as numbers; a shorter prefix first; a NULL
        # element after any number; a NULL array last.
        expected = [[], [-1], [1, 2], [1, 2, 3], [1, None], [9], [9, 1], [10], None]
        got = conn.execute(f"SELECT a FROM {table} ORDER BY a, id").fetchall()
        assert [r[0] for r in got] == expected
        got = conn.cursor(binary=True).execute(f"SELECT a FROM {table} ORDER BY a DESC NULLS LAST, id").fetchall()
        assert [r[0] for r in got] == expected[-2::-1] + [None]
        got = conn.execute(f"SELECT id FROM {table} WHERE a < %s::int[] ORDER BY a", ([9, 0],)).fetchall()
        assert [r[0] for r in got] == [4, 8, 6, 3, 5, 1]
        assert conn.execute(f"SELECT max(a), min(a) FROM {table}").fetchone() == ([10], [])


def test_psycopg_copy_arrays(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, a int[], t text[])")
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (1, [1, None, 3], AWKWARD + [None]))
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (2, [], []))
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (3, None, None))
        # Text COPY out: the array literals, COPY-unescaped.
        with conn.cursor().copy(f"COPY {table} (id, a, t) TO STDOUT") as copy:
            out = sorted(copy.rows())
        assert out == [
            ("1", "{1,NULL,3}", AWKWARD_TEXT),
            ("2", "{}", "{}"),
            ("3", None, None),
        ]
        # With the types set, rows() parses them into lists.
        with conn.cursor().copy(f"COPY (SELECT id, a, t FROM {table} ORDER BY id) TO STDOUT") as copy:
            copy.set_types(["int4", "int4[]", "text[]"])
            out = list(copy.rows())
        assert out == [(1, [1, None, 3], AWKWARD + [None]), (2, [], []), (3, None, None)]
        # The raw COPY text doubles the array literal's backslashes again.
        with conn.cursor().copy(f"COPY (SELECT t FROM {table} WHERE id = 1) TO STDOUT") as copy:
            raw = b"".join(bytes(b) for b in copy)
        assert raw == AWKWARD_TEXT.replace("\\", "\\\\").encode() + b"\n"
        # Binary COPY out: PostgreSQL's answer, or MosaicDB's refusal of
        # binary COPY (not built), never another answer.
        try:
            with conn.cursor().copy(
                f"COPY (SELECT id, a, t FROM {table} ORDER BY id) TO STDOUT (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int4", "int4[]", "text[]"])
                assert list(copy.rows()) == out
        except psycopg.errors.FeatureNotSupported as e:
            assert "binary" in str(e)
        # COPY in from lists, then the same rows come back.
        with conn.cursor().copy(f"COPY {table} (id, a, t) FROM STDIN") as copy:
            copy.write_row((4, [7, 8, None], ["p q", 'r"s', "t\\u", "NULL", None]))
            copy.write_row((5, [], []))
            copy.write_row((6, None, ["x,y"]))
            copy.write_row((7, [-1, 2**31 - 1], ["tab\there", "new\nline"]))
        got = conn.execute(f"SELECT id, a, t, t::text FROM {table} WHERE id >= 4 ORDER BY id").fetchall()
        assert got == [
            (4, [7, 8, None], ["p q", 'r"s', "t\\u", "NULL", None], '{"p q","r\\"s","t\\\\u","NULL",NULL}'),
            (5, [], [], "{}"),
            (6, None, ["x,y"], '{"x,y"}'),
            (7, [-1, 2**31 - 1], ["tab\there", "new\nline"], '{"tab\there","new\nline"}'),
        ]
        # Round trip: everything copied out goes into a second table intact.
        with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
            data = b"".join(bytes(b) for b in copy)
        conn.execute(f"CREATE TABLE {table}_b (id int PRIMARY KEY, a int[], t text[])")
        with conn.cursor().copy(f"COPY {table}_b FROM STDIN") as copy:
            copy.write(data)
        assert conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() == conn.execute(
            f"SELECT * FROM {table}_b ORDER BY id"
        ).fetchall()
        assert conn.execute(f"SELECT count(*) FROM {table}_b").fetchone() == (7,)


def test_psycopg_empty_and_null_lists(dsn, table):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, a int[], t text[])")
        conn.execute(f"INSERT INTO {table} VALUES (1, '{{1}}', '{{a}}'), (2, NULL, '{{}}')")
        # An empty list and a list of None go as '{}' and '{NULL}' with OID 0:
        # the server types them from the other side of the operator.
        for p in ([], [None], [None, None]):
            for binary in (False, True):
                got = conn.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", (p,), binary=binary).fetchall()
                assert got == [], (p, binary)
                got = conn.execute(f"SELECT id FROM {table} WHERE NOT (id = ANY(%s))", (p,), binary=binary).fetchall()
                assert got == ([(1,), (2,)] if p == [] else []), (p, binary)
        got = conn.execute(f"SELECT id FROM {table} WHERE t = %s", ([],)).fetchall()
        assert got == [(2,)]
        assert conn.execute("SELECT %s::int[], %s::text[], %s::int[]", ([], [], [None, None])).fetchone() == (
            [],
            [],
            [None, None],
        )
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (3, [], [None]))
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s)", (4, [None], []))
        got = conn.execute(
            f"SELECT id, a, t, cardinality(a), a IS NULL FROM {table} WHERE id >= 3 ORDER BY id"
        ).fetchall()
        assert got == [(3, [], [None], 0, False), (4, [None], [], 1, False)]
        # With nothing to type them from, these stay unknown: a bare select
        # list makes them text, and pg_typeof() cannot type them at all.
        cur = conn.execute("SELECT %s, %s, %s", ([], [None], ["a", "b c"]))
        assert cur.fetchone() == ("{}", "{NULL}", '{a,"b c"}')
        assert [d.type_code for d in cur.description] == [25, 25, 25]


def test_bytea_arrays_in_both_formats(dsn, table):
    """bytea[] columns: asyncpg's binary parameters and results, psycopg's
    text and binary ones, element access and COPY in and out."""
    values = [b"\x00\xff", None, b"", b"a,b \"q\" \\"]

    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, b bytea[])")
            await conn.executemany(
                f"INSERT INTO {table} VALUES ($1, $2)", [(1, values), (2, []), (3, None)]
            )
            got = await conn.fetch(f"SELECT id, b FROM {table} ORDER BY id")
            assert [tuple(r) for r in got] == [(1, values), (2, []), (3, None)]
            assert await conn.fetchval(f"SELECT b[1] FROM {table} WHERE id = 1") == b"\x00\xff"
            assert await conn.fetchval(f"SELECT b::text FROM {table} WHERE id = 1") == (
                '{"\\\\x00ff",NULL,"\\\\x","\\\\x612c6220227122205c"}'
            )
            found = await conn.fetch(f"SELECT id FROM {table} WHERE $1::bytea = ANY(b)", b"")
            assert [r["id"] for r in found] == [1]
        finally:
            await conn.close()

    asyncio.run(body())
    with psycopg.connect(dsn, autocommit=True) as conn:
        got = conn.cursor(binary=True).execute(f"SELECT b FROM {table} WHERE id = 1").fetchone()
        assert got == ([b"\x00\xff", None, b"", b"a,b \"q\" \\"],)
        got = conn.execute(f"SELECT b FROM {table} WHERE id = 1").fetchone()
        assert got == ([b"\x00\xff", None, b"", b"a,b \"q\" \\"],)
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s)", (4, [b"\x01", b"\x02"]))
        conn.cursor(binary=True).execute(f"INSERT INTO {table} VALUES (%b, %b)", (5, [b"\x03"]))
        with conn.cursor().copy(f"COPY (SELECT id, b FROM {table} WHERE id > 3 ORDER BY id) TO STDOUT") as copy:
            copy.set_types(["int4", "bytea[]"])
            out = list(copy.rows())
        assert out == [(4, [b"\x01", b"\x02"]), (5, [b"\x03"])]
        with conn.cursor().copy(f"COPY {table} (id, b) FROM STDIN") as copy:
            copy.write_row((6, [b"\xfe", None]))
        got = conn.execute(f"SELECT array_length(b, 1), b[1], b[2] FROM {table} WHERE id = 6").fetchone()
        assert got == (2, b"\xfe", None)
