"""Scoring for the fake server (`FakeQdrant(scoring=True)`): its queries answered with scores,
by qdrant-client's local mode (its own Python implementation of Qdrant's query semantics:
nearest by each distance, sparse IDF, MaxSim, RRF, DBSF, formulas, groups, every filter
condition) over a copy of the fake's points; counts, scrolls and deletes by filter select by it too. So a request the server path builds (prefetch limits, id-confined filters,
per-term queries) is answered as a server would rank it, after a JSON round trip, and a
test can recompute the engine's order from what it was told."""

from __future__ import annotations

import json

from qdrant_client import QdrantClient
from qdrant_client.http import models as m


class Scorer:
    def __init__(self) -> None:
        self._copies: dict[str, tuple[str, QdrantClient]] = {}  # collection -> (its state, local copy)

    def _copy(self, name: str, config: dict, pts: dict, state: int) -> QdrantClient:
        """A local collection holding `pts` (the fake's points) under `config` (the body that
        created the collection); made again only when the fake's store changed since."""
        key = json.dumps([state, config, len(pts)], sort_keys=True, default=str)
        held = self._copies.get(name)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            held[1].close()
        made = m.CreateCollection(**config)
        local = QdrantClient(":memory:")
        local.create_collection(name, vectors_config=made.vectors, sparse_vectors_config=made.sparse_vectors)
        points = [m.PointStruct(id=_id(k), vector=p.get("vector") or {}, payload=p.get("payload") or {})
                  for k, p in pts.items()]
        if points:
            local.upsert(name, points)
        self._copies[name] = (key, local)
        return local

    def query(self, name: str, config: dict, pts: dict, state: int, body: dict) -> dict:
        r = m.QueryRequest(**body)
        found = self._copy(name, config, pts, state).query_points(
            name, query=r.query, using=r.using, prefetch=r.prefetch, query_filter=r.filter,
            search_params=r.params, limit=r.limit or 10, offset=r.offset, score_threshold=r.score_threshold,
            with_payload=r.with_payload if r.with_payload is not None else False,
            with_vectors=r.with_vector or False)
        return found.model_dump(mode="json")

    def groups(self, name: str, config: dict, pts: dict, state: int, body: dict) -> dict:
        r = m.QueryGroupsRequest(**body)
        found = self._copy(name, config, pts, state).query_points_groups(
            name, group_by=r.group_by, query=r.query, using=r.using, prefetch=r.prefetch,
            query_filter=r.filter, search_params=r.params, limit=r.limit or 10, group_size=r.group_size or 3,
            score_threshold=r.score_threshold,
            with_payload=r.with_payload if r.with_payload is not None else False,
            with_vectors=r.with_vector or False)
        return found.model_dump(mode="json")

    def count(self, name: str, config: dict, pts: dict, state: int, body: dict) -> dict:
        r = m.CountRequest(**body)
        return self._copy(name, config, pts, state).count(name, count_filter=r.filter, exact=True).model_dump(mode="json")

    def matching(self, name: str, config: dict, pts: dict, state: int, flt: dict) -> set[str]:
        """The ids (as the fake keeps them) of the points `flt` selects."""
        found, _ = self._copy(name, config, pts, state).scroll(name, scroll_filter=m.Filter(**flt), limit=len(pts) + 1,
                                                               with_payload=False)
        return {str(p.id) for p in found}

    def close(self) -> None:
        for _, local in self._copies.values():
            local.close()
        self._copies.clear()


def _id(key: str) -> int | str:
    return int(key) if key.isdigit() else key
