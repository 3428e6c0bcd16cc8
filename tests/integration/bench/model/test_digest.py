"""Digests: per-file sha256 against hashlib and sha256sum, the model digest format, --out and --check. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import pytest
from benchseal.bench.model.digest import (BLOCK_BYTES, check_digests, digest_model, model_digest, select_files, sha256_file,
                                    subjects_document)
from benchseal.schema import FileDigest
from tests.unit.bench.model.test_digest import model_copy  # noqa: F401


def test_digest_matches_hashlib_and_sha256sum(model_copy):
    files, md = digest_model(model_copy, workers=2)
    names = [f.path for f in files]
    assert names == sorted(names)
    assert "model.safetensors" in names and "config.json" in names and "tokenizer.json" in names
    assert "README.md" not in names and not any(n.startswith(".cache") for n in names)
    for f in files:
        data = (model_copy / f.path).read_bytes()
        assert f.sha256 == hashlib.sha256(data).hexdigest() and f.size_bytes == len(data)
    # the model digest is sha256 of `sha256sum` output over the files sorted by path
    if shutil.which("sha256sum"):
        listing = subprocess.run(["sha256sum", *names], cwd=model_copy, capture_output=True, check=True).stdout
        assert md == hashlib.sha256(listing).hexdigest()
    assert digest_model(model_copy, workers=1) == (files, md)


def test_check_names_every_changed_missing_and_extra_file(model_copy, tmp_path, run_cli):
    out = tmp_path / "digests.json"
    code, stdout, _ = run_cli("digest", model_copy, "--out", out, "--json")
    assert code == 0
    doc = json.loads(out.read_text())
    assert json.loads(stdout) == doc
    assert set(doc) == {"format", "subjects", "model_digest"}
    assert all(set(s) >= {"name", "digest"} and len(s["digest"]["sha256"]) == 64 for s in doc["subjects"])
    assert check_digests(model_copy, out) == []
    code, stdout, _ = run_cli("digest", model_copy, "--check", out)
    assert code == 0 and "OK" in stdout
    # change one byte, delete one file, add one file
    blob = bytearray((model_copy / "model.safetensors").read_bytes())
    blob[-1] ^= 1
    (model_copy / "model.safetensors").write_bytes(bytes(blob))
    (model_copy / "tokenizer.json").unlink()
    (model_copy / "added_tokens.json").write_text("{}")
    problems = check_digests(model_copy, out)
    assert any(p.startswith("differs: model.safetensors") for p in problems)
    assert "missing: tokenizer.json" in problems
    assert "not in the digest list: added_tokens.json" in problems
    assert len(problems) == 3
    code, stdout, _ = run_cli("digest", model_copy, "--check", out, "--json")
    assert code == 1 and json.loads(stdout) == {"ok": False, "problems": problems}


def test_check_against_model_json_and_edited_list(model_copy, tmp_path):
    files, md = digest_model(model_copy)
    (tmp_path / "model.json").write_text(json.dumps({"files": [f.model_dump() for f in files], "model_digest": md}))
    assert check_digests(model_copy, tmp_path / "model.json") == []
    doc = subjects_document(files, md)
    doc["subjects"] = doc["subjects"][1:]  # drop a file but keep the old model digest
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    problems = check_digests(model_copy, tmp_path / "edited.json")
    assert any("does not match its own subject list" in p for p in problems)
    assert any(p.startswith("not in the digest list") for p in problems)
