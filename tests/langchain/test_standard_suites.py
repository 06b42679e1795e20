"""LangChain's own standard suites (langchain-tests), subclassed, never weakened.

The vector-store suite runs twice: with the suite's own fake embeddings (its contract) and
with hybridstore's real dense model from the pack (the real stack, BM25 included)."""

import functools
import uuid

import pytest
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests

from hybridstore.langchain import HybridEmbeddings, HybridRetriever, HybridVectorStore

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


class TestVectorStoreWithSuiteEmbeddings(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self):
        store = HybridVectorStore(f"std-{uuid.uuid4().hex}", embedding=self.get_embeddings())
        yield store
        store.index.drop()
        store.index.close()


class TestVectorStoreWithHybridModels(VectorStoreIntegrationTests):
    @staticmethod
    def get_embeddings():
        return HybridEmbeddings()

    @pytest.fixture
    def vectorstore(self):
        store = HybridVectorStore(f"std-{uuid.uuid4().hex}")  # dense + BM25 from the pack
        yield store
        store.index.drop()
        store.index.close()


class TestEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self):
        return HybridEmbeddings

    @property
    def embedding_model_params(self):
        return {"model": MINILM}

    @property
    def init_from_env_params(self):
        from tests.conftest import PACK

        return {"HYBRIDSTORE_MODELS": str(PACK)}, {}, {"model_name": MINILM}


class TestEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self):
        return HybridEmbeddings

    @property
    def embedding_model_params(self):
        return {"model": MINILM}


_TEXTS = ["Cats sleep most of the day.", "Dogs love to fetch.", "Guitars have six strings.",
          "The central bank raised rates.", "Volcanoes erupt ash."]


@functools.cache
def _retriever_store():
    return HybridVectorStore.from_texts(_TEXTS, collection_name="retriever-std")


class TestRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self):
        return HybridRetriever

    @property
    def retriever_constructor_params(self):
        return {"store": _retriever_store()}

    @property
    def retriever_query_example(self):
        return "which animal sleeps all day"
