"""The openssl-only verification path documented in docs/verification.md, run exactly as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.reports.seal.statement import sign_bundle
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle
from tests.helpers import REPO

DOC = REPO / "docs" / "verification.md"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def doc_block(name: str) -> str:
    """The ```sh block right after the <!-- openssl-verify:NAME --> marker in docs/verification.md."""
    m = re.search(rf"<!-- openssl-verify:{re.escape(name)} -->\s*```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert m, f"docs/verification.md has no openssl-verify:{name} block"
    return m.group(1)


def run_doc(bundle: Path, pub: Path, workdir: Path, *blocks: str) -> subprocess.CompletedProcess:
    workdir.mkdir()
    script = "set -euo pipefail\n" + "\n".join(doc_block(b) for b in blocks)
    env = dict(os.environ, BUNDLE=str(bundle), PUB=str(pub))
    return subprocess.run(["bash", "-c", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=60)




@pytest.mark.skipif(shutil.which("jq") is None or shutil.which("sha256sum") is None, reason="needs jq and sha256sum")
def test_documented_digest_check_catches_a_changed_file(tmp_path):
    info = new_keys(tmp_path / "keys")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    res = run_doc(bundle, info.public_key_path, tmp_path / "ok", "common", "ecdsa-p256", "digests")
    assert res.returncode == 0, res.stderr
    with open(bundle / layout.PERF_REQUESTS, "ab") as fh:
        fh.write(b"\n")
    res = run_doc(bundle, info.public_key_path, tmp_path / "changed", "common", "ecdsa-p256", "digests")
    assert res.returncode != 0 and "perf/requests.jsonl" in res.stdout + res.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
def test_documented_extra_file_listing(tmp_path):
    info = new_keys(tmp_path / "keys")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())
    res = run_doc(bundle, info.public_key_path, tmp_path / "ok", "common", "ecdsa-p256", "digests", "extra-files")
    assert res.returncode == 0 and res.stdout.strip() == "Verified OK", res.stdout + res.stderr
    (bundle / "eval" / "unsigned.txt").write_text("x")
    res = run_doc(bundle, info.public_key_path, tmp_path / "extra", "common", "ecdsa-p256", "digests", "extra-files")
    assert res.stdout.strip().splitlines()[-1] == "eval/unsigned.txt"


def _openssl_has_sm2() -> bool:
    return subprocess.run(["openssl", "ecparam", "-name", "SM2", "-genkey", "-noout"], capture_output=True).returncode == 0


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
def test_documented_sm2_and_dual_signature_checks(tmp_path):
    if not _openssl_has_sm2():
        pytest.skip("this openssl has no SM2")
    sm2 = new_keys(tmp_path / "sm2", "sm2")
    ec = new_keys(tmp_path / "ec")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, [sm2.private_key_path, ec.private_key_path], PASSPHRASE.encode(), sm2_signer_id="lab-7@example.cn")
    res = run_doc(bundle, sm2.public_key_path, tmp_path / "sm2run", "common", "sm2", "digests", "extra-files")
    assert res.returncode == 0 and res.stdout.strip() == "Signature Verified Successfully", res.stdout + res.stderr
    res = run_doc(bundle, ec.public_key_path, tmp_path / "ecrun", "common", "by-keyid", "ecdsa-p256")
    assert res.returncode == 0 and res.stdout.strip() == "Verified OK", res.stdout + res.stderr
    # the SM2 check with the other key, or after the payload changed, fails
    res = run_doc(bundle, ec.public_key_path, tmp_path / "wrongkey", "common", "sm2")
    assert res.returncode != 0
    import base64
    import json

    forged = (bundle / layout.STATEMENT_JSON).read_bytes().replace(b'"complete"', b'"partial"', 1)
    env = json.loads((bundle / layout.STATEMENT_DSSE).read_text())
    env["payload"] = base64.b64encode(forged).decode()
    (bundle / layout.STATEMENT_JSON).write_bytes(forged)  # statement and payload agree: only the signature can tell
    (bundle / layout.STATEMENT_DSSE).write_text(json.dumps(env, separators=(",", ":"), sort_keys=True))
    res = run_doc(bundle, sm2.public_key_path, tmp_path / "changed", "common", "sm2")
    assert res.returncode != 0 and "Signature Verification Failure" in res.stdout + res.stderr, res.stdout + res.stderr
