"""Incremental indexing: unchanged records cost no embedding, changed ones are re-embedded."""

import pytest

from hybridstore import HybridIndex, Models, Record, SchemaMismatchError


class CountingModels(Models):
    """Real models that count the texts they embed."""

    embedded = 0

    def embed_documents(self, texts, kinds):
        CountingModels.embedded += len(texts)
        return super().embed_documents(texts, kinds)


@pytest.fixture
def counted():
    CountingModels.embedded = 0
    return CountingModels()


async def test_unchanged_records_are_skipped_changed_are_embedded(counted, records, tmp_path):
    idx = HybridIndex("inc", counted, path=str(tmp_path))
    idx.add(records)
    assert counted.embedded == 8 and idx.stats == {"embedded": 8, "unchanged": 0}
    idx.add(records)
    assert counted.embedded == 8 and idx.stats == {"embedded": 0, "unchanged": 8}
    changed = [Record(r.id, r.text + " (edited)", r.metadata, r.doc_id) if r.id == "cats" else r for r in records]
    changed[1] = Record(changed[1].id, changed[1].text, {**changed[1].metadata, "year": 1999}, changed[1].doc_id)
    await idx.aadd(changed)
    assert counted.embedded == 10 and idx.stats == {"embedded": 2, "unchanged": 6}
    assert idx.get(["cats"])[0].text.endswith("(edited)")
    idx.close()
    again = HybridIndex("inc", counted, path=str(tmp_path))  # the hash lives in the payload
    again.add(changed)
    assert again.stats["unchanged"] == 8 and counted.embedded == 10
    again.add(changed, skip_unchanged=False)
    assert again.stats["embedded"] == 8


def test_model_change_re_embeds(records):
    """The content hash covers the models: records written under other models are embedded
    again. Swapping the models of an open index checks them against the collection first:
    BM42 vectors may not join a collection whose sparse vectors BM25 wrote."""
    from hybridstore.ingest import content_hashes

    idx = HybridIndex("inc2", Models())
    idx.add(records)
    bm42 = Models(sparse="Qdrant/bm42-all-minilm-l6-v2-attentions")  # same schema, new model
    before = content_hashes(idx._col, records)
    idx.models = bm42
    assert all(a != b for a, b in zip(before, content_hashes(idx._col, records)))
    with pytest.raises(SchemaMismatchError, match="'sparse' was written by 'Qdrant/bm25'"):
        idx.add(records)
    assert idx.count() == 8


def test_adapters_skip_unchanged_documents():
    from langchain_core.documents import Document
    from llama_index.core.schema import TextNode

    from hybridstore.langchain import HybridVectorStore as LCStore
    from hybridstore.llama_index import HybridVectorStore as LIStore

    lc = LCStore("inc-lc")
    docs = [Document(page_content="alpha", id="a"), Document(page_content="beta", id="b")]
    lc.add_documents(docs)
    lc.add_documents(docs)
    assert lc.index.stats == {"embedded": 0, "unchanged": 2}
    li = LIStore("inc-li")
    nodes = [TextNode(text="gamma", id_="g")]
    li.add(nodes)
    li.add(nodes)
    assert li.index.stats == {"embedded": 0, "unchanged": 1}
