"""Engine over qdrant-edge (Qdrant's embedded Rust engine): one EdgeShard per collection.

Shards live in <root>/<collection>; root is `path`, or a private temporary folder for
location=":memory:" that close() removes. Edge never builds its HNSW index by itself: the core
sends `Optimize`. Every edge call holds the GIL (qdrant-edge-py 0.9.0), so a graph build of
seconds would stop every thread of the caller's process: on Linux the shards are owned by a
worker process (`edge_worker`) and this process waits on a socket without the GIL. One request
runs at a time; a search arriving while another request (a build) runs waits ``busy_wait``
seconds at most, then raises `EngineBusyError`; writes wait for their turn. Requests are
compiled in `edge_compile`; the folder-level ones (schema, create, drop, signature) are in
`EdgeShards`, which runs them in whichever process owns the shards.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from typing import Any, Protocol

from ..errors import ConfigurationError, EngineBusyError, EngineError
from .base import Engine
from .changes import Ledger
from .edge_shards import EdgeShards
from .edge_worker import WorkerShards
from .folder import FolderLock, check_layout, written_by
from .requests import (
    Changes,
    GetSchema,
    Optimize,
    Query,
    QueryBatch,
    Request,
)

SEARCHES = (Query, QueryBatch)  # wait `busy_wait` at most for a build; the others wait their turn
BUSY_WAIT = 30.0  # seconds; Settings(busy_wait=) sets it


class Shards(Protocol):
    """Where the shards of a folder are: `EdgeShards` here, or `WorkerShards` in a worker."""

    def run(self, collection: str, request: Request[Any]) -> Any: ...

    def info(self, collection: str) -> dict[str, Any]: ...

    def close(self) -> None: ...


class EdgeEngine(Engine):
    groups = False  # edge has no grouped query: the core groups

    def __init__(self, path: str | None = None, location: str | None = None, *,
                 busy_wait: float | None = BUSY_WAIT, worker: bool | None = None) -> None:
        if location not in (None, ":memory:") or (path is not None and location is not None):
            raise ConfigurationError("EdgeEngine takes path=DIR or location=':memory:'")
        if busy_wait is not None and not busy_wait >= 0:
            raise ConfigurationError(f"busy_wait={busy_wait!r}: seconds (>= 0), or None to wait for the end")
        self.path = path
        self.busy_wait = busy_wait
        self.root = os.path.abspath(path) if path else tempfile.mkdtemp(prefix="hybridstore-edge-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True) if not path else None
        if path:
            check_layout(self.root, "edge")
        if worker is None:  # the worker needs Linux (packet sockets, PR_SET_PDEATHSIG); tested there only
            worker = sys.platform.startswith("linux")
        # before the folder lock: let go first when collected
        self._shards: Shards = WorkerShards(self.root, bool(path)) if worker else EdgeShards(self.root)
        self._lock = threading.RLock()
        self._running: tuple[str, str, float] | None = None  # (request, collection, since)
        self._closed = False
        self.folder = FolderLock(self.root, "edge", self) if path else None
        # every writer goes through this engine: it counts the changes (`changes`), under its lock
        self.ledger = Ledger(lambda c: self._shards.run(c, GetSchema()))

    def run(self, collection: str, request: Request[Any]) -> Any:
        if type(request) is Changes:  # no I/O: the count kept here
            return self.changes(collection)
        self._acquire(request)
        try:
            self._check()
            self._running = (type(request).__name__, collection, time.monotonic())
            return self.ledger.run(collection, request, self._shards.run)
        finally:
            self._running = None
            self._lock.release()

    @property
    def running(self) -> tuple[str, str, float] | None:
        """What the engine runs now: (request, collection, seconds so far), e.g. ("Optimize",
        "docs", 12.5) during a graph build; None when idle (a health check can read it)."""
        now = self._running
        return None if now is None else (now[0], now[1], time.monotonic() - now[2])

    def info(self, collection: str) -> dict[str, Any]:
        """Edge's own account of a collection's shard: segments, points, indexed vectors and
        payload indexes ({key: {"type": "Keyword", "is_tenant": bool}})."""
        with self._lock:
            self._check()
            return self._shards.info(collection)

    def describe(self) -> dict[str, Any]:
        if not self.path:
            return {"engine": "edge", "location": ":memory:"}
        return {"engine": "edge", "path": self.root, "folder_written_by": written_by(self.root)}

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._shards.close()  # the shards' own locks are let go before the folder's
            finally:
                if self._cleanup is not None:
                    self._cleanup()
                if self.folder is not None:
                    self.folder.release()

    def __repr__(self) -> str:
        return f"EdgeEngine(path={self.path!r})" if self.path else "EdgeEngine(location=':memory:')"

    def _check(self) -> None:
        if self._closed:
            raise EngineError("this EdgeEngine is closed")
        if self.folder is not None:
            self.folder.require()

    def _acquire(self, request: Request[Any]) -> None:
        """The engine's turn; a search that waited `busy_wait` while a build runs is refused."""
        if self.busy_wait is None or not isinstance(request, SEARCHES):
            self._lock.acquire()
            return
        while not self._lock.acquire(timeout=self.busy_wait):
            running = self._running
            if running is not None and running[0] == Optimize.__name__:
                raise EngineBusyError(
                    f"{type(request).__name__} waited {self.busy_wait} s: the Qdrant Edge engine at {self.root} "
                    f"is building the graphs of collection {running[1]!r} (Optimize, running for "
                    f"{time.monotonic() - running[2]:.1f} s; a build takes seconds to minutes, searches "
                    "resume when it ends); retry, or wait longer with busy_wait=SECONDS (None: until it ends)")
