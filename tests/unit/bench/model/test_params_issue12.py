"""Issue 12: counts from the artefacts vendors publish (configs in benchseal/testing/published_configs.py;
checkpoints as header-only safetensors with the published tensor names, shapes and dtypes, sparse on disk)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchseal.bench.model.files import resolve
from benchseal.bench.model.params import count_params, count_safetensors
from benchseal.bench.model.params_config import count_from_config
from benchseal.testing import published_configs as P
from benchseal.testing.safetensors_files import write_sharded, write_st


def _write(root, tensors, config, shards=1):
    names = list(tensors)
    per = -(-len(names) // shards)
    parts = [{k: tensors[k] for k in names[i * per:(i + 1) * per]} for i in range(shards)]
    return write_sharded(root, parts, config)


# ---------------------------------------------------------------- Hunyuan-A13B (list-valued MoE fields)
def hunyuan_tensors(c=P.HUNYUAN_A13B):
    h, d, kv, e = c["hidden_size"], c["attention_head_dim"], c["num_key_value_heads"], c["num_experts"]
    t = {"model.embed_tokens.weight": ("BF16", [c["vocab_size"], h]), "model.norm.weight": ("BF16", [h])}
    for i in range(c["num_hidden_layers"]):
        p, inter = f"model.layers.{i}.", c["moe_intermediate_size"][i]
        t |= {p + "input_layernorm.weight": ("BF16", [h]), p + "post_attention_layernorm.weight": ("BF16", [h]),
              p + "self_attn.q_proj.weight": ("BF16", [c["num_attention_heads"] * d, h]),
              p + "self_attn.k_proj.weight": ("BF16", [kv * d, h]), p + "self_attn.v_proj.weight": ("BF16", [kv * d, h]),
              p + "self_attn.o_proj.weight": ("BF16", [h, c["num_attention_heads"] * d]),
              p + "self_attn.query_layernorm.weight": ("BF16", [d]), p + "self_attn.key_layernorm.weight": ("BF16", [d]),
              p + "mlp.gate.wg.weight": ("BF16", [e, h])}
        for j in range(e):
            q = p + f"mlp.experts.{j}."
            t |= {q + "gate_proj.weight": ("BF16", [inter, h]), q + "up_proj.weight": ("BF16", [inter, h]),
                  q + "down_proj.weight": ("BF16", [h, inter])}
        s = p + "mlp.shared_mlp."
        t |= {s + "gate_proj.weight": ("BF16", [inter, h]), s + "up_proj.weight": ("BF16", [inter, h]),
              s + "down_proj.weight": ("BF16", [h, inter])}
    return t


def test_hunyuan_a13b_header_and_config(tmp_path):
    root = _write(tmp_path / "hy", hunyuan_tensors(), P.HUNYUAN_A13B, shards=4)
    pc = count_safetensors(resolve(root))
    assert pc.total == 80_393_183_232  # 80B (model card)
    assert pc.active == 12_747_448_320  # 13B active (card); was 80.39B before lists were read
    assert (pc.experts, pc.experts_per_token) == (64, 8)
    assert pc.breakdown["router"] == 32 * 64 * 4096  # mlp.gate.wg
    assert pc.breakdown["shared_experts"] == 32 * 3 * 4096 * 3072  # mlp.shared_mlp
    assert "mlp" not in pc.breakdown
    meta = count_from_config(P.HUNYUAN_A13B)
    assert (meta.total, meta.active) == (pc.total, pc.active)
    assert any("architectures names the built-in HunYuanMoEV1ForCausalLM" in n for n in meta.notes)
    assert any("'attention_head_dim' read as" in n for n in meta.notes)


def test_non_uniform_per_layer_lists_count_per_layer(tmp_path):
    cfg = {"model_type": "x", "num_hidden_layers": 2, "num_experts": [4, 8], "moe_topk": [1, 4]}
    t = {f"model.layers.{i}.mlp.experts.{j}.w.weight": ("BF16", [10, 10]) for i, e in ((0, 4), (1, 8)) for j in range(e)}
    t["model.layers.0.self_attn.q.weight"] = ("BF16", [10, 10])
    write_st(tmp_path / "model.safetensors", t)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    pc = count_params(tmp_path)
    # layer 0: 400 routed x 1/4; layer 1: 800 routed x 4/8; attention 100 counts fully
    assert pc.total == 1300 and pc.active == 100 + 100 + 400
    assert pc.experts is None and pc.experts_per_token is None  # not one value for all layers
    assert any("per layer [1, 4]" in n for n in pc.notes)


# ---------------------------------------------------------------- gpt-oss (MXFP4)
def gpt_oss_tensors(c):
    h, d, e, i = c["hidden_size"], c["head_dim"], c["num_local_experts"], c["intermediate_size"]
    qd, kvd = c["num_attention_heads"] * d, c["num_key_value_heads"] * d
    t = {"model.embed_tokens.weight": ("BF16", [c["vocab_size"], h]), "lm_head.weight": ("BF16", [c["vocab_size"], h]),
         "model.norm.weight": ("BF16", [h])}
    for n in range(c["num_hidden_layers"]):
        p = f"model.layers.{n}."
        t |= {p + "input_layernorm.weight": ("BF16", [h]), p + "post_attention_layernorm.weight": ("BF16", [h]),
              p + "self_attn.q_proj.weight": ("BF16", [qd, h]), p + "self_attn.q_proj.bias": ("BF16", [qd]),
              p + "self_attn.k_proj.weight": ("BF16", [kvd, h]), p + "self_attn.k_proj.bias": ("BF16", [kvd]),
              p + "self_attn.v_proj.weight": ("BF16", [kvd, h]), p + "self_attn.v_proj.bias": ("BF16", [kvd]),
              p + "self_attn.o_proj.weight": ("BF16", [h, qd]), p + "self_attn.o_proj.bias": ("BF16", [h]),
              p + "self_attn.sinks": ("BF16", [c["num_attention_heads"]]),
              p + "mlp.router.weight": ("BF16", [e, h]), p + "mlp.router.bias": ("BF16", [e]),
              # MXFP4: 16 bytes = 32 FP4 values per block, one E8M0 scale per block
              p + "mlp.experts.gate_up_proj_blocks": ("U8", [e, 2 * i, h // 32, 16]),
              p + "mlp.experts.gate_up_proj_scales": ("U8", [e, 2 * i, h // 32]),
              p + "mlp.experts.gate_up_proj_bias": ("BF16", [e, 2 * i]),
              p + "mlp.experts.down_proj_blocks": ("U8", [e, h, i // 32, 16]),
              p + "mlp.experts.down_proj_scales": ("U8", [e, h, i // 32]),
              p + "mlp.experts.down_proj_bias": ("BF16", [e, h])}
    return t


@pytest.mark.parametrize("cfg, total_b, active_b", [(P.GPT_OSS_20B, 20.91, 3.61), (P.GPT_OSS_120B, 116.83, 5.13)],
                         ids=["gpt-oss-20b", "gpt-oss-120b"])
def test_gpt_oss_mxfp4_checkpoint(tmp_path, cfg, total_b, active_b):
    root = _write(tmp_path / "oss", gpt_oss_tensors(cfg), cfg, shards=3)
    pc = count_safetensors(resolve(root))
    assert pc.quantization == "mxfp4" and any("two FP4" in n for n in pc.notes)
    assert pc.excluded["quantisation metadata"] > 0  # the *_scales
    assert round(pc.total / 1e9, 2) == total_b  # OpenAI model card: 20.91B / 116.83B
    # OpenAI's "active" leaves out the input embedding (the unembedding counts)
    assert round(pc.active_by_convention["no_input_embedding"] / 1e9, 2) == active_b
    assert pc.active_by_convention["all"] == pc.active
    meta = count_from_config(cfg)  # logical parameters of the unquantised architecture
    assert (meta.total, meta.active) == (pc.total, pc.active)


def test_unsupported_quantisation_falls_back_to_config(tmp_path):
    cfg = {**P.GPT_OSS_20B, "quantization_config": {"quant_method": "some_new_4bit"}}
    root = _write(tmp_path / "oss", gpt_oss_tensors(P.GPT_OSS_20B), cfg)
    pc = count_params(root)
    assert pc.method == "config-meta" and round(pc.total / 1e9, 2) == 20.91
    assert any("weights not counted" in n and "some_new_4bit" in n for n in pc.notes)


def test_nvfp4_modelopt_counts_two_per_byte(tmp_path):
    t = {"model.layers.0.mlp.up_proj.weight": ("U8", [64, 32]), "model.layers.0.mlp.up_proj.weight_scale": ("F8_E4M3", [64, 4]),
         "model.layers.0.mlp.up_proj.weight_scale_2": ("F32", []), "model.layers.0.mlp.up_proj.input_scale": ("F32", []),
         "model.norm.weight": ("BF16", [64])}
    write_st(tmp_path / "model.safetensors", t)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "quantization_config": {
        "quant_method": "modelopt", "quant_algo": "NVFP4"}}))
    pc = count_params(tmp_path)
    assert pc.quantization == "nvfp4" and pc.total == 64 * 64 + 64


# ---------------------------------------------------------------- Qwen3-Next (mtp.* weights)
def test_qwen3_next_mtp_prefix_not_counted(tmp_path):
    from benchseal.bench.model.params_config import build_meta_model

    cfg = P.QWEN3_NEXT_80B_A3B
    model, _ = build_meta_model(cfg, root=None, trust_remote_code=False)
    t = {n: ("BF16", list(p.shape)) for n, p in model.named_parameters()}
    h = cfg["hidden_size"]
    mtp = {"mtp.fc.weight": ("BF16", [h, 2 * h]), "mtp.norm.weight": ("BF16", [h]),
           "mtp.pre_fc_norm_embedding.weight": ("BF16", [h]), "mtp.pre_fc_norm_hidden.weight": ("BF16", [h])}
    mtp |= {n.replace("model.layers.3.", "mtp.layers.0."): s for n, s in t.items() if n.startswith("model.layers.3.")}
    root = _write(tmp_path / "qn", t | mtp, cfg, shards=2)
    pc = count_safetensors(resolve(root))
    assert pc.total == 79_674_391_296  # = the config count; the card's 80B total
    assert round(pc.non_embedding / 1e9) == 79  # card: 79B non-embedding
    assert pc.excluded["multi_token_prediction"] == sum(
        __import__("math").prod(s) for _, s in mtp.values())
    assert any("mtp_num_hidden_layers=1" in n for n in pc.notes)
    assert 3.0e9 <= pc.active < 4.0e9  # card: 3B activated (3.87B counting embeddings fully)


# ---------------------------------------------------------------- Kimi-K2 (architectures alias)
def test_kimi_k2_counted_as_deepseek_v3():
    pc = count_from_config(P.KIMI_K2)
    assert any("model_type 'kimi_k2' is not built into transformers" in n and "DeepseekV3ForCausalLM" in n for n in pc.notes)
    assert round(pc.total / 1e12, 2) == 1.03  # card: 1T total (1.03T on the hub page)
    assert round(pc.active / 1e9) == 33 and round(pc.active_by_convention["no_input_embedding"] / 1e9) == 32  # card: 32B


# ---------------------------------------------------------------- Llama 4 Scout (lenient config load, vision tower)
def test_llama4_scout_lenient_and_vision_convention():
    pc = count_from_config(P.LLAMA4_SCOUT)
    assert any("rejects 'attn_temperature_tuning'" in n and "loaded leniently" in n for n in pc.notes)
    assert round(pc.total / 1e9) == 109  # card: 109B total
    # the exact figure the Hugging Face hub publishes for meta-llama/Llama-4-Scout-17B-16E-Instruct (its safetensors
    # parameter count), as three public model registries copy it (stored-source ids 71422969007, 70911651117,
    # 71142266638; the same registries give Llama-3.3-70B 70,553,706,496 and Mistral-7B-v0.1 7,241,732,096)
    assert pc.total == 108_641_793_536
    assert pc.breakdown["vision"] > 0.4e9
    assert round(pc.active_by_convention["no_vision_audio"] / 1e9) == 17  # Meta: 17B active, vision tower left out


# ---------------------------------------------------------------- ChatGLM3-6B (output_layer, inv_freq)
def chatglm_tensors(c=P.CHATGLM3_6B):
    h, f, v = c["hidden_size"], c["ffn_hidden_size"], c["padded_vocab_size"]
    qkv = h + 2 * c["multi_query_group_num"] * c["kv_channels"]
    t = {"transformer.embedding.word_embeddings.weight": ("F16", [v, h]),
         "transformer.rotary_pos_emb.inv_freq": ("F16", [c["kv_channels"] // 4]),
         "transformer.encoder.final_layernorm.weight": ("F16", [h]), "transformer.output_layer.weight": ("F16", [v, h])}
    for i in range(c["num_layers"]):
        p = f"transformer.encoder.layers.{i}."
        t |= {p + "input_layernorm.weight": ("F16", [h]), p + "post_attention_layernorm.weight": ("F16", [h]),
              p + "self_attention.query_key_value.weight": ("F16", [qkv, h]),
              p + "self_attention.query_key_value.bias": ("F16", [qkv]), p + "self_attention.dense.weight": ("F16", [h, h]),
              p + "mlp.dense_h_to_4h.weight": ("F16", [2 * f, h]), p + "mlp.dense_4h_to_h.weight": ("F16", [h, f])}
    return t


def test_chatglm3_output_layer_and_inv_freq(tmp_path):
    root = _write(tmp_path / "glm", chatglm_tensors(), P.CHATGLM3_6B, shards=7)
    pc = count_safetensors(resolve(root))
    assert pc.total == 6_243_584_000
    assert pc.breakdown["lm_head"] == 65024 * 4096  # transformer.output_layer: the output head
    assert pc.non_embedding == pc.total - 2 * 65024 * 4096
    assert pc.excluded["rotary_buffers"] == 32 and "other" not in pc.breakdown


def test_remote_code_without_py_files_names_them(tmp_path, run_cli):
    (tmp_path / "config.json").write_text(json.dumps(P.CHATGLM3_6B))
    # counted by arithmetic without remote code (test_analytic_chatglm.py); the meta-device cross-check needs the files
    code, out, err = run_cli("params", tmp_path, "--trust-remote-code", "--cross-check")
    assert code == 2 and "configuration_chatglm.py" in err and "modeling_chatglm.py" in err
    assert "huggingface.co" not in err and "Traceback" not in err


# ---------------------------------------------------------------- conventions and speed path
def test_deepseek_v2_lite_conventions():
    pc = count_from_config(P.DEEPSEEK_V2_LITE)
    conv = pc.active_by_convention
    assert conv["all"] == pc.active
    assert 2.4e9 <= conv["no_input_embedding"] < 2.5e9  # DeepSeek-V2 paper: V2-Lite "2.4B" activated (2.45B)
    assert conv["no_embedding_or_head"] == pc.active - pc.embedding
    assert conv["no_vision_audio"] == pc.active  # no towers


def test_params_with_weights_never_imports_torch(tmp_path):
    root = _write(tmp_path / "hy", {k: v for k, v in hunyuan_tensors().items() if ".layers.1" not in k}, P.HUNYUAN_A13B)
    code = ("import sys, io, contextlib; from benchseal.cli import main\n"
            "buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            "    try: rc = main(['params', sys.argv[1], '--json'])\n"
            "    except SystemExit as e: rc = e.code\n"
            "assert rc in (0, None), rc\n"
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
            "print(','.join(bad) or 'clean')\n")
    r = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "clean"
