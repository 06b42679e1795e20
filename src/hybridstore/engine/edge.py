"""Engine over qdrant-edge (Qdrant's embedded Rust engine): one EdgeShard per collection.

Shards live in <root>/<collection>; root is `path`, or a private temporary folder for
location=":memory:" that close() removes. Every edge call holds the GIL and shards are not
documented as thread-safe, so each call holds one lock (`arun` runs it in a worker thread).
Edge never builds its HNSW index by itself: the core sends `Optimize`. Requests are compiled
in `edge_compile`; the folder-level ones (schema, create, drop, signature) are here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import weakref
from typing import Any, Callable

import qdrant_edge as edge

from ..errors import ConfigurationError, EngineError
from ..qdrant.schema import Schema, VectorField
from .base import Engine
from .edge_compile import COMPILE, change_vectors
from .edge_config import config, storage_of, with_vector
from .folder import EDGE_CONFIG as CONFIG, FolderLock, check_layout, locked_error, written_by
from .changes import Ledger
from .requests import SERVER_ONLY, ChangeVectors, Changes, Create, Drop, GetSchema, Request, SetSignature

SIGNATURE = "hybridstore.json"  # beside CONFIG: which models made the vectors (edge has no metadata)


class EdgeEngine(Engine):
    groups = False  # edge has no grouped query: the core groups
    def __init__(self, path: str | None = None, location: str | None = None) -> None:
        if location not in (None, ":memory:") or (path is not None and location is not None):
            raise ConfigurationError("EdgeEngine takes path=DIR or location=':memory:'")
        self.path = path
        self.root = os.path.abspath(path) if path else tempfile.mkdtemp(prefix="hybridstore-edge-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True) if not path else None
        self._shards: dict[str, Any] = {}  # before the folder lock: dropped first when collected
        self._lock = threading.RLock()
        self._closed = False
        if path:
            check_layout(self.root, "edge")
        self.folder = FolderLock(self.root, "edge", self) if path else None
        self._on_folder: dict[type, Callable[[str, Any], Any]] = {
            GetSchema: self._schema, Create: self._create, Drop: self._drop,
            SetSignature: self._set_signature, ChangeVectors: self._change_vectors,
            Changes: lambda c, r: self.changes(c)}
        self.ledger = Ledger(lambda c: self._schema(c, GetSchema()))  # every writer goes through this engine

    def run(self, collection: str, request: Request) -> Any:
        with self._lock:
            return self.ledger.run(collection, request, self._run)

    def _run(self, collection: str, request: Request) -> Any:
        handler = self._on_folder.get(type(request))
        if handler is not None:
            return handler(collection, request)
        if isinstance(request, SERVER_ONLY):
            raise ConfigurationError(f"{type(request).__name__}: shard keys are a Qdrant server's")
        name, call = COMPILE[type(request)](request)
        shard = self._open(collection)
        if shard is None:
            raise EngineError(f"collection {collection!r} does not exist")
        with _mapped(name, self._dir(collection)):
            return call(shard)

    def describe(self) -> dict[str, Any]:
        if not self.path:
            return {"engine": "edge", "location": ":memory:"}
        return {"engine": "edge", "path": self.root, "folder_written_by": written_by(self.root)}

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            shards, self._shards = self._shards, {}
            try:
                for name, shard in shards.items():
                    with _mapped("close", self._dir(name)):
                        shard.close()
            finally:
                if self._cleanup is not None:
                    self._cleanup()
                if self.folder is not None:
                    self.folder.release()

    def __repr__(self) -> str:
        return f"EdgeEngine(path={self.path!r})" if self.path else "EdgeEngine(location=':memory:')"

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
        shard = self._open(collection)
        if shard is None:
            raise EngineError(f"collection {collection!r} does not exist")
        folder = self._dir(collection)
        name, call = change_vectors(request)
        if request.add is None:
            with _mapped(name, folder):
                return call(shard)
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
        if self._open(collection) is None:
            raise EngineError(f"collection {collection!r} does not exist")
        _write_signature(self._dir(collection), request.signature)

    def _dir(self, collection: str) -> str:
        if not collection or collection in (".", "..") or "\0" in collection \
                or os.path.basename(collection) != collection:
            raise ConfigurationError(f"collection name {collection!r} is not a plain folder name")
        return os.path.join(self.root, collection)

    def _open(self, collection: str) -> Any:
        """The collection's shard, loaded on first use; None when it does not exist."""
        if self._closed:
            raise EngineError("this EdgeEngine is closed")
        if self.folder is not None:
            self.folder.require()
        folder = self._dir(collection)
        if collection not in self._shards and os.path.isfile(os.path.join(folder, CONFIG)):
            with _mapped("load", folder):
                self._shards[collection] = edge.EdgeShard.load(folder)
        return self._shards.get(collection)


@contextlib.contextmanager
def _mapped(name: str, folder: str):
    try:
        yield
    except Exception as e:  # edge raises the bare Exception class only; anything else is a bug
        if type(e) is not Exception:
            raise
        if "WouldBlock" in str(e):  # the WAL is locked by another open shard
            raise locked_error(folder, "another process or HybridIndex") from e
        raise EngineError(f"qdrant-edge {name} failed: {e}") from e


def _write_signature(folder: str, signature: dict[str, Any]) -> None:
    tmp = os.path.join(folder, SIGNATURE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(signature, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(folder, SIGNATURE))  # never half a file


def _read_signature(folder: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, SIGNATURE), encoding="utf-8") as fh:
            return json.load(fh)
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


