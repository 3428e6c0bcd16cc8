"""A suite whose few-shot split is smaller than its shot count, or whose evaluated split is empty, is one
sentence and exit 2 before any model loads, not lm-eval's ``ValueError: Sample larger than population``."""

from __future__ import annotations

from pathlib import Path

from benchseal.errors import ExitCode
from benchseal.evaluators.datasets import write_mirror
from tests.unit.evaluators.test_data import _arc_rows


def _arc(tmp_path: Path, train: int, test: int) -> Path:
    data = tmp_path / "data"
    write_mirror(data / "allenai__ai2_arc", {"ARC-Challenge": {
        "train": _arc_rows(train, "tr"), "validation": _arc_rows(2, "va"), "test": _arc_rows(test, "te")}},
        dataset="allenai__ai2_arc", hf_path="allenai/ai2_arc")
    return data


def test_three_training_items_for_25_shots(run_cli, tmp_path: Path):
    data = _arc(tmp_path, train=3, test=3)
    # the model path does not exist: the guard answers before anything tries to load it
    code, out, err = run_cli("eval", "run", "arc-challenge", "--model", tmp_path / "no-model", "--device", "cpu",
                             "--data-dir", data, "--out", tmp_path / "b")
    assert code == ExitCode.BAD_INPUT, err
    assert "Traceback" not in err and "Sample larger" not in err
    assert "task arc_challenge asks for 25 few-shot example(s) but its few-shot split 'train' holds 3 item(s)" in err
    assert [ln for ln in err.splitlines() if "error:" in ln] == [err.strip().splitlines()[-1]]
