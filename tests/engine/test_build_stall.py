"""Graph builds on Qdrant Edge never stop the caller's process (edge holds the GIL for every
call, so the shards live in a worker process): a heartbeat thread keeps ticking through a
build, searches during a build get the documented error after the caller's wait, writes wait
their turn, and killing the caller mid-build loses nothing an add returned for.

The vectors come from a caller's own dense model (a seeded random vector per text): a build of
a few seconds needs thousands of points, which the pack's models would take minutes to embed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import numpy as np
import pytest

from hybridstore import EngineBusyError, HybridIndex, Models, Record

pytestmark = [
    pytest.mark.skipif(os.environ.get("HYBRIDSTORE_ENGINE", "edge") != "edge",
                       reason="Qdrant Edge's builds (local mode has no graph)"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the edge worker process is Linux's")]

POINTS = 1500  # with DIM: over edge's indexing threshold (10 MB of vectors), a build of seconds
DIM = 2048


class RandomDense:
    """A LangChain-style dense model: the same vector for the same text."""

    def embed_documents(self, texts):
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text):
        rng = np.random.default_rng(zlib.crc32(text.encode()))
        return rng.standard_normal(DIM).astype(np.float32).tolist()


def _run_delay():
    """Seconds this thread has waited for a CPU (Linux: /proc/.../schedstat; elsewhere 0)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except OSError:
        return 0.0


def corpus(n, start=0):
    return [Record(f"r{i}", f"text {i}") for i in range(start, start + n)]


def open_index(path, **options):
    return HybridIndex("c", Models(dense=RandomDense(), sparse=None), path=str(path), **options)


class Heartbeat:
    """A thread that wakes every 10 ms. `longest`: the longest time between two wake-ups that it
    was held up by something other than waiting for a CPU (the kernel's run_delay of the
    thread is taken off: a shared machine's load is not the build's doing; waiting for the GIL
    is, and is not run_delay). `wall`: the same without taking anything off."""

    def __init__(self):
        self.longest = self.wall = 0.0
        self._started, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._beat)

    def _beat(self):
        last, delay = time.perf_counter(), _run_delay()
        self._started.set()
        while True:
            stopped = self._stop.wait(0.01)
            now, now_delay = time.perf_counter(), _run_delay()
            self.longest = max(self.longest, now - last - (now_delay - delay))
            self.wall = max(self.wall, now - last)
            last, delay = now, now_delay
            if stopped:  # the gap that ends here counts too
                return

    def __enter__(self):
        self._thread.start()
        self._started.wait()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


async def optimize_while_ticking(index):
    """aoptimize() while a task of the same loop wakes every 10 ms: its longest gap, counted as
    `Heartbeat.longest` is."""
    build = asyncio.ensure_future(index.aoptimize())
    longest = 0.0
    last, delay = time.perf_counter(), _run_delay()
    while not build.done():
        await asyncio.sleep(0.01)
        now, now_delay = time.perf_counter(), _run_delay()
        longest = max(longest, now - last - (now_delay - delay))
        last, delay = now, now_delay
    await build
    return longest


def test_the_host_keeps_running_through_builds_and_searches_wait_or_say_why(tmp_path):
    with open_index(tmp_path, optimize_threshold=None, busy_wait=0.05) as index:
        index.add(corpus(POINTS))
        on_loop: list[float] = []  # aoptimize() on an event loop, a task of it ticking
        built = threading.Thread(target=lambda: on_loop.append(asyncio.run(optimize_while_ticking(index))))
        with Heartbeat() as explicit:
            built.start()
            while built.is_alive():
                running = index.engine.running
                if running is None or running[0] != "Optimize":  # not building yet (or any more)
                    time.sleep(0.001)
                    continue
                try:  # a search during the build: answered, or the documented error
                    index.search("text 1", k=3, mode="dense")
                except EngineBusyError as e:
                    assert "building the graphs of collection 'c' (Optimize, running for" in str(e)
                    assert "busy_wait" in str(e)
                    break
            else:
                pytest.fail("the build ended before a search could meet it")
            index.add(corpus(10, POINTS))  # a write during the build waits its turn
            built.join()
        assert index.count() == POINTS + 10
        assert [h.record.id for h in index.search("text 7", k=1, mode="dense")] == ["r7"]
    assert explicit.longest < 0.1, vars(explicit)  # the bound: no stall of the host over 100 ms
    assert on_loop[0] < 0.1  # nor of an asyncio task beside the build

    with open_index(tmp_path / "auto", optimize_threshold=POINTS // 2) as index:
        with Heartbeat() as automatic:
            index.add(corpus(POINTS))  # builds on its own once half are in
        assert index.engine.info("c")["indexed_vectors"] >= POINTS // 2
    assert automatic.longest < 0.1, vars(automatic)


KILLED = textwrap.dedent("""
    import sys
    sys.path[:0] = [{root!r}]
    from tests.engine.test_build_stall import POINTS, corpus, open_index
    index = open_index({path!r}, optimize_threshold=None)
    index.add(corpus(POINTS))
    print(index.engine._shards.pid, flush=True)
    index.optimize()
""")


def test_killing_the_host_mid_build_loses_nothing_added(tmp_path):
    script = KILLED.format(root=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), path=str(tmp_path))
    host = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    worker = int(host.stdout.readline())
    time.sleep(0.5)  # into the build
    host.send_signal(signal.SIGKILL)
    host.wait()
    for _ in range(600):  # the worker dies with its host (PR_SET_PDEATHSIG), not after its build
        if not os.path.exists(f"/proc/{worker}"):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the worker outlived its killed host")
    with open_index(tmp_path) as index:
        assert index.count() == POINTS
        assert [h.record.id for h in index.search("text 5", k=1, mode="dense")] == ["r5"]
