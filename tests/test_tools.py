"""`tools`: search as a tool for an agent, shared by the LangChain and LlamaIndex tools and the
MCP server: the description names the modes and the filterable keys with their types, the
collection's facts leave out host paths, and a bad argument comes back as an answer the model
can correct, never as an exception. The agents' own loops: tests/langchain/test_tools.py,
tests/llama_index/test_tools.py, tests/cli/test_mcp.py. A sparse-only index (the pack's BM25)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from hybridstore import HybridIndex, Models, Record
from hybridstore.tools import (
    SearchArgs,
    bad_arguments,
    callables,
    collection_facts,
    description,
    modes,
)

from .conftest import TEXTS

FIX = "Correct the arguments and call the tool again."


@pytest.fixture(scope="module")
def index():
    idx = HybridIndex("tools", Models(dense=None))
    idx.add([Record(rid, text, dict(meta)) for rid, (text, meta) in TEXTS.items()]
            + [Record("long", "word " * 400, {"topic": "long"})])
    yield idx
    idx.close()


def test_the_description_names_the_modes_and_the_keys_with_their_types(index):
    assert modes(index) == ["sparse"]  # what a sparse-only index serves
    said = description(index)
    assert said.startswith("Search the collection 'tools' with hybrid retrieval (modes: sparse; the first "
                           "is the default). Metadata keys a filter can use: ")
    for key in ("topic (string)", "year (integer)", "tags (list)", "rating (number)", "author (object)"):
        assert key in said
    assert description(index, "the team's notes").startswith("Search the team's notes with")


def test_declared_payload_indexes_are_the_keys_listed():
    idx = HybridIndex("declared", Models(dense=None), payload_indexes={"year": "integer"})
    idx.add([Record("a", "text", {"year": 1, "secret": "x"})])
    assert "Metadata keys a filter can use: year (integer)." in description(idx)
    idx.close()


def test_collection_facts_leave_out_where_the_index_and_models_lie(tmp_path, pack):
    with HybridIndex("facts", Models(dense=None), path=str(tmp_path)) as idx:
        idx.add([Record("a", "text", {"year": 1})])
        facts = collection_facts(idx)
    assert str(tmp_path) not in facts and str(pack) not in facts
    parsed = json.loads(facts)
    assert parsed["modes"] == ["sparse"] and parsed["filterable_keys"] == {"year": "integer"}
    assert set(parsed["storage"]) == {"engine"}


async def test_a_search_answers_with_ranked_hits_sync_and_async(index):
    run, arun = callables(index)
    answer = run(query="someone playing the guitar", k=2)
    assert answer == await arun(query="someone playing the guitar", k=2)
    first, second = answer.split("\n\n")
    assert first.startswith("1. [guitar-") and second.startswith("2. [guitar-")
    assert '"topic": "music"' in first and "score " in first
    long = run(query="word", k=1)
    assert long.startswith("1. [long]") and long.endswith("...") and len(long.split("\n", 1)[1]) == 600
    assert run(query="guitar", filter='{"topic": "nothing"}') == "No results."
    assert run(query="the bank", filter={"topic": "finance"}, k=5).count("\n\n") == 1  # two hits: stocks, rates


@pytest.mark.parametrize("args, says", [
    ({"query": "x", "filter": "{bad"}, ("Error: filter is not JSON (Expecting property name enclosed in double "
                                       "quotes at column 2)")),
    ({"query": "x", "k": 0}, "Error: bad arguments: k: Input should be greater than or equal to 1"),
    ({"query": "x", "mode": "fast"}, "Error: bad arguments: mode: Input should be"),
    ({"k": 3}, "Error: bad arguments: query: Field required"),
    ({"query": "x", "mode": "dense"}, "Error: "),
    ({"query": "x", "filter": {"year": {"$near": 3}}}, "Error: "),
])
async def test_a_bad_argument_is_an_answer_naming_it_not_an_exception(index, args, says):
    run, arun = callables(index)
    answer = run(**args)
    assert answer.startswith(says) and answer.endswith(FIX), answer
    assert await arun(**args) == answer


def test_the_mode_and_filter_errors_say_what_to_change(index):
    run, _ = callables(index)
    assert "dense" in run(query="x", mode="dense")
    assert "$near" in run(query="x", filter={"year": {"$near": 3}})


def test_bad_arguments_for_frameworks_that_check_them_first():
    with pytest.raises(ValidationError) as err:
        SearchArgs(query="x", k=99)
    assert bad_arguments(err.value) == f"Error: bad arguments: k: Input should be less than or equal to 50. {FIX}"


async def test_explain_adds_a_why_line_per_hit_from_the_cores_explanation(index):
    from hybridstore import explain

    run, arun = callables(index)
    answer = run(query="someone playing the guitar", k=2, explain=True)
    assert answer == await arun(query="someone playing the guitar", k=2, explain=True)
    hits = index.search("someone playing the guitar", 2, explain=True)
    for block, hit in zip(answer.split("\n\n"), hits, strict=True):
        header, why, text = block.split("\n")
        assert header.startswith(f"{hit.explanation.rank}. [{hit.record.id}]") and text == hit.record.text
        assert why == f"why: {explain.said(hit.explanation)}"
    assert why.startswith("why: sparse #2 ") and "guitar=" in why  # rank, raw score, matched terms
    assert "why:" not in run(query="someone playing the guitar", k=2)
    assert run(query="x", explain="maybe").startswith("Error: bad arguments: explain")


async def test_boost_as_json_ranks_as_the_core_does_and_a_bad_one_names_the_fix(index):
    run, arun = callables(index)
    boost = {"match": [[{"topic": "finance"}, 3.0]], "factor": {"key": "rating", "missing": 1}}
    hits = index.search("the bank and the guitar", 3, boost=boost)
    answer = run(query="the bank and the guitar", k=3, boost=json.dumps(boost))
    assert answer == await arun(query="the bank and the guitar", k=3, boost=boost)  # JSON text or an object
    assert [b.split("]")[0] for b in answer.split("\n\n")] == [f"{r}. [{h.record.id}" for r, h in enumerate(hits, 1)]
    assert answer != run(query="the bank and the guitar", k=3)
    why = run(query="the bank and the guitar", k=1, boost=boost, explain=True).split("\n")[1]
    assert why == f"why: {explain_said(index, boost)}" and "; boost " in why
    assert run(query="x", boost="{bad").startswith("Error: boost is not JSON")
    wrong = run(query="x", boost={"recency": {"key": "year"}})
    assert wrong.startswith("Error: recency takes a dict with 'key' and 'half_life'") and "docs/ranking.md" in wrong
    assert wrong.endswith(FIX) and await arun(query="x", boost={"recency": {"key": "year"}}) == wrong


def explain_said(index, boost) -> str:
    from hybridstore import explain

    return explain.said(index.search("the bank and the guitar", 1, boost=boost, explain=True)[0].explanation)
