"""Schemas as applications use them: SQLAlchemy models bound to a schema
(`MetaData(schema=…)`, a foreign key across schemas), created by
create_all, written and read by the ORM, reflected by the Inspector
(get_schema_names, get_table_names, get_foreign_keys with their
schemas), then dropped; and a session that sets search_path and names
its tables unqualified, through psycopg and asyncpg."""

import asyncio
import uuid
from typing import Optional

import pytest
import sqlalchemy as sa
from sqlalchemy import ForeignKey, MetaData, String, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DIALECTS = ["psycopg", "psycopg2"]


@pytest.fixture(params=DIALECTS)
def engine(request, dsn):
    url = dsn.replace("postgresql://", f"postgresql+{request.param}://", 1)
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def schema_name(ddl):
    """A fresh schema per test, dropped with everything in it after."""
    name = "s_" + uuid.uuid4().hex[:10]
    ddl(f"CREATE SCHEMA {name}")
    yield name
    ddl(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def test_orm_models_in_a_schema(engine, schema_name):
    class Base(DeclarativeBase):
        metadata = MetaData(schema=schema_name)

    class Customer(Base):
        __tablename__ = "customer"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30), unique=True)

    class Invoice(Base):
        __tablename__ = "invoice"
        id: Mapped[int] = mapped_column(primary_key=True)
        customer_id: Mapped[int] = mapped_column(
            ForeignKey(f"{schema_name}.customer.id", ondelete="CASCADE")
        )
        note: Mapped[Optional[str]]

    Base.metadata.create_all(engine)
    with Session(engine) as s:
        ann = Customer(name="ann")
        s.add(ann)
        s.flush()
        s.add_all([Invoice(customer_id=ann.id, note="a"), Invoice(customer_id=ann.id)])
        s.commit()
    with Session(engine) as s:
        rows = s.execute(
            select(Customer.name, Invoice.note)
            .join(Invoice, Invoice.customer_id == Customer.id)
            .order_by(Invoice.id)
        ).all()
        assert rows == [("ann", "a"), ("ann", None)]
        with pytest.raises(sa.exc.IntegrityError) as e:
            s.add(Invoice(customer_id=999))
            s.commit()
        assert "invoice_customer_id_fkey" in str(e.value)
        s.rollback()

    insp = inspect(engine)
    assert schema_name in insp.get_schema_names()
    assert sorted(insp.get_table_names(schema=schema_name)) == ["customer", "invoice"]
    assert "customer" not in insp.get_table_names()
    fks = insp.get_foreign_keys("invoice", schema=schema_name)
    assert [(f["referred_schema"], f["referred_table"], f["referred_columns"]) for f in fks] == [
        (schema_name, "customer", ["id"])
    ]
    uniques = insp.get_unique_constraints("customer", schema=schema_name)
    assert [u["column_names"] for u in uniques] == [["name"]]

    with engine.begin() as c:
        c.execute(sa.text(f"DELETE FROM {schema_name}.customer"))
        left = c.execute(sa.text(f"SELECT count(*) FROM {schema_name}.invoice")).scalar()
    assert left == 0
    Base.metadata.drop_all(engine)
    assert inspect(engine).get_table_names(schema=schema_name) == []


def test_search_path_psycopg(dsn, schema_name):
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"SET search_path = {schema_name}, public")
        c.execute("CREATE TABLE item (id int PRIMARY KEY, label text)")
        c.execute("INSERT INTO item VALUES (%s, %s), (%s, %s)", (1, "one", 2, "two"))
        assert c.execute("SELECT current_schema()").fetchone() == (schema_name,)
        assert c.execute("SELECT label FROM item WHERE id = %s", (2,)).fetchone() == ("two",)
    # Another session with the default path reaches it qualified only.
    with psycopg.connect(dsn, autocommit=True) as c:
        assert c.execute(f"SELECT count(*) FROM {schema_name}.item").fetchone() == (2,)
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT * FROM item")


def test_search_path_asyncpg(dsn, schema_name):
    import asyncpg

    async def run():
        c = await asyncpg.connect(dsn, server_settings={"search_path": f"{schema_name},public"})
        try:
            await c.execute("CREATE TABLE kv (k text PRIMARY KEY, v int)")
            await c.executemany("INSERT INTO kv VALUES ($1, $2)", [("a", 1), ("b", 2)])
            total = await c.fetchval("SELECT sum(v) FROM kv WHERE k = ANY($1)", ["a", "b"])
            where = await c.fetchval(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'kv'"
            )
            return total, where
        finally:
            await c.close()

    assert asyncio.run(run()) == (3, schema_name)
