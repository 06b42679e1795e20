"""The engine compilers, without I/O: every request type compiles on both engines, and the rules
they share (graph search width, RRF's k, merge writes, vector changes, grouping, filters) reach
each engine's own call as the core put them in the request."""

import numpy as np
import pytest
from qdrant_client import models as qm

from hybridstore import EngineError
from hybridstore.engine import client_compile, edge_compile, requests
from hybridstore.engine.client import ClientEngine
from hybridstore.engine.client_filters import client_filter
from hybridstore.qdrant.filters import to_filter
from hybridstore.qdrant.payload import Point, SparseVec
from hybridstore.qdrant.query import HNSW_EF, SearchRequest, build_plan, resolve
from hybridstore.qdrant.schema import VectorField, build_schema

KINDS = {"dense", "sparse", "late_interaction"}
NAMES = {"dense": "dense", "sparse": "sparse", "late_interaction": "late"}
VECTORS = {"dense": [0.1, 0.2], "sparse": SparseVec([1, 5], [0.5, 0.5]),
           "late_interaction": np.ones((3, 2), dtype=np.float32)}
ALL = {c for c in vars(requests).values()
       if isinstance(c, type) and issubclass(c, requests.Request) and c is not requests.Request}


def plan(k=5, flt=None, **options):
    return build_plan(resolve(SearchRequest(k=k, **options), KINDS), VECTORS, NAMES, flt)


def test_every_request_type_compiles_on_both_engines():
    from hybridstore.engine.edge_shards import EdgeShards

    on_folder = set(EdgeShards("unused")._on_folder)
    server_only = set(requests.SERVER_ONLY)
    own = {requests.Changes}  # the engine's own count of changes: no I/O, answered before the shards
    assert set(edge_compile.COMPILE) | on_folder | server_only | own == ALL
    assert not set(edge_compile.COMPILE) & on_folder
    assert set(client_compile.COMPILE) | {requests.GetSchema, requests.Optimize, requests.Changes} == ALL


def test_plans_carry_the_shared_search_rules():
    p = plan(k=5, mode="dense", rerank=False)
    assert p.root.hnsw_ef == HNSW_EF  # graph searches: the same beam on every engine
    assert plan(k=500, mode="dense", rerank=False).root.hnsw_ef == 500
    hybrid = plan(k=5, mode="hybrid", rerank=False, fusion="rrf")
    assert hybrid.root.rrf_k == 2 and all(s.hnsw_ef == HNSW_EF for s in hybrid.root.sources)
    reranked = plan(k=5)
    assert reranked.root.hnsw_ef is None  # a rerank of a prefetch searches no graph


def test_edge_compiles_plans_writes_and_vector_changes():
    name, _ = edge_compile.COMPILE[requests.Query](requests.Query(plan(mode="dense", rerank=False)))
    assert name == "query"
    stage = edge_compile._stage(plan(mode="hybrid", rerank=False, rrf_k=60).root, None)
    assert len(stage["prefetches"]) == 2 and stage["limit"] == 5  # fused to k, each source k * 4
    points = [Point("00000000-0000-0000-0000-000000000001", {"dense": [1.0, 0.0]}, {"a": 1})]
    assert edge_compile.COMPILE[requests.Write](requests.Write(points))[0] == "upsert"
    assert edge_compile.COMPILE[requests.Write](requests.Write(points, merge=True))[0] == "update_vectors"
    late = VectorField("late", "late_interaction", 2)
    assert edge_compile.change_vectors(requests.ChangeVectors(add=late))[0] == "add_vector"
    assert edge_compile.change_vectors(requests.ChangeVectors(drop="late"))[0] == "drop_vector"
    with pytest.raises(EngineError, match="does not group"):
        edge_compile.COMPILE[requests.Query](requests.Query(plan(), "doc_id", 2))


def test_both_engines_compile_the_filter_tree():
    """The tree reaches each engine whole (the top filter and every prefetch); each engine's
    compiler alone reads it (edge_filters, client_filters), and the client's models are the
    ones a raw qdrant-client filter would have written."""
    flt = to_filter({"flag": True, "n": {"$in": [1, 2]}, "when": {"$lt": "2025-01-01"}, "x": None})
    assert edge_compile._filter(None) is None and client_compile._filter(None) is None
    compiled = edge_compile._request(plan(mode="hybrid", rerank=False, flt=flt))
    assert compiled.filter is not None and all(p.filter is not None for p in compiled.prefetches)
    kwargs = client_compile.COMPILE[requests.Query]("c", requests.Query(plan(mode="hybrid", rerank=False, flt=flt)))[1]
    client = client_filter(flt)
    assert kwargs["query_filter"] == client and all(p.filter == client for p in kwargs["prefetch"])
    assert client.must[0] == qm.FieldCondition(key="metadata.flag", match=qm.MatchValue(value=True))
    assert client.must[1].should == [qm.FieldCondition(key="metadata.n", match=qm.MatchAny(any=[1, 2])),
                                     qm.FieldCondition(key="metadata.n", range=qm.Range(gte=1, lte=1)),
                                     qm.FieldCondition(key="metadata.n", range=qm.Range(gte=2, lte=2))]
    assert isinstance(client.must[2].range, qm.DatetimeRange)
    assert client.must[3] == qm.IsNullCondition(is_null=qm.PayloadField(key="metadata.x"))
    for request in (requests.Count(flt), requests.ScrollPage(flt), requests.Delete(flt)):
        _, kwargs, _ = client_compile.COMPILE[type(request)]("c", request)
        assert client in [kwargs.get("count_filter"), kwargs.get("scroll_filter"),
                          getattr(kwargs.get("points_selector"), "filter", None)]
        assert edge_compile.COMPILE[type(request)](request)[0] in ("count", "scroll", "delete")



def test_geo_and_values_count_compile_to_what_a_raw_filter_wrote():
    """A raw filter read into the tree comes back from the client compiler as the same models."""
    point, other = qm.GeoPoint(lon=13.4, lat=52.5), qm.GeoPoint(lon=15.0, lat=45.0)
    ring = qm.GeoLineString(points=[qm.GeoPoint(lon=0, lat=45), other, qm.GeoPoint(lon=15, lat=55),
                                    qm.GeoPoint(lon=0, lat=45)])
    raw = qm.Filter(must=[
        qm.FieldCondition(key="loc", geo_radius=qm.GeoRadius(center=point, radius=1000.0)),
        qm.FieldCondition(key="loc", geo_bounding_box=qm.GeoBoundingBox(top_left=point, bottom_right=other)),
        qm.FieldCondition(key="loc", geo_polygon=qm.GeoPolygon(exterior=ring, interiors=[ring])),
        qm.FieldCondition(key="loc", geo_polygon=qm.GeoPolygon(exterior=ring)),
        qm.FieldCondition(key="tags", values_count=qm.ValuesCount(gt=1, lte=3))])
    assert client_filter(to_filter(raw)) == raw
    compiled = edge_compile._filter(to_filter(raw))
    assert compiled is not None and len(compiled.must) == 5


def test_client_compiles_to_qdrant_client_calls():
    name, kwargs, _ = client_compile.COMPILE[requests.Query]("c", requests.Query(plan(mode="dense", rerank=False)))
    assert name == "query_points" and kwargs["search_params"] == qm.SearchParams(hnsw_ef=HNSW_EF)
    name, kwargs, _ = client_compile.COMPILE[requests.Query]("c", requests.Query(plan(), "doc_id", 3))
    assert name == "query_points_groups" and (kwargs["group_by"], kwargs["group_size"]) == ("doc_id", 3)
    rrf = client_compile._stage(plan(mode="hybrid", rerank=False, weights=(1.0, 0.5)).root, None)
    assert rrf["query"] == qm.RrfQuery(rrf=qm.Rrf(k=2, weights=[1.0, 0.5]))
    points = [Point("00000000-0000-0000-0000-000000000001", {"late": np.ones((2, 2), np.float32)}, {"h": "x"})]
    name, kwargs, _ = client_compile.COMPILE[requests.Write]("c", requests.Write(points, merge=True))
    assert name == "batch_update_points" and len(kwargs["update_operations"]) == 2
    name, kwargs, _ = client_compile.COMPILE[requests.Write]("c", requests.Write(points))
    assert name == "upsert" and kwargs["points"][0].vector["late"] == [[1.0, 1.0], [1.0, 1.0]]
    name, kwargs, _ = client_compile.COMPILE[requests.ChangeVectors]("c", requests.ChangeVectors(drop="late"))
    assert name == "delete_vector_name" and kwargs["vector_name"] == "late"


def test_client_create_carries_the_signature_and_the_unnamed_vector_alone():
    schema = build_schema({"dense": 4, "sparse": None}, {"sparse": "idf"}, {"dense": "", "sparse": "s"})
    signed = type(schema)(schema.fields, {"version": 1, "vectors": {}})
    name, kwargs, _ = client_compile.COMPILE[requests.Create]("c", requests.Create(signed))
    assert name == "create_collection" and isinstance(kwargs["vectors_config"], qm.VectorParams)
    assert kwargs["metadata"] == {"hybridstore": {"version": 1, "vectors": {}}}
    from hybridstore import ConfigurationError

    with pytest.raises(ConfigurationError, match="unnamed dense vector"):
        build_schema({"dense": 4, "late_interaction": 4}, {}, {"dense": "", "late_interaction": "late"})


def test_the_client_engine_skips_what_it_has_no_use_for():
    local = ClientEngine()
    assert local._compile("c", requests.Optimize()) == []  # servers index by themselves
    assert local._compile("c", requests.IndexPayload("metadata.x", "keyword")) == []  # local mode
    assert local._compile("c", requests.Count())[0][0] == "count"
    late = requests.ChangeVectors(add=VectorField("late", "late_interaction", 2))
    assert [op[0] for op in local._compile("c", late)] == ["create_vector_name"]  # no storage settings
    assert [op[0] for op in client_compile.COMPILE[requests.ChangeVectors]("c", late)] == \
        ["create_vector_name", "update_collection"]  # a server: then the vector's storage
    local.close()


def test_a_tenant_key_is_a_tenant_keyword_index_on_servers():
    name, kwargs, _ = client_compile.COMPILE[requests.IndexPayload]("c", requests.IndexPayload("metadata.tenant", "tenant"))
    assert name == "create_payload_index"
    assert kwargs["field_schema"] == qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True)
    assert edge_compile.COMPILE[requests.IndexPayload](requests.IndexPayload("metadata.tenant", "tenant"))[0] \
        == "create_field_index"


def test_a_geo_payload_index_on_servers():
    geo = client_compile.COMPILE[requests.IndexPayload]("c", requests.IndexPayload("metadata.loc", "geo"))[1]
    assert geo["field_schema"] == qm.PayloadSchemaType.GEO


BOOST = {"recency": {"key": "published", "half_life": "1d", "now": "2026-06-01T00:00:00+00:00", "missing": 0.5},
         "match": [({"source": "official"}, 1.5)], "factor": "popularity"}


def boosted_plan(**options):
    from hybridstore.qdrant.boost import read

    return plan(k=5, boost=read(BOOST), **options)


def test_a_boost_wraps_the_final_stage_and_its_candidates():
    from hybridstore.qdrant.query import Boosted

    p = boosted_plan()  # hybrid + rerank: the boost after the rerank, which would replace its scores
    assert isinstance(p.root, Boosted) and p.root.limit == 5
    rerank = p.root.source
    assert rerank.kind == "late_interaction" and rerank.limit == 20  # every candidate reaches the boost
    assert isinstance(boosted_plan(rerank=False, mode="dense").root.source, type(rerank)) and \
        boosted_plan(rerank=False, mode="dense").root.source.limit == 20


def test_client_compiles_a_boost_to_a_formula_query():
    stage = client_compile._stage(boosted_plan().root, None)
    query = stage["query"]
    assert isinstance(query, qm.FormulaQuery) and stage["limit"] == 5 and len(stage["prefetch"]) == 1
    score, recency, match, factor = query.formula.mult
    assert score == "$score" and factor == "metadata.popularity"
    decay, absent = recency.sum  # the decay, and (missing - 1) where the key is absent
    params = decay.exp_decay
    assert params.x == qm.DatetimeKeyExpression(datetime_key="metadata.published")
    assert params.target == qm.DatetimeExpression(datetime="2026-06-01T00:00:00.000000Z")
    assert (params.scale, params.midpoint) == (86400.0, 0.5)  # the half-life, in seconds
    assert absent.mult[0] == -0.5 and absent.mult[1].must[0].is_empty.key == "metadata.published"
    assert match.sum[0] == 1.0 and match.sum[1].mult[0] == 0.5
    assert query.defaults == {"metadata.published": "2026-06-01T00:00:00.000000Z", "metadata.popularity": 1.0}


@pytest.mark.parametrize("curve, field", [("linear", "lin_decay"), ("gauss", "gauss_decay")])
def test_client_compiles_each_curve(curve, field):
    from hybridstore.qdrant.boost import read

    spec = {"recency": {"key": "t", "half_life": "1h", "curve": curve, "stored_as": "epoch_seconds", "now": "2026-01-01"}}
    query = client_compile._stage(plan(k=5, mode="dense", rerank=False, boost=read(spec)).root, None)["query"]
    params = getattr(query.formula.mult[1], field)
    assert params.x == "metadata.t" and params.scale == 3600.0 and params.target == 1767225600.0


def test_edge_compiles_a_boost_to_its_formula():
    import qdrant_edge as edge

    stage = edge_compile._stage(boosted_plan().root, None)
    assert isinstance(stage["query"], edge.Formula) and stage["limit"] == 5 and len(stage["prefetches"]) == 1
    edge_compile._request(boosted_plan())  # the whole request builds
