"""Tenants: a view confined to one tenant, whatever the caller passes. Runs on the engine
`make test` selects (edge, then local mode)."""

import pytest
from qdrant_client import models as qm

from hybridstore import (
    ConfigurationError,
    HybridIndex,
    InvalidInputError,
    MissingVectorsError,
    Models,
    Record,
)
from hybridstore.engine.requests import GetSchema, SetSignature

from .conftest import LATE

NOTES = {"r1": ("Risotto rice is stirred slowly with hot broth.", "food"),
         "r2": ("Volcanoes erupt ash and lava over islands.", "nature"),
         "r3": ("Interest rates rose again, the bank said.", "finance")}


def records(tenant: str) -> list[Record]:
    return [Record(rid, f"{text} ({tenant})", {"topic": topic}, doc_id=f"doc-{topic}")
            for rid, (text, topic) in NOTES.items()]


@pytest.fixture
def index(tmp_path):
    idx = HybridIndex("shared", Models(), path=str(tmp_path), tenant_key="tenant")
    for name in ("acme", "globex"):
        idx.tenant(name).add(records(name))
    yield idx
    idx.close()


def tenants_of(items) -> set[str]:
    return {(getattr(i, "record", i)).metadata["tenant"] for i in items}


def test_two_tenants_use_the_same_ids_without_touching_each_other(index):
    acme, globex = index.tenant("acme"), index.tenant("globex")
    assert index.count() == 6 and acme.count() == globex.count() == 3
    assert [r.text for r in acme.get(["r1"])] == ["Risotto rice is stirred slowly with hot broth. (acme)"]
    assert acme.get(["r1"])[0].id == "r1" and acme.get(["r1"])[0].metadata == {"topic": "food", "tenant": "acme"}
    globex.add([Record("r1", "Globex rewrote its own r1.", {"topic": "food"})])
    assert acme.get(["r1"])[0].text.endswith("(acme)") and index.count() == 6
    acme.delete(["r2"])
    assert [r.id for r in globex.get(["r2"])] == ["r2"] and acme.get(["r2"]) == [] and index.count() == 5


@pytest.mark.parametrize("hostile", [
    {"tenant": "globex"},
    {"$or": [{"tenant": "globex"}, {"topic": "food"}]},
    {"$not": {"tenant": "acme"}},
    {"tenant": {"$in": ["acme", "globex"]}},
    qm.Filter(should=[qm.FieldCondition(key="metadata.tenant", match=qm.MatchValue(value="globex"))]),
])
def test_no_filter_escapes_the_view(index, hostile):
    acme = index.tenant("acme")
    assert tenants_of(acme.search("rice volcano bank", 10, filter=hostile)) <= {"acme"}
    assert tenants_of(acme.get(filter=hostile)) <= {"acme"}
    assert acme.count(hostile) <= 3
    acme.delete(filter=hostile)
    assert index.tenant("globex").count() == 3  # nothing of globex's was deleted


def test_every_kind_of_search_is_confined(index):
    acme = index.tenant("acme")
    for options in ({}, {"mode": "dense"}, {"mode": "sparse"}, {"mmr": 0.5},
                    {"group_by": "doc_id", "group_size": 1}, {"group_by": "topic"}):
        hits = acme.search("rice volcano bank rates", 10, **options)
        assert hits and tenants_of(hits) == {"acme"}, options
    for hits in acme.search_batch(["rice", "volcano", "bank"], 10):
        assert hits and tenants_of(hits) == {"acme"}
    assert tenants_of(acme.search("rice", 10, ids=["r1", "r2"], doc_id="doc-food")) == {"acme"}


async def test_async_twins_are_confined_too(index):
    acme = index.tenant("acme")
    assert tenants_of(await acme.asearch("rice", 10)) == {"acme"}
    assert await acme.acount() == 3 and tenants_of(await acme.aget()) == {"acme"}
    await acme.adelete(filter={"topic": "food"})
    await acme.adrop_tenant()
    assert await acme.acount() == 0 and await index.tenant("globex").acount() == 3


def test_writing_for_another_tenant_is_refused_and_names_are_checked(index):
    acme = index.tenant("acme")
    with pytest.raises(InvalidInputError, match="names the tenant 'globex'.*writes for 'acme'"):
        acme.add([Record("x", "spoofed", {"tenant": "globex"})])
    acme.add([Record("y", "already says so", {"tenant": "acme"})])
    assert acme.count() == 4 and index.tenant("globex").count() == 3
    for bad in ("", "a\nb", "x\x00", 7, "t" * 300):
        with pytest.raises(ConfigurationError, match="not allowed"):
            index.tenant(bad)
    with pytest.raises(ConfigurationError, match="tenant_key="):
        HybridIndex("plain", Models()).tenant("acme")
    with pytest.raises(InvalidInputError, match="tenant's view"):
        index.drop_tenant()


def test_drop_tenant_and_counts(index):
    index.tenant("acme").drop_tenant()
    assert index.tenant("acme").count() == 0 and index.tenant("globex").count() == 3
    assert index.info()["count"] == 3 and index.tenant("globex").info()["tenant"] == "globex"


def test_a_views_drop_is_refused_and_a_tenant_stores_clear_is_its_own(index):
    """drop() on a view would delete every tenant's records: refused, nothing lost. A
    LlamaIndex store confined to a tenant clears that tenant only (sync and async)."""
    import asyncio

    from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore

    with pytest.raises(InvalidInputError, match="drop_tenant"):
        index.tenant("acme").drop()
    with pytest.raises(InvalidInputError, match="drop_tenant"):
        asyncio.run(index.tenant("acme").adrop())
    assert index.count() == 6
    LlamaIndexStore(index=index, tenant="globex").clear()
    assert index.tenant("globex").count() == 0 and index.tenant("acme").count() == 3
    asyncio.run(LlamaIndexStore(index=index, tenant="acme").aclear())
    assert index.count() == 0 and index.info()["exists"]  # the collection is still there


def test_reembed_fills_the_tenants_own_points(tmp_path):
    with HybridIndex("shared", Models(), path=str(tmp_path), tenant_key="tenant") as idx:
        for name in ("acme", "globex"):
            idx.tenant(name).add(records(name))
    with HybridIndex("shared", Models(late_interaction=LATE), path=str(tmp_path), tenant_key="tenant") as idx:
        acme, globex = idx.tenant("acme"), idx.tenant("globex")
        assert acme.reembed()["late"] == 3
        assert tenants_of(acme.search("rice", 3, rerank=True)) == {"acme"}
        with pytest.raises(MissingVectorsError, match="3 point"):
            globex.search("rice", 3, rerank=True)  # its own points still lack the vector


def test_the_adapters_stay_confined(tmp_path):
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import TextNode

    from hybridstore.langchain import HybridVectorStore as LangChainStore
    from hybridstore.llama_index import HybridEmbedding
    from hybridstore.llama_index import HybridVectorStore as LlamaIndexStore

    lc_acme = LangChainStore("lc", tenant="acme", tenant_key="tenant")
    lc_acme.add_texts(["Risotto rice for acme."], ids=["a"])
    lc_globex = LangChainStore("lc", tenant="globex", tenant_key="tenant", engine=lc_acme.index.engine)
    lc_globex.add_texts(["Risotto rice for globex."], ids=["a"])
    assert [d.page_content for d in lc_acme.as_retriever(search_kwargs={"k": 5}).invoke("rice")] == ["Risotto rice for acme."]
    assert [d.page_content for d in lc_globex.get_by_ids(["a"])] == ["Risotto rice for globex."]
    li = LlamaIndexStore("li", tenant="acme", tenant_key="tenant")
    li.add([TextNode(text="Risotto rice for acme.", id_="n1")])
    other = LlamaIndexStore("li", tenant="globex", tenant_key="tenant", engine=li.index.engine)
    other.add([TextNode(text="Risotto rice for globex.", id_="n1")])
    retriever = VectorStoreIndex.from_vector_store(li, embed_model=HybridEmbedding()).as_retriever(
        similarity_top_k=5, vector_store_query_mode="hybrid")
    assert [n.node.get_content() for n in retriever.retrieve("rice")] == ["Risotto rice for acme."]
    lc_acme.close()
    li.close()


def test_the_unscoped_index_finds_every_tenants_ids_and_never_deletes_nothing_silently(index):
    """An administrator's index: ids are per tenant, so a read by id finds every tenant's record
    of it; a delete or a write that would have to guess whose record an id is is refused, naming
    the view that does it. (Before: get found nothing, delete deleted nothing and said nothing,
    add made a second 'r1' inside acme's view.)"""
    acme, globex = index.tenant("acme"), index.tenant("globex")
    assert tenants_of(index.get(["r1"])) == {"acme", "globex"} and [r.id for r in index.get(["r1", "r2"])][::2] == ["r1", "r2"]
    assert {h.record.id for h in index.search("rice", 10, ids=["r1"])} == {"r1"} and len(index.search("rice", 10, ids=["r1"])) == 2
    with pytest.raises(InvalidInputError, match=r"index.tenant\('acme'\).delete\(\['r1'\]\); index.tenant\('globex'\)"):
        index.delete(["r1"])
    with pytest.raises(InvalidInputError, match=r"index.tenant\('acme'\).add"):
        index.add([Record("r1", "written past the view", {"tenant": "acme"})])
    assert index.count() == 6 and next(r.text for r in acme.get(["r1"])).endswith("(acme)")
    assert len(acme.search("written past the view rice", 10)) == 3  # one r1 in acme's view
    acme.delete(["r1"])  # an administrator deletes one tenant's record through its view
    assert tenants_of(index.get(["r1"])) == {"globex"} and globex.count() == 3
    assert {r.id for r in index.get(filter={"tenant": "acme"})} == {"r2", "r3"}  # every record of a tenant
    index.add([Record("note", "A note of no tenant.")])  # records of no tenant: by id as before
    assert [r.id for r in index.get(["note"])] == ["note"]
    index.delete(["note"])
    assert index.get(["note"]) == [] and index.count() == 5


def test_the_tenant_key_is_recorded_with_the_collection(tmp_path):
    folder = str(tmp_path)
    with HybridIndex("shared", Models(), path=folder, tenant_key="tenant") as idx:
        idx.tenant("acme").add(records("acme"))
    with HybridIndex("shared", Models(), path=folder, tenant_key="org") as other, \
            pytest.raises(ConfigurationError, match="by the metadata key 'tenant', not 'org'.*tenant_key='tenant'"):
        other.count()
    with HybridIndex("shared", Models(), path=folder) as admin:  # no key given: the collection's
        assert [(r.id, r.metadata["tenant"]) for r in admin.get(["r1"])] == [("r1", "acme")]
        with pytest.raises(InvalidInputError, match="index.tenant"):
            admin.delete(["r1"])
        schema = admin.engine.run("shared", GetSchema())  # a collection made before the key was recorded
        admin.engine.run("shared", SetSignature({k: v for k, v in schema.signature.items() if k != "tenant_key"}))
    with HybridIndex("shared", Models(), path=folder, tenant_key="tenant") as idx:
        assert idx.tenant("acme").search("rice", 1)  # the first open with a key records it
    with HybridIndex("shared", Models(), path=folder) as admin:
        assert admin.engine.run("shared", GetSchema()).signature["tenant_key"] == "tenant"
        assert len(admin.get(["r1"])) == 1


def test_why_not_on_the_unscoped_index_finds_the_record_search_returns(index):
    """The unscoped index finds a tenant's record by the id it stores, as search and get do;
    an id two tenants use is refused, naming the view. (Before: "no record has id 'solo'" for
    a record the unscoped search returned.)"""
    index.tenant("acme").add([Record("solo", "Sourdough bread rises overnight.", {"topic": "food"})])
    ranked = [h.record.id for h in index.search("sourdough bread", 10)]
    why = index.why_not("sourdough bread", "solo", 10)
    assert why.rank == ranked.index("solo") + 1 and why.reason is None
    below = index.why_not("sourdough bread", "solo", 1, mode="dense", filter={"topic": "finance"})
    assert below.rank is None and "filtered out" in (below.reason or "")
    assert index.why_not("sourdough bread", "nobody", 10).reason == "no record has id 'nobody'"
    with pytest.raises(InvalidInputError, match=r"tenants 'acme', 'globex'.*index.tenant\(name\).why_not"):
        index.why_not("rice", "r1", 10)


def test_a_grouped_search_on_the_unscoped_index_is_explained(index):
    """Each tenant's hit is explained from its own point. (Before: its point was looked up by
    the record id alone, missed, and the search refused as if the collection had changed.)"""
    hits = index.search("rice broth", 2, explain=True, group_by="topic", group_size=2, rerank=False)
    assert tenants_of(hits) == {"acme", "globex"} and len(hits) == 4
    plain = index.search("rice broth", 2, group_by="topic", group_size=2, rerank=False)
    assert [(h.record.id, h.record.metadata["tenant"]) for h in hits] == \
        [(h.record.id, h.record.metadata["tenant"]) for h in plain]
    assert all(h.explanation.group.keys == (h.record.metadata["topic"],) for h in hits)
