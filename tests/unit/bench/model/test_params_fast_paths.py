"""The fast paths of ``benchseal params`` (issue 12 speed) change no result.

- ``rules.tally``'s per-pattern cache: counts with and without it are identical, for the naming
  schemes and quantisation rules it may meet (incl. the ones it must not cache: bitsandbytes, NVFP4).
- ``benchseal params --json`` prints exactly what it printed before the speed work, byte for byte:
  the golden files in data/ were written by the code before it (commit b12cbb5) for the demo model and a
  DeepSeek-V3-layout header-only checkpoint (FP8 + block scales, MoE, an MTP layer, 4 shards + index).
"""

from __future__ import annotations

import copy
import importlib.util
import math
from pathlib import Path

import pytest

from benchseal.bench.model import rules
from benchseal.testing import published_configs as P
from tests.helpers import REPO

DATA = Path(__file__).parent / "data"


def _bench_params():
    spec = importlib.util.spec_from_file_location("bench_params", REPO / "scripts" / "bench_params.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


# A DeepSeek-V3 with 3 layers (1 dense, 2 MoE) and its MTP layer: every tensor kind of the real one.
SMALL_DSV3 = {**P.DEEPSEEK_V3, "num_hidden_layers": 3, "first_k_dense_replace": 1}


def _items(tensors):
    return [(n, d, math.prod(s)) for n, (d, s) in tensors]


def _tally(items, config):
    return rules.tally(iter(items), copy.deepcopy(config), method="safetensors-header", where="w", architecture="A",
                       names=[i[0] for i in items]).model_dump()


def _gguf_like():
    t = [("token_embd.weight", "BF16", 4096), ("output.weight", "BF16", 4096), ("output_norm.weight", "F32", 64)]
    for i in range(3):
        t += [(f"blk.{i}.attn_q.weight", "Q4_K", 4096), (f"blk.{i}.ffn_gate_inp.weight", "F32", 512),
              (f"blk.{i}.ffn_gate_exps.weight", "Q4_K", 8 * 4096), (f"blk.{i}.ffn_down_shexp.weight", "Q4_K", 4096),
              (f"blk.{i}.attn_norm.weight", "F32", 64)]
    return t


def _quantised(suffixes, dtype, layers=3):
    t = [("model.embed_tokens.weight", "BF16", 1000), ("lm_head.weight", "BF16", 1000), ("model.rotary_emb.inv_freq", "F32", 32)]
    for i in range(layers):
        for e in range(4):
            for s in suffixes:
                t.append((f"model.layers.{i}.mlp.experts.{e}.down_proj{s}", dtype if s in (".weight", ".qweight", "_blocks") else "F32", 256))
        t += [(f"model.layers.{i}.mlp.gate.weight", "BF16", 64), (f"model.layers.{i}.self_attn.q_proj.weight", "BF16", 512)]
    return t


MOE = {"num_hidden_layers": 2, "num_local_experts": 4, "num_experts_per_tok": 2}
CASES = {
    "deepseek-v3 fp8 + mtp": (lambda: _items(_bench_params().dsv3_tensors(SMALL_DSV3)), SMALL_DSV3),
    "gguf names": (_gguf_like, {"num_local_experts": 8, "num_experts_per_tok": 2}),
    "gptq": (lambda: _quantised([".qweight", ".qzeros", ".scales", ".g_idx"], "I32"),
             {**MOE, "quantization_config": {"quant_method": "gptq", "bits": 4}}),
    "nvfp4 (digits in a rule: not cached)": (lambda: _quantised([".weight", ".weight_scale", ".weight_scale_2"], "U8"),
                                             {**MOE, "quantization_config": {"quant_method": "modelopt", "quant_algo": "NVFP4"}}),
    "bitsandbytes (exact names: not cached)": (
        lambda: _quantised([".weight", ".weight.absmax", ".weight.quant_state.bitsandbytes__nf4"], "U8"),
        {**MOE, "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}}),
    "mxfp4": (lambda: _quantised(["_blocks", "_scales"], "U8"), {**MOE, "quantization_config": {"quant_method": "mxfp4"}}),
    "same names per layer, other shapes and dtypes": (
        lambda: [(n, "BF16" if ".layers.1." in n and d == "U8" else d, 2 * k if ".layers.1." in n else k)  # layer 1: not packed
                 for n, d, k in _quantised(["_blocks", "_scales"], "U8", layers=2)],
        {**MOE, "quantization_config": {"quant_method": "mxfp4"}}),
    "per-layer experts, tied, odd layer names": (
        lambda: [("model.embed_tokens.weight", "BF16", 100), ("lm_head.weight", "BF16", 100),
                 ("model.layers.0.mlp.experts.0.w", "BF16", 10), ("model.layers.1.mlp.experts.0.w", "BF16", 10),
                 ("model.layers.2.mlp.experts.0.w", "BF16", 10), ("model.layers.x.mlp.experts.0.w", "BF16", 10),
                 ("model.layers.12", "BF16", 3), ("transformer.h.1.mlp.experts.3.w", "BF16", 10),
                 ("mtp.layers.0.mlp.experts.1.w", "BF16", 7), ("model.layers.0.mlp.experts.0.w", "F32", 10)],
        {"num_hidden_layers": 3, "tie_word_embeddings": True, "num_experts": [4, 4, 8], "top_k": 2, "mtp_num_layers": 1}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pattern_cache_changes_no_count(case, monkeypatch):
    make, config = CASES[case]
    items = make()
    cached = _tally(items, config)
    monkeypatch.setattr(rules, "PATTERN_CACHE", False)
    assert _tally(items, config) == cached
    assert cached["total"] > 0


def _golden(name: str, out: str) -> None:
    want = (DATA / name).read_text(encoding="utf-8")
    assert out == want, f"`benchseal params --json` output differs from {name}"


def test_params_json_unchanged_on_the_demo_model(tiny_llama, run_cli):
    code, out, err = run_cli("params", tiny_llama, "--json")
    assert code == 0, err
    _golden("params_demo_llama.json", out)


def test_params_json_unchanged_on_a_deepseek_v3_layout_checkpoint(tmp_path, run_cli):
    _bench_params().build(tmp_path / "dsv3", shards=4, cfg=SMALL_DSV3)
    code, out, err = run_cli("params", tmp_path / "dsv3", "--json")
    assert code == 0, err
    _golden("params_dsv3_small.json", out)
