"""Seeded samples of exhaustive case matrices (issue 20: CI inside its budget without leaving cases out).

``sampled(cases, k, key=...)`` turns a list of parametrize cases into ``pytest.param``s: ``k`` of them,
drawn with the session's seed, run in every test session; the others carry the ``exhaustive`` marker and
are deselected unless the session asks for every case.

- The seed is ``BENCHSEAL_TEST_SEED`` when set, else today's date (UTC) as an ordinal, so successive CI
  runs cover different cases and a failure is reproduced with the seed printed in pytest's header.
- ``BENCHSEAL_EXHAUSTIVE=1`` (or ``pytest --exhaustive``) runs every case; ``pytest -m exhaustive`` runs
  only the cases a sampled session leaves out.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import random
from collections.abc import Sequence
from typing import Any

import pytest


def session_seed() -> int:
    given = os.environ.get("BENCHSEAL_TEST_SEED", "").strip()
    if given:
        return int(given)
    return _dt.datetime.now(_dt.timezone.utc).date().toordinal()


def _rng(key: str) -> random.Random:
    # the seed and the matrix's key: each matrix gets its own draw, stable for a given seed
    digest = hashlib.sha256(f"{session_seed()}:{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def sample_indices(n: int, k: int, key: str) -> set[int]:
    """The ``k`` case indices (of ``n``) this session's seed picks for matrix ``key``."""
    if k >= n:
        return set(range(n))
    return set(_rng(key).sample(range(n), k))


def sampled(cases: Sequence[Any], k: int, *, key: str, ids: Sequence[str] | None = None,
            always: Sequence[int] = ()) -> list[Any]:
    """``cases`` as ``pytest.param``s: ``k`` seeded picks (plus the indices in ``always``) run by default,
    the rest marked ``exhaustive``."""
    picked = sample_indices(len(cases), k, key) | set(always)
    out = []
    for i, case in enumerate(cases):
        values = case if isinstance(case, tuple) else (case,)
        marks = () if i in picked else (pytest.mark.exhaustive,)
        out.append(pytest.param(*values, marks=marks, id=None if ids is None else ids[i]))
    return out
