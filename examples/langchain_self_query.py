"""A self-querying retriever over hybridstore: the LLM turns a question into a search query
and a metadata filter, which hybridstore runs inside its hybrid search.

Runs offline: a fake LLM returns the structured query a real one would write. Needs
langchain-classic (SelfQueryRetriever) and lark (its query parser). Swap in any LLM.
"""

import json

from langchain_classic.chains.query_constructor.schema import AttributeInfo
from langchain_classic.retrievers.self_query.base import SelfQueryRetriever
from langchain_core.language_models import FakeListLLM

from hybridstore.langchain import HybridVectorStore
from hybridstore.langchain.self_query import HybridTranslator

PAPERS = [("Vitamin D supplements and bone density in older adults.", {"year": 2019, "topic": "health"}),
          ("Vitamin D levels in winter and summer.", {"year": 2023, "topic": "health"}),
          ("Vitamin D and immune responses in children.", {"year": 2021, "topic": "immunity"})]
FIELDS = [AttributeInfo(name="year", description="publication year", type="integer"),
          AttributeInfo(name="topic", description="the paper's field", type="string")]


def main(question: str = "Health papers on vitamin D since 2020?") -> list:
    store = HybridVectorStore("self-query-example")
    store.add_texts([t for t, _ in PAPERS], [m for _, m in PAPERS], ids=["p1", "p2", "p3"])
    # what an LLM answers for the question (a real one: ChatOpenAI(...), ChatOllama(...), ...)
    llm = FakeListLLM(responses=["```json\n" + json.dumps(
        {"query": "vitamin D", "filter": 'and(gte("year", 2020), eq("topic", "health"))'}) + "\n```"])
    retriever = SelfQueryRetriever.from_llm(llm, store, "medical papers", FIELDS,
                                            structured_query_translator=HybridTranslator())
    docs = retriever.invoke(question)
    for d in docs:
        print(d.id, d.metadata, d.page_content)
    store.close()
    return docs


if __name__ == "__main__":
    main()
