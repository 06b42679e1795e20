"""Shared fixtures: the offline model pack in ../shared/models and a small real corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from qdrant_client import models as qm

ROOT = Path(__file__).resolve().parents[1]
PACK = Path(os.environ.get("HYBRIDSTORE_MODELS") or ROOT.parent / "shared" / "models")
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HYBRIDSTORE_MODELS", str(PACK))

if not (PACK / "models.json").is_file():
    raise RuntimeError(f"the offline model pack is missing at {PACK}; set HYBRIDSTORE_MODELS")

LATE = "colbert-ir/colbertv2.0"

TEXTS = {
    "guitar-1": ("A man is playing a guitar on the street.", {"topic": "music", "year": 2019, "tags": ["guitar", "street"]}),
    "guitar-2": ("Someone plays an acoustic guitar on stage.", {"topic": "music", "year": 2021, "tags": ["guitar", "stage"]}),
    "piano": ("The pianist performed a Chopin nocturne at the concert hall.", {"topic": "music", "year": 2023, "tags": ["piano"]}),
    "stocks": ("The stock market fell sharply today after the bank report.", {"topic": "finance", "year": 2020, "tags": ["markets"]}),
    "rates": ("Interest rates rose again, the central bank said.", {"topic": "finance", "year": 2022, "tags": ["bank"]}),
    "cats": ("Cats sleep for most of the day and hunt at night.", {"topic": "animals", "year": 2018, "tags": []}),
    "dogs": ("Dogs need daily walks and love to fetch a ball.", {"topic": "animals", "year": 2024, "tags": ["pets"], "rating": 4.5}),
    "volcano": ("The volcano erupted, sending ash over the island villages.", {"topic": "nature", "year": 2021, "author": {"name": "Ana", "country": "PT"}}),
}

# Filters over TEXTS and the records they select, for the index tests and the engine parity tests.
FILTER_CASES = [
    ({"topic": "music"}, {"guitar-1", "guitar-2", "piano"}),
    ({"topic": {"$ne": "music"}}, {"stocks", "rates", "cats", "dogs", "volcano"}),
    ({"year": {"$gte": 2021, "$lt": 2024}}, {"guitar-2", "piano", "rates", "volcano"}),
    ({"year": {"$gt": 2023}}, {"dogs"}),
    ({"year": {"$lte": 2018}}, {"cats"}),
    ({"topic": {"$in": ["animals", "nature"]}}, {"cats", "dogs", "volcano"}),
    ({"topic": {"$nin": ["music", "finance", "animals"]}}, {"volcano"}),
    ({"tags": "guitar"}, {"guitar-1", "guitar-2"}),
    ({"tags": {"$contains": "bank"}}, {"rates"}),
    ({"tags": {"$all": ["guitar", "stage"]}}, {"guitar-2"}),
    ({"rating": 4.5}, {"dogs"}),
    ({"author.name": "Ana"}, {"volcano"}),
    ({"author": {"$exists": True}}, {"volcano"}),
    ({"tags": {"$is_empty": True}}, {"cats", "volcano"}),
    ({"$or": [{"year": 2018}, {"topic": "finance"}]}, {"cats", "stocks", "rates"}),
    # empty lists, as in MongoDB: $in matches nothing, $nin and $all everything (both engines)
    ({"topic": {"$in": []}}, set()),
    ({"$or": [{"topic": {"$in": []}}, {"year": 2018}]}, {"cats"}),
    ({"$not": {"topic": {"$in": []}}}, set(TEXTS)),
    ({"topic": {"$nin": []}}, set(TEXTS)),
    ({"tags": {"$all": []}}, set(TEXTS)),
    ({"$and": [{"topic": "music"}, {"$not": {"year": 2019}}]}, {"guitar-2", "piano"}),
    (qm.Filter(must=[qm.FieldCondition(key="metadata.topic", match=qm.MatchValue(value="finance"))]),
     {"stocks", "rates"}),
]


@pytest.fixture(scope="session")
def pack() -> Path:
    return PACK


@pytest.fixture
def records():
    from hybridstore import Record

    return [Record(rid, text, dict(meta), doc_id=f"doc-{meta['topic']}") for rid, (text, meta) in TEXTS.items()]


@pytest.fixture(scope="session")
def models():
    from hybridstore import Models

    return Models(late_interaction=LATE)


@pytest.fixture
def index(models, records):
    from hybridstore import HybridIndex

    idx = HybridIndex("test", models, location=":memory:")
    idx.add(records)
    yield idx
    idx.close()


def pytest_report_header(config):
    return f"hybridstore embedded engine: {os.environ.get('HYBRIDSTORE_ENGINE') or 'edge (default)'}"


def scroll_all(engine, collection, flt=None, limit=None):
    """Every point an engine's scroll pages give for `flt` (the core's paging steps, run here)."""
    from hybridstore.engine.requests import scroll

    steps, result = scroll(flt, limit), None
    try:
        while True:
            result = engine.run(collection, steps.send(result))
    except StopIteration as done:
        return done.value
