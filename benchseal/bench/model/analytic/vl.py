"""Vision-language architectures met in the round-4 held-out check (issue 26): Qwen3-VL (dense text model) and
Mistral 3 (Mistral-Small-3.x: Pixtral vision tower, projector with patch merger, Mistral text model). Written from
transformers 5.x ``modeling_qwen3_vl.py`` / ``modeling_mistral3.py`` / ``modeling_pixtral.py``; every key of the
config and its sub-configs must be known, every shape given (none left to a default), else None."""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _experts, _gqa, _int, _language_model, _lin, _mlp, _norms

_TOKENS = frozenset({"image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id",
                     "image_token_index", "text_config", "vision_config"})

# model_type -> (its config class's tie_word_embeddings default, its text model's): where they differ and the file states
# neither, the text model's is used, as the meta-device count does (params_config._unstated_tie; the integration tests
# compare this table with transformers' classes)
UNSTATED_TIE = {"mistral3": (True, False), "qwen3_vl_moe": (False, True)}


def _known(d: dict[str, Any], *allowed: frozenset[str]) -> bool:
    return all(k in _NEUTRAL or any(k in a for a in allowed) for k in d)


def _shapes(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, int] | None:
    got = {k: d.get(k) for k in keys}
    return got if all(_int(v) and v > 0 for v in got.values()) else None


def _tied(config: dict[str, Any], tc: dict[str, Any], default: bool) -> bool | None:
    """The tie flag transformers' generative class reads (the top-level config's; absent: the config class's
    ``default``); a text_config that says otherwise is left to transformers (None)."""
    top = config.get("tie_word_embeddings", default)
    if type(top) is not bool or ("tie_word_embeddings" in tc and tc["tie_word_embeddings"] is not top):
        return None
    return top


# --- Qwen3-VL (Qwen3VLForConditionalGeneration) and Qwen3-VL-MoE (Qwen3VLMoeForConditionalGeneration) -------------
_Q3VL_TEXT_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                     "num_key_value_heads", "head_dim")
_Q3VL_TEXT_KEYS = frozenset(_Q3VL_TEXT_SHAPES) | {"attention_bias", "rope_scaling", "rope_parameters"}
_Q3VL_MOE_KEYS = frozenset({"moe_intermediate_size", "num_experts", "decoder_sparse_step", "mlp_only_layers"})
_Q3VL_VISION_SHAPES = ("depth", "hidden_size", "intermediate_size", "num_heads", "in_channels", "patch_size",
                       "spatial_merge_size", "temporal_patch_size", "out_hidden_size", "num_position_embeddings")
_Q3VL_VISION_KEYS = frozenset(_Q3VL_VISION_SHAPES) | {"deepstack_visual_indexes", "model_type", "hidden_act",
                                                      "initializer_range", "rope_parameters"}


def qwen3_vl(config: dict[str, Any]) -> list[Item] | None:
    return _qwen3_vl(config, moe=False)


def qwen3_vl_moe(config: dict[str, Any]) -> list[Item] | None:
    return _qwen3_vl(config, moe=True)


def _qwen3_vl(config: dict[str, Any], *, moe: bool) -> list[Item] | None:
    """Qwen3VLModel / Qwen3VLMoeModel: ``visual`` (a Conv3d patch embedding with bias, a learned position table of
    num_position_embeddings, ``depth`` blocks of LayerNorm + fused qkv / proj with bias + an MLP with bias, the
    merger and one deepstack merger per deepstack_visual_indexes entry: LayerNorm, two linears with bias) and
    ``language_model`` (Qwen3: q/k/v/o with attention_bias, q/k RMSNorm of head_dim, a bias-free gated MLP; MoE: fused
    routed experts of moe_intermediate_size and the router on the layers (i + 1) % decoder_sparse_step == 0 not in
    mlp_only_layers, as Qwen3-MoE); lm_head unless the top-level tie_word_embeddings (the config classes' default:
    false; stated nowhere, see UNSTATED_TIE)."""
    tc, vc = config.get("text_config"), config.get("vision_config")
    kind = "qwen3_vl_moe" if moe else "qwen3_vl"
    if not (isinstance(tc, dict) and tc.get("model_type") == kind + "_text" and isinstance(vc, dict)
            and vc.get("model_type") == kind):
        return None
    text_keys = _Q3VL_TEXT_KEYS | _Q3VL_MOE_KEYS if moe else _Q3VL_TEXT_KEYS
    if not (_known(config, _TOKENS) and _known(tc, text_keys) and _known(vc, _Q3VL_VISION_KEYS)):
        return None
    t, v = _shapes(tc, _Q3VL_TEXT_SHAPES), _shapes(vc, _Q3VL_VISION_SHAPES)
    bias, ds = tc.get("attention_bias", False), vc.get("deepstack_visual_indexes")
    tied = _tied(config, tc, UNSTATED_TIE.get(kind, (False, False))[1])
    if t is None or v is None or type(bias) is not bool or tied is None:
        return None
    if not (isinstance(ds, list) and all(_int(x) for x in ds)) or v["hidden_size"] % v["num_heads"]:
        return None
    if moe:
        e, mi, step, only = tc.get("num_experts"), tc.get("moe_intermediate_size"), tc.get("decoder_sparse_step", 1), \
            tc.get("mlp_only_layers", [])
        if not (_int(e) and e >= 0 and _int(mi) and mi > 0 and _int(step) and step > 0 and isinstance(only, list)
                and all(_int(x) for x in only)):
            return None
    vh, vi, m = v["hidden_size"], v["intermediate_size"], v["spatial_merge_size"]
    vis = "model.visual."
    ps, tps = v["patch_size"], v["temporal_patch_size"]
    items: list[Item] = [(vis + "patch_embed.proj.weight", vh * v["in_channels"] * tps * ps * ps),
                         (vis + "patch_embed.proj.bias", vh), (vis + "pos_embed.weight", v["num_position_embeddings"] * vh)]
    for i in range(v["depth"]):
        b = f"{vis}blocks.{i}."
        items += [(b + "norm1.weight", vh), (b + "norm1.bias", vh), (b + "norm2.weight", vh), (b + "norm2.bias", vh)]
        items += _lin(b + "attn.qkv", 3 * vh, vh, True) + _lin(b + "attn.proj", vh, vh, True)
        items += _lin(b + "mlp.linear_fc1", vi, vh, True) + _lin(b + "mlp.linear_fc2", vh, vi, True)
    merged = vh * m * m

    def merger(p: str, norm: int) -> list[Item]:
        return ([(p + "norm.weight", norm), (p + "norm.bias", norm)] + _lin(p + "linear_fc1", merged, merged, True)
                + _lin(p + "linear_fc2", v["out_hidden_size"], merged, True))

    items += merger(vis + "merger.", vh)
    for j in range(len(ds)):
        items += merger(f"{vis}deepstack_merger_list.{j}.", merged)
    h = t["hidden_size"]

    def layer(p: str, i: int) -> list[Item]:
        attn = _gqa(p, t, qkv_bias=bias, o_bias=bias, qk_norm="norm") + _norms(p, h)
        if moe and i not in only and e > 0 and (i + 1) % step == 0:
            return attn + _experts(p + "mlp.", e, h, mi) + [(p + "mlp.gate.weight", e * h)]
        return attn + _mlp(p + "mlp.", h, t["intermediate_size"])

    return items + _language_model(t, tied, layer)


# --- Mistral 3 (Mistral3ForConditionalGeneration: Mistral-Small-3.x) -----------------------------------------------
_M3_TOP = frozenset({"projector_hidden_act", "vision_feature_layer", "multimodal_projector_bias", "spatial_merge_size"})
_M3_TEXT_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                   "num_key_value_heads", "head_dim")
_PIXTRAL_SHAPES = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_channels",
                   "patch_size")
_PIXTRAL_KEYS = frozenset(_PIXTRAL_SHAPES) | {"model_type", "hidden_act", "attention_dropout", "initializer_range",
                                             "image_size", "head_dim", "rope_parameters", "vocab_size"}


def mistral3(config: dict[str, Any]) -> list[Item] | None:
    """Mistral3Model: ``vision_tower`` (Pixtral: a bias-free Conv2d patch embedding, ln_pre, layers of RMSNorm +
    bias-free q/k/v/o + bias-free gated MLP + RMSNorm), ``multi_modal_projector`` (an RMSNorm of the vision width, the
    patch merger's bias-free linear from vision x merge^2 to vision, linear_1 from vision x the number of feature
    layers to text and linear_2, both with multimodal_projector_bias) and ``language_model`` (Mistral: bias-free GQA
    and MLP). lm_head unless tie_word_embeddings (the top-level flag; stated nowhere: MistralConfig's false, see UNSTATED_TIE)."""
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not (isinstance(tc, dict) and tc.get("model_type") == "mistral" and isinstance(vc, dict)
            and vc.get("model_type") == "pixtral"):
        return None
    if not (_known(config, _TOKENS, _M3_TOP) and _known(tc, frozenset(_M3_TEXT_SHAPES)) and _known(vc, _PIXTRAL_KEYS)):
        return None
    t, v = _shapes(tc, _M3_TEXT_SHAPES), _shapes(vc, _PIXTRAL_SHAPES)
    tied, pb = _tied(config, tc, UNSTATED_TIE["mistral3"][1]), config.get("multimodal_projector_bias", False)
    m, layer = config.get("spatial_merge_size", 2), config.get("vision_feature_layer", -1)
    if t is None or v is None or tied is None or type(pb) is not bool or not (_int(m) and m > 0):
        return None
    if _int(layer):
        n_feat = 1
    elif isinstance(layer, list) and layer and all(_int(x) for x in layer):
        n_feat = len(layer)
    else:
        return None
    vh, vi, ps = v["hidden_size"], v["intermediate_size"], v["patch_size"]
    h, vt = t["hidden_size"], "model.vision_tower."
    items: list[Item] = [(vt + "patch_conv.weight", vh * v["num_channels"] * ps * ps), (vt + "ln_pre.weight", vh)]
    for i in range(v["num_hidden_layers"]):
        b = f"{vt}transformer.layers.{i}."
        items += [(b + "attention_norm.weight", vh), (b + "ffn_norm.weight", vh)]
        items += _mlp(b + "feed_forward.", vh, vi)
        for proj in ("k_proj", "v_proj", "q_proj", "o_proj"):
            items += _lin(b + "attention." + proj, vh, vh)
    pj = "model.multi_modal_projector."
    items += [(pj + "norm.weight", vh)] + _lin(pj + "patch_merger.merging_layer", vh, vh * m * m)
    items += _lin(pj + "linear_1", h, vh * n_feat, pb) + _lin(pj + "linear_2", h, h, pb)
    return items + _language_model(t, tied, lambda p, i: _gqa(p, t, qkv_bias=False, o_bias=False)
                                   + _mlp(p + "mlp.", h, t["intermediate_size"]) + _norms(p, h))


# --- GLM-4.5V / GLM-4.6V (Glm4vMoeForConditionalGeneration) -------------------------------------------------------
_G4V_TOKENS = frozenset({"image_start_token_id", "image_end_token_id", "video_start_token_id", "video_end_token_id"})
_G4V_TEXT_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "moe_intermediate_size", "n_routed_experts")
_G4V_TEXT_KEYS = frozenset(_G4V_TEXT_SHAPES) | {"attention_bias", "use_qk_norm", "n_shared_experts",
                                                "first_k_dense_replace", "num_local_experts", "rope_parameters"}
_G4V_VISION_SHAPES = ("depth", "hidden_size", "intermediate_size", "num_heads", "in_channels", "image_size",
                      "patch_size", "spatial_merge_size", "temporal_patch_size", "out_hidden_size")
_G4V_VISION_KEYS = frozenset(_G4V_VISION_SHAPES) | {"attention_bias", "model_type", "hidden_act", "initializer_range",
                                                    "rms_norm_eps", "attention_dropout", "rope_parameters"}


def glm4v_moe(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    """Glm4vMoeModel: ``visual`` (position table of (image_size // patch_size)^2, a Conv3d patch embedding with bias,
    ``depth`` blocks of RMSNorm + fused qkv (vision attention_bias) + bias-free proj + a bias-free gated MLP of
    out_hidden_size, post_conv_layernorm, a Conv2d downsample (merge x merge, with bias) to out_hidden_size,
    post_layernorm, and the merger: bias-free proj, LayerNorm, gated MLP of the vision intermediate_size) and
    ``language_model`` (GQA with q/k/v bias = attention_bias and a bias-free o_proj, no q/k norm; dense MLP before
    first_k_dense_replace, else fused routed experts, a float32 router with its persistent e_score_correction_bias
    buffer and n_shared_experts x moe_intermediate_size shared experts). Returns (items, buffer elements)."""
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not (isinstance(tc, dict) and tc.get("model_type") == "glm4v_moe_text" and isinstance(vc, dict)
            and vc.get("model_type") in ("glm4v_moe_vision", "glm4v_moe")):
        return None
    if not (_known(config, _TOKENS, _G4V_TOKENS) and _known(tc, _G4V_TEXT_KEYS, _TOKENS, _G4V_TOKENS)
            and _known(vc, _G4V_VISION_KEYS)):
        return None
    t, v = _shapes(tc, _G4V_TEXT_SHAPES), _shapes(vc, _G4V_VISION_SHAPES)
    tied = _tied(config, tc, False)
    bias, vbias = tc.get("attention_bias", True), vc.get("attention_bias", False)
    shared, dense = tc.get("n_shared_experts", 1), tc.get("first_k_dense_replace", 1)
    if t is None or v is None or tied is None or type(bias) is not bool or type(vbias) is not bool:
        return None
    if tc.get("use_qk_norm", False) is not False or tc.get("num_local_experts", t["n_routed_experts"]) != t["n_routed_experts"]:
        return None  # no q/k norm is built whatever use_qk_norm says; num_local_experts is n_routed_experts
    if not (_int(shared) and shared > 0 and _int(dense) and dense >= 0):
        return None
    vh, oh, m = v["hidden_size"], v["out_hidden_size"], v["spatial_merge_size"]
    ps, vis = v["patch_size"], "model.visual."
    items: list[Item] = [(vis + "embeddings.position_embedding.weight", (v["image_size"] // ps) ** 2 * vh),
                         (vis + "patch_embed.proj.weight", vh * v["in_channels"] * v["temporal_patch_size"] * ps * ps),
                         (vis + "patch_embed.proj.bias", vh)]
    for i in range(v["depth"]):
        b = f"{vis}blocks.{i}."
        items += [(b + "norm1.weight", vh), (b + "norm2.weight", vh)]
        items += _lin(b + "attn.qkv", 3 * vh, vh, vbias) + _lin(b + "attn.proj", vh, vh) + _mlp(b + "mlp.", vh, oh)
    items += [(vis + "post_conv_layernorm.weight", vh), (vis + "downsample.weight", oh * vh * m * m),
              (vis + "downsample.bias", oh), (vis + "post_layernorm.weight", vh)]
    items += _lin(vis + "merger.proj", oh, oh) + [(vis + "merger.post_projection_norm.weight", oh),
                                                  (vis + "merger.post_projection_norm.bias", oh)]
    items += _mlp(vis + "merger.", oh, v["intermediate_size"])
    h, e = t["hidden_size"], t["n_routed_experts"]

    def layer(p: str, i: int) -> list[Item]:
        attn = _gqa(p, t, qkv_bias=bias, o_bias=False) + _norms(p, h)
        if i < dense:
            return attn + _mlp(p + "mlp.", h, t["intermediate_size"])
        return (attn + _experts(p + "mlp.", e, h, t["moe_intermediate_size"])
                + [(p + "mlp.gate.weight", e * h), (p + "mlp.gate.e_score_correction_bias", e)]
                + _mlp(p + "mlp.shared_experts.", h, t["moe_intermediate_size"] * shared))

    # the router's e_score_correction_bias: a persistent buffer of every MoE layer
    return items + _language_model(t, tied, layer), e * max(0, t["num_hidden_layers"] - dense)
