"""pyproject's filterwarnings: a deprecated call from our code into a library fails the test; a
library's deprecated call into itself does not. A warning is filed under the module whose frame
its stacklevel names, so modules are made here under a library's name and under ours."""

from __future__ import annotations

import warnings

import pytest


def module(name: str, source: str) -> dict:
    space = {"__name__": name}
    exec(compile(source, f"<{name}>", "exec"), space)
    return space


LIBRARY = module("qdrant_client._probe", """
import warnings
def old():
    warnings.warn("old() is deprecated", DeprecationWarning, stacklevel=2)
""")
LIBRARY["_also"] = module("qdrant_client._probe_user", "def wrap(old):\n    return old()\n")["wrap"]
OURS = module("hybridstore._probe", "def use(old):\n    return old()\n")


def test_a_deprecated_call_from_our_code_fails():
    with pytest.raises(DeprecationWarning, match="old"):
        OURS["use"](LIBRARY["old"])


def test_a_deprecated_call_from_a_test_fails():
    with pytest.raises(DeprecationWarning, match="old"):
        LIBRARY["old"]()  # filed under this module, tests.compat.test_deprecations


def test_a_library_calling_itself_does_not_fail():
    with warnings.catch_warnings(record=True) as seen:  # keeps the filters, records what they let by
        LIBRARY["_also"](LIBRARY["old"])  # filed under qdrant_client._probe_user
    assert [str(w.message) for w in seen] == ["old() is deprecated"]
