"""Payload layouts: where a record's text, metadata and ids sit in a point's payload.

canonical (hybridstore, and what langchain-qdrant reads and writes):
    {"page_content": text, "metadata": {...}, "doc_id": ..., "id": caller's id, "node": {...}}
llama_index (llama-index-vector-stores-qdrant's layout):
    {**metadata, "_node_content": "<node JSON with text>", "_node_type": ...,
     "doc_id" / "document_id" / "ref_doc_id": ref doc id or "None"}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ..image_sources import source
from ..records import Record

CONTENT, METADATA, DOC_ID, ID, NODE = "page_content", "metadata", "doc_id", "id", "node"


class CanonicalLayout:
    name = "canonical"
    metadata_prefix = f"{METADATA}."
    hash_key = "hash"  # content hash for incremental indexing
    vector_hash_key = "vector_hash"  # what the vectors depend on: a change of the rest is payload only
    image_key = "image"  # the image's source (a path or a digest), never its bytes
    image_only_key = "image_only"  # true: no text, so no text vectors

    def to_payload(self, record: Record) -> dict[str, Any]:
        payload = {CONTENT: record.text, METADATA: record.metadata, DOC_ID: record.doc_id,
                   ID: record.id}
        if record.extras is not None:
            payload[NODE] = record.extras
        return {**payload, **image_keys(self, record)}

    def to_record(self, payload: Mapping[str, Any], pid: object) -> Record:
        return Record(id=str(payload.get(ID, pid)), text=payload.get(CONTENT, ""),
                      metadata=payload.get(METADATA) or {}, doc_id=payload.get(DOC_ID),
                      extras=payload.get(NODE), image=payload.get(self.image_key))


class LlamaIndexLayout:
    """Flat metadata beside a JSON copy of the whole node; the node's id is the point id."""

    name = "llama_index"
    metadata_prefix = ""
    hash_key = "_hybridstore_hash"
    vector_hash_key = "_hybridstore_vector_hash"
    image_key = "_hybridstore_image"
    image_only_key = "_hybridstore_image_only"
    RESERVED = ("_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id", hash_key, vector_hash_key,
                image_key, image_only_key)

    def to_payload(self, record: Record) -> dict[str, Any]:
        bad = [k for k in record.metadata if k in self.RESERVED]
        if bad:
            raise ConfigurationError(f"metadata keys {bad} are reserved in the llama_index layout")
        node = dict((record.extras or {}).get("node_dict") or {})
        node.update(id_=record.id, text=record.text, metadata=record.metadata, embedding=None)
        ref = record.doc_id or "None"
        return {**record.metadata, "_node_content": json.dumps(node, ensure_ascii=False),
                "_node_type": (record.extras or {}).get("class_name", "TextNode"),
                "document_id": ref, "doc_id": ref, "ref_doc_id": ref, **image_keys(self, record)}

    def to_record(self, payload: Mapping[str, Any], pid: object) -> Record:
        node = json.loads(payload.get("_node_content") or "{}")
        ref = payload.get("doc_id")
        metadata = node.get("metadata")
        if metadata is None:
            metadata = {k: v for k, v in payload.items() if k not in self.RESERVED}
        return Record(id=str(node.get("id_") or pid), text=node.get("text") or "",
                      metadata=metadata, doc_id=None if ref in (None, "None") else ref,
                      extras={"node_dict": node, "class_name": payload.get("_node_type", "TextNode")},
                      image=payload.get(self.image_key))


def image_keys(layout: Layout, record: Record) -> dict[str, Any]:
    """The image's source, and whether the record is an image alone (no text vectors)."""
    if record.image is None:
        return {}
    keys: dict[str, Any] = {layout.image_key: source(record.image)}
    if not record.text.strip():
        keys[layout.image_only_key] = True
    return keys


CANONICAL = CanonicalLayout()
Layout = CanonicalLayout | LlamaIndexLayout
LAYOUTS: dict[str, Layout] = {"canonical": CANONICAL, "llama_index": LlamaIndexLayout()}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except (KeyError, TypeError):  # TypeError: not a name at all (a list, a dict)
        raise ConfigurationError(
            f"payload layout {name!r} is unknown; use one of {', '.join(LAYOUTS)}"
        ) from None
