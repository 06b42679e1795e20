"""Hostile and odd input, property-based: each example round-trips exactly or is refused with a
clear error before any write; nothing crashes or corrupts the index (an anchor record and the
count are checked after every example). Seeds are fixed (derandomize): no flakes."""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridstore import HybridIndex, InvalidInputError, Models, Record, TruncationWarning
from hybridstore.qdrant.filters import FIELD_OPS

from ..conftest import TEXTS

SETTINGS = settings(max_examples=75, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ANCHOR = Record("anchor", "The anchor record must never change.", {"safe": True, "n": 1})
SURROGATES = st.sampled_from(["\ud800", "ok\udfffok"])
EXAMPLES = {"metadata": 0, "texts": 0, "filters": 0, "refused": 0}


@pytest.fixture(scope="module")
def idx():
    index = HybridIndex("hostile", Models(), location=":memory:")
    index.add([ANCHOR] + [Record(rid, text, meta) for rid, (text, meta) in TEXTS.items()])
    yield index
    index.close()


def intact(index: HybridIndex, count: int) -> None:
    assert index.get(["anchor"]) == [ANCHOR]
    assert index.count() == count


# -- metadata ----------------------------------------------------------------------------------
plain = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                  st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
odd = st.one_of(st.floats(), st.integers(min_value=2**63), st.binary(max_size=4), st.datetimes(),
                st.dates(), st.tuples(st.integers()), st.frozensets(st.integers(), max_size=2),
                SURROGATES, st.just(object()))
keys = st.one_of(st.text(max_size=8), st.integers(), SURROGATES)
values = st.recursive(st.one_of(plain, plain, odd), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)), max_leaves=12)


def storable(value, depth: int = 0) -> bool:
    """The documented rule, stated independently: JSON values that survive a round trip."""
    if depth > 32:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _utf8(k) and storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v, depth + 1) for v in value)
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return json.loads(json.dumps(value)) == value if math.isfinite(value) else False
    return False


def _utf8(s: str) -> bool:
    try:
        s.encode()
        return True
    except UnicodeEncodeError:
        return False


@SETTINGS
@given(meta=st.dictionaries(keys, values, max_size=4))
def _metadata_round_trips_or_is_refused(idx, meta):
    count = idx.count()
    probe = Record("probe", "a probe about rivers and lakes", meta)
    before = idx.get(["probe"])
    EXAMPLES["metadata"] += 1
    if storable(meta):
        idx.add([probe])
        assert idx.get(["probe"]) == [probe]
        count += not before
    else:
        with pytest.raises(InvalidInputError, match="record 'probe': metadata"):
            idx.add([probe])
        assert idx.get(["probe"]) == before  # refused before any write
        EXAMPLES["refused"] += 1
    intact(idx, count)


def test_metadata_round_trips_or_is_refused(idx):
    _tried(_metadata_round_trips_or_is_refused, idx, "metadata")


@pytest.mark.parametrize("depth, ok", [(30, True), (40, False), (5000, False)])
def test_deep_nesting_is_refused_not_crashed(idx, depth, ok):
    meta: dict = {"leaf": 1}
    for _ in range(depth):
        meta = {"d": meta}
    rec = Record("deep", "deeply nested metadata", meta)
    if ok:
        idx.add([rec])
        assert idx.get(["deep"]) == [rec]
        idx.delete(["deep"])
    else:
        with pytest.raises(InvalidInputError, match="nested more than 32 levels"):
            idx.add([rec])


# -- texts -------------------------------------------------------------------------------------
texts = st.one_of(st.text(max_size=200), SURROGATES,
                  st.sampled_from(["", " ", "\n\t\r", "\x00", "a\x00b", "\x1b[31mred\x1b[0m", "🙂" * 40,
                                   "\u200b\u200b", "ñ" * 5, "!!!", "Ω≈ç√∫", "\ufeffbom"]))


@SETTINGS
@given(text=texts)
def _texts_round_trip_or_are_refused(idx, text):
    count = idx.count()
    before = idx.get(["text-probe"])
    rec = Record("text-probe", text, {"len": len(text)})
    EXAMPLES["texts"] += 1
    if text.strip() and _utf8(text):
        idx.add([rec])
        assert idx.get(["text-probe"]) == [rec]
        count += not before
        for mode in ("dense", "sparse", "hybrid"):
            hits = idx.search(text, 3, mode=mode)
            assert all(isinstance(h.record, Record) for h in hits)
    else:
        with pytest.raises(InvalidInputError, match="text"):
            idx.add([rec])
        with pytest.raises(InvalidInputError):
            idx.search(text)
        assert idx.get(["text-probe"]) == before
        EXAMPLES["refused"] += 1
    intact(idx, count)


def test_texts_round_trip_or_are_refused(idx):
    _tried(_texts_round_trip_or_are_refused, idx, "texts")


def test_texts_longer_than_the_window_warn_and_are_stored_whole(idx):
    long = " ".join(f"word{i}" for i in range(3000))
    with pytest.warns(TruncationWarning, match=r"1 of 1 texts are longer than the \d+-token window"):
        idx.add([Record("long", long)])
    assert idx.get(["long"])[0].text == long
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        idx.add([Record("short", "short text")])  # no warning for texts that fit
    idx.delete(["long", "short"])


# -- filters -----------------------------------------------------------------------------------
filter_values = st.one_of(st.integers(-5, 3000), st.floats(), st.text(max_size=6), st.booleans(),
                          st.none(), st.lists(st.one_of(st.integers(0, 3000), st.text(max_size=5)), max_size=3),
                          st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)),
                          st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
field_keys = st.sampled_from(["year", "topic", "tags", "rating", "author.name", "missing", "", "$bad"])
wild = st.one_of(
    st.builds(lambda k, op, v: {k: {op: v}}, field_keys, st.sampled_from(FIELD_OPS + ("$regex",)),
              filter_values),
    st.builds(lambda k, v: {k: v}, field_keys, filter_values))
words = st.sampled_from(["music", "finance", "guitar", "bank", "Ana", "PT", "nature", "zzz"])
typed = st.one_of(  # well-formed conditions, so that many trees reach the engine
    st.builds(lambda op, v: {"year": {op: v}}, st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
              st.integers(2015, 2026)),
    st.builds(lambda op, v: {"rating": {op: v}}, st.sampled_from(["$gt", "$lt"]), st.floats(0, 5)),
    st.builds(lambda op, v: {"topic": {op: v}}, st.sampled_from(["$in", "$nin"]), st.lists(words, max_size=3)),
    st.builds(lambda op, v: {"tags": {op: v}}, st.sampled_from(["$contains", "$all"]), words),
    st.builds(lambda v: {"author.name": {"$text": v}}, words),
    st.builds(lambda k, v: {k: {"$exists": v}}, st.sampled_from(["rating", "author", "missing"]), st.booleans()),
    st.builds(lambda v: {"topic": v}, words))
leaves = st.one_of(typed, typed, wild)
trees = st.recursive(leaves, lambda inner: st.one_of(
    st.builds(lambda op, xs: {op: xs}, st.sampled_from(["$and", "$or"]), st.lists(inner, max_size=3)),
    st.builds(lambda x: {"$not": x}, inner),
    st.builds(lambda a, b: {**a, **b}, inner, inner)), max_leaves=6)


@SETTINGS
@given(flt=st.one_of(trees, st.just([]), st.just("year > 2000"), st.just(5)))
def _random_filter_trees_work_or_are_refused(idx, flt):
    count = idx.count()
    EXAMPLES["filters"] += 1
    try:
        found = idx.get(filter=flt)
    except InvalidInputError as e:  # FilterError included: a message, no engine call
        assert str(e)
        with pytest.raises(InvalidInputError):
            idx.search("music", 3, filter=flt)
        EXAMPLES["refused"] += 1
    else:
        assert idx.count(filter=flt) == len(found)
        hits = idx.search("music", 20, filter=flt)
        assert {h.record.id for h in hits} <= {r.id for r in found}
    intact(idx, count)


def test_random_filter_trees_work_or_are_refused(idx):
    _tried(_random_filter_trees_work_or_are_refused, idx, "filters")


def _tried(prop, idx, kind: str) -> None:
    """Run a property and check it tried its examples (reported in docs/reliability.md): each
    test checks its own count, whatever ran before it."""
    before = EXAMPLES[kind]
    prop(idx)
    assert EXAMPLES[kind] - before >= 75, f"only {EXAMPLES[kind] - before} {kind} examples were tried"
