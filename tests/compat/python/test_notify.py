"""LISTEN/NOTIFY and advisory locks from psycopg and asyncpg: notifications
are delivered at commit only, folded within a transaction, carry the
sender's backend pid and arrive in commit order on an idle listener; an
asyncpg pool resets its connections (pg_advisory_unlock_all, UNLISTEN *)
on release; advisory locks admit one holder at a time; and a job queue is
driven by NOTIFY wake-ups. Run on one node, and on three
(tests/compat_python.rs), where the sessions are spread over the nodes."""

import asyncio
import threading
import time

import asyncpg
import psycopg
import psycopg.errors
import pytest
from psycopg import sql

WAIT = 5  # seconds to wait for something that should come


def drain(conn, n, timeout=WAIT):
    """The next n notifications of a psycopg connection, as (channel, payload, pid)."""
    return [(x.channel, x.payload, x.pid) for x in conn.notifies(timeout=timeout, stop_after=n)]


def test_notify_is_delivered_at_commit_folded_and_with_the_sender_pid(dsns, table):
    ch = table
    with psycopg.connect(dsns[-1], autocommit=True) as lis, psycopg.connect(dsns[0], autocommit=True) as snd:
        lis.execute(f"LISTEN {ch}")
        lis.execute(f"LISTEN {ch}")  # a second LISTEN of the same channel changes nothing
        assert lis.execute("SELECT * FROM pg_listening_channels()").fetchall() == [(ch,)]
        pid = snd.execute("SELECT pg_backend_pid()").fetchone()[0]

        snd.execute(f"NOTIFY {ch}, 'auto'")
        with snd.transaction():
            snd.execute(f"NOTIFY {ch}, 'twice'")
            snd.execute("SELECT pg_notify(%s, 'twice')", (ch,))
            snd.execute("SELECT pg_notify(%s, 'other')", (ch,))
            snd.execute(f"NOTIFY {ch}")  # empty payload
            snd.execute("NOTIFY some_channel_nobody_listens_to, 'x'")
        with snd.transaction():
            snd.execute(f"NOTIFY {ch}, 'rolled back'")
            raise psycopg.Rollback()
        snd.execute(f"NOTIFY {ch}, 'end'")

        got = drain(lis, 5)
        assert got == [(ch, p, pid) for p in ("auto", "twice", "other", "", "end")]
        assert drain(lis, 1, timeout=0.5) == [], "nothing more: rollback sends nothing"

        lis.execute(f"UNLISTEN {ch}")
        assert lis.execute("SELECT * FROM pg_listening_channels()").fetchall() == []
        snd.execute(f"NOTIFY {ch}, 'after unlisten'")
        assert drain(lis, 1, timeout=0.5) == []


def test_payload_of_8000_bytes_is_refused_and_7999_is_delivered(dsns, table):
    ch = table
    with psycopg.connect(dsns[-1], autocommit=True) as lis, psycopg.connect(dsns[0], autocommit=True) as snd:
        lis.execute(f"LISTEN {ch}")
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            snd.execute("SELECT pg_notify(%s, %s)", (ch, "x" * 8000))
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            snd.execute(sql.SQL("NOTIFY {}, {}").format(sql.Identifier(ch), sql.Literal("y" * 8000)))
        snd.execute("SELECT pg_notify(%s, %s)", (ch, "z" * 7999))
        got = drain(lis, 2, timeout=1)
        assert [(c, p) for c, p, _ in got] == [(ch, "z" * 7999)]


def test_asyncpg_listener_gets_notifications_from_another_node_in_order(dsns, table):
    ch = table

    async def main():
        lis = await asyncpg.connect(dsns[-1])
        snd = await asyncpg.connect(dsns[0])
        try:
            got = asyncio.Queue()
            cb = lambda _conn, pid, channel, payload: got.put_nowait((pid, channel, payload))
            await lis.add_listener(ch, cb)
            pid = await snd.fetchval("SELECT pg_backend_pid()")
            for i in range(20):
                if i % 2:
                    await snd.execute(f"NOTIFY {ch}, '{i}'")
                else:
                    await snd.execute("SELECT pg_notify($1, $2)", ch, str(i))
            async with snd.transaction():
                await snd.execute("SELECT pg_notify($1, 'in a transaction')", ch)
            received = [await asyncio.wait_for(got.get(), WAIT) for _ in range(21)]
            assert received == [(pid, ch, str(i)) for i in range(20)] + [(pid, ch, "in a transaction")]

            await lis.remove_listener(ch, cb)
            assert await lis.fetch("SELECT * FROM pg_listening_channels()") == []
            await snd.execute(f"NOTIFY {ch}, 'after remove'")
            await asyncio.sleep(0.5)
            assert got.empty()
        finally:
            await lis.close()
            await snd.close()

    asyncio.run(main())


def test_asyncpg_pool_runs_concurrent_queries_and_resets_released_connections(dsns, table):
    async def main():
        async with asyncpg.create_pool(dsns[0], min_size=5, max_size=5) as pool:
            rows = await asyncio.wait_for(
                asyncio.gather(*(pool.fetchrow("SELECT pg_sleep(0.01), $1::int * 2 AS v", i) for i in range(40))),
                60,
            )
            assert [r["v"] for r in rows] == [2 * i for i in range(40)]

            # What a released connection held goes: its advisory locks and its LISTENs.
            async with pool.acquire() as c:
                await c.execute("SELECT pg_advisory_lock(7000001)")
                await c.execute(f"LISTEN {table}")
            other = await asyncpg.connect(dsns[-1])
            try:
                assert await other.fetchval("SELECT pg_try_advisory_lock(7000001)") is True
                assert await other.fetchval("SELECT pg_advisory_unlock(7000001)") is True
            finally:
                await other.close()
            for _ in range(5):
                async with pool.acquire() as c:
                    assert await c.fetch("SELECT * FROM pg_listening_channels()") == []

    asyncio.run(main())


def test_asyncpg_binds_numbers_to_advisory_lock_and_sleep_parameters(dsn):
    """PostgreSQL types $1 of pg_advisory_lock($1) as bigint, of
    pg_advisory_lock($1, $2) as integers and of pg_sleep($1) as double."""

    async def main():
        c = await asyncpg.connect(dsn)
        try:
            assert await c.fetchval("SELECT pg_try_advisory_lock($1)", 7_000_002) is True
            assert await c.fetchval("SELECT pg_advisory_unlock($1)", 7_000_002) is True
            assert await c.fetchval("SELECT pg_try_advisory_lock($1, $2)", 7, 3) is True
            assert await c.fetchval("SELECT pg_advisory_unlock($1, $2)", 7, 3) is True
            await c.execute("SELECT pg_sleep($1)", 0.01)
        finally:
            await c.close()

    asyncio.run(main())


def test_advisory_lock_admits_one_holder_at_a_time(dsns):
    key, workers, rounds = 4242, 6, 10
    guard = threading.Lock()
    inside = [0]
    errors = []
    done = []

    def worker(w):
        try:
            with psycopg.connect(dsns[w % len(dsns)], autocommit=True) as c:
                for _ in range(rounds):
                    c.execute("SELECT pg_advisory_lock(%s)", (key,))
                    with guard:
                        inside[0] += 1
                        assert inside[0] == 1, "two holders of one advisory lock"
                    time.sleep(0.005)
                    with guard:
                        inside[0] -= 1
                    assert c.execute("SELECT pg_advisory_unlock(%s)", (key,)).fetchone()[0] is True
            done.append(w)
        except BaseException as e:  # reported below, with the worker
            errors.append((w, repr(e)))

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(done) == list(range(workers)), "a worker is still waiting for the lock"


def test_advisory_lock_is_held_until_unlock_commit_or_disconnect(dsns):
    key = 4343
    with psycopg.connect(dsns[-1], autocommit=True) as other:
        try_lock = lambda: other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        notices = []
        other.add_notice_handler(lambda d: notices.append((d.severity, d.sqlstate)))

        with psycopg.connect(dsns[0], autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (key,))
            assert try_lock() is False
            assert other.execute("SELECT pg_try_advisory_lock_shared(%s)", (key,)).fetchone()[0] is False
            assert other.execute("SELECT pg_advisory_unlock(%s)", (key,)).fetchone()[0] is False
            assert notices == [("WARNING", "01000")], "unlocking a lock not held warns"
        # The holder's connection is closed, without unlocking.
        deadline = time.monotonic() + WAIT
        while not try_lock():
            assert time.monotonic() < deadline, "the lock outlived its holder's connection"
            time.sleep(0.05)
        assert other.execute("SELECT pg_advisory_unlock(%s)", (key,)).fetchone()[0] is True

        # Shared holders coexist and keep an exclusive locker out; unlock_all frees them.
        with psycopg.connect(dsns[0], autocommit=True) as sh:
            assert sh.execute("SELECT pg_try_advisory_lock_shared(%s)", (key,)).fetchone()[0] is True
            other.execute("SELECT pg_advisory_lock_shared(%s)", (key,))
            with psycopg.connect(dsns[len(dsns) // 2], autocommit=True) as third:
                assert third.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0] is False
                sh.execute("SELECT pg_advisory_unlock_all()")
                other.execute("SELECT pg_advisory_unlock_all()")
                assert third.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0] is True
                assert third.execute("SELECT pg_advisory_unlock(%s)", (key,)).fetchone()[0] is True

        with psycopg.connect(dsns[0]) as tx:  # not autocommit: the lock goes at commit
            tx.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            assert try_lock() is False
            tx.commit()
            assert try_lock() is True
            assert other.execute("SELECT pg_advisory_unlock(%s)", (key,)).fetchone()[0] is True


def test_job_queue_woken_by_notify_does_each_job_once(dsns, ddl, table):
    ddl(f"CREATE TABLE {table} (id int PRIMARY KEY, done_by int)")
    ch, batches, per_batch = f"{table}_jobs", 4, 10
    nworkers = max(3, len(dsns))
    deadline = time.monotonic() + 60
    ready = threading.Barrier(nworkers + 1, timeout=30)
    done = {w: [] for w in range(nworkers)}
    stopped, errors = [], []

    def claim(work, w):
        while True:  # a serialization failure is retried, as an application would
            try:
                with work.transaction():
                    row = work.execute(
                        f"SELECT id FROM {table} WHERE done_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
                    ).fetchone()
                    if row is None:
                        return None
                    work.execute(f"UPDATE {table} SET done_by = %s WHERE id = %s", (w, row[0]))
                return row[0]
            except psycopg.errors.SerializationFailure:
                continue

    def worker(w):
        try:
            node = dsns[w % len(dsns)]
            with psycopg.connect(node, autocommit=True) as lis, psycopg.connect(node) as work:
                lis.execute(f"LISTEN {ch}")
                ready.wait()
                stop = False
                while time.monotonic() < deadline:
                    while (job := claim(work, w)) is not None:
                        done[w].append(job)
                    if stop:
                        stopped.append(w)
                        return
                    for n in lis.notifies(timeout=0.5, stop_after=1):
                        stop = n.payload == "stop"
        except BaseException as e:  # reported below, with the worker
            errors.append((w, repr(e)))
            ready.abort()

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in range(nworkers)]
    for t in threads:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pytest.fail(f"a worker failed to start: {errors}")
    with psycopg.connect(dsns[0]) as prod:
        for b in range(batches):
            with prod.transaction():  # the jobs and their wake-up commit together
                prod.cursor().executemany(
                    f"INSERT INTO {table} (id) VALUES (%s)", [(b * per_batch + i,) for i in range(per_batch)]
                )
                prod.execute(f"NOTIFY {ch}, 'batch'")
            time.sleep(0.2)
        prod.execute(f"NOTIFY {ch}, 'stop'")
        prod.commit()
    for t in threads:
        t.join(timeout=max(1, deadline - time.monotonic() + 5))
    assert not errors, errors
    assert sorted(stopped) == list(range(nworkers)), "a worker missed the stop notification"
    total = batches * per_batch
    assert sorted(j for js in done.values() for j in js) == list(range(total)), "every job exactly once"
    with psycopg.connect(dsns[-1]) as c:
        rows = c.execute(f"SELECT done_by, count(*) FROM {table} GROUP BY done_by").fetchall()
    assert {w: n for w, n in rows} == {w: len(js) for w, js in done.items() if js}
