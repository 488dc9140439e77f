"""SQLAlchemy 2's ORM quick start with a relationship (users and their
addresses, a FOREIGN KEY between them) against MosaicDB, through both
PostgreSQL dialects: create_all emits the FOREIGN KEY, the ORM inserts,
joins, cascades its own deletes, the database refuses an orphan and
cascades ON DELETE CASCADE, and Inspector.get_foreign_keys reflects the
constraint as SQLAlchemy reads it from pg_constraint."""

from typing import List, Optional

import pytest
import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

DIALECTS = ["psycopg", "psycopg2"]


@pytest.fixture(params=DIALECTS)
def engine(request, dsn):
    url = dsn.replace("postgresql://", f"postgresql+{request.param}://", 1)
    eng = sa.create_engine(url)
    yield eng
    eng.dispose()


def models(prefix):
    """The quick start's User and Address, on tables named after `prefix`."""

    class Base(DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = f"{prefix}_user_account"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30))
        fullname: Mapped[Optional[str]]
        addresses: Mapped[List["Address"]] = relationship(
            back_populates="user", cascade="all, delete-orphan"
        )

    class Address(Base):
        __tablename__ = f"{prefix}_address"
        id: Mapped[int] = mapped_column(primary_key=True)
        email_address: Mapped[str]
        user_id: Mapped[int] = mapped_column(
            ForeignKey(f"{prefix}_user_account.id", ondelete="CASCADE")
        )
        user: Mapped["User"] = relationship(back_populates="addresses")

    return Base, User, Address


@pytest.fixture
def orm(engine, table):
    Base, User, Address = models(table)
    Base.metadata.create_all(engine)
    yield User, Address
    Base.metadata.drop_all(engine)


def test_quick_start_with_a_relationship(engine, orm):
    User, Address = orm
    with Session(engine) as session:
        spongebob = User(
            name="spongebob",
            fullname="Spongebob Squarepants",
            addresses=[Address(email_address="spongebob@sqlalchemy.org")],
        )
        sandy = User(
            name="sandy",
            fullname="Sandy Cheeks",
            addresses=[
                Address(email_address="sandy@sqlalchemy.org"),
                Address(email_address="sandy@squirrelpower.org"),
            ],
        )
        patrick = User(name="patrick", fullname="Patrick Star")
        session.add_all([spongebob, sandy, patrick])
        session.commit()

        stmt = (
            select(Address)
            .join(Address.user)
            .where(User.name == "sandy")
            .where(Address.email_address == "sandy@sqlalchemy.org")
        )
        sandy_address = session.scalars(stmt).one()
        assert sandy_address.user.fullname == "Sandy Cheeks"

        patrick = session.execute(select(User).filter_by(name="patrick")).scalar_one()
        patrick.addresses.append(Address(email_address="patrickstar@sqlalchemy.org"))
        sandy_address.email_address = "sandy_cheeks@sqlalchemy.org"
        session.commit()

        sandy = session.get(User, 2)
        sandy.addresses.remove(sandy_address)
        session.flush()
        session.delete(patrick)
        session.commit()

        names = session.scalars(select(User.name).order_by(User.id)).all()
        assert names == ["spongebob", "sandy"]
        emails = session.scalars(select(Address.email_address).order_by(Address.id)).all()
        assert emails == ["spongebob@sqlalchemy.org", "sandy@squirrelpower.org"]


def test_the_database_keeps_the_key(engine, orm):
    User, Address = orm
    with Session(engine) as session:
        session.add(User(name="u", addresses=[Address(email_address="a@x")]))
        session.commit()
        uid = session.scalar(select(User.id))
        session.add(Address(email_address="orphan@x", user_id=uid + 1000))
        with pytest.raises(sa.exc.IntegrityError) as err:
            session.commit()
        orig = err.value.orig
        assert (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) == "23503"
        session.rollback()
        # ON DELETE CASCADE in the database, bypassing the ORM.
        session.execute(sa.delete(User).where(User.id == uid))
        session.commit()
        assert session.scalar(select(sa.func.count()).select_from(Address)) == 0


def test_inspector_reflects_the_foreign_key(engine, orm, table):
    insp = inspect(engine)
    fks = insp.get_foreign_keys(f"{table}_address")
    assert len(fks) == 1
    fk = fks[0]
    assert fk["name"] == f"{table}_address_user_id_fkey"
    assert fk["constrained_columns"] == ["user_id"]
    assert fk["referred_table"] == f"{table}_user_account"
    assert fk["referred_columns"] == ["id"]
    assert fk["referred_schema"] is None
    assert fk["options"] == {"ondelete": "CASCADE"}
    assert insp.get_foreign_keys(f"{table}_user_account") == []
    reflected = sa.Table(f"{table}_address", sa.MetaData(), autoload_with=engine)
    (col_fk,) = reflected.c.user_id.foreign_keys
    assert col_fk.target_fullname == f"{table}_user_account.id"
