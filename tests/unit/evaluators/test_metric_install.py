"""The evaluate metric scripts a suite's tasks load at run time (HumanEval: code_eval), installed into
the data directory by `datasets prepare`/`import` and bound into the rendered tasks by the runner."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from benchseal.config import config_dir
from benchseal.errors import DatasetError
from benchseal.evaluators import load_suite, verify_suite_data
from benchseal.evaluators import datasets as ds
from benchseal.evaluators.runner import _code_eval_allowed
from benchseal.evaluators.suites import render_tasks

SHIPPED = ds.shipped_metrics()["code_eval"]
SOURCE = json.loads((SHIPPED / "SOURCE.json").read_text())


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _git_blob(p: Path) -> str:
    data = p.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_shipped_copy_is_the_recorded_upstream_file():
    """The package data is byte-identical to huggingface/evaluate v0.4.6 (git blob ids from the tag)."""
    assert SOURCE["tag"] == "v0.4.6" and len(SOURCE["commit"]) == 40
    assert set(SOURCE["files"]) == {"code_eval.py", "execute.py"}
    for name, rec in SOURCE["files"].items():
        assert _sha(SHIPPED / name) == rec["sha256"]
        assert _git_blob(SHIPPED / name) == rec["git_blob"]
        assert "Licensed under the Apache License, Version 2.0" in (SHIPPED / name).read_text()


def test_install_records_sha256_and_is_idempotent(tmp_path: Path):
    first = ds.install_metric("code_eval", tmp_path)
    folder = tmp_path / ds.METRICS_DIR / "code_eval"
    files = {f["path"]: f["sha256"] for f in first["manifest"]["files"]}
    assert files == {n: r["sha256"] for n, r in SOURCE["files"].items()}
    assert {p.name for p in folder.iterdir()} == {"code_eval.py", "execute.py", ds.MANIFEST_NAME}
    assert first["manifest"]["source"]["commit"] == SOURCE["commit"] and first["replaced"] == []
    manifest_bytes = (folder / ds.MANIFEST_NAME).read_bytes()
    second = ds.install_metric("code_eval", tmp_path)
    assert second["manifest_sha256"] == first["manifest_sha256"] == _sha(folder / ds.MANIFEST_NAME)
    assert (folder / ds.MANIFEST_NAME).read_bytes() == manifest_bytes and second["replaced"] == []
    # the same release writes the same manifest anywhere (no paths, no timestamps): the data hash is portable
    assert ds.install_metric("code_eval", tmp_path / "elsewhere")["manifest_sha256"] == first["manifest_sha256"]


def test_tampered_copy_is_refused_at_run_and_replaced_by_install(tmp_path: Path):
    ds.install_metric("code_eval", tmp_path)
    folder = tmp_path / ds.METRICS_DIR / "code_eval"
    ds.verify_metric("code_eval", tmp_path, suite="humaneval")
    execute = folder / "execute.py"
    execute.write_text(execute.read_text().replace('result.append("passed")', 'result.append("passed")  # ok'))
    with pytest.raises(DatasetError, match="metric file 'execute.py' of 'code_eval' is missing or changed") as e:
        ds.verify_metric("code_eval", tmp_path, suite="humaneval")
    assert "benchseal datasets prepare humaneval" in e.value.message
    # a manifest rewritten to match the tampered file does not help: the shipped copy is the reference
    m = json.loads((folder / ds.MANIFEST_NAME).read_text())
    m["files"] = [dict(f, sha256=_sha(execute)) if f["path"] == "execute.py" else f for f in m["files"]]
    (folder / ds.MANIFEST_NAME).write_text(json.dumps(m))
    with pytest.raises(DatasetError, match="not the copy this benchseal ships"):
        ds.verify_metric("code_eval", tmp_path, suite="humaneval")
    again = ds.install_metric("code_eval", tmp_path)  # prepare/import overwrite it with the shipped copy
    assert again["replaced"] == ["execute.py"]
    assert _sha(execute) == SOURCE["files"]["execute.py"]["sha256"]
    ds.verify_metric("code_eval", tmp_path, suite="humaneval")
    # an extra file is refused, and install removes it
    (folder / "sitecustomize.py").write_text("import os\n")
    with pytest.raises(DatasetError, match="not in its manifest, e.g. 'sitecustomize.py'"):
        ds.verify_metric("code_eval", tmp_path, suite="humaneval")
    assert ds.install_metric("code_eval", tmp_path)["replaced"] == ["sitecustomize.py"]
    assert not (folder / "sitecustomize.py").exists()


def test_missing_metric_is_one_clear_sentence(tmp_path: Path):
    with pytest.raises(DatasetError) as e:
        ds.verify_metric("code_eval", tmp_path, suite="humaneval", used_by=["builtin-humaneval/utils.py"])
    msg = e.value.message
    assert msg.startswith("the evaluate metric 'code_eval' that suite 'humaneval' scores with (builtin-humaneval/utils.py) "
                          "is not installed in the data directory")
    assert "'benchseal datasets prepare humaneval" in msg and "'benchseal datasets import humaneval --source DIR" in msg
    with pytest.raises(DatasetError, match="ships no copy of the evaluate metric 'rouge'"):
        ds.install_metric("rouge", tmp_path)


def test_humaneval_needs_code_eval_and_other_suites_nothing(tmp_path: Path):
    assert ds.metric_needs(load_suite("humaneval")) == {"code_eval": ["builtin-humaneval/utils.py"]}
    for name in ("demo", "arc-challenge", "gsm8k", "songjiang-core"):
        assert ds.metric_needs(load_suite(name)) == {}
    # a suite without metrics keeps the combined data hash it always had
    demo = verify_suite_data(load_suite("demo"), config_dir() / "suites" / "data" / "demo")
    assert "metrics" not in demo
    assert demo["sha256"] == ds.canonical_sha256({k: v["manifest_sha256"] for k, v in sorted(demo["datasets"].items())})


def test_prepare_installs_the_metric(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """prepare (its download replaced: no hub here) installs code_eval next to the data, and the
    combined data hash covers it."""
    suite = load_suite("humaneval")

    def fake_download(spec, configs, data_dir, *, suite):
        return ds.write_mirror(Path(data_dir) / spec.name, {"default": {"test": [{"task_id": "HumanEval/0"}]}},
                               dataset=spec.name, hf_path=spec.hf_path)

    monkeypatch.setattr(ds, "prepare_dataset", fake_download)
    ds.prepare_suite_data(suite, tmp_path)
    combined = verify_suite_data(suite, tmp_path)
    metric = combined["metrics"]["code_eval"]
    assert metric["used_by"] == ["builtin-humaneval/utils.py"]
    assert combined["sha256"] == ds.canonical_sha256({
        "metric:code_eval": metric["manifest_sha256"],
        "openai__openai_humaneval": combined["datasets"]["openai__openai_humaneval"]["manifest_sha256"]})


def test_bind_points_the_rendered_task_at_the_verified_copy(tmp_path: Path):
    suite = load_suite("humaneval")
    data = tmp_path / "data"
    ds.write_mirror(data / "openai__openai_humaneval", {"default": {"test": [{"task_id": "HumanEval/0"}]}},
                    dataset="openai__openai_humaneval", hf_path="openai/openai_humaneval")
    rendered = render_tasks(suite, data, tmp_path / "tasks")
    with pytest.raises(DatasetError, match="loads the evaluate metric 'code_eval', which is not installed"):
        ds.bind_metrics(rendered, {"metrics": {}})
    ds.install_suite_metrics(suite, data)
    combined = verify_suite_data(suite, data)
    bound = ds.bind_metrics(rendered, combined)
    target = str((data / ds.METRICS_DIR / "code_eval" / "code_eval.py").resolve())
    assert bound == [{"file": "builtin-humaneval/utils.py", "metric": "code_eval", "path": target}]
    text = (rendered / "builtin-humaneval" / "utils.py").read_text()
    assert f"hf_evaluate.load({json.dumps(target)})" in text and '"code_eval")' not in text
    assert ds.bind_metrics(rendered, combined) == []  # nothing left to bind


def test_code_eval_allowed_only_when_opted_in(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL", raising=False)
    with _code_eval_allowed(False):
        assert "HF_ALLOW_CODE_EVAL" not in os.environ
    with _code_eval_allowed(True):
        assert os.environ["HF_ALLOW_CODE_EVAL"] == "1"
    assert "HF_ALLOW_CODE_EVAL" not in os.environ
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "0")
    with pytest.raises(RuntimeError):
        with _code_eval_allowed(True):
            raise RuntimeError("run failed")
    assert os.environ["HF_ALLOW_CODE_EVAL"] == "0"
