"""The real OpenSSF ``model_signing`` CLI (model-signing 1.1.x, its own environment built by
scripts/model_signing_env.sh) accepts the bundle ``benchseal digest --model-signing`` writes, and refuses
it once a file changes; the evidence statement names that bundle and ``benchseal verify --model-signing``
checks it against model.json.

The CLI is found through BENCHSEAL_MODEL_SIGNING_CLI, else in the environment the script builds. Without it
the test is skipped with the reason, and fails instead when BENCHSEAL_REQUIRE_MODEL_SIGNING=1 (the bootstrap
sets it for `test`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.errors import ExitCode
from benchseal.io import read_json, write_json
from tests.helpers import REPO
from tests.helpers.sign_support import PASSPHRASE, new_keys, rederive_summaries, verifiable_bundle


def _cli() -> Path:
    given = os.environ.get("BENCHSEAL_MODEL_SIGNING_CLI")
    if given:
        path, why = Path(given), f"BENCHSEAL_MODEL_SIGNING_CLI={given} is not an executable"
    else:
        env = subprocess.run(["sh", str(REPO / "scripts" / "model_signing_env.sh"), "--path"], capture_output=True,
                             text=True, check=True).stdout.strip()
        path = Path(env) / "bin" / "model_signing"
        why = f"the model-signing environment is not built ({env}; run: sh scripts/model_signing_env.sh)"
        if not (Path(env) / ".complete").is_file():
            path = Path("/nonexistent")
    if path.is_file() and os.access(path, os.X_OK):
        return path
    if os.environ.get("BENCHSEAL_REQUIRE_MODEL_SIGNING") == "1":
        pytest.fail(f"BENCHSEAL_REQUIRE_MODEL_SIGNING=1 but {why}", pytrace=False)
    pytest.skip(f"needs the model_signing CLI: {why} (set BENCHSEAL_REQUIRE_MODEL_SIGNING=1 to fail instead of skip)")


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


def _model(root: Path) -> Path:
    m = root / "tiny-model"
    (m / "sub").mkdir(parents=True)
    (m / "config.json").write_text('{"model_type": "llama", "hidden_size": 64}')
    (m / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    (m / "tokenizer.json").write_text('{"version": "1.0"}')
    (m / "README.md").write_text("not counted by benchseal, signed by model_signing\n")
    (m / "sub" / "extra.bin").write_bytes(b"\x00" * 100)
    (m / ".git").mkdir()
    (m / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # ignored by both, as model_signing does by default
    return m


def _model_signing(cli: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_model_signing_cli_accepts_benchseals_bundle(run_cli, tmp_path):
    cli = _cli()
    keys = new_keys(tmp_path / "keys")
    model = _model(tmp_path)
    for out in (tmp_path / "model.sig", model / "model.sig"):  # outside the model, and inside it (then ignored)
        code, stdout, err = run_cli("digest", model, "--model-signing", out, "--key", keys.private_key_path, "--json")
        assert code == 0, err
        doc = json.loads(stdout)
        assert doc["model_signing"]["files"] == 5  # .git and the signature itself are not signed
        res = _model_signing(cli, "verify", "key", model, "--signature", out, "--public_key", keys.public_key_path)
        assert res.returncode == 0 and "Verification succeeded" in res.stdout + res.stderr, res.stdout + res.stderr
    (model / "README.md").write_text("changed\n")
    res = _model_signing(cli, "verify", "key", model, "--signature", tmp_path / "model.sig", "--public_key", keys.public_key_path)
    assert res.returncode != 0 and "README.md" in res.stdout + res.stderr
    other = new_keys(tmp_path / "other")
    (model / "README.md").write_text("not counted by benchseal, signed by model_signing\n")
    res = _model_signing(cli, "verify", "key", model, "--signature", tmp_path / "model.sig", "--public_key", other.public_key_path)
    assert res.returncode != 0


def test_statement_names_the_model_signing_bundle_and_verify_checks_it(run_cli, tmp_path):
    from benchseal.bench.model.digest import digest_model

    keys = new_keys(tmp_path / "keys")
    model = _model(tmp_path)
    bundle = verifiable_bundle(tmp_path / "bundle")
    files, digest = digest_model(model)
    card = read_json(bundle / layout.MODEL_JSON)
    card["files"], card["model_digest"] = [f.model_dump() for f in files], digest
    write_json(bundle / layout.MODEL_JSON, card)
    rederive_summaries(bundle)  # what depends on the model digest follows it
    sig = tmp_path / "model.sig"
    assert run_cli("digest", model, "--model-signing", sig, "--key", keys.private_key_path)[0] == 0
    code, _, err = run_cli("sign", bundle, "--key", keys.private_key_path, "--model-signing", sig)
    assert code == 0, err
    stmt = json.loads((bundle / layout.STATEMENT_JSON).read_text())
    named = [s for s in stmt["subject"] if s["name"] == "model-signing:model.sig"]
    import hashlib

    assert named and named[0]["digest"]["sha256"] == hashlib.sha256(sig.read_bytes()).hexdigest()
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--model-signing", sig, "--json")
    report = json.loads(out)
    assert code == 0, [c for c in report["checks"] if not c["ok"]]
    assert next(c for c in report["checks"] if c["name"] == "model-signing")["outcome"] == "PASS"
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--json")
    assert code == 0 and "model-signing" in {c["name"] for c in json.loads(out)["not_rederived"]}
    # a model-signing bundle of other files is refused at signing time and fails verification
    (model / "tokenizer.json").write_text('{"version": "2.0"}')
    other = tmp_path / "other.sig"
    assert run_cli("digest", model, "--model-signing", other, "--key", keys.private_key_path)[0] == 0
    code, _, err = run_cli("sign", bundle, "--key", keys.private_key_path, "--model-signing", other)
    assert code == ExitCode.BAD_INPUT and "tokenizer.json" in err
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--model-signing", other, "--json")
    assert code == ExitCode.FAILED and "not the one the statement signs" in next(
        c for c in json.loads(out)["checks"] if c["name"] == "model-signing")["detail"]


def test_model_signing_needs_an_ec_key_and_both_flags(run_cli, tmp_path):
    model = _model(tmp_path)
    sm2 = new_keys(tmp_path / "sm2", "sm2")
    code, _, err = run_cli("digest", model, "--model-signing", tmp_path / "m.sig", "--key", sm2.private_key_path)
    assert code == ExitCode.BAD_INPUT and "elliptic-curve" in err and not (tmp_path / "m.sig").exists()
    code, _, err = run_cli("digest", model, "--model-signing", tmp_path / "m.sig")
    assert code == ExitCode.BAD_INPUT and "--key" in err
