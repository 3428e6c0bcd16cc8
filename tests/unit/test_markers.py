"""The gpu marker policy: skipped without a GPU, a failure when BENCHSEAL_REQUIRE_GPU=1."""

from __future__ import annotations

import pytest

from tests.conftest import _gpu_available

pytest_plugins = ["pytester"]

import inspect

from tests import conftest as _root

# the GPU policy alone (the root conftest also registers plugins that a bare pytester dir cannot import)
CONFTEST = "import os\n\nimport pytest\n\n" + inspect.getsource(_root._gpu_available) + "\n\n" + inspect.getsource(_root.pytest_runtest_setup)
TEST = """
import pytest

@pytest.mark.gpu
def test_needs_gpu():
    assert True
"""


@pytest.mark.skipif(_gpu_available(), reason="this machine has a GPU: the skip path cannot be shown")
@pytest.mark.parametrize("require, outcome", [("0", {"skipped": 1}), ("1", {"errors": 1})])
def test_gpu_marker_policy(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, require: str, outcome):
    monkeypatch.setenv("BENCHSEAL_REQUIRE_GPU", require)
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nmarkers =\n    gpu: needs a GPU\n")
    pytester.makepyfile(test_gpu=TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(**outcome)
    assert (result.ret != 0) == (require == "1")
