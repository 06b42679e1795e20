"""Filters as plain data: which points a request selects, free of any engine's types.

`filters` builds them from filter dicts, `raw_filters` from a user's qdrant-client `Filter`; each
engine compiles them to its own objects (`engine.client_filters`, `engine.edge_filters`). Keys
are payload paths in Qdrant's syntax (`filters.payload_path`).

    Filter(must, should, must_not, min_should)   all of must, one of should (if any), none of must_not
    MinShould(conditions, min_count)             at least min_count of conditions
    Match(key, value)                            a string, integer or boolean (a bool matches bools only)
    MatchAny(key, values) / MatchExcept(...)     one of / none of the values (all strings or all integers)
    MatchText(key, text)                         full-text match
    Range(key, gt, gte, lt, lte)                 numbers
    DatetimeRange(key, gt, gte, lt, lte)         dates and datetimes
    IsEmpty(key) / IsNull(key)                   missing, null or [] / null
    HasId(ids) / HasVector(name)                 point ids / points holding the named vector
    Nested(key, filter)                          `filter` met by one object of the array at `key`
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from typing_extensions import TypeIs

Scalar = str | int | bool
When = dt.datetime | dt.date
Values = tuple[str, ...] | tuple[int, ...]  # all strings or all integers, as Qdrant takes them


@dataclass(frozen=True)
class Match:
    key: str
    value: Scalar


@dataclass(frozen=True)
class MatchAny:
    key: str
    values: Values


@dataclass(frozen=True)
class MatchExcept:
    key: str
    values: Values


@dataclass(frozen=True)
class MatchText:
    key: str
    text: str


@dataclass(frozen=True)
class Range:
    key: str
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class DatetimeRange:
    key: str
    gt: When | None = None
    gte: When | None = None
    lt: When | None = None
    lte: When | None = None


@dataclass(frozen=True)
class IsEmpty:
    key: str


@dataclass(frozen=True)
class IsNull:
    key: str


@dataclass(frozen=True)
class HasId:
    ids: tuple[str | int, ...]


@dataclass(frozen=True)
class HasVector:
    name: str


@dataclass(frozen=True)
class Nested:
    key: str
    filter: Filter


@dataclass(frozen=True)
class MinShould:
    conditions: tuple[Condition, ...]
    min_count: int


@dataclass(frozen=True)
class Filter:
    must: tuple[Condition, ...] = ()
    should: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()
    min_should: MinShould | None = None


Condition = (Match | MatchAny | MatchExcept | MatchText | Range | DatetimeRange | IsEmpty | IsNull | HasId
             | HasVector | Nested | Filter)


# Each branch below reads alike: it tells a type checker which of the two kinds it holds.
def values(items: Sequence[str] | Sequence[int]) -> Values:
    if _strings(items):
        return tuple(items)
    return tuple(items)


def listed(items: Values) -> list[str] | list[int]:
    """The values as the engines take them."""
    if _strings(items):
        return list(items)
    return list(items)


def _strings(items: Sequence[str] | Sequence[int]) -> TypeIs[Sequence[str]]:
    return all(isinstance(v, str) for v in items)
