"""Runs steps (see `steps`): `drive` in this thread, `adrive` on an event loop; they are the only
difference between a method and its async twin. Both work on a `Context`: the engine, the
collection's name, what the index knows of it, and the locks `Ensure` takes.

- an engine request is run by the engine (`run` / `arun`), through `route`: in a tenant's view
  of a collection sharded by tenant it goes to the tenant's shard key (one place, so no
  operation can forget it);
- `Work` runs inline, or in a worker thread on an event loop;
- `Ensure` runs `collection.ensure` as steps of its own, once per index, under the index's
  lock for threads or for tasks (one creator; the others wait and find it ready);
- `Start` runs requests in one writer thread (a task on a loop). The driver waits for every
  started job before it returns or raises: no write is left running behind an error.

An exception raised by a step's work is thrown back into the steps at the yield (`Pump`, also
the pump of `copying`, whose steps span two indexes).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from . import collection
from .collection import Collection
from .engine import Engine
from .engine.requests import Request, Write
from .errors import InvalidInputError
from .steps import Ensure, Start, Step, Steps, Wait, Work

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Locks:
    """An index's ensure locks: one for threads, one per event loop (an asyncio.Lock serves
    one loop). Shared by the index's tenant views."""

    thread: threading.RLock = field(default_factory=threading.RLock)
    loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = \
        field(default_factory=weakref.WeakKeyDictionary)

    def loop(self) -> asyncio.Lock:
        with self.thread:
            return self.loops.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@dataclass(frozen=True)
class Context:
    """What steps run on: an engine, the collection's name, and what the index knows of the
    collection (None: nothing to route or ensure, e.g. steps run on a bare engine)."""

    engine: Engine
    name: str
    col: Collection | None = None
    locks: Locks = field(default_factory=Locks)

    def known(self) -> Collection:
        """The collection (steps that check or copy one need it)."""
        if self.col is None:
            raise TypeError("these steps need a context with a collection")
        return self.col


def route(ctx: Context, request: Request[R]) -> Request[R]:
    """`request` as sent from `ctx`: to its tenant's shard key where it has one to go to."""
    col = ctx.col
    if col is None:
        return request
    if col.route is not None and request.shard is None:
        return replace(request, shard=col.route)
    if type(request) is Write and request.shard is None and col.route is None and col.settings.tenant_shards:
        raise InvalidInputError(f"collection {col.name!r} is sharded by tenant: write through a "
                                "tenant's view, index.tenant('name')")
    return request


def drive(ctx: Context, steps: Steps[T]) -> T:
    """Run `steps` in this thread; background jobs run in one writer thread."""
    sync = _Sync(ctx)
    try:
        return sync.run(steps)
    finally:
        sync.close()


async def adrive(ctx: Context, steps: Steps[T]) -> T:
    """Run `steps` on the event loop: engine calls awaited, work in worker threads."""
    loop = _Async(ctx)
    try:
        return await loop.run(steps)
    finally:
        await loop.close()


class _Sync:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.pool: ThreadPoolExecutor | None = None  # the writer thread, once a Start needs one

    def run(self, steps: Steps[T]) -> T:
        return Pump(steps).run(self.execute)

    def execute(self, step: Step) -> object:
        if isinstance(step, Work):
            return step.call()
        if isinstance(step, Ensure):
            col = self.ctx.known()
            if not col.ready(step.create):
                with self.ctx.locks.thread:
                    self.run(collection.ensure(col, step.create, step.dense_size))
            return None
        if isinstance(step, Start):
            self.pool = self.pool or ThreadPoolExecutor(1, thread_name_prefix="hybridstore-write")
            return self.pool.submit(self.run_all, step)
        if isinstance(step, Wait):
            step.handle.result()  # a job's value is None; its error is raised here
            return None
        return self.ctx.engine.run(self.ctx.name, route(self.ctx, step))

    def run_all(self, job: Start) -> None:
        for i, request in enumerate(job.requests):
            self.ctx.engine.run(self.ctx.name, route(self.ctx, request))
            job.after(i)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


class _Async:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.started: list[asyncio.Task[None]] = []

    async def run(self, steps: Steps[T]) -> T:
        return await Pump(steps).arun(self.execute)

    async def execute(self, step: Step) -> object:
        if isinstance(step, Work):
            return await asyncio.to_thread(step.call)
        if isinstance(step, Ensure):
            col = self.ctx.known()
            if not col.ready(step.create):
                async with self.ctx.locks.loop():
                    await self.run(collection.ensure(col, step.create, step.dense_size))
            return None
        if isinstance(step, Start):
            self.started.append(asyncio.create_task(self.run_all(step)))
            return self.started[-1]
        if isinstance(step, Wait):
            handle = step.handle
            job: asyncio.Future[None] = handle if isinstance(handle, asyncio.Future) else asyncio.wrap_future(handle)
            await job  # a job's value is None; its error is raised here
            return None
        return await self.ctx.engine.arun(self.ctx.name, route(self.ctx, step))

    async def run_all(self, job: Start) -> None:
        for i, request in enumerate(job.requests):
            await self.ctx.engine.arun(self.ctx.name, route(self.ctx, request))
            job.after(i)

    async def close(self) -> None:
        pending = [t for t in self.started if not t.done()]
        if pending:
            await asyncio.wait(pending)


class Pump(Generic[S, T]):
    """Moves steps along: each step is carried out by `execute`, and its value sent back in;
    any exception it raises is thrown back into the steps at the yield, which re-raise what
    they do not handle. Returns what the steps return."""

    step: S
    result: T

    def __init__(self, steps: Generator[S, Any, T]) -> None:
        self.steps = steps
        self.value: object = None
        self.error: Exception | None = None

    def run(self, execute: Callable[[S], object]) -> T:
        while self.advance():
            with self.catch():
                self.value = execute(self.step)
        return self.result

    async def arun(self, execute: Callable[[S], Awaitable[object]]) -> T:
        while self.advance():
            with self.catch():
                self.value = await execute(self.step)
        return self.result

    def advance(self) -> bool:
        try:
            self.step = self.steps.throw(self.error) if self.error else self.steps.send(self.value)
        except StopIteration as stop:
            self.result = stop.value
            return False
        self.value = self.error = None
        return True

    @contextlib.contextmanager
    def catch(self) -> Iterator[None]:
        try:
            yield
        except Exception as e:  # noqa: BLE001 - thrown back into the steps, which re-raise what they do not handle
            self.error = e
