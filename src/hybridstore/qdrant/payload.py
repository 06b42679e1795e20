"""Records -> points (payload layouts live in `layouts`), id mapping, content hashes, input checks."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, Protocol

import numpy as np

from .. import image_sources
from ..errors import InvalidInputError
from ..records import Record
from .layouts import CANONICAL, Layout
from .schema import multivector

NAMESPACE = uuid.UUID("6f1d6c1e-6a6b-5c55-9b8e-3f7e0d1c2b4a")


class SparseVec(NamedTuple):
    indices: list[int]
    values: list[float]


@dataclass
class Point:
    id: str | int  # a UUID string, or an unsigned integer (collections other tools wrote)
    vectors: dict[str, Any]
    payload: dict[str, Any]


def point_id(record_id: str) -> str:
    """A UUID id is kept; any other string maps to a stable UUID5."""
    try:
        return str(uuid.UUID(record_id))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, record_id))


def stored_id(found_id: str) -> int | str:
    """A point id read back (a string) as the engine keeps it: Qdrant ids are unsigned
    integers or UUIDs (a collection written by another tool may use integers)."""
    return int(found_id) if found_id.isdigit() else found_id


def tenant_point_id(tenant: str, record_id: str) -> str:
    """A record id within a tenant: two tenants' records with one id are two points."""
    return str(uuid.uuid5(NAMESPACE, f"tenant\x1f{tenant}\x1f{record_id}"))


def plain_vector(kind: str, vector: Any) -> Any:
    """numpy / fastembed outputs -> what engines take: lists, and float32 arrays for
    multivectors (as Python float lists a document's token vectors take 8x the memory; edge
    takes arrays, the client engine converts one request at a time)."""
    if kind == "sparse":
        if isinstance(vector, SparseVec):
            return vector
        return SparseVec(vector.indices.tolist(), vector.values.tolist())
    if multivector(kind):
        return np.asarray(vector, dtype=np.float32)
    return vector.tolist() if hasattr(vector, "tolist") else list(vector)


def to_points(
    records: Sequence[Record], vectors: Mapping[str, Sequence[Any]], names: Mapping[str, str],
    layout: Layout = CANONICAL, hashes: Sequence[Mapping[str, str]] | None = None,
    pid: Callable[[str], str] = point_id,
) -> list[Point]:
    points = [
        Point(pid(r.id),
              {names[kind]: plain_vector(kind, vs[i]) for kind, vs in vectors.items() if vs[i] is not None},
              layout.to_payload(r))
        for i, r in enumerate(records)
    ]
    for point, digests in zip(points, hashes or (), strict=False):
        point.payload.update(digests)
    return points


def content_hash(record: Record, signature: str, dense: Any = None) -> str:
    """What decides a record's vectors: its content, the models, caller dense vectors."""
    digest = hashlib.sha256(json.dumps(
        [signature, record.text, record.metadata, record.doc_id, record.extras, *_image(record, source=True)],
        sort_keys=True, ensure_ascii=False).encode())
    if dense is not None:
        digest.update(np.asarray(dense, dtype=np.float32).tobytes())
    return digest.hexdigest()


def vector_hash(record: Record, signature: str, dense: Any = None) -> str:
    """What decides a record's vectors alone: its text, the models, caller dense vectors (a
    record whose content hash changed but this did not needs a payload update, no embedding)."""
    digest = hashlib.sha256(json.dumps([signature, record.text, *_image(record)], ensure_ascii=False).encode())
    if dense is not None:
        digest.update(np.asarray(dense, dtype=np.float32).tobytes())
    return digest.hexdigest()


class Signed(Protocol):
    """What makes the vectors (`inference.Models`): a signature, with or without the image model."""

    def signature(self, image: bool = True) -> str: ...


def content_hashes(layout: Layout, models: Signed, records: Sequence[Record],
                   dense: Sequence[Any] | None = None) -> list[dict[str, str]]:
    """Each record's hashes under these models, as payload keys: of everything stored, and
    of what its vectors depend on (text, models, caller vectors)."""
    signatures = {True: models.signature(), False: models.signature(image=False)}
    out = []
    for i, r in enumerate(records):
        own, signature = dense[i] if dense is not None else None, signatures[r.image is not None]
        out.append({layout.hash_key: content_hash(r, signature, own),
                    layout.vector_hash_key: vector_hash(r, signature, own)})
    return out


def _image(record: Record, source: bool = False) -> list[str]:
    """An image's content digest (its vector's input), and with `source` where it is kept;
    nothing for records without one."""
    if record.image is None:
        return []
    return [image_sources.digest(record.image), *([image_sources.source(record.image)] if source else [])]


def rendered(records: list[Record]) -> list[Record]:
    """The records of one batch, their PDF pages rendered once for both their digest and their
    vectors (and dropped with the batch); a page whose file is gone stays as it is."""
    pages = [image_sources.page_of(r.image) for r in records]
    return [replace(r, image=p.rendered()) if p is not None and image_sources.rereadable(p) else r
            for r, p in zip(records, pages, strict=True)]


def validate_records(records: Sequence[Record]) -> None:
    """Refuse bad records before anything is embedded or written."""
    seen: dict[str, str] = {}
    for n, r in enumerate(records):
        if not isinstance(r, Record):
            raise InvalidInputError(f"item {n} is a {type(r).__name__}, not a hybridstore.Record")
        if not isinstance(r.id, str) or not r.id or not is_utf8(r.id):
            raise InvalidInputError(f"record {n}: id must be a non-empty string, got {r.id!r}")
        if not isinstance(r.text, str):
            raise InvalidInputError(
                f"record {r.id!r}: text must be a str, got {type(r.text).__name__}; convert it first"
            )
        if not is_utf8(r.text):
            raise InvalidInputError(
                f"record {r.id!r}: text is not valid Unicode (a lone surrogate); fix its encoding"
            )
        if r.image is not None:
            image_sources.check_image(f"record {r.id!r}", r.image)
        elif not r.text.strip():
            raise InvalidInputError(
                f"record {r.id!r}: text is empty; empty texts cannot be embedded or retrieved, "
                "leave them out"
            )
        if r.doc_id is not None and (not isinstance(r.doc_id, str) or not is_utf8(r.doc_id)):
            raise InvalidInputError(f"record {r.id!r}: doc_id must be a str (valid Unicode) or None")
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


MAX_DEPTH = 32  # nesting deeper than this is refused (JSON encoders recurse per level)
INT_RANGE = (-(2**63), 2**63 - 1)  # Qdrant payload integers are 64-bit


def _check_json(rid: str, what: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        raise InvalidInputError(f"record {rid!r}: {what} must be a dict, got {type(value).__name__}")
    problem = _json_problem(value, what, 0)
    if problem:
        raise InvalidInputError(f"record {rid!r}: {problem}")


def _json_problem(value: Any, path: str, depth: int) -> str | None:
    """What keeps `value` from round-tripping exactly through a JSON payload, or None."""
    if depth > MAX_DEPTH:
        return f"{path} is nested more than {MAX_DEPTH} levels deep; flatten it"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            return f"{path} = {value} does not fit a 64-bit integer; store it as a string"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} is {value}; NaN and inf cannot be stored, use None"
    if isinstance(value, str):
        return None if is_utf8(value) else f"{path} is not valid Unicode text (lone surrogate); fix its encoding"
    if isinstance(value, list):
        for i, item in enumerate(value):
            problem = _json_problem(item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not is_utf8(key):
                return f"{path} has the key {key!r}; keys must be valid Unicode strings"
            problem = _json_problem(item, f"{path}[{key!r}]", depth + 1)
            if problem:
                return problem
        return None
    hint = {"datetime": "store dates as ISO strings (d.isoformat()); range filters compare them",
            "date": "store dates as ISO strings (d.isoformat()); range filters compare them",
            "bytes": "store bytes as base64 text", "tuple": "use a list",
            "set": "use a sorted list"}.get(type(value).__name__, "use str, int, float, bool, None, list or dict")
    return f"{path} is a {type(value).__name__}, which cannot be stored as it is; {hint}"


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_dense(vectors: Sequence[Sequence[float] | None], count: int, size: int | None) -> int | None:
    """Caller-supplied dense vectors: one per record, one size, finite numbers; their size (None:
    the dense model embeds every record, and no size is known yet)."""
    if len(vectors) != count:
        raise InvalidInputError(f"got {len(vectors)} dense vectors for {count} records")
    given = [v for v in vectors if v is not None]  # None: the dense model embeds it
    sizes = {len(v) for v in given}
    if len(sizes) > 1:
        raise InvalidInputError(f"dense vectors have mixed sizes {sorted(sizes)}")
    got = sizes.pop() if sizes else size
    if size is not None and got != size:
        raise InvalidInputError(
            f"dense vectors have size {got}, the collection's dense vector has size {size}"
        )
    if given and not np.isfinite(np.asarray(given, dtype=float)).all():
        raise InvalidInputError("dense vectors contain NaN or inf")
    return None if got is None else int(got)
