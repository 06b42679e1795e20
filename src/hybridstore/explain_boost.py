"""A boost's share of an explained score (`search(boost=..., explain=True)`, `why_not`).

The boosted score is the score of the stage the boost wraps (the fused or reranked score)
times each factor (`qdrant.formula`). Each factor is recomputed here from the record's stored
payload (recency's decay of the stored date or number, the numeric key's value); whether a
match condition holds is asked of the engine (its own filter semantics, one scroll per match).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .boosting import stored_value
from .engine.requests import Found, scroll
from .errors import InvalidInputError
from .qdrant.boost import Boost, Recency
from .qdrant.filter_tree import Filter, HasId
from .qdrant.filters import and_filters
from .qdrant.formula import MIDPOINT
from .steps import Steps


@dataclass(frozen=True)
class BoostFactor:
    kind: str  # "recency", "match" or "factor"
    key: str  # the payload path read; a match: its filter
    value: Any  # the stored value (None: absent); a match: None
    factor: float  # what the score is multiplied by
    applied: bool | None = None  # a match: whether the record meets the filter


@dataclass(frozen=True)
class BoostShare:
    before: float  # the score of the stage the boost wraps (fused, reranked or the branch's)
    rank_before: int  # 1-based among that stage's candidates (0: not one)
    factors: tuple[BoostFactor, ...]
    score: float  # before x every factor, computed here (the engine's boosted score)

    @property
    def multiplier(self) -> float:
        return math.prod(f.factor for f in self.factors)


def boost_shares(boost: Boost, flt: Filter | None, ids: Sequence[str],
           source: Sequence[Found]) -> Steps[dict[str, BoostShare]]:
    """Steps: per id, the boost's factors from its stored payload; `source`: the ranking of the
    stage the boost wraps (scores before the boost)."""
    if not ids:
        return {}
    only = and_filters(flt, Filter(must=(HasId(tuple(ids)),)))
    stored = yield from scroll(only, len(ids))
    payloads = {f.id: f.payload for f in stored}
    met: list[set[str]] = []
    for condition, _ in boost.matches:
        found = yield from scroll(and_filters(only, condition), len(ids))
        met.append({f.id for f in found})
    ranked = {f.id: (r, f.score) for r, f in enumerate(source, 1)}
    out = {}
    for pid in ids:
        payload = payloads.get(pid, {})
        factors = []
        if boost.recency is not None:
            value = stored_value(payload, boost.recency.path)
            factors.append(BoostFactor("recency", boost.recency.path, value, recency_factor(boost.recency, value)))
        for (condition, weight), ids_met in zip(boost.matches, met, strict=True):
            hit = pid in ids_met
            factors.append(BoostFactor("match", repr(condition), None, weight if hit else 1.0, hit))
        if boost.factor is not None:
            value = stored_value(payload, boost.factor.path)
            factors.append(BoostFactor("factor", boost.factor.path, value,
                                       boost.factor.missing if value is None else _number(value)))
        rank, before = ranked.get(pid, (0, 0.0))
        out[pid] = BoostShare(before, rank, tuple(factors), before * math.prod(f.factor for f in factors))
    return out


def recency_factor(r: Recency, value: object) -> float:
    """(1 - weight) + weight x decay(|stored - now|), `missing` in place of the decay without a value."""
    if value is None:
        decayed = r.missing
    else:
        when = _number(value) if r.epoch else _datetime(value).timestamp()
        decayed = decay(r.curve, abs(when - r.now.timestamp()), r.half_life)
    return (1.0 - r.weight) + r.weight * decayed


def decay(curve: str, distance: float, scale: float) -> float:
    """Qdrant's decay functions, at MIDPOINT where `distance` is `scale`."""
    if curve == "exp":
        return math.exp(math.log(MIDPOINT) * distance / scale)
    if curve == "linear":
        return max(0.0, 1.0 - (1.0 - MIDPOINT) * distance / scale)
    return math.exp(math.log(MIDPOINT) * (distance / scale) ** 2)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # the engine fails such a search first
        raise InvalidInputError(f"boost reads a number, the record holds {value!r}")
    return float(value)


def _datetime(value: object) -> dt.datetime:
    when = dt.datetime.fromisoformat(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


