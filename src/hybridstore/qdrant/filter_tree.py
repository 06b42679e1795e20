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
    GeoRadius(key, center, meters)               a {"lat", "lon"} payload point within `meters` of center
    GeoBoundingBox(key, top_left, bottom_right)  ... inside the box (west > east: across the antimeridian)
    GeoPolygon(key, exterior, interiors)         ... inside the closed ring `exterior`, outside every hole
    ValuesCount(key, gt, gte, lt, lte)           how many values `key` holds (a list's length, 1 for one)
    GeoPoint(lon, lat)                           degrees, longitude first as in both engines' models

Geo nodes and counts check themselves when built, as Qdrant's server does, so every engine (and
local mode, which checks nothing) refuses the same malformed input with the same FilterError.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from typing_extensions import TypeIs

from ..errors import FilterError

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
class GeoPoint:
    lon: float
    lat: float

    def __post_init__(self) -> None:
        for name, value, bound in (("lat", self.lat, 90), ("lon", self.lon, 180)):
            if not _number(value) or not -bound <= value <= bound:
                raise FilterError(f"a geo point's {name} must be a number in [-{bound}, {bound}], got {value!r} "
                                  "(points are {'lat': latitude, 'lon': longitude} in degrees)")


@dataclass(frozen=True)
class GeoRadius:
    key: str
    center: GeoPoint
    meters: float

    def __post_init__(self) -> None:
        if not _number(self.meters) or self.meters < 0:
            raise FilterError(f"a geo radius on {self.key!r} must be a number of meters >= 0, got {self.meters!r}")


@dataclass(frozen=True)
class GeoBoundingBox:
    key: str
    top_left: GeoPoint
    bottom_right: GeoPoint

    def __post_init__(self) -> None:
        if self.top_left.lat < self.bottom_right.lat:
            raise FilterError(f"a geo bounding box on {self.key!r} has its top_left (lat {self.top_left.lat}) "
                              f"south of its bottom_right (lat {self.bottom_right.lat}); top_left is the "
                              "north-west corner")


@dataclass(frozen=True)
class GeoPolygon:
    key: str
    exterior: tuple[GeoPoint, ...]
    interiors: tuple[tuple[GeoPoint, ...], ...] = ()

    def __post_init__(self) -> None:
        for name, ring in (("exterior", self.exterior), *(("interior", r) for r in self.interiors)):
            where = f"a geo polygon's {name} ring on {self.key!r}"
            if len(ring) < 4:
                raise FilterError(f"{where} has {len(ring)} point(s); a ring needs at least 4, the last "
                                  "the same as the first")
            if ring[0] != ring[-1]:
                raise FilterError(f"{where} is not closed: its last point {ring[-1]} must be the same as "
                                  f"its first {ring[0]}")


@dataclass(frozen=True)
class ValuesCount:
    key: str
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

    def __post_init__(self) -> None:
        bounds = [b for b in (self.gt, self.gte, self.lt, self.lte) if b is not None]
        if not bounds or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in bounds):
            raise FilterError(f"a values count on {self.key!r} takes bounds (gt, gte, lt, lte) that are "
                              f"integers >= 0, at least one, got gt={self.gt!r} gte={self.gte!r} "
                              f"lt={self.lt!r} lte={self.lte!r}")


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
             | HasVector | Nested | GeoRadius | GeoBoundingBox | GeoPolygon | ValuesCount | Filter)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
