"""The shards of one Qdrant Edge folder, in the process that owns them: the edge worker's
(`edge_worker`), or the caller's with ``EdgeEngine(worker=False)``. Folder-level requests
(schema, create, drop, signature, vectors) are handled here; the rest compile to shard calls
(`edge_compile`)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import qdrant_edge as edge

from ..errors import ConfigurationError, EngineError
from ..qdrant.schema import Schema, VectorField
from .edge_compile import COMPILE, change_vectors
from .edge_config import config, storage_of, with_vector
from .folder import EDGE_CONFIG as CONFIG
from .folder import locked_error
from .requests import SERVER_ONLY, ChangeVectors, Create, Drop, GetSchema, Request, SetSignature

SIGNATURE = "hybridstore.json"  # beside CONFIG: which models made the vectors (edge has no metadata)


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


