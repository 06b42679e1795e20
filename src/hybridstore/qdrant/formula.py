"""A `Boost` -> one engine-neutral formula: the expression tree both engines' formula queries
take (servers since Qdrant 1.14, Qdrant Edge, qdrant-client's local mode), and its defaults.

    $score x recency x match_1 x ... x factor

    recency   (1 - w) + w x (decay(age) + (missing - 1) x [key absent])
              the key's default is `now`, so an absent key decays by nothing (1) and the
              bracket turns that 1 into `missing`
    match     1 + (weight - 1) x [filter matches]
    factor    the key's number, `missing` where absent
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .boost import Boost, Recency, at
from .filter_tree import Filter, IsEmpty

SCORE = "$score"  # the score of the stage the boost wraps (its one prefetch)


@dataclass(frozen=True)
class Key:
    """A payload path holding a number (or SCORE), or with `datetime`, an ISO datetime."""
    path: str
    datetime: bool = False


@dataclass(frozen=True)
class Decay:
    curve: str  # boost.CURVES
    x: Expr
    target: Expr
    scale: float  # where the decay is at 0.5


@dataclass(frozen=True)
class Mult:
    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Sum:
    terms: tuple[Expr, ...]


Expr = float | dt.datetime | Key | Decay | Mult | Sum | Filter  # a Filter: 1 if met, else 0
MIDPOINT = 0.5  # decays are at 0.5 at their scale: the scale is the half-life


def formula(boost: Boost) -> tuple[Expr, dict[str, Any]]:
    """The boosted score and the defaults of the keys it reads (every key has one: a record
    lacking it is scored by the default, never dropped nor failed)."""
    terms: list[Expr] = [Key(SCORE)]
    defaults: dict[str, Any] = {}
    if boost.recency is not None:
        term, default = _recency(boost.recency)
        terms.append(term)
        defaults[boost.recency.path] = default
    terms += [Sum((1.0, Mult((weight - 1.0, flt)))) for flt, weight in boost.matches]
    if boost.factor is not None:
        terms.append(Key(boost.factor.path))
        defaults[boost.factor.path] = boost.factor.missing
    return Mult(tuple(terms)), defaults


def _recency(r: Recency) -> tuple[Expr, Any]:
    now: Expr = r.now.timestamp() if r.epoch else r.now
    decay: Expr = Decay(r.curve, Key(r.path, datetime=not r.epoch), now, r.half_life)
    if r.missing != 1.0:
        decay = Sum((decay, Mult((r.missing - 1.0, Filter(must=(IsEmpty(r.path),))))))
    if r.weight != 1.0:
        decay = Sum((1.0 - r.weight, Mult((r.weight, decay))))
    return decay, (r.now.timestamp() if r.epoch else at(r.now))
