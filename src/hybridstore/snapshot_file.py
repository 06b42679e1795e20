"""The snapshot file: one collection's points, schema (with its model signature) and storage,
engine-neutral, so that a file taken on one engine restores on any other.

    HYBRIDSTORE-SNAPSHOT            the magic line
    {manifest}                      one JSON line: format version, collection, schema, storage,
                                    shard keys (a collection sharded by tenant; else none)
    {point}                         one JSON line per point: id, payload, vectors (its shard key)
    ...
    #end {"points": n, "sha256": h} h: sha256 of every byte above this line

Vectors are stored as the engine returned them, as little-endian float32 bytes in base64
(exact; float64 where float32 is not, as local mode's sparse values); sparse indices as uint32. A file is
written to ``<path>.partial`` and renamed when complete, so a file at `path` is whole or absent.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Self, TypeVar

import numpy as np

from .engine.requests import Found
from .errors import HybridStoreError, InvalidInputError
from .qdrant.payload import Point, SparseVec, stored_id
from .qdrant.schema import Schema, VectorField
from .qdrant.storage import Storage

MAGIC = b"HYBRIDSTORE-SNAPSHOT\n"
FORMAT = 1  # the version of this layout; a reader refuses any other
END = b"#end "
T = TypeVar("T")


@dataclass(frozen=True)
class Manifest:
    collection: str
    schema: Schema
    storage: Storage
    engine: str
    points: int = 0  # from the end line, once read
    shard_keys: tuple[str, ...] = ()  # a collection sharded by tenant (tenant_shards=): its shard keys


def _manifest_json(m: Manifest) -> bytes:
    fields = [{"name": f.name, "kind": f.kind, "size": f.size, "distance": f.distance, "modifier": f.modifier}
              for f in m.schema.fields]
    return json.dumps({"format": FORMAT, "collection": m.collection, "engine": m.engine, "fields": fields,
                       "signature": dict(m.schema.signature or {}), "storage": m.storage.stored(),
                       **({"shard_keys": list(m.shard_keys)} if m.shard_keys else {})},
                      sort_keys=True).encode() + b"\n"


def _manifest_of(line: bytes, path: str) -> Manifest:
    doc = json.loads(line)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise InvalidInputError(f"{path}: snapshot format {found!r}, this version of hybridstore reads "
                                f"format {FORMAT}: restore it with the version that took it")
    if not doc.get("signature"):
        raise InvalidInputError(f"{path}: the snapshot holds no model signature: it was not taken by "
                                "hybridstore, or it was edited; nothing restored")
    fields = tuple(VectorField(**f) for f in doc["fields"])
    return Manifest(doc["collection"], Schema(fields, doc["signature"]), Storage.of(doc["storage"]) or Storage(),
                    doc["engine"], shard_keys=tuple(map(str, doc.get("shard_keys", ()))))


def _vector(v: Any) -> dict[str, Any]:
    if isinstance(v, SparseVec):
        return {"indices": _b64(np.asarray(v.indices, dtype="<u4")), **_floats(v.values)}
    rows = {"rows": len(v)} if np.ndim(v) == 2 else {}
    return {**_floats(v), **rows}


def _floats(values: Any) -> dict[str, str]:
    """float32 where that is exact (what engines store), else float64 (local mode's sparse values)."""
    a = np.asarray(values, dtype="<f8").ravel()
    narrow = a.astype("<f4")
    return {"f32": _b64(narrow)} if np.array_equal(narrow, a) else {"f64": _b64(a)}


def _b64(a: np.ndarray[Any, Any]) -> str:
    return base64.b64encode(a.tobytes()).decode()


def _unvector(enc: Mapping[str, Any]) -> Any:
    a = _array(enc["f32"], "<f4") if "f32" in enc else _array(enc["f64"], "<f8")
    if "indices" in enc:
        return SparseVec(_array(enc["indices"], "<u4").tolist(), a.tolist())
    return a.reshape(enc["rows"], -1) if "rows" in enc else a.tolist()  # as read: float64 stays float64


def _array(text: str, dtype: str) -> np.ndarray[Any, Any]:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


class Writer:
    """Writes a snapshot to ``<path>.partial``; `finish` renames it to `path`, `close` without
    `finish` removes it."""

    def __init__(self, path: str, manifest: Manifest) -> None:
        self.path, self.partial = path, f"{path}.partial"
        self.fh: IO[bytes] = open(self.partial, "wb")  # noqa: SIM115 - closed by finish / close
        self.digest = hashlib.sha256()
        self.points = 0
        self.done = False  # renamed into place
        self._put(MAGIC + _manifest_json(manifest))

    def _put(self, data: bytes) -> None:
        self.digest.update(data)
        self.fh.write(data)

    def write(self, page: list[Found], shard: str | None = None) -> None:
        """The points of `page`, read from shard key `shard` (None: not sharded)."""
        key = {"shard": shard} if shard is not None else {}
        lines = [json.dumps({"id": f.id, "payload": f.payload,
                             "vectors": {k: _vector(v) for k, v in (f.vectors or {}).items()}, **key}).encode()
                 for f in page]
        self._put(b"".join(line + b"\n" for line in lines))
        self.points += len(page)

    def finish(self) -> dict[str, int]:
        self.fh.write(END + json.dumps({"points": self.points, "sha256": self.digest.hexdigest()}).encode() + b"\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.partial, self.path)
        self.done = True
        return {"points": self.points, "bytes": os.path.getsize(self.path)}

    def close(self) -> None:
        """After an error (finish's rename included): the partial file removed."""
        if not self.fh.closed:
            self.fh.close()
        if not self.done and os.path.exists(self.partial):
            os.remove(self.partial)


def check(path: str) -> Manifest:
    """The file's manifest, once the whole file is read and found whole: the magic line, the
    end line last, the points counted and the checksum, then the format and a signature.
    Refuses anything else, naming the file."""
    with _Lines(path) as lines:
        manifest = next(lines, b"")
        for points, line in enumerate(lines):
            if lines.ended:
                if next(lines, None) is None:
                    _matches(lines, line, points)
                    found = _decoded(path, lambda: _manifest_of(manifest, path))
                    return dataclasses.replace(found, points=points)
                break  # something after the end line
    raise InvalidInputError(f"{path}: the snapshot is truncated (its end line is missing or not last): "
                            "nothing restored; use a complete copy of the file")


class _Lines:
    """A snapshot's lines after the magic line, with a running sha256 of every line before
    the end line (`ended` once it is read)."""

    def __init__(self, path: str) -> None:
        self.path, self.digest, self.ended = path, hashlib.sha256(), False
        self.fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed on leaving `with`
        first = self.fh.readline(len(MAGIC))
        if first != MAGIC:
            self.fh.close()
            raise InvalidInputError(f"{path}: not a hybridstore snapshot (it does not start with "
                                    f"{MAGIC.strip().decode()}); nothing restored")
        self.digest.update(first)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

    def __next__(self) -> bytes:
        line = self.fh.readline()
        if not line:
            raise StopIteration
        self.ended = self.ended or line.startswith(END)
        if not self.ended:
            self.digest.update(line)
        return line


def _matches(lines: _Lines, end_line: bytes, points: int) -> None:
    end = _decoded(lines.path, lambda: json.loads(end_line[len(END):]))
    if not isinstance(end, dict) or end.get("sha256") != lines.digest.hexdigest() or end.get("points") != points:
        raise InvalidInputError(f"{lines.path}: the snapshot's checksum does not match its content (the "
                                "file is damaged or was edited): nothing restored; use another copy")


def _decoded(path: str, parse: Callable[[], T]) -> T:
    """`parse()`; a line that is not what this format writes is a damaged file (the checksum
    matched: one written so by another tool)."""
    try:
        return parse()
    except HybridStoreError:
        raise  # refused by name already (a format version, no signature)
    except (ValueError, KeyError, TypeError) as e:  # JSON, UTF-8 or fields not as written
        raise InvalidInputError(f"{path}: the snapshot is damaged ({type(e).__name__}: {e}): nothing "
                                "restored; use another copy") from None


Page = tuple[str | None, list[Point]]  # points of one shard key (None: not sharded)


def read(path: str, manifest: Manifest, size: int) -> Generator[Page, None, None]:
    """The file's points in pages of up to `size`, each of one shard key, checked again as they
    are read (the file may have changed since `check`): a mismatch raises after the last page."""
    with _Lines(path) as lines:
        next(lines)  # the manifest
        page: list[Point] = []
        shard: str | None = None
        for points, line in enumerate(lines):
            if lines.ended:
                if page:
                    yield shard, page
                _matches(lines, line, points)
                if points != manifest.points:
                    raise InvalidInputError(f"{path}: the snapshot changed while it was restored; restore again")
                return
            doc = json.loads(line)
            if page and (len(page) == size or doc.get("shard") != shard):
                yield shard, page
                page = []
            shard = doc.get("shard")
            page.append(Point(stored_id(doc["id"]), {k: _unvector(v) for k, v in doc["vectors"].items()}, doc["payload"]))
    raise InvalidInputError(f"{path}: the snapshot was cut short while it was restored; restore again")
