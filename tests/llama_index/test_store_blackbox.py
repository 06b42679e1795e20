"""HybridVectorStore as a black box, at least as strict as llama-index-core's own tests of
SimpleVectorStore (same nodes, same expectations), run sync and async."""

import pytest
from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from hybridstore import FilterError, InvalidInputError, Models, SchemaMismatchError
from hybridstore.llama_index import HybridVectorStore

A = "AF3BE6C4-5F43-4D74-B075-6B0E07900DE8"  # weight 1, rank a
B = "7D9CD555-846C-445C-A9DD-F8924A01411D"  # weight 2, rank c
C = "452D24AB-F185-414C-A352-590B4B9EE51B"  # weight 3, rank c


def nodes():
    rows = [(A, [1.0, 0.0], "test-0", 1.0, "a", ["medium", "high"], "6FTR78Yun lorem"),
            (B, [0.0, 1.0], "test-1", 2.0, "c", ["medium"], "6FTR78Ygl Lorem"),
            (C, [1.0, 1.0], "test-2", 3.0, "c", ["low", "medium", "high"], "6FTR78Ztl ipsum")]
    return [TextNode(text="lorem ipsum", id_=i, embedding=e,
                     relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=ref)},
                     metadata={"weight": w, "rank": r, "quality": q, "identifier": ident})
            for i, e, ref, w, r, q, ident in rows]


@pytest.fixture(params=["sync", "async"])
def run(request):
    """Runs a query sync or async against a fresh store holding the three nodes."""
    store = HybridVectorStore("blackbox", Models(dense=None))  # dense vectors are the nodes' own

    async def go(query, mutate=None):
        if request.param == "sync":
            store.add(nodes())
            if mutate:
                mutate(store)
            return store.query(query).ids
        await store.async_add(nodes())
        if mutate:
            await mutate(store, asynchronous=True)
        return (await store.aquery(query)).ids

    yield go
    store.index.close()


def q(filters=None, k=3, **kw):
    return VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=k, filters=filters, **kw)


def f(*items, condition=FilterCondition.AND):
    return MetadataFilters(filters=[MetadataFilter(key=k, operator=o, value=v) for k, o, v in items],
                           condition=condition)


async def test_all_rows_sorted_by_similarity(run):
    ids = await run(q())
    assert sorted(ids) == sorted([A, B, C]) and ids[0] == C


async def test_top_k(run):
    assert len(await run(q(k=2))) == 2 and await run(q(k=1)) == [C]


async def test_filters_return_matches_in_order_and_apply_top_k(run):
    assert await run(q(f(("rank", FilterOperator.EQ, "c")))) == [C, B]
    assert await run(q(f(("rank", FilterOperator.EQ, "c")), k=1)) == [C]


async def test_node_id_restriction(run):
    assert await run(q(f(("rank", FilterOperator.EQ, "c")), node_ids=[C])) == [C]
    assert sorted(await run(q(node_ids=[A, B]))) == sorted([A, B])


async def test_doc_id_restriction(run):
    assert await run(q(doc_ids=["test-0"])) == [A]


async def test_exact_contradictory_and_unknown_field_filters(run):
    assert await run(q(f(("rank", FilterOperator.EQ, "c"), ("weight", FilterOperator.EQ, 2.0)))) == [B]
    assert await run(q(f(("weight", FilterOperator.EQ, 2), ("weight", FilterOperator.EQ, 3)))) == []
    assert await run(q(f(("unknown_field", FilterOperator.EQ, "c")))) == []


async def test_delete_by_ref_doc(run):
    def mutate(store, asynchronous=False):
        if asynchronous:
            return store.adelete("test-1")
        store.delete("test-1")

    assert await run(q(k=2), mutate) == [C, A]


async def test_and_or_not_conditions(run):
    items = (("rank", FilterOperator.EQ, "c"), ("weight", FilterOperator.EQ, 1.0))
    assert len(await run(q(f(*items, condition=FilterCondition.OR)))) == 3
    assert await run(q(f(*items, condition=FilterCondition.AND))) == []
    assert sorted(await run(q(f(("rank", FilterOperator.EQ, "a"), condition=FilterCondition.NOT)))) == sorted([B, C])


async def test_nested_filters(run):
    nested = MetadataFilters(filters=[
        MetadataFilter(key="rank", operator=FilterOperator.EQ, value="c"),
        MetadataFilters(filters=[MetadataFilter(key="weight", operator=FilterOperator.LT, value=2.5),
                                 MetadataFilter(key="quality", operator=FilterOperator.CONTAINS, value="low")],
                        condition=FilterCondition.OR),
    ], condition=FilterCondition.AND)
    assert sorted(await run(q(nested))) == sorted([B, C])


@pytest.mark.parametrize("item, expected", [
    (("weight", FilterOperator.EQ, 1.0), {A}),
    (("weight", FilterOperator.NE, 1.0), {B, C}),
    (("weight", FilterOperator.GT, 1.5), {B, C}),
    (("weight", FilterOperator.GTE, 1.0), {A, B, C}),
    (("weight", FilterOperator.LT, 1.1), {A}),
    (("weight", FilterOperator.LTE, 1.0), {A}),
    (("rank", FilterOperator.IN, ["a", "c"]), {A, B, C}),
    (("rank", FilterOperator.NIN, ["c"]), {A}),
    (("quality", FilterOperator.ANY, ["high", "low"]), {A, C}),
    (("quality", FilterOperator.ALL, ["medium", "high"]), {A, C}),
    (("quality", FilterOperator.CONTAINS, "high"), {A, C}),
    (("identifier", FilterOperator.TEXT_MATCH, "lorem"), {A, B}),
    (("identifier", FilterOperator.TEXT_MATCH, "6FTR78Ztl"), {C}),
    (("identifier", FilterOperator.TEXT_MATCH_INSENSITIVE, "LOREM"), {A, B}),
    (("identifier", FilterOperator.TEXT_MATCH_INSENSITIVE, "6ftr78yun"), {A}),
    (("missing", FilterOperator.IS_EMPTY, None), {A, B, C}),
    (("quality", FilterOperator.IS_EMPTY, None), set()),
])
async def test_every_operator(run, item, expected):
    assert set(await run(q(f(item)))) == expected


def test_sparse_hybrid_and_mmr_modes():
    store = HybridVectorStore("modes", Models(dense=None))
    store.add(nodes()[:2] + [TextNode(text="dolor sit amet", id_="other", embedding=[0.5, 0.5])])
    sparse = store.query(VectorStoreQuery(query_str="dolor", mode=VectorStoreQueryMode.SPARSE, similarity_top_k=3))
    assert sparse.ids == ["other"]
    hybrid = store.query(VectorStoreQuery(query_str="dolor", query_embedding=[1.0, 0.0],
                                          mode=VectorStoreQueryMode.HYBRID, similarity_top_k=2, alpha=0.0))
    assert hybrid.ids[0] == "other"  # alpha 0: keyword only
    dense_heavy = store.query(VectorStoreQuery(query_str="dolor", query_embedding=[1.0, 0.0],
                                               mode=VectorStoreQueryMode.HYBRID, similarity_top_k=1, alpha=1.0))
    assert dense_heavy.ids == [A]
    mmr = store.query(VectorStoreQuery(query_embedding=[1.0, 0.05], mode=VectorStoreQueryMode.MMR,
                                       similarity_top_k=2, mmr_threshold=1.0))
    assert mmr.ids == [A, "other"]


def test_get_delete_nodes_and_clear():
    store = HybridVectorStore("crud", Models(dense=None))
    store.add(nodes())
    got = store.get_nodes([C, A])
    assert [n.node_id for n in got] == [C, A] and got[1].metadata["rank"] == "a"
    assert got[0].ref_doc_id == "test-2" and got[0].embedding is None
    assert {n.node_id for n in store.get_nodes(filters=f(("rank", FilterOperator.EQ, "c")))} == {B, C}
    store.delete_nodes([A])
    assert {n.node_id for n in store.get_nodes()} == {B, C}
    store.delete_nodes(filters=f(("weight", FilterOperator.GT, 2.5)))
    assert [n.node_id for n in store.get_nodes()] == [B]
    store.clear()
    assert store.get_nodes() == [] and store.index.count() == 0


async def test_async_crud():
    store = HybridVectorStore("acrud", Models(dense=None))
    await store.async_add(nodes())
    assert [n.node_id for n in await store.aget_nodes([B])] == [B]
    await store.adelete_nodes([B])
    await store.adelete("test-0")
    assert [n.node_id for n in await store.aget_nodes()] == [C]
    await store.aclear()
    assert await store.aget_nodes() == []


def test_bad_input():
    store = HybridVectorStore("bad", Models(dense=None))
    store.add(nodes())
    with pytest.raises(FilterError, match="number or an ISO date"):
        store.query(q(f(("rank", FilterOperator.GT, "high"))))
    with pytest.raises(InvalidInputError, match="not supported"):
        store.query(q(mode=VectorStoreQueryMode.SVM))
    with pytest.raises(InvalidInputError, match="size 3, the collection's dense vector has size 2"):
        store.add([TextNode(text="x", id_="x", embedding=[1.0, 2.0, 3.0])])
    with pytest.raises(InvalidInputError, match="need query_str"):
        store.query(VectorStoreQuery(mode=VectorStoreQueryMode.SPARSE))
    assert store.index.count() == 3


async def test_a_collection_not_written_yet_or_cleared_is_empty():
    """As the LangChain store (and LlamaIndex's SimpleVectorStore): no nodes, no error."""
    store = HybridVectorStore("never-written", Models(dense=None))
    assert store.query(q()).ids == [] and (await store.aquery(q())).ids == []
    assert store.get_nodes() == []
    store.add(nodes())
    assert len(store.query(q()).ids) == 3
    store.clear()
    assert store.query(q()).ids == [] and (await store.aquery(q())).ids == []


def test_options_are_checked_in_llama_index_terms():
    store = HybridVectorStore("terms", Models(dense=None))
    store.add(nodes())
    for alpha in (1.5, -0.1):
        with pytest.raises(InvalidInputError, match=r"alpha must be within \[0, 1\]"):
            store.query(VectorStoreQuery(query_str="lorem", query_embedding=[1.0, 0.0],
                                         mode=VectorStoreQueryMode.HYBRID, alpha=alpha))
    as_string = store.query(VectorStoreQuery(query_str="lorem", query_embedding=[1.0, 0.0],
                                             mode="hybrid", similarity_top_k=3))
    as_enum = store.query(VectorStoreQuery(query_str="lorem", query_embedding=[1.0, 0.0],
                                           mode=VectorStoreQueryMode.HYBRID, similarity_top_k=3))
    assert as_string.ids == as_enum.ids and len(as_string.ids) == 3
    with pytest.raises(InvalidInputError, match="query mode 'bogus' is unknown; use one of default"):
        store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], mode="bogus"))


def test_node_embeddings_from_another_model_are_refused():
    """Nodes embedded by a model other than the store's (here a fake of the same size) would
    mix vector spaces silently; the store re-embeds one node once and tells."""
    from llama_index.core.embeddings import MockEmbedding

    from hybridstore.llama_index import HybridEmbedding

    other = MockEmbedding(embed_dim=384)
    wrong = [TextNode(text="lorem ipsum", id_="w", embedding=other.get_text_embedding("lorem ipsum"))]
    store = HybridVectorStore("spaces", Models())
    with pytest.raises(SchemaMismatchError, match="does not make.*embed_model="):
        store.add(wrong)
    assert store.index.count() == 0
    right = TextNode(text="lorem ipsum", id_="r")
    right.embedding = HybridEmbedding().get_text_embedding(right.get_content(metadata_mode=MetadataMode.EMBED))
    store.add([right])
    declared = HybridVectorStore("declared", Models(dense=None), embed_model=other)
    declared.add(wrong)  # its own model, declared: recorded as the collection's
    assert "MockEmbedding" in declared.index.info()["vectors"][0]["stored_model"]


def test_a_retrievers_mmr_threshold_is_the_lambda():
    """Retrievers pass vector_store_kwargs to query() (LlamaIndex's own stores read
    "mmr_threshold" there): it sets the MMR lambda; the query's own field wins."""
    store = HybridVectorStore("mmr-kwargs", Models(dense=None))
    store.add([TextNode(text="a", id_="near", embedding=[1.0, 0.0]),
               TextNode(text="b", id_="twin", embedding=[0.99, 0.14]),
               TextNode(text="c", id_="far", embedding=[0.6, 0.8])])
    mmr = VectorStoreQuery(query_embedding=[1.0, 0.0], mode=VectorStoreQueryMode.MMR, similarity_top_k=2)
    assert store.query(mmr, mmr_threshold=1.0).ids == ["near", "twin"]  # relevance only
    assert store.query(mmr, mmr_threshold=0.1).ids == ["near", "far"]  # diversity
    mmr.mmr_threshold = 1.0
    assert store.query(mmr, mmr_threshold=0.1).ids == ["near", "twin"]
    plain = VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2)
    assert store.query(plain, mmr_threshold=0.1).ids == ["near", "twin"]  # other modes: no use for it
