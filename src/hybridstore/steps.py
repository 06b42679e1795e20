"""What steps yield, and the helpers that hand a step its result typed.

Each I/O operation is written once, as steps: a generator that yields what it needs and is
sent back the result; `driver` runs them in a thread (`drive`) or on an event loop (`adrive`).
A step yields:

- an engine request (`engine.requests`), through `ask`: ``n = yield from ask(Count())``;
- `Work`, through `ask_work(fn, *args)`: CPU work (embedding), inline, or in a worker thread
  on an event loop, so that the loop is never blocked by a model;
- `Ensure(create, dense_size)`: the collection checked (and created), once per index;
- `Start(requests, after)`, through `start`: engine requests run in the background, in order
  (`after(i)` once the i-th is done); its handle is what `Wait(handle)` waits for.

A yield stands alone as a statement, never inside an expression.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, ParamSpec, TypeVar

from .engine.requests import Request, ask

__all__ = ["Ensure", "Handle", "Start", "Step", "Steps", "Wait", "Work", "ask", "ask_work", "start"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

Handle = Future[None] | asyncio.Future[None]  # a background job (a thread's, a loop's)


@dataclass(frozen=True)
class Work(Generic[R]):
    call: Callable[[], R]


@dataclass(frozen=True)
class Ensure:
    create: bool
    dense_size: int | None = None


def _nothing(i: int) -> None:
    return None


@dataclass(frozen=True)
class Start:
    requests: Sequence[Request[None]]
    after: Callable[[int], None] = _nothing


@dataclass(frozen=True)
class Wait:
    handle: Handle


Step = Request[Any] | Work[Any] | Ensure | Start | Wait
Steps = Generator[Step, Any, T]  # steps returning a T (what each yield gets back: see `ask`)


def ask_work(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Steps[R]:
    """Steps: `fn(*args)` as CPU work; its result."""
    result: R = yield Work(partial(fn, *args, **kwargs))
    return result


def start(requests: Sequence[Request[None]], after: Callable[[int], None] = _nothing) -> Steps[Handle]:
    """Steps: `requests` started in the background; the handle to `Wait` for."""
    handle: Handle = yield Start(requests, after)
    return handle
