"""evaluators.items: content hashes, and which manifest file each real lm-eval task evaluates (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchseal.evaluators import load_suite
from benchseal.evaluators.items import item_sha256, task_files
from benchseal.evaluators.suites import render_tasks


def test_a_row_and_the_document_datasets_hands_lm_eval_hash_alike():
    row = {"id": "q1", "choices": {"text": ["a"], "label": ["A"]}, "n": 3}
    doc = {"n": 3.0, "choices": {"label": ["A"], "text": ["a"]}, "id": "q1", "extra": None}  # arrow widened, null-filled
    assert item_sha256(row) == item_sha256(doc)
    assert item_sha256(row) != item_sha256(row | {"id": "q2"})
    assert item_sha256({"x": 0.5}) != item_sha256({"x": 0})


@pytest.mark.parametrize("suite,task,file,raw", [
    ("mmlu-5shot", "mmlu_abstract_algebra", "abstract_algebra/test.jsonl", True),
    ("ceval-valid-5shot", "ceval-valid_accountant", "accountant/val.jsonl", True),
    ("hellaswag", "hellaswag", "default/validation.jsonl", False),  # process_docs rewrites the rows
    ("arc-challenge", "arc_challenge", "ARC-Challenge/test.jsonl", True),
])
def test_each_shipped_task_maps_to_its_manifest_file(tmp_path: Path, suite, task, file, raw):
    s = load_suite(suite)
    (spec,) = s.data.datasets
    rendered = render_tasks(s, tmp_path / "data", tmp_path / "tasks")
    manifest = {"data_dir": str(tmp_path / "data"),
                "datasets": {spec.name: {"manifest": {"files": [{"path": file}]}}}}
    got = task_files(rendered, manifest)
    assert got[task] == {"dataset": spec.name, "file": file, "raw_docs": raw}
