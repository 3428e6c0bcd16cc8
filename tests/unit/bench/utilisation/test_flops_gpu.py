"""scripts/gpu_validate_mfu.py: a CPU smoke run, and the real validation on a GPU (``-m gpu``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from tests.helpers import REPO

SCRIPT = REPO / "scripts" / "gpu_validate_mfu.py"


def _script():
    spec = importlib.util.spec_from_file_location("gpu_validate_mfu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module




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
