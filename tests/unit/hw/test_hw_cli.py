"""`benchseal hw` end to end (in process), with and without a (replayed) GPU."""

from __future__ import annotations

import json

import pytest

from benchseal.schema import HardwareReport



def test_no_gpu_human(no_gpu, run_cli):
    code, out, err = run_cli("hw")
    assert code == 0
    assert "No NVIDIA GPU found" in out and "LibraryNotFound" in out


def test_no_gpu_json(no_gpu, run_cli, tmp_path):
    code, out, _ = run_cli("hw", "--json", "--out", tmp_path / "hardware.json")
    assert code == 0
    data = json.loads(out)
    assert {"host", "gpus", "compute"} <= set(data) and data["gpus"] == [] and data["nvml_available"] is False
    assert json.loads((tmp_path / "hardware.json").read_text()) == data
    HardwareReport.model_validate(data)


def test_microbench_without_gpu_exits_3(no_gpu, run_cli):
    code, out, err = run_cli("hw", "--microbench")
    assert code == 3 and out == ""
    assert "needs an NVIDIA GPU" in err and "Traceback" not in err


def test_microbench_with_ray_is_usage_error(no_gpu, run_cli):
    code, _, err = run_cli("hw", "--microbench", "--ray-address", "auto")
    assert code == 2 and "cannot be combined" in err


def test_with_gpus_table_and_json(fake_nvml, run_cli):
    fake_nvml("nvml_h100_sxm5_x2.json")
    code, out, _ = run_cli("hw")
    assert code == 0 and "算力规模" in out and "NVIDIA H100 SXM5 80GB" in out and "1,979.0" in out
    code, out, _ = run_cli("hw", "--json")
    data = json.loads(out)
    assert len(data["gpus"]) == 2 and data["compute"]["total_tflops"]["bf16"] == 1979.0
