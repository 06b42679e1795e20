"""Grouped search: at most `size` hits per group (a source document or a metadata value),
groups ordered by their best hit, each group's hits best first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..records import Hit
from .filters import key_parts, payload_path
from .layouts import DOC_ID


def key_path(group_by: str, metadata_prefix: str) -> str:
    """Where the group key lives in the payload."""
    return DOC_ID if group_by == DOC_ID else payload_path(metadata_prefix, group_by)


def record_key(hit: Hit, group_by: str) -> Any:
    """The hit's group key, or None when it has none (such hits join no group)."""
    if group_by == DOC_ID:
        return hit.record.doc_id
    value: Any = hit.record.metadata
    for name, marks in key_parts(group_by):  # the path the engine groups by natively
        if not isinstance(value, dict) or marks:  # array elements: not emulated
            return None
        value = value.get(name)
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def pick(hits: Sequence[Hit], group_by: str, k: int, size: int) -> tuple[list[Hit], bool]:
    """Group score-ordered `hits`; returns the flattened first `k` groups and whether `k`
    groups were complete (full, or closed by a lower-ranked hit of a later group)."""
    groups: dict[Any, list[Hit]] = {}
    for hit in hits:
        key = record_key(hit, group_by)
        if key is None:
            continue
        group = groups.setdefault(key, []) if key in groups or len(groups) < k else None
        if group is not None and len(group) < size:
            group.append(hit)
    enough = len(groups) == k and all(len(g) == size for g in groups.values())
    return [h for g in groups.values() for h in g], enough
