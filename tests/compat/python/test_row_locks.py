"""Row locks from several psycopg sessions: a job queue taken with
FOR UPDATE SKIP LOCKED hands each job to exactly one worker, FOR UPDATE
makes a second locker wait for the first to end, and NOWAIT fails with
55P03 instead of waiting. Run on one node, and on three
(tests/compat_python.rs), where the sessions are spread over the nodes."""

import threading
import time

import psycopg
import psycopg.errors
import pytest

JOBS = 60
WORKERS = 6


def test_skip_locked_queue_hands_each_job_to_one_worker(dsn, dsns, ddl, table):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, done boolean NOT NULL DEFAULT false, worker int)")
    with psycopg.connect(dsn, autocommit=True) as c:
        with c.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} (id) VALUES (%s)", [(i,) for i in range(JOBS)])

    taken = {w: [] for w in range(WORKERS)}
    retried = {w: 0 for w in range(WORKERS)}
    errors = []

    def worker(w):
        try:
            with psycopg.connect(dsns[w % len(dsns)]) as c:
                while True:
                    try:
                        with c.transaction():
                            row = c.execute(
                                f"SELECT id FROM {table} WHERE NOT done ORDER BY id "
                                "LIMIT 1 FOR UPDATE SKIP LOCKED"
                            ).fetchone()
                            if row is None:
                                return
                            c.execute(
                                f"UPDATE {table} SET done = true, worker = %s WHERE id = %s",
                                (w, row[0]),
                            )
                    except (psycopg.errors.UniqueViolation, psycopg.errors.SerializationFailure):
                        # Across nodes a locker may read a row another node
                        # has just updated and committed (its change not yet
                        # delivered here); the UPDATE then fails and, as the
                        # README says, the transaction is retried. PostgreSQL
                        # would re-check the row after locking it.
                        retried[w] += 1
                        continue
                    taken[w].append(row[0])
        except Exception as e:  # reported below, with the worker
            errors.append((w, repr(e)))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    all_taken = sorted(j for js in taken.values() for j in js)
    assert all_taken == list(range(JOBS)), "every job exactly once"
    with psycopg.connect(dsns[-1]) as c:
        rows = c.execute(f"SELECT worker, count(*) FROM {table} GROUP BY worker").fetchall()
    assert {w: n for w, n in rows} == {w: len(js) for w, js in taken.items() if js}


def test_for_update_waits_for_the_holder_and_nowait_does_not(dsn, dsns, ddl, table):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, v int)")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"INSERT INTO {table} VALUES (1, 10), (2, 20)")

    with psycopg.connect(dsns[0]) as a, psycopg.connect(dsns[-1]) as b:
        a.execute(f"SELECT v FROM {table} WHERE id = 1 FOR UPDATE")

        with pytest.raises(psycopg.errors.LockNotAvailable):
            b.execute(f"SELECT v FROM {table} WHERE id = 1 FOR UPDATE NOWAIT")
        b.rollback()

        got = []

        def second_locker():
            with psycopg.connect(dsns[len(dsns) // 2]) as c:
                got.append(c.execute(f"SELECT v FROM {table} WHERE id = 1 FOR UPDATE").fetchone()[0])
                c.rollback()

        t = threading.Thread(target=second_locker)
        t.start()
        time.sleep(0.5)
        assert not got, "the second locker must wait for the first to end"
        a.execute(f"UPDATE {table} SET v = 11 WHERE id = 1")
        a.commit()
        t.join(timeout=30)
        assert got == [11], "the waiter reads what the holder committed"


def test_for_update_in_a_read_only_block_is_refused(dsn, ddl, table):
    ddl(f"CREATE TABLE {table} (id int)")
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("BEGIN READ ONLY")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute(f"SELECT id FROM {table} FOR UPDATE")
