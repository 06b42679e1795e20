"""A RAG chain over hybrid search: retriever | prompt | model | parser.

Runs offline: the models come from the pack ($HYBRIDSTORE_MODELS) and a fake chat model
stands in for the LLM. Swap in any LangChain chat model for real answers.
"""

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel, RunnablePassthrough

from hybridstore.langchain import HybridVectorStore

FACTS = [
    ("Vitamin D is made in the skin after exposure to sunlight.", {"topic": "health"}),
    ("Low vitamin D levels are linked to weaker bones in adults.", {"topic": "health"}),
    ("The Eiffel Tower was finished in 1889.", {"topic": "history"}),
    ("BM25 ranks documents by term frequency and inverse document frequency.", {"topic": "search"}),
]

PROMPT = ChatPromptTemplate.from_messages([
    ("system", "Answer from the context only.\n\nContext:\n{context}"),
    ("human", "{question}"),
])


def build_chain(llm=None):
    store = HybridVectorStore.from_texts([t for t, _ in FACTS], metadatas=[m for _, m in FACTS],
                                         collection_name="rag-example")
    retriever = store.as_retriever(search_kwargs={"k": 2, "mode": "hybrid"})
    llm = llm or FakeListChatModel(responses=["Sunlight on the skin makes vitamin D."])
    answer = PROMPT | llm | StrOutputParser()
    return (RunnableParallel(docs=retriever, question=RunnablePassthrough())
            | RunnablePassthrough.assign(context=lambda x: "\n".join(d.page_content for d in x["docs"]))
            | RunnablePassthrough.assign(answer=answer))


def main(question: str = "How does the body get vitamin D?") -> dict:
    result = build_chain().invoke(question)
    print("context:", [d.page_content for d in result["docs"]])
    print("answer:", result["answer"])
    return result


if __name__ == "__main__":
    main()
