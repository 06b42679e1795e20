"""LlamaIndex's IngestionPipeline with a docstore and the store as its vector store, with the
pack's models and a real engine: re-runs converge under UPSERTS and UPSERTS_AND_DELETE, and an
index built from the pipeline's output retrieves what it wrote."""

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.storage.docstore import SimpleDocumentStore

from hybridstore.llama_index import HybridEmbedding, HybridVectorStore


def documents(edition: int = 1, with_cats: bool = True) -> list[Document]:
    docs = [Document(text="Risotto rice is stirred slowly with hot broth. Arborio makes it creamy.",
                     doc_id="rice"),
            Document(text=f"Volcanoes erupt ash and lava. Edition {edition} of the volcano notes.",
                     doc_id="volcano")]
    if with_cats:
        docs.append(Document(text="Cats sleep most of the day and hunt at night.", doc_id="cats"))
    return docs


def pipeline(store, strategy):
    return IngestionPipeline(transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0),
                                              HybridEmbedding()],
                             docstore=SimpleDocumentStore(), vector_store=store, docstore_strategy=strategy)


def stored_texts(store):
    return sorted(n.get_content() for n in store.get_nodes())


@pytest.mark.parametrize("strategy", [DocstoreStrategy.UPSERTS, DocstoreStrategy.UPSERTS_AND_DELETE])
def test_re_runs_converge(strategy):
    with HybridVectorStore("pipeline") as store:
        pipe = pipeline(store, strategy)
        assert len(pipe.run(documents=documents())) == 3
        assert pipe.run(documents=documents()) == []  # unchanged: nothing embedded or written
        assert store.index.count() == 3
        changed = pipe.run(documents=documents(2))
        assert [n.ref_doc_id for n in changed] == ["volcano"]
        assert store.index.count() == 3 and any("Edition 2" in t for t in stored_texts(store))
        assert not any("Edition 1" in t for t in stored_texts(store))
        pipe.run(documents=documents(2, with_cats=False))
        cats = [t for t in stored_texts(store) if "Cats" in t]
        if strategy == DocstoreStrategy.UPSERTS_AND_DELETE:
            assert cats == [] and store.index.count() == 2  # the document that is gone is deleted
        else:
            assert len(cats) == 1 and store.index.count() == 3  # UPSERTS keeps what it is not sent


def test_an_index_over_the_pipelines_output_retrieves_it():
    with HybridVectorStore("pipeline-index") as store:
        pipeline(store, DocstoreStrategy.UPSERTS).run(documents=documents())
        index = VectorStoreIndex.from_vector_store(store, embed_model=HybridEmbedding())
        for mode in ("default", "hybrid"):
            retriever = index.as_retriever(similarity_top_k=1, vector_store_query_mode=mode)
            assert retriever.retrieve("which rice makes a creamy risotto")[0].node.ref_doc_id == "rice"
