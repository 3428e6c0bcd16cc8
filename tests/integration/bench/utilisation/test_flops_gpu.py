"""scripts/gpu_validate_mfu.py: a CPU smoke run, and the real validation on a GPU (``-m gpu``). — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import pytest
from tests.helpers import REPO
from tests.unit.bench.utilisation.test_flops_gpu import SCRIPT, _script  # noqa: F401


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
