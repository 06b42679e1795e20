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

import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import qdrant_edge as edge

from ..errors import ConfigurationError, EngineBusyError, EngineError
from ..qdrant.schema import Schema, VectorField
from .base import Engine
from .changes import Ledger
from .edge_compile import COMPILE, change_vectors
from .edge_config import config, storage_of, with_vector
from .edge_worker import WorkerShards
from .folder import EDGE_CONFIG as CONFIG
from .folder import FolderLock, check_layout, locked_error, written_by
from .requests import (
    SERVER_ONLY,
    Changes,
    ChangeVectors,
    Create,
    Drop,
    GetSchema,
    Optimize,
    Query,
    QueryBatch,
    Request,
    SetSignature,
)

SIGNATURE = "hybridstore.json"  # beside CONFIG: which models made the vectors (edge has no metadata)
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


class EdgeShards:
    """The shards of one folder, loaded on first use: runs requests on them in the process
    that owns them (the worker's, or the caller's with worker=False)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._shards: dict[str, edge.EdgeShard] = {}
        # each takes its own request type: Any here, as a table cannot say which
        self._on_folder: dict[type[Request[Any]], Callable[[str, Any], object]] = {
            GetSchema: self._schema, Create: self._create, Drop: self._drop,
            SetSignature: self._set_signature, ChangeVectors: self._change_vectors}

    def run(self, collection: str, request: Request[Any]) -> Any:
        handler = self._on_folder.get(type(request))
        if handler is not None:
            return handler(collection, request)
        if isinstance(request, SERVER_ONLY):
            raise ConfigurationError(f"{type(request).__name__}: shard keys are a Qdrant server's")
        name, call = COMPILE[type(request)](request)
        shard = self._existing(collection)
        with _mapped(name, self._dir(collection)):
            return call(shard)

    def info(self, collection: str) -> dict[str, Any]:
        with _mapped("info", self._dir(collection)):
            info = self._existing(collection).info()
        schema = {k: {"type": str(v.data_type).split(".")[-1],
                      "is_tenant": bool(getattr(v.params, "is_tenant", False))}
                  for k, v in info.payload_schema.items()}
        return {"segments": info.segments_count, "points": info.points_count,
                "indexed_vectors": info.indexed_vectors_count, "payload_schema": schema}

    def close(self) -> None:
        shards, self._shards = self._shards, {}
        for name, shard in shards.items():
            with _mapped("close", self._dir(name)):
                shard.close()

    # -- the folder-level requests -------------------------------------------------------------
    def _schema(self, collection: str, request: GetSchema) -> Schema | None:
        return _schema_of(self._dir(collection)) if self._open(collection) else None

    def _create(self, collection: str, request: Create) -> None:
        if self._open(collection) is not None:
            raise EngineError(f"collection {collection!r} already exists")
        with _mapped("create", self._dir(collection)):
            self._shards[collection] = edge.EdgeShard.create(self._dir(collection),
                                                             config(request.schema, request.storage))
        if request.schema.signature is not None:
            _write_signature(self._dir(collection), request.schema.signature)

    def _drop(self, collection: str, request: Drop) -> None:
        shard = self._open(collection)  # loading first: never delete a shard held elsewhere
        if shard is None:
            return
        del self._shards[collection]
        with _mapped("close", self._dir(collection)):
            shard.close()
        shutil.rmtree(self._dir(collection))

    def _change_vectors(self, collection: str, request: ChangeVectors) -> None:
        shard = self._existing(collection)
        folder = self._dir(collection)
        name, call = change_vectors(request)
        if request.add is None:
            with _mapped(name, folder):
                call(shard)
            return
        with open(os.path.join(folder, CONFIG), encoding="utf-8") as fh:
            reconfigured = with_vector(json.load(fh), request.add, request.storage)  # refuses first
        with _mapped(name, folder):
            call(shard)
        # edge creates a vector with its defaults; reloading with the full config gives it the
        # collection's settings (on disk, int8, no graph for late interaction)
        del self._shards[collection]
        with _mapped("reload", folder):
            shard.close()
            self._shards[collection] = edge.EdgeShard.load(folder, reconfigured)

    def _set_signature(self, collection: str, request: SetSignature) -> None:
        self._existing(collection)
        _write_signature(self._dir(collection), request.signature)

    def _dir(self, collection: str) -> str:
        if not collection or collection in (".", "..") or "\0" in collection \
                or os.path.basename(collection) != collection:
            raise ConfigurationError(f"collection name {collection!r} is not a plain folder name")
        return os.path.join(self.root, collection)

    def _existing(self, collection: str) -> edge.EdgeShard:
        shard = self._open(collection)
        if shard is None:
            raise EngineError(f"collection {collection!r} does not exist")
        return shard

    def _open(self, collection: str) -> edge.EdgeShard | None:
        """The collection's shard, loaded on first use; None when it does not exist."""
        folder = self._dir(collection)
        if collection not in self._shards and os.path.isfile(os.path.join(folder, CONFIG)):
            with _mapped("load", folder):
                self._shards[collection] = edge.EdgeShard.load(folder)
        return self._shards.get(collection)


@contextlib.contextmanager
def _mapped(name: str, folder: str) -> Iterator[None]:
    try:
        yield
    except Exception as e:  # edge raises the bare Exception class only; anything else is a bug
        if type(e) is not Exception:
            raise
        if "WouldBlock" in str(e):  # the WAL is locked by another open shard
            raise locked_error(folder, "another process or HybridIndex") from e
        raise EngineError(f"qdrant-edge {name} failed: {e}") from e


def _write_signature(folder: str, signature: Mapping[str, Any]) -> None:
    tmp = os.path.join(folder, SIGNATURE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(signature, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(folder, SIGNATURE))  # never half a file


def _read_signature(folder: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, SIGNATURE), encoding="utf-8") as fh:
            signature: dict[str, Any] = json.load(fh)  # written by `_write_signature`
            return signature
    except FileNotFoundError:
        return None


def _schema_of(folder: str) -> Schema:
    with open(os.path.join(folder, CONFIG), encoding="utf-8") as fh:
        config = json.load(fh)
    fields = [VectorField(name, "late_interaction" if p.get("multivector_config") else "dense",
                          p["size"], str(p["distance"]).lower())
              for name, p in (config.get("vectors") or {}).items()]
    fields += [VectorField(name, "sparse", None, "cosine", "idf" if p.get("modifier") == "idf" else None)
               for name, p in (config.get("sparse_vectors") or {}).items()]
    return Schema(tuple(fields), _read_signature(folder), storage_of(config))


