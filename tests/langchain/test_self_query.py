"""The self-querying retriever (langchain-classic's `SelfQueryRetriever`) with hybridstore's
translator: a fake LLM returns a fixed structured query (no network); the filter it holds runs
on real records with the pack's models."""

import json

import pytest
from langchain_classic.chains.query_constructor.schema import AttributeInfo
from langchain_classic.retrievers.self_query.base import SelfQueryRetriever
from langchain_core.language_models import FakeListLLM
from langchain_core.structured_query import (
    Comparator,
    Comparison,
    Operation,
    Operator,
    StructuredQuery,
)

from hybridstore.langchain import HybridVectorStore
from hybridstore.langchain.self_query import HybridTranslator

PAPERS = [("Vitamin D supplements and bone density in older adults.", {"year": 2019, "topic": "health", "tags": ["bone"]}),
          ("Vitamin D levels in winter and summer.", {"year": 2023, "topic": "health", "tags": ["season"]}),
          ("Vitamin D and immune responses in children.", {"year": 2021, "topic": "immunity", "tags": []}),
          ("BM25 ranks documents by term statistics.", {"year": 2023, "topic": "search", "tags": []})]
FIELDS = [AttributeInfo(name="year", description="publication year", type="integer"),
          AttributeInfo(name="topic", description="the paper's field", type="string"),
          AttributeInfo(name="tags", description="keywords", type="list[string]")]


@pytest.fixture(scope="module")
def store():
    s = HybridVectorStore("self-query")
    s.add_texts([t for t, _ in PAPERS], [m for _, m in PAPERS], ids=["p1", "p2", "p3", "p4"])
    yield s
    s.close()


def retriever(store, query: str, flt: str) -> SelfQueryRetriever:
    answer = "```json\n" + json.dumps({"query": query, "filter": flt}) + "\n```"
    return SelfQueryRetriever.from_llm(FakeListLLM(responses=[answer]), store, "medical and search papers",
                                       FIELDS, structured_query_translator=HybridTranslator())


@pytest.mark.parametrize("flt, expected", [
    ('and(gte("year", 2020), eq("topic", "health"))', ["p2"]),
    ('or(eq("topic", "immunity"), lt("year", 2020))', ["p1", "p3"]),
    ('not(eq("topic", "health"))', ["p3", "p4"]),
    ('in("topic", ["immunity", "search"])', ["p3", "p4"]),
    ('contain("tags", "bone")', ["p1"]),
    ('like("topic", "health")', ["p1", "p2"]),
    ("NO_FILTER", ["p1", "p2", "p3", "p4"]),
])
def test_the_structured_query_filters_the_search(store, flt, expected):
    docs = retriever(store, "vitamin D", flt).invoke("Which papers on vitamin D?")
    assert sorted(d.id for d in docs) == expected


async def test_async_and_dates(store):
    docs = await retriever(store, "vitamin D", 'gt("year", 2022)').ainvoke("recent vitamin D papers")
    assert sorted(d.id for d in docs) == ["p2", "p4"]
    translated = HybridTranslator().visit_structured_query(StructuredQuery(
        query="q", filter=Operation(operator=Operator.AND, arguments=[
            Comparison(comparator=Comparator.GTE, attribute="when", value={"date": "2024-01-01", "type": "date"}),
            Comparison(comparator=Comparator.NIN, attribute="topic", value=["a"])])))
    assert translated == ("q", {"filter": {"$and": [{"when": {"$gte": "2024-01-01"}},
                                                    {"topic": {"$nin": ["a"]}}]}})
