"""Our filter tree (`qdrant.filter_tree`) -> qdrant-client's filter models (no I/O here)."""

from __future__ import annotations

from qdrant_client import models

from ..qdrant import filter_tree as tree


def client_filter(f: tree.Filter) -> models.Filter:
    ms = f.min_should
    return models.Filter(must=_conditions(f.must), should=_conditions(f.should),
                         must_not=_conditions(f.must_not),
                         min_should=None if ms is None else models.MinShould(
                             conditions=[_condition(c) for c in ms.conditions], min_count=ms.min_count))


def _conditions(items: tuple[tree.Condition, ...]) -> list[models.Condition] | None:
    return [_condition(c) for c in items] or None


def _condition(c: tree.Condition) -> models.Condition:
    if isinstance(c, tree.Filter):
        return client_filter(c)
    if isinstance(c, tree.Match):
        return models.FieldCondition(key=c.key, match=models.MatchValue(value=c.value))
    if isinstance(c, tree.MatchAny):
        return models.FieldCondition(key=c.key, match=models.MatchAny(any=tree.listed(c.values)))
    if isinstance(c, tree.MatchExcept):
        return models.FieldCondition(key=c.key, match=models.MatchExcept(**{"except": tree.listed(c.values)}))
    if isinstance(c, tree.MatchText):
        return models.FieldCondition(key=c.key, match=models.MatchText(text=c.text))
    if isinstance(c, tree.Range):
        return models.FieldCondition(key=c.key, range=models.Range(gt=c.gt, gte=c.gte, lt=c.lt, lte=c.lte))
    if isinstance(c, tree.DatetimeRange):
        return models.FieldCondition(key=c.key, range=models.DatetimeRange(
            gt=c.gt, gte=c.gte, lt=c.lt, lte=c.lte))
    if isinstance(c, tree.IsEmpty):
        return models.IsEmptyCondition(is_empty=models.PayloadField(key=c.key))
    if isinstance(c, tree.IsNull):
        return models.IsNullCondition(is_null=models.PayloadField(key=c.key))
    if isinstance(c, tree.HasId):
        return models.HasIdCondition(has_id=[*c.ids])
    if isinstance(c, tree.HasVector):
        return models.HasVectorCondition(has_vector=c.name)
    if isinstance(c, tree.Nested):
        return models.NestedCondition(nested=models.Nested(key=c.key, filter=client_filter(c.filter)))
    raise TypeError(f"not a filter_tree node: {c!r}")
