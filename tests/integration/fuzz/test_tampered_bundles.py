"""Seeded fuzzing of tampered, re-signed bundles (issue 11): the signer holds the key, edits one
figure that verify re-derives (a latency statistic, a raw request time, a verdict's observed value,
a parameter count, a program threshold, the 算力 table, an eval score) and signs again. Every case
must fail verification: no wrong success, no traceback, no hang. ``BENCHSEAL_FUZZ_CASES`` (default
240; an eighth of it here, at least 12) and ``BENCHSEAL_FUZZ_SEED`` set the size and seed."""

from __future__ import annotations

import json
import os
import random
import shutil

import pytest

from benchseal import bundle as layout
from benchseal.reports.seal.statement import sign_bundle
from benchseal.reports.verify import verify_bundle
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle
from tests.unit.test_inputs_fuzz import SEED, _deadline

CASES = max(12, int(os.environ.get("BENCHSEAL_FUZZ_CASES", "240")) // 8)
PERF_KEYS = ("ttft", "tpot", "itl", "e2el", "throughput")


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool) or (isinstance(obj, str) and obj.isdigit()):
        yield path, obj


def _targets(root):
    """(file, leaf path) of every figure verify re-derives."""
    out = []

    def add(rel, keep):
        data = json.loads((root / rel).read_text())
        out.extend((rel, p) for p, v in _leaves(data) if keep(p, v))
    add(layout.PERF_SUMMARY, lambda p, v: p[0] == "load_points" and any(k in str(x) for x in p for k in PERF_KEYS)
        and p[-1] not in ("n", "count") and v != 0)
    add(layout.CLAIMS_JSON, lambda p, v: p[0] == "verdicts" and p[-1] == "observed")
    add(layout.MODEL_JSON, lambda p, v: p[:1] == ("params",) and (p[1] in ("total", "embedding") or p[1] == "breakdown"))
    add(layout.PROGRAM_JSON, lambda p, v: p[-1] in ("threshold", "max_failed_fraction"))
    add(layout.HARDWARE_JSON, lambda p, v: p[0] == "compute" and "tflops" in str(p))
    for suite in sorted((root / layout.EVAL_DIR).glob("*/results.json")):
        add(suite.relative_to(root).as_posix(), lambda p, v: p[0] == "results" and p[-1] == "value")
    out.append((layout.PERF_REQUESTS, None))
    return out


def _set(obj, path, value):
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


def _get(obj, path):
    for k in path:
        obj = obj[k]
    return obj


def _tamper(root, rel, path, rng):
    if rel == layout.PERF_REQUESTS:  # a raw record made faster
        lines = (root / rel).read_text().splitlines()
        ok = [i for i, ln in enumerate(lines) if json.loads(ln).get("first_token_s") is not None]
        i = rng.choice(ok)
        rec = json.loads(lines[i])
        rec["first_token_s"] = rec["send_s"] + (rec["first_token_s"] - rec["send_s"]) * rng.choice([0.25, 0.5, 0.9])
        lines[i] = json.dumps(rec)
        (root / rel).write_text("\n".join(lines) + "\n")
        return f"{rel}[{i}].first_token_s"
    data = json.loads((root / rel).read_text())
    old = _get(data, path)
    if isinstance(old, str):
        new = str(int(old) + rng.randint(1, 10 ** 9))
    elif isinstance(old, int):
        new = old + rng.choice([-1, 1]) * rng.randint(1, 1000)
    else:
        new = old * rng.choice([0.5, 0.9, 1.1, 2.0]) + (0.25 if old == 0 else 0)
    _set(data, path, new)
    (root / rel).write_text(json.dumps(data, indent=2) + "\n")
    return f"{rel}:{'.'.join(map(str, path))} {old!r} -> {new!r}"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    keys = new_keys(base / "keys")
    bundle = verifiable_bundle(base / "bundle")
    os.environ["BENCHSEAL_KEY_PASSPHRASE"] = PASSPHRASE
    sign_bundle(bundle, keys.private_key_path, PASSPHRASE.encode())
    assert verify_bundle(bundle, public_keys=[keys.public_key_path]).ok
    return bundle, keys


def test_fuzz_tampered_and_resigned_bundles_never_verify(pristine, tmp_path):
    bundle, keys = pristine
    rng = random.Random(SEED + 3)
    targets = _targets(bundle)
    assert len(targets) > 20
    wrong = []
    for i in range(CASES):
        root = shutil.copytree(bundle, tmp_path / f"c{i}")
        rel, path = rng.choice(targets)
        what = _tamper(root, rel, path, rng)
        sign_bundle(root, keys.private_key_path, PASSPHRASE.encode())
        with _deadline(60):
            report = verify_bundle(root, public_keys=[keys.public_key_path])
        if report.ok:
            wrong.append(what)
        assert not any("could not be checked" in c.detail for c in report.checks), [c for c in report.checks if not c.ok]
        shutil.rmtree(root)
    assert not wrong, f"{len(wrong)} of {CASES} tampered bundles verified: {wrong[:5]}"
