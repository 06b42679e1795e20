"""`rules`: what an index's models write (`expected`), whether an existing collection may be
used with them (`accept`: its vectors, and the models that wrote them), writes that would leave
vectors empty (`unfilled`), kinds read from the record (`known_kinds`) and the error for points
a search would leave out (`missing_vectors`). Pure functions over schemas; `expected` loads the
pack's BM25 model only (no ONNX)."""

from __future__ import annotations

import itertools
import warnings

import pytest

from hybridstore import Models
from hybridstore.errors import (
    CollectionNotFoundError,
    MissingVectorsError,
    ModelSignatureWarning,
    SchemaMismatchError,
)
from hybridstore.qdrant import signature as sig
from hybridstore.qdrant.schema import DEFAULT_NAMES, Schema, VectorField
from hybridstore.rules import accept, expected, known_kinds, missing_vectors, unfilled, with_vectors

DENSE = VectorField("dense", "dense", 4)
SPARSE = VectorField("sparse", "sparse", None, modifier="idf")
LATE = VectorField("late", "late_interaction", 4)
PIC = VectorField("pic", "dense", 4)  # an image vector, as an engine reports it: plain dense


def fastembed(kind: str, model: str, dim: int | None = 4, fingerprint: str | None = "f1") -> dict:
    return {"source": "fastembed", "kind": kind, "model": model, "dim": dim, "modifier": None,
            "options": {}, "fingerprint": fingerprint}


def schema(*fields: VectorField, **vectors: dict) -> Schema:
    return Schema(tuple(fields), sig.collection_signature(vectors) if vectors else None)


_names = (f"coll-{i}" for i in itertools.count())


def fresh() -> str:
    """A collection name no earlier test used: `warn_once` warns once per message per process."""
    return next(_names)


@pytest.fixture(scope="module")
def bm25_only():
    return Models(dense=None, sparse="Qdrant/bm25")


# -- expected ------------------------------------------------------------------------------
def test_expected_records_the_sparse_model_and_the_callers_dense_size(bm25_only):
    want = expected(bm25_only, DEFAULT_NAMES, dense_size=4)
    assert want.fields == (VectorField("dense", "dense", 4), VectorField("sparse", "sparse", None, modifier="idf"))
    vectors = sig.vectors_of(want.signature)
    assert vectors["dense"] == sig.caller(4)  # vectors passed in: no model to name
    assert (vectors["sparse"]["source"], vectors["sparse"]["model"], vectors["sparse"]["modifier"]) == \
        ("fastembed", "Qdrant/bm25", "idf")
    assert want.signature["version"] == sig.VERSION


def test_expected_without_a_dense_size_has_no_dense_vector_and_uses_the_names_given(bm25_only):
    want = expected(bm25_only, {**DEFAULT_NAMES, "sparse": "words"}, dense_size=None)
    assert [(f.name, f.kind) for f in want.fields] == [("words", "sparse")]
    assert list(sig.vectors_of(want.signature)) == ["words"]


def test_the_models_own_record_is_accepted_and_another_sparse_model_refused(bm25_only):
    want = expected(bm25_only, DEFAULT_NAMES, dense_size=4)
    name = fresh()
    with pytest.warns(ModelSignatureWarning, match="the vectors 'dense' \\(dense vectors passed in by the caller"):
        assert accept(name, want, want, create=False) == (want, [])  # the caller's: cannot be verified
    other = {**sig.vectors_of(want.signature)["sparse"], "model": "prithivida/Splade_PP_en_v1", "fingerprint": "x"}
    found = Schema(want.fields, sig.collection_signature({**sig.vectors_of(want.signature), "sparse": other}))
    with pytest.raises(SchemaMismatchError) as err:
        accept(name, found, want, create=False)
    message = str(err.value)
    assert "'prithivida/Splade_PP_en_v1'" in message and "'Qdrant/bm25'" in message
    assert "(another model)" in message
    assert "vector_names={'sparse': 'sparse-v2'}" in message and "drop_vector('sparse')" in message


# -- accept --------------------------------------------------------------------------------
def test_a_missing_collection_is_created_or_refused():
    want = schema(DENSE, dense=sig.caller(4))
    assert accept("c", None, want, create=True) == (want, [])
    with pytest.raises(CollectionNotFoundError, match=r"collection 'c' does not exist; add records first"):
        accept("c", None, want, create=False)


@pytest.mark.parametrize("found, says", [
    (schema(VectorField("dense", "dense", 8), SPARSE), ("vector 'dense' is 'dense' (dense, size=8, cosine), "
                                                       "models need 'dense' (dense, size=4, cosine)")),
    (schema(DENSE), "vector 'sparse' (sparse, modifier=idf) is missing"),
    (schema(DENSE, VectorField("sparse", "sparse", None)), "vector 'sparse' is 'sparse' (sparse, modifier=None), models need 'sparse' (sparse, modifier=idf)"),
    (schema(VectorField("dense", "dense", 4, distance="dot"), SPARSE), "'dense' (dense, size=4, dot)"),
])
def test_other_vectors_are_refused_naming_the_difference_and_the_fixes(found, says):
    with pytest.raises(SchemaMismatchError) as err:
        accept("docs", found, schema(DENSE, SPARSE), create=False)
    message = str(err.value)
    assert message.startswith("collection 'docs' does not match the models: ")
    assert says in message
    assert "Use the models it was built with, another collection, or drop() it" in message
    assert "reembed() adds missing vectors" in message


def test_extra_vectors_are_kept_after_the_ones_the_models_use():
    found = schema(VectorField("aaa", "dense", 2), SPARSE, DENSE)
    want = schema(DENSE, SPARSE, dense=sig.caller(4), sparse=fastembed("sparse", "Qdrant/bm25", None))
    use, unrecorded = accept(fresh(), found, want, create=False)
    assert [f.name for f in use.fields] == ["sparse", "dense", "aaa"]
    assert use.by_kind("dense") == DENSE  # by_kind finds the models' vector, not the extra one
    assert unrecorded == ["dense", "sparse"]  # no record of the models: the caller records them


def test_a_vector_of_another_kind_of_model_is_refused():
    found = schema(DENSE, dense=fastembed("late_interaction", "colbert-ir/colbertv2.0"))
    want = schema(DENSE, dense=fastembed("dense", "BAAI/bge-small-en-v1.5"))
    with pytest.raises(SchemaMismatchError, match=r"written by 'colbert-ir/colbertv2.0' .*"
                                                  r"\(another kind of model\)"):
        accept(fresh(), found, want, create=False)


def test_other_weights_under_the_same_name_are_refused():
    name = "colbert-ir/colbertv2.0"
    found = schema(LATE, late=fastembed("late_interaction", name, fingerprint="aaa"))
    want = schema(LATE, late=fastembed("late_interaction", name, fingerprint="bbb"))
    with pytest.raises(SchemaMismatchError) as err:
        accept(fresh(), found, want, create=False)
    message = str(err.value)
    assert "(other weights under the same name)" in message and "weights aaa" in message and "weights bbb" in message
    # the fix for a late-interaction vector names its own kind
    assert "vector_names={'late_interaction': 'late-v2'}" in message
    assert "would rank by meaningless scores" in message


def test_every_mismatched_vector_is_named():
    found = schema(DENSE, LATE, dense=fastembed("dense", "a/one", fingerprint="1"),
                   late=fastembed("late_interaction", "b/one", fingerprint="2"))
    want = schema(DENSE, LATE, dense=fastembed("dense", "a/two", fingerprint="3"),
                  late=fastembed("late_interaction", "b/two", fingerprint="4"))
    with pytest.raises(SchemaMismatchError) as err:
        accept(fresh(), found, want, create=False)
    assert "vector 'dense' was written by 'a/one'" in str(err.value)
    assert "vector 'late' was written by 'b/one'" in str(err.value)


def test_a_vector_with_no_record_is_returned_to_be_recorded():
    found = schema(DENSE, SPARSE, dense=fastembed("dense", "a/one"))  # sparse: written before records
    want = schema(DENSE, SPARSE, dense=fastembed("dense", "a/one"), sparse=fastembed("sparse", "Qdrant/bm25", None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a verified match does not warn
        assert accept(fresh(), found, want, create=False)[1] == ["sparse"]


def test_callers_vectors_cannot_be_verified_and_warn_once():
    name = fresh()
    found = schema(DENSE, dense={"source": "external", "kind": "dense", "class": "my.Embeddings",
                                 "model": None, "dim": 4})
    with pytest.warns(ModelSignatureWarning, match=rf"collection '{name}': hybridstore cannot tell whether "
                                                   r"the vectors 'dense' \(your my.Embeddings \(no model name\)"):
        assert accept(name, found, found, create=False)[1] == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        accept(name, found, found, create=False)  # the same message is not repeated


def test_another_external_class_or_model_is_refused():
    mine = {"source": "external", "kind": "dense", "class": "my.Embeddings", "model": "m1", "dim": 4}
    for theirs, what in [({**mine, "class": "other.Embeddings"}, "another embedding class"),
                         ({**mine, "model": "m2"}, "another model"),
                         (fastembed("dense", "m1"), "another kind of source"),
                         ({**mine, "dim": 8}, "another dimension")]:
        with pytest.raises(SchemaMismatchError, match=rf"\({what}\)"):
            accept(fresh(), schema(DENSE, dense=theirs), schema(DENSE, dense=mine), create=False)


# -- unfilled ------------------------------------------------------------------------------
def test_a_write_that_leaves_a_vector_empty_is_refused_naming_its_model():
    stored = schema(DENSE, SPARSE, LATE, late=fastembed("late_interaction", "colbert-ir/colbertv2.0"))
    with pytest.raises(SchemaMismatchError) as err:
        unfilled("docs", stored, {"dense", "sparse"})
    message = str(err.value)
    assert "collection 'docs' has the vector(s) 'late' (late_interaction, size=4, cosine)" in message
    assert "which this index's models do not produce" in message
    assert "Open the index with the model(s) that wrote them ('late': 'colbert-ir/colbertv2.0'" in message
    assert "or drop_vector('late') first" in message


def test_an_unrecorded_empty_vector_is_refused_without_a_model_hint():
    with pytest.raises(SchemaMismatchError) as err:
        unfilled("docs", schema(DENSE, SPARSE), {"dense"})
    assert "'sparse' (sparse, modifier=idf)" in str(err.value) and "that wrote them, or drop_vector('sparse') first" in str(err.value)
    assert "drop_vector('sparse')" in str(err.value)


def test_a_complete_write_and_one_without_the_optional_image_vector_pass():
    image = VectorField("pic", "image", 4)
    assert unfilled("docs", schema(DENSE, SPARSE, image), {"dense", "sparse"}) is None
    assert unfilled("docs", schema(DENSE, SPARSE), {"dense", "sparse", "extra"}) is None


# -- known_kinds, missing_vectors, with_vectors ---------------------------------------------
def test_known_kinds_reads_image_vectors_from_the_record():
    assert known_kinds(None) is None
    found = schema(DENSE, PIC, pic={"source": "fastembed", "kind": "image", "model": "clip", "dim": 4})
    kinds = known_kinds(found)
    assert [(f.name, f.kind) for f in kinds.fields] == [("dense", "dense"), ("pic", "image")]
    assert kinds.signature == found.signature
    assert known_kinds(schema(DENSE, PIC)).fields == (DENSE, PIC)  # no record: as the engine says


@pytest.mark.parametrize("field, fix, source", [
    (DENSE, "mode='sparse'", "the stored texts"),
    (SPARSE, "mode='dense'", "the stored texts"),
    (LATE, "rerank=False", "the stored texts"),
    (VectorField("pic", "image", 4), "mode='hybrid'", "the stored image paths (images given as bytes must be added again)"),
])
def test_missing_vectors_names_the_count_the_fill_and_the_search_without_it(field, fix, source):
    err = missing_vectors("docs", field, 3)
    assert isinstance(err, MissingVectorsError) and (err.vector, err.lacking) == (field.name, 3)
    message = str(err)
    assert message.startswith(f"3 point(s) of collection 'docs' have no {field.describe()} vector")
    assert f"Fill it from {source} with reembed() (CLI: hybridstore reembed)" in message
    assert message.endswith(f"or search without it ({fix})")


def test_with_vectors_adds_and_drops_entries_and_keeps_the_rest_of_the_record():
    stored = {**sig.collection_signature({"dense": sig.caller(4), "late": sig.caller(8)}), sig.TENANT_KEY: "org"}
    out = with_vectors(stored, {"sparse": fastembed("sparse", "Qdrant/bm25", None)}, dropped=("late",))
    assert out[sig.TENANT_KEY] == "org" and out["version"] == sig.VERSION
    assert sorted(sig.vectors_of(out)) == ["dense", "sparse"]
    assert with_vectors(None, {"dense": sig.caller(2)}) == sig.collection_signature({"dense": sig.caller(2)})
    assert sorted(sig.vectors_of(stored)) == ["dense", "late"]  # the stored record is not changed in place
