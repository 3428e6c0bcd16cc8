"""Kimi-K2.5 (Kimi_K25ForConditionalGeneration): a DeepSeek-V3 language model (counted by the deepseek_v3
family) under ``model.language_model``, the MoonViT vision tower under ``model.vision_tower`` and the patch-merger
projector ``model.mm_projector``.

Moonshot's config.json names the vision widths ``vt_hidden_size``, ``vt_num_hidden_layers``, ... and
``init_pos_emb_height`` / ``_width`` / ``_time``, which transformers' Kimi_K25VisionConfig does not read (it builds
``hidden_size``, ``num_hidden_layers``, ... at their own values): those are accepted only where they equal what
transformers builds, so the count is that of the published checkpoint (as for Hunyuan's unread fields)."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _int, _lin

# Kimi_K25VisionConfig's defaults (transformers 5.24), checked in tests/integration/bench/model/test_params_current_formats.py
KIMI_K25_VISION_DEFAULTS: dict[str, Any] = {
    "patch_size": 14, "pos_emb_height": 64, "pos_emb_width": 64, "pos_emb_time": 4, "num_attention_heads": 16,
    "num_hidden_layers": 27, "hidden_size": 1152, "intermediate_size": 4304,
}
KIMI_K25_DEFAULTS: dict[str, Any] = {"projection_hidden_size": 1152, "tie_word_embeddings": True}
# the vendor's vision keys transformers does not read -> the key transformers builds from
_VENDOR_VISION = {"vt_hidden_size": "hidden_size", "vt_num_hidden_layers": "num_hidden_layers",
                  "vt_intermediate_size": "intermediate_size", "vt_num_attention_heads": "num_attention_heads",
                  "init_pos_emb_height": "pos_emb_height", "init_pos_emb_width": "pos_emb_width",
                  "init_pos_emb_time": "pos_emb_time", "mm_hidden_size": "hidden_size"}
_VISION_NEUTRAL = frozenset({"model_type", "hidden_act", "rope_parameters", "merge_kernel_size", "merge_type",
                             "pos_emb_type", "projector_hidden_act", "projector_ln_eps", "video_attn_type",
                             "text_hidden_size", "mm_projector_type", "torch_dtype", "dtype"})
_TOP_NEUTRAL = frozenset({"text_config", "vision_config", "media_placeholder_token_id", "use_unified_vision_chunk",
                          "video_placeholder", "projection_layer_norm_eps", "projection_hidden_size", "image_token_id",
                          "video_token_id", "vision_start_token_id", "vision_end_token_id", "ignore_index"})


def kimi_k25(config: dict[str, Any], text_items: Callable[[dict[str, Any]], tuple[list[Item], int, str] | None]
             ) -> tuple[list[Item], int] | None:
    """(tensors, persistent-buffer elements) of Kimi_K25ForConditionalGeneration, or None. ``text_items`` is the
    analytic count of a causal-LM config (the deepseek_v3 family for the text model)."""
    tc, vc = config.get("text_config"), config.get("vision_config")
    if not isinstance(tc, dict) or not isinstance(vc, dict):
        return None  # transformers' default sub-configs: not checked here
    if any(k not in _NEUTRAL and k not in _TOP_NEUTRAL for k in config):
        return None
    top = {k: config.get(k, d) for k, d in KIMI_K25_DEFAULTS.items()}
    # lm_head is tied to the text embedding unless the top-level flag (default true) and the text model's say no
    if top["tie_word_embeddings"] is not False or tc.get("tie_word_embeddings", False) is not False:
        return None
    if tc.get("model_type") not in ("deepseek_v3", "kimi_k2"):
        return None
    if tc.get("architectures", ["DeepseekV3ForCausalLM"]) != ["DeepseekV3ForCausalLM"]:
        return None
    text = {k: v for k, v in tc.items() if k not in ("quantization_config", "auto_map")}
    text.update(model_type="deepseek_v3", architectures=["DeepseekV3ForCausalLM"])
    found = text_items(text)
    if found is None:
        return None
    titems, buffers, _ = found
    if vc.get("mm_projector_type", "patchmerger") != "patchmerger" or vc.get("model_type", "") not in ("", "kimi_k25_vision"):
        return None
    for key in vc:
        if key not in KIMI_K25_VISION_DEFAULTS and key not in _VENDOR_VISION and key not in _VISION_NEUTRAL:
            return None
    v = {k: vc.get(k, d) for k, d in KIMI_K25_VISION_DEFAULTS.items()}
    if not all(_int(x) and x > 0 for x in v.values()):
        return None
    for theirs, ours in _VENDOR_VISION.items():
        if theirs in vc and vc[theirs] != v[ours]:
            return None  # a width transformers would not build: left to transformers
    th = text["hidden_size"]
    if "text_hidden_size" in vc and vc["text_hidden_size"] != th:
        return None
    mk = vc.get("merge_kernel_size", [2, 2])
    if not (isinstance(mk, list) and len(mk) == 2 and all(_int(x) and x > 0 for x in mk)):
        return None
    ph = top["projection_hidden_size"]
    if not (_int(ph) and ph > 0) or v["hidden_size"] % v["num_attention_heads"]:
        return None
    h, inter, ps = v["hidden_size"], v["intermediate_size"], v["patch_size"]
    vt = "model.vision_tower."
    items: list[Item] = _lin(vt + "patch_embed.proj", h, 3 * ps * ps, True)
    items.append((vt + "patch_embed.pos_emb.position_embeddings", v["pos_emb_height"] * v["pos_emb_width"] * h))
    for i in range(v["num_hidden_layers"]):
        b = f"{vt}layers.{i}."
        items += [(b + "norm1.weight", h), (b + "norm1.bias", h), (b + "norm2.weight", h), (b + "norm2.bias", h)]
        for proj in ("proj", "q_proj", "k_proj", "v_proj"):
            items += _lin(b + "attn." + proj, h, h, True)
        items += _lin(b + "mlp.fc1", inter, h, True) + _lin(b + "mlp.fc2", h, inter, True)
    items += [(vt + "final_layernorm.weight", h), (vt + "final_layernorm.bias", h)]
    merged = h * mk[0] * mk[1]
    items += [("model.mm_projector.pre_norm.weight", ph), ("model.mm_projector.pre_norm.bias", ph)]
    items += _lin("model.mm_projector.in_proj", merged, merged, True) + _lin("model.mm_projector.out_proj", th, merged, True)
    for name, k in titems:
        items.append(("model.language_model." + name[len("model."):] if name.startswith("model.") else name, k))
    return items, buffers
