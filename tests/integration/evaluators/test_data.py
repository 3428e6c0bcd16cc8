"""Hermetic data: manifests, refusal of mismatches, prepare offline, suites as data, real builtin tasks. — the integration half (servers, models, subprocesses)."""

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
from tests.unit.evaluators.test_data import DEMO_DATA, _arc_rows, demo_copy  # noqa: F401


def test_builtin_lm_eval_task_runs_on_prepared_layout(tiny_llama: Path, tmp_path: Path):
    """The real arc-challenge suite (lm-eval's own arc_challenge YAML, 25-shot) on a local folder in the
    layout `datasets prepare` writes (README configs + JSONL + manifest), fully offline."""
    from benchseal.evaluators import run_suite

    data = tmp_path / "data"
    m = write_mirror(data / "allenai__ai2_arc", {"ARC-Challenge": {
        "train": _arc_rows(26, "tr"), "validation": _arc_rows(2, "va"), "test": _arc_rows(3, "te")}},
        dataset="allenai__ai2_arc", hf_path="allenai/ai2_arc")
    assert {f["path"] for f in m["files"]} == {"README.md", "ARC-Challenge/train.jsonl", "ARC-Challenge/validation.jsonl",
                                                "ARC-Challenge/test.jsonl"}
    rep = run_suite("arc-challenge", model=str(tiny_llama), out_dir=tmp_path / "b", data_dir=data, device="cpu")
    head = next(r for r in rep.results if r.headline)
    assert (head.task, head.metric, head.num_fewshot, head.n, head.benchmark) == ("arc_challenge", "acc_norm", 25, 3, "ARC-Challenge")
    assert not rep.claim_grade  # 3 items are not ARC-Challenge: the official test split has 1172
    assert any("evaluated 3 items; the official ARC-Challenge split has 1172" in r for r in rep.not_claim_grade_reasons)
    with pytest.raises(UsageError):
        run_suite("arc-challenge", model=str(tiny_llama), out_dir=tmp_path / "b", backend="nope", data_dir=data)


def test_imported_three_item_arc_is_not_claim_grade(run_cli, tiny_llama: Path, tmp_path: Path):
    """(c) `datasets import` builds the mirror from files a user has (here JSONL and Parquet, as published);
    a 3-question "ARC-Challenge" evaluates but is not claim-grade, and the reason says why."""
    import pandas as pd

    src = tmp_path / "usb" / "ai2_arc" / "ARC-Challenge"
    src.mkdir(parents=True)
    for split, rows in (("train", _arc_rows(26, "tr")), ("validation", _arc_rows(2, "va"))):
        (src / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pd.DataFrame(_arc_rows(3, "te")).to_parquet(src / "test-00000-of-00001.parquet")
    data = tmp_path / "data"
    code, out, err = run_cli("datasets", "import", "arc-challenge", "--source", tmp_path / "usb", "--data-dir", data, "--json")
    assert code == 0, err
    imported = json.loads(out)
    manifest = json.loads((data / "allenai__ai2_arc" / MANIFEST_NAME).read_text())
    assert manifest["rows"] == {"ARC-Challenge": {"test": 3, "train": 26, "validation": 2}}
    assert {f["path"] for f in manifest["imported_from_files"]} >= {"ARC-Challenge/test-00000-of-00001.parquet"}
    assert imported["verified"]["sha256"]
    code, out, err = run_cli("eval", "run", "arc-challenge", "--model", tiny_llama, "--device", "cpu", "--data-dir", data,
                             "--out", tmp_path / "b", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["claim_grade"] is False
    assert any("evaluated 3 items; the official ARC-Challenge split has 1172" in r for r in rep["not_claim_grade_reasons"])
    head = next(r for r in rep["results"] if r["headline"])
    assert head["fingerprint"]["task"] == "arc_challenge" and head["fingerprint"]["data_manifest_sha256"] == imported["verified"]["sha256"]
    # a missing split is one clear sentence and exit 2
    (src / "test-00000-of-00001.parquet").unlink()
    code, out, err = run_cli("datasets", "import", "arc-challenge", "--source", tmp_path / "usb", "--data-dir", tmp_path / "d2")
    assert code == ExitCode.BAD_INPUT and "split 'test'" in err and "Traceback" not in err
