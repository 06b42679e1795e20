"""Pages as images (the late_interaction_multimodal kind) with a constructed ColPali-shaped model
(tiny_colpali) whose right answers are known: a query's MaxSim with a page counts the query's
colour words the page shows in some patch. Runs on the engine of $HYBRIDSTORE_ENGINE."""

from __future__ import annotations

import asyncio
import math
import threading

import numpy as np
import pytest

from hybridstore import HybridIndex, Models, ModelSpec, Record
from hybridstore.errors import ConfigurationError, InvalidInputError, SchemaMismatchError
from hybridstore.inference.pages import pooled
from hybridstore.qdrant import query as qplan
from hybridstore.tools import modes

from .tiny_colpali import NAME, build

PAGES = "late_interaction_multimodal"


def page_models(spec, **text):
    return Models(late_interaction_multimodal=spec, **({"dense": None, "sparse": None} | text))


def maxsim(query: np.ndarray, doc: np.ndarray) -> float:
    """MaxSim under cosine, the page's vectors rounded to float16 as they are stored."""
    def unit(m):
        return m / np.linalg.norm(m, axis=1, keepdims=True)
    return float((unit(query) @ unit(doc.astype(np.float16).astype(np.float32)).T).max(axis=1).sum())


def test_the_right_page_wins_by_maxsim_not_by_its_pooled_vector(colpali, tmp_path):
    spec, pages = colpali
    with HybridIndex("pages", page_models(spec), path=str(tmp_path / "db")) as index:
        index.add([Record(name, "", image=path) for name, path in pages.items()])  # pages alone, no text
        hits = index.search("red blue", 4, explain=True)  # mode "pages" is the default of a page model alone
        assert [h.record.id for h in hits[:2]] == ["one-red-one-blue", "all-red"]
        assert math.isclose(hits[0].score, 2.0, abs_tol=1e-3) and math.isclose(hits[1].score, 1.0, abs_tol=1e-3)
        # the pooled vectors alone rank the all-red page first: the MaxSim rerank moved it down
        branch = {h.record.id: h.explanation.branches[0] for h in hits}
        assert branch["all-red"].rank == 1 and branch["one-red-one-blue"].rank == 2
        first = hits[0].explanation
        assert first.branches[0].kind == "late_interaction_multimodal_pooled" and first.rerank.vector == "pages"
        assert first.rerank.rank_before == 2 and first.rerank.rank == 1
        assert "MaxSim" in first.relevance_rule
        # the scores recompute exactly from the model's vectors
        embedder = index.models.late_interaction_multimodal
        query = embedder.embed_queries(["red blue"])[0]
        stored = dict(zip(pages, embedder.embed_images(list(pages.values())), strict=True))
        for h in hits:
            assert math.isclose(h.explanation.rerank.score, maxsim(query, stored[h.record.id]), abs_tol=1e-4)
            cosine = float(np.dot(pooled(query), pooled(stored[h.record.id])))
            assert math.isclose(branch[h.record.id].score, cosine, abs_tol=1e-3)
        assert index.search("green", 1, mode="pages")[0].record.id == "green-corner"
        batch = index.search_batch(["red blue", "green"], 1, mode="pages")  # one request, a plan per query
        assert [hits[0].record.id for hits in batch] == ["one-red-one-blue", "green-corner"]
        vectors = {v["name"]: (v["kind"], v["points"]) for v in index.info()["vectors"]}
        assert vectors == {"pages": (PAGES, 4), "pages_pooled": ("late_interaction_multimodal_pooled", 4)}


def test_pages_fuse_with_the_text_hybrid_in_one_query(colpali, tmp_path):
    spec, pages = colpali
    models = Models(late_interaction_multimodal=spec)  # the pack's dense and sparse models too
    records = [Record("one-red-one-blue", "quarterly revenue table", image=pages["one-red-one-blue"]),
               Record("all-red", "quarterly revenue table", image=pages["all-red"]),
               Record("green-corner", "a poem about the sea", image=pages["green-corner"]),
               Record("note", "revenue grew in the quarter")]  # text alone: no page vectors
    with HybridIndex("mixed", models, path=str(tmp_path / "db")) as index:
        index.add(records)
        hits = index.search("red blue revenue table", 4, explain=True)  # default: multimodal, text + pages
        assert hits[0].record.id == "one-red-one-blue", [h.record.id for h in hits]
        e = hits[0].explanation
        assert [b.kind for b in e.branches] == ["dense", "sparse", PAGES] and e.fusion is not None
        assert math.isclose(sum(b.contribution for b in e.branches), hits[0].score, rel_tol=1e-5)
        by_id = {h.record.id: h.explanation.branches[2] for h in hits}
        assert by_id["note"].rank is None and by_id["note"].absent == "lacks the vector"
        assert index.search("revenue", 4, mode="hybrid")[0].record.id in {"note", "one-red-one-blue", "all-red"}
        only = index.search("red blue", 3, fuse=("sparse", "pages"), fusion="rrf", weights=(0.1, 3.0))
        assert only[0].record.id == "one-red-one-blue"
        assert {h.record.id for h in index.search("red blue", 10, mode="pages")} == {"one-red-one-blue", "all-red",
                                                                                      "green-corner"}
        with pytest.raises(InvalidInputError, match="rerank"):
            index.search("red", 1, mode="pages", rerank=True)
        with pytest.raises(InvalidInputError, match="fuse= takes"):
            index.search("red", 1, fuse=("pages", "colour"))
        assert modes(index) == ["multimodal", "dense", "sparse", "hybrid", "pages"]  # what an agent is told


def test_the_plan_prefetches_pooled_vectors_then_ranks_by_maxsim():
    req = qplan.resolve(qplan.SearchRequest(k=5, mode="pages"), {PAGES})
    assert qplan.query_kinds(req) == [PAGES, "late_interaction_multimodal_pooled"]
    plan = qplan.build_plan(req, {PAGES: [[1.0, 0.0]], "late_interaction_multimodal_pooled": [1.0, 0.0]},
                            {PAGES: "pages", "late_interaction_multimodal_pooled": "pages_pooled"})
    root = plan.root
    assert isinstance(root, qplan.Nearest) and root.using == "pages" and root.limit == 5
    assert root.source is not None and root.source.using == "pages_pooled" and root.source.limit == qplan.PAGE_POOL
    with pytest.raises(InvalidInputError, match="late_interaction_multimodal model"):
        qplan.resolve(qplan.SearchRequest(mode="pages"), {"dense", "sparse"})


def test_a_collection_keeps_its_page_model(colpali, tmp_path):
    spec, pages = colpali
    folder = str(tmp_path / "db")
    with HybridIndex("pages", Models(late_interaction_multimodal=spec), path=folder) as index:
        index.add([Record("blank", "", image=pages["blank"])])
    other = build(tmp_path / "other", sharpness=20.0)  # the same layout, other weights
    with HybridIndex("pages", Models(late_interaction_multimodal=ModelSpec(NAME, PAGES, str(other))),
                     path=folder) as index:
        with pytest.raises(SchemaMismatchError, match="'pages' was written by .*other weights"):
            index.add([Record("x", "", image=pages["blank"])])
    with HybridIndex("pages", Models(), path=folder) as texts:  # the page vectors are optional
        texts.add([Record("note", "a text")])
        assert texts.search("a text", 1)[0].record.id == "note"


def test_texts_need_no_page_model_and_images_need_one(colpali, tmp_path):
    spec, pages = colpali
    with HybridIndex("pages", page_models(spec), path=str(tmp_path / "db")) as index:
        with pytest.raises(InvalidInputError, match="text is empty"):
            index.add([Record("nothing", "")])
        with pytest.raises(InvalidInputError, match="embeds images"):
            index.models.late_interaction_multimodal.embed_documents(["a text"])
    with HybridIndex("texts", Models(), path=str(tmp_path / "db2")) as plain:
        with pytest.raises(InvalidInputError, match=r"Models\(late_interaction_multimodal=\.\.\.\)"):
            plain.add([Record("page", "a page", image=pages["blank"])])
    with pytest.raises(ConfigurationError, match="quantize"):
        ModelSpec(NAME, PAGES, spec.path, {"quantize": "int8"})


def test_a_server_gets_the_recommended_shape(colpali):
    """On a server (the fake of tests/reliability checks every body against qdrant-client's REST
    models): the patch vectors are a MaxSim multivector without a graph, on disk, float16; the
    pooled vector a plain one with a graph; a pages search prefetches by the pooled vector."""
    from ..reliability.fake_qdrant import FakeQdrant

    spec, pages = colpali
    with FakeQdrant() as fake:
        index = HybridIndex("served", Models(late_interaction_multimodal=spec), url=fake.url)
        index.add([Record(n, "page text", image=p) for n, p in pages.items()] + [Record("note", "just text")])
        created = next(b for m, path, b in fake.bodies if m == "PUT" and path == "/collections/served")
        vectors = created["vectors"]
        assert vectors["pages"]["multivector_config"] == {"comparator": "max_sim"}
        assert vectors["pages"]["hnsw_config"] == {"m": 0} and vectors["pages"]["on_disk"] is True
        assert vectors["pages"]["datatype"] == "float16"
        assert "multivector_config" not in vectors["pages_pooled"] and "hnsw_config" not in vectors["pages_pooled"]
        written = [p for m, path, b in fake.bodies if path == "/collections/served/points" for p in b["points"]]
        assert len([p for p in written if "pages" in p["vector"]]) == len(pages)
        assert len(index.search("red blue", 3, mode="pages")) == 3  # the note has no page vectors
        query = next(b for m, path, b in reversed(fake.bodies) if path.endswith("/points/query"))
        assert query["using"] == "pages" and query["prefetch"][0]["using"] == "pages_pooled"
        assert {h.record.id for h in index.search("red blue text", 5)} == set(pages) | {"note"}  # multimodal
        index.close()


def test_an_edge_shard_stores_the_page_vectors_as_asked(tmp_path):
    """A real Qdrant Edge shard's stored configuration: the patch vectors on disk, float16, MaxSim,
    no graph, whatever the storage asked for the rest; the pooled vector as a dense one."""
    import json

    import qdrant_edge as edge

    from hybridstore.engine.edge_config import config
    from hybridstore.qdrant.schema import Schema, VectorField
    from hybridstore.qdrant.storage import Storage

    schema = Schema((VectorField("pages", PAGES, 8), VectorField("pages_pooled", f"{PAGES}_pooled", 8)))
    edge.EdgeShard.create(str(tmp_path), config(schema, Storage(late_quantize="int8", hnsw_m=32))).close()
    stored = json.loads((tmp_path / "edge_config.json").read_text())["vectors"]
    assert stored["pages"]["on_disk"] is True and stored["pages"]["datatype"] == "float16"
    assert stored["pages"]["hnsw_config"]["m"] == 0 and stored["pages"]["multivector_config"]["comparator"] == "max_sim"
    assert not stored["pages"].get("quantization_config")  # never quantized
    assert "multivector_config" not in stored["pages_pooled"] and stored["pages_pooled"]["hnsw_config"]["m"] == 32


def test_reembed_adds_page_vectors_from_stored_paths(colpali, clip, tmp_path):
    spec, pages = colpali
    clip_models, _ = clip
    folder = str(tmp_path / "db")
    with HybridIndex("pics", Models(image=clip_models.image.spec), path=folder) as index:  # images, no page model
        index.add([Record(name, "scanned page", image=path) for name, path in pages.items()])
    with HybridIndex("pics", Models(image=clip_models.image.spec, late_interaction_multimodal=spec),
                     path=folder) as index:
        filled = index.reembed()
        assert filled["pages"] == filled["pages_pooled"] == len(pages) and filled["dense"] == 0
        assert [h.record.id for h in index.search("red blue", 2, mode="pages")] == ["one-red-one-blue", "all-red"]


def test_copy_and_snapshot_keep_the_page_vectors(colpali, tmp_path):
    spec, pages = colpali
    models = page_models(spec)
    with HybridIndex("a", models, path=str(tmp_path / "a")) as a, HybridIndex("b", models, location=":memory:") as b:
        a.add([Record(name, "", image=path) for name, path in pages.items()])
        assert a.copy_to(b)["verified"] == len(pages)
        assert [h.record.id for h in b.search("red blue", 2, mode="pages")] == ["one-red-one-blue", "all-red"]
        a.snapshot(str(tmp_path / "a.snap"))
    HybridIndex.restore(str(tmp_path / "a.snap"), "c", path=str(tmp_path / "c"))
    with HybridIndex("c", models, path=str(tmp_path / "c")) as c:
        assert [h.record.id for h in c.search("red blue", 2)] == ["one-red-one-blue", "all-red"]
        assert {v["name"]: v["kind"] for v in c.info()["vectors"]} == {"pages": PAGES, "pages_pooled": f"{PAGES}_pooled"}


def test_reembed_adds_page_vectors_to_pdf_pages_by_rendering_them_again(colpali, clip, tmp_path):
    """A PDF page is stored as its file, page and dpi: a page model added later renders it again
    (a page given as bytes is stored as a digest, and could not be)."""
    from hybridstore.documents import page_images, page_records, read_pdf

    from ..pdfs import pdf

    spec, _ = colpali
    clip_models, _ = clip
    f = tmp_path / "book.pdf"
    f.write_bytes(pdf([["Rivers run to the sea."], None, ["Cats sleep all day."]]))
    records = page_records(str(f), read_pdf(str(f)), images=page_images(f, dpi=72))
    folder = str(tmp_path / "db")
    with HybridIndex("book", Models(image=clip_models.image.spec), path=folder) as index:
        index.add(records)
    with HybridIndex("book", Models(image=clip_models.image.spec, late_interaction_multimodal=spec),
                     path=folder) as index:
        assert index.reembed()["pages"] == 3
        top = index.search("black", 1, mode="pages")[0]  # page 2 is a dark picture
        assert top.record.id == f"{f}#p2.0" and top.record.image == f"{f.resolve()}#page=2&dpi=72"
        assert index.reembed()["pages"] == 0
    with HybridIndex("book2", Models(image=clip_models.image.spec), path=folder) as index:
        index.add(records)
    f.write_bytes(pdf([["Rivers run to the sea."], None]))  # the PDF changed: its page 3 is gone
    with HybridIndex("book2", Models(image=clip_models.image.spec, late_interaction_multimodal=spec),
                     path=folder) as index:
        assert index.reembed()["pages"] == 2  # the page that no longer renders is left, not fatal
        assert {v["name"]: v["lacking"] for v in index.info()["vectors"]}["pages"] == 1  # and said


def test_a_pdf_page_is_rendered_once_per_add_and_never_held(colpali, tmp_path, monkeypatch):
    """One render per page gives both its digest and its vectors; a re-add renders it once more
    (to see that it has not changed) and embeds nothing."""
    from hybridstore import rendering
    from hybridstore.documents import page_images, page_records, read_pdf

    from ..pdfs import pdf

    spec, _ = colpali
    f = tmp_path / "book.pdf"
    f.write_bytes(pdf([["Rivers run to the sea."], None, ["Cats sleep all day."]]))
    renders = []
    real = rendering.render_page
    monkeypatch.setattr(rendering, "render_page", lambda *a: renders.append(a) or real(*a))
    records = page_records(str(f), read_pdf(str(f)), images=page_images(f, dpi=72))
    assert renders == [] and all(r.image.png is None for r in records)  # named, not rendered
    with HybridIndex("book", page_models(spec), location=":memory:") as index:
        index.add(records)
        assert len(renders) == 3 and index.stats["embedded"] == 3
        assert all(r.image.png is None for r in records)  # the renders went with their batch
        index.add(records)
        assert len(renders) == 6 and index.stats == {"embedded": 0, "unchanged": 3, "payload_only": 0}
    threads = []
    monkeypatch.setattr(rendering, "render_page", lambda *a: threads.append(threading.get_ident()) or real(*a))

    async def add() -> None:
        async with HybridIndex("book", page_models(spec), location=":memory:") as index:
            await index.aadd(records)
            assert index.stats["embedded"] == 3

    asyncio.run(add())
    assert len(threads) == 3 and threading.get_ident() not in threads  # rendered off the event loop
