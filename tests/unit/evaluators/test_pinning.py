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


def test_prepare_fetches_the_pinned_commit_and_proves_it(monkeypatch, tmp_path):
    """`datasets prepare` asks the hub for the suite's commit (never main), checks the listed hub files and
    records them, so the manifest it writes is pinned (no network here: the hub calls are replaced)."""
    import types

    import huggingface_hub

    import benchseal.evaluators.datasets as ds_mod
    from benchseal.evaluators.datasets import prepare_dataset

    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    asked = []
    rows = [{"id": "q1", "question": "?", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A"}]
    fake = types.SimpleNamespace(__version__="x",
                                 load_dataset=lambda path, name, revision: asked.append(revision) or {"test": rows})
    monkeypatch.setattr(ds_mod, "require", lambda *a, **k: fake)

    class _Api:
        def dataset_info(self, repo, revision):
            return types.SimpleNamespace(sha=revision)

    monkeypatch.setattr(huggingface_hub, "HfApi", _Api)
    hub_file = tmp_path / "hub.parquet"
    hub_file.write_bytes(b"the hub's bytes")
    from benchseal.io import sha256_file

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, rel, repo_type, revision: str(hub_file))
    spec = _spec(revision=REV, source_files={"ARC-Challenge/test-00000-of-00001.parquet": sha256_file(hub_file)})
    manifest = prepare_dataset(spec, {"ARC-Challenge": {"test"}}, tmp_path / "data", suite="arc-challenge")
    assert asked == [REV] and manifest["revision"] == REV
    assert manifest["source_files"][0]["sha256"] == sha256_file(hub_file)
    assert manifest["row_digests"]["ARC-Challenge/test.jsonl"]["rows"] == 1
    assert pin_problems(spec, manifest) == []
