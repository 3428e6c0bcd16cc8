"""The openssl-only verification path documented in docs/verification.md, run exactly as written. — the integration half (servers, models, subprocesses)."""

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
from tests.unit.reports.verify.test_verify_openssl import DOC, doc_block, run_doc  # noqa: F401


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ed25519"])
def test_openssl_alone_verifies_the_signature(tmp_path, algorithm):
    info = new_keys(tmp_path / "keys", algorithm)
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode())

    res = run_doc(bundle, info.public_key_path, tmp_path / "ok", "common", algorithm)
    assert res.returncode == 0, res.stderr
    assert "Verified" in res.stdout  # "Verified OK" / "Signature Verified Successfully"

    # another key (same algorithm) is rejected
    other = new_keys(tmp_path / "other", algorithm)
    res = run_doc(bundle, other.public_key_path, tmp_path / "other-key", "common", algorithm)
    assert res.returncode != 0

    # a forged payload in the envelope (statement.json changed to match) is rejected by openssl
    env_path = bundle / layout.STATEMENT_DSSE
    original = env_path.read_text()
    import base64
    import json

    env = json.loads(original)
    payload = base64.b64decode(env["payload"]).replace(b'"status":"complete"', b'"status":"COMPLETE"', 1)
    env["payload"] = base64.b64encode(payload).decode()
    env_path.write_text(json.dumps(env, separators=(",", ":"), sort_keys=True) + "\n")
    (bundle / layout.STATEMENT_JSON).write_bytes(payload)
    res = run_doc(bundle, info.public_key_path, tmp_path / "forged", "common", algorithm)
    assert res.returncode != 0
