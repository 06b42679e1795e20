"""The engine interface: the only code that performs I/O against a Qdrant engine.

An engine takes the core's requests (`engine.requests`: plain plans, points and qdrant
filters), compiles each to its own call and runs it, returning plain data. A new engine is one
module: a `run` that compiles every request type, and `close`.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any

from .requests import Changes, Found, Request

__all__ = ["Engine", "Found"]


class Engine(ABC):
    folder: Any = None  # an on-disk folder's lock (`engine.folder.FolderLock`), if any
    groups = True  # whether Query(group_by=...) runs natively (else the core groups)
    ledger: Any = None  # `changes.Ledger`, on an engine every writer of its storage goes through

    @abstractmethod
    def run(self, collection: str, request: Request[Any]) -> Any:
        """Run one request against `collection` (see `engine.requests` for the results)."""

    async def arun(self, collection: str, request: Request[Any]) -> Any:
        """`run` without blocking the event loop (by default: in a worker thread)."""
        if type(request) is Changes:  # no I/O: no thread
            return self.changes(collection)
        return await asyncio.to_thread(self.run, collection, request)

    def changes(self, collection: str) -> int | None:
        """The changes this engine made to `collection` that may leave points lacking a
        vector (`engine.changes`); None where writers it cannot see reach the collection (a
        server, a client of yours): there, only the collection itself can tell."""
        return None if self.ledger is None else self.ledger.count(collection)

    @abstractmethod
    def close(self) -> None: ...

    async def aclose(self) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """Which engine, and where its storage is (for info())."""
        return {"engine": type(self).__name__}
