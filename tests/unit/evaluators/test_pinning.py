"""Pinned suites (issue 22): every shipped standard suite names a hub commit; claim-grade needs data
proven to be that commit."""

from __future__ import annotations

import pytest

from benchseal.evaluators import load_suite
from benchseal.evaluators.pinning import is_commit, pin_problems
from benchseal.evaluators.suites import DatasetSpec

STANDARD = ["arc-challenge", "ceval-valid-5shot", "cmmlu-5shot", "gsm8k", "hellaswag", "humaneval", "mmlu-5shot",
            "truthfulqa-mc"]
REV = "210d026faf9955653af8916fad021475a3f00453"
SHA = "62f03257e737aed263f55c6abf87c7bb0028a44a6bdd2a26eb1279eb42c1d1e9"


@pytest.mark.parametrize("name", STANDARD)
def test_every_shipped_standard_suite_pins_a_hub_commit(name):
    s = load_suite(name)
    assert s.kind == "standard" and s.claim_grade_requires.manifest_pinned
    for d in s.data.datasets:
        assert is_commit(d.revision), (name, d.name, d.revision)
        for path, sha in (d.source_files or {}).items():
            assert len(sha) == 64 and int(sha, 16) >= 0, (name, path)


def _spec(**kw):
    return DatasetSpec(name="allenai__ai2_arc", hf_path="allenai/ai2_arc", **kw)


def test_pin_rules():
    spec = _spec(revision=REV, source_files={"ARC-Challenge/test-00000-of-00001.parquet": SHA})
    prepared = {"revision": REV, "prepared_at": "2026-12-07T00:00:00+00:00",
                "source_files": [{"path": "ARC-Challenge/test-00000-of-00001.parquet", "sha256": SHA}]}
    assert pin_problems(spec, prepared) == []
    assert "prepared from hub revision" in pin_problems(spec, prepared | {"revision": "0" * 40})[0]
    assert "does not record the pinned hub file" in pin_problems(spec, prepared | {"source_files": []})[0]
    imported = {"revision": REV, "imported_from_files": [{"path": "x/test.parquet", "sha256": SHA}]}
    assert pin_problems(spec, imported) == []  # the hub's own file, copied by hand
    other = {"revision": REV, "imported_from_files": [{"path": "test.jsonl", "sha256": "ab" * 32}]}
    assert "not the hub's files" in pin_problems(spec, other)[0]
    assert "lists no hub file hashes" in pin_problems(_spec(revision=REV), other)[0]
    assert "pins neither" in pin_problems(_spec(revision="main"), prepared)[0]
    assert pin_problems(_spec(manifest_sha256="ab" * 32), {}) == []


def test_prepare_checks_the_listed_hub_files(monkeypatch, tmp_path):
    from benchseal.errors import DatasetError
    from benchseal.evaluators.pinning import check_source_files

    f = tmp_path / "test.parquet"
    f.write_bytes(b"not the hub file")
    import huggingface_hub

    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, rel, repo_type, revision: calls.append(revision) or str(f))
    spec = _spec(revision=REV, source_files={"ARC-Challenge/test-00000-of-00001.parquet": SHA})
    with pytest.raises(DatasetError, match="the suite expects 62f03257e737"):
        check_source_files(spec, REV)
    assert calls == [REV]
    from benchseal.io import sha256_file

    ok = _spec(revision=REV, source_files={"t.parquet": sha256_file(f)})
    assert check_source_files(ok, REV)[0]["sha256"] == sha256_file(f)
