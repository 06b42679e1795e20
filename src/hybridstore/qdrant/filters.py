"""One filter language for both frameworks, read into a filter tree before any I/O.

    {"year": {"$gte": 2020}, "genre": "scifi", "$or": [{...}, {...}], "$not": {...}}

Keys are metadata keys: dots reach into nested objects, a key holding dots itself is quoted
('"a.b"'), and other characters (spaces, colons...) need nothing. Field operators: $eq $ne $gt $gte
$lt $lte $in $nin $contains $all $text $exists $is_empty $count $geo_radius $geo_box $geo_polygon
(`SHAPES`). Logical: $and $or $not.
A raw `qdrant_client.models.Filter` is read into the same tree (`raw_filters`). The tree
(`filter_tree`) is plain data; each engine compiles it to its own objects.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeGuard

from qdrant_client import models

from ..errors import FilterError
from .filter_tree import (
    Condition,
    DatetimeRange,
    Filter,
    GeoBoundingBox,
    GeoPoint,
    GeoPolygon,
    GeoRadius,
    HasId,
    HasVector,
    IsEmpty,
    IsNull,
    Match,
    MatchAny,
    MatchText,
    Range,
    ValuesCount,
)
from .layouts import DOC_ID
from .raw_filters import to_tree
from .schema import OPTIONAL

FIELD_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$all",
             "$text", "$exists", "$is_empty", "$count", "$geo_radius", "$geo_box", "$geo_polygon")
_POINT = "{'lat': 52.5, 'lon': 13.4}"
SHAPES = {  # what the operators below take (points in degrees, in Qdrant's payload format)
    "$count": "an integer or bounds, e.g. {'$gte': 2} (a list's length, 1 for one value)",
    "$geo_radius": "{'lat': 52.5, 'lon': 13.4, 'meters': 1000}",
    "$geo_box": f"{{'top_left': {_POINT}, 'bottom_right': {_POINT}}}",
    "$geo_polygon": f"{{'exterior': [{_POINT}, ..., the first point again], 'interiors': [[...], ...]}}",
}
LOGICAL_OPS = ("$and", "$or", "$not")
BOUNDS = ("gt", "gte", "lt", "lte")  # the order of a range's bounds


def to_filter(spec: object, prefix: str = "metadata.",
              paths: dict[str, str] | None = None) -> Filter | None:
    """`prefix`: where metadata keys live in the payload (the layout's metadata_prefix);
    `paths`: keys that live elsewhere (a LangChain document's "image": the image's source)."""
    if spec is None or isinstance(spec, Filter):
        return spec
    if isinstance(spec, models.Filter):
        return to_tree(spec)
    if not isinstance(spec, dict):
        raise FilterError(
            f"filter must be a dict like {{'year': {{'$gte': 2020}}}} or a qdrant Filter, "
            f"got {type(spec).__name__}"
        )
    return _node(spec, prefix, paths or {}) if spec else None


# A part of a key path Qdrant reads unquoted; any other part is quoted for it. Parts: a quoted
# name or an unquoted one (no dots, quotes or brackets), each with optional array markers.
_PLAIN = re.compile(r"[\w-]+")
_PART = r'(?:"[^"]*"|[^".\[\]]+)(?:\[\d*\])*'
_PATH = re.compile(rf"{_PART}(?:\.{_PART})*")
_PARTS = re.compile(r'("[^"]*"|[^".\[\]]+)((?:\[\d*\])*)')


def key_parts(key: str) -> list[tuple[str, str]]:
    """`key` read as a path: (name, array markers) per nested key, names unquoted."""
    if not _PATH.fullmatch(key):
        raise FilterError(
            f"metadata key {key!r} cannot be read as a path: dots separate nested keys, so no part "
            "may be empty, and a key holding dots is written quoted ('\"a.b\"'); a key may not "
            "contain a double quote")
    return [(name.strip('"'), marks) for name, marks in _PARTS.findall(key)]


def payload_path(prefix: str, key: str) -> str:
    """The payload path of metadata `key` under the layout's `prefix`, in Qdrant's syntax."""
    return prefix + ".".join((name if _PLAIN.fullmatch(name) else f'"{name}"') + marks
                             for name, marks in key_parts(key))


def and_filters(*filters: Filter | None) -> Filter | None:
    parts = [f for f in filters if f is not None]
    if len(parts) <= 1:
        return parts[0] if parts else None
    return Filter(must=tuple(parts))


def doc_id_filter(doc_ids: list[str]) -> Filter:
    return field_in(DOC_ID, doc_ids)


def field_equals(key: str, value: str) -> Filter:
    return Filter(must=(Match(key, value),))


def has_ids(point_ids: Sequence[str | int]) -> Filter:
    return Filter(must=(HasId(tuple(point_ids)),))


def field_in(key: str, values: list[str]) -> Filter:
    """A payload field holding one of `values` (a path, not a metadata key)."""
    return Filter(must=(MatchAny(key, tuple(values)),))


def any_of(*filters: Filter) -> Filter:
    """Any of `filters` (one alone is itself)."""
    return filters[0] if len(filters) == 1 else Filter(should=filters)


def having_vector(name: str) -> Filter:
    return Filter(must=(HasVector(name),))


class ImageKeys(Protocol):
    """Where a layout keeps a point's image source and its image-only mark."""
    image_key: str
    image_only_key: str


def lacking_vector(name: str, except_ids: list[str] | None = None, layout: ImageKeys | None = None,
                   kind: str | None = None) -> Filter:
    """Points without the named vector (leaving out `except_ids`). With a `layout` (the
    collection stores images): of a vector made from the image (an image or page vector), only
    points with an image lack it; of a text vector, points that are an image alone do not."""
    must_not: list[Condition] = [HasVector(name)]
    if except_ids:
        must_not.append(HasId(tuple(except_ids)))
    if layout is not None and kind in OPTIONAL:
        must_not.append(IsEmpty(layout.image_key))
    elif layout is not None:
        must_not.append(Match(layout.image_only_key, True))
    return Filter(must_not=tuple(must_not))


Parts = tuple[list[Condition], list[Condition]]  # (must, must_not)


def _node(spec: dict[Any, Any], prefix: str, paths: dict[str, str]) -> Filter:
    must: list[Condition] = []
    must_not: list[Condition] = []
    for key, value in spec.items():
        if not isinstance(key, str) or not key:
            raise FilterError(f"filter keys must be non-empty strings, got {key!r}")
        if key == "$and":
            must.extend(_node(s, prefix, paths) for s in _list_of_dicts(key, value))
        elif key == "$or":
            must.append(Filter(should=tuple(_node(s, prefix, paths) for s in _list_of_dicts(key, value))))
        elif key == "$not":
            if not isinstance(value, dict) or not value:
                raise FilterError("$not takes a non-empty filter dict, e.g. {'$not': {'a': 1}}")
            must_not.append(_node(value, prefix, paths))
        elif key.startswith("$"):
            raise FilterError(
                f"unknown logical operator {key!r}; use {', '.join(LOGICAL_OPS)} at this level "
                f"or put field operators under a key: {{'field': {{'$op': value}}}}"
            )
        else:
            ops = value if _is_ops(value) else {"$eq": value}
            for op, arg in ops.items():
                pos, neg = _field(paths.get(key) or payload_path(prefix, key), key, op, arg)
                must.extend(pos)
                must_not.extend(neg)
    return Filter(must=tuple(must), must_not=tuple(must_not))


def _is_ops(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and k.startswith("$") for k in value
    )


def _list_of_dicts(op: str, value: object) -> list[dict[Any, Any]]:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) and v for v in value):
        raise FilterError(f"{op} takes a non-empty list of filter dicts, got {value!r}")
    return value


def _field(path: str, key: str, op: str, arg: object) -> Parts:
    if op in ("$eq", "$contains"):
        return [_equals(path, key, op, arg)], []
    if op == "$ne":
        return [], [_equals(path, key, op, arg)]
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return [_range(path, key, op, arg)], []
    if op in ("$in", "$nin", "$all") and isinstance(arg, (list, tuple, set)) and not arg:
        return _empty_list(path, op)
    if op in ("$in", "$nin"):
        values = _scalars(key, op, arg)
        cond = _or_float(path, values, MatchAny(path, values))
        return ([cond], []) if op == "$in" else ([], [cond])
    if op == "$all":
        return [_equals(path, key, op, v) for v in _scalars(key, op, arg)], []
    if op == "$text":
        if not isinstance(arg, str) or not arg:
            raise FilterError(f"{key}: $text takes a non-empty string, got {arg!r}")
        return [MatchText(path, arg)], []
    if op in ("$exists", "$is_empty"):
        if not isinstance(arg, bool):
            raise FilterError(f"{key}: {op} takes true or false, got {arg!r}")
        empty = IsEmpty(path)
        return ([empty], []) if arg == (op == "$is_empty") else ([], [empty])
    if op in SHAPES:
        return [_shaped(path, key, op, arg)], []
    raise FilterError(f"{key}: unknown operator {op!r}; known: {', '.join(FIELD_OPS)}")


def _shaped(path: str, key: str, op: str, arg: object) -> Condition:
    """$count and the geo operators: a tree node, which checks its numbers itself."""
    if op == "$count" and isinstance(arg, int) and not isinstance(arg, bool):
        return ValuesCount(path, gte=arg, lte=arg)
    if op == "$count" and isinstance(arg, dict) and arg and set(arg) <= {"$gt", "$gte", "$lt", "$lte"}:
        return ValuesCount(path, **{str(bound)[1:]: n for bound, n in arg.items()})
    if op == "$geo_radius" and _has(arg, "lat", "lon", "meters"):
        return GeoRadius(path, _point(arg), arg["meters"])
    if op == "$geo_box" and _has(arg, "top_left", "bottom_right") and all(_has(arg[c], "lat", "lon") for c in arg):
        return GeoBoundingBox(path, _point(arg["top_left"]), _point(arg["bottom_right"]))
    if op == "$geo_polygon" and _has(arg, "exterior", optional="interiors"):
        interiors = arg.get("interiors", [])
        if _points(arg["exterior"]) and isinstance(interiors, list) and all(_points(r) for r in interiors):
            return GeoPolygon(path, _ring(arg["exterior"]), tuple(_ring(r) for r in interiors))
    raise FilterError(f"{key}: {op} takes {SHAPES[op]}, got {arg!r}")


def _has(arg: object, *keys: str, optional: str = "") -> TypeGuard[dict[str, Any]]:
    return isinstance(arg, dict) and set(keys) <= set(arg) <= {*keys, optional}


def _points(ring: object) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(ring, list) and all(_has(p, "lat", "lon") for p in ring)


def _point(p: dict[str, Any]) -> GeoPoint:
    return GeoPoint(p["lon"], p["lat"])


def _ring(points: list[dict[str, Any]]) -> tuple[GeoPoint, ...]:
    return tuple(_point(p) for p in points)


def _empty_list(path: str, op: str) -> Parts:
    """An empty list, as in MongoDB: `$in` matches nothing (no value is in it), `$nin` and
    `$all` match every record. Nothing is written as a contradiction every engine reads alike."""
    if op != "$in":
        return [], []
    empty = IsEmpty(path)
    return [Filter(must=(empty,), must_not=(empty,))], []


def _or_float(path: str, values: Iterable[object], match: Condition) -> Condition:
    """`match` of integers, or the same numbers stored as floats (2.0 from JSON), which an
    integer match never meets: an exact range each (floats are exact up to 2**53)."""
    exact = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and abs(v) <= 2**53]
    if not exact:
        return match
    return Filter(should=(match, *(Range(path, gte=v, lte=v) for v in exact)))


def _equals(path: str, key: str, op: str, arg: object) -> Condition:
    if isinstance(arg, (bool, int, str)):
        return _or_float(path, [arg], Match(path, arg))
    if isinstance(arg, float):  # a match takes no floats; an exact range does the same
        return Range(path, gte=arg, lte=arg)
    if arg is None:
        return IsNull(path)
    raise FilterError(
        f"{key}: {op} compares with a string, number, boolean or None, got {type(arg).__name__}"
        + ("; use $in for a list of values" if isinstance(arg, (list, tuple, set)) else "")
    )


def _range(path: str, key: str, op: str, arg: object) -> Condition:
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return Range(path, *(arg if b == op[1:] else None for b in BOUNDS))
    when = arg if isinstance(arg, dt.date) else _iso(arg) if isinstance(arg, str) else None
    if when is not None:
        return DatetimeRange(path, *(when if b == op[1:] else None for b in BOUNDS))
    raise FilterError(
        f"{key}: {op} needs a number or an ISO date/datetime, got {arg!r} ({type(arg).__name__})"
    )


def _iso(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)  # with a "Z" too
    except ValueError:
        return None


def _scalars(key: str, op: str, arg: object) -> tuple[str, ...] | tuple[int, ...]:
    if isinstance(arg, (list, tuple, set)):
        if all(isinstance(v, str) for v in arg):
            return tuple(str(v) for v in arg)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in arg):
            return tuple(int(v) for v in arg)
    raise FilterError(
        f"{key}: {op} takes a list of strings or of integers (not mixed), got {arg!r}"
    )
