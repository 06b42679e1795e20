"""A boosted search that the engine failed: which stored values the boost could not read.

A boost reads metadata as numbers or datetimes (`qdrant.boost`); a record holding another type
there (a word, a list of several values) fails the whole query on every engine, Qdrant Edge
without saying why. The failed query is followed by a look for such records among those the
search selects, and the error names the key, the records and the fix.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Generator
from typing import Any, TypeVar

from .collection import Collection
from .engine.requests import Request, ask, scroll
from .errors import EngineError, InvalidInputError
from .qdrant.boost import Boost
from .qdrant.filter_tree import Condition, DatetimeRange, Filter, IsEmpty, Range, ValuesCount
from .qdrant.filters import and_filters

R = TypeVar("R")
_FIRST_DAY = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def ask_boosted(col: Collection, request: Request[R], boost: object,
                flt: Filter | None) -> Generator[Request[Any], Any, R]:
    """Steps: `request`'s result; if the engine fails it and `boost` reads a key some selected
    record holds as another type, an InvalidInputError that says so (else the engine's error)."""
    try:
        result = yield from ask(request)
    except EngineError as failed:
        if not isinstance(boost, Boost):
            raise
        for path, valid, wanted in _typed_keys(boost):
            found = yield from scroll(and_filters(flt, _misfit(path, valid)), 3)
            if found:
                ids = [col.layout.to_record(f.payload, f).id for f in found]
                raise InvalidInputError(
                    f"boost reads payload key {path!r} as {wanted}, but record(s) {ids} hold something else "
                    f"there (e.g. {stored_value(found[0].payload, path)!r}); store {wanted} there, or remove the "
                    "key (a record without it gets the boost's default)") from failed
        raise
    return result


def _typed_keys(boost: Boost) -> list[tuple[str, Condition, str]]:
    """(payload path, the condition a readable value meets, what it must be) per key read."""
    number = "one number"
    keys: list[tuple[str, Condition, str]] = []
    r = boost.recency
    if r is not None:
        keys.append((r.path, Range(r.path, gte=-sys.float_info.max), number) if r.epoch else
                    (r.path, DatetimeRange(r.path, gte=_FIRST_DAY), "one ISO datetime"))
    if boost.factor is not None:
        keys.append((boost.factor.path, Range(boost.factor.path, gte=-sys.float_info.max), number))
    return keys


def _misfit(path: str, valid: Condition) -> Filter:
    """Records holding `path` (not empty) with no readable value, or more than one value."""
    return Filter(must_not=(IsEmpty(path),), should=(Filter(must_not=(valid,)), ValuesCount(path, gt=1)))


def stored_value(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
