"""int8 models: made once from the pack's float32 MiniLM into a cache folder (the pack is left as
it is), close to the original's vectors, recorded apart from it in a collection's signature."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridstore import HybridIndex, Models, ModelSpec, Record, SchemaMismatchError
from hybridstore.errors import ConfigurationError
from hybridstore.inference import quantize
from hybridstore.inference.fingerprint import fingerprint

from ..conftest import LATE, PACK

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
TEXTS = ["Vitamin D deficiency is associated with low bone mineral density in older adults.",
         "Statins lower LDL cholesterol and the risk of cardiovascular events.",
         "The mitochondrial genome encodes thirteen proteins of the respiratory chain.",
         "a cat on a mat"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("cache")
        mp.setenv(quantize.CACHE_ENV, str(root))
        yield root


def int8(name: str = MINILM, kind: str = "dense") -> ModelSpec:
    return ModelSpec(name, kind, options={"quantize": "int8"})


def test_int8_vectors_stay_close_and_the_pack_is_untouched(cache, caplog):
    folder = PACK / "all-minilm-l6-v2"
    before = fingerprint(folder, sorted(folder.iterdir()))
    plain = np.array(Models(sparse=None).embed_documents(TEXTS, ["dense"])["dense"])
    small = np.array(Models(dense=int8(), sparse=None).embed_documents(TEXTS, ["dense"])["dense"])
    cosine = (plain * small).sum(1) / np.linalg.norm(plain, axis=1) / np.linalg.norm(small, axis=1)
    assert cosine.min() > 0.98 and not np.allclose(plain, small)
    assert fingerprint(folder, sorted(folder.iterdir())) == before
    made = list((cache / "int8").iterdir())
    assert len(made) == 1 and made[0].name.startswith("sentence-transformers_all-MiniLM-L6-v2-")
    assert (made[0] / "model.onnx").stat().st_size < (folder / "model.onnx").stat().st_size * 0.7
    assert "pre-processing" not in caplog.text  # onnxruntime's advice, noise for dynamic int8


def test_the_copy_is_made_once(cache):
    first = quantize.quantized(PACK / "all-minilm-l6-v2", "model.onnx", MINILM)
    stamp = (first / "model.onnx").stat().st_mtime_ns
    again = quantize.quantized(PACK / "all-minilm-l6-v2", "model.onnx", MINILM)
    assert again == first and (again / "model.onnx").stat().st_mtime_ns == stamp
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".making-")]


def test_a_collection_tells_int8_from_float32(cache):
    with HybridIndex("c") as idx:
        idx.models = Models(sparse=None)
        idx.add([Record("a", TEXTS[0])])
        assert idx.info()["vectors"][0]["stored_model"]
        idx.models = Models(dense=int8(), sparse=None)
        with pytest.raises(SchemaMismatchError, match="quantize"):
            idx.search("bone density")


def test_bad_requests_are_refused(cache):
    with pytest.raises(ConfigurationError, match="use 'int8'"):
        ModelSpec(MINILM, "dense", options={"quantize": "int4"})
    with pytest.raises(ConfigurationError, match="dense and late-interaction"):
        ModelSpec("Qdrant/bm25", "sparse", options={"quantize": "int8"})
    # the pack's ColBERT-shaped model keeps int8 weights already: nothing left to quantize
    with pytest.raises(ConfigurationError, match="already compressed"):
        Models(dense=None, sparse=None, late_interaction=int8(LATE, "late_interaction")).load()


def test_a_pack_can_ask_for_int8(cache, tmp_path):
    manifest = json.loads((PACK / "models.json").read_text())
    for entry in manifest["models"].values():
        entry["folder"] = str(PACK / entry["folder"])
    manifest["models"][MINILM]["quantize"] = "int8"
    (tmp_path / "models.json").write_text(json.dumps(manifest))
    models = Models(pack=tmp_path)
    assert models.describe()["dense"]["quantize"] == "int8"
    assert models.dense.signature()["options"] == {"quantize": "int8"}
    opted_out = Models(pack=tmp_path, dense=ModelSpec(MINILM, "dense", options={"quantize": None}))
    assert "quantize" not in opted_out.describe()["dense"]


def test_models_and_the_command_line_take_int8_for_every_model_it_applies_to(cache, tmp_path, capsys):
    from hybridstore.cli import main

    models = Models(quantize="int8", late_interaction=None)
    assert models.describe()["dense"]["quantize"] == "int8" and "quantize" not in models.describe()["sparse"]
    (tmp_path / "a.txt").write_text(TEXTS[0])
    where = ["--path", str(tmp_path / "idx")]
    assert main([*where, "--int8", "ingest", str(tmp_path / "a.txt")]) == 0
    assert main([*where, "--int8", "search", "bone density", "-k", "1"]) == 0
    assert "Vitamin D" in capsys.readouterr().out
    assert main([*where, "search", "bone density"]) != 0  # float32 may not read int8 vectors
    assert "quantize" in capsys.readouterr().err
