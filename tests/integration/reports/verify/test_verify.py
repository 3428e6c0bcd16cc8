"""benchseal verify: every byte is covered, untrusted keys fail, recomputation names the field. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import json
import random
import shutil
import pytest
from benchseal import bundle as layout
from benchseal.errors import ExitCode
from benchseal.io import iter_jsonl, read_json, write_json
from benchseal.reports.seal.statement import sign_bundle
from benchseal.reports.verify import verify_bundle
from tests.helpers.sampling import session_seed
from tests.helpers.sign_support import PASSPHRASE, new_keys, rederive_summaries, verifiable_bundle
from tests.unit.reports.verify.test_verify import _edit_json, _failed, _passphrase, _positions, _verify, bundle, signed  # noqa: F401


# each kind of file fails on its own check: the signature, the statement, the separately signed test
# result; every other file on its digest
_OWN_CHECK = (layout.STATEMENT_DSSE, layout.STATEMENT_JSON, layout.TEST_RESULT_DSSE)


def _bundle_files(bundle):
    return sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())


def _assert_each_flip_fails(run_cli, bundle, trusted, targets):
    for rel, pos in targets:
        path = bundle / rel
        original = path.read_bytes()
        data = bytearray(original)
        data[pos] ^= 0x01
        path.write_bytes(bytes(data))
        try:
            code, report, err = _verify(run_cli, bundle, trusted.public_key_path)
        finally:
            path.write_bytes(original)
        where = f"{rel} byte {pos}"
        assert code == ExitCode.FAILED, f"{where}: exit {code} {err}"
        failed = _failed(report)
        if rel == layout.STATEMENT_DSSE:
            assert "signature" in failed, where
        elif rel == layout.STATEMENT_JSON:
            assert layout.STATEMENT_JSON in failed.get("statement", ""), where
        elif rel == layout.TEST_RESULT_DSSE:  # signed on its own, after statement.json
            assert "test-result" in failed, f"{where}: {failed}"
        else:
            assert rel in failed.get("digests", ""), f"{where}: {failed}"
    assert _verify(run_cli, bundle, trusted.public_key_path)[0] == 0  # restored


def test_flipping_a_seeded_sample_of_bytes_fails(run_cli, bundle, signed):
    """The default run (issue 20: CI time): one byte in each file with a check of its own and in three
    other files, drawn with the session's seed (pytest's header; BENCHSEAL_TEST_SEED repeats a draw);
    the sweep of every file is test_flipping_any_byte_anywhere_fails (--exhaustive)."""
    files = _bundle_files(bundle)
    rng = random.Random(f"{session_seed()}:verify-flip")
    others = [rel for rel in files if rel not in _OWN_CHECK]
    picked = [rel for rel in _OWN_CHECK if rel in files] + rng.sample(others, min(3, len(others)))
    assert len(picked) >= 5 and set(_OWN_CHECK) <= set(files)
    targets = [(rel, rng.randrange((bundle / rel).stat().st_size)) for rel in picked]
    _assert_each_flip_fails(run_cli, bundle, signed[1], targets)


@pytest.mark.exhaustive
def test_flipping_any_byte_anywhere_fails(run_cli, bundle, signed):
    trusted = signed[1]
    rng = random.Random(20250601)
    files = _bundle_files(bundle)
    targets = []
    for rel in files:
        n = (bundle / rel).stat().st_size
        k = 10 if rel == layout.STATEMENT_DSSE else 3 if rel == layout.STATEMENT_JSON else 2
        targets += [(rel, pos) for pos in _positions(n, k, rng)]
    assert len(targets) >= 40 and {rel for rel, _ in targets} == set(files)
    _assert_each_flip_fails(run_cli, bundle, trusted, targets)


@pytest.mark.parametrize(
    "rel, edit, check, needle",
    [
        (layout.CLAIMS_JSON, lambda d: d["verdicts"][0].update(status="FAIL" if d["verdicts"][0]["status"] != "FAIL" else "PASS"),
         "recompute:claims", "verdicts[0 claim_id="),
        (layout.HARDWARE_JSON, lambda d: d["compute"]["total_tflops"].update(bf16=d["compute"]["total_tflops"]["bf16"] * 2),
         "recompute:hardware", "total_tflops.bf16"),
        ("eval/songjiang-core/results.json", lambda d: d["results"][0].update(value=d["results"][0]["value"] + 0.05),
         "recompute:eval:songjiang-core", ".value: stored"),
        (layout.MODEL_JSON, lambda d: d.update(model_digest="cd" * 32, files=[{"path": "w.safetensors", "sha256": "ef" * 32, "size_bytes": 1}]),
         "recompute:model-digest", "model"),
    ],
)
def test_signed_but_wrong_summaries_fail_recomputation(run_cli, bundle, signed, rel, edit, check, needle):
    trusted = signed[1]
    _edit_json(bundle / rel, edit)
    sign_bundle(bundle, trusted.private_key_path, PASSPHRASE.encode())
    code, report, _ = _verify(run_cli, bundle, trusted.public_key_path)
    assert code == ExitCode.FAILED
    failed = _failed(report)
    assert check in failed and needle in failed[check], failed
    assert "signature" not in failed and "digests" not in failed
