"""scripts/gpu_validate_mfu.py: a CPU smoke run, and the real validation on a GPU (``-m gpu``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_validate_mfu.py"


def _script():
    spec = importlib.util.spec_from_file_location("gpu_validate_mfu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.integration
@pytest.mark.slow
def test_script_smoke_on_cpu(tmp_path, capsys):
    pytest.importorskip("torch")
    out = tmp_path / "gv.json"
    code = _script().main(["--device", "cpu", "--small", "--dtype", "float32", "--requests", "2", "--prompt-words", "20",
                           "--output-len", "6", "--batch", "2", "--batch-prompt-len", "16", "--out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["flopcounter_eager"]["rel_err_vs_dense"] < 0.02  # every matmul counted: exact
    u = data["hf_backend"]["utilisation"]
    assert u["mfu"] is None and u["note"] == "no GPU in the hardware report" and u["achieved_flops_per_s"] > 0
    assert "| device | cpu" in capsys.readouterr().out


@pytest.mark.gpu
def test_gpu_mfu_validation(tmp_path):
    out = tmp_path / "gv.json"
    assert _script().main(["--out", str(out), "--requests", "4", "--output-len", "64", "--batch", "16"]) == 0
    data = json.loads(out.read_text())
    assert data["flopcounter"]["rel_err_vs_dense"] < 0.02  # CUDA SDPA kernels are counted
    assert data["flopcounter_eager"]["rel_err_vs_dense"] < 0.02
    u, e = data["hf_backend"]["utilisation"], data["hf_backend"]["energy"]
    if data["datasheet_peak_tflops"]:
        assert 0 < u["mfu"] < 1 and 0 < u["mbu"] < 1.2
        assert 0 < data["batched"]["mfu_vs_datasheet"] < 1
    assert e is not None and e["j_per_output_token"] > 0 and e["avg_power_w"] > 10
