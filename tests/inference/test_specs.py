"""`inference.specs.ModelSpec`: what to load and how: checked when made, the options split into
those fastembed's constructor takes and those hybridstore reads itself, a cache key that tells
apart what loads differently (and only that), and index-wide defaults under the spec's own."""

from __future__ import annotations

import pytest

from hybridstore.errors import ConfigurationError
from hybridstore.inference.specs import KINDS, ModelSpec


def test_kinds():
    assert KINDS == ("dense", "sparse", "late_interaction", "image", "late_interaction_multimodal")


@pytest.mark.parametrize("name, kind, says", [
    ("", "dense", "ModelSpec.name must be a non-empty string, got ''"),
    (None, "dense", "ModelSpec.name must be a non-empty string, got None"),
    ("m", "vision", "ModelSpec.kind 'vision' is unknown; use one of dense, sparse, late_interaction, image, late_interaction_multimodal"),
])
def test_a_bad_name_or_kind_is_refused(name, kind, says):
    with pytest.raises(ConfigurationError) as err:
        ModelSpec(name, kind)
    assert str(err.value) == says


@pytest.mark.parametrize("kind, value, says", [
    ("dense", "int4", "dense model 'm': quantize='int4'; use 'int8' or leave it out"),
    ("sparse", "int8", "sparse model 'm': quantize applies to dense and late-interaction models; drop the option"),
    ("image", "int8", "image model 'm': quantize applies to dense and late-interaction models; drop the option"),
])
def test_quantize_is_checked_when_the_spec_is_made(kind, value, says):
    with pytest.raises(ConfigurationError) as err:
        ModelSpec("m", kind, options={"quantize": value})
    assert str(err.value) == says
    assert ModelSpec("m", "late_interaction", options={"quantize": "int8"}).options["quantize"] == "int8"


def test_load_options_leave_out_what_hybridstore_reads_itself():
    spec = ModelSpec("m", "sparse", options={"threads": 2, "cuda": False, "modifier": "idf", "batch_size": 8,
                                             "parallel": 0, "padding_aware": True, "max_batch_tokens": 9})
    assert spec.load_options() == {"threads": 2, "cuda": False}
    image = ModelSpec("clip", "image", options={"text_model": "t", "text_path": "/p", "lazy_load": True})
    assert image.load_options() == {"lazy_load": True}


def test_the_cache_key_follows_what_loads_differently():
    base = ModelSpec("m", "dense", "/models/m", {"threads": 2})
    assert base.cache_key() == ModelSpec("m", "dense", "/models/m", {"threads": 2, "batch_size": 64}).cache_key()
    for other in (ModelSpec("m", "dense", "/models/m", {"threads": 4}), ModelSpec("m", "dense", "/other", {"threads": 2}),
                  ModelSpec("n", "dense", "/models/m", {"threads": 2}),
                  ModelSpec("m", "dense", "/models/m", {"threads": 2, "quantize": "int8"})):
        assert other.cache_key() != base.cache_key(), other


def test_defaults_fill_only_what_the_spec_leaves_unset():
    spec = ModelSpec("m", "dense", "/p", {"batch_size": 8})
    filled = spec.with_defaults({"batch_size": 64, "threads": 2, "parallel": None})
    assert filled == ModelSpec("m", "dense", "/p", {"batch_size": 8, "threads": 2})
    assert spec.options == {"batch_size": 8}  # the spec itself is unchanged


def test_options_are_the_specs_own_copy():
    given = {"threads": 1}
    spec = ModelSpec("m", "dense", options=given)
    given["threads"] = 8
    assert spec.options == {"threads": 1}
