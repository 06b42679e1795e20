import math
import uuid

import numpy as np
import pytest
from fastembed.sparse.sparse_embedding_base import SparseEmbedding

from hybridstore import ConfigurationError, InvalidInputError, Record
from hybridstore.qdrant import payload
from hybridstore.qdrant.layouts import CANONICAL, get_layout
from hybridstore.qdrant.schema import Schema, VectorField, build_schema, differences


def test_point_ids_are_stable_uuids_and_uuids_are_kept():
    assert payload.point_id("doc-1") == payload.point_id("doc-1") != payload.point_id("doc-2")
    uuid.UUID(payload.point_id("any string at all ✓"))
    u = str(uuid.uuid4())
    assert payload.point_id(u) == u


def test_payload_round_trip_is_exact():
    r = Record("x", "text", {"a": [1, {"b": None}], "ü": "ß"}, doc_id="d", extras={"rel": {"1": "n"}})
    p = CANONICAL.to_payload(r)
    assert p == {"page_content": "text", "metadata": r.metadata, "doc_id": "d", "id": "x",
                 "node": {"rel": {"1": "n"}}}
    assert CANONICAL.to_record(p, "pid") == r


def test_langchain_qdrant_payload_reads_with_the_point_id():
    r = CANONICAL.to_record({"page_content": "t", "metadata": {"a": 1}}, "uuid-1")
    assert (r.id, r.text, r.metadata, r.doc_id) == ("uuid-1", "t", {"a": 1}, None)


def test_llama_index_layout_round_trip_and_flat_metadata():
    layout = get_layout("llama_index")
    r = Record("n1", "node text", {"a": 1, "b": "x"}, doc_id="doc")
    p = layout.to_payload(r)
    assert p["a"] == 1 and p["doc_id"] == p["ref_doc_id"] == "doc" and p["_node_type"] == "TextNode"
    back = layout.to_record(p, "pid")
    assert (back.id, back.text, back.metadata, back.doc_id) == ("n1", "node text", r.metadata, "doc")
    assert layout.to_record(layout.to_payload(Record("n2", "t")), "p").doc_id is None
    with pytest.raises(ConfigurationError, match="reserved"):
        layout.to_payload(Record("n3", "t", {"doc_id": "x"}))
    with pytest.raises(ConfigurationError, match="layout 'weird' is unknown"):
        get_layout("weird")


def test_plain_vectors():
    assert payload.plain_vector("dense", np.array([1.0, 2.0], dtype=np.float32)) == [1.0, 2.0]
    sp = payload.plain_vector("sparse", SparseEmbedding(values=np.array([0.5]), indices=np.array([7])))
    assert sp == payload.SparseVec([7], [0.5])
    late = payload.plain_vector("late_interaction", np.ones((2, 2)))
    assert late.dtype == np.float32 and late.tolist() == [[1, 1], [1, 1]]  # stays an array


@pytest.mark.parametrize("bad, words", [
    ([Record("a", 3)], "text must be a str"),
    ([Record("a", "   ")], "text is empty"),
    ([Record("", "t")], "id must be a non-empty string"),
    ([Record("a", "t"), Record("a", "u")], "duplicate id 'a'"),
    ([Record("a", "t", {"d": object()})], "cannot be stored"),
    ([Record("a", "t", {"x": math.nan})], "NaN and inf cannot be stored"),
    ([Record("a", "t", ["no"])], "metadata must be a dict"),
    ([Record("a", "t", doc_id=5)], "doc_id must be a str"),
    (["just text"], "not a hybridstore.Record"),
])
def test_bad_records_are_refused(bad, words):
    with pytest.raises(InvalidInputError, match=words):
        payload.validate_records(bad)


def test_dense_vector_checks():
    assert payload.check_dense([[1.0, 2.0]], 1, None) == 2
    with pytest.raises(InvalidInputError, match="got 1 dense vectors for 2 records"):
        payload.check_dense([[1.0]], 2, None)
    with pytest.raises(InvalidInputError, match="size 2, the collection's dense vector has size 3"):
        payload.check_dense([[1.0, 2.0]], 1, 3)
    with pytest.raises(InvalidInputError, match="mixed sizes"):
        payload.check_dense([[1.0], [1.0, 2.0]], 2, None)
    with pytest.raises(InvalidInputError, match="NaN or inf"):
        payload.check_dense([[math.inf]], 1, None)
    # None: the dense model embeds that record; with none given the size is the collection's, or unknown
    assert payload.check_dense([None, [1.0, 2.0]], 2, None) == 2
    assert payload.check_dense([None], 1, 3) == 3 and payload.check_dense([None], 1, None) is None


def test_schema_differences_say_what_differs():
    want = build_schema({"dense": 384, "sparse": None, "late_interaction": 384},
                        {"sparse": "idf"}, {"dense": "dense", "sparse": "sparse", "late_interaction": "late"})
    have = Schema((VectorField("dense", "dense", 768), VectorField("sparse", "sparse", None),
                   VectorField("extra", "dense", 3)))
    diffs = differences(want, have)
    assert len(diffs) == 3
    assert "'dense' is 'dense' (dense, size=768, cosine), models need 'dense' (dense, size=384" in diffs[0]
    assert "modifier=idf" in diffs[1] and "'late'" in diffs[2] and "missing" in diffs[2]
    assert differences(want, Schema(want.fields + (VectorField("x", "dense", 2),))) == []


def test_writes_are_cut_by_points_and_by_vector_numbers():
    from hybridstore.ingest import REQUEST_NUMBERS, requests as _requests

    dense = [payload.Point(str(i), {"d": [0.0] * 384}, {}) for i in range(300)]
    assert _requests(dense, 256) == [(0, 256), (256, 300)]
    late = [payload.Point(str(i), {"d": [0.0] * 384, "l": np.zeros((300, 384), np.float32),
                                   "s": payload.SparseVec([1, 2], [0.5, 0.5])}, {}) for i in range(100)]
    per_point = 384 + 300 * 384 + 2
    slices = _requests(late, 256)
    assert slices[0] == (0, REQUEST_NUMBERS // per_point) and slices[-1][1] == 100
    assert all(b - a <= REQUEST_NUMBERS // per_point for a, b in slices)
    assert [p for a, b in slices for p in late[a:b]] == late  # every point once, in order
    huge = [payload.Point("x", {"l": np.zeros((REQUEST_NUMBERS + 1,), np.float32)}, {})] * 2
    assert _requests(huge, 256) == [(0, 1), (1, 2)]  # an oversized point still goes, alone
    assert _requests([], 256) == []
