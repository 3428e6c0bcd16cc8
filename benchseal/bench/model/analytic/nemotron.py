"""Nemotron-H (NemotronHForCausalLM): a hybrid of Mamba-2 mixers, full-attention, MoE and MLP layers, one
kind per character of ``hybrid_override_pattern`` (M, *, E, -) or per entry of ``layers_block_type``.
transformers' module tree (checkpoints store it under ``backbone.``, renamed on load): ``model.embeddings``,
``model.layers.N.norm`` + ``.mixer``, ``model.norm_f``, ``lm_head``. Mamba-2: in_proj to inner + conv + heads
(bias use_bias), a depthwise conv1d over inner + 2 x n_groups x ssm_state_size (bias use_conv_bias), dt_bias,
A_log, D, a gated RMSNorm of inner, out_proj (bias use_bias), inner = mamba_num_heads x mamba_head_dim.
Attention: bias-free q/k/v/o. MoE: the fp32 router weight and its e_score_correction_bias buffer, fused
non-gated experts (up, down; in the moe_latent_size space with fc1/fc2 latent projections when set) and one
shared MLP of moe_shared_expert_intermediate_size. MLP: up, down (bias mlp_bias). Anything else is declined."""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _int, _lin

_KINDS = {"M": "linear_attention", "E": "moe", "*": "full_attention", "-": "mlp"}
_SHAPES = ("vocab_size", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "mamba_num_heads",
           "mamba_head_dim", "n_groups", "ssm_state_size", "conv_kernel")
_MOE_SHAPES = ("n_routed_experts", "moe_intermediate_size", "moe_shared_expert_intermediate_size")
NEMOTRON_H_FLAGS = {"use_conv_bias": True, "use_bias": False, "mlp_bias": False, "tie_word_embeddings": False}
# numerics, routing and runtime keys of Nemotron-H configs (no tensor depends on them)
_NH_NEUTRAL = frozenset({
    "hybrid_override_pattern", "layers_block_type", "num_hidden_layers", "intermediate_size", "moe_latent_size",
    "n_shared_experts", "num_nextn_predict_layers", "attention_bias", "mamba_hidden_act", "mlp_hidden_act", "expand",
    "chunk_size", "time_step_min", "time_step_max", "time_step_floor", "time_step_limit", "norm_eps",
    "layer_norm_epsilon", "residual_in_fp32", "rescale_prenorm_residual", "hidden_dropout", "use_mamba_kernels",
    "num_logits_to_keep", "mamba_ssm_cache_dtype", "moe_shared_expert_overlap", "n_group", "topk_group",
    "mamba_proj_bias", *_SHAPES, *_MOE_SHAPES, *NEMOTRON_H_FLAGS,
})


def nemotron_h(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    if any(k not in _NEUTRAL and k not in _NH_NEUTRAL for k in config):
        return None
    pattern, blocks = config.get("hybrid_override_pattern"), config.get("layers_block_type")
    if (pattern is None) == (blocks is None):
        return None  # neither (transformers' default pattern) or both: left to transformers
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern or any(ch not in _KINDS for ch in pattern):
            return None
        kinds = [_KINDS[ch] for ch in pattern]
    else:
        if not isinstance(blocks, list) or not blocks or any(b not in _KINDS.values() for b in blocks):
            return None
        kinds = list(blocks)
    if config.get("num_hidden_layers", len(kinds)) != len(kinds):
        return None  # transformers warns and follows the pattern: not verified here
    if config.get("num_nextn_predict_layers", 0) != 0 or config.get("n_shared_experts", 1) != 1:
        return None  # an MTP module, or a shared-expert count transformers does not read (it builds one)
    if config.get("mamba_proj_bias", False) is not False:
        return None  # not read by transformers (in_proj / out_proj take use_bias)
    f = {k: config.get(k, d) for k, d in NEMOTRON_H_FLAGS.items()}
    if any(type(v) is not bool for v in f.values()) or f["tie_word_embeddings"]:
        return None
    if type(config.get("attention_bias", False)) is not bool:
        return None
    need = _SHAPES + (_MOE_SHAPES if "moe" in kinds else ()) + (("intermediate_size",) if "mlp" in kinds else ())
    c = {k: config.get(k) for k in need}
    if not all(_int(v) and v > 0 for v in c.values()):
        return None  # a shape left to a default: let transformers decide
    latent = config.get("moe_latent_size")
    if latent is not None and not (_int(latent) and latent > 0):
        return None
    h = c["hidden_size"]
    mh, inner = c["mamba_num_heads"], c["mamba_num_heads"] * c["mamba_head_dim"]
    conv = inner + 2 * c["n_groups"] * c["ssm_state_size"]
    if inner % c["n_groups"]:
        return None  # the gated norm's groups
    items: list[Item] = [("model.embeddings.weight", c["vocab_size"] * h)]
    buffers = 0
    for i, kind in enumerate(kinds):
        p = f"model.layers.{i}."
        m = p + "mixer."
        items.append((p + "norm.weight", h))
        if kind == "linear_attention":
            items += _lin(m + "in_proj", inner + conv + mh, h, f["use_bias"])
            items += [(m + "conv1d.weight", conv * c["conv_kernel"])] + ([(m + "conv1d.bias", conv)] if f["use_conv_bias"] else [])
            items += [(m + "dt_bias", mh), (m + "A_log", mh), (m + "D", mh), (m + "norm.weight", inner)]
            items += _lin(m + "out_proj", h, inner, f["use_bias"])
        elif kind == "full_attention":
            nq, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
            items += (_lin(m + "q_proj", nq * hd, h) + _lin(m + "k_proj", nkv * hd, h) + _lin(m + "v_proj", nkv * hd, h)
                      + _lin(m + "o_proj", h, nq * hd))
        elif kind == "moe":
            e, fi, fs = c["n_routed_experts"], c["moe_intermediate_size"], c["moe_shared_expert_intermediate_size"]
            d = latent or h
            items += [(m + "gate.weight", e * h), (m + "gate.e_score_correction_bias", e)]
            buffers += e
            items += [(m + "experts.up_proj", e * fi * d), (m + "experts.down_proj", e * d * fi)]
            items += _lin(m + "shared_experts.up_proj", fs, h, f["mlp_bias"]) + _lin(m + "shared_experts.down_proj", h, fs, f["mlp_bias"])
            if latent:
                items += _lin(m + "fc1_latent_proj", latent, h, f["mlp_bias"]) + _lin(m + "fc2_latent_proj", h, latent, f["mlp_bias"])
        else:
            items += _lin(m + "up_proj", c["intermediate_size"], h, f["mlp_bias"])
            items += _lin(m + "down_proj", h, c["intermediate_size"], f["mlp_bias"])
    items += [("model.norm_f.weight", h), ("lm_head.weight", c["vocab_size"] * h)]
    return items, buffers
