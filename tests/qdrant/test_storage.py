"""Storage settings (`Storage`, presets): applied at creation on Qdrant Edge and a server, read
back from the engine, followed by searches (rescoring int8 vectors), refused by local mode and
when an existing collection was made otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import models as qm

from hybridstore import HybridIndex, Models, Record
from hybridstore.engine import client_compile, edge_compile, edge_config
from hybridstore.errors import ConfigurationError
from hybridstore.qdrant.query import Nearest, SearchRequest, build_plan, resolve
from hybridstore.qdrant.storage import PRESETS, Storage

from ..conftest import LATE
from ..reliability.fake_qdrant import FakeQdrant

LARGE = PRESETS["large"]
DIM = 384


@pytest.fixture(scope="module")
def dense_only():
    return Models(sparse=None)


def vectors(n: int, seed: int = 7) -> np.ndarray:
    """Clustered unit vectors (like embeddings: neighbours exist), seeded."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    v = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def test_settings_are_checked_and_presets_named():
    assert Storage.of("large") == LARGE and Storage.of(None) is None
    assert Storage.of({"quantize": "int8", "hnsw_m": 32}) == Storage(quantize="int8", hnsw_m=32)
    for bad, says in [("huge", "not a preset"), ({"quantise": "int8"}, "unknown storage option"),
                      ({"quantize": "int4"}, "use 'int8'"), ({"on_disk": "yes"}, "True or False"),
                      ({"hnsw_m": -1}, "at least 0"), ({"oversampling": 0.5}, "from 1 to 16"), (3, "give a Storage")]:
        with pytest.raises(ConfigurationError, match=says):
            Storage.of(bad)
    assert Storage().is_default() and Storage(hnsw_m=16, hnsw_ef=300).is_default()
    assert not LARGE.is_default()


def test_local_mode_refuses_storage_and_releases_the_folder(tmp_path, dense_only):
    with pytest.raises(ConfigurationError, match="local mode"):
        HybridIndex("c", dense_only, path=tmp_path, engine="local", storage="large")
    with HybridIndex("c", dense_only, path=tmp_path, engine="local", storage="default") as idx:
        idx.add([Record("a", "one")])
        assert idx.count() == 1


def test_edge_stores_the_settings_reads_them_back_and_refuses_others(tmp_path, dense_only):
    pts = vectors(3000)
    records = [Record(str(i), f"point {i}") for i in range(len(pts))]
    with HybridIndex("c", dense_only, path=tmp_path, engine="edge", storage=LARGE) as idx:
        idx.add(records, dense=pts.tolist())
        idx.optimize()
        # no late-interaction vector: its settings are not stored (nor compared on reopen)
        assert idx.info()["storage_settings"] == {**LARGE.stored(), "late_on_disk": False, "late_quantize": None}
    config = json.loads(next(Path(tmp_path).rglob("edge_config.json")).read_text())
    assert config["on_disk_payload"] is True
    assert config["vectors"]["dense"]["on_disk"] is True
    assert config["vectors"]["dense"]["quantization_config"]["scalar"]["type"] == "int8"

    queries = vectors(30, seed=8)
    exact = np.argsort(-(queries @ pts.T), axis=1)[:, :10]
    # reopened without storage=: the collection's own settings, searches rescored
    with HybridIndex("c", dense_only, path=tmp_path, engine="edge") as idx:
        found = [[int(h.record.id) for h in idx.search("", 10, mode="dense", dense_vector=q.tolist())]
                 for q in queries]
        assert idx._col.storage.stored() == idx.info()["storage_settings"]
        HybridIndex("c", dense_only, engine=idx.engine, storage="large").open()  # its own: accepted
        HybridIndex("c", dense_only, engine=idx.engine, storage="default").open()  # defaults: not asked
        with pytest.raises(ConfigurationError, match=r"created with other storage settings: float16=False"):
            HybridIndex("c", dense_only, engine=idx.engine, storage=Storage(float16=True)).open()
        assert idx.count() == 3000  # nothing lost
    recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact)])
    assert recall >= 0.95, recall


def test_a_default_collection_reopens_with_search_settings_after_optimize(tmp_path, dense_only):
    with HybridIndex("c", dense_only, path=tmp_path, engine="edge") as idx:
        idx.add([Record("a", "rivers and bridges")])
        idx.optimize()  # edge then records payloads as on disk: its choice, not a setting asked
    for storage in ("default", Storage(hnsw_ef=300, oversampling=3.0), Storage(hnsw_m=16)):
        with HybridIndex("c", dense_only, path=tmp_path, engine="edge", storage=storage) as idx:
            assert [h.record.id for h in idx.search("rivers", 1)] == ["a"]
    with pytest.raises(ConfigurationError, match="quantize=None \\(asked: 'int8'\\)"):
        HybridIndex("c", dense_only, path=tmp_path, engine="edge", storage=Storage(quantize="int8")).open()


def test_other_tools_quantizations_are_read_back_and_rescored():
    shard = {"vectors": {"dense": {"size": 4, "distance": "Cosine"},
                         "late": {"size": 4, "distance": "Cosine", "multivector_config": {"comparator": "max_sim"},
                                  "quantization_config": {"binary": {}}}},
             "quantization_config": {"scalar": {"type": "int8"}}, "hnsw_config": {"m": 32, "ef_construct": 100},
             "payload_memory": "cold"}
    found = edge_config.storage_of(shard)
    assert (found.quantize, found.late_quantize, found.hnsw_m, found.payload_on_disk) == ("int8", "binary", 32, True)
    info = qm.CollectionConfig(
        params=qm.CollectionParams(vectors={"dense": qm.VectorParams(size=4, distance=qm.Distance.COSINE)}),
        hnsw_config=qm.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10000),
        optimizer_config=qm.OptimizersConfig(default_segment_number=0, flush_interval_sec=5),
        quantization_config=qm.BinaryQuantization(binary=qm.BinaryQuantizationConfig()))
    assert client_compile._storage_of(info).quantize == "binary"
    with pytest.raises(ConfigurationError, match="use 'int8'"):
        HybridIndex("c", storage=Storage(quantize="binary"))  # read back only, never made


def test_plans_rescore_quantized_vectors_and_take_the_search_beam():
    req = resolve(SearchRequest(k=10, mode="hybrid"), {"dense", "sparse"})
    vecs = {"dense": [0.1] * 4, "sparse": None}
    names = {"dense": "dense", "sparse": "sparse"}
    plain = build_plan(req, vecs, names)
    tuned = build_plan(req, vecs, names, storage=Storage(quantize="int8", hnsw_ef=300, oversampling=3.0))
    dense, sparse = tuned.root.sources
    assert (dense.rescore, dense.hnsw_ef) == (3.0, 300) and sparse.rescore is None
    assert all(s.rescore is None for s in plain.root.sources)
    assert build_plan(req, vecs, names, storage=Storage()) == plain  # the default changes nothing
    stage = Nearest("dense", "dense", [0.1] * 4, 10, rescore=2.0)
    edge_params = edge_compile._stage(stage, None)["params"]
    assert (edge_params.quantization.rescore, edge_params.quantization.oversampling) == (True, 2.0)
    params = client_compile._stage(stage, None)["params"]
    assert params.quantization == qm.QuantizationSearchParams(rescore=True, oversampling=2.0)


def test_server_gets_the_settings_and_reads_them_back(dense_only):
    with FakeQdrant() as fake:
        with HybridIndex("c", dense_only, url=fake.url, timeout=2,
                         storage=Storage(quantize="int8", on_disk=True, payload_on_disk=True,
                                         hnsw_m=32, hnsw_ef_construct=200)) as idx:
            idx.add([Record("a", "rivers and bridges")])
            since = len(fake.bodies)
            idx.search("rivers", 1, mode="dense")
        create = next(b for m, p, b in fake.bodies if m == "PUT" and p == "/collections/c")
        dense = create["vectors"]["dense"]
        assert dense["on_disk"] is True and dense["quantization_config"]["scalar"]["type"] == "int8"
        assert dense["hnsw_config"] == {"m": 32, "ef_construct": 200}
        assert create["on_disk_payload"] is True
        query = next(b for m, p, b in fake.bodies[since:] if p == "/collections/c/points/query")
        assert query["params"]["quantization"] == {"rescore": True, "oversampling": 2.0}
        with HybridIndex("c", dense_only, url=fake.url, timeout=2) as idx:
            idx.open()
            assert idx._col.storage.stored() == Storage(quantize="int8", on_disk=True, payload_on_disk=True,
                                                        hnsw_m=32, hnsw_ef_construct=200).stored()
            HybridIndex("c", dense_only, url=fake.url, timeout=2, storage="large").open()  # all it asks, it has
            with pytest.raises(ConfigurationError, match="created with other storage settings: hnsw_m=32"):
                HybridIndex("c", dense_only, url=fake.url, timeout=2, storage=Storage(hnsw_m=48)).open()
        with HybridIndex("d", dense_only, url=fake.url, timeout=2) as idx:  # the server's defaults
            idx.add([Record("a", "rivers and bridges")])
        with HybridIndex("d", dense_only, url=fake.url, timeout=2, storage=Storage(hnsw_ef=300)) as idx:
            idx.open()  # payloads on disk is the server's default, not a setting asked


def test_a_vector_added_later_gets_the_storage_asked(tmp_path, records):
    late = Models(late_interaction=LATE)
    with HybridIndex("c", Models(), path=tmp_path, engine="edge", storage="large") as idx:
        idx.add(records)
    with HybridIndex("c", late, path=tmp_path, engine="edge", storage="large") as idx:
        assert idx.reembed()["late"] == len(records)
        assert idx.info()["storage_settings"] == LARGE.stored()  # the dense ones kept, the late ones given
    stored = json.loads((tmp_path / "c" / "edge_config.json").read_text())
    assert stored["vectors"]["late"]["hnsw_config"]["m"] == 0  # rerank only: no graph built
    with HybridIndex("c", late, path=tmp_path, engine="edge", storage="large") as idx:
        idx.open()  # before: refused, the late vector having been made with the engine's defaults
        assert idx.search("someone playing guitar", 1, rerank=True)[0].record.id.startswith("guitar")
    with HybridIndex("d", Models(), path=tmp_path, engine="edge") as idx:  # nothing asked: defaults
        idx.add(records)
    before = (tmp_path / "d" / "edge_config.json").read_text()
    with HybridIndex("d", late, path=tmp_path, engine="edge", storage="large") as idx:
        with pytest.raises(ConfigurationError, match="created with other storage settings"):
            idx.reembed()  # the dense settings asked are not the collection's: refused first
    assert json.loads((tmp_path / "d" / "edge_config.json").read_text())["vectors"] == json.loads(before)["vectors"]
    with HybridIndex("d", late, path=tmp_path, engine="edge") as idx:
        idx.reembed()
        kept = idx.info()["storage_settings"]
        assert kept == {**Storage().stored(), "payload_on_disk": kept["payload_on_disk"]}  # edge's choice


def test_a_setting_that_cannot_be_carried_over_is_refused_before_any_change(tmp_path, dense_only, records):
    import qdrant_edge as edge

    with HybridIndex("c", dense_only, path=tmp_path, engine="edge") as idx:
        idx.add(records)
    folder = str(tmp_path / "c")  # another tool quantizes the dense vector to binary
    binary = edge.EdgeVectorParams(DIM, edge.Distance.Cosine,
                                   quantization_config=edge.BinaryQuantizationConfig(always_ram=True))
    edge.EdgeShard.load(folder, edge.EdgeConfig(vectors={"dense": binary}, sparse_vectors={})).close()
    before = (tmp_path / "c" / "edge_config.json").read_text()
    with HybridIndex("c", Models(sparse=None, late_interaction=LATE), path=tmp_path, engine="edge") as idx:
        with pytest.raises(ConfigurationError, match=r"cannot carry over.*'binary'.*nothing was changed"):
            idx.reembed()
    assert (tmp_path / "c" / "edge_config.json").read_text() == before
    with HybridIndex("c", dense_only, path=tmp_path, engine="edge") as idx:
        assert idx.count() == len(records) and idx.search("guitar", 1)


def test_a_server_gets_the_storage_of_a_vector_added_later():
    from hybridstore.engine.requests import ChangeVectors, GetSchema
    from hybridstore.qdrant.schema import VectorField

    with FakeQdrant() as fake:
        with HybridIndex("c", Models(), url=fake.url, timeout=2, storage="large") as idx:
            idx.add([Record("a", "rivers and bridges")])
            idx.engine.run("c", ChangeVectors(add=VectorField("late", "late_interaction", DIM), storage=LARGE))
            found = idx.engine.run("c", GetSchema())
        create = next(b for m, p, b in fake.bodies if m == "PUT" and p == "/collections/c/vectors/late")
        assert create["dense"]["multivector_config"] == {"comparator": "max_sim"}
        patch = next(b for m, p, b in fake.bodies if m == "PATCH" and "late" in (b.get("vectors") or {}))
        assert patch["vectors"]["late"] == {"hnsw_config": {"m": 0}, "on_disk": True,
                                            "quantization_config": {"scalar": {"type": "int8", "always_ram": True}}}
        assert (found.storage.late_on_disk, found.storage.late_quantize) == (True, "int8")
