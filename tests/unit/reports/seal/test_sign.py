"""benchseal sign: the in-toto statement, the DSSE envelope, re-signing, and keeping secrets out."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.errors import ExitCode, VerificationFailed
from benchseal.reports.seal.canonical import b64decode_strict, canonical_bytes
from benchseal.reports.seal.dsse import pae, sign_envelope, verify_envelope
from benchseal.reports.seal.keys import keyid, load_private_key
from benchseal.reports.seal.statement import PREDICATE_TYPE, STATEMENT_TYPE, build_statement, sign_bundle
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture(scope="module")
def _pristine(tmp_path_factory):
    return verifiable_bundle(tmp_path_factory.mktemp("pristine") / "bundle")


@pytest.fixture
def bundle(_pristine, tmp_path):
    # one build per module, a fresh copy per test (issue 20: CI time)
    return Path(shutil.copytree(_pristine, tmp_path / "bundle"))


def test_pae_matches_the_dsse_spec_example():
    assert pae("http://example.com/HelloWorld", b"hello world") == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


def test_strict_base64_rejects_altered_padding_bits():
    assert b64decode_strict("QQ==", what="x") == b"A"
    with pytest.raises(VerificationFailed, match="canonical base64"):
        b64decode_strict("QR==", what="x")  # decodes to "A" too with a lenient decoder
    with pytest.raises(VerificationFailed, match="not valid base64"):
        b64decode_strict("Q!==", what="x")


def test_canonical_bytes_are_rfc8785_and_keep_big_ints_exact():
    assert canonical_bytes({"b": 1.0, "a": [2**60, "é"]}) == '{"a":["1152921504606846976","é"],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_bytes({"x": float("nan")})


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ed25519", "sm2"])
def test_envelope_round_trip_and_wrong_key(tmp_path, algorithm):
    info = new_keys(tmp_path / "k", algorithm)
    other = new_keys(tmp_path / "o", algorithm)
    key = load_private_key(info.private_key_path, PASSPHRASE.encode())
    env = sign_envelope(b'{"a":1}', "application/vnd.in-toto+json", key, info.keyid)
    pub = key.public_key()
    assert verify_envelope(env, {keyid(pub): pub}) == b'{"a":1}'
    other_pub = load_private_key(other.private_key_path, PASSPHRASE.encode()).public_key()
    with pytest.raises(VerificationFailed, match="not a trusted key"):
        verify_envelope(env, {other.keyid: other_pub})
    # the same keyid with a different key: the signature itself must fail
    with pytest.raises(VerificationFailed, match="does not verify"):
        verify_envelope(env, {info.keyid: other_pub})
    forged = dict(env, payload=base64.b64encode(b'{"a":2}').decode())
    with pytest.raises(VerificationFailed, match="does not verify"):
        verify_envelope(forged, {info.keyid: pub})
    with pytest.raises(VerificationFailed, match="payloadType"):
        verify_envelope(dict(env, payloadType="text/plain"), {info.keyid: pub})


def test_statement_names_every_file_and_the_model(bundle):
    model = json.loads((bundle / layout.MODEL_JSON).read_text())
    model["model_digest"] = "ab" * 32
    (bundle / layout.MODEL_JSON).write_text(json.dumps(model))
    stmt = build_statement(bundle)
    assert stmt["_type"] == STATEMENT_TYPE and stmt["predicateType"] == PREDICATE_TYPE
    names = [s["name"] for s in stmt["subject"]]
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert names[:-1] == files and "perf/requests.jsonl" in names
    assert names[-1] == "model:" + "ab" * 32 and stmt["subject"][-1]["digest"] == {"sha256": "ab" * 32}
    for s in stmt["subject"][:-1]:
        assert s["digest"]["sha256"] == hashlib.sha256((bundle / s["name"]).read_bytes()).hexdigest()
    pred = stmt["predicate"]
    assert pred["run"]["status"] == "complete" and pred["run"]["program"] == "hunan-2025"
    assert pred["hardware"]["gpus"] == 2 and pred["hardware"]["gpu_models"] == {"NVIDIA H100 80GB HBM3": 2}
    claims = json.loads((bundle / layout.CLAIMS_JSON).read_text())
    assert [v["claim_id"] for v in pred["claims"]["verdicts"]] == [v["claim_id"] for v in claims["verdicts"]]
    assert pred["claims"]["passed"] == claims["passed"]
    assert pred["signer"]["tool"] == "benchseal"


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ed25519", "sm2"])
def test_sign_and_verify_round_trip_cli(run_cli, tmp_path, bundle, algorithm):
    info = new_keys(tmp_path / "keys", algorithm)
    code, out, err = run_cli("sign", bundle, "--key", info.private_key_path, "--json")
    assert code == 0, err
    assert json.loads(out)["keyid"] == info.keyid
    env = json.loads((bundle / layout.STATEMENT_DSSE).read_text())
    assert env["payloadType"] == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in env["signatures"]] == [info.keyid]
    assert base64.b64decode(env["payload"]) == (bundle / layout.STATEMENT_JSON).read_bytes()
    stmt = json.loads((bundle / layout.STATEMENT_JSON).read_bytes())
    assert {layout.STATEMENT_JSON, layout.STATEMENT_DSSE}.isdisjoint(s["name"] for s in stmt["subject"])
    code, out, err = run_cli("verify", bundle, "--key", info.public_key_path, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], [c for c in report["checks"] if not c["ok"]]
    names = {c["name"] for c in report["checks"] if c["outcome"] == "PASS"}
    assert {"signature", "statement", "digests", "predicate", "run-status", "recompute:perf", "recompute:hardware",
            "recompute:utilisation", "recompute:model-digest", "model-subject",
            "recompute:claims", "recompute:eval:songjiang-core", "test-result"} <= names
    code, out, _ = run_cli("verify", bundle, "--key", info.public_key_path)
    assert code == 0 and "verified" in out


def test_resigning_replaces_statement_and_envelope(tmp_path, bundle):
    info = new_keys(tmp_path / "keys")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    first = (bundle / layout.STATEMENT_JSON).read_bytes()
    (bundle / layout.REPORT_MD).write_text("# re-rendered report\n")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    second = json.loads((bundle / layout.STATEMENT_JSON).read_bytes())
    assert (bundle / layout.STATEMENT_JSON).read_bytes() != first
    assert layout.REPORT_MD in {s["name"] for s in second["subject"]}
    from benchseal.reports.verify import verify_bundle

    report = verify_bundle(bundle, public_keys=[info.public_key_path])
    # the signature and digests hold; the hand-written report.md is not what the evidence renders
    assert [c.name for c in report.failures] == ["reports"], report.failures


def test_sign_bad_input_exits_2_and_writes_nothing(run_cli, tmp_path, bundle, monkeypatch):
    info = new_keys(tmp_path / "keys")
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", "not the passphrase")
    code, _, err = run_cli("sign", bundle, "--key", info.private_key_path)
    assert code == ExitCode.BAD_INPUT and "wrong passphrase" in err and "Traceback" not in err
    assert not (bundle / layout.STATEMENT_JSON).exists() and not (bundle / layout.STATEMENT_DSSE).exists()
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)
    code, _, err = run_cli("sign", tmp_path / "nope", "--key", info.private_key_path)
    assert code == ExitCode.BAD_INPUT and "bundle directory not found" in err
    code, _, err = run_cli("sign", bundle, "--key", tmp_path / "missing.pem")
    assert code == ExitCode.BAD_INPUT and "not found" in err
    inside = new_keys(bundle / "keys")
    code, _, err = run_cli("sign", bundle, "--key", inside.private_key_path)
    assert code == ExitCode.BAD_INPUT and "inside the bundle" in err


def test_no_secret_ever_reaches_the_bundle(run_cli, tmp_path, bundle):
    from cryptography.hazmat.primitives import serialization

    info = new_keys(tmp_path / "keys")
    assert run_cli("sign", bundle, "--key", info.private_key_path)[0] == 0
    key = load_private_key(info.private_key_path, PASSPHRASE.encode())
    plain_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pem_body = "".join(info.private_key_path.read_text().splitlines()[1:-1])
    needles = {
        "passphrase": PASSPHRASE.encode(),
        "encrypted PEM body": pem_body[:48].encode(),
        "private key DER": plain_der,
        "private key DER (hex)": plain_der.hex().encode(),
        "private key DER (base64)": base64.b64encode(plain_der)[:48],
        "PEM header": b"PRIVATE KEY",
    }
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for what, needle in needles.items():
            assert needle not in data, f"{what} found in {path}"
    # what the bundle does hold: the key id
    assert info.keyid.encode() in (bundle / layout.STATEMENT_DSSE).read_bytes()
