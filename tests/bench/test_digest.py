"""Digests: per-file sha256 against hashlib and sha256sum, the model digest format, --out and --check."""

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


@pytest.fixture
def model_copy(tiny_llama, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_llama, d)
    (d / "README.md").write_text("not hashed")
    (d / ".cache").mkdir()
    (d / ".cache" / "x.json").write_text("{}")
    return d


@pytest.mark.integration
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


@pytest.mark.unit
def test_model_digest_is_pure_and_order_free():
    a = FileDigest(path="b/config.json", sha256="1" * 64, size_bytes=1)
    b = FileDigest(path="a.safetensors", sha256="2" * 64, size_bytes=2)
    expected = hashlib.sha256(f"{'2' * 64}  a.safetensors\n{'1' * 64}  b/config.json\n".encode()).hexdigest()
    assert model_digest([a, b]) == model_digest([b, a]) == expected
    assert model_digest([a]) != expected


@pytest.mark.unit
def test_large_file_crosses_block_boundaries(tmp_path):
    f = tmp_path / "big.safetensors"
    with open(f, "wb") as fh:
        fh.write(os.urandom(4096))
        fh.seek(BLOCK_BYTES * 2 + 12345)
        fh.write(b"tail")
    h = hashlib.sha256()
    with open(f, "rb") as fh:
        h.update(fh.read())
    seen = []
    assert sha256_file(f, on_bytes=seen.append) == h.hexdigest()
    assert sum(seen) == f.stat().st_size and len(seen) == 3


@pytest.mark.integration
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


@pytest.mark.integration
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


@pytest.mark.unit
def test_digest_file_inside_model_dir_is_not_extra(tmp_path, run_cli):
    (tmp_path / "config.json").write_text("{}")
    code, _, _ = run_cli("digest", tmp_path, "--out", tmp_path / "DIGESTS.json")
    assert code == 0 and check_digests(tmp_path, tmp_path / "DIGESTS.json") == []


@pytest.mark.unit
def test_single_file_and_nested(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "tokenizer.model").write_bytes(b"spm")
    (tmp_path / "w.gguf").write_bytes(b"GGUF")
    assert select_files(tmp_path)[1] == ["sub/tokenizer.model", "w.gguf"]
    files, _ = digest_model(tmp_path / "w.gguf")
    assert [f.path for f in files] == ["w.gguf"]
