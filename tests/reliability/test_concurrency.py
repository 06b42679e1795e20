"""Concurrency: one index shared by many threads and asyncio tasks; a second process locked out.

Mixed adds, deletes, gets and searches run at once (a barrier starts them together); at the end
counts and contents are exact, and no search ever returned a point without its payload.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from qdrant_client import models as qm

from hybridstore import HybridIndex, Models, Record, StorageLockedError

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["river", "mountain", "forest", "desert", "ocean", "glacier", "valley", "island"]


@pytest.fixture(scope="module")
def models():
    return Models()


def rec(rid: str, n: int) -> Record:
    return Record(rid, f"{WORDS[n % 8]} and {WORDS[(n * 3 + 1) % 8]} notes, entry {rid}",
                  {"n": n, "owner": rid.split("-")[0]}, doc_id=f"d{n % 5}")


def check_hits(hits, problems: list) -> None:
    for h in hits:
        if not h.record.text.startswith(tuple(WORDS)) or "n" not in h.record.metadata \
                or not 0.0 <= h.relevance <= 1.0:
            problems.append(f"incomplete hit {h}")


def test_threads_and_tasks_mixed_at_once(tmp_path, models):
    idx = HybridIndex("shared", models, path=str(tmp_path))
    base = [rec(f"base-{i}", i) for i in range(40)]
    idx.add(base)
    victims = [r.id for r in base[::3]]
    writers = {f"t{t}": [[rec(f"t{t}-{b}-{i}", 10 * b + i) for i in range(5)] for b in range(4)]
               for t in range(3)}
    tasks = {f"a{t}": [[rec(f"a{t}-{b}-{i}", 7 * b + i) for i in range(5)] for b in range(3)]
             for t in range(2)}
    problems: list[str] = []
    ops = {"add": 0, "delete": 0, "search": 0, "get": 0}
    counting = threading.Lock()

    def done(op: str) -> None:
        with counting:
            ops[op] += 1
    start = threading.Barrier(3 + 1 + 2 + 1)

    def guarded(fn):
        def run(*args):
            start.wait()
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001 - a test harness: every failure is reported below
                problems.append(f"{fn.__name__}: {type(e).__name__}: {e}")
        return threading.Thread(target=run, args=())

    def writer(name):
        def write():
            for chunk in writers[name]:
                idx.add(chunk)
                done("add")
        write.__name__ = f"writer {name}"
        return write

    def deleter():
        for rid in victims:
            idx.delete([rid])
            done("delete")

    def searcher(mode):
        def search():
            for i in range(20):
                check_hits(idx.search(WORDS[i % 8], 5, mode=mode), problems)
                done("search")
                if i % 5 == 0:
                    assert all(r.text for r in idx.get(doc_id=f"d{i % 5}"))
                    done("get")
        search.__name__ = f"searcher {mode}"
        return search

    def tasks_thread():
        async def add(name):
            for chunk in tasks[name]:
                await idx.aadd(chunk)
                done("add")

        async def search(mode):
            for i in range(15):
                check_hits(await idx.asearch(WORDS[i % 8], 4, mode=mode), problems)
                done("search")

        async def main():
            await asyncio.gather(add("a0"), add("a1"), search("hybrid"), search("sparse"),
                                 idx.acount())

        asyncio.run(main())

    threads = [guarded(writer(n)) for n in writers] + [guarded(deleter)] + \
        [guarded(searcher(m)) for m in ("dense", "hybrid")] + [guarded(tasks_thread)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not problems, problems[:5]
    assert ops == {"add": 12 + 6, "delete": len(victims), "search": 40 + 30, "get": 8}

    expected = {r.id: r for r in base if r.id not in victims}
    for chunks in [*writers.values(), *tasks.values()]:
        expected.update({r.id: r for chunk in chunks for r in chunk})
    assert idx.count() == len(expected)
    assert idx.get(list(expected)) == list(expected.values())
    assert idx.get(victims) == []
    for name in ("dense", "sparse"):
        has = qm.Filter(must=[qm.HasVectorCondition(has_vector=name)])
        assert idx.count(filter=has) == len(expected)
    idx.close()


def test_first_writes_race_to_create_the_collection(models):
    idx = HybridIndex("fresh", models, location=":memory:")
    parts = [[rec(f"p{t}-{i}", i) for i in range(4)] for t in range(4)]
    errors: list[Exception] = []
    start = threading.Barrier(len(parts))

    def add(chunk):
        start.wait()
        try:
            idx.add(chunk)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and idx.count() == 16

    again = HybridIndex("fresh-async", models, location=":memory:")

    async def main():
        await asyncio.gather(*(again.aadd(p) for p in parts))

    asyncio.run(main())
    assert again.count() == 16


def test_a_second_process_gets_a_clear_error(tmp_path, models):
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from hybridstore import HybridIndex, Models, Record\n"
            f"idx = HybridIndex('held', Models(), path={str(tmp_path)!r})\n"
            "idx.add([Record('x', 'held open by another process')])\n"
            "print('ready', flush=True); sys.stdin.read(); idx.close()")],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StorageLockedError, match=str(tmp_path)) as err:
            HybridIndex("held", models, path=str(tmp_path)).count()
        assert "close that one first" in str(err.value) and "url=" in str(err.value)
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0
    with HybridIndex("held", models, path=str(tmp_path)) as idx:  # free again, nothing lost
        assert [r.text for r in idx.get(["x"])] == ["held open by another process"]
