"""Search options and constructor arguments, property-based: whatever a caller passes, a search
and an index's construction either work or raise one of hybridstore's documented errors
(`hybridstore.errors`), never a ZeroDivisionError, TypeError or AttributeError from inside.
One index for every example, few examples, fixed seeds."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridstore import (
    ConfigurationError,
    HybridIndex,
    HybridStoreError,
    InvalidInputError,
    Models,
    Record,
)

from ..conftest import TEXTS

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ODD = st.one_of(st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=True, allow_infinity=True),
                st.text(max_size=6), st.lists(st.floats(-1, 2), max_size=4), st.just(object()))
WEIGHTS = st.one_of(ODD, st.tuples(st.floats(-1, 3), st.floats(-1, 3)), st.just((0, 0)), st.just((0.0, 0.0, 0.0)))
OPTIONS = st.fixed_dictionaries({}, optional={
    "mode": st.one_of(st.sampled_from(["dense", "sparse", "hybrid", "image", "multimodal"]), ODD),
    "rerank": st.one_of(st.booleans(), ODD), "fusion": st.one_of(st.sampled_from(["rrf", "dbsf"]), ODD),
    "weights": WEIGHTS, "rrf_k": ODD, "mmr": st.one_of(st.floats(0, 1), ODD), "fetch_k": ODD,
    "score_threshold": ODD, "oversample": ODD, "dense_limit": ODD, "sparse_limit": ODD,
    "group_by": st.one_of(st.sampled_from(["topic", "doc_id"]), ODD), "group_size": ODD})


@pytest.fixture(scope="module")
def idx():
    index = HybridIndex("options", Models(), location=":memory:")
    index.add([Record(rid, text, meta) for rid, (text, meta) in TEXTS.items()])
    yield index
    index.close()


def test_weights_that_rank_by_nothing_are_refused_before_the_engine(idx):
    with pytest.raises(InvalidInputError, match="at least one above 0"):
        idx.search("guitar", 3, weights=(0, 0))
    with pytest.raises(InvalidInputError, match="non-negative numbers"):
        idx.search("guitar", 3, weights=(1, math.nan))
    assert idx.search("guitar", 3, weights=(0, 1))  # one weight may be 0


def test_a_model_name_where_models_belong_is_refused_with_the_fix():
    with pytest.raises(ConfigurationError, match=r"Models\(dense='BAAI/bge-small-en-v1.5'\)"):
        HybridIndex("c", "BAAI/bge-small-en-v1.5")


@SETTINGS
@given(k=st.one_of(st.integers(1, 12), ODD), options=OPTIONS)
def test_search_options_work_or_raise_a_documented_error(idx, k, options):
    try:
        hits = idx.search("guitar music", k, **options)
    except HybridStoreError as e:
        assert str(e)
    else:
        assert len(hits) <= k and all(0 <= h.relevance <= 1 for h in hits)


@SETTINGS
@given(models=st.one_of(st.just(None), st.just(Models()), ODD, st.just("BAAI/bge-small-en-v1.5")),
       options=st.fixed_dictionaries({}, optional={
           "collection": st.one_of(st.just("ok"), ODD), "location": st.one_of(st.just(":memory:"), ODD),
           "tenant_key": ODD, "payload_layout": st.one_of(st.just("llama_index"), ODD),
           "payload_indexes": st.one_of(st.just({"year": "integer"}), ODD), "vector_names": ODD,
           "optimize_threshold": ODD, "storage": st.one_of(st.just("large"), ODD), "engine": ODD}))
def test_constructor_arguments_work_or_raise_a_documented_error(models, options):
    collection = options.pop("collection", "ok")
    try:
        index = HybridIndex(collection, models, **options)
    except HybridStoreError as e:
        assert str(e)
    else:
        index.close()
