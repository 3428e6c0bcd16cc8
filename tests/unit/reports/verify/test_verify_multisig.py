"""Several signatures on one envelope (sign --key A --key B): verify says which keys verified, and
--require-all-keys demands every given key."""

from __future__ import annotations

import json

import pytest

from benchseal import bundle as layout
from benchseal.errors import ExitCode
from benchseal.reports.seal.statement import envelope_bytes
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture(scope="module")
def dual(tmp_path_factory):
    """A bundle signed by an SM2 and an ECDSA key (one envelope, two signatures), and a third key that did not sign."""
    import os

    from benchseal.reports.seal.statement import sign_bundle

    root = tmp_path_factory.mktemp("dual")
    sm2, ec, other = new_keys(root / "sm2", "sm2"), new_keys(root / "ec"), new_keys(root / "other", "ed25519")
    bundle = verifiable_bundle(root / "bundle")
    os.environ.setdefault("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)
    sign_bundle(bundle, [sm2.private_key_path, ec.private_key_path], PASSPHRASE.encode())
    return bundle, sm2, ec, other


def _verify(run_cli, bundle, *args):
    code, out, err = run_cli("verify", bundle, *args, "--json")
    assert out, err
    report = json.loads(out)
    return code, {c["name"]: c for c in report["checks"]}


def test_sign_cli_with_two_keys_writes_two_signatures(run_cli, tmp_path, monkeypatch):
    sm2, ec = new_keys(tmp_path / "sm2", "sm2"), new_keys(tmp_path / "ec")
    bundle = verifiable_bundle(tmp_path / "bundle")
    monkeypatch.setenv("SECOND_PASS", PASSPHRASE)
    code, out, err = run_cli("sign", bundle, "--key", sm2.private_key_path, "--key", ec.private_key_path,
                             "--passphrase-env", "BENCHSEAL_KEY_PASSPHRASE", "--passphrase-env", "SECOND_PASS", "--json")
    assert code == 0, err
    assert json.loads(out)["keyids"] == [sm2.keyid, ec.keyid]
    for name in (layout.STATEMENT_DSSE, layout.TEST_RESULT_DSSE):
        env = json.loads((bundle / name).read_text())
        assert [s["keyid"] for s in env["signatures"]] == [sm2.keyid, ec.keyid]
        assert "extension" in env["signatures"][0] and "extension" not in env["signatures"][1]
    code, _, err = run_cli("sign", bundle, "--key", ec.private_key_path, "--key", ec.private_key_path)
    assert code == ExitCode.BAD_INPUT and "twice" in err
    code, _, err = run_cli("sign", bundle, "--key", ec.private_key_path, "--passphrase-env", "A", "--passphrase-env", "B")
    assert code == ExitCode.BAD_INPUT and "--passphrase-env" in err


def test_either_key_verifies_and_the_output_names_which(run_cli, dual):
    bundle, sm2, ec, _ = dual
    for key, other in ((sm2, ec), (ec, sm2)):
        code, checks = _verify(run_cli, bundle, "--key", key.public_key_path)
        assert code == 0
        assert key.keyid in checks["signature"]["detail"] and other.keyid not in checks["signature"]["detail"]
        lines = {n: c for n, c in checks.items() if n.startswith("signature[")}
        assert [c["outcome"] for c in lines.values()] == (["PASS", "SKIP"] if key is sm2 else ["SKIP", "PASS"])
        assert "not a trusted key" in next(c["detail"] for c in lines.values() if c["outcome"] == "SKIP")


def test_require_all_keys(run_cli, dual):
    bundle, sm2, ec, other = dual
    code, checks = _verify(run_cli, bundle, "--key", sm2.public_key_path, "--key", ec.public_key_path, "--require-all-keys")
    assert code == 0 and "every trusted key signed" in checks["signature"]["detail"]
    assert sm2.keyid in checks["signature"]["detail"] and ec.keyid in checks["signature"]["detail"]
    # without the policy one of two trusted keys suffices; with it, the key that did not sign fails the bundle
    assert _verify(run_cli, bundle, "--key", sm2.public_key_path, "--key", other.public_key_path)[0] == 0
    code, checks = _verify(run_cli, bundle, "--key", sm2.public_key_path, "--key", other.public_key_path, "--require-all-keys")
    assert code == ExitCode.FAILED
    assert f"no valid signature by required key {other.keyid}" in checks["signature"]["detail"]


def test_a_broken_signature_by_a_trusted_key_fails_even_if_another_verifies(run_cli, dual, tmp_path):
    import shutil

    bundle, sm2, ec, _ = dual
    copy = shutil.copytree(bundle, tmp_path / "copy")
    env = json.loads((copy / layout.STATEMENT_DSSE).read_text())
    env["signatures"][1]["sig"] = env["signatures"][0]["sig"]  # the ECDSA slot now holds the SM2 signature
    (copy / layout.STATEMENT_DSSE).write_bytes(envelope_bytes(env))
    code, checks = _verify(run_cli, copy, "--key", sm2.public_key_path, "--key", ec.public_key_path)
    assert code == ExitCode.FAILED
    assert checks["signature[0]"]["outcome"] == "PASS" and checks["signature[1]"]["outcome"] == "FAIL"
    assert "does not verify" in checks["signature"]["detail"]
