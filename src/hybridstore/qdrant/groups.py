"""Grouped search: at most `size` hits per group (a source document or a metadata value),
groups ordered by their best hit, each group's hits best first; a hit joins the groups of
its values as Qdrant reads them when it groups natively (each element of a list; strings and
integers only), so every engine answers alike."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..records import Hit
from .filters import key_parts, payload_path
from .layouts import DOC_ID

_MARK = re.compile(r"\[(\d*)\]")


def key_path(group_by: str, metadata_prefix: str) -> str:
    """Where the group key lives in the payload."""
    return DOC_ID if group_by == DOC_ID else payload_path(metadata_prefix, group_by)


def record_keys(hit: Hit, group_by: str) -> list[Any]:
    """The hit's group keys: the values at the path, a list's elements each, first seen first;
    none when a value is not a string or an integer (a server then leaves the point out of
    every group, a float, a bool, an object or null alike)."""
    if group_by == DOC_ID:
        values = [hit.record.doc_id]
    else:
        values = values_at(hit.record.metadata, key_parts(group_by))
    if any(type(v) not in (str, int) for v in values):
        return []
    return list(dict.fromkeys(values))


def values_at(data: Any, parts: list[tuple[str, str]]) -> list[Any]:
    """The values a payload path (`key_parts`) selects, as Qdrant selects them: ``[]`` every element,
    ``[n]`` one, and a list at the path's end its elements."""
    if not parts:
        return list(data) if isinstance(data, list) else [data]
    (name, marks), rest = parts[0], parts[1:]
    found = [data[name]] if isinstance(data, dict) and name in data else []
    for index in _MARK.findall(marks):
        found = [x for v in found if isinstance(v, list)
                 for x in (v if index == "" else v[int(index):int(index) + 1])]
    return [x for v in found for x in values_at(v, rest)]


def pick(hits: Sequence[Hit], group_by: str, k: int, size: int) -> tuple[list[Hit], bool]:
    """Group score-ordered `hits`; returns the flattened first `k` groups (a hit in several
    groups is in each) and whether `k` groups are full (else a deeper search may fill them)."""
    groups: dict[Any, list[Hit]] = {}
    for hit in hits:
        for key in record_keys(hit, group_by):
            group = groups.setdefault(key, []) if key in groups or len(groups) < k else None
            if group is not None and len(group) < size:
                group.append(hit)
    enough = len(groups) == k and all(len(g) == size for g in groups.values())
    return [h for g in groups.values() for h in g], enough
