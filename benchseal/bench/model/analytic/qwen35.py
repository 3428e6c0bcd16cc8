"""Qwen3.5-MoE (Qwen3_5MoeForConditionalGeneration): the Qwen3-VL-style vision tower and merger under
``model.visual`` and the text model under ``model.language_model``: Gated DeltaNet layers (q/k/v, z, b and a
projected separately) and gated full-attention layers from ``layer_types`` (or one full layer every
``full_attention_interval``), every layer routed experts + one shared expert with its sigmoid gate. transformers
builds no MTP module (``^mtp.*`` is dropped on load), and reads neither ``mlp_only_layers`` nor
``attn_output_gate`` (its attention is always gated): those are accepted only at the values that describe that
model ([] and true)."""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _experts, _int, _lin, _mlp, _norms

# Qwen3_5MoeVisionConfig / Qwen3_5MoeTextConfig defaults (transformers 5.24) for keys a file may leave out,
# checked in tests/integration/bench/model/test_params_current_formats.py
QWEN35_VISION_DEFAULTS: dict[str, Any] = {
    "depth": 27, "hidden_size": 1152, "intermediate_size": 4304, "num_heads": 16, "in_channels": 3, "patch_size": 16,
    "spatial_merge_size": 2, "temporal_patch_size": 2, "out_hidden_size": 3584, "num_position_embeddings": 2304,
}
QWEN35_TEXT_DEFAULTS: dict[str, Any] = {
    "head_dim": 256, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_value_head_dim": 128,
    "linear_num_key_heads": 16, "linear_num_value_heads": 32, "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512, "num_experts": 256, "num_key_value_heads": 2,
}
_TEXT_REQUIRED = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads")
_TEXT_NEUTRAL = frozenset({"attn_output_gate", "mlp_only_layers", "full_attention_interval", "layer_types",
                           "num_experts_per_tok", "router_aux_loss_coef", "output_router_logits", "attention_bias",
                           "dtype", "model_type"})
_VISION_NEUTRAL = frozenset({"model_type", "hidden_act", "initializer_range", "rope_parameters", "torch_dtype", "dtype"})
_TOP_NEUTRAL = frozenset({"text_config", "vision_config", "image_token_id", "video_token_id", "vision_start_token_id",
                          "vision_end_token_id"})


def qwen3_5_moe(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not isinstance(tc, dict) or not isinstance(vc, dict) or tc.get("model_type") != "qwen3_5_moe_text":
        return None
    if vc.get("model_type", "qwen3_5_moe") not in ("qwen3_5_moe", "qwen3_5_moe_vision"):
        return None
    if any(k not in _NEUTRAL and k not in _TOP_NEUTRAL for k in config):
        return None
    if config.get("tie_word_embeddings", False) is not False or tc.get("tie_word_embeddings", False) is not False:
        return None
    for key in tc:
        if key not in _NEUTRAL and key not in _TEXT_NEUTRAL and key not in QWEN35_TEXT_DEFAULTS and key not in _TEXT_REQUIRED:
            return None
    if tc.get("mlp_only_layers", []) != [] or tc.get("attn_output_gate", True) is not True:
        return None
    if type(tc.get("attention_bias", False)) is not bool:
        return None
    t = {k: tc.get(k, d) for k, d in QWEN35_TEXT_DEFAULTS.items()} | {k: tc.get(k) for k in _TEXT_REQUIRED}
    if not all(_int(x) and x > 0 for x in t.values()):
        return None
    n = t["num_hidden_layers"]
    lt = tc.get("layer_types")
    if lt is None:
        fai = tc.get("full_attention_interval", 4)
        if not (_int(fai) and fai > 0):
            return None
        lt = ["linear_attention" if (i + 1) % fai else "full_attention" for i in range(n)]
    if not (isinstance(lt, list) and len(lt) == n and all(x in ("linear_attention", "full_attention") for x in lt)):
        return None
    for key in vc:
        if key not in QWEN35_VISION_DEFAULTS and key not in _VISION_NEUTRAL:
            return None
    v = {k: vc.get(k, d) for k, d in QWEN35_VISION_DEFAULTS.items()}
    if not all(_int(x) and x > 0 for x in v.values()):
        return None  # e.g. patch_size as a list: not verified here
    h, b = t["hidden_size"], tc.get("attention_bias", False)
    vh, ps, m = v["hidden_size"], v["patch_size"], v["spatial_merge_size"]
    vis = "model.visual."
    items: list[Item] = _lin(vis + "patch_embed.proj", vh, v["in_channels"] * v["temporal_patch_size"] * ps * ps, True)
    items.append((vis + "pos_embed.weight", v["num_position_embeddings"] * vh))
    for i in range(v["depth"]):
        p = f"{vis}blocks.{i}."
        items += [(p + "norm1.weight", vh), (p + "norm1.bias", vh), (p + "norm2.weight", vh), (p + "norm2.bias", vh)]
        items += _lin(p + "attn.qkv", 3 * vh, vh, True) + _lin(p + "attn.proj", vh, vh, True)
        items += _lin(p + "mlp.linear_fc1", v["intermediate_size"], vh, True) + _lin(p + "mlp.linear_fc2", vh, v["intermediate_size"], True)
    merged = vh * m * m
    items += [(vis + "merger.norm.weight", vh), (vis + "merger.norm.bias", vh)]
    items += _lin(vis + "merger.linear_fc1", merged, merged, True) + _lin(vis + "merger.linear_fc2", v["out_hidden_size"], merged, True)
    lm = "model.language_model."
    items.append((lm + "embed_tokens.weight", t["vocab_size"] * h))
    hd, nq, nkv = t["head_dim"], t["num_attention_heads"], t["num_key_value_heads"]
    nk, nv, dk, dv = t["linear_num_key_heads"], t["linear_num_value_heads"], t["linear_key_head_dim"], t["linear_value_head_dim"]
    e = t["num_experts"]
    for i in range(n):
        p = f"{lm}layers.{i}."
        if lt[i] == "full_attention":
            a = p + "self_attn."
            items += (_lin(a + "q_proj", 2 * nq * hd, h, b) + _lin(a + "k_proj", nkv * hd, h, b)
                      + _lin(a + "v_proj", nkv * hd, h, b) + _lin(a + "o_proj", h, nq * hd, b)
                      + [(a + "q_norm.weight", hd), (a + "k_norm.weight", hd)])
        else:
            a = p + "linear_attn."
            items += [(a + "dt_bias", nv), (a + "A_log", nv), (a + "conv1d.weight", (2 * nk * dk + nv * dv) * t["linear_conv_kernel_dim"]),
                      (a + "norm.weight", dv)]
            items += _lin(a + "out_proj", h, nv * dv) + _lin(a + "in_proj_qkv", 2 * nk * dk + nv * dv, h)
            items += _lin(a + "in_proj_z", nv * dv, h) + _lin(a + "in_proj_b", nv, h) + _lin(a + "in_proj_a", nv, h)
        mp = p + "mlp."
        items += [(mp + "gate.weight", e * h)] + _experts(mp, e, h, t["moe_intermediate_size"])
        items += _mlp(mp + "shared_expert.", h, t["shared_expert_intermediate_size"]) + [(mp + "shared_expert_gate.weight", h)]
        items += _norms(p, h)
    items += [(lm + "norm.weight", h), ("lm_head.weight", t["vocab_size"] * h)]
    return items, 0
