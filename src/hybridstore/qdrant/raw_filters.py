"""A raw qdrant-client `Filter` (a user's, as langchain-qdrant's users write them) read into our
`filter_tree`: the one place a user's client models are read; what has no node is refused by name."""

from __future__ import annotations

from uuid import UUID

from qdrant_client import models

from ..errors import FilterError
from . import filter_tree as tree

UNSUPPORTED_FIELD_PARTS = ("geo_bounding_box", "geo_radius", "geo_polygon", "values_count")


def to_tree(f: models.Filter) -> tree.Filter:
    ms = f.min_should
    return tree.Filter(must=_conditions(f.must), should=_conditions(f.should),
                       must_not=_conditions(f.must_not),
                       min_should=None if ms is None else tree.MinShould(_conditions(ms.conditions),
                                                                         ms.min_count))


def _conditions(items: list[models.Condition] | models.Condition | None) -> tuple[tree.Condition, ...]:
    if items is None:
        return ()
    return tuple(_condition(c) for c in (items if isinstance(items, list) else [items]))


def _condition(c: models.Condition) -> tree.Condition:
    if isinstance(c, models.Filter):
        return to_tree(c)
    if isinstance(c, models.FieldCondition):
        return _field(c)
    if isinstance(c, models.IsEmptyCondition):
        return tree.IsEmpty(c.is_empty.key)
    if isinstance(c, models.IsNullCondition):
        return tree.IsNull(c.is_null.key)
    if isinstance(c, models.HasIdCondition):
        return tree.HasId(tuple(str(i) if isinstance(i, UUID) else i for i in c.has_id))
    if isinstance(c, models.HasVectorCondition):
        return tree.HasVector(c.has_vector)
    if isinstance(c, models.NestedCondition):
        return tree.Nested(c.nested.key, to_tree(c.nested.filter))
    raise FilterError(f"hybridstore filters do not support a {type(c).__name__} filter condition; "
                      "use a filter dict, or conditions on payload keys, ids and vectors")


def _field(c: models.FieldCondition) -> tree.Condition:
    """Each part a condition of its own (Qdrant requires all of them)."""
    unsupported = [name for name in UNSUPPORTED_FIELD_PARTS if getattr(c, name) is not None]
    if unsupported:
        raise FilterError(f"hybridstore filters do not support geo / values_count conditions "
                          f"({', '.join(unsupported)} on {c.key!r}); filter on other payload keys")
    parts: list[tree.Condition] = []
    if c.match is not None:
        parts.append(_match(c.key, c.match))
    if isinstance(c.range, models.DatetimeRange):
        parts.append(tree.DatetimeRange(c.key, c.range.gt, c.range.gte, c.range.lt, c.range.lte))
    elif c.range is not None:
        parts.append(tree.Range(c.key, c.range.gt, c.range.gte, c.range.lt, c.range.lte))
    for flag, node in ((c.is_empty, tree.IsEmpty(c.key)), (c.is_null, tree.IsNull(c.key))):
        if flag is not None:
            parts.append(node if flag else tree.Filter(must_not=(node,)))
    if not parts:
        raise FilterError(f"a FieldCondition on {c.key!r} sets no condition: give it a match or a range")
    return parts[0] if len(parts) == 1 else tree.Filter(must=tuple(parts))


def _match(key: str, m: models.Match) -> tree.Condition:
    if isinstance(m, models.MatchValue):
        return tree.Match(key, m.value)
    if isinstance(m, models.MatchAny):
        return tree.MatchAny(key, tree.values(m.any))
    if isinstance(m, models.MatchExcept):
        return tree.MatchExcept(key, tree.values(m.except_))
    if isinstance(m, models.MatchText):
        return tree.MatchText(key, m.text)
    raise FilterError(f"hybridstore filters do not support a {type(m).__name__} match ({key!r}); "
                      "use MatchValue, MatchAny, MatchExcept or MatchText")
