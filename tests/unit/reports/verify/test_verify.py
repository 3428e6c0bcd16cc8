"""benchseal verify: every byte is covered, untrusted keys fail, recomputation names the field."""

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
from tests.helpers.sign_support import PASSPHRASE, new_keys, rederive_summaries, verifiable_bundle


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """(pristine signed bundle, trusted key info, attacker key info), built once."""
    base = tmp_path_factory.mktemp("signed")
    trusted, attacker = new_keys(base / "trusted"), new_keys(base / "attacker")
    bundle = verifiable_bundle(base / "bundle")
    sign_bundle(bundle, trusted.private_key_path, PASSPHRASE.encode())
    return bundle, trusted, attacker


@pytest.fixture
def bundle(signed, tmp_path):
    return shutil.copytree(signed[0], tmp_path / "bundle")


def _verify(run_cli, bundle, key, *extra):
    code, out, err = run_cli("verify", bundle, "--key", key, "--json", *extra)
    report = json.loads(out) if out.strip() else None
    return code, report, err


def _failed(report) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in report["checks"] if not c["ok"]}


def test_pristine_bundle_verifies(run_cli, bundle, signed):
    code, report, _ = _verify(run_cli, bundle, signed[1].public_key_path)
    assert code == 0 and report["ok"] and not _failed(report)


def _positions(n: int, k: int, rng: random.Random) -> list[int]:
    picks = {0, n - 1} | {rng.randrange(n) for _ in range(k)}
    return sorted(picks)[: max(k, 2)]




def test_consistent_forgery_signed_by_an_untrusted_key_fails_on_the_key(run_cli, bundle, signed):
    _, trusted, attacker = signed
    records = list(iter_jsonl(bundle / layout.PERF_REQUESTS))
    for r in records:  # make every request look faster
        if r["first_token_s"] is not None:
            r["first_token_s"] = r["send_s"] + (r["first_token_s"] - r["send_s"]) / 2
    (bundle / layout.PERF_REQUESTS).write_text("".join(json.dumps(r) + "\n" for r in records))
    rederive_summaries(bundle)  # summary, claims... all consistent with the edited records
    sign_bundle(bundle, attacker.private_key_path, PASSPHRASE.encode())
    code, report, _ = _verify(run_cli, bundle, trusted.public_key_path)
    assert code == ExitCode.FAILED
    failed = _failed(report)
    assert set(failed) == {"signature", "test-result"}, failed  # both envelopes carry the attacker's signature
    assert "not a trusted key" in failed["signature"] and attacker.keyid[:16] in failed["signature"]
    assert "not a trusted key" in failed["test-result"]
    # the attacker's own key would accept it: the bundle is internally consistent
    assert _verify(run_cli, bundle, attacker.public_key_path)[0] == 0


def _edit_json(path, edit) -> None:
    data = read_json(path)
    edit(data)
    write_json(path, data)


def test_summary_that_disagrees_with_raw_records_fails_naming_the_field(run_cli, bundle, signed):
    trusted = signed[1]

    def edit(summary):
        lp = summary["load_points"][1]
        lp["ttft_ms"]["p50"] *= 1 + 1e-6  # far below any display precision, far above the tolerance

    _edit_json(bundle / layout.PERF_SUMMARY, edit)
    sign_bundle(bundle, trusted.private_key_path, PASSPHRASE.encode())
    code, report, _ = _verify(run_cli, bundle, trusted.public_key_path)
    assert code == ExitCode.FAILED
    failed = _failed(report)
    assert set(failed) == {"recompute:perf"}, failed
    assert "perf/summary.json.load_points[1 load_point=concurrency=4].ttft_ms.p50: stored" in failed["recompute:perf"]




def test_energy_that_disagrees_with_telemetry_fails(run_cli, bundle, signed):
    trusted = signed[1]
    lines = (bundle / layout.TELEMETRY_CSV).read_text().splitlines()
    header, rows = lines[0], lines[1:]
    cols = header.split(",")
    e = cols.index("energy_mj")
    fixed = []
    for row in rows:  # the NVML energy counter says twice the energy was used
        cells = row.split(",")
        cells[e] = str(int(cells[e]) * 2)
        fixed.append(",".join(cells))
    (bundle / layout.TELEMETRY_CSV).write_text("\n".join([header, *fixed]) + "\n")
    sign_bundle(bundle, trusted.private_key_path, PASSPHRASE.encode())
    code, report, _ = _verify(run_cli, bundle, trusted.public_key_path)
    failed = _failed(report)
    assert code == ExitCode.FAILED and set(failed) == {"recompute:utilisation"}, failed
    assert ".energy.energy_j: stored" in failed["recompute:utilisation"]


def test_summary_without_its_raw_records_fails(run_cli, bundle, signed):
    (bundle / layout.PERF_REQUESTS).unlink()
    (bundle / "eval/zh-general/lm_eval_results.json").unlink()
    sign_bundle(bundle, signed[1].private_key_path, PASSPHRASE.encode())
    code, report, _ = _verify(run_cli, bundle, signed[1].public_key_path)
    failed = _failed(report)
    assert code == ExitCode.FAILED
    assert "requests.jsonl is missing" in failed["recompute:perf"]
    assert "lm_eval_results.json is missing" in failed["recompute:eval:zh-general"]


def test_missing_extra_and_unsigned(run_cli, bundle, signed):
    key = signed[1].public_key_path
    (bundle / layout.TELEMETRY_CSV).unlink()
    (bundle / "notes.txt").write_text("added after signing\n")
    code, report, _ = _verify(run_cli, bundle, key)
    detail = _failed(report)["digests"]
    assert code == ExitCode.FAILED and "telemetry.csv: missing" in detail and "notes.txt: not in the statement" in detail
    (bundle / layout.STATEMENT_DSSE).unlink()
    code, report, _ = _verify(run_cli, bundle, key)
    assert code == ExitCode.FAILED and "not signed" in _failed(report)["signature"]


def test_partial_run_fails_unless_allowed(run_cli, tmp_path, signed):
    trusted = signed[1]
    bundle = verifiable_bundle(tmp_path / "partial", status="partial")
    sign_bundle(bundle, trusted.private_key_path, PASSPHRASE.encode())
    code, report, _ = _verify(run_cli, bundle, trusted.public_key_path)
    assert code == ExitCode.FAILED and set(_failed(report)) == {"run-status"}
    assert "partial" in _failed(report)["run-status"]
    code, report, _ = _verify(run_cli, bundle, trusted.public_key_path, "--allow-partial")
    assert code == 0 and report["ok"]


def test_trusted_keys_dir_and_bad_input(run_cli, tmp_path, bundle, signed):
    _, trusted, attacker = signed
    tdir = tmp_path / "trusted"
    tdir.mkdir()
    shutil.copy(attacker.public_key_path, tdir / "other.pem")
    code, out, _ = run_cli("verify", bundle, "--trusted-keys", tdir, "--json")
    assert code == ExitCode.FAILED and "not a trusted key" in _failed(json.loads(out))["signature"]
    shutil.copy(trusted.public_key_path, tdir / "trusted.pem")
    code, out, _ = run_cli("verify", bundle, "--trusted-keys", tdir, "--json")
    assert code == 0 and json.loads(out)["ok"]

    code, _, err = run_cli("verify", tmp_path / "missing")
    assert code == ExitCode.BAD_INPUT
    code, _, err = run_cli("verify", tmp_path / "missing", "--key", trusted.public_key_path)
    assert code == ExitCode.BAD_INPUT and "bundle directory not found" in err
    code, _, err = run_cli("verify", bundle)
    assert code == ExitCode.BAD_INPUT and "--key" in err
    code, _, err = run_cli("verify", bundle, "--key", trusted.private_key_path)
    assert code == ExitCode.BAD_INPUT and "public key" in err
    code, out, err = run_cli("verify", bundle, "--key", tmp_path / "nope.pem", "--json")
    assert code == ExitCode.BAD_INPUT and out == "" and "not found" in err


def test_table_output_and_unsigned_api(run_cli, bundle, signed):
    (bundle / layout.PERF_SUMMARY).write_text((bundle / layout.PERF_SUMMARY).read_text().replace('"completed": 24', '"completed": 25', 1))
    code, out, _ = run_cli("verify", bundle, "--key", signed[1].public_key_path)
    assert code == ExitCode.FAILED and "FAIL" in out and "recompute:perf" in out and "verification FAILED" in out
    report = verify_bundle(bundle, public_keys=None, trusted_dir=None, require_signature=False)
    outcome = {c.name: c.outcome for c in report.checks}
    assert outcome["signature"] == "SKIP" and outcome["digests"] == "FAIL" and outcome["recompute:perf"] == "FAIL"
    assert not report.ok
