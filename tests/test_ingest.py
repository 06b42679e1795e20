"""Incremental indexing: unchanged records cost no embedding, new metadata alone costs a payload
update, a new text (or models) is embedded again."""

import pytest

from hybridstore import HybridIndex, Models, Record, SchemaMismatchError
from hybridstore.engine.requests import SetPayloads
from hybridstore.qdrant import payload


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
    assert counted.embedded == 8 and idx.stats == {"embedded": 8, "unchanged": 0, "payload_only": 0}
    idx.add(records)
    assert counted.embedded == 8 and idx.stats == {"embedded": 0, "unchanged": 8, "payload_only": 0}
    changed = [Record(r.id, r.text + " (edited)", r.metadata, r.doc_id) if r.id == "cats" else r for r in records]
    changed[1] = Record(changed[1].id, changed[1].text, {**changed[1].metadata, "year": 1999}, changed[1].doc_id)
    await idx.aadd(changed)  # a new text is embedded; new metadata alone is not
    assert counted.embedded == 9 and idx.stats == {"embedded": 1, "unchanged": 6, "payload_only": 1}
    assert idx.get(["cats"])[0].text.endswith("(edited)")
    assert idx.get([changed[1].id])[0].metadata["year"] == 1999
    idx.close()
    again = HybridIndex("inc", counted, path=str(tmp_path))  # the hash lives in the payload
    again.add(changed)
    assert again.stats["unchanged"] == 8 and counted.embedded == 9
    again.add(changed, skip_unchanged=False)
    assert again.stats["embedded"] == 8


def test_new_metadata_replaces_the_payload_and_keeps_the_vectors(counted, records):
    idx = HybridIndex("meta", counted, payload_indexes={"topic": "keyword"})
    idx.add(records)
    before = {h.record.id: h.score for h in idx.search("guitar music", 8, mode="dense")}
    relabelled = [Record(r.id, r.text, {"topic": "archive"}, r.doc_id) for r in records]
    idx.add(relabelled)
    assert counted.embedded == 8 and idx.stats["payload_only"] == 8
    assert all(r.metadata == {"topic": "archive"} for r in idx.get([r.id for r in records]))  # keys gone too
    assert idx.count({"topic": "archive"}) == 8 and idx.count({"topic": "music"}) == 0
    after = {h.record.id: h.score for h in idx.search("guitar music", 8, mode="dense")}
    assert after == pytest.approx(before)
    assert idx.search("guitar", 1, filter={"topic": "archive"})[0].record.metadata == {"topic": "archive"}


def test_records_without_a_vector_hash_are_embedded_again(counted, records):
    """Points an older version wrote (a content hash only) cannot tell what changed: embedded."""
    idx = HybridIndex("old", counted)
    idx.add(records)  # then their payloads as an older hybridstore left them:
    idx.engine.run(idx.collection, SetPayloads([payload.Point(idx._col.pid(r.id), {}, {
        **idx.layout.to_payload(r), idx.layout.hash_key: "older"}) for r in records]))
    idx.add([Record(r.id, r.text, {"topic": "x"}, r.doc_id) for r in records])
    assert idx.stats == {"embedded": 8, "unchanged": 0, "payload_only": 0} and counted.embedded == 16


def test_dense_of_none_for_every_record_lets_the_model_embed_them(counted, records):
    """dense= with None for each record (None: the dense model embeds it) on a new collection:
    no size is known from the caller, and every record is embedded (this raised a TypeError)."""
    idx = HybridIndex("nones", counted)
    idx.add(records, dense=[None] * len(records))
    assert counted.embedded == len(records) and idx.count() == len(records)


def test_model_change_re_embeds(records):
    """The content hash covers the models: records written under other models are embedded
    again. Swapping the models of an open index checks them against the collection first:
    BM42 vectors may not join a collection whose sparse vectors BM25 wrote."""
    idx = HybridIndex("inc2", Models())
    idx.add(records)
    bm42 = Models(sparse="Qdrant/bm42-all-minilm-l6-v2-attentions")  # same schema, new model
    before = payload.content_hashes(idx._col.layout, idx._col.models, records)
    idx.models = bm42
    assert all(a != b for a, b in zip(before, payload.content_hashes(idx._col.layout, idx._col.models, records)))
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
    assert lc.index.stats == {"embedded": 0, "unchanged": 2, "payload_only": 0}
    li = LIStore("inc-li")
    nodes = [TextNode(text="gamma", id_="g")]
    li.add(nodes)
    li.add(nodes)
    assert li.index.stats == {"embedded": 0, "unchanged": 1, "payload_only": 0}
