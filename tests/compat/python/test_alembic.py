"""Alembic against a real node: autogenerate compares the database with a
model (SQLAlchemy reflection), the generated operations run as an
upgrade, autogenerate then finds nothing left to do, a second revision
adds a column, an index and a foreign key, and its downgrade takes the
schema back to the first revision, each checked by autogenerate again."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata, produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.operations.ops import ModifyTableOps


def models(p, second):
    md = sa.MetaData()
    sa.Table(
        f"{p}_author",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    cols = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
    ]
    if second:
        cols += [
            sa.Column("pages", sa.Integer, nullable=True),
            sa.Column(
                "author_id",
                sa.Integer,
                sa.ForeignKey(f"{p}_author.id", name=f"fk_{p}_book_author"),
                nullable=True,
            ),
        ]
    book = sa.Table(f"{p}_book", md, *cols)
    if second:
        sa.Index(f"ix_{p}_book_title", book.c.title)
    return md


def only_ours(p):
    return lambda obj, name, type_, reflected, compare_to: not (
        type_ == "table" and not str(name).startswith(p)
    )


def diff(conn, md, p):
    ctx = MigrationContext.configure(conn, opts={"include_object": only_ours(p)})
    return compare_metadata(ctx, md)


def run(conn, ops_list, p):
    ctx = MigrationContext.configure(conn, opts={"include_object": only_ours(p)})
    ops = Operations(ctx)

    def each(items):
        for op in items:
            if isinstance(op, ModifyTableOps):
                each(op.ops)
            else:
                ops.invoke(op)

    each(ops_list)


def script(conn, md, p):
    ctx = MigrationContext.configure(conn, opts={"include_object": only_ours(p)})
    return produce_migrations(ctx, md)


@pytest.fixture
def engine(dsn):
    e = sa.create_engine(dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    yield e
    e.dispose()


def test_alembic_autogenerates_upgrades_and_downgrades(engine):
    p = "al" + uuid.uuid4().hex[:8]
    first, second = models(p, False), models(p, True)

    with engine.begin() as conn:
        rev1 = script(conn, first, p)
        assert sorted(op.table_name for op in rev1.upgrade_ops.ops) == [f"{p}_author", f"{p}_book"]
        run(conn, rev1.upgrade_ops.ops, p)
    with engine.connect() as conn:
        assert diff(conn, first, p) == []

    with engine.begin() as conn:
        rev2 = script(conn, second, p)
        run(conn, rev2.upgrade_ops.ops, p)
    with engine.connect() as conn:
        assert diff(conn, second, p) == []
        fks = sa.inspect(conn).get_foreign_keys(f"{p}_book")
        assert [(fk["constrained_columns"], fk["referred_table"]) for fk in fks] == [
            (["author_id"], f"{p}_author")
        ]

    with engine.begin() as conn:
        a = conn.execute(
            sa.text(f"INSERT INTO {p}_author (name) VALUES ('Le Guin') RETURNING id")
        ).scalar_one()
        conn.execute(
            sa.text(f"INSERT INTO {p}_book (title, pages, author_id) VALUES ('Earthsea', 200, :a)"),
            {"a": a},
        )

    # Downgrade the second revision: the column, index and key go.
    with engine.begin() as conn:
        run(conn, rev2.upgrade_ops.reverse().ops, p)
    with engine.connect() as conn:
        assert diff(conn, first, p) == []
        assert conn.execute(sa.text(f"SELECT title FROM {p}_book")).scalars().all() == ["Earthsea"]

    # And the first: nothing of ours is left.
    with engine.begin() as conn:
        run(conn, rev1.upgrade_ops.reverse().ops, p)
    with engine.connect() as conn:
        names = sa.inspect(conn).get_table_names()
        assert not [n for n in names if n.startswith(p)]


def test_alembic_renames_a_table_with_its_rows_and_references(engine):
    """op.rename_table in a migration's transaction: the rows, the key,
    the foreign key that references the table and the serial follow it,
    and reflection and autogenerate see the new name."""
    p = "rn" + uuid.uuid4().hex[:8]
    first = models(p, True)
    with engine.begin() as conn:
        run(conn, script(conn, first, p).upgrade_ops.ops, p)
    with engine.begin() as conn:
        a = conn.execute(
            sa.text(f"INSERT INTO {p}_author (name) VALUES ('Le Guin') RETURNING id")
        ).scalar_one()
        conn.execute(
            sa.text(f"INSERT INTO {p}_book (title, author_id) VALUES ('Earthsea', :a)"),
            {"a": a},
        )

    with engine.begin() as conn:
        ops = Operations(MigrationContext.configure(conn))
        ops.rename_table(f"{p}_author", f"{p}_writer")

    with engine.connect() as conn:
        insp = sa.inspect(conn)
        names = [n for n in insp.get_table_names() if n.startswith(p)]
        assert sorted(names) == [f"{p}_book", f"{p}_writer"]
        fks = insp.get_foreign_keys(f"{p}_book")
        assert [(fk["name"], fk["referred_table"]) for fk in fks] == [
            (f"fk_{p}_book_author", f"{p}_writer")
        ]
        assert insp.get_pk_constraint(f"{p}_writer")["constrained_columns"] == ["id"]
        rows = conn.execute(
            sa.text(
                f"SELECT w.name, b.title FROM {p}_book b JOIN {p}_writer w ON w.id = b.author_id"
            )
        ).all()
        assert [tuple(r) for r in rows] == [("Le Guin", "Earthsea")]
        # The model under the new name is what the database has.
        renamed = sa.MetaData()
        sa.Table(
            f"{p}_writer",
            renamed,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(100), nullable=False, unique=True),
        )
        book = sa.Table(
            f"{p}_book",
            renamed,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("title", sa.String(200), nullable=False),
            sa.Column("pages", sa.Integer, nullable=True),
            sa.Column(
                "author_id",
                sa.Integer,
                sa.ForeignKey(f"{p}_writer.id", name=f"fk_{p}_book_author"),
                nullable=True,
            ),
        )
        sa.Index(f"ix_{p}_book_title", book.c.title)
        assert diff(conn, renamed, p) == []
    with engine.begin() as conn:
        second = conn.execute(
            sa.text(f"INSERT INTO {p}_writer (name) VALUES ('Butler') RETURNING id")
        ).scalar_one()
        assert second > a
        with pytest.raises(sa.exc.IntegrityError):
            with conn.begin_nested():
                conn.execute(sa.text(f"INSERT INTO {p}_writer (name) VALUES ('Le Guin')"))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {p}_book, {p}_writer"))
