"""SQLAlchemy 2 against MosaicDB, through both of its PostgreSQL dialects
(psycopg 3 and psycopg2): metadata.create_all, ORM insert/query/update/
delete, Inspector reflection of tables, columns, keys and indexes, and
drop_all. Reflection sends SQLAlchemy's own pg_catalog queries (joins,
array_agg, unnest and generate_subscripts in a SELECT list, ::regclass,
format_type, pg_get_expr), so these tests are what checks them.

The engines are SQLAlchemy's defaults: create_all and drop_all run their
DDL inside a transaction block, and psycopg 3 prepares statements it runs
often (and sends DEALLOCATE ALL on ROLLBACK)."""

import datetime
import decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, select
from sqlalchemy.orm import DeclarativeBase, Session

DIALECTS = ["psycopg", "psycopg2"]


@pytest.fixture(params=DIALECTS)
def engine(request, dsn):
    url = dsn.replace("postgresql://", f"postgresql+{request.param}://", 1)
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


def items_table(metadata, name):
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("price", sa.Numeric(10, 2), nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("note", sa.String(20), nullable=True),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("body", name=f"uq_{name}_body"),
        sa.Index(f"ix_{name}_price", "price"),
    )


@pytest.fixture
def items(engine, table):
    """The table created with metadata.create_all, dropped afterwards."""
    metadata = sa.MetaData()
    t = items_table(metadata, table)
    metadata.create_all(engine)
    yield t
    metadata.drop_all(engine)


def test_create_all_then_inspector_sees_the_table(engine, items, table):
    insp = inspect(engine)
    assert insp.has_table(table)
    assert not insp.has_table(table + "_missing")
    assert table in insp.get_table_names()


def test_reflected_columns(engine, items, table):
    cols = inspect(engine).get_columns(table)
    assert [c["name"] for c in cols] == [
        "id", "name", "body", "price", "created", "active", "note",
    ]
    by_name = {c["name"]: c for c in cols}
    assert isinstance(by_name["id"]["type"], sa.INTEGER)
    assert isinstance(by_name["name"]["type"], sa.VARCHAR)
    assert by_name["name"]["type"].length == 50
    assert isinstance(by_name["body"]["type"], sa.TEXT)
    price = by_name["price"]["type"]
    assert isinstance(price, sa.NUMERIC)
    assert (price.precision, price.scale) == (10, 2)
    assert isinstance(by_name["created"]["type"], sa.TIMESTAMP)
    assert not by_name["created"]["type"].timezone
    assert isinstance(by_name["active"]["type"], sa.BOOLEAN)
    assert by_name["note"]["type"].length == 20
    nullable = {c["name"]: c["nullable"] for c in cols}
    assert nullable == {
        "id": False, "name": False, "body": True, "price": False,
        "created": False, "active": False, "note": True,
    }
    # A SERIAL primary key: its default draws from the table's sequence.
    assert by_name["id"]["default"] == f"nextval('{table}_id_seq'::regclass)"
    assert by_name["id"]["autoincrement"] is True
    assert [c["name"] for c in cols if c["default"] is not None] == ["id"]


def test_reflected_keys_and_indexes(engine, items, table):
    insp = inspect(engine)
    pk = insp.get_pk_constraint(table)
    assert pk["constrained_columns"] == ["id"]
    assert pk["name"] == f"{table}_pkey"

    indexes = {i["name"]: i for i in insp.get_indexes(table)}
    assert set(indexes) == {f"ix_{table}_price", f"{table}_name_key", f"uq_{table}_body"}
    assert indexes[f"uq_{table}_body"]["column_names"] == ["body"]
    assert indexes[f"ix_{table}_price"]["column_names"] == ["price"]
    assert indexes[f"ix_{table}_price"]["unique"] is False
    assert indexes[f"{table}_name_key"]["column_names"] == ["name"]
    assert indexes[f"{table}_name_key"]["unique"] is True
    assert indexes[f"{table}_name_key"]["duplicates_constraint"] == f"{table}_name_key"

    uniques = insp.get_unique_constraints(table)
    assert sorted((u["name"], u["column_names"]) for u in uniques) == sorted([
        (f"{table}_name_key", ["name"]),
        (f"uq_{table}_body", ["body"]),
    ])
    assert insp.get_foreign_keys(table) == []
    assert insp.get_check_constraints(table) == []


def test_autoload_reflects_a_usable_table(engine, items, table):
    reflected = sa.Table(table, sa.MetaData(), autoload_with=engine)
    assert [c.name for c in reflected.primary_key] == ["id"]
    assert reflected.c.price.type.scale == 2
    with engine.begin() as conn:
        conn.execute(
            reflected.insert(),
            [
                {"name": "a", "price": decimal.Decimal("1.50"),
                 "created": datetime.datetime(2024, 5, 6, 7, 8, 9), "active": True},
                {"name": "b", "price": decimal.Decimal("2.25"),
                 "created": datetime.datetime(2024, 5, 7), "active": False},
            ],
        )
    with engine.connect() as conn:
        rows = conn.execute(
            select(reflected.c.name, reflected.c.price).order_by(reflected.c.id)
        ).all()
    assert rows == [("a", decimal.Decimal("1.50")), ("b", decimal.Decimal("2.25"))]


def test_drop_all_removes_the_table(engine, table):
    metadata = sa.MetaData()
    items_table(metadata, table)
    metadata.create_all(engine)
    assert inspect(engine).has_table(table)
    metadata.drop_all(engine)
    insp = inspect(engine)
    assert not insp.has_table(table)
    assert table not in insp.get_table_names()


def orm_class(items):
    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __table__ = items

    return Item


def test_orm_insert_query_update_delete(engine, items):
    Item = orm_class(items)
    created = [datetime.datetime(2024, 1, d, 12, 30) for d in range(1, 6)]
    with Session(engine) as s:
        s.add_all(
            Item(name=f"n{i}", body="b" * i, price=decimal.Decimal(f"{i}.25"),
                 created=created[i], active=i % 2 == 0,
                 note=None if i % 2 else "even")
            for i in range(5)
        )
        s.commit()
        ids = s.scalars(select(Item.id).order_by(Item.id)).all()
        assert len(ids) == 5 and len(set(ids)) == 5

        top = s.scalars(
            select(Item).where(Item.price > 1).order_by(Item.price.desc()).limit(2)
        ).all()
        assert [(r.name, r.price) for r in top] == [
            ("n4", decimal.Decimal("4.25")), ("n3", decimal.Decimal("3.25")),
        ]
        assert top[0].created == created[4]
        assert top[0].active is True and top[1].active is False
        assert top[1].note is None and top[0].note == "even"

        n1 = s.scalars(select(Item).where(Item.name == "n1")).one()
        n1.body = "changed"
        s.execute(sa.update(Item).where(Item.active.is_(False)).values(note="odd"))
        s.commit()

        s.execute(sa.delete(Item).where(Item.name == "n0"))
        s.commit()

    with Session(engine) as s:
        rows = s.execute(
            select(Item.name, Item.body, Item.note).order_by(Item.name)
        ).all()
        assert rows == [
            ("n1", "changed", "odd"), ("n2", "bb", "even"),
            ("n3", "bbb", "odd"), ("n4", "bbbb", "even"),
        ]
        assert s.scalar(select(sa.func.count()).select_from(Item)) == 4
        assert s.get(Item, ids[0]) is None
        assert s.get(Item, ids[1]).name == "n1"


def test_orm_unique_violation_is_an_integrity_error(engine, items):
    Item = orm_class(items)
    with Session(engine) as s:
        s.add(Item(name="dup", price=1, created=datetime.datetime(2024, 1, 1), active=True))
        s.commit()
        s.add(Item(name="dup", price=2, created=datetime.datetime(2024, 1, 2), active=True))
        with pytest.raises(sa.exc.IntegrityError) as err:
            s.commit()
        orig = err.value.orig
        # psycopg 3 names it sqlstate, psycopg2 pgcode.
        assert (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) == "23505"
        s.rollback()
        assert s.scalar(select(sa.func.count()).select_from(Item)) == 1


def test_inspector_sees_views_and_sequences(engine, table, ddl):
    """Views and sequences (a CREATE SEQUENCE one and a serial column's own)
    as SQLAlchemy's Inspector reflects them; the view's columns come back
    like a table's."""
    view, counter = f"{table}_v", f"{table}_counter"
    ddl(f"CREATE TABLE {table} (id serial PRIMARY KEY, name text NOT NULL)")
    ddl(f"CREATE VIEW {view} AS SELECT id, upper(name) AS shout FROM {table}")
    ddl(f"CREATE SEQUENCE {counter}")
    try:
        insp = inspect(engine)
        assert view in insp.get_view_names()
        assert view not in insp.get_table_names()
        assert insp.has_table(view)
        definition = insp.get_view_definition(view)
        assert "upper(" in definition and table in definition
        cols = insp.get_columns(view)
        assert [(c["name"], type(c["type"]).__name__) for c in cols] == [
            ("id", "INTEGER"),
            ("shout", "TEXT"),
        ]
        assert set(insp.get_sequence_names()) >= {counter, f"{table}_id_seq"}
        assert insp.has_sequence(counter)
        assert not insp.has_sequence(f"{table}_nothing_seq")
    finally:
        ddl(f"DROP VIEW {view}")
        ddl(f"DROP TABLE {table}")
        ddl(f"DROP SEQUENCE {counter}")
