"""The in-toto test-result statement (https://in-toto.io/attestation/test-result/v0.1): its schema,
its mapping from claims.json, its signature, and verify catching a changed one."""

from __future__ import annotations

import base64
import json

import jsonschema
import pytest

from benchseal import bundle as layout
from benchseal.errors import ExitCode
from benchseal.io import read_json, sha256_file, write_json
from benchseal.reports.seal.statement import envelope_bytes, sign_bundle
from benchseal.reports.seal.statement import build_test_result_statement
from benchseal.reports.seal.testresult import TEST_RESULT_PREDICATE
from tests.helpers import REPO
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle

SCHEMA = json.loads((REPO / "tests" / "helpers" / "schemas" / "in-toto-test-result-v0.1.schema.json").read_text())


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


def _payload(bundle) -> dict:
    env = json.loads((bundle / layout.TEST_RESULT_DSSE).read_text())
    return json.loads(base64.b64decode(env["payload"]))


def test_schema_accepts_the_upstream_example_and_rejects_a_bad_result():
    example = {  # spec/predicates/test-result.md, "Example" (abridged to two tests)
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"gitCommit": "d20ace7968ba43c0219f62d71334c1095bab1602"}}],
        "predicateType": "https://in-toto.io/attestation/test-result/v0.1",
        "predicate": {"result": "PASSED", "configuration": [{
            "name": ".github/workflows/ci.yml",
            "downloadLocation": "https://github.com/in-toto/in-toto/blob/d20ace7968ba43c0219f62d71334c1095bab1602/.github/workflows/ci.yml",
            "digest": {"gitBlob": "ebe4add40f63c3c98bc9b32ff1e736f04120b023"}}],
            "url": "https://github.com/in-toto/in-toto/actions/runs/4425592351",
            "passedTests": ["build (3.7, ubuntu-latest, py)", "build (3.x, ubuntu-latest, lint)"],
            "warnedTests": [], "failedTests": []},
    }
    jsonschema.validate(example, SCHEMA)
    for bad in ({"result": "OK"}, {"configuration": None}, {"configuration": [{"name": "no digest, uri or content"}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**example, "predicate": {**example["predicate"], **bad}}, SCHEMA)


def test_signed_test_result_validates_and_names_the_claims(tmp_path):
    info = new_keys(tmp_path / "k")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    stmt = _payload(bundle)
    jsonschema.validate(stmt, SCHEMA)
    assert stmt["predicateType"] == TEST_RESULT_PREDICATE
    claims = read_json(bundle / layout.CLAIMS_JSON)
    pred = stmt["predicate"]
    named = pred["passedTests"] + pred["warnedTests"] + pred["failedTests"]
    assert sorted(named) == sorted(v["claim_id"] for v in claims["verdicts"])
    assert pred["passedTests"] == [v["claim_id"] for v in claims["verdicts"] if v["status"] == "PASS"]
    assert (pred["result"] == "FAILED") == (not claims["passed"])
    config = {c["name"]: c["digest"]["sha256"] for c in pred["configuration"]}
    assert config == {layout.PROGRAM_JSON: sha256_file(bundle / layout.PROGRAM_JSON),
                      layout.STATEMENT_JSON: sha256_file(bundle / layout.STATEMENT_JSON)}
    model = read_json(bundle / layout.MODEL_JSON)
    assert stmt["subject"] == [{"name": "model:" + model["model_digest"], "digest": {"sha256": model["model_digest"]}}]


@pytest.mark.parametrize(("verdicts", "passed", "result"), [
    ([("a", "PASS", "required"), ("b", "PASS", "optional")], True, "PASSED"),
    ([("a", "PASS", "required"), ("b", "FAIL", "optional")], True, "WARNED"),
    ([("a", "INCONCLUSIVE", "required"), ("b", "PASS", "optional")], False, "FAILED"),
])
def test_result_mapping(tmp_path, verdicts, passed, result):
    bundle = verifiable_bundle(tmp_path / "bundle")
    claims = read_json(bundle / layout.CLAIMS_JSON)
    claims["verdicts"] = [{**claims["verdicts"][0], "claim_id": c, "status": st, "severity": sev} for c, st, sev in verdicts]
    claims["passed"] = passed
    write_json(bundle / layout.CLAIMS_JSON, claims)
    stmt = build_test_result_statement(bundle)
    jsonschema.validate(stmt, SCHEMA)
    pred = stmt["predicate"]
    assert pred["result"] == result
    assert pred["failedTests"] == [c for c, st, sev in verdicts if st != "PASS" and sev == "required"]
    assert pred["warnedTests"] == [c for c, st, sev in verdicts if st != "PASS" and sev != "required"]


def test_verify_catches_a_resigned_or_stale_test_result(run_cli, tmp_path):
    info = new_keys(tmp_path / "k")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    from benchseal.reports.seal.canonical import canonical_bytes
    from benchseal.reports.seal.dsse import sign_envelope
    from benchseal.reports.seal.keys import load_private_key

    stmt = _payload(bundle)
    stmt["predicate"]["result"] = "PASSED" if stmt["predicate"]["result"] != "PASSED" else "FAILED"
    key = load_private_key(info.private_key_path, PASSPHRASE.encode())
    env = sign_envelope(canonical_bytes(stmt), "application/vnd.in-toto+json", key, info.keyid)
    (bundle / layout.TEST_RESULT_DSSE).write_bytes(envelope_bytes(env))  # validly signed, but not what the bundle says
    code, out, _ = run_cli("verify", bundle, "--key", info.public_key_path, "--json")
    assert code == ExitCode.FAILED
    failed = {c["name"]: c["detail"] for c in json.loads(out)["checks"] if not c["ok"]}
    assert set(failed) == {"test-result"} and "test-result.predicate.result" in failed["test-result"]


def test_a_deleted_test_result_fails(run_cli, tmp_path):
    info = new_keys(tmp_path / "k")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    assert json.loads((bundle / layout.STATEMENT_JSON).read_text())["predicate"]["signer"]["attestations"] == [
        layout.TEST_RESULT_DSSE]
    (bundle / layout.TEST_RESULT_DSSE).unlink()
    code, out, _ = run_cli("verify", bundle, "--key", info.public_key_path, "--json")
    assert code == ExitCode.FAILED
    failed = {c["name"]: c["detail"] for c in json.loads(out)["checks"] if not c["ok"]}
    assert set(failed) == {"test-result"} and "missing" in failed["test-result"]
