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
    assert rep.claim_grade  # the suite's rules: no --limit; manifest pin not required
    with pytest.raises(UsageError):
        run_suite("arc-challenge", model=str(tiny_llama), out_dir=tmp_path / "b", backend="nope", data_dir=data)
