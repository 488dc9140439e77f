"""PostGIS's geometry type through the drivers, the way an application uses
it without GeoAlchemy2: psycopg 3 (WKT parameters through ST_GeomFromText,
hex EWKB strings as column values, results read as the server's hex EWKB
text and in binary), asyncpg (geometry as text, then a binary codec set
with set_type_codec that maps shapely geometries to EWKB) and SQLAlchemy
text() queries (psycopg 3 and psycopg2).

Only 2-D geometries and these: ST_MakePoint, ST_Point, ST_GeomFromText,
ST_GeomFromGeoJSON, ST_AsText, ST_AsGeoJSON, ST_AsBinary, ST_X, ST_Y,
ST_SetSRID, ST_SRID, ST_Distance, ST_DWithin, ST_Contains, ST_Within,
ST_Intersects, ST_Area, ST_Length, ST_Envelope, ST_Buffer of points, `<->`,
and the column types geometry, geometry(Point, 4326), geometry(Polygon).

Every expected value is computed here with shapely (GEOS). The data are
random but seeded; coordinates are multiples of 0.001, so WKT, GeoJSON
(9 decimals) and ST_AsText (15 digits) all carry them exactly. The data
are checked to have no near-ties among the nearest rows, no points near a
DWithin radius and no points near a polygon's boundary, so each query has
exactly one right answer."""

import asyncio
import json
import math
import uuid

import asyncpg
import numpy as np
import psycopg
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import mapping, shape

REL = 1e-9
SRID = 4326
N = 300
K = 7


@pytest.fixture
def gtable(dsn):
    """A fresh table name with the geo_ prefix, dropped afterwards (with
    its _b companion, for tests that need two tables)."""
    name = "geo_" + uuid.uuid4().hex[:12]
    yield name
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"DROP TABLE IF EXISTS {name}, {name}_b")


@pytest.fixture
def pg3(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield c


def coords(rng, n, lo=-100.0, hi=100.0):
    """n distinct (x, y) pairs, multiples of 0.001 in [lo, hi]."""
    pts = set()
    while len(pts) < n:
        x, y = rng.integers(round(lo * 1000), round(hi * 1000) + 1, size=2)
        pts.add((int(x) / 1000, int(y) / 1000))
    return sorted(pts)


def wkt(g):
    text = shapely.to_wkt(g, rounding_precision=-1)
    assert shapely.from_wkt(text).equals_exact(g, 0), text
    return text


def ewkb_hex(g, srid=SRID):
    """What PostGIS prints for a geometry: little-endian hex EWKB, upper case."""
    return shapely.to_wkb(shapely.set_srid(g, srid), hex=True, include_srid=srid != 0, byte_order=1)


def nearest(points, ids, q, k):
    """The ids of the k points nearest to q, and their distances; fails if a
    near-tie among the first k + 1 would make the answer ambiguous."""
    ranked = sorted((points[i].distance(q), i) for i in ids)
    for (d1, _), (d2, _) in zip(ranked[:k], ranked[1 : k + 1]):
        assert d2 - d1 > 1e-6 * max(d2, 1.0), f"near tie in test data: {ranked[: k + 1]}"
    return [i for _, i in ranked[:k]], [d for d, _ in ranked[:k]]


def within(points, ids, q, r):
    for i in ids:
        assert abs(points[i].distance(q) - r) > 1e-6, f"point {i} on the DWithin radius"
    return {i for i in ids if points[i].distance(q) <= r}


def fill_points(conn, table, points):
    """Half the rows through ST_GeomFromText(WKT, 4326), half as hex EWKB
    strings given directly as the column's value."""
    conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, category int, geom geometry(Point, 4326))")
    half = len(points) // 2
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (id, category, geom) VALUES (%s, %s, ST_GeomFromText(%s, 4326))",
            [(i, i % 3, wkt(points[i])) for i in range(half)],
        )
        cur.executemany(
            f"INSERT INTO {table} (id, category, geom) VALUES (%s, %s, %s)",
            [(i, i % 3, ewkb_hex(points[i])) for i in range(half, len(points))],
        )


QUERIES = [(0.5, -0.25), (-73.125, 41.5), (99.0, 99.0)]


# ---------------------------------------------------------------- psycopg 3


def test_psycopg_points_stored_exactly(pg3, gtable):
    points = [shapely.Point(xy) for xy in coords(np.random.default_rng(1), 60)]
    fill_points(pg3, gtable, points)
    rows = pg3.execute(f"SELECT id, ST_X(geom), ST_Y(geom), ST_SRID(geom), geom FROM {gtable} ORDER BY id").fetchall()
    assert [r[0] for r in rows] == list(range(len(points)))
    for id_, x, y, srid, text in rows:
        assert (x, y, srid) == (points[id_].x, points[id_].y, SRID), id_
        # psycopg returns the geometry column as its text: hex EWKB.
        assert text == ewkb_hex(points[id_]), id_
        got = shapely.from_wkb(text)
        assert got.equals_exact(points[id_], 0) and shapely.get_srid(got) == SRID


@pytest.mark.parametrize("order", ["<->", "ST_Distance"])
def test_psycopg_nearest_neighbours(pg3, gtable, order):
    points = [shapely.Point(xy) for xy in coords(np.random.default_rng(2024), N)]
    fill_points(pg3, gtable, points)
    make = "ST_MakePoint" if order == "<->" else "ST_Point"
    q_sql = f"ST_SetSRID({make}(%(x)s, %(y)s), 4326)"
    dist_sql = f"geom <-> {q_sql}" if order == "<->" else f"ST_Distance(geom, {q_sql})"
    ids = list(range(N))
    for step in range(2):
        for x, y in QUERIES:
            want_ids, want_dist = nearest(points, ids, shapely.Point(x, y), K)
            rows = pg3.execute(
                f"SELECT id, {dist_sql} AS d FROM {gtable} ORDER BY {dist_sql} LIMIT {K}", {"x": x, "y": y}
            ).fetchall()
            assert [r[0] for r in rows] == want_ids, (step, x, y)
            assert [r[1] for r in rows] == pytest.approx(want_dist, rel=REL)
            # With a filter on another column as well.
            cat = [i for i in ids if i % 3 == 1]
            want_ids, want_dist = nearest(points, cat, shapely.Point(x, y), 3)
            rows = pg3.execute(
                f"SELECT id, {dist_sql} FROM {gtable} WHERE category = 1 ORDER BY {dist_sql} LIMIT 3",
                {"x": x, "y": y},
            ).fetchall()
            assert [r[0] for r in rows] == want_ids, (step, x, y)
            assert [r[1] for r in rows] == pytest.approx(want_dist, rel=REL)
        # Then again without every fourth row, nearest ones included.
        cur = pg3.execute(f"DELETE FROM {gtable} WHERE id % 4 = 0")
        if step == 0:
            assert cur.rowcount == N // 4
        ids = [i for i in ids if i % 4]


def test_psycopg_dwithin(pg3, gtable):
    points = [shapely.Point(xy) for xy in coords(np.random.default_rng(77), N)]
    fill_points(pg3, gtable, points)
    ids = list(range(N))
    sql = f"SELECT id FROM {gtable} WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s)"
    for step in range(2):
        for (x, y), r in zip(QUERIES, (30.0, 41.5, 55.25)):
            q = shapely.Point(x, y)
            want = within(points, ids, q, r)
            assert 5 < len(want) < len(ids), (x, y, r)  # neither trivial nor everything
            got = [row[0] for row in pg3.execute(sql, (x, y, r)).fetchall()]
            assert sorted(got) == sorted(want), (step, x, y, r)
            got = pg3.execute(sql + " AND category <> 2 ORDER BY id", (x, y, r)).fetchall()
            assert [row[0] for row in got] == sorted(i for i in want if i % 3 != 2)
            # The same set from the distance itself.
            got = pg3.execute(
                f"SELECT count(*) FROM {gtable} WHERE ST_Distance(geom, ST_GeomFromText(%s, 4326)) <= %s",
                (wkt(q), r),
            ).fetchone()
            assert got == (len(want),)
        pg3.execute(f"DELETE FROM {gtable} WHERE category = 0")
        ids = [i for i in ids if i % 3 != 0]


def random_polygons(rng):
    """Boxes and convex hulls of random points (vertices multiples of
    0.001), and one polygon with a hole."""
    polys = []
    for i in range(14):
        (x, y), (w, h) = coords(rng, 1, 0, 80)[0], coords(rng, 1, 5, 30)[0]
        if i % 2:
            polys.append(shapely.box(x, y, x + w, y + h))
        else:
            hull = shapely.MultiPoint([(x + a * w / 20, y + b * h / 20) for a, b in coords(rng, 8, 0, 20)]).convex_hull
            polys.append(shapely.Polygon([(round(px, 3), round(py, 3)) for px, py in hull.exterior.coords]))
    polys.append(shapely.Polygon([(10, 10), (70, 12), (65, 70), (12, 66)], [[(30, 30), (45, 31), (40, 47), (29, 44)]]))
    assert all(p.is_valid for p in polys)
    return polys


def test_psycopg_polygon_predicates(pg3, gtable):
    rng = np.random.default_rng(555)
    polys = random_polygons(rng)
    points = [shapely.Point(x + 0.0005, y + 0.0005) for x, y in coords(rng, 250, 0, 110)]
    for p in points:
        assert all(poly.boundary.distance(p) > 1e-6 for poly in polys), "test point on a boundary"
    # Polygons arrive as GeoJSON into a geometry(Polygon) column, points as WKT.
    pg3.execute(f"CREATE TABLE {gtable} (id int PRIMARY KEY, geom geometry(Polygon))")
    pg3.execute(f"CREATE TABLE {gtable}_b (id int PRIMARY KEY, geom geometry(Point, 4326))")
    with pg3.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {gtable} VALUES (%s, ST_GeomFromGeoJSON(%s))",
            [(i, json.dumps(mapping(p))) for i, p in enumerate(polys)],
        )
        cur.executemany(
            f"INSERT INTO {gtable}_b VALUES (%s, ST_GeomFromText(%s, 4326))",
            [(i, wkt(p)) for i, p in enumerate(points)],
        )
    # GeoJSON without a "crs" member is EPSG:4326 since PostGIS 3.0.
    assert pg3.execute(f"SELECT DISTINCT ST_SRID(geom) FROM {gtable}").fetchall() == [(SRID,)]

    want = {(a, b) for a, poly in enumerate(polys) for b, p in enumerate(points) if poly.contains(p)}
    assert 50 < len(want) < len(polys) * len(points) // 2
    got = pg3.execute(f"SELECT a.id, b.id FROM {gtable} a, {gtable}_b b WHERE ST_Contains(a.geom, b.geom)").fetchall()
    assert set(got) == want and len(got) == len(want)
    got = pg3.execute(f"SELECT a.id, b.id FROM {gtable} a JOIN {gtable}_b b ON ST_Within(b.geom, a.geom)").fetchall()
    assert set(got) == want and len(got) == len(want)
    hole = len(polys) - 1  # points in the hole are not in the polygon
    in_hole = [b for b, p in enumerate(points) if shapely.Polygon(polys[hole].interiors[0]).contains(p)]
    assert in_hole and not any((hole, b) in want for b in in_hole)
    # The polygon as a hex EWKB parameter.
    sql = f"SELECT id FROM {gtable}_b WHERE ST_Contains(%s, geom) ORDER BY id"
    rows = pg3.execute(sql, (ewkb_hex(polys[hole]),)).fetchall()
    assert [r[0] for r in rows] == sorted(b for a, b in want if a == hole)

    want = {(a, b): pa.intersects(pb) for a, pa in enumerate(polys) for b, pb in enumerate(polys)}
    assert 0 < sum(not v for v in want.values()) < len(want) - len(polys)
    got = pg3.execute(f"SELECT a.id, b.id, ST_Intersects(a.geom, b.geom) FROM {gtable} a, {gtable} b").fetchall()
    assert {(a, b): v for a, b, v in got} == want and len(got) == len(want)

    rows = pg3.execute(f"SELECT id, ST_Area(geom), ST_Area(ST_Envelope(geom)) FROM {gtable} ORDER BY id").fetchall()
    assert [r[0] for r in rows] == list(range(len(polys)))
    for id_, area, env in rows:
        assert area == pytest.approx(polys[id_].area, rel=REL), id_
        assert env == pytest.approx(polys[id_].envelope.area, rel=REL), id_


def test_psycopg_measures_and_envelope(pg3, gtable):
    rng = np.random.default_rng(31)
    lines = [shapely.LineString(coords(rng, int(rng.integers(2, 8)))) for _ in range(10)]
    polys = random_polygons(rng)[:6]
    geoms = lines + polys + [shapely.Point(3.5, -7.25)]
    pg3.execute(f"CREATE TABLE {gtable} (id int PRIMARY KEY, geom geometry)")
    with pg3.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {gtable} VALUES (%s, ST_GeomFromText(%s))", [(i, wkt(g)) for i, g in enumerate(geoms)]
        )
    rows = pg3.execute(
        f"SELECT id, ST_Length(geom), ST_Area(geom), ST_AsText(ST_Envelope(geom)), ST_SRID(geom)"
        f" FROM {gtable} ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == list(range(len(geoms)))
    for id_, length, area, env, srid in rows:
        g = geoms[id_]
        # ST_Length of a polygon is 0 in PostGIS (its perimeter is ST_Perimeter).
        want_length = g.length if isinstance(g, shapely.LineString) else 0.0
        assert length == pytest.approx(want_length, rel=REL, abs=0), id_
        assert area == pytest.approx(g.area, rel=REL, abs=0), id_
        assert shapely.from_wkt(env).equals(g.envelope), (id_, env)
        assert srid == 0


def test_psycopg_roundtrip_formats(pg3, gtable):
    geoms = [
        (shapely.Point(1.5, -2.25), SRID),
        (shapely.Point(-179.999, 89.001), 0),
        (shapely.LineString([(0, 0), (1.125, 3), (-4, 7.5)]), SRID),
        (shapely.box(-1, -2, 3.5, 4), 0),
        (shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (2, 4), (4, 4), (4, 2)]]), SRID),
    ]
    pg3.execute(f"CREATE TABLE {gtable} (id int PRIMARY KEY, geom geometry)")
    for i, (g, srid) in enumerate(geoms):
        if srid:
            pg3.execute(f"INSERT INTO {gtable} VALUES (%s, ST_GeomFromText(%s, %s))", (i, wkt(g), srid))
        else:
            pg3.execute(f"INSERT INTO {gtable} VALUES (%s, ST_GeomFromText(%s))", (i, wkt(g)))
    sql = (
        f"SELECT id, geom, ST_SRID(geom), ST_AsText(geom), ST_AsGeoJSON(geom), ST_AsBinary(geom)"
        f" FROM {gtable} ORDER BY id"
    )
    rows = pg3.execute(sql).fetchall()
    assert [r[0] for r in rows] == list(range(len(geoms)))
    for id_, text, srid, as_text, as_json, as_binary in rows:
        g, want_srid = geoms[id_]
        assert srid == want_srid
        assert text == ewkb_hex(g, want_srid), id_
        assert shapely.get_srid(shapely.from_wkb(text)) == want_srid
        assert shapely.from_wkb(text).equals_exact(g, 0), id_
        assert shapely.from_wkt(as_text).equals_exact(g, 0), (id_, as_text)
        assert shape(json.loads(as_json)).equals_exact(g, 0), (id_, as_json)
        # ST_AsBinary is plain little-endian WKB: no SRID, read as bytes.
        assert isinstance(as_binary, bytes) and as_binary == shapely.to_wkb(g, byte_order=1), id_
    # A binary cursor gets the geometry's binary form: EWKB bytes.
    with pg3.cursor(binary=True) as cur:
        rows = cur.execute(f"SELECT id, geom FROM {gtable} ORDER BY id").fetchall()
    for id_, value in rows:
        g, want_srid = geoms[id_]
        assert bytes(value) == bytes.fromhex(ewkb_hex(g, want_srid)), id_
    # The text forms feed back in and give the same geometries.
    again = pg3.execute(
        f"SELECT count(*) FROM {gtable} WHERE ST_AsBinary(ST_GeomFromGeoJSON(ST_AsGeoJSON(geom))) = ST_AsBinary(geom)"
        f" AND ST_AsBinary(ST_GeomFromText(ST_AsText(geom))) = ST_AsBinary(geom)"
    ).fetchone()
    assert again == (len(geoms),)


def test_psycopg_typmod_rejects(pg3, gtable):
    pg3.execute(f"CREATE TABLE {gtable} (id int PRIMARY KEY, geom geometry(Point, 4326))")
    pg3.execute(f"CREATE TABLE {gtable}_b (id int PRIMARY KEY, geom geometry(Polygon))")
    bad = [
        (f"INSERT INTO {gtable} VALUES (1, ST_GeomFromText('POINT(1 2)', 3857))", (), "SRID (3857)"),
        (f"INSERT INTO {gtable} VALUES (1, %s)", (ewkb_hex(shapely.Point(1, 2), 3857),), "SRID (3857)"),
        (f"INSERT INTO {gtable} VALUES (1, ST_GeomFromText('LINESTRING(1 2, 3 4)', 4326))", (), "LineString"),
        (f"INSERT INTO {gtable} VALUES (1, %s)", (ewkb_hex(shapely.box(0, 0, 1, 1)),), "Polygon"),
        (f"INSERT INTO {gtable}_b VALUES (1, ST_MakePoint(1, 2))", (), "Point"),
    ]
    for sql, args, word in bad:
        with pytest.raises(psycopg.Error) as info:
            pg3.execute(sql, args)
        # PostGIS raises invalid_parameter_value for SRID and type mismatches.
        assert info.value.sqlstate == "22023", (sql, info.value.sqlstate, str(info.value))
        assert word in str(info.value), (sql, str(info.value))
    assert pg3.execute(f"SELECT count(*) FROM {gtable}").fetchone() == (0,)
    assert pg3.execute(f"SELECT count(*) FROM {gtable}_b").fetchone() == (0,)
    # A point without an SRID (0) takes the column's.
    pg3.execute(f"INSERT INTO {gtable} VALUES (2, ST_MakePoint(1, 2))")
    assert pg3.execute(f"SELECT id, ST_SRID(geom), ST_X(geom) FROM {gtable}").fetchall() == [(2, SRID, 1.0)]
    with pytest.raises(psycopg.Error) as info:
        pg3.execute(f"UPDATE {gtable} SET geom = ST_SetSRID(geom, 3857)")
    assert info.value.sqlstate == "22023"
    assert pg3.execute(f"SELECT ST_SRID(geom) FROM {gtable}").fetchall() == [(SRID,)]


def test_psycopg_buffer(pg3):
    rng = np.random.default_rng(8)
    for (x, y), r in zip(coords(rng, 5), (0.5, 1.0, 2.75, 10.0, 123.0)):
        center = shapely.Point(x, y)
        area, area2 = pg3.execute(
            "SELECT ST_Area(ST_Buffer(ST_MakePoint(%s, %s), %s)),"
            " ST_Area(ST_Buffer(ST_SetSRID(ST_Point(%s, %s), 4326), %s))",
            (x, y, r, x, y, r),
        ).fetchone()
        assert area == pytest.approx(math.pi * r * r, rel=0.01)
        assert area == pytest.approx(center.buffer(r, quad_segs=8).area, rel=REL)
        assert area2 == pytest.approx(area, rel=REL)
        # Points not within 1% of the circle: inside the buffer iff nearer than r.
        qs = [shapely.Point(x + dx, y + dy) for dx, dy in rng.uniform(-1.5 * r, 1.5 * r, size=(60, 2))]
        qs = [q for q in qs if abs(q.distance(center) - r) > 0.01 * r]
        sql = "SELECT ST_Contains(ST_Buffer(ST_MakePoint(%s, %s), %s), ST_MakePoint(%s, %s))"
        got = [pg3.execute(sql, (x, y, r, q.x, q.y)).fetchone()[0] for q in qs]
        want = [q.distance(center) < r for q in qs]
        assert got == want, (x, y, r)
        assert any(want) and not all(want)


# ---------------------------------------------------------------- asyncpg


def test_asyncpg_text_and_binary_codec(dsn, gtable):
    points = [shapely.Point(xy) for xy in coords(np.random.default_rng(9), 80)]

    async def body():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            await conn.execute(f"CREATE TABLE {gtable} (id int PRIMARY KEY, geom geometry(Point, 4326))")
            # No codec: asyncpg has none for geometry and uses its text, hex EWKB.
            await conn.executemany(
                f"INSERT INTO {gtable} VALUES ($1, ST_GeomFromText($2, 4326))",
                [(i, wkt(p)) for i, p in enumerate(points[:40])],
            )
            await conn.executemany(
                f"INSERT INTO {gtable} VALUES ($1, $2)", [(i, ewkb_hex(p)) for i, p in enumerate(points) if i >= 40]
            )
            rows = await conn.fetch(f"SELECT id, geom FROM {gtable} ORDER BY id")
            assert [r["id"] for r in rows] == list(range(len(points)))
            for r in rows:
                assert r["geom"] == ewkb_hex(points[r["id"]])

            # The codec applications set: shapely geometries in and out as EWKB.
            await conn.set_type_codec(
                "geometry",
                encoder=lambda g: shapely.to_wkb(g, include_srid=True),
                decoder=shapely.from_wkb,
                format="binary",
            )
            rows = await conn.fetch(f"SELECT id, geom FROM {gtable} ORDER BY id")
            for r in rows:
                g = r["geom"]
                assert g.equals_exact(points[r["id"]], 0) and shapely.get_srid(g) == SRID, r["id"]
            q = shapely.set_srid(shapely.Point(12.5, -3.0), SRID)
            want_ids, want_dist = nearest(points, range(len(points)), q, 5)
            rows = await conn.fetch(f"SELECT id, geom <-> $1 AS d, geom FROM {gtable} ORDER BY geom <-> $1 LIMIT 5", q)
            assert [r["id"] for r in rows] == want_ids
            assert [r["d"] for r in rows] == pytest.approx(want_dist, rel=REL)
            assert all(r["geom"].equals_exact(points[r["id"]], 0) for r in rows)
            # A geometry parameter as a column value and in a predicate.
            extra = shapely.set_srid(shapely.Point(-1.25, 2.5), SRID)
            await conn.execute(f"INSERT INTO {gtable} VALUES (1000, $1)", extra)
            got = await conn.fetchrow(f"SELECT id, geom FROM {gtable} WHERE ST_DWithin(geom, $1, 0.001)", extra)
            assert got["id"] == 1000 and got["geom"].equals_exact(extra, 0)
            buf = await conn.fetchval("SELECT ST_Buffer($1::geometry, 2.0)", extra)
            assert buf.area == pytest.approx(extra.buffer(2.0, quad_segs=8).area, rel=REL)
            assert shapely.get_srid(buf) == SRID
        finally:
            await conn.close()

    asyncio.run(body())


# ---------------------------------------------------------------- SQLAlchemy


@pytest.mark.parametrize("dialect", ["psycopg", "psycopg2"])
def test_sqlalchemy_text_queries(dsn, gtable, dialect):
    points = [shapely.Point(xy) for xy in coords(np.random.default_rng(41), 120)]
    engine = sa.create_engine(dsn.replace("postgresql://", f"postgresql+{dialect}://", 1))
    try:
        with engine.begin() as c:
            c.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            c.execute(sa.text(f"CREATE TABLE {gtable} (id int PRIMARY KEY, name text, geom geometry(Point, 4326))"))
            c.execute(
                sa.text(f"INSERT INTO {gtable} VALUES (:id, :name, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
                [{"id": i, "name": f"p{i}", "x": p.x, "y": p.y} for i, p in enumerate(points)],
            )
        q = shapely.Point(-20.0, 33.125)
        want_ids, want_dist = nearest(points, range(len(points)), q, 4)
        with engine.connect() as c:
            rows = c.execute(
                sa.text(
                    f"SELECT id, name, ST_AsText(geom) AS wkt, geom,"
                    f" ST_Distance(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) AS d"
                    f" FROM {gtable} ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT :k"
                ),
                {"x": q.x, "y": q.y, "k": 4},
            ).all()
            assert [r.id for r in rows] == want_ids
            assert [r.d for r in rows] == pytest.approx(want_dist, rel=REL)
            for r in rows:
                assert r.name == f"p{r.id}"
                assert shapely.from_wkt(r.wkt).equals_exact(points[r.id], 0)
                assert r.geom == ewkb_hex(points[r.id])  # no GeoAlchemy2: the hex EWKB string
            r = 25.0
            want = within(points, range(len(points)), q, r)
            got = c.scalars(
                sa.text(f"SELECT id FROM {gtable} WHERE ST_DWithin(geom, ST_GeomFromText(:wkt, 4326), :r) ORDER BY id"),
                {"wkt": wkt(q), "r": r},
            ).all()
            assert got == sorted(want) and want
            gj = json.dumps(mapping(shapely.box(0, 0, 2.5, 4)))
            area = c.scalar(sa.text("SELECT ST_Area(ST_GeomFromGeoJSON(:gj))"), {"gj": gj})
            assert area == pytest.approx(10.0, rel=REL)
    finally:
        engine.dispose()
