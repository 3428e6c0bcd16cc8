"""The analytic count from config.json: no torch on the config-only path, and "unknown" (None) for
anything it does not fully understand. Its parity with the meta-device count is checked against
transformers in tests/integration/bench/model/test_analytic_parity.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchseal.bench.model.analytic import analytic_items
from benchseal.bench.model.params_config import count_analytic
from benchseal.errors import ModelFormatError
from benchseal.testing import published_configs as P


def test_kimi_k2_config_only_does_not_import_torch(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(P.KIMI_K2))
    code = ("import sys, json, io, contextlib\n"
            "from benchseal.cli import main\n"
            "buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            f"    rc = main(['params', {str(cfg)!r}, '--json'])\n"
            "doc = json.loads(buf.getvalue())\n"
            "print(json.dumps({'rc': rc, 'total': doc['total'], 'notes': doc['notes'],\n"
            "                  'heavy': sorted(m for m in ('torch', 'transformers') if m in sys.modules)}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert doc["rc"] == 0 and doc["heavy"] == []
    assert int(doc["total"]) == 1_026_408_232_448
    assert any("counted analytically from config.json" in n for n in doc["notes"])


def test_counts_without_importing_torch_in_process():
    pc = count_analytic(P.DEEPSEEK_V3)
    assert pc is not None and pc.total == 671_026_419_200 and pc.active == 37_552_297_472
    assert pc.method == "config-meta" and pc.quantization == "fp8"


@pytest.mark.parametrize("change", [
    {"some_new_field": 1},  # an unknown key may change the architecture
    {"model_type": "unknown_arch"},
    {"architectures": ["LlamaModel"]},  # no lm_head: another class than the family's
    {"architectures": ["LlamaForCausalLM", "Other"]},
    {"attention_bias": 1},  # not a bool: transformers' lenient loading decides, not a guess here
    {"head_dim": None},  # an explicit null: implementations differ
    {"num_key_value_heads": None},
    {"text_config": {"hidden_size": 8}},
])
def test_declines_what_it_does_not_understand(change):
    cfg = {k: v for k, v in {**P.LLAMA3_8B, **change}.items() if v is not None or k in change}
    assert analytic_items(cfg) is None


@pytest.mark.parametrize("missing", ["hidden_size", "intermediate_size", "num_key_value_heads", "vocab_size"])
def test_a_missing_shape_is_left_to_transformers(missing):
    assert analytic_items({k: v for k, v in P.LLAMA3_8B.items() if k != missing}) is None


def test_deepseek_moe_layer_freq_other_than_one_declines():
    assert analytic_items({**P.DEEPSEEK_V3, "moe_layer_freq": 2}) is None
    assert analytic_items({**P.DEEPSEEK_V3, "num_experts_per_tok": None}) is None


def test_kimi_alias_only_for_its_class():
    assert analytic_items(P.KIMI_K2) is not None
    assert analytic_items({**P.KIMI_K2, "architectures": ["LlamaForCausalLM"]}) is None
    assert analytic_items({**P.KIMI_K2, "model_type": "kimi_k3"}) is None


def test_bad_sizes_are_refused_before_counting():
    with pytest.raises(ModelFormatError, match="num_hidden_layers"):
        count_analytic({**P.LLAMA3_8B, "num_hidden_layers": 10**9})
    with pytest.raises(ModelFormatError, match="hidden_size"):
        count_analytic({**P.LLAMA3_8B, "hidden_size": 2.5})


def test_the_module_imports_only_the_standard_library():
    import ast
    from pathlib import Path

    import benchseal.bench.model.analytic as mod

    tree = ast.parse(Path(mod.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= {"__future__", "dataclasses", "typing"}
