import datetime as dt

import pytest
from qdrant_client import models as qm

from hybridstore import FilterError
from hybridstore.qdrant import filter_tree as tree
from hybridstore.qdrant.filters import and_filters, to_filter


def cond(f, part="must"):
    return getattr(f, part)


def test_none_and_empty_mean_no_filter():
    assert to_filter(None) is None
    assert to_filter({}) is None


def test_a_tree_passes_through_and_a_raw_filter_is_read_into_one():
    raw = qm.Filter(must=[qm.FieldCondition(key="x", match=qm.MatchValue(value=1))])
    read = to_filter(raw)
    assert read == tree.Filter(must=(tree.Match("x", 1),)) and to_filter(read) is read


def test_implicit_eq_on_metadata_key():
    f = to_filter({"genre": "scifi"})
    assert f == tree.Filter(must=(tree.Match("metadata.genre", "scifi"),))


def test_nested_key_with_dots():
    f = to_filter({"author.name": {"$eq": "Ana"}})
    assert f.must[0].key == "metadata.author.name"


def test_float_equality_is_an_exact_range():
    f = to_filter({"rating": 4.5})
    assert f.must[0] == tree.Range("metadata.rating", gte=4.5, lte=4.5)


def test_ne_and_nin_go_to_must_not():
    f = to_filter({"a": {"$ne": "v"}, "b": {"$nin": ["x", "y"]}})
    assert f.must == ()
    assert f.must_not == (tree.Match("metadata.a", "v"), tree.MatchAny("metadata.b", ("x", "y")))


@pytest.mark.parametrize("op", ["$gt", "$gte", "$lt", "$lte"])
def test_numeric_ranges(op):
    f = to_filter({"year": {op: 2020}})
    assert f.must[0] == tree.Range("metadata.year", **{op[1:]: 2020})


def test_date_ranges_use_datetime_range():
    f = to_filter({"when": {"$gte": "2024-01-01", "$lt": dt.date(2025, 1, 1)}})
    assert f.must == (tree.DatetimeRange("metadata.when", gte=dt.datetime(2024, 1, 1)),
                      tree.DatetimeRange("metadata.when", lt=dt.date(2025, 1, 1)))


def test_in_text_exists_all_contains():
    f = to_filter({"tags": {"$in": ["a", "b"], "$all": ["a", "c"], "$contains": "z"},
                   "body": {"$text": "hello"}, "x": {"$exists": True}, "y": {"$is_empty": True}})
    assert f.must == (tree.MatchAny("metadata.tags", ("a", "b")), tree.Match("metadata.tags", "a"), tree.Match("metadata.tags", "c"),
                      tree.Match("metadata.tags", "z"), tree.MatchText("metadata.body", "hello"), tree.IsEmpty("metadata.y"))
    assert f.must_not == (tree.IsEmpty("metadata.x"),)


def test_logical_operators_nest():
    f = to_filter({"$or": [{"a": "1"}, {"b": "2"}], "$not": {"c": "3"}, "$and": [{"d": "4"}]})
    assert isinstance(f.must[0], tree.Filter) and len(f.must[0].should) == 2
    assert f.must[1].must[0].key == "metadata.d"
    assert f.must_not[0].must[0].key == "metadata.c"


def test_none_eq_is_null():
    assert to_filter({"a": None}).must == (tree.IsNull("metadata.a"),)


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
    assert and_filters(a, b) == tree.Filter(must=(a, b))
    assert and_filters(None, None) is None


def test_prefix_for_flat_layouts():
    assert to_filter({"a": "x"}, prefix="").must[0].key == "a"
    assert to_filter({"$or": [{"a": 1}, {"b": {"$gt": 2}}]}, prefix="").must[0].should[1].must[0].key == "b"


def test_an_integer_also_meets_the_same_number_stored_as_a_float():
    """2 == 2.0: an integer match alone never meets a float payload value (JSON's 5.0)."""
    eq = to_filter({"n": 2}).must[0]
    assert eq.should == (tree.Match("metadata.n", 2), tree.Range("metadata.n", gte=2, lte=2))
    within = to_filter({"n": {"$in": [1, 2]}}).must[0]
    assert within.should[1:] == (tree.Range("metadata.n", gte=1, lte=1), tree.Range("metadata.n", gte=2, lte=2))
    big = 2**60  # past 2**53 a float range would meet neighbouring integers: the match alone
    assert to_filter({"n": big}).must[0] == tree.Match("metadata.n", big)
    assert to_filter({"flag": True}).must[0] == tree.Match("metadata.flag", True)  # booleans are not numbers here


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


def test_empty_lists_and_helpers_build_the_same_tree_as_before():
    empty = tree.IsEmpty("metadata.t")
    assert to_filter({"t": {"$in": []}}).must == (tree.Filter(must=(empty,), must_not=(empty,)),)
    assert to_filter({"t": {"$nin": []}, "u": {"$all": []}}) == tree.Filter()
    from hybridstore.qdrant import filters
    from hybridstore.qdrant.layouts import CANONICAL

    assert filters.has_ids(["p"]) == tree.Filter(must=(tree.HasId(("p",)),))
    assert filters.any_of(filters.having_vector("v")) == tree.Filter(must=(tree.HasVector("v"),))
    assert filters.lacking_vector("img", ["p"], CANONICAL, "image") == \
        tree.Filter(must_not=(tree.HasVector("img"), tree.HasId(("p",)), tree.IsEmpty("image")))
    assert filters.lacking_vector("dense", None, CANONICAL, "dense").must_not[-1] == tree.Match("image_only", True)


def test_a_raw_filter_reads_every_node_the_tree_has():
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    inner = qm.Filter(must=[qm.FieldCondition(key="k", match=qm.MatchValue(value=1))])
    raw = qm.Filter(
        must=[qm.FieldCondition(key="a", match=qm.MatchAny(any=["x", "y"])),
              qm.FieldCondition(key="b", match=qm.MatchExcept(**{"except": [1, 2]})),
              qm.FieldCondition(key="c", match=qm.MatchText(text="word")),
              qm.FieldCondition(key="d", range=qm.Range(gt=1, lte=2.5)),
              qm.FieldCondition(key="e", range=qm.DatetimeRange(gte=when)),
              qm.IsEmptyCondition(is_empty=qm.PayloadField(key="f")),
              qm.IsNullCondition(is_null=qm.PayloadField(key="g")),
              qm.HasIdCondition(has_id=[7, "00000000-0000-0000-0000-000000000001"]),
              qm.NestedCondition(nested=qm.Nested(key="items", filter=inner))],
        should=qm.HasVectorCondition(has_vector="v"),  # one condition, not a list
        must_not=[qm.FieldCondition(key="h", match=qm.MatchValue(value=True), is_null=False)],
        min_should=qm.MinShould(conditions=[qm.FieldCondition(key="i", match=qm.MatchValue(value="z"))],
                                min_count=1))
    assert to_filter(raw) == tree.Filter(
        must=(tree.MatchAny("a", ("x", "y")), tree.MatchExcept("b", (1, 2)), tree.MatchText("c", "word"),
              tree.Range("d", gt=1, lte=2.5), tree.DatetimeRange("e", gte=when), tree.IsEmpty("f"), tree.IsNull("g"),
              tree.HasId((7, "00000000-0000-0000-0000-000000000001")),
              tree.Nested("items", tree.Filter(must=(tree.Match("k", 1),)))),
        should=(tree.HasVector("v"),),
        must_not=(tree.Filter(must=(tree.Match("h", True), tree.Filter(must_not=(tree.IsNull("h"),)))),),
        min_should=tree.MinShould((tree.Match("i", "z"),), 1))


@pytest.mark.parametrize("condition, words", [
    (qm.FieldCondition(key="loc", geo_radius=qm.GeoRadius(center=qm.GeoPoint(lon=0, lat=0), radius=1.0)),
     "geo_radius on 'loc'"),
    (qm.FieldCondition(key="tags", values_count=qm.ValuesCount(gte=2)), "values_count on 'tags'"),
    (qm.FieldCondition(key="t", match=qm.MatchPhrase(phrase="a b")), "MatchPhrase match ('t')"),
    (qm.FieldCondition(key="t"), "sets no condition"),
])
def test_raw_conditions_the_tree_has_no_node_for_are_refused_by_name(condition, words):
    with pytest.raises(FilterError, match=words.replace("(", r"\(").replace(")", r"\)")):
        to_filter(qm.Filter(must=[condition]))


def test_iso_strings_become_datetimes():
    f = to_filter({"when": {"$gt": "2024-03-05T00:00:01Z", "$lte": "2025-01-01"}})
    assert f.must == (tree.DatetimeRange("metadata.when", gt=dt.datetime(2024, 3, 5, 0, 0, 1, tzinfo=dt.UTC)),
                      tree.DatetimeRange("metadata.when", lte=dt.datetime(2025, 1, 1)))
