"""`engine.edge_config`: a Qdrant Edge shard's configuration made from a schema and `Storage`
(`config`), read back from the JSON edge writes (`storage_of`), and rebuilt with one more vector
(`with_vector`: the stored vectors as they are, the new one with the storage asked; a stored
setting it cannot rebuild is refused before anything changes). Real shards in tmp_path, made by
qdrant-edge (a vector added through `EdgeEngine`, its only user); no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import qdrant_edge as edge

from hybridstore.engine import EdgeEngine
from hybridstore.engine.edge_config import config, storage_of, with_vector
from hybridstore.engine.requests import ChangeVectors, Create
from hybridstore.errors import ConfigurationError
from hybridstore.qdrant.schema import Schema, VectorField
from hybridstore.qdrant.storage import PRESETS, Storage

DENSE = VectorField("dense", "dense", 4)
SPARSE = VectorField("sparse", "sparse", None, modifier="idf")
LATE = VectorField("late", "late_interaction", 4)
ALL = Schema((DENSE, SPARSE, LATE))


def shard_json(folder: Path, made) -> dict:
    """Make a shard in `folder` with `made` (an EdgeConfig), close it, and read its stored JSON."""
    edge.EdgeShard.create(str(folder), made).close()
    return json.loads((folder / "edge_config.json").read_text())


@pytest.mark.parametrize("storage", [
    Storage(), Storage(quantize="int8"), Storage(on_disk=True), Storage(float16=True),
    Storage(payload_on_disk=True), Storage(hnsw_m=32, hnsw_ef_construct=200), Storage(hnsw_m=0),
    Storage(late_on_disk=True), Storage(late_quantize="int8"), PRESETS["large"],
], ids=str)
def test_what_config_makes_storage_of_reads_back(tmp_path, storage):
    stored = shard_json(tmp_path, config(ALL, storage))
    assert storage_of(stored).stored() == storage.stored()
    assert sorted(stored["vectors"]) == ["dense", "late"] and list(stored["sparse_vectors"]) == ["sparse"]
    assert stored["vectors"]["dense"]["size"] == 4


def test_the_vectors_kinds_are_made_as_their_kind_asks(tmp_path):
    stored = shard_json(tmp_path, config(ALL))
    dense, late = stored["vectors"]["dense"], stored["vectors"]["late"]
    assert dense["distance"].lower() == late["distance"].lower() == "cosine"
    assert not dense.get("multivector_config")
    assert late["multivector_config"]["comparator"] == "max_sim"
    assert late["hnsw_config"]["m"] == 0  # rerank only: no graph is built for it
    assert stored["sparse_vectors"]["sparse"]["modifier"].lower() == "idf"
    plain = shard_json(tmp_path / "plain", config(Schema((VectorField("s", "sparse", None),))))
    assert plain["sparse_vectors"]["s"].get("modifier") in (None, "none", "None")


def test_without_a_late_vector_its_settings_read_back_as_defaults(tmp_path):
    stored = shard_json(tmp_path, config(Schema((DENSE,)), PRESETS["large"]))
    read = storage_of(stored)
    assert (read.quantize, read.on_disk, read.late_on_disk, read.late_quantize) == ("int8", True, False, None)


def added(folder: Path, schema: Schema, field: VectorField, storage: Storage) -> tuple[dict, dict]:
    """The shard's JSON before and after `field` is added, as edge adds a vector: made with
    its defaults, then the shard reloaded with `with_vector`'s configuration (`EdgeEngine`)."""
    engine = EdgeEngine(path=str(folder))
    engine.run("c", Create(schema, storage=storage))
    before = json.loads((folder / "c" / "edge_config.json").read_text())
    assert with_vector(before, field, storage) is not None  # what the engine reloads with, made here too
    engine.run("c", ChangeVectors(add=field, storage=storage))
    engine.close()
    return before, json.loads((folder / "c" / "edge_config.json").read_text())


def test_with_vector_keeps_every_stored_vector_and_gives_the_new_one_the_storage_asked(tmp_path):
    large = PRESETS["large"]
    before, after = added(tmp_path, Schema((DENSE, SPARSE)), LATE, large)
    assert after["vectors"]["dense"] == before["vectors"]["dense"]
    assert after["sparse_vectors"] == before["sparse_vectors"]
    late = after["vectors"]["late"]
    assert late["multivector_config"]["comparator"] == "max_sim" and late["hnsw_config"]["m"] == 0
    assert storage_of(after).stored() == large.stored()  # late_on_disk and late_quantize as asked


def test_with_vector_adds_a_sparse_vector_beside_the_stored_ones(tmp_path):
    storage = Storage(quantize="int8", hnsw_m=32, float16=True, late_quantize="int8")
    before, after = added(tmp_path, Schema((DENSE, LATE)), SPARSE, storage)
    assert after["vectors"] == before["vectors"]
    assert after["sparse_vectors"]["sparse"]["modifier"].lower() == "idf"
    # payloads: edge's own choice once it reloads a shard (as after an optimize), not a setting asked
    assert {**storage_of(after).stored(), "payload_on_disk": False} == storage.stored()


DENSE_JSON = {"size": 4, "distance": "Cosine"}


@pytest.mark.parametrize("stored, names", [
    ({"vectors": {"dense": {**DENSE_JSON, "future_option": 1}}}, "{'future_option': 1}"),
    ({"vectors": {"dense": {**DENSE_JSON, "quantization_config": {"binary": {"always_ram": True}}}}},
     "{'binary': {'always_ram': True}}"),
    ({"vectors": {"dense": {**DENSE_JSON, "quantization_config": {"scalar": {"type": "int8", "new": 2}}}}},
     "{'new': 2}"),
    ({"vectors": {"dense": {**DENSE_JSON, "hnsw_config": {"m": 16, "ef_construct": 100,
                                                          "full_scan_threshold": 10, "graph": "x"}}}}, "{'graph': 'x'}"),
    ({"vectors": {"dense": {**DENSE_JSON, "distance": "Hyperbolic"}}}, "'Hyperbolic'"),
    ({"vectors": {}, "sparse_vectors": {"dense": {"modifier": "Idf", "pruning": 3}}}, "{'pruning': 3}"),
])
def test_a_stored_setting_that_cannot_be_rebuilt_is_refused_naming_it(stored, names):
    with pytest.raises(ConfigurationError) as err:
        with_vector(stored, LATE, Storage())
    assert str(err.value) == (
        f"vector 'dense' has a setting hybridstore cannot carry over when it adds a vector ({names}); "
        "nothing was changed. Add the model to a new collection (HybridIndex with the new models, "
        "then add the texts again)")


def test_storage_of_reads_other_tools_configurations():
    shard = {"vectors": {"b": {**DENSE_JSON, "quantization_config": {"scalar": {"type": "int8"}}},
                         "a": {**DENSE_JSON, "memory": "Cold", "datatype": "float16",
                               "hnsw_config": {"m": 48, "ef_construct": 64}},
                         "z": {**DENSE_JSON, "multivector_config": {"comparator": "max_sim"}, "on_disk": True}},
             "payload_memory": "cold", "hnsw_config": {"m": 8, "ef_construct": 50}}
    read = storage_of(shard)  # the first dense vector by name ("a"): edge lists them in any order
    assert (read.quantize, read.on_disk, read.float16, read.hnsw_m, read.hnsw_ef_construct) == \
        (None, True, True, 48, 64)
    assert (read.payload_on_disk, read.late_on_disk, read.late_quantize) == (True, True, None)
    shared = storage_of({"vectors": {"d": DENSE_JSON}, "hnsw_config": {"m": 8, "ef_construct": 50},
                         "quantization_config": {"scalar": {"type": "int8"}}})
    assert (shared.hnsw_m, shared.hnsw_ef_construct, shared.quantize) == (8, 50, "int8")  # the shard's own
    assert storage_of({}) == Storage()
