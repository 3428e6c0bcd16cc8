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




def test_model_digest_is_pure_and_order_free():
    a = FileDigest(path="b/config.json", sha256="1" * 64, size_bytes=1)
    b = FileDigest(path="a.safetensors", sha256="2" * 64, size_bytes=2)
    expected = hashlib.sha256(f"{'2' * 64}  a.safetensors\n{'1' * 64}  b/config.json\n".encode()).hexdigest()
    assert model_digest([a, b]) == model_digest([b, a]) == expected
    assert model_digest([a]) != expected


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
    assert sha256_file(f, block=BLOCK_BYTES, on_bytes=seen.append) == h.hexdigest()
    assert sum(seen) == f.stat().st_size and len(seen) == 3






def test_digest_file_inside_model_dir_is_not_extra(tmp_path, run_cli):
    (tmp_path / "config.json").write_text("{}")
    code, _, _ = run_cli("digest", tmp_path, "--out", tmp_path / "DIGESTS.json")
    assert code == 0 and check_digests(tmp_path, tmp_path / "DIGESTS.json") == []


def test_single_file_and_nested(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "tokenizer.model").write_bytes(b"spm")
    (tmp_path / "w.gguf").write_bytes(b"GGUF")
    assert select_files(tmp_path)[1] == ["sub/tokenizer.model", "w.gguf"]
    files, _ = digest_model(tmp_path / "w.gguf")
    assert [f.path for f in files] == ["w.gguf"]
