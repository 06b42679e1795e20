"""Our filter tree (`qdrant.filter_tree`) -> Qdrant Edge's filter objects (no I/O here)."""

from __future__ import annotations

import warnings

import numpy as np
import qdrant_edge as edge

from ..qdrant import filter_tree as tree


def edge_filter(f: tree.Filter) -> edge.Filter:
    ms = f.min_should
    return edge.Filter(must=_conditions(f.must), should=_conditions(f.should),
                       must_not=_conditions(f.must_not),
                       min_should=None if ms is None else edge.MinShould(
                           [_condition(c) for c in ms.conditions], ms.min_count))


def _conditions(items: tuple[tree.Condition, ...]) -> list[edge.ConditionType] | None:
    return [_condition(c) for c in items] or None


def _condition(c: tree.Condition) -> edge.ConditionType:
    if isinstance(c, tree.Filter):
        return edge_filter(c)
    if isinstance(c, tree.Match):
        return edge.FieldCondition(c.key, match=_match_value(c.value))
    if isinstance(c, tree.MatchAny):
        return edge.FieldCondition(c.key, match=edge.MatchAny(tree.listed(c.values)))
    if isinstance(c, tree.MatchExcept):
        return edge.FieldCondition(c.key, match=edge.MatchExcept(tree.listed(c.values)))
    if isinstance(c, tree.MatchText):
        return edge.FieldCondition(c.key, match=edge.MatchText(c.text))
    if isinstance(c, tree.Range):
        return edge.FieldCondition(c.key, range=edge.RangeFloat(gt=c.gt, gte=c.gte, lt=c.lt, lte=c.lte))
    if isinstance(c, tree.DatetimeRange):
        return edge.FieldCondition(c.key, range=edge.RangeDateTime(
            gt=_iso(c.gt), gte=_iso(c.gte), lt=_iso(c.lt), lte=_iso(c.lte)))
    if isinstance(c, tree.IsEmpty):
        return edge.IsEmptyCondition(c.key)
    if isinstance(c, tree.IsNull):
        return edge.IsNullCondition(c.key)
    if isinstance(c, tree.HasId):
        return edge.HasIdCondition({*c.ids})
    if isinstance(c, tree.HasVector):
        return edge.HasVectorCondition(c.name)
    if isinstance(c, tree.Nested):
        return edge.NestedCondition(c.key, edge_filter(c.filter))
    raise TypeError(f"not a filter_tree node: {c!r}")


def _iso(when: tree.When | None) -> str | None:
    return None if when is None else when.isoformat()


def _match_value(value: tree.Scalar) -> edge.MatchValue:
    """edge reads a Python bool as the integer 1 (which matches no stored bool) and numpy's
    bool as a bool, unless numpy still lets its bool pass as an integer (numpy 1.x and early
    2.x, with a DeprecationWarning): made an error here, the binding reads it as a bool."""
    if not isinstance(value, bool):
        return edge.MatchValue(value)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "In future, it will be an error for 'np.bool", DeprecationWarning)
        return edge.MatchValue(np.bool_(value))  # type: ignore[arg-type]  # stubs omit numpy's bool, read as a bool
