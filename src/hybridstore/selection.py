"""Which records a call names: by ids, by filter, by source document, or by all of them at once
(AND), as one filter confined to the collection's tenant; and the point ids of record ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .collection import Collection
from .errors import InvalidInputError
from .qdrant import filters
from .qdrant.filter_tree import Filter
from .qdrant.layouts import ID


@dataclass(frozen=True)
class Selection:
    """ids, filter and doc_id as the caller gave them (checked by `selector`)."""

    ids: Sequence[str] | None = None
    filter: object = None  # a filter dict or a qdrant Filter (see `qdrant.filters.to_filter`)
    doc_id: str | Sequence[str] | None = None

    @property
    def empty(self) -> bool:
        return self.ids is None and self.filter is None and self.doc_id is None


def selector(col: Collection, where: Selection) -> Filter | None:
    """ids AND filter AND doc_id, as one Qdrant filter confined to the view's tenant (None:
    every record)."""
    return col.confine(_selected(col, where))


def deleted(col: Collection, where: Selection) -> Filter:
    """delete()'s selection: it must name some records (an empty filter names none, and is
    refused rather than read as every record)."""
    flt = None if where.empty else _selected(col, where)
    if flt is None:
        raise InvalidInputError("delete() needs ids=, filter= or doc_id= (use drop() to delete all)")
    return col.confine(flt)


def _selected(col: Collection, where: Selection) -> Filter | None:
    doc_id = where.doc_id
    doc_ids = [doc_id] if isinstance(doc_id, str) else doc_id
    if doc_ids is not None and (not doc_ids or not all(isinstance(d, str) for d in doc_ids)):
        raise InvalidInputError(f"doc_id must be a string or a list of strings, got {doc_id!r}")
    has_id = _id_filter(col, where.ids) if where.ids is not None else None
    return filters.and_filters(has_id, filters.to_filter(where.filter, col.layout.metadata_prefix),
                               filters.doc_id_filter(list(doc_ids)) if doc_ids else None)


def _id_filter(col: Collection, ids: Sequence[str]) -> Filter:
    """The points of these record ids: in a tenant's view its own; on the unscoped index of
    a collection of tenants, every tenant's (by the id each point stores) and those of no tenant."""
    pids = point_ids(col, ids)
    if not col.spans_tenants or not pids:
        return filters.has_ids(pids)
    if col.layout.name != "canonical":
        raise InvalidInputError(
            f"collection {col.name!r} keeps tenants apart (tenant_key={col.state.tenant_key!r}) and each "
            "tenant's ids are its own; the unscoped index cannot look ids up in the llama_index layout: use "
            "index.tenant(name).get(ids) / .delete(ids), or get(filter={...}) to find records")
    found: Filter = filters.any_of(filters.has_ids(pids), filters.field_in(ID, list(ids)))
    return found


def point_ids(col: Collection, ids: Sequence[str]) -> list[str]:
    if isinstance(ids, str) or not all(isinstance(i, str) and i for i in ids):
        raise InvalidInputError(f"ids must be a list of non-empty strings, got {ids!r}")
    return [col.pid(i) for i in ids]
