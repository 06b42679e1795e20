"""`hybridstore search --boost JSON` and `why-not --boost JSON`: the vocabulary of search(boost=)
(docs/ranking.md) as JSON; bad JSON and a bad boost refused with exit 2, naming the fix."""

import json

import pytest

from .test_cli import run


@pytest.fixture
def store(tmp_path):
    notes = tmp_path / "notes.jsonl"
    notes.write_text("".join(json.dumps(n) + "\n" for n in [
        {"id": "old", "text": "Release notes: the new search engine is out.",
         "metadata": {"published": "2025-06-01T00:00:00Z", "source": "official"}},
        {"id": "fresh", "text": "Release notes: search engine fixes and speedups.",
         "metadata": {"published": "2026-05-28T00:00:00Z", "source": "blog"}},
    ]))
    where = ["--path", str(tmp_path / "index"), "--collection", "news"]
    assert main_ok(where, "ingest", str(notes))
    return where


def main_ok(where, *argv) -> bool:
    from hybridstore.cli import main

    return main([*where, *argv]) == 0


RECENT = {"recency": {"key": "published", "half_life": "30d", "now": "2026-06-01T00:00:00Z"}}
OFFICIAL = {"match": [[{"source": "official"}, 100]]}


def ids(out: str) -> list[str]:
    return [json.loads(line)["id"] for line in out.splitlines()]


def test_search_boost_reorders_as_search_does(store, capsys):
    capsys.readouterr()
    order = {}
    for name, boost in (("recent", RECENT), ("official", OFFICIAL)):
        code, out, _ = run(capsys, *store, "search", "release notes search engine", "-k", "2", "--json",
                           "--boost", json.dumps(boost))
        assert code == 0
        order[name] = ids(out)
    assert order == {"recent": ["fresh", "old"], "official": ["old", "fresh"]}


def test_why_not_takes_the_boost(store, capsys):
    capsys.readouterr()
    code, out, _ = run(capsys, *store, "why-not", "old", "release notes search engine", "-k", "1", "--json",
                       "--boost", json.dumps(RECENT))
    assert code == 0 and json.loads(out)["rank"] is None and "the boost sank it" in json.loads(out)["reason"]
    code, out, _ = run(capsys, *store, "why-not", "old", "release notes search engine", "-k", "1", "--json",
                       "--boost", json.dumps(OFFICIAL))
    assert code == 0 and json.loads(out)["rank"] == 1


def test_bad_json_is_refused_by_the_parser_naming_where(store, capsys):
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        run(capsys, *store, "search", "release notes", "--boost", '{"recency": {"key": "published"')
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "--boost: not valid JSON (Expecting ',' delimiter at column 32)" in err


@pytest.mark.parametrize(("boost", "says"), [
    ('{"recency": {"key": "published", "half_life": "30"}}', "half"),
    ('{"popularity": 2}', "unknown boost key(s) ['popularity']"),
    ('[1, 2]', "boost takes a non-empty dict"),
])
def test_a_bad_boost_is_refused_naming_the_fix(store, capsys, boost, says):
    capsys.readouterr()
    code, out, err = run(capsys, *store, "search", "release notes", "--boost", boost)
    assert code == 2 and says in err and out == ""
