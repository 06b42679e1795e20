"""The drivers: one set of steps, run synchronously or on an event loop, against a real engine.
Errors are thrown back into the steps; background writes finish before a driver returns or
raises; on an event loop, work runs in a worker thread."""

import asyncio
import threading

import pytest

from hybridstore import EngineError
from hybridstore.driver import Context, adrive, drive
from hybridstore.engine import EdgeEngine
from hybridstore.engine.requests import Count, Create, Write
from hybridstore.qdrant.payload import Point, point_id
from hybridstore.qdrant.schema import build_schema
from hybridstore.steps import Start, Wait, Work


def Index():
    """What a driver needs of an index: an engine, a collection name and what it knows of the
    collection (None: no tenant's shard key to route to)."""
    return Context(EdgeEngine(), "c")


def points(n, start=0):
    return [Point(point_id(str(i)), {"dense": [1.0, float(i)]}, {"i": i}) for i in range(start, start + n)]


def steps(log):
    yield Create(build_schema({"dense": 2}, {}))
    where = yield Work(lambda: threading.current_thread().name)
    log.append(where)
    done = []
    job = yield Start([Write(points(3)), Write(points(3, 3))], done.append)
    yield Wait(job)
    log.append(done)
    try:
        yield Write([Point(point_id("x"), {"dense": [1.0, 2.0, 3.0]}, {})])  # the wrong size
    except EngineError as e:
        log.append("caught" if "dimension" in str(e) else str(e))
    return (yield Count())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_one_set_of_steps_runs_on_both_drivers(mode):
    index, log = Index(), []
    count = drive(index, steps(log)) if mode == "sync" else asyncio.run(adrive(index, steps(log)))
    assert count == 6 and log[1:] == [[0, 1], "caught"]
    assert (log[0] == "MainThread") == (mode == "sync")  # async: work in a worker thread
    index.engine.close()


def failing(started):
    yield Create(build_schema({"dense": 2}, {}))
    started.append((yield Start([Write(points(200)) for _ in range(5)])))
    yield Work(lambda: 1 / 0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_background_writes_finish_before_an_error_leaves_the_driver(mode):
    index, started = Index(), []
    with pytest.raises(ZeroDivisionError):
        drive(index, failing(started)) if mode == "sync" else asyncio.run(adrive(index, failing(started)))
    job = started[0]
    assert job.done() and index.engine.run("c", Count()) == 200
    index.engine.close()
