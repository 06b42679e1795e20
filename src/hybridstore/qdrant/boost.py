"""`search(boost=...)`: ranking by more than similarity, read into plain data before any I/O.

    boost={
        "recency": {"key": "published", "half_life": "30d"},   # x 0.5 per 30 days from now
        "match": [({"source": "official"}, 1.3)],              # x 1.3 where the filter matches
        "factor": "popularity",                                # x the record's number
    }

The final score is the search's score times each factor (docs/ranking.md). Recency: the
metadata key holds ISO datetimes (naive ones read as UTC) or, with "stored_as": "epoch_seconds",
numbers; "curve" is "exp" (default), "linear" (0 at twice the half-life) or "gauss"; "now"
fixes the origin (default: when the search is checked); "weight" w in (0, 1] keeps 1 - w of
the score whatever the age; "missing" is the factor of a record without the key (default 1:
left as its similarity ranks it). Factor: a key or {"key": ..., "missing": number} (default 1).
Each engine compiles `Boost` to its formula query (`engine.client_boost`, `engine.edge_boost`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import FilterError, InvalidInputError
from .filter_tree import Filter
from .filters import payload_path, to_filter

KEYS = ("recency", "match", "factor")
CURVES = ("exp", "linear", "gauss")
STORED_AS = ("datetime", "epoch_seconds")
_RECENCY_KEYS = ("key", "half_life", "curve", "now", "weight", "missing", "stored_as")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
EXAMPLE = ('{"recency": {"key": "published", "half_life": "30d"}, "match": [({"source": "official"}, 1.3)], '
           '"factor": "popularity"}')


@dataclass(frozen=True)
class Recency:
    path: str  # payload path of the key
    half_life: float  # seconds from `now` at which the factor is 0.5
    now: dt.datetime  # aware
    curve: str = "exp"
    epoch: bool = False  # the key holds seconds since the epoch, not ISO datetimes
    weight: float = 1.0
    missing: float = 1.0


@dataclass(frozen=True)
class Factor:
    path: str
    missing: float = 1.0


@dataclass(frozen=True)
class Boost:
    recency: Recency | None = None
    matches: tuple[tuple[Filter, float], ...] = ()
    factor: Factor | None = None


def read(spec: object, prefix: str = "metadata.", now: dt.datetime | None = None) -> Boost:
    """`spec` as given to search(boost=...), checked; `prefix`: where metadata keys live in the
    payload (the layout's); `now`: the recency origin unless the spec names one."""
    if isinstance(spec, Boost):
        return spec
    if not isinstance(spec, Mapping) or not spec:
        raise _error(f"boost takes a non-empty dict, got {spec!r}")
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        raise _error(f"unknown boost key(s) {unknown}; known: {', '.join(KEYS)}")
    out = Boost(
        recency=_recency(spec["recency"], prefix, now) if "recency" in spec else None,
        matches=_matches(spec["match"], prefix) if "match" in spec else (),
        factor=_factor(spec["factor"], prefix) if "factor" in spec else None,
    )
    if out.recency is not None and out.factor is not None and out.recency.path == out.factor.path:
        raise _error("recency and factor read the same key; a key holds either dates or numbers")
    return out


def _recency(spec: object, prefix: str, now: dt.datetime | None) -> Recency:
    if not isinstance(spec, Mapping) or "key" not in spec or "half_life" not in spec:
        raise _error(f"recency takes a dict with 'key' and 'half_life', e.g. {{'key': 'published', "
                     f"'half_life': '30d'}}; got {spec!r}")
    unknown = [k for k in spec if k not in _RECENCY_KEYS]
    if unknown:
        raise _error(f"unknown recency key(s) {unknown}; known: {', '.join(_RECENCY_KEYS)}")
    curve, stored_as = spec.get("curve", "exp"), spec.get("stored_as", "datetime")
    if curve not in CURVES:
        raise _error(f"recency curve {curve!r} is unknown; use one of {', '.join(CURVES)}")
    if stored_as not in STORED_AS:
        raise _error(f"recency stored_as {stored_as!r} is unknown; use one of {', '.join(STORED_AS)}")
    weight = _number("recency weight", spec.get("weight", 1.0))
    if not 0 < weight <= 1:
        raise _error(f"recency weight must be in (0, 1] (the share of the score that decays), got {weight!r}")
    missing = _number("recency missing", spec.get("missing", 1.0))
    if not 0 <= missing <= 1:
        raise _error(f"recency missing (the factor of a record without the key) must be in [0, 1], got {missing!r}")
    return Recency(_path(prefix, spec["key"], "recency key"), _seconds(spec["half_life"]),
                   _when(spec.get("now", now)), str(curve), stored_as == "epoch_seconds", weight, missing)


def _matches(spec: object, prefix: str) -> tuple[tuple[Filter, float], ...]:
    shape = "match takes a list of (filter dict, weight) pairs, e.g. [({'source': 'official'}, 1.3)]"
    if isinstance(spec, (str, bytes, Mapping)) or not isinstance(spec, (list, tuple)) or not spec:
        raise _error(f"{shape}; got {spec!r}")
    out = []
    for pair in spec:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], Mapping) or not pair[0]:
            raise _error(f"{shape}; got the item {pair!r}")
        weight = _number("a match weight", pair[1])
        if weight <= 0:
            raise _error(f"a match weight multiplies the score and must be > 0 (below 1 demotes), got {weight!r}")
        try:
            flt = to_filter(dict(pair[0]), prefix)
        except FilterError as e:
            raise FilterError(f"boost match {pair[0]!r}: {e}") from e
        assert flt is not None  # a non-empty dict
        out.append((flt, weight))
    return tuple(out)


def _factor(spec: object, prefix: str) -> Factor:
    if isinstance(spec, str):
        return Factor(_path(prefix, spec, "factor"))
    if isinstance(spec, Mapping) and "key" in spec and set(spec) <= {"key", "missing"}:
        return Factor(_path(prefix, spec["key"], "factor key"), _number("factor missing", spec.get("missing", 1.0)))
    raise _error(f"factor takes a metadata key or {{'key': ..., 'missing': number}}, got {spec!r}")


def _path(prefix: str, key: object, what: str) -> str:
    if not isinstance(key, str) or not key:
        raise _error(f"the {what} must be a non-empty metadata key, got {key!r}")
    try:
        return payload_path(prefix, key)
    except FilterError as e:
        raise FilterError(f"boost {what}: {e}") from e


def _number(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _error(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _seconds(value: object) -> float:
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value.strip())):
        seconds = float(m[1]) * _UNITS[m[2]]
    else:
        raise _error(f"half_life takes a duration like '30d', '12h', '90m', '2w' or a timedelta, got {value!r}")
    if seconds <= 0:
        raise _error(f"half_life must be above 0, got {value!r}")
    return seconds


def _when(value: Any) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) and _iso(value) else value
    if not isinstance(when, dt.datetime):
        raise _error(f"recency now takes a datetime or an ISO string, got {value!r}")
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _iso(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _error(message: str) -> InvalidInputError:
    return InvalidInputError(f"{message} (boost= reads e.g. {EXAMPLE}; docs/ranking.md)")


def at(now: dt.datetime) -> str:
    """A datetime as both engines read one (UTC, 'Z')."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
