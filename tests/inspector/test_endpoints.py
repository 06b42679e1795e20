"""The inspector's JSON endpoints, without a browser, on a real on-disk index: each answer is the
core's (the same hits and explanations as `search(explain=True)`), bad requests get a JSON error
naming the field, nothing outside the index folder shows, and nothing is written."""

from __future__ import annotations

import json

import pytest

from hybridstore import explain
from hybridstore.cli import eval_report

from ..conftest import PACK, TEXTS
from .conftest import SECRET

Q = "guitar music on the street"


def post(client, path, body, status=200):
    r = client.post(f"/api/{path}", json=body)
    assert r.status_code == status, r.text
    return r.json()


def test_overview_shows_models_counts_keys_and_tenants(client):
    o = client.get("/api/overview").json()
    assert o["collection"] == "inspect" and o["count"] == len(TEXTS) + 1
    kinds = {v["kind"]: v for v in o["vectors"]}
    assert set(kinds) == {"dense", "sparse", "late_interaction"}
    assert all(v["points"] == o["count"] and v["lacking"] == 0 and "sha256:" in v["stored_model"] for v in kinds.values())
    assert o["storage_settings"]["hnsw_m"] > 0 and o["storage"] == {"engine": o["storage"]["engine"]}
    keys = o["payload_keys"]
    assert keys["year"]["types"] == ["integer"] and set(keys["year"]["examples"]) <= {str(m["year"]) for _, m in TEXTS.values()}
    assert keys["topic"]["types"] == ["string"] and len(keys["topic"]["examples"]) <= 3
    assert o["tenant_key"] == "tenant"
    assert o["tenants"] == [{"name": "north", "count": 5}, {"name": "south", "count": 4}]


@pytest.mark.parametrize("options", [{}, {"fusion": "rrf", "weights": [1, 0.5], "rerank": False},
                                     {"mode": "sparse"}, {"mode": "dense", "oversample": 2},
                                     {"filter": '{"topic": "music"}', "rerank": True},
                                     {"group_by": "topic", "rerank": False}])
def test_search_is_the_cores_explained_search(client, opened, options):
    got = post(client, "search", {"query": Q, "k": 4, **options})["hits"]
    keywords = {**options, "weights": tuple(options["weights"])} if "weights" in options else dict(options)
    if "filter" in keywords:
        keywords["filter"] = json.loads(keywords["filter"])
    grouped = "group_by" in options  # explained too, each hit with its group (before: not explained)
    want = opened.search(Q, 4, explain=True, **keywords)
    assert [h["id"] for h in got] == [h.record.id for h in want]
    for g, w in zip(got, want, strict=True):
        assert g["explanation"] == explain.as_dict(w.explanation) and g["said"] == explain.said(w.explanation)
        assert g["score"] == w.score and g["text"] == w.record.text.replace(SECRET, "…/notes.md")
        assert g["group"] == (f"topic={w.record.metadata['topic']!r}" if grouped else None)
    if options.get("mode") != "dense":
        assert "guitar" in got[0]["terms"]  # the matched terms the page highlights


def test_search_in_a_tenant_sees_only_its_records(client):
    hits = post(client, "search", {"query": "volcano ash cats", "k": 10, "tenant": "north"})["hits"]
    assert hits and {h["metadata"]["topic"] for h in hits} <= {"music", "finance"}


def test_compare_gives_each_hits_rank_movement(client):
    got = post(client, "compare", {"query": Q, "k": 5, "a": {"mode": "dense"}, "b": {"mode": "sparse"}})
    a = {h["id"]: h["rank"] for h in got["a"]}
    b = {h["id"]: h["rank"] for h in got["b"]}
    assert [m["id"] for m in got["moves"]] == list(dict.fromkeys([*a, *b]))
    for m in got["moves"]:
        assert (m["a"], m["b"]) == (a.get(m["id"]), b.get(m["id"]))
        assert m["change"] == (a[m["id"]] - b[m["id"]] if m["id"] in a and m["id"] in b else None)


def test_why_not_names_the_first_reason(client, opened):
    got = post(client, "why-not", {"query": Q, "k": 2, "id": "rates", "tenant": "north"})
    want = opened.tenant("north").why_not(Q, "rates", 2)
    assert got["stages"][0] == f"'rates' is not in the top 2: {want.reason}" and got["rank"] is None
    assert len(got["stages"]) > 2 and got["explanation"]["branches"]  # the stages, each branch's
    got = post(client, "why-not", {"query": Q, "k": 2, "id": "cats", "tenant": "south", "filter": {"topic": "nature"}})
    assert "topic" in got["reason"] and got["reason"] == opened.tenant("south").why_not(
        Q, "cats", 2, filter={"topic": "nature"}).reason


def test_why_not_on_the_whole_collection_finds_a_tenants_record(client, opened):
    """No tenant chosen: the record is found by its id, as the unscoped search finds it.
    (Before: "no record has id 'rates'".)"""
    got = post(client, "why-not", {"query": Q, "k": 2, "id": "rates"})
    want = opened.why_not(Q, "rates", 2)
    assert got["reason"] == want.reason and want.reason != "no record has id 'rates'" and got["explanation"]


def test_eval_gives_the_reports_charts_and_the_lost_queries(client):
    rows = [{"mode": m, "ndcg@10": v, "recall@100": v, "p50_ms": 1.0,
             "queries": {"q1": {"ndcg@10": v, "recall@100": v}, "q2": {"ndcg@10": 1 - v, "recall@100": 1.0}}}
            for m, v in (("dense", 0.8), ("sparse", 0.4), ("hybrid", 0.6))]
    got = post(client, "eval", {"rows": rows, "queries": {"q1": "guitar <b>"}, "name": "mine.json"})
    assert 'class="bars" data-metric="ndcg@10"' in got["html"] and 'class="spread"' in got["html"]
    assert got["lost"] == [{"id": "q1", "text": "guitar <b>", "by": "dense"}, {"id": "q2", "text": "", "by": "sparse"}]
    assert "guitar &lt;b&gt;" in got["html"] and "<b>" not in got["html"]
    assert got["html"] == "\n".join(eval_report.charts(rows, eval_report.losses(rows, {"q1": "guitar <b>", "q2": ""})))


@pytest.mark.parametrize(("path", "body", "named"), [
    ("search", {"query": ""}, "query"),
    ("search", {"query": Q, "k": 0}, "k"),
    ("search", {"query": Q, "mode": "image"}, "mode"),
    ("search", {"query": Q, "colour": "red"}, "colour"),
    ("search", {"query": Q, "filter": "{topic"}, "filter is not JSON"),
    ("search", {"query": Q, "filter": {"topic": {"$near": 1}}}, "$near"),
    ("search", {"query": Q, "rrf_k": 0}, "rrf_k"),
    ("search", [Q], "JSON object"),
    ("why-not", {"query": Q}, "id"),
    ("compare", {"query": Q, "a": {}}, "b"),
    ("eval", {"rows": [{"mode": "dense"}]}, "eval's --json-out"),
])
def test_bad_requests_get_a_json_error_naming_the_problem(client, path, body, named):
    got = post(client, path, body, status=400)
    assert named in got["error"]


def test_not_json_wrong_method_unknown_page_and_foreign_host_are_refused(client):
    r = client.post("/api/search", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    r = client.get("/api/search")
    assert r.status_code == 405 and "GET /api/search" in r.json()["error"]
    for page in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/../answers.py", "/answers.py"):
        r = client.get(page)
        assert r.status_code == 404 and "root:" not in r.text and "import" not in r.text
    r = client.get("/api/overview", headers={"host": "attacker.example"})  # DNS rebinding
    assert r.status_code == 400


def test_the_page_and_its_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and 'src="/inspect.js"' in page.text and "http" not in page.text.replace(
        "http-equiv", "")
    for name, kind in (("inspect.js", "javascript"), ("inspect.css", "css")):
        r = client.get(f"/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert "http://" not in r.text and "https://" not in r.text  # nothing fetched from elsewhere


def test_no_path_outside_the_index_folder_shows(client, folder):
    answers = [client.get("/api/overview").text,
               client.post("/api/search", json={"query": "volcano ash notes", "k": 10}).text,
               client.post("/api/search", json={"query": "volcano", "tenant": "south"}).text,
               client.post("/api/why-not", json={"query": "volcano", "id": "nope", "k": 1}).text,
               client.post("/api/search", json={"query": Q, "tenant": "west\n"}).text]
    assert "notes" in answers[1] and "…/notes.md" in answers[1]
    for text in answers:
        for host_path in (SECRET, "/home/someone", str(PACK), str(folder), str(folder.parent)):
            assert host_path not in text and json.dumps(host_path)[1:-1] not in text


def test_an_index_without_tenants_or_folder(index):
    """conftest's in-memory index (no tenant_key, no folder): no tenants offered, a tenant asked
    is refused by name, and every absolute path is hidden (nothing is inside a folder)."""
    from starlette.testclient import TestClient

    from hybridstore.inspector.answers import Inspector
    from hybridstore.inspector.endpoints import app

    with TestClient(app(Inspector(index, None)), base_url="http://127.0.0.1") as c:
        o = c.get("/api/overview").json()
        assert o["tenant_key"] is None and o["tenants"] == [] and o["count"] == len(TEXTS)
        assert "no tenants" in post(c, "search", {"query": Q, "tenant": "north"}, status=400)["error"]
        assert [h["id"] for h in post(c, "search", {"query": Q, "k": 2})["hits"]] == [
            h.record.id for h in index.search(Q, 2)]
