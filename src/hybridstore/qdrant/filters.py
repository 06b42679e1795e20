"""One filter language for both frameworks, translated to a Qdrant filter before any I/O.

    {"year": {"$gte": 2020}, "genre": "scifi", "$or": [{...}, {...}], "$not": {...}}

Keys are metadata keys: dots reach into nested objects, a key holding dots itself is quoted
('"a.b"'), and other characters (spaces, colons...) need nothing. Field operators: $eq $ne $gt $gte
$lt $lte $in $nin $contains $all $text $exists $is_empty. Logical: $and $or $not.
A raw `qdrant_client.models.Filter` passes through unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from qdrant_client import models

from ..errors import FilterError
from .layouts import DOC_ID

FIELD_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$contains", "$all",
             "$text", "$exists", "$is_empty")
LOGICAL_OPS = ("$and", "$or", "$not")


def to_filter(spec: Any, prefix: str = "metadata.", paths: dict[str, str] | None = None) -> models.Filter | None:
    """`prefix`: where metadata keys live in the payload (the layout's metadata_prefix);
    `paths`: keys that live elsewhere (a LangChain document's "image": the image's source)."""
    if spec is None or isinstance(spec, models.Filter):
        return spec
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


def and_filters(*filters: models.Filter | None) -> models.Filter | None:
    parts = [f for f in filters if f is not None]
    if len(parts) <= 1:
        return parts[0] if parts else None
    return models.Filter(must=parts)


def doc_id_filter(doc_ids: list[str]) -> models.Filter:
    return field_in(DOC_ID, doc_ids)


def field_equals(key: str, value: str) -> models.Filter:
    return models.Filter(must=[models.FieldCondition(key=key, match=models.MatchValue(value=value))])


def has_ids(point_ids: list[str]) -> models.Filter:
    return models.Filter(must=[models.HasIdCondition(has_id=point_ids)])


def field_in(key: str, values: list[str]) -> models.Filter:
    """A payload field holding one of `values` (a path, not a metadata key)."""
    return models.Filter(must=[models.FieldCondition(key=key, match=models.MatchAny(any=values))])


def any_of(*filters: models.Filter) -> models.Filter:
    return models.Filter(should=list(filters))


def having_vector(name: str) -> models.Filter:
    return models.Filter(must=[models.HasVectorCondition(has_vector=name)])


def lacking_vector(name: str, except_ids: list[str] | None = None, layout: Any = None,
                   kind: str | None = None) -> models.Filter:
    """Points without the named vector (leaving out `except_ids`). With a `layout` (the
    collection stores images): of an image vector, only points with an image lack it; of a
    text vector, points that are an image alone do not."""
    must_not: list = [models.HasVectorCondition(has_vector=name)]
    if except_ids:
        must_not.append(models.HasIdCondition(has_id=except_ids))
    if layout is not None and kind == "image":
        must_not.append(models.IsEmptyCondition(is_empty=models.PayloadField(key=layout.image_key)))
    elif layout is not None:
        must_not.append(models.FieldCondition(key=layout.image_only_key, match=models.MatchValue(value=True)))
    return models.Filter(must_not=must_not)


def _node(spec: dict, prefix: str, paths: dict[str, str]) -> models.Filter:
    must: list = []
    must_not: list = []
    for key, value in spec.items():
        if not isinstance(key, str) or not key:
            raise FilterError(f"filter keys must be non-empty strings, got {key!r}")
        if key == "$and":
            must.extend(_node(s, prefix, paths) for s in _list_of_dicts(key, value))
        elif key == "$or":
            must.append(models.Filter(should=[_node(s, prefix, paths) for s in _list_of_dicts(key, value)]))
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
    return models.Filter(must=must or None, must_not=must_not or None)


def _is_ops(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and k.startswith("$") for k in value
    )


def _list_of_dicts(op: str, value: Any) -> list[dict]:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) and v for v in value):
        raise FilterError(f"{op} takes a non-empty list of filter dicts, got {value!r}")
    return value


def _field(path: str, key: str, op: str, arg: Any) -> tuple[list, list]:
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
        cond = _or_float(path, values, models.FieldCondition(key=path, match=models.MatchAny(any=values)))
        return ([cond], []) if op == "$in" else ([], [cond])
    if op == "$all":
        return [_equals(path, key, op, v) for v in _scalars(key, op, arg)], []
    if op == "$text":
        if not isinstance(arg, str) or not arg:
            raise FilterError(f"{key}: $text takes a non-empty string, got {arg!r}")
        return [models.FieldCondition(key=path, match=models.MatchText(text=arg))], []
    if op in ("$exists", "$is_empty"):
        if not isinstance(arg, bool):
            raise FilterError(f"{key}: {op} takes true or false, got {arg!r}")
        empty = models.IsEmptyCondition(is_empty=models.PayloadField(key=path))
        return ([empty], []) if arg == (op == "$is_empty") else ([], [empty])
    raise FilterError(f"{key}: unknown operator {op!r}; known: {', '.join(FIELD_OPS)}")


def _empty_list(path: str, op: str) -> tuple[list, list]:
    """An empty list, as in MongoDB: `$in` matches nothing (no value is in it), `$nin` and
    `$all` match every record. Nothing is written as a contradiction every engine reads alike."""
    if op != "$in":
        return [], []
    empty = models.IsEmptyCondition(is_empty=models.PayloadField(key=path))
    return [models.Filter(must=[empty], must_not=[empty])], []


def _or_float(path: str, values: list, match: Any) -> Any:
    """`match` of integers, or the same numbers stored as floats (2.0 from JSON), which an
    integer match never meets: an exact range each (floats are exact up to 2**53)."""
    exact = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and abs(v) <= 2**53]
    if not exact:
        return match
    return models.Filter(should=[match] + [models.FieldCondition(key=path, range=models.Range(gte=v, lte=v))
                                           for v in exact])


def _equals(path: str, key: str, op: str, arg: Any) -> Any:
    if isinstance(arg, (bool, int, str)):
        return _or_float(path, [arg], models.FieldCondition(key=path, match=models.MatchValue(value=arg)))
    if isinstance(arg, float):  # MatchValue has no floats; an exact range does the same
        return models.FieldCondition(key=path, range=models.Range(gte=arg, lte=arg))
    if arg is None:
        return models.IsNullCondition(is_null=models.PayloadField(key=path))
    raise FilterError(
        f"{key}: {op} compares with a string, number, boolean or None, got {type(arg).__name__}"
        + ("; use $in for a list of values" if isinstance(arg, (list, tuple, set)) else "")
    )


def _range(path: str, key: str, op: str, arg: Any) -> Any:
    bound = {op[1:]: arg}
    if isinstance(arg, (int, float)) and not isinstance(arg, bool):
        return models.FieldCondition(key=path, range=models.Range(**bound))
    if isinstance(arg, (dt.date, dt.datetime)) or (isinstance(arg, str) and _is_iso(arg)):
        return models.FieldCondition(key=path, range=models.DatetimeRange(**bound))
    raise FilterError(
        f"{key}: {op} needs a number or an ISO date/datetime, got {arg!r} ({type(arg).__name__})"
    )


def _is_iso(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _scalars(key: str, op: str, arg: Any) -> list:
    ok = isinstance(arg, (list, tuple, set)) and (
        all(isinstance(v, str) for v in arg)
        or all(isinstance(v, int) and not isinstance(v, bool) for v in arg)
    )
    if not ok:
        raise FilterError(
            f"{key}: {op} takes a list of strings or of integers (not mixed), got {arg!r}"
        )
    return list(arg)
