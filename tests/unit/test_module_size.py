"""Rooms that stay small: no module of the package is over 600 lines (docs/ARCHITECTURE.md). A module
that grows past it is split along its own seams (see how pipeline/, reports/verify/recompute/ and
bench/perf/ are laid out), not trimmed by packing lines."""

from __future__ import annotations

from tests.helpers import REPO

LIMIT = 600


def test_no_module_in_the_package_is_over_600_lines():
    long = {p.relative_to(REPO).as_posix(): n for p in (REPO / "benchseal").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert not long, f"modules over {LIMIT} lines: {long}"


def test_the_gpu_kit_is_a_package_of_steps():
    long = {p.name: n for p in [REPO / "scripts" / "gpu_check.py", *(REPO / "scripts" / "gpu_steps").glob("*.py")]
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert not long, f"GPU kit modules over {LIMIT} lines: {long}"
