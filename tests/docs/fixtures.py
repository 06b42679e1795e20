"""What the docs' hidden setup needs: pictures, and folders other tools wrote."""

from __future__ import annotations

import os
from pathlib import Path

from tests.images.tiny_clip import colour_image
from tests.images.tiny_colpali import page
from tests.pdfs import pdf

PICTURES = {"shoe.jpg": "red", "hat.jpg": "blue", "query.jpg": "red"}


def pictures() -> None:
    """shoe.jpg (red), hat.jpg (blue) and query.jpg (red) in the working folder."""
    for name, colour in PICTURES.items():
        colour_image(Path(name), colour)


def pages() -> None:
    """page1.png (a red table in a corner: the tiny page model's "red"), page2.png (blank) and
    report.pdf (two pages of text and a picture page) in the working folder."""
    page(Path("page1.png"), {(0, 0): "red", (0, 1): "red"})
    page(Path("page2.png"), {})
    Path("report.pdf").write_bytes(pdf([["Revenue by region, 2024: the north grew fastest."], None,
                                        ["Costs fell in every region."]], title="Annual report"))


def langchain_qdrant_folder(path: str, collection: str) -> None:
    """A hybrid collection written by langchain-qdrant (qdrant-client's local mode)."""
    from langchain_core.documents import Document
    from langchain_qdrant import FastEmbedSparse, QdrantVectorStore, RetrievalMode

    from hybridstore.langchain import HybridEmbeddings

    pack = Path(os.environ["HYBRIDSTORE_MODELS"])
    bm25 = _folder(pack, "Qdrant/bm25")
    store = QdrantVectorStore.from_documents(
        [Document(page_content="Vitamin D is made in the skin.", metadata={"year": 2021})],
        HybridEmbeddings(), path=path, collection_name=collection, retrieval_mode=RetrievalMode.HYBRID,
        sparse_embedding=FastEmbedSparse(model_name="Qdrant/bm25", specific_model_path=bm25))
    store.client.close()


def llama_index_qdrant_folder(path: str, collection: str) -> None:
    """A hybrid collection written by llama-index-vector-stores-qdrant (local mode)."""
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.qdrant import QdrantVectorStore
    from qdrant_client import QdrantClient

    from hybridstore.llama_index import HybridEmbedding
    from tests.llama_index.test_anchor_collections import bm25_fn

    client = QdrantClient(path=path)
    store = QdrantVectorStore(collection, client=client, enable_hybrid=True,
                              sparse_doc_fn=bm25_fn("doc"), sparse_query_fn=bm25_fn("query"))
    VectorStoreIndex.from_documents([Document(text="Vitamin D is made in the skin.")],
                                    storage_context=StorageContext.from_defaults(vector_store=store),
                                    embed_model=HybridEmbedding())
    client.close()


def _folder(pack: Path, name: str) -> str:
    import json

    return str(pack / json.loads((pack / "models.json").read_text())["models"][name]["folder"])


def small_beir(folder: str, queries: int = 5, others: int = 20) -> None:
    """A BEIR folder of SciFact's first judged queries, their documents and a few others."""
    import json

    source = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "scifact"
    judged: dict[str, set[str]] = {}
    for line in (source / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        qid, did, _ = line.split("\t")
        if qid in judged or len(judged) < queries:
            judged.setdefault(qid, set()).add(did)
    wanted = set().union(*judged.values())
    out = Path(folder)
    (out / "qrels").mkdir(parents=True)
    rows = []
    with open(source / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if json.loads(line)["_id"] in wanted or others > 0:
                others -= json.loads(line)["_id"] not in wanted
                rows.append(line)
    (out / "corpus.jsonl").write_text("".join(rows))
    (out / "queries.jsonl").write_text("".join(
        line + "\n" for line in (source / "queries.jsonl").read_text().splitlines()
        if json.loads(line)["_id"] in judged))
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{q}\t{d}\t1\n" for q, ds in judged.items() for d in sorted(ds)))
