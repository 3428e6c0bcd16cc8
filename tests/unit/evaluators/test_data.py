"""Hermetic data: manifests, refusal of mismatches, prepare offline, suites as data, real builtin tasks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchseal.errors import ConfigError, DatasetError, ExitCode, UsageError
from benchseal.evaluators import list_suites, load_suite, verify_suite_data
from benchseal.evaluators.datasets import MANIFEST_NAME, dataset_needs, write_manifest, write_mirror
from benchseal.evaluators.suites import render_tasks
from benchseal.config import config_dir

DEMO_DATA = config_dir() / "suites" / "data" / "demo"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DEMO_DATA, dst)
    return dst


def test_shipped_demo_data_verifies():
    combined = verify_suite_data(load_suite("demo"), DEMO_DATA)
    assert set(combined["datasets"]) == {"demo_mc", "demo_gen"} and len(combined["sha256"]) == 64


def test_changed_data_file_is_refused_with_clear_message(run_cli, demo_copy: Path, tmp_path: Path):
    f = demo_copy / "demo_mc" / "test.jsonl"
    f.write_text(f.read_text().replace("Mercury", "Pluto"))
    code, out, err = run_cli("eval", "run", "demo", "--model", "unused", "--data-dir", demo_copy, "--out", tmp_path / "b")
    assert code == ExitCode.BAD_INPUT and out == ""
    assert "data file 'test.jsonl' of dataset 'demo_mc' does not match its manifest" in err
    assert str(f) in err and "refuses to evaluate on changed data" in err
    assert not (tmp_path / "b" / "eval" / "demo" / "results.json").exists()


def test_rewritten_manifest_is_refused_by_the_suite_pin(demo_copy: Path):
    f = demo_copy / "demo_gen" / "test.jsonl"
    f.write_text(f.read_text() + json.dumps({"id": "x", "question": "1 + 1", "answer": "3"}) + "\n")
    write_manifest(demo_copy / "demo_gen", dataset="demo_gen")  # consistent again, but not what the suite pins
    with pytest.raises(DatasetError, match="suite 'demo' pins"):
        verify_suite_data(load_suite("demo"), demo_copy)


def test_missing_manifest_extra_and_missing_files(demo_copy: Path):
    suite = load_suite("demo")
    (demo_copy / "demo_mc" / "extra.jsonl").write_text("{}\n")
    with pytest.raises(DatasetError, match="not in its manifest"):
        verify_suite_data(suite, demo_copy)
    (demo_copy / "demo_mc" / "extra.jsonl").unlink()
    (demo_copy / "demo_mc" / "train.jsonl").unlink()
    with pytest.raises(DatasetError, match="is missing"):
        verify_suite_data(suite, demo_copy)
    (demo_copy / "demo_mc" / MANIFEST_NAME).unlink()
    with pytest.raises(DatasetError) as exc:
        verify_suite_data(suite, demo_copy)
    assert "dataset 'demo_mc' has no manifest" in exc.value.message
    assert f"benchseal datasets prepare demo --data-dir {demo_copy}" in exc.value.message


def test_datasets_verify_cli(run_cli):
    code, out, _ = run_cli("datasets", "verify", "demo", "--json")
    assert code == 0 and json.loads(out)["suite"] == "demo"
    code, out, err = run_cli("datasets", "verify", "mmlu-5shot", "--data-dir", "/nonexistent/dir")
    assert code == ExitCode.BAD_INPUT and "benchseal datasets prepare mmlu-5shot" in err


def test_prepare_fails_clearly_offline(run_cli, tmp_path: Path):
    code, out, err = run_cli("datasets", "prepare", "mmlu-5shot", "--data-dir", tmp_path)
    assert code == ExitCode.ENVIRONMENT
    assert "cannot download 'cais/mmlu'" in err and "machine with hub access" in err


def test_real_suites_load_and_render_to_local_data(tmp_path: Path):
    names = set(list_suites())
    assert {"demo", "mmlu-5shot", "ceval-valid-5shot", "cmmlu-5shot", "gsm8k", "arc-challenge", "hellaswag",
            "truthfulqa-mc", "humaneval", "songjiang-core", "hunan-core"} <= names
    sj = load_suite("songjiang-core")
    assert [t.num_fewshot for t in sj.tasks] == [5, 5, 5, 8, 25, 10, 0]
    assert not any(t.unsafe_code for t in sj.tasks) and load_suite("humaneval").opt_in
    needs = dataset_needs(sj)
    assert len(needs["cais/mmlu"]) == 57 and len(needs["ceval/ceval-exam"]) == 52 and len(needs["haonan-li/cmmlu"]) == 67
    assert needs["ceval/ceval-exam"]["accountant"] == {"val", "dev"}
    out = render_tasks(sj, tmp_path / "data", tmp_path / "tasks")
    hub_ids = {d.hf_path for d in sj.data.datasets}
    paths = set()
    for y in list(out.rglob("*.yaml")) + list(out.rglob("*_yaml")):
        for line in y.read_text().splitlines():
            if line.startswith("dataset_path:"):
                paths.add(line.split(":", 1)[1].strip())
    assert paths and not (paths & hub_ids)
    assert str((tmp_path / "data" / "cais__mmlu").resolve()) in paths


def test_suite_validation_and_unsafe_code(tmp_path: Path, run_cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntasks:\n  - task: x\n    num_fewshot: 1\n    benchmark: X\n    scoring: loglikelihood\n"
                   "    source: {local: t}\n    surprise: 1\n")
    with pytest.raises(ConfigError, match="surprise"):
        load_suite(str(bad))
    with pytest.raises(ConfigError, match="unknown suite 'nope'"):
        load_suite("nope")
    code, _, err = run_cli("eval", "run", "humaneval", "--model", "m", "--out", tmp_path, "--data-dir", tmp_path)
    assert code == ExitCode.BAD_INPUT and "--allow-unsafe-code" in err


def _arc_rows(n: int, prefix: str) -> list[dict]:
    words = ["red", "blue", "green", "yellow"]
    return [{"id": f"{prefix}{i}", "question": f"Which colour is number {i}?",
             "choices": {"text": words, "label": ["A", "B", "C", "D"]}, "answerKey": "ABCD"[i % 4]} for i in range(n)]


