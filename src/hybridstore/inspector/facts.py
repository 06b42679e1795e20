"""What the page shows of the collection, and the rule that keeps host paths off it: a string
that names a file outside the index folder is shown as its file name only ("…/name")."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import tools

if TYPE_CHECKING:
    from ..index import HybridIndex

SAMPLE = 500  # records read for the payload keys, their example values and the tenants
EXAMPLES = 3  # example values shown per key
SHOWN = 80  # characters of an example value
PATHS = re.compile(r"(?<![\w.:/~<])~?/[^\s'\"<>()\[\],;]+")  # an absolute or home path inside a text


class Hider:
    """Hides host paths: any absolute path not under `inside` (the index folder; None: a
    server, nothing is inside) becomes "…/" and its last part."""

    def __init__(self, inside: str | None) -> None:
        self.inside = os.path.realpath(inside) if inside is not None else None

    def path(self, found: str) -> str:
        real = os.path.realpath(os.path.expanduser(found))
        if self.inside is not None and (real == self.inside or real.startswith(self.inside + os.sep)):
            return os.path.relpath(real, self.inside)  # relative to the folder: no host path either
        return "…/" + os.path.basename(found.rstrip("/"))

    def text(self, text: str) -> str:
        return PATHS.sub(lambda m: self.path(m.group(0)), text)

    def value(self, value: object) -> object:
        """Every string of a JSON-like value, hidden (metadata, facts, messages)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


def overview(index: HybridIndex, hider: Hider) -> dict[str, Any]:
    """The collection (as the agent tool describes it, without host paths), payload keys with
    their types and example values, and the tenants (from a sample of SAMPLE records)."""
    facts: dict[str, Any] = json.loads(tools.collection_facts(index))
    records = index.get(limit=SAMPLE)
    keys: dict[str, dict[str, Any]] = {}
    for record in records:
        for key, value in record.metadata.items():
            entry = keys.setdefault(key, {"types": [], "examples": []})
            kind = tools.kind(value)
            if kind not in entry["types"]:
                entry["types"].append(kind)
            shown = json.dumps(value, ensure_ascii=False)
            shown = shown if len(shown) <= SHOWN else shown[:SHOWN - 1] + "…"
            if len(entry["examples"]) < EXAMPLES and shown not in entry["examples"]:
                entry["examples"].append(shown)
    facts["payload_keys"] = keys
    facts["sampled"] = len(records)
    facts["tenant_key"] = index.tenant_key
    facts["tenants"] = tenants(index, records) if index.tenant_key is not None else []
    hidden = hider.value(facts)
    assert isinstance(hidden, dict)
    return hidden


def tenants(index: HybridIndex, records: list[Any]) -> list[dict[str, Any]]:
    """The tenants seen in the sample, each with its record count (counted whole)."""
    key = index.tenant_key
    assert key is not None
    names = sorted({str(r.metadata[key]) for r in records if key in r.metadata})
    return [{"name": n, "count": index.count({key: n})} for n in names]
