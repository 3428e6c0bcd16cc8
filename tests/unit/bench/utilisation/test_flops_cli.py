"""`benchseal flops` on a config-only model directory, and its bad-input paths (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchseal.bench.utilisation.flops import FlopsModel

from tests.helpers.flops_configs import TINY



@pytest.fixture
def model_dir(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    (d / "config.json").write_text(json.dumps(TINY["mixtral"]))
    return d


def test_json_output(run_cli, model_dir):
    code, out, err = run_cli("flops", model_dir, "--prompt-len", "100", "--output-len", "11", "--batch", "3", "--json")
    assert code == 0, err
    data = json.loads(out)
    fm = FlopsModel.from_config(TINY["mixtral"])
    assert data["prefill_flops_per_token"] == pytest.approx(fm.prefill_flops(100) / 100)
    assert data["decode_flops_per_token"] == pytest.approx(fm.decode_flops(100, 11) / 10)
    assert fm.decode_flops_per_token(100) < data["decode_flops_per_token"] < fm.decode_flops_per_token(109)
    assert data["total_flops"] == pytest.approx(3 * fm.request_flops(100, 11))
    assert data["model"]["num_experts"] == 4 and data["model"]["experts_per_token"] == 2
    assert data["dtype"] == "bf16"


def test_human_output_and_model_json(run_cli, model_dir, tmp_path):
    code, out, _ = run_cli("flops", model_dir / "config.json", "--prompt-len", "8", "--output-len", "4")
    assert code == 0 and "prefill" in out and "FLOP" in out
    bundle_model = tmp_path / "model.json"
    bundle_model.write_text(json.dumps({"source": "x", "config": TINY["llama"]}))
    code, out, _ = run_cli("flops", bundle_model, "--prompt-len", "8", "--output-len", "4", "--json")
    assert code == 0 and json.loads(out)["model_type"] == "llama"


def test_tiny_model_fixture_dir(run_cli, tiny_qwen2):
    code, out, err = run_cli("flops", tiny_qwen2, "--prompt-len", "16", "--output-len", "8", "--json")
    assert code == 0, err
    assert json.loads(out)["model"]["attention"] == "gqa"


@pytest.mark.parametrize("setup, args, text", [
    ("empty", ["--prompt-len", "8", "--output-len", "4"], "no config.json"),
    ("unknown", ["--prompt-len", "8", "--output-len", "4"], "model_type 'rwkv'"),
    ("ok", ["--prompt-len", "0", "--output-len", "4"], "--prompt-len must be at least 1"),
    ("ok", ["--prompt-len", "8", "--output-len", "4", "--dtype", "fp3"], "unknown dtype 'fp3'"),
    ("missing", ["--prompt-len", "8", "--output-len", "4"], "does not exist"),
])
def test_bad_input_exits_2_with_one_line(run_cli, tmp_path, setup, args, text):
    d = tmp_path / "m"
    if setup != "missing":
        d.mkdir()
    if setup == "unknown":
        (d / "config.json").write_text(json.dumps({"model_type": "rwkv", "hidden_size": 8}))
    if setup == "ok":
        (d / "config.json").write_text(json.dumps(TINY["llama"]))
    code, out, err = run_cli("flops", d, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and text in err and "Traceback" not in err


def test_flops_command_imports_no_heavy_module(model_dir):
    probe = (
        "import sys, contextlib, io\nfrom benchseal.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['flops', {str(model_dir)!r}, '--prompt-len', '4', '--output-len', '2', '--json'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'vllm', 'lm_eval', 'ray')))"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"
