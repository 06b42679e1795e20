"""`cli.words.for_cli`: the core's messages with their Python fixes turned into command-line
flags, on the messages the core really raises (so a reworded message that the rules no longer
match fails here), and fixes with no flag marked as Python's."""

from __future__ import annotations

import pytest

from hybridstore.cli.words import for_cli
from hybridstore.engine.folder import check_layout
from hybridstore.errors import HybridStoreError
from hybridstore.qdrant import signature as sig
from hybridstore.qdrant.schema import Schema, VectorField
from hybridstore.rules import accept, missing_vectors, unfilled

DENSE, SPARSE = VectorField("dense", "dense", 4), VectorField("sparse", "sparse", None, modifier="idf")
LATE = VectorField("late", "late_interaction", 4)


def message(call) -> str:
    with pytest.raises(HybridStoreError) as err:
        call()
    return str(err.value)


@pytest.mark.parametrize("field, flag", [(DENSE, "--mode sparse"), (SPARSE, "--mode dense"), (LATE, "--no-rerank"),
                                         (VectorField("pic", "image", 4), "--mode hybrid")])
def test_missing_vectors_names_the_command_and_the_flag(field, flag):
    said = for_cli(str(missing_vectors("c", field, 2)))
    assert "with hybridstore reembed, or search without it" in said and said.endswith(f"({flag})")
    assert "reembed()" not in said and "mode='" not in said and "rerank=False" not in said


def test_a_folder_of_the_other_engine_names_the_engine_flag(tmp_path):
    (tmp_path / "meta.json").write_text("{}")
    said = for_cli(message(lambda: check_layout(str(tmp_path), "edge")))
    assert "open it with --engine local, or give Qdrant Edge a folder of its own" in said
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "edge_config.json").write_text("{}")
    (tmp_path / "meta.json").unlink()
    said = for_cli(message(lambda: check_layout(str(tmp_path), "local")))
    assert "open it with --engine edge, or give local mode a folder of its own" in said


def test_other_vectors_name_the_collection_flag_and_the_reembed_command():
    said = for_cli(message(lambda: accept("c", Schema((DENSE,)), Schema((DENSE, LATE)), create=False)))
    assert "Use the models it was built with, another --collection, or delete it (in Python: drop())" in said
    assert "hybridstore reembed (with the new model's flag, e.g. --late MODEL) adds missing vectors" in said


def test_fixes_with_no_flag_are_marked_as_pythons():
    theirs = {"source": "fastembed", "kind": "dense", "model": "a/one", "dim": 4}
    found = Schema((DENSE,), sig.collection_signature({"dense": theirs}))
    want = Schema((DENSE,), sig.collection_signature({"dense": {**theirs, "model": "a/two"}}))
    said = for_cli(message(lambda: accept("c", found, want, create=False)))
    assert "(in Python: vector_names={'dense': 'dense-v2'}), hybridstore reembed, then (in Python) " \
           "drop_vector('dense')" in said
    said = for_cli(message(lambda: unfilled("c", Schema((DENSE, SPARSE)), {"dense"})))
    assert said.endswith("or (in Python) drop_vector('sparse') first if you no longer want it")


def test_a_message_without_python_fixes_is_left_as_it_is():
    plain = "collection 'c' does not exist; add records first"
    assert for_cli(plain) == plain
