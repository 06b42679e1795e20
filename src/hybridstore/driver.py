"""Each I/O operation is written once, as steps: a generator that yields what it needs and is
sent back the result. `drive` runs steps synchronously and `adrive` on an event loop; they are
the only difference between a method and its async twin.

What steps yield:

- an engine request (`engine.requests`): run by the engine (`run` / `arun`);
- `Work(fn, *args)`: CPU work (embedding): inline, or in a worker thread on an event loop, so
  that the loop is never blocked by a model;
- `Ensure(create, dense_size)`: the collection checked (and created), once per index, under
  the index's lock for threads or for tasks;
- `Start(requests, after)`: engine requests run in the background, in order (`after(i)` once
  the i-th is done); sent back a handle that `Wait(handle)` waits for. The driver waits for
  every started job before it returns or raises: no write is left running behind an error.

Every request goes through `route`: in a tenant's view of a collection sharded by tenant, it
is sent to the tenant's shard key (one place, so no operation can forget it).

An exception raised by a step's work is thrown back into the steps at the yield.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import replace
from typing import Any, Callable, Generator, Iterator, Sequence

from .engine.requests import Write
from .errors import InvalidInputError

Steps = Generator[Any, Any, Any]


@dataclass(frozen=True)
class Work:
    fn: Callable[..., Any]
    args: tuple

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "args", args)


@dataclass(frozen=True)
class Ensure:
    create: bool
    dense_size: int | None = None


def _nothing(i: int) -> None:
    return None


@dataclass(frozen=True)
class Start:
    requests: Sequence[Any]
    after: Callable[[int], None] = _nothing


@dataclass(frozen=True)
class Wait:
    handle: Any


def route(index: Any, request: Any) -> Any:
    """`request` as sent from `index`: to its tenant's shard key where it has one to go to."""
    col = index._col
    if col is None:
        return request
    if col.route is not None and request.shard is None:
        return replace(request, shard=col.route)
    if type(request) is Write and col.route is None and col.settings.tenant_shards:
        raise InvalidInputError(f"collection {col.name!r} is sharded by tenant: write through a "
                                "tenant's view, index.tenant('name')")
    return request


def drive(index: Any, steps: Steps) -> Any:
    """Run `steps` in this thread; background jobs run in one writer thread."""
    pool: ThreadPoolExecutor | None = None

    def background(step: Start) -> Future:
        nonlocal pool
        pool = pool or ThreadPoolExecutor(1, thread_name_prefix="hybridstore-write")
        return pool.submit(_run_all, index, step)

    def execute(step: Any) -> Any:
        if isinstance(step, Work):
            return step.fn(*step.args)
        if isinstance(step, Ensure):
            return index._ensure(step.create, step.dense_size)
        if isinstance(step, Start):
            return background(step)
        if isinstance(step, Wait):
            return step.handle.result()
        return index.engine.run(index.collection, route(index, step))

    pump = _Pump(steps)
    try:
        while pump.advance():
            with pump.catch():
                pump.value = execute(pump.step)
        return pump.value
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


async def adrive(index: Any, steps: Steps) -> Any:
    """Run `steps` on the event loop: engine calls awaited, work in worker threads."""
    started: list[asyncio.Task] = []

    async def execute(step: Any) -> Any:
        if isinstance(step, Work):
            return await asyncio.to_thread(step.fn, *step.args)
        if isinstance(step, Ensure):
            return await index._aensure(step.create, step.dense_size)
        if isinstance(step, Start):
            started.append(asyncio.create_task(_arun_all(index, step)))
            return started[-1]
        if isinstance(step, Wait):
            return await step.handle
        return await index.engine.arun(index.collection, route(index, step))

    pump = _Pump(steps)
    try:
        while pump.advance():
            with pump.catch():
                pump.value = await execute(pump.step)
        return pump.value
    finally:
        pending = [t for t in started if not t.done()]
        if pending:
            await asyncio.wait(pending)


class _Pump:
    """Moves steps along: `advance` sends the last value (or throws the last error) and holds
    the next step; False once the steps return, their value in `value`."""

    def __init__(self, steps: Steps) -> None:
        self.steps, self.step, self.value = steps, None, None
        self.error: BaseException | None = None

    def advance(self) -> bool:
        try:
            self.step = self.steps.throw(self.error) if self.error else self.steps.send(self.value)
        except StopIteration as stop:
            self.value = stop.value
            return False
        self.value = self.error = None
        return True

    @contextlib.contextmanager
    def catch(self) -> Iterator[None]:
        try:
            yield
        except Exception as e:  # handed to the steps, which re-raise what they do not handle
            self.error = e


def _run_all(index: Any, job: Start) -> None:
    for i, request in enumerate(job.requests):
        index.engine.run(index.collection, route(index, request))
        job.after(i)


async def _arun_all(index: Any, job: Start) -> None:
    for i, request in enumerate(job.requests):
        await index.engine.arun(index.collection, route(index, request))
        job.after(i)
