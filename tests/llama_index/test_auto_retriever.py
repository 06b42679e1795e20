"""LlamaIndex's auto-retriever (`VectorIndexAutoRetriever`) over the store: a fake LLM returns a
fixed query spec (no network); the metadata filters in it run on real records with the pack's
models, sync and async, in the operators LlamaIndex's spec allows
(which ANDs its filters)."""

import json

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.retrievers import VectorIndexAutoRetriever
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import MetadataInfo, VectorStoreInfo

from hybridstore.llama_index import HybridEmbedding, HybridVectorStore

PAPERS = [("Vitamin D supplements and bone density in older adults.", {"year": 2019, "topic": "health"}),
          ("Vitamin D levels in winter and summer.", {"year": 2023, "topic": "health"}),
          ("Vitamin D and immune responses in children.", {"year": 2021, "topic": "immunity"}),
          ("BM25 ranks documents by term statistics.", {"year": 2023, "topic": "search"})]
INFO = VectorStoreInfo(content_info="medical and search papers", metadata_info=[
    MetadataInfo(name="year", type="int", description="publication year"),
    MetadataInfo(name="topic", type="str", description="the paper's field")])


class FixedSpec(CustomLLM):
    """Answers every prompt with one query spec, as an LLM would."""

    spec: dict

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs) -> CompletionResponse:
        return CompletionResponse(text="```json\n" + json.dumps(self.spec) + "\n```")

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs):
        yield self.complete(prompt)


@pytest.fixture(scope="module")
def index():
    store = HybridVectorStore("auto")
    embed = HybridEmbedding()
    nodes = [TextNode(text=t, id_=f"p{i}", metadata=m, embedding=embed.get_text_embedding(t))
             for i, (t, m) in enumerate(PAPERS, 1)]
    store.add(nodes)
    yield VectorStoreIndex.from_vector_store(store, embed_model=embed)
    store.close()


def spec(filters):
    """A VectorStoreQuerySpec as JSON; the auto-retriever ANDs its filters."""
    return {"query": "vitamin D", "filters": filters, "top_k": 4}


@pytest.mark.parametrize("filters, expected", [
    ([{"key": "year", "value": 2020, "operator": ">="}, {"key": "topic", "value": "health", "operator": "=="}],
     ["p2"]),
    ([{"key": "year", "value": 2021, "operator": "<="}], ["p1", "p3"]),
    ([{"key": "topic", "value": ["health", "search"], "operator": "nin"}], ["p3"]),
    ([{"key": "topic", "value": "health", "operator": "!="}], ["p3", "p4"]),
    ([{"key": "topic", "value": ["immunity", "search"], "operator": "in"}], ["p3", "p4"]),
    ([], ["p1", "p2", "p3", "p4"]),
])
def test_the_generated_filters_run_in_hybridstore(index, filters, expected):
    retriever = VectorIndexAutoRetriever(index, INFO, llm=FixedSpec(spec=spec(filters)), max_top_k=4,
                                         similarity_top_k=4, vector_store_query_mode="hybrid")
    assert sorted(n.node.node_id for n in retriever.retrieve("vitamin D papers")) == expected


async def test_async(index):
    retriever = VectorIndexAutoRetriever(index, INFO, max_top_k=4, similarity_top_k=4, llm=FixedSpec(
        spec=spec([{"key": "year", "value": 2022, "operator": ">"}])))
    assert sorted(n.node.node_id for n in await retriever.aretrieve("recent")) == ["p2", "p4"]
