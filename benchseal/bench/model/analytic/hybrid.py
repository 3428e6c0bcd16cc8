"""MiniMax-M2 (MiniMaxM2ForCausalLM), Llama 4 (Llama4ForConditionalGeneration) and Kimi-Linear
(KimiLinearForCausalLM): the tensors transformers 5.x creates for each, by arithmetic on config.json.

Read from transformers' modeling_minimax_m2.py, modeling_llama4.py and modeling_kimi_linear.py (the installed
5.24.0) and checked equal to the meta-device build by tests/integration/bench/model/test_analytic_parity.py on
the published configs in benchseal/testing/published_configs*.py. As everywhere in this package: a key not
known here, a shape left to a default, or a vendor field that describes something transformers does not build,
returns None and the meta-device count decides."""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _experts, _gqa, _int, _lin, _mlp, _norms


def _ints(c: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return all(_int(c.get(k)) and c[k] > 0 for k in keys)


def _bool(c: dict[str, Any], key: str, default: bool) -> bool | None:
    v = c.get(key, default)
    return v if type(v) is bool else None


# ---------------------------------------------------------------------------------------------------------------
# MiniMax-M2: GQA attention with per-layer q/k RMSNorms over all heads, a sigmoid router with its
# e_score_correction_bias buffer, fused experts; no shared expert; the MTP modules are not built.
_M2_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "head_dim", "num_local_experts")
_M2_KEYS = frozenset({*_M2_SHAPES, "rotary_dim", "shared_intermediate_size", "mtp_transformer_layers",
                      "num_mtp_modules", "use_mtp", "qk_norm_type", "use_qk_norm", "use_routing_bias",
                      "attention_bias", "attn_type_list", "num_experts"})


def minimax_m2(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    if any(k not in _NEUTRAL and k not in _M2_KEYS for k in config) or "num_experts" in config:
        return None
    if not _ints(config, _M2_SHAPES):
        return None
    c = config
    # vendor fields transformers does not read: accepted only where they describe the model it builds
    if c.get("shared_intermediate_size", 0) != 0 or c.get("use_qk_norm", True) is not True:
        return None
    if c.get("qk_norm_type", "per_layer") != "per_layer" or c.get("use_routing_bias", True) is not True:
        return None
    if c.get("attention_bias", False) is not False or c.get("tie_word_embeddings", False) is not False:
        return None
    n = c["num_hidden_layers"]
    atl = c.get("attn_type_list")
    if atl is not None and atl != [1] * n:
        return None  # 0 = lightning attention, which MiniMaxM2 does not build
    h, d, nq, nkv, e, inter, v = (c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"],
                                  c["num_local_experts"], c["intermediate_size"], c["vocab_size"])
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(n):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        # qk-norm over all heads of a layer (per_layer), not per head: _gqa's qk_norm does not fit
        items += _gqa(p, c, qkv_bias=False, o_bias=False) + [(a + "q_norm.weight", nq * d), (a + "k_norm.weight", nkv * d)]
        items += ([(p + "mlp.gate.weight", e * h)] + _experts(p + "mlp.", e, h, inter)
                  + [(p + "mlp.e_score_correction_bias", e)])
        items += _norms(p, h)
    items += [("model.norm.weight", h), ("lm_head.weight", v * h)]
    return items, e * n


# ---------------------------------------------------------------------------------------------------------------
# Llama 4: the vision tower (unfold-conv patch embedding, class + position embeddings, LayerNorm'd encoder with
# biased attention and MLP, the pixel-shuffle adapter MLP), the projector, and the text model: GQA attention
# (L2 qk-norm: no parameters), MoE layers (routed experts + router + shared expert) at moe_layers, dense MLPs of
# intermediate_size_mlp elsewhere.
_L4_TEXT_SHAPES = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                   "head_dim", "intermediate_size", "intermediate_size_mlp", "num_local_experts")
_L4_TEXT_KEYS = frozenset({*_L4_TEXT_SHAPES, "attention_bias", "attention_chunk_size", "attn_scale",
                           "attn_temperature_tuning", "floor_scale", "for_llm_compressor", "interleave_moe_layer_step",
                           "moe_layers", "no_rope_layers", "use_qk_norm"})
_L4_VISION_SHAPES = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "image_size",
                     "patch_size", "num_channels", "projector_input_dim", "projector_output_dim", "vision_output_dim")
_L4_VISION_KEYS = frozenset({*_L4_VISION_SHAPES, "model_type", "attention_dropout", "hidden_act", "initializer_range",
                             "multi_modal_projector_bias", "norm_eps", "pixel_shuffle_ratio", "projector_dropout",
                             "rope_theta", "vision_feature_layer", "vision_feature_select_strategy"})
_L4_TOP = frozenset({"boi_token_index", "eoi_token_index", "image_token_index", "text_config", "vision_config"})


def llama4(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not isinstance(tc, dict) or not isinstance(vc, dict):
        return None
    if any(k not in _NEUTRAL and k not in _L4_TOP for k in config):
        return None
    if any(k not in _NEUTRAL and k not in _L4_TEXT_KEYS for k in tc) or tc.get("model_type", "llama4_text") != "llama4_text":
        return None
    if any(k not in _NEUTRAL and k not in _L4_VISION_KEYS for k in vc):
        return None
    if vc.get("model_type", "llama4_vision_model") != "llama4_vision_model":
        return None
    if not _ints(tc, _L4_TEXT_SHAPES) or not _ints(vc, _L4_VISION_SHAPES):
        return None
    if vc.get("multi_modal_projector_bias", False) is not False:
        return None  # the projector is built bias-free whatever this says
    bias = _bool(tc, "attention_bias", False)
    # the top-level flag is the model's (the meta-device count copies it into text_config when absent there)
    tie = config.get("tie_word_embeddings", tc.get("tie_word_embeddings", False))
    if bias is None or type(tie) is not bool or ("tie_word_embeddings" in tc and tc["tie_word_embeddings"] != tie):
        return None
    n = tc["num_hidden_layers"]
    moe = tc.get("moe_layers")
    if moe is None:
        step = tc.get("interleave_moe_layer_step", 1)
        if not (_int(step) and step > 0):
            return None
        moe = list(range(step - 1, n, step))
    if not isinstance(moe, list) or not all(_int(x) and 0 <= x < n for x in moe):
        return None
    moe_set = set(moe)
    # vision tower
    vh, vi, vn, vheads = vc["hidden_size"], vc["intermediate_size"], vc["num_hidden_layers"], vc["num_attention_heads"]
    if vh % vheads:
        return None
    ps, img, ch = vc["patch_size"], vc["image_size"], vc["num_channels"]
    items: list[Item] = [("vision_model.class_embedding", vh), ("vision_model.positional_embedding_vlm",
                                                                 ((img // ps) ** 2 + 1) * vh),
                         ("vision_model.patch_embedding.linear.weight", ch * ps * ps * vh)]
    for ln in ("layernorm_pre", "layernorm_post"):
        items += [(f"vision_model.{ln}.weight", vh), (f"vision_model.{ln}.bias", vh)]
    for i in range(vn):
        p = f"vision_model.model.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            items += _lin(p + "self_attn." + proj, vh, vh, True)
        items += _lin(p + "mlp.fc1", vi, vh, True) + _lin(p + "mlp.fc2", vh, vi, True)
        for ln in ("input_layernorm", "post_attention_layernorm"):
            items += [(p + ln + ".weight", vh), (p + ln + ".bias", vh)]
    items += _lin("vision_model.vision_adapter.mlp.fc1", vc["projector_input_dim"], vi)
    items += _lin("vision_model.vision_adapter.mlp.fc2", vc["projector_output_dim"], vc["projector_output_dim"])
    h, v = tc["hidden_size"], tc["vocab_size"]
    items += _lin("multi_modal_projector.linear_1", h, vc["vision_output_dim"])
    # text model
    e = tc["num_local_experts"]
    inter = tc["intermediate_size"]
    items.append(("language_model.model.embed_tokens.weight", v * h))
    for i in range(n):
        p = f"language_model.model.layers.{i}."
        items += _gqa(p, tc, qkv_bias=bias, o_bias=bias)
        f = p + "feed_forward."
        if i in moe_set:
            items += _experts(f, e, h, inter) + [(f + "router.weight", e * h)] + _mlp(f + "shared_expert.", h, inter)
        else:
            items += _mlp(f, h, tc["intermediate_size_mlp"])
        items += _norms(p, h)
    items.append(("language_model.model.norm.weight", h))
    if not tie:
        items.append(("language_model.lm_head.weight", v * h))
    return items, 0


# ---------------------------------------------------------------------------------------------------------------
# Kimi-Linear: Kimi Delta Attention (KDA) layers and MLA full-attention layers (layer_types, or
# linear_attn_config's 1-based full_attn_layers + kda_layers, or one full layer every 4th from layer 4), dense MLP
# before first_k_dense_replace, then routed experts + shared MLP + the router and its e_score_correction_bias.
_KL_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "moe_intermediate_size", "num_hidden_layers",
              "num_attention_heads", "kv_lora_rank", "qk_rope_head_dim", "v_head_dim", "qk_nope_head_dim")
_KL_KEYS = frozenset({*_KL_SHAPES, "q_lora_rank", "mla_use_nope", "moe_router_activation_func", "num_expert_group",
                      "moe_layer_freq", "num_experts", "num_experts_per_token", "num_shared_experts", "moe_renormalize",
                      "first_k_dense_replace", "linear_attn_config", "attention_bias", "num_key_value_heads",
                      "model_max_length", "n_group", "n_shared_experts", "num_local_experts"})
_KL_LINEAR = frozenset({"full_attn_layers", "kda_layers", "head_dim", "num_heads", "short_conv_kernel_size"})
KIMI_LINEAR_DEFAULTS = {"linear_head_dim": 128, "linear_num_heads": 32, "linear_conv_kernel_dim": 4, "num_experts": 256,
                        "num_shared_experts": 1, "first_k_dense_replace": 1}


def kimi_linear(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    c = config
    if any(k not in _NEUTRAL and k not in _KL_KEYS for k in c) or not _ints(c, _KL_SHAPES):
        return None
    # transformers' attribute_map aliases: one spelling only
    for a, b in (("num_experts", "num_local_experts"), ("num_shared_experts", "n_shared_experts"),
                 ("num_expert_group", "n_group")):
        if a in c and b in c:
            return None
    if c.get("q_lora_rank") is not None or c.get("moe_layer_freq", 1) != 1 or c.get("mla_use_nope", True) is not True:
        return None  # q_lora_rank: not checked against transformers here; the others are not read by it
    if c.get("attention_bias", False) is not False or c.get("tie_word_embeddings", False) is not False:
        return None
    lac = c.get("linear_attn_config", {})
    if not isinstance(lac, dict) or any(k not in _KL_LINEAR for k in lac):
        return None
    n = c["num_hidden_layers"]
    lt = c.get("layer_types")
    if lt is None:
        if "full_attn_layers" in lac and "kda_layers" in lac:
            full, kda = lac["full_attn_layers"], lac["kda_layers"]
            if not (isinstance(full, list) and isinstance(kda, list) and all(_int(x) for x in full + kda)
                    and sorted(full + kda) == list(range(1, n + 1))):
                return None
            lt = ["full_attention" if i + 1 in full else "linear_attention" for i in range(n)]
        else:
            lt = ["full_attention" if i and i % 4 == 0 else "linear_attention" for i in range(n)]
            if "full_attn_layers" in lac or "kda_layers" in lac:
                # one list alone: transformers ignores it and builds its default pattern; accepted only where the
                # list says the same (else the vendor declares a model transformers does not build)
                declared = lac.get("full_attn_layers")
                want = [i + 1 for i, t in enumerate(lt) if t == "full_attention"]
                if "kda_layers" in lac or declared != want:
                    return None
    if not isinstance(lt, list) or len(lt) != n or any(t not in ("full_attention", "linear_attention") for t in lt):
        return None
    kd = {"linear_head_dim": lac.get("head_dim", 128), "linear_num_heads": lac.get("num_heads", 32),
          "linear_conv_kernel_dim": lac.get("short_conv_kernel_size", 4)}
    e = c.get("num_experts", c.get("num_local_experts", KIMI_LINEAR_DEFAULTS["num_experts"]))
    shared = c.get("num_shared_experts", c.get("n_shared_experts", KIMI_LINEAR_DEFAULTS["num_shared_experts"]))
    first = c.get("first_k_dense_replace", KIMI_LINEAR_DEFAULTS["first_k_dense_replace"])
    if not all(_int(x) and x > 0 for x in (*kd.values(), e, shared)) or not (_int(first) and first >= 0):
        return None
    h, v, nq = c["hidden_size"], c["vocab_size"], c["num_attention_heads"]
    nope, rope, vd, kvr = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"], c["kv_lora_rank"]
    kh, kn, kk = kd["linear_head_dim"], kd["linear_num_heads"], kd["linear_conv_kernel_dim"]
    q = kh * kn
    moe_i = c["moe_intermediate_size"]
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    sparse = 0
    for i in range(n):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        if lt[i] == "full_attention":
            items += (_lin(a + "q_proj", nq * (nope + rope), h) + _lin(a + "kv_a_proj_with_mqa", kvr + rope, h)
                      + [(a + "kv_a_layernorm.weight", kvr)] + _lin(a + "kv_b_proj", nq * (nope + vd), kvr)
                      + _lin(a + "o_proj", h, nq * vd))
        else:
            items += (_lin(a + "q_proj", q, h) + _lin(a + "k_proj", q, h) + _lin(a + "v_proj", q, h)
                      + [(a + "conv1d.weight", 3 * q * kk), (a + "forget_gate.dt_bias", q), (a + "forget_gate.A_log", kn)]
                      + _lin(a + "forget_gate.f_a_proj", kh, h) + _lin(a + "forget_gate.f_b_proj", q, kh)
                      + _lin(a + "b_proj", kn, h) + _lin(a + "g_a_proj", kh, h) + _lin(a + "g_b_proj", q, kh)
                      + [(a + "o_norm.weight", kh)] + _lin(a + "o_proj", h, q))
        if i < first:
            items += _mlp(p + "mlp.", h, c["intermediate_size"])
        else:
            sparse += 1
            items += [(p + "mlp.experts.gate_up_proj", e * 2 * moe_i * h), (p + "mlp.experts.down_proj", e * h * moe_i),
                      (p + "mlp.gate.weight", e * h), (p + "mlp.gate.e_score_correction_bias", e)]
            items += _mlp(p + "mlp.shared_experts.", h, moe_i * shared)
        items += _norms(p, h)
    items += [("model.norm.weight", h), ("lm_head.weight", v * h)]
    return items, e * sparse
