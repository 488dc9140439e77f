"""pgvector's vector type through the drivers, the way an application uses
it with pgvector-python: psycopg 3 (numpy arrays as parameters, sent in
text with %t and in pgvector's binary format with %b, results read in
text and in binary), psycopg2 (text literals), asyncpg (binary codec set
with set_type_codec) and the SQLAlchemy 2 ORM (pgvector.sqlalchemy's
Vector type and its distance comparators).

Expected distances are computed here the way pgvector does: float32
sums, then sqrt (or the cosine quotient) in double. The data are random
but seeded, and checked to have no near-ties among the nearest rows, so
each ORDER BY ... LIMIT has exactly one right answer."""

import asyncio
import math
import uuid

import asyncpg
import numpy as np
import psycopg
import psycopg.errors
import psycopg2
import pytest
import sqlalchemy as sa
from pgvector.asyncpg import register_vector as asyncpg_register_vector
from pgvector.psycopg import register_vector as psycopg_register_vector
from pgvector.psycopg2 import register_vector as psycopg2_register_vector
from pgvector.sqlalchemy import Vector
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

REL = 1e-6
F32 = np.float32


@pytest.fixture
def vtable(dsn):
    """A fresh table name with the vec_ prefix, dropped afterwards."""
    name = "vec_" + uuid.uuid4().hex[:12]
    yield name
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {name}")


def as_array(value):
    """A vector read back, as a float32 numpy array: pgvector-python >= 0.4
    returns its Vector class (lists from SQLAlchemy), 0.3 numpy arrays."""
    assert value is not None
    if hasattr(value, "to_numpy"):
        return value.to_numpy()
    return np.asarray(value, dtype=F32)


# pgvector's distance functions (src/vector.c), float32 accumulation.
def l2_distance(a, b):
    s = F32(0)
    for x, y in zip(a, b):
        d = F32(x) - F32(y)
        s = F32(s + d * d)
    return math.sqrt(float(s))


def negative_inner_product(a, b):
    s = F32(0)
    for x, y in zip(a, b):
        s = F32(s + F32(x) * F32(y))
    return -float(s)


def cosine_distance(a, b):
    dot = na = nb = F32(0)
    for x, y in zip(a, b):
        x, y = F32(x), F32(y)
        dot = F32(dot + x * y)
        na = F32(na + x * x)
        nb = F32(nb + y * y)
    sim = float(dot) / math.sqrt(float(na) * float(nb))
    return 1.0 - max(-1.0, min(1.0, sim))


def l1_distance(a, b):
    s = F32(0)
    for x, y in zip(a, b):
        s = F32(s + abs(F32(x) - F32(y)))
    return float(s)


# operator -> (function name, what the function returns given the
# operator's value, python distance)
OPERATORS = {
    "<->": ("l2_distance", lambda d: d, l2_distance),
    "<=>": ("cosine_distance", lambda d: d, cosine_distance),
    "<#>": ("inner_product", lambda d: -d, negative_inner_product),
    "<+>": ("l1_distance", lambda d: d, l1_distance),
}

N = 50
K = 5
QUERY = np.array([0.25, -0.5, 0.75], dtype=F32)


def dataset(seed=20240611, n=N):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(n, 3)).astype(F32)


def nearest(op, data, query, k, ids=None):
    """The ids (0-based row numbers unless given) of the k rows nearest to
    query by op, and their distances; fails if the test data would make
    the answer ambiguous (a gap smaller than 1e-4 relative)."""
    dist = OPERATORS[op][2]
    ids = list(range(len(data))) if ids is None else ids
    ranked = sorted((dist(data[i], query), i) for i in ids)
    for (d1, _), (d2, _) in zip(ranked[:k], ranked[1 : k + 1]):
        assert d2 - d1 > 1e-4 * max(abs(d1), abs(d2), 1e-3), f"near tie in test data for {op}: {ranked[: k + 1]}"
    return [i for _, i in ranked[:k]], [d for d, _ in ranked[:k]]


# ---------------------------------------------------------------- psycopg 3


@pytest.fixture
def pg3(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS vector")
        psycopg_register_vector(c)
        yield c


def fill(conn, table, data, category=False):
    extra = ", category int" if category else ""
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, embedding vector(3){extra})")
    with conn.cursor() as cur:
        if category:
            cur.executemany(
                f"INSERT INTO {table} (id, embedding, category) VALUES (%s, %s, %s)",
                [(i, v, i % 3) for i, v in enumerate(data)],
            )
        else:
            cur.executemany(
                f"INSERT INTO {table} (id, embedding) VALUES (%s, %s)", list(enumerate(data))
            )


def test_psycopg_roundtrip_text_and_binary(pg3, vtable):
    pg3.execute(f"CREATE TABLE {vtable} (id int PRIMARY KEY, embedding vector(3))")
    values = {
        1: np.array([1.0, 2.0, 3.0], dtype=F32),
        2: np.array([0.1, -2.5e-7, 1e30], dtype=F32),
        3: np.array([-1.5, 0.0, 3.25], dtype=F32),
        4: np.array([1 / 3, 2 / 3, -4 / 7], dtype=F32),
    }
    with pg3.cursor() as cur:
        # %t: pgvector-python's text dumper ('[1.0,2.0,3.0]').
        cur.execute(f"INSERT INTO {vtable} VALUES (%t, %t)", (1, values[1]))
        cur.execute(f"INSERT INTO {vtable} VALUES (%t, %t)", (2, values[2]))
        # %b: its binary dumper (pgvector's vector_send format).
        cur.execute(f"INSERT INTO {vtable} VALUES (%b, %b)", (3, values[3]))
        # %s: whichever the adapter picks.
        cur.execute(f"INSERT INTO {vtable} VALUES (%s, %s)", (4, values[4]))
        cur.execute(f"INSERT INTO {vtable} VALUES (%s, %s)", (5, None))

    for binary in (False, True):
        # A binary cursor reads every result in pgvector's binary format.
        with pg3.cursor(binary=binary) as cur:
            rows = cur.execute(f"SELECT id, embedding FROM {vtable} ORDER BY id").fetchall()
        assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
        for id_, got in rows[:4]:
            np.testing.assert_array_equal(as_array(got), values[id_], err_msg=f"binary={binary} id={id_}")
        assert rows[4][1] is None
        # execute(..., binary=True) asks for binary results per statement.
        with pg3.cursor() as cur:
            got = cur.execute(f"SELECT embedding FROM {vtable} WHERE id = %s", (3,), binary=binary).fetchone()[0]
        np.testing.assert_array_equal(as_array(got), values[3])

    # The server's own text for what came in through both formats.
    texts = pg3.execute(f"SELECT embedding::text FROM {vtable} WHERE id IN (1, 3) ORDER BY id").fetchall()
    assert texts == [("[1,2,3]",), ("[-1.5,0,3.25]",)]
    # A vector parameter compares equal to the stored value.
    (n,) = pg3.execute(f"SELECT count(*) FROM {vtable} WHERE embedding = %b", (values[4],)).fetchone()
    assert n == 1


@pytest.mark.parametrize("op", list(OPERATORS), ids=["l2", "cosine", "neg_inner_product", "l1"])
def test_psycopg_nearest_neighbours(pg3, vtable, op):
    data = dataset()
    fill(pg3, vtable, data)
    fn, from_op, _ = OPERATORS[op]
    want_ids, want_dist = nearest(op, data, QUERY, K)

    # The query vector in text (%t) with text results, and in binary (%b)
    # with binary results.
    for ph, binary in (("%t", False), ("%b", True)):
        rows = pg3.execute(
            f"SELECT id, embedding {op} {ph} AS d FROM {vtable} ORDER BY embedding {op} {ph} LIMIT {K}",
            (QUERY, QUERY),
            binary=binary,
        ).fetchall()
        assert [r[0] for r in rows] == want_ids, ph
        for (_, got), want in zip(rows, want_dist):
            assert got == pytest.approx(want, rel=REL)

    # The operator's named function, over every row.
    rows = pg3.execute(f"SELECT id, {fn}(embedding, %s) FROM {vtable} ORDER BY id", (QUERY,)).fetchall()
    assert [r[0] for r in rows] == list(range(N))
    for id_, got in rows:
        assert got == pytest.approx(from_op(OPERATORS[op][2](data[id_], QUERY)), rel=REL), id_

    # A literal vector instead of a parameter gives the same order.
    lit = "[" + ",".join(repr(float(x)) for x in QUERY) + "]"
    rows = pg3.execute(f"SELECT id FROM {vtable} ORDER BY embedding {op} '{lit}' LIMIT {K}").fetchall()
    assert [r[0] for r in rows] == want_ids


def test_psycopg_filter_and_order(pg3, vtable):
    data = dataset(seed=7)
    fill(pg3, vtable, data, category=True)
    for category in range(3):
        ids = [i for i in range(N) if i % 3 == category]
        want_ids, want_dist = nearest("<->", data, QUERY, 3, ids=ids)
        rows = pg3.execute(
            f"SELECT id, embedding <-> %s FROM {vtable} WHERE category = %s "
            f"ORDER BY embedding <-> %s LIMIT 3",
            (QUERY, category, QUERY),
        ).fetchall()
        assert [r[0] for r in rows] == want_ids
        assert [r[1] for r in rows] == pytest.approx(want_dist, rel=REL)
    # A distance threshold in WHERE as well as the ordering.
    want_ids, want_dist = nearest("<=>", data, QUERY, 4)
    limit = (want_dist[2] + want_dist[3]) / 2
    rows = pg3.execute(
        f"SELECT id FROM {vtable} WHERE embedding <=> %s < %s ORDER BY embedding <=> %s",
        (QUERY, limit, QUERY),
    ).fetchall()
    assert [r[0] for r in rows] == want_ids[:3]


def test_psycopg_avg_and_sum(pg3, vtable):
    # Multiples of 1/64 in [-4, 4]: every float32 sum of them is exact,
    # whatever order the server adds the rows in.
    rng = np.random.default_rng(99)
    data = (rng.integers(-256, 257, size=(40, 3)) / 64).astype(F32)
    fill(pg3, vtable, data, category=True)

    avg, total = pg3.execute(f"SELECT avg(embedding), sum(embedding) FROM {vtable}").fetchone()
    want_sum = data.sum(axis=0, dtype=F32)
    # pgvector averages in double, then rounds to float32.
    want_avg = (data.astype(np.float64).sum(axis=0) / len(data)).astype(F32)
    np.testing.assert_array_equal(as_array(total), want_sum)
    np.testing.assert_allclose(as_array(avg), want_avg, rtol=REL, atol=0)

    rows = pg3.execute(
        f"SELECT category, avg(embedding), sum(embedding), count(*) FROM {vtable} "
        f"GROUP BY category ORDER BY category",
        binary=True,
    ).fetchall()
    assert [r[0] for r in rows] == [0, 1, 2]
    for category, avg, total, count in rows:
        part = data[[i for i in range(len(data)) if i % 3 == category]]
        assert count == len(part)
        np.testing.assert_array_equal(as_array(total), part.sum(axis=0, dtype=F32))
        want_avg = (part.astype(np.float64).sum(axis=0) / len(part)).astype(F32)
        np.testing.assert_allclose(as_array(avg), want_avg, rtol=REL, atol=0)

    # Over no rows both are NULL, as in pgvector.
    assert pg3.execute(
        f"SELECT avg(embedding), sum(embedding) FROM {vtable} WHERE category = 99"
    ).fetchone() == (None, None)


def test_psycopg_wrong_dimension(pg3, vtable):
    pg3.execute(f"CREATE TABLE {vtable} (id int PRIMARY KEY, embedding vector(3))")
    short = np.array([1.0, 2.0], dtype=F32)
    for placeholder in ("%t", "%b", "%s"):
        with pytest.raises(psycopg.Error) as info:
            pg3.execute(f"INSERT INTO {vtable} VALUES (1, {placeholder})", (short,))
        assert info.value.sqlstate == "22000", (placeholder, info.value.sqlstate, str(info.value))
        assert "expected 3 dimensions, not 2" in str(info.value), placeholder
    with pytest.raises(psycopg.Error) as info:
        pg3.execute(f"INSERT INTO {vtable} VALUES (1, '[1,2]')")
    assert info.value.sqlstate == "22000"
    assert "expected 3 dimensions, not 2" in str(info.value)
    # Nothing went in, and the connection is still usable.
    assert pg3.execute(f"SELECT count(*) FROM {vtable}").fetchone() == (0,)


def test_psycopg_copy(pg3, vtable):
    """COPY in text, CSV and binary (pgvector-python's binary dumper), out
    in text and CSV; a wrong length in COPY keeps pgvector's 22000."""
    pg3.execute(f"CREATE TABLE {vtable} (id int PRIMARY KEY, embedding vector(3))")
    with pg3.cursor().copy(f"COPY {vtable} (id, embedding) FROM STDIN") as cp:
        cp.write(b"1\t[1.5,2,3]\n")
    with pg3.cursor().copy(f"COPY {vtable} (id, embedding) FROM STDIN WITH (FORMAT CSV)") as cp:
        cp.write(b'2,"[4, 5, 6]"\n')
    with pg3.cursor().copy(f"COPY {vtable} (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as cp:
        cp.set_types(["int4", "vector"])
        cp.write_row((3, np.array([-1, 0.25, 1e-7], dtype=F32)))
    with pg3.cursor().copy(f"COPY (SELECT * FROM {vtable} ORDER BY id) TO STDOUT") as cp:
        text = b"".join(bytes(x) for x in cp)
    assert text == b"1\t[1.5,2,3]\n2\t[4,5,6]\n3\t[-1,0.25,1e-07]\n"
    with pg3.cursor().copy(f"COPY (SELECT * FROM {vtable} ORDER BY id) TO STDOUT WITH (FORMAT CSV)") as cp:
        csv = b"".join(bytes(x) for x in cp)
    assert csv == b'1,"[1.5,2,3]"\n2,"[4,5,6]"\n3,"[-1,0.25,1e-07]"\n'
    with pytest.raises(psycopg.Error) as info:
        with pg3.cursor().copy(f"COPY {vtable} (id, embedding) FROM STDIN WITH (FORMAT CSV)") as cp:
            cp.write(b'4,"[7,8]"\n')
    assert info.value.sqlstate == "22000"
    assert "expected 3 dimensions, not 2" in str(info.value)
    assert pg3.execute(f"SELECT count(*) FROM {vtable}").fetchone() == (3,)


def test_psycopg_vector_functions_and_casts(pg3):
    row = pg3.execute(
        "SELECT vector_dims(%s::vector), vector_norm('[3,4,12]'), l2_normalize('[3,4,12]'::vector),"
        " subvector('[1,2,3,4,5]'::vector, 2, 3),"
        " '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]',"
        " '[1,2,3]'::vector * '[4,5,6]', '[1,2,3]'::vector || '[4,5]',"
        " ARRAY[1,2,3]::vector, ARRAY[1.5,-2.25]::real[]::vector, '[1.5,2,3]'::vector::real[]",
        (np.arange(7, dtype=F32),),
    ).fetchone()
    dims, norm, unit, sub, add, sub2, mul, cat, from_int, from_real, to_real = row
    assert dims == 7
    assert norm == pytest.approx(13.0, rel=REL)
    np.testing.assert_allclose(as_array(unit), np.array([3, 4, 12], dtype=F32) / F32(13), rtol=REL)
    np.testing.assert_array_equal(as_array(sub), [2, 3, 4])
    np.testing.assert_array_equal(as_array(add), [5, 7, 9])
    np.testing.assert_array_equal(as_array(sub2), [-3, -3, -3])
    np.testing.assert_array_equal(as_array(mul), [4, 10, 18])
    np.testing.assert_array_equal(as_array(cat), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(as_array(from_int), [1, 2, 3])
    np.testing.assert_array_equal(as_array(from_real), [1.5, -2.25])
    assert to_real == [1.5, 2.0, 3.0]


# ---------------------------------------------------------------- psycopg2


def test_psycopg2_roundtrip_and_nearest(dsn, vtable):
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.commit()
        psycopg2_register_vector(conn)
        data = dataset(seed=11)
        cur.execute(f"CREATE TABLE {vtable} (id int PRIMARY KEY, embedding vector(3))")
        # psycopg2 interpolates each array as a quoted '[...]' literal.
        cur.executemany(f"INSERT INTO {vtable} (id, embedding) VALUES (%s, %s)", list(enumerate(data)))
        conn.commit()

        cur.execute(f"SELECT id, embedding FROM {vtable} ORDER BY id")
        rows = cur.fetchall()
        assert [r[0] for r in rows] == list(range(N))
        for id_, got in rows:
            np.testing.assert_array_equal(as_array(got), data[id_])

        want_ids, want_dist = nearest("<->", data, QUERY, K)
        cur.execute(
            f"SELECT id, embedding <-> %s FROM {vtable} ORDER BY embedding <-> %s LIMIT {K}",
            (QUERY, QUERY),
        )
        rows = cur.fetchall()
        assert [r[0] for r in rows] == want_ids
        assert [r[1] for r in rows] == pytest.approx(want_dist, rel=REL)
        conn.rollback()
    finally:
        conn.close()


# ---------------------------------------------------------------- asyncpg


def test_asyncpg_without_a_codec_reads_text(dsn):
    """An application that never registers pgvector's codec: asyncpg
    reads an extension's type it has no codec for as its text (a type oid
    below 16384 that it does not know it refuses instead)."""

    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            got = await conn.fetchval("SELECT '[1,2.5,-3]'::vector")
            assert got == "[1,2.5,-3]"
            rows = await conn.fetch("SELECT $1::text::vector AS v", "[4,5]")
            assert rows[0]["v"] == "[4,5]"
        finally:
            await conn.close()

    asyncio.run(body())


def test_asyncpg_binary_codec(dsn, vtable):
    data = dataset(seed=23)

    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            await asyncpg_register_vector(conn)
            await conn.execute(f"CREATE TABLE {vtable} (id int PRIMARY KEY, embedding vector(3))")
            await conn.executemany(
                f"INSERT INTO {vtable} (id, embedding) VALUES ($1, $2)",
                [(i, v) for i, v in enumerate(data)],
            )

            want_ids, want_dist = nearest("<->", data, QUERY, K)
            rows = await conn.fetch(
                f"SELECT id, embedding, embedding <-> $1 AS d FROM {vtable} ORDER BY embedding <-> $1 LIMIT {K}",
                QUERY,
            )
            assert [r["id"] for r in rows] == want_ids
            assert [r["d"] for r in rows] == pytest.approx(want_dist, rel=REL)
            for r in rows:
                np.testing.assert_array_equal(as_array(r["embedding"]), data[r["id"]])

            rows = await conn.fetch(f"SELECT id, embedding FROM {vtable} ORDER BY id")
            assert [r["id"] for r in rows] == list(range(N))
            for r in rows:
                np.testing.assert_array_equal(as_array(r["embedding"]), data[r["id"]])

            # A computed vector and a parameter of the type, both binary.
            got = await conn.fetchval("SELECT $1::vector + $2", QUERY, np.ones(3, dtype=F32))
            np.testing.assert_array_equal(as_array(got), QUERY + F32(1))
        finally:
            await conn.close()

    asyncio.run(body())


# ---------------------------------------------------------------- SQLAlchemy


def make_item(name):
    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = name
        id: Mapped[int] = mapped_column(primary_key=True)
        embedding = mapped_column(Vector(3))
        # The index pgvector-python's README declares: created by
        # create_all, kept in the catalog (queries stay exact scans).
        __table_args__ = (
            sa.Index(
                f"{name}_hnsw",
                "embedding",
                postgresql_using="hnsw",
                postgresql_with={"m": 16, "ef_construction": 64},
                postgresql_ops={"embedding": "vector_l2_ops"},
            ),
        )

    return Base, Item


SQLALCHEMY_DISTANCES = [
    ("l2_distance", "<->"),
    ("cosine_distance", "<=>"),
    ("max_inner_product", "<#>"),
    ("l1_distance", "<+>"),
]


@pytest.mark.parametrize("dialect", ["psycopg", "psycopg2"])
def test_sqlalchemy_orm(dsn, vtable, dialect):
    engine = sa.create_engine(dsn.replace("postgresql://", f"postgresql+{dialect}://", 1))
    try:
        with engine.begin() as c:
            c.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
        Base, Item = make_item(vtable)
        Base.metadata.create_all(engine)
        with engine.connect() as c:
            indexdef = c.scalar(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                {"n": f"{vtable}_hnsw"},
            )
        assert indexdef == (
            f"CREATE INDEX {vtable}_hnsw ON public.{vtable} USING hnsw "
            "(embedding vector_l2_ops) WITH (m='16', ef_construction='64')"
        )

        data = dataset(seed=31)
        with Session(engine) as session:
            session.add_all([Item(id=i, embedding=v.tolist()) for i, v in enumerate(data)])
            session.commit()

        query = QUERY.tolist()
        with Session(engine) as session:
            item = session.get(Item, 17)
            np.testing.assert_array_equal(as_array(item.embedding), data[17])

            for method, op in SQLALCHEMY_DISTANCES:
                comparator = getattr(Item.embedding, method, None)
                if comparator is None:
                    continue  # l1_distance came in pgvector-python 0.3.0
                want_ids, want_dist = nearest(op, data, QUERY, 3)
                items = session.scalars(sa.select(Item).order_by(comparator(query)).limit(3)).all()
                assert [i.id for i in items] == want_ids, method
                for i in items:
                    np.testing.assert_array_equal(as_array(i.embedding), data[i.id])
                dist = session.scalars(
                    sa.select(comparator(query)).order_by(comparator(query)).limit(3)
                ).all()
                assert dist == pytest.approx(want_dist, rel=REL), method

            # A filter on the distance, as in pgvector-python's README.
            _, want_dist = nearest("<->", data, QUERY, 4)
            limit = (want_dist[2] + want_dist[3]) / 2
            n = session.scalar(
                sa.select(sa.func.count()).select_from(Item).where(Item.embedding.l2_distance(query) < limit)
            )
            assert n == 3
            avg = session.scalar(sa.select(sa.func.avg(Item.embedding, type_=Vector(3))))
            want_avg = (data.astype(np.float64).sum(axis=0) / len(data)).astype(F32)
            np.testing.assert_allclose(as_array(avg), want_avg, rtol=REL, atol=0)
        Base.metadata.drop_all(engine)
    finally:
        engine.dispose()
