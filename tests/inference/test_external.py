"""`inference.external`: a caller's own dense model in place of fastembed's: a LangChain
`Embeddings` or a LlamaIndex `BaseEmbedding`, recognised by their methods, embedded through
whichever they have, sized by a real embedding, and recorded by what can be known of them
(class, model name if any, size). Uses the frameworks' own deterministic embeddings: no model."""

from __future__ import annotations

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from llama_index.core.embeddings import MockEmbedding

from hybridstore import Models
from hybridstore.errors import ConfigurationError
from hybridstore.inference.external import ExternalDense, is_external


class Named:
    """A caller's LangChain-style class that names its model, as hosted embeddings do."""

    model = "acme/embed-v2"

    def embed_documents(self, texts):
        return [[float(len(t)), 1.0, 0.0] for t in texts]

    def embed_query(self, text):
        return [float(len(text)), 0.0, 1.0]


def test_both_frameworks_embeddings_are_recognised_and_nothing_else():
    assert is_external(DeterministicFakeEmbedding(size=6)) and is_external(MockEmbedding(embed_dim=5))
    assert is_external(Named())
    assert not is_external("BAAI/bge-small-en-v1.5") and not is_external(object())

    class HalfOfIt:
        def embed_documents(self, texts):
            return []

    assert not is_external(HalfOfIt())  # documents without queries: not an embedding model


@pytest.mark.parametrize("model, dim", [(DeterministicFakeEmbedding(size=6), 6), (MockEmbedding(embed_dim=5), 5),
                                        (Named(), 3)])
def test_embeds_through_the_frameworks_own_methods_as_plain_lists(model, dim):
    dense = ExternalDense(model)
    docs = dense.embed_documents(["one", "three"])
    assert [len(v) for v in docs] == [dim, dim] and all(isinstance(v, list) for v in docs)
    assert dense.dim == dim  # from a real embedding, not a declared size
    query = dense.embed_query("one")
    assert isinstance(query, list) and len(query) == dim
    assert dense.embed_queries(["a", "b"]) == [dense.embed_query("a"), dense.embed_query("b")]
    assert dense.embed_documents([]) == []


def test_queries_and_documents_go_to_their_own_methods():
    dense = ExternalDense(Named())
    assert dense.embed_documents(["abcd"]) == [[4.0, 1.0, 0.0]]
    assert dense.embed_query("abcd") == [4.0, 0.0, 1.0]


def test_the_signature_records_class_model_name_and_size():
    assert ExternalDense(Named()).signature() == {
        "source": "external", "kind": "dense", "class": f"{__name__}.Named", "model": "acme/embed-v2", "dim": 3}
    unnamed = ExternalDense(DeterministicFakeEmbedding(size=6)).signature()
    assert unnamed["class"] == "langchain_core.embeddings.fake.DeterministicFakeEmbedding"
    assert (unnamed["model"], unnamed["dim"]) == (None, 6)
    llama = ExternalDense(MockEmbedding(embed_dim=5)).signature()
    assert llama["class"].endswith(".MockEmbedding") and llama["dim"] == 5
    assert ExternalDense(Named()).describe() == {"name": "Named", "kind": "dense", "external": True}


def test_models_take_a_callers_embeddings_as_their_dense_model():
    models = Models(dense=Named(), sparse=None)
    assert isinstance(models.dense, ExternalDense) and models.kinds() == ("dense",)
    assert models.signatures()["dense"]["model"] == "acme/embed-v2"
    with pytest.raises(ConfigurationError, match=r"dense= takes a model name, a ModelSpec or None, got <object"):
        Models(dense=object(), sparse=None)
