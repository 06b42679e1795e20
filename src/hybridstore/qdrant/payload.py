"""Records -> points (payload layouts live in `layouts`), id mapping, input checks."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from ..errors import InvalidInputError
from ..records import Record
from .layouts import CANONICAL

NAMESPACE = uuid.UUID("6f1d6c1e-6a6b-5c55-9b8e-3f7e0d1c2b4a")


class SparseVec(NamedTuple):
    indices: list[int]
    values: list[float]


@dataclass
class Point:
    id: str
    vectors: dict[str, Any]
    payload: dict[str, Any]


def point_id(record_id: str) -> str:
    """A UUID id is kept; any other string maps to a stable UUID5."""
    try:
        return str(uuid.UUID(record_id))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, record_id))


def plain_vector(kind: str, vector: Any) -> Any:
    """numpy / fastembed outputs -> JSON-able lists (engines take plain data)."""
    if kind == "sparse":
        if isinstance(vector, SparseVec):
            return vector
        return SparseVec(vector.indices.tolist(), vector.values.tolist())
    return vector.tolist() if hasattr(vector, "tolist") else list(vector)


def to_points(
    records: Sequence[Record], vectors: Mapping[str, Sequence[Any]], names: Mapping[str, str],
    layout: Any = CANONICAL, hashes: Sequence[str] | None = None,
) -> list[Point]:
    points = [
        Point(point_id(r.id),
              {names[kind]: plain_vector(kind, vs[i]) for kind, vs in vectors.items()},
              layout.to_payload(r))
        for i, r in enumerate(records)
    ]
    for point, digest in zip(points, hashes or (), strict=False):
        point.payload[layout.hash_key] = digest
    return points


def content_hash(record: Record, signature: str, dense: Any = None) -> str:
    """What decides a record's vectors: its content, the models, caller dense vectors."""
    digest = hashlib.sha256(json.dumps(
        [signature, record.text, record.metadata, record.doc_id, record.extras],
        sort_keys=True, ensure_ascii=False).encode())
    if dense is not None:
        digest.update(np.asarray(dense, dtype=np.float32).tobytes())
    return digest.hexdigest()


def validate_records(records: Sequence[Record]) -> None:
    """Refuse bad records before anything is embedded or written."""
    seen: dict[str, str] = {}
    for n, r in enumerate(records):
        if not isinstance(r, Record):
            raise InvalidInputError(f"item {n} is a {type(r).__name__}, not a hybridstore.Record")
        if not isinstance(r.id, str) or not r.id:
            raise InvalidInputError(f"record {n}: id must be a non-empty string, got {r.id!r}")
        if not isinstance(r.text, str):
            raise InvalidInputError(
                f"record {r.id!r}: text must be a str, got {type(r.text).__name__}; convert it first"
            )
        if not r.text.strip():
            raise InvalidInputError(
                f"record {r.id!r}: text is empty; empty texts cannot be embedded or retrieved, "
                "leave them out"
            )
        if r.doc_id is not None and not isinstance(r.doc_id, str):
            raise InvalidInputError(f"record {r.id!r}: doc_id must be a str or None")
        _check_json(r.id, "metadata", r.metadata, dict)
        if r.extras is not None:
            _check_json(r.id, "extras", r.extras, dict)
        pid = point_id(r.id)
        if pid in seen:
            raise InvalidInputError(
                f"duplicate id {r.id!r} in one call (same point as {seen[pid]!r}); "
                "ids must be unique per call"
            )
        seen[pid] = r.id


def _check_json(rid: str, what: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise InvalidInputError(f"record {rid!r}: {what} must be a dict, got {type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(
            f"record {rid!r}: {what} is not JSON-serialisable ({e}); store dates as ISO "
            "strings, bytes as base64, and no NaN/inf"
        ) from e


def check_dense(vectors: Sequence[Sequence[float]], count: int, size: int | None) -> int:
    """Caller-supplied dense vectors: one per record, one size, finite numbers."""
    if len(vectors) != count:
        raise InvalidInputError(f"got {len(vectors)} dense vectors for {count} records")
    vectors = [v for v in vectors if v is not None]  # None: the dense model embeds it
    sizes = {len(v) for v in vectors}
    if len(sizes) > 1:
        raise InvalidInputError(f"dense vectors have mixed sizes {sorted(sizes)}")
    got = sizes.pop() if sizes else size
    if size is not None and got != size:
        raise InvalidInputError(
            f"dense vectors have size {got}, the collection's dense vector has size {size}"
        )
    if any(not math.isfinite(float(x)) for v in vectors for x in v):
        raise InvalidInputError("dense vectors contain NaN or inf")
    return int(got)
