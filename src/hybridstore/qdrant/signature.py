"""The collection's record of what produced each named vector, and the rules that compare it
with the models an index is opened with (pure functions, no I/O).

Stored with the collection (edge: a file beside the shard's config; qdrant-client: the
collection's metadata) as ``{"version": 1, "vectors": {name: model signature}}``. A model
signature (see `inference.fingerprint`) is one of:

    {"source": "fastembed", "kind", "model", "dim", "modifier", "options", "fingerprint"}
    {"source": "external", "kind": "dense", "class", "model" (or None), "dim"}
    {"source": "caller", "kind": "dense", "dim"}       vectors passed in with no model named

A collection of tenants also records its ``"tenant_key"`` (see `collection.tenant_key_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VERSION = 1
KEY = "hybridstore"  # the collection metadata key (qdrant-client engines)

Signature = dict[str, Any]
TENANT_KEY = "tenant_key"  # beside "vectors": the metadata key naming a record's tenant, if any


def collection_signature(vectors: Mapping[str, Signature]) -> Signature:
    return {"version": VERSION, "vectors": dict(vectors)}


def vectors_of(signature: Mapping[str, Any] | None) -> dict[str, Signature]:
    return dict((signature or {}).get("vectors") or {})


def caller(dim: int) -> Signature:
    return {"source": "caller", "kind": "dense", "dim": dim}


def label(entry: Signature) -> str:
    """One line naming a model signature, for messages and info()."""
    if entry.get("source") == "fastembed":
        extra = [f"dim={entry.get('dim')}" if entry.get("dim") else "",
                 f"modifier={entry.get('modifier')}" if entry.get("kind") == "sparse" else "",
                 f"options={entry['options']}" if entry.get("options") else "",
                 f"weights {entry['fingerprint']}" if entry.get("fingerprint") else ""]
        return f"{entry.get('model')!r} (fastembed {entry.get('kind')}, " + \
            ", ".join(e for e in extra if e) + ")"
    if entry.get("source") == "external":
        model = f" model={entry['model']!r}" if entry.get("model") else " (no model name)"
        return f"your {entry.get('class')}{model}, dim={entry.get('dim')}"
    return f"dense vectors passed in by the caller, dim={entry.get('dim')}"


def compare(stored: Signature, configured: Signature) -> tuple[str | None, bool]:
    """(what differs, or None; whether sameness could be verified)."""
    if stored.get("kind") != configured.get("kind"):
        return "another kind of model", True
    if stored.get("dim") and configured.get("dim") and stored["dim"] != configured["dim"]:
        return "another dimension", True
    if stored.get("source") != configured.get("source"):
        return "another kind of source", True
    source = stored.get("source")
    if source == "fastembed":
        return _compare_fastembed(stored, configured), True
    if source == "external":
        if stored.get("class") != configured.get("class"):
            return "another embedding class", True
        if stored.get("model") and configured.get("model"):
            return (None if stored["model"] == configured["model"] else "another model"), True
        return None, False  # same class, no model name: cannot tell
    return None, False  # caller vectors both times: the caller vouches for them


def _compare_fastembed(stored: Signature, configured: Signature) -> str | None:
    if stored.get("modifier") != configured.get("modifier"):
        return "another sparse modifier"
    if (stored.get("options") or {}) != (configured.get("options") or {}):
        return "other model options"
    if str(stored.get("text_model")).lower() != str(configured.get("text_model")).lower():
        return "another text model paired with the image model"
    a, b = stored.get("fingerprint"), configured.get("fingerprint")
    if a and b:
        if a == b:
            return None
        return "other weights under the same name" if stored.get("model") == configured.get("model") \
            else "another model"
    return None if str(stored.get("model")).lower() == str(configured.get("model")).lower() \
        else "another model"
