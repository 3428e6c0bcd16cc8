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


def test_gpus_yaml_failing_its_schema_is_an_error_without_a_gpu(no_gpu, run_cli, tmp_path):
    """A --config-dir gpus.yaml that parses but fails the schema is exit 2 on any machine, not ignored
    until a GPU is present (issue 11)."""
    from benchseal import config

    saved_dirs = list(config._extra_dirs)
    (tmp_path / "gpus.yaml").write_text("h100:\n  name: 5\n")
    try:
        code, _, err = run_cli("--config-dir", tmp_path, "hw")
    finally:  # the in-process CLI registers the folder for this process: later tests must not see it
        config._extra_dirs[:] = saved_dirs
    assert code == 2 and "gpus.yaml" in err and "Traceback" not in err
