"""Images for `HybridVectorStore`: records from image paths (LangChain's ``add_images``), and
where a document read back shows its image (``metadata["image"]``: the source)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from ..errors import InvalidInputError
from ..qdrant import filters
from ..records import Record

KEY = "image"  # metadata key of a document's image source


class Layout(Protocol):
    """Where a payload layout keeps the metadata and an image's source."""

    @property
    def metadata_prefix(self) -> str: ...

    @property
    def image_key(self) -> str: ...


def image_records(uris: Sequence[object], metadatas: Sequence[dict[str, Any] | None] | None,
                  ids: Sequence[str | None] | None, texts: Sequence[str | None] | None = None) -> list[Record]:
    """One record per image: its path as the image (and doc_id), no text unless given (a
    None caption is no text, as LangChain's ``add_images`` callers pass for uncaptioned ones)."""
    if isinstance(uris, (str, bytes)):
        raise InvalidInputError("uris must be a list of image paths, not one path")
    images = list(uris)
    given: tuple[tuple[str, Sequence[object] | None], ...] = (
        ("metadatas", metadatas), ("ids", ids), ("texts", texts))
    for name, values in given:
        if values is not None and len(values) != len(images):
            raise InvalidInputError(f"got {len(images)} images but {len(values)} {name}")
    out = []
    for i, uri in enumerate(images):
        metadata = dict((metadatas or [{}] * len(images))[i] or {})
        if KEY in metadata:
            raise InvalidInputError(f"metadata key {KEY!r} is where documents show their image's "
                                    "source; rename that key")
        rid = ids[i] if ids is not None else None
        text = texts[i] if texts is not None else None
        out.append(Record(str(uuid.uuid4()) if rid is None else rid, text or "", metadata,
                          doc_id=str(uri) if isinstance(uri, str) else None, image=uri))
    return out


def with_image(record: Record, images: bool) -> Record:
    """A document added back (as search returned it): its ``metadata["image"]`` is its image
    again, so the point keeps its image vector."""
    if not images or KEY not in record.metadata:
        return record
    metadata = dict(record.metadata)
    return replace(record, metadata=metadata, image=metadata.pop(KEY))


def shown(record: Record, images: bool) -> dict[str, Any]:
    """A document's metadata: the record's, with its image's source when it has one and the
    store has an image model (as filters and documents added back read that key)."""
    return record.metadata if record.image is None or not images else {**record.metadata, KEY: record.image}


def by_image(options: dict[str, Any]) -> dict[str, Any]:
    """Search options for an image query: the image vector unless a mode says otherwise."""
    return {"mode": "image", **options}


def image_filter(spec: object, images: bool, layout: Layout) -> object:
    """Documents show their image's source as ``metadata["image"]``, but it is kept beside the
    metadata: a filter on that key means the source (else it would match nothing, silently)."""
    if not images or not isinstance(spec, dict):
        return spec
    return filters.to_filter(spec, layout.metadata_prefix, {KEY: layout.image_key})
