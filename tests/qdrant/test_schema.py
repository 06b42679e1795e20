"""`qdrant.schema`: a collection's named vectors built from the models' sizes (`build_schema`),
described in messages (`VectorField.describe`), compared with what a collection has
(`differences`, `missing`), and reordered so the models' vectors come first (`models_first`)."""

from __future__ import annotations

import pytest

from hybridstore.errors import ConfigurationError
from hybridstore.qdrant.schema import (
    DEFAULT_NAMES,
    Schema,
    VectorField,
    build_schema,
    differences,
    missing,
    models_first,
)

DENSE = VectorField("dense", "dense", 4)
SPARSE = VectorField("sparse", "sparse", None, modifier="idf")


def test_build_schema_names_each_kind_and_keeps_the_sizes_and_modifiers():
    schema = build_schema({"dense": 4, "sparse": None, "late_interaction": 8}, {"sparse": "idf"})
    assert schema.fields == (DENSE, SPARSE, VectorField("late", "late_interaction", 8))
    assert schema.signature is None and schema.storage is None
    own = build_schema({"dense": 4}, {}, {**DEFAULT_NAMES, "dense": "text-dense"})
    assert own.fields == (VectorField("text-dense", "dense", 4),)


def test_an_unnamed_dense_vector_stands_alone():
    assert build_schema({"dense": 4, "sparse": None}, {}, {**DEFAULT_NAMES, "dense": ""}).by_name("") is not None
    with pytest.raises(ConfigurationError, match="an unnamed dense vector cannot sit beside other dense vectors"):
        build_schema({"dense": 4, "late_interaction": 4}, {}, {**DEFAULT_NAMES, "dense": ""})


@pytest.mark.parametrize("field, says", [
    (DENSE, "'dense' (dense, size=4, cosine)"),
    (SPARSE, "'sparse' (sparse, modifier=idf)"),
    (VectorField("late", "late_interaction", 8, distance="dot"), "'late' (late_interaction, size=8, dot)"),
])
def test_describe(field, says):
    assert field.describe() == says


def test_lookups_by_kind_and_name():
    schema = Schema((DENSE, SPARSE))
    assert schema.by_kind("sparse") is SPARSE and schema.by_name("dense") is DENSE
    assert schema.by_kind("late_interaction") is None and schema.by_name("nope") is None
    assert Schema((DENSE,), {"version": 1}) == Schema((DENSE,))  # the record is not part of equality


def test_differences_name_what_disagrees_and_accept_extra_vectors():
    want = Schema((DENSE, SPARSE))
    assert differences(want, Schema((SPARSE, DENSE, VectorField("x", "dense", 2)))) == []
    assert differences(want, Schema((DENSE,))) == ["vector 'sparse' (sparse, modifier=idf) is missing"]
    assert differences(want, Schema((DENSE,)), missing_ok=True) == []
    assert missing(want, Schema((DENSE,))) == [SPARSE]
    assert differences(want, Schema((VectorField("dense", "dense", 8), SPARSE))) == [
        "vector 'dense' is 'dense' (dense, size=8, cosine), models need 'dense' (dense, size=4, cosine)"]
    assert differences(want, Schema((DENSE, VectorField("sparse", "dense", 4)))) != []  # another kind


def test_an_image_vector_is_a_dense_one_to_an_engine():
    image = VectorField("pic", "image", 4)
    assert differences(Schema((image,)), Schema((VectorField("pic", "dense", 4),))) == []
    assert differences(Schema((image,)), Schema((VectorField("pic", "dense", 8),))) != []
    assert differences(Schema((VectorField("s", "sparse", None),)), Schema((VectorField("s", "dense", 4),))) != []


def test_a_size_left_open_matches_any_size():
    assert differences(Schema((VectorField("dense", "dense", None),)), Schema((DENSE,))) == []


def test_models_first_puts_the_models_vectors_first_as_the_kind_they_use():
    found = Schema((VectorField("aaa", "dense", 2), VectorField("pic", "dense", 4), SPARSE), {"version": 1})
    want = Schema((SPARSE, VectorField("pic", "image", 4)))
    ordered = models_first(want, found)
    assert [(f.name, f.kind) for f in ordered.fields] == [("pic", "image"), ("sparse", "sparse"), ("aaa", "dense")]
    assert ordered.signature == {"version": 1}  # the collection's record is kept
    assert ordered.by_kind("image").name == "pic"
