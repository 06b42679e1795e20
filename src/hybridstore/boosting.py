"""A boosted search that the engine failed: which stored values the boost could not read.

A boost reads metadata as numbers or datetimes (`qdrant.boost`); a record holding another type
there (a word, a list of several values) fails the whole query on every engine, Qdrant Edge
without saying why. The failed query is followed by a look for such records among those the
search selects, and the error names the key, the records and the fix.
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from typing import Any, TypeVar

from .collection import Collection
from .engine.requests import Count, Found, Request, ask, scroll
from .errors import BoostKeyWarning, EngineError, InvalidInputError
from .qdrant.boost import Boost
from .qdrant.filter_tree import Condition, DatetimeRange, Filter, IsEmpty, Range, ValuesCount
from .qdrant.filters import and_filters, key_parts
from .qdrant.groups import values_at
from .steps import Steps

R = TypeVar("R")
_FIRST_DAY = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def ask_boosted(col: Collection, request: Request[R], boost: object,
                flt: Filter | None) -> Steps[R]:
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
    if isinstance(boost, Boost) and isinstance(result, list):
        yield from _unread(boost, _found(result), flt)
    return result


def _found(result: list[Any]) -> list[Found]:
    """The points of a query's result, or of every query of a batch's."""
    return [f for part in result for f in (part if isinstance(part, list) else [part]) if isinstance(f, Found)]


def _unread(boost: Boost, hits: list[Found], flt: Filter | None) -> Steps[None]:
    """A key the boost reads that no record the search selects holds: said, since it then ranked
    nothing (each got the factor of a record without it), which is what a misspelt key looks
    like. Asked of the engine only where no hit holds it (a key held below the hits did rank)."""
    keys: list[tuple[str, float]] = []
    if boost.recency is not None:
        r = boost.recency
        keys.append((r.path, 1 - r.weight + r.weight * r.missing))
    if boost.factor is not None:
        keys.append((boost.factor.path, boost.factor.missing))
    for path, factor in keys:
        if not hits or any(values_at(f.payload, key_parts(path)) for f in hits):
            continue
        held = yield from ask(Count(and_filters(flt, Filter(must_not=(IsEmpty(path),)))))
        if not held:
            warnings.warn(BoostKeyWarning(
                f"boost reads metadata key {path!r}, which no record this search selects holds: each got the "
                f"factor of a record without it ({factor:g}), so the key ranked nothing. Check its spelling "
                "(search(..., explain=True) shows each hit's stored value)"), stacklevel=2)


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
    """The value at a payload path in Qdrant's syntax (`a.b`, `a."b.c"`); None where it has none
    (or the path has array marks, `a[]`, which this does not read)."""
    value: Any = payload
    for name, marks in key_parts(path):
        if marks:
            return None
        value = value.get(name) if isinstance(value, dict) else None
    return value
