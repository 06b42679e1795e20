"""The inference core on the real offline models of ../shared/models."""

import time

import numpy as np
import pytest

from hybridstore import (
    ConfigurationError,
    ModelNotFoundError,
    Models,
    ModelSpec,
    ProviderNotAvailableError,
)
from hybridstore.inference import loading
from hybridstore.inference.pack import load_pack

LATE = "colbert-ir/colbertv2.0"


def test_pack_defaults_and_folders(pack):
    m = Models(pack=pack)
    assert m.kinds() == ("dense", "sparse")
    assert m.dense.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert m.dense.spec.path == str(pack / "all-minilm-l6-v2")
    assert m.sparse.modifier == "idf"


def test_env_var_pack_is_used(monkeypatch, pack):
    monkeypatch.setenv("HYBRIDSTORE_MODELS", str(pack))
    assert Models().pack.root == pack.resolve()


def test_models_share_one_instance_per_name_folder_options():
    a, b = Models(sparse=None), Models(sparse=None)
    assert a.dense.model is b.dense.model
    c = Models(sparse=None, threads=1)
    assert c.dense.model is not a.dense.model


def test_loading_is_lazy(pack):
    before = loading.loaded_count()
    Models(dense=ModelSpec("sentence-transformers/all-MiniLM-L6-v2", "dense",
                           str(pack / "all-minilm-l6-v2"), {"threads": 2, "tag": None}))
    assert loading.loaded_count() == before


def test_dimensions_come_from_a_real_embedding():
    m = Models(late_interaction=LATE)
    assert m.dense.dim == 384
    # fastembed's metadata for this name says 128; the folder's model gives 384.
    assert m.late_interaction.dim == 384
    assert m.sparse.dim is None


def test_queries_and_documents_are_embedded_differently():
    m = Models(late_interaction=LATE)
    doc = m.sparse.embed_documents(["guitar guitar player"])[0]
    query = m.sparse.embed_query("guitar guitar player")
    assert set(query.values.tolist()) == {1.0}  # BM25 query: plain term presence
    assert not np.allclose(sorted(doc.values), sorted(query.values))
    q = m.late_interaction.embed_query("guitar")
    d = m.late_interaction.embed_documents(["guitar"])[0]
    assert q.shape[0] > d.shape[0]  # ColBERT query marker + mask padding


def test_padding_aware_batches_return_input_order_and_same_vectors():
    texts = ["short", "a much longer text " * 20, "mid length text here", "x " * 50, "tiny"]
    aware = Models(sparse=None, batch_size=2).dense.embed_documents(texts)
    naive = Models(sparse=None, batch_size=2, padding_aware=False).dense.embed_documents(texts)
    single = [Models(sparse=None).dense.embed_documents([t])[0] for t in texts]
    for a, n, s in zip(aware, naive, single, strict=True):
        assert np.allclose(a, s, atol=1e-5) and np.allclose(n, s, atol=1e-5)


@pytest.mark.parametrize("kind, name", [("sparse", "prithivida/Splade_PP_en_v1"),
                                        ("sparse", "Qdrant/bm42-all-minilm-l6-v2-attentions")])
def test_other_sparse_models_from_the_pack(kind, name):
    m = Models(sparse=name)
    vec = m.sparse.embed_documents(["guitar player on stage"])[0]
    assert len(vec.indices) > 0 and len(vec.indices) == len(vec.values)
    assert m.sparse.modifier == ("idf" if "bm42" in name else None)


def test_unknown_model_names_the_pack_models():
    with pytest.raises(ModelNotFoundError, match="unknown dense model 'no/such-model'.*all-MiniLM-L6-v2"):
        Models(dense="no/such-model")


def test_hub_model_offline_fails_fast_naming_the_pack(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path))
    m = Models(dense="BAAI/bge-small-en-v1.5", sparse=None)
    start = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE.*pack at .* has: sentence-transformers"):
        m.dense.embed_documents(["x"])
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("provider", ["CUDAExecutionProvider", "NoSuchExecutionProvider"])
def test_missing_provider_fails_loudly(provider):
    import onnxruntime

    if provider in onnxruntime.get_available_providers():
        pytest.skip(f"{provider} is installed on this machine: nothing missing to refuse")
    m = Models(sparse=None, providers=[provider])
    with pytest.raises(ProviderNotAvailableError, match=f"asks for {provider}.*offers only"):
        m.dense.embed_documents(["x"])


@pytest.mark.parametrize("kwargs, words", [
    ({"dense": ModelSpec("Qdrant/bm25", "sparse")}, "pass it as sparse="),
    ({"dense": "Qdrant/bm25"}, "is a sparse model in the pack"),
    ({"dense": None, "sparse": None}, "at least one model"),
    ({"dense": 42}, "takes a model name"),
])
def test_bad_model_settings(kwargs, words):
    with pytest.raises(ConfigurationError, match=words):
        Models(**kwargs)


def test_bad_pack(tmp_path):
    with pytest.raises(ConfigurationError, match="has no models.json"):
        load_pack(tmp_path)
    (tmp_path / "models.json").write_text('{"models": {"x": {"kind": "dense", "folder": "nope"}}}')
    with pytest.raises(ConfigurationError, match="folder .* does not exist"):
        load_pack(tmp_path)
    with pytest.raises(ConfigurationError, match="ModelSpec.kind 'vision' is unknown"):
        ModelSpec("x", "vision")
