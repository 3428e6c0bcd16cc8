"""Header counting: agreement with config-meta on saved tiny models, sharding, ties, MoE, MTP, quantisation."""

from __future__ import annotations

import json
import shutil

import pytest

from benchseal.bench.model.inspect import inspect_model
from benchseal.bench.model.params import classify, count_params
from benchseal.testing.safetensors_files import write_sharded, write_st

H, I, V = 64, 128, 512








def _llama_tensors(layers: range, vocab=1000, h=64, i=128) -> dict:
    t = {}
    for n in layers:
        p = f"model.layers.{n}."
        for proj in ("q", "k", "v", "o"):
            t[p + f"self_attn.{proj}_proj.weight"] = ("BF16", [h, h])
        for proj, shape in (("gate", [i, h]), ("up", [i, h]), ("down", [h, i])):
            t[p + f"mlp.{proj}_proj.weight"] = ("BF16", shape)
        t[p + "input_layernorm.weight"] = ("BF16", [h])
        t[p + "post_attention_layernorm.weight"] = ("BF16", [h])
    return t


def test_sharded_checkpoint_through_index(tmp_path):
    t = _llama_tensors(range(4))
    names = list(t)
    shards = [dict((k, t[k]) for k in names[:20]), dict((k, t[k]) for k in names[20:])]
    shards[0]["model.embed_tokens.weight"] = ("BF16", [1000, 64])
    shards[1]["lm_head.weight"] = ("BF16", [1000, 64])
    shards[1]["model.norm.weight"] = ("BF16", [64])
    root = write_sharded(tmp_path / "m", shards)
    (root / "stale.safetensors").write_bytes(b"junk")  # not in the index: never read
    pc = count_params(root)
    per_layer = 4 * 64 * 64 + 3 * 64 * 128 + 2 * 64
    assert pc.total == 4 * per_layer + 2 * 64000 + 64
    assert pc.breakdown == {"embedding": 64000, "lm_head": 64000, "attention": 4 * 4 * 4096, "mlp": 4 * 3 * 8192, "norms": 9 * 64}
    assert pc.embedding == 128000 and pc.non_embedding == pc.total - 128000
    assert pc.dtype == "bfloat16" and pc.active == pc.total


def test_mtp_layers_not_counted(tmp_path):
    t = _llama_tensors(range(3))  # layer 2 is the MTP layer of a 2-layer model
    t["model.embed_tokens.weight"] = ("BF16", [1000, 64])
    root = tmp_path / "m"
    write_st(root / "model.safetensors", t)
    (root / "config.json").write_text(json.dumps({"model_type": "llama", "num_hidden_layers": 2, "num_nextn_predict_layers": 1}))
    from benchseal.bench.model.params import count_safetensors
    from benchseal.bench.model.files import resolve

    pc = count_safetensors(resolve(root))
    per_layer = 4 * 64 * 64 + 3 * 64 * 128 + 2 * 64
    assert pc.total == 2 * per_layer + 64000
    assert pc.excluded == {"layers_beyond_num_hidden_layers": per_layer}
    assert any("multi-token-prediction" in n for n in pc.notes)


def _quant_dir(tmp_path, qc: dict, tensors: dict):
    root = tmp_path / "q"
    write_st(root / "model.safetensors", tensors)
    (root / "config.json").write_text(json.dumps({"model_type": "llama", "quantization_config": qc}))
    return count_params(root)


@pytest.mark.parametrize("method", ["gptq", "awq"])
def test_gptq_awq_packed_weights_are_logical(tmp_path, method):
    # a 256 x 512 linear at 4 bits, group size 128; int32 holds eight 4-bit values
    if method == "gptq":  # qweight [in / 8, out], qzeros [in / g, out / 8], scales [in / g, out], g_idx [in]
        t = {"model.layers.0.mlp.up_proj.qweight": ("I32", [256 // 8, 512]),
             "model.layers.0.mlp.up_proj.qzeros": ("I32", [2, 512 // 8]),
             "model.layers.0.mlp.up_proj.scales": ("F16", [2, 512]),
             "model.layers.0.mlp.up_proj.g_idx": ("I32", [256])}
    else:  # AWQ packs along the output dimension: qweight [in, out / 8]
        t = {"model.layers.0.mlp.up_proj.qweight": ("I32", [256, 512 // 8]),
             "model.layers.0.mlp.up_proj.qzeros": ("I32", [2, 512 // 8]),
             "model.layers.0.mlp.up_proj.scales": ("F16", [2, 512])}
    t["model.embed_tokens.weight"] = ("F16", [100, 256])
    pc = _quant_dir(tmp_path, {"quant_method": method, "bits": 4, "group_size": 128} if method == "gptq"
                    else {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm"}, t)
    assert pc.breakdown == {"embedding": 25600, "mlp": 256 * 512}
    assert pc.quantization == method
    metadata = sum(_n(shape) for k, (_d, shape) in t.items() if not k.endswith(("qweight", "embed_tokens.weight")))
    assert pc.excluded == {"quantisation metadata": metadata}
    assert any(method.upper() in n and "not counted" in n for n in pc.notes)
    assert pc.dtype == f"int4 ({method})"


def _n(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def test_fp8_scales_are_not_parameters(tmp_path):
    t = {"model.layers.0.self_attn.q_proj.weight": ("F8_E4M3", [256, 256]),
         "model.layers.0.self_attn.q_proj.weight_scale_inv": ("F32", [2, 2]),
         "model.layers.0.input_layernorm.weight": ("BF16", [256])}
    pc = _quant_dir(tmp_path, {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}, t)
    assert pc.total == 256 * 256 + 256 and pc.excluded == {"quantisation metadata": 4}
    assert pc.dtype == "float8_e4m3fn"
    # without a quantization_config the scales are recognised by name
    root = tmp_path / "noconf"
    write_st(root / "model.safetensors", t)
    pc2 = count_params(root / "model.safetensors")
    assert pc2.total == pc.total and "detected from tensor names" in " ".join(pc2.notes)


def test_bitsandbytes_4bit(tmp_path):
    t = {"model.layers.0.mlp.up_proj.weight": ("U8", [128 * 64 // 2, 1]),
         "model.layers.0.mlp.up_proj.weight.absmax": ("F32", [128]),
         "model.layers.0.mlp.up_proj.weight.quant_map": ("F32", [16]),
         "model.layers.0.mlp.up_proj.weight.quant_state.bitsandbytes__nf4": ("U8", [80])}
    pc = _quant_dir(tmp_path, {"quant_method": "bitsandbytes", "load_in_4bit": True}, t)
    assert pc.total == 128 * 64


def test_gptq_without_bits_is_refused(tmp_path, run_cli):
    root = tmp_path / "q"
    write_st(root / "model.safetensors", {"model.layers.0.mlp.up_proj.qweight": ("I32", [4, 8])})
    code, _, err = run_cli("params", root)
    assert code == 2 and "bit width" in err and "Traceback" not in err


@pytest.mark.parametrize("name, comp", [
    ("model.embed_tokens.weight", "embedding"), ("lm_head.weight", "lm_head"), ("output.weight", "lm_head"),
    ("token_embd.weight", "embedding"), ("model.layers.3.self_attn.kv_a_proj_with_mqa.weight", "attention"),
    ("model.layers.3.mlp.gate.weight", "router"), ("model.layers.3.block_sparse_moe.gate.weight", "router"),
    ("model.layers.3.mlp.gate.e_score_correction_bias", "router"), ("model.layers.3.mlp.shared_expert_gate.weight", "router"),
    ("model.layers.3.mlp.shared_experts.up_proj.weight", "shared_experts"), ("model.layers.3.mlp.experts.7.w1.weight", "experts"),
    ("model.layers.3.mlp.experts.gate_up_proj", "experts"), ("blk.0.ffn_up_exps.weight", "experts"),
    ("blk.0.ffn_gate_inp.weight", "router"), ("blk.0.ffn_down_shexp.weight", "shared_experts"),
    ("model.layers.0.mlp.gate_proj.weight", "mlp"), ("blk.0.attn_norm.weight", "norms"), ("output_norm.weight", "norms"),
    ("model.layers.0.self_attn.q_a_layernorm.weight", "norms"), ("blk.0.attn_q.weight", "attention"),
])
def test_classify(name, comp):
    assert classify(name) == comp
