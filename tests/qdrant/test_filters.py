import datetime as dt

import pytest
from qdrant_client import models as qm

from hybridstore import FilterError
from hybridstore.qdrant.filters import and_filters, to_filter


def cond(f, part="must"):
    return getattr(f, part)


def test_none_and_empty_mean_no_filter():
    assert to_filter(None) is None
    assert to_filter({}) is None


def test_raw_filter_passes_through():
    raw = qm.Filter(must=[qm.FieldCondition(key="x", match=qm.MatchValue(value=1))])
    assert to_filter(raw) is raw


def test_implicit_eq_on_metadata_key():
    f = to_filter({"genre": "scifi"})
    assert f.must == [qm.FieldCondition(key="metadata.genre", match=qm.MatchValue(value="scifi"))]


def test_nested_key_with_dots():
    f = to_filter({"author.name": {"$eq": "Ana"}})
    assert f.must[0].key == "metadata.author.name"


def test_float_equality_is_an_exact_range():
    f = to_filter({"rating": 4.5})
    assert f.must[0].range == qm.Range(gte=4.5, lte=4.5)


def test_ne_and_nin_go_to_must_not():
    f = to_filter({"a": {"$ne": "v"}, "b": {"$nin": ["x", "y"]}})
    assert f.must is None
    assert f.must_not[0].match == qm.MatchValue(value="v")
    assert f.must_not[1].match == qm.MatchAny(any=["x", "y"])


@pytest.mark.parametrize("op", ["$gt", "$gte", "$lt", "$lte"])
def test_numeric_ranges(op):
    f = to_filter({"year": {op: 2020}})
    assert f.must[0].range == qm.Range(**{op[1:]: 2020})


def test_date_ranges_use_datetime_range():
    f = to_filter({"when": {"$gte": "2024-01-01", "$lt": dt.date(2025, 1, 1)}})
    assert all(isinstance(c.range, qm.DatetimeRange) for c in f.must)


def test_in_text_exists_all_contains():
    f = to_filter({"tags": {"$in": ["a", "b"], "$all": ["a", "c"], "$contains": "z"},
                   "body": {"$text": "hello"}, "x": {"$exists": True}, "y": {"$is_empty": True}})
    kinds = [type(c).__name__ for c in f.must]
    assert kinds.count("FieldCondition") == 5 and kinds.count("IsEmptyCondition") == 1
    assert f.must_not == [qm.IsEmptyCondition(is_empty=qm.PayloadField(key="metadata.x"))]


def test_logical_operators_nest():
    f = to_filter({"$or": [{"a": "1"}, {"b": "2"}], "$not": {"c": "3"}, "$and": [{"d": "4"}]})
    assert isinstance(f.must[0], qm.Filter) and len(f.must[0].should) == 2
    assert f.must[1].must[0].key == "metadata.d"
    assert f.must_not[0].must[0].key == "metadata.c"


def test_none_eq_is_null():
    assert isinstance(to_filter({"a": None}).must[0], qm.IsNullCondition)


@pytest.mark.parametrize("spec, words", [
    ({"$xor": []}, "unknown logical operator"),
    ({"a": {"$regex": "x"}}, "unknown operator '$regex'"),
    ({"a": {"$gt": "soon"}}, "number or an ISO date"),
    ({"a": {"$gt": True}}, "number or an ISO date"),
    ({"a": {"$in": "x"}}, "list of strings"),
    ({"a": {"$in": ["x", 1]}}, "not mixed"),
    ({"a": {"$in": [1.5]}}, "strings or of integers"),
    ({"a": [1, 2]}, "use $in"),
    ({"a": {"$exists": "yes"}}, "true or false"),
    ({"$or": {"a": 1}}, "list of filter dicts"),
    ({"$not": []}, "non-empty filter dict"),
    ({"a": {"$text": ""}}, "non-empty string"),
    ("year > 3", "must be a dict"),
])
def test_bad_filters_name_the_problem(spec, words):
    with pytest.raises(FilterError, match=words.replace("$", r"\$").replace("(", r"\(")):
        to_filter(spec)


def test_and_filters():
    a, b = to_filter({"a": 1}), to_filter({"b": 2})
    assert and_filters(None, a) is a
    assert and_filters(a, b).must == [a, b]
    assert and_filters(None, None) is None


def test_prefix_for_flat_layouts():
    assert to_filter({"a": "x"}, prefix="").must[0].key == "a"
    assert to_filter({"$or": [{"a": 1}, {"b": {"$gt": 2}}]}, prefix="").must[0].should[1].must[0].key == "b"


def test_an_integer_also_meets_the_same_number_stored_as_a_float():
    """2 == 2.0: an integer match alone never meets a float payload value (JSON's 5.0)."""
    eq = to_filter({"n": 2}).must[0]
    assert eq.should == [qm.FieldCondition(key="metadata.n", match=qm.MatchValue(value=2)),
                         qm.FieldCondition(key="metadata.n", range=qm.Range(gte=2, lte=2))]
    within = to_filter({"n": {"$in": [1, 2]}}).must[0]
    assert [c.range for c in within.should[1:]] == [qm.Range(gte=1, lte=1), qm.Range(gte=2, lte=2)]
    big = 2**60  # past 2**53 a float range would meet neighbouring integers: the match alone
    assert to_filter({"n": big}).must[0] == qm.FieldCondition(key="metadata.n", match=qm.MatchValue(value=big))
    assert to_filter({"flag": True}).must[0].match == qm.MatchValue(value=True)  # booleans are not numbers here


@pytest.mark.parametrize("key, path", [
    ("year", "metadata.year"), ("author.name", "metadata.author.name"),
    ("Author Name", 'metadata."Author Name"'), ("a:b", 'metadata."a:b"'), ("k(1)", 'metadata."k(1)"'),
    ('"a.b"', 'metadata."a.b"'), ("x y.z", 'metadata."x y".z'), ("tags[]", "metadata.tags[]"),
    ("ключ", "metadata.ключ"),
])
def test_keys_become_paths_qdrant_reads(key, path):
    assert to_filter({key: "v"}).must[0].key == path


@pytest.mark.parametrize("key", ["a..b", 'a"b', ".a", "a."])
def test_keys_no_path_can_say_are_refused(key):
    with pytest.raises(FilterError, match="cannot be read as a path"):
        to_filter({key: "v"})
