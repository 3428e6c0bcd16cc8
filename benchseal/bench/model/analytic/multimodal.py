"""Multimodal architectures with sub-configs (a vision tower and a text_config): Qwen2.5-VL and Gemma 3."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _gqa, _int, _language_model, _lin, _mlp, _norms
from benchseal.bench.model.analytic.vl import mistral3, qwen3_vl, qwen3_vl_moe


# --- Qwen2.5-VL (Qwen2_5_VLForConditionalGeneration): a vision tower + merger and a Qwen2-style language model ----
_VL_TEXT_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                   "num_key_value_heads")
# token ids and bookkeeping that the multimodal config and its text_config carry; no tensor depends on them
_VL_NEUTRAL = frozenset({"image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id",
                         "vision_token_id", "text_config", "vision_config"})
_VL_VISION_SHAPES = ("depth", "hidden_size", "intermediate_size", "in_channels", "patch_size", "temporal_patch_size",
                     "spatial_merge_size", "out_hidden_size")
_VL_VISION_NEUTRAL = frozenset({"model_type", "torch_dtype", "dtype", "hidden_act", "num_heads", "tokens_per_second",
                                "window_size", "fullatt_block_indexes", "initializer_range", "rope_parameters",
                                "in_chans", "spatial_patch_size"})


def _qwen2_5_vl(config: dict[str, Any]) -> list[Item] | None:
    """Qwen2_5_VLModel builds ``visual`` from vision_config and ``language_model`` from text_config; with no
    text_config (the flat layout of older files) transformers reads the text keys from the top level. The
    text model is Qwen2 (q/k/v bias, head_dim = hidden // heads, no head_dim key read); the vision tower has
    a bias-free Conv3d patch embedding, blocks of RMSNorm + fused qkv (bias) + proj (bias) + a gated MLP with
    biases, and a merger (RMSNorm + two linears with bias)."""
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not isinstance(vc, dict) or vc.get("model_type") not in ("qwen2_5_vl", "qwen2_5_vl_vision"):
        return None  # no vision_config: transformers' defaults (not checked here)
    for key, value in config.items():
        if key not in _NEUTRAL and key not in _VL_NEUTRAL and key not in _VL_TEXT_SHAPES:
            return None
    if tc is None:
        text = config
    elif isinstance(tc, dict) and tc.get("model_type") == "qwen2_5_vl_text":
        text = tc
        for key, value in tc.items():
            if key not in _NEUTRAL and key not in _VL_NEUTRAL and key not in _VL_TEXT_SHAPES:
                return None
        # top-level copies of the text keys are not read when text_config is given: accept them only when equal
        for key in (*_VL_TEXT_SHAPES, "tie_word_embeddings"):
            if key in config and key in tc and config[key] != tc[key]:
                return None
    else:
        return None
    t = {k: text.get(k) for k in _VL_TEXT_SHAPES}
    if not all(_int(v) for v in t.values()):
        return None  # a shape left to a default (or num_key_value_heads null): let transformers decide
    h, nq = t["hidden_size"], t["num_attention_heads"]
    if h % nq or (h // nq) % 2:
        return None  # transformers refuses these
    tie = [v for v in (config.get("tie_word_embeddings"), tc.get("tie_word_embeddings") if tc else None) if v is not None]
    if any(type(v) is not bool for v in tie):
        return None
    tied = any(tie)
    for key, value in vc.items():
        if key not in _VL_VISION_SHAPES and key not in _VL_VISION_NEUTRAL:
            return None  # e.g. num_hidden_layers, an attribute_map alias of depth
    v = {k: vc.get(k) for k in _VL_VISION_SHAPES}
    if not all(_int(x) and x > 0 for x in v.values()):
        return None
    if vc.get("in_chans", v["in_channels"]) != v["in_channels"] or vc.get("spatial_patch_size", v["patch_size"]) != v["patch_size"]:
        return None  # legacy duplicates that disagree with the keys transformers reads
    c = {**t, "head_dim": h // nq}
    items: list[Item] = []
    vh, vi, ps, m = v["hidden_size"], v["intermediate_size"], v["patch_size"], v["spatial_merge_size"]
    items.append(("model.visual.patch_embed.proj.weight", vh * v["in_channels"] * v["temporal_patch_size"] * ps * ps))
    for i in range(v["depth"]):
        b = f"model.visual.blocks.{i}."
        items += [(b + "norm1.weight", vh), (b + "norm2.weight", vh)]
        items += _lin(b + "attn.qkv", 3 * vh, vh, True) + _lin(b + "attn.proj", vh, vh, True)
        items += _mlp(b + "mlp.", vh, vi, bias=True)
    merged = vh * m * m
    items += [("model.visual.merger.ln_q.weight", vh)] + _lin("model.visual.merger.mlp.0", merged, merged, True)
    items += _lin("model.visual.merger.mlp.2", v["out_hidden_size"], merged, True)
    return items + _language_model(t, tied, lambda p, i: _gqa(p, c, qkv_bias=True, o_bias=False)
                                   + _mlp(p + "mlp.", h, t["intermediate_size"]) + _norms(p, h))


# --- Gemma 3 (Gemma3ForConditionalGeneration): a SigLIP vision tower, a projector and a Gemma 3 text model ----------
# Gemma's published config.json leaves most shapes to transformers' defaults; these are the defaults of
# Gemma3TextConfig / SiglipVisionConfig / Gemma3Config, checked against transformers in the integration tests.
GEMMA3_TEXT_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262_208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
    "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "attention_bias": False,
}
SIGLIP_VISION_DEFAULTS: dict[str, Any] = {
    "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
    "num_channels": 3, "image_size": 224, "patch_size": 16, "vision_use_head": True,
}
GEMMA3_DEFAULTS: dict[str, Any] = {"tie_word_embeddings": True, "mm_tokens_per_image": 256}
_GEMMA3_NEUTRAL = frozenset({"boi_token_index", "eoi_token_index", "image_token_index", "boi_token_id",
                             "eoi_token_id", "image_token_id", "text_config", "vision_config", "mm_tokens_per_image"})
# numerics and attention behaviour of the text model (sliding window, soft-capping, rope bases, bidirectional mask)
_GEMMA3_TEXT_NEUTRAL = frozenset({"hidden_activation", "query_pre_attn_scalar", "final_logit_softcapping",
                                  "attn_logit_softcapping", "use_bidirectional_attention", "rope_local_base_freq",
                                  "sliding_window_pattern", "cache_implementation"})
_SIGLIP_NEUTRAL = frozenset({"model_type", "torch_dtype", "dtype", "hidden_act", "layer_norm_eps", "attention_dropout",
                             "initializer_range", "vision_use_head"})


def _gemma3(config: dict[str, Any]) -> list[Item] | None:
    """Gemma3Model builds ``vision_tower`` (SiglipVisionModel from vision_config), ``multi_modal_projector``
    (mm_input_projection_weight, vision x text hidden, and an RMSNorm of the vision width) and ``language_model``
    (Gemma3TextModel from text_config: GQA without bias unless attention_bias, q/k RMSNorm of head_dim, a gated
    MLP, four RMSNorms per layer). lm_head is tied to the text embedding by the top-level tie_word_embeddings.
    SigLIP: a Conv2d patch embedding with bias, a learned position embedding of (image_size // patch_size)^2
    positions, LayerNorm (weight+bias) and biased q/k/v/out and fc1/fc2 per layer, post_layernorm, and the
    attention-pooling head (probe, nn.MultiheadAttention, LayerNorm, MLP) when vision_use_head."""
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not isinstance(tc, dict) or tc.get("model_type") != "gemma3_text":
        return None  # no text_config: transformers' default text model, not checked here
    if not isinstance(vc, dict) or vc.get("model_type") != "siglip_vision_model":
        return None
    for key in config:
        if key not in _NEUTRAL and key not in _GEMMA3_NEUTRAL:
            return None
    top = {k: config.get(k, d) for k, d in GEMMA3_DEFAULTS.items()}
    if type(top["tie_word_embeddings"]) is not bool or not (_int(top["mm_tokens_per_image"]) and top["mm_tokens_per_image"] > 0):
        return None  # the projector divides by sqrt(mm_tokens_per_image)
    for key in tc:
        if key not in _NEUTRAL and key not in _GEMMA3_TEXT_NEUTRAL and key not in GEMMA3_TEXT_DEFAULTS:
            return None
    if "tie_word_embeddings" in tc and tc["tie_word_embeddings"] != top["tie_word_embeddings"]:
        return None  # the top-level flag ties lm_head; a text_config that says otherwise is left to transformers
    t = {k: tc.get(k, d) for k, d in GEMMA3_TEXT_DEFAULTS.items()}
    if type(t.pop("attention_bias")) is not bool or not all(_int(x) and x > 0 for x in t.values()):
        return None  # an explicit null (head_dim, num_key_value_heads): left to transformers
    t["attention_bias"] = tc.get("attention_bias", False)
    h, n = t["hidden_size"], t["num_hidden_layers"]
    lt = tc.get("layer_types")
    if h % t["num_attention_heads"] or (lt is not None and (not isinstance(lt, list) or len(lt) != n)):
        return None  # transformers refuses these
    for key in vc:
        if key not in _SIGLIP_NEUTRAL and key not in SIGLIP_VISION_DEFAULTS:
            return None
    v = {k: vc.get(k, d) for k, d in SIGLIP_VISION_DEFAULTS.items()}
    if type(v.pop("vision_use_head")) is not bool or not all(_int(x) and x > 0 for x in v.values()):
        return None  # e.g. image_size / patch_size given as [height, width]
    v["vision_use_head"] = vc.get("vision_use_head", True)
    vh, vi = v["hidden_size"], v["intermediate_size"]
    if vh % v["num_attention_heads"]:
        return None  # SiglipAttention refuses it
    vt = "model.vision_tower."
    ps = v["patch_size"]
    items: list[Item] = _lin(vt + "embeddings.patch_embedding", vh, v["num_channels"] * ps * ps, True)
    items.append((vt + "embeddings.position_embedding.weight", (v["image_size"] // ps) ** 2 * vh))

    def ln(name: str) -> list[Item]:
        return [(name + ".weight", vh), (name + ".bias", vh)]

    def mlp(p: str) -> list[Item]:
        return _lin(p + "fc1", vi, vh, True) + _lin(p + "fc2", vh, vi, True)

    for i in range(v["num_hidden_layers"]):
        b = f"{vt}encoder.layers.{i}."
        items += ln(b + "layer_norm1")
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            items += _lin(b + "self_attn." + proj, vh, vh, True)
        items += ln(b + "layer_norm2") + mlp(b + "mlp.")
    items += ln(vt + "post_layernorm")
    if v["vision_use_head"]:
        hd = vt + "head."
        items += [(hd + "probe", vh), (hd + "attention.in_proj_weight", 3 * vh * vh), (hd + "attention.in_proj_bias", 3 * vh)]
        items += _lin(hd + "attention.out_proj", vh, vh, True) + ln(hd + "layernorm") + mlp(hd + "mlp.")
    items += [("model.multi_modal_projector.mm_input_projection_weight", vh * h),
              ("model.multi_modal_projector.mm_soft_emb_norm.weight", vh)]

    def layer(p: str, i: int) -> list[Item]:
        return (_gqa(p, t, qkv_bias=t["attention_bias"], o_bias=t["attention_bias"], qk_norm="norm")
                + _mlp(p + "mlp.", h, t["intermediate_size"])
                + [(p + f"{x}_layernorm.weight", h) for x in ("input", "post_attention", "pre_feedforward", "post_feedforward")])

    return items + _language_model(t, top["tie_word_embeddings"], layer)


# model_type -> (the class, its tensors) for architectures with sub-configs (vision tower, text_config)
MULTIMODAL: dict[str, tuple[str, Callable[[dict[str, Any]], list[Item] | None]]] = {
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", _qwen2_5_vl),
    "gemma3": ("Gemma3ForConditionalGeneration", _gemma3),
    "qwen3_vl": ("Qwen3VLForConditionalGeneration", qwen3_vl),
    "qwen3_vl_moe": ("Qwen3VLMoeForConditionalGeneration", qwen3_vl_moe),
    "mistral3": ("Mistral3ForConditionalGeneration", mistral3),
}
