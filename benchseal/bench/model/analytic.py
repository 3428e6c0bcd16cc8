"""Parameter count from config.json by arithmetic, without torch or transformers (stdlib only).

:func:`analytic_items` lists the tensors (name, elements) that transformers' implementation of the
architecture would create on the meta device: the same names, the same shapes, tied weights once,
persistent buffers included. The caller (:mod:`benchseal.bench.model.params_config`) puts that list
through the same counting rules as the meta-device count, so both give the same total, active,
breakdown and per-convention counts; ``tests/integration/bench/model/test_analytic_parity.py``
checks this for every published config against transformers.

The rule is "understand everything or answer nothing": an architecture outside :data:`FAMILIES`, an
``architectures[0]`` other than the family's causal-LM class, any config key this module does not
know, a value of an unexpected type, or a shape key left to a default this module has not verified,
all return ``None`` ("unknown"), and the caller builds the model on the meta device instead. Never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Item = tuple[str, int]

# Keys that do not change which tensors a model has or their shapes (numerics, positions, token ids,
# routing behaviour, training-only settings, bookkeeping). Shape keys are listed per family below.
_NEUTRAL = frozenset({
    "architectures", "model_type", "torch_dtype", "dtype", "transformers_version", "_name_or_path", "rms_norm_eps",
    "rope_theta", "rope_scaling", "rope_parameters", "max_position_embeddings", "hidden_act", "initializer_range",
    "use_cache", "bos_token_id", "eos_token_id", "pad_token_id", "attention_dropout", "tie_word_embeddings",
    "quantization_config", "auto_map", "sliding_window", "use_sliding_window", "max_window_layers", "layer_types",
    "output_router_logits", "router_aux_loss_coef", "router_jitter_noise", "norm_topk_prob", "num_experts_per_tok",
    "routed_scaling_factor", "topk_method", "n_group", "topk_group", "scoring_func", "aux_loss_alpha", "seq_aux",
    "ep_size", "rope_interleave", "partial_rotary_factor", "pretraining_tp", "num_nextn_predict_layers",
    "original_max_position_embeddings", "input_jitter_noise", "moe_k", "moe_norm_min",
    "experts_per_token", "initial_context_length", "swiglu_limit", "swiglu_alpha",
})


@dataclass(frozen=True)
class Family:
    """One transformers implementation: its causal-LM class, the shape keys it reads, the defaults
    transformers' config class gives the flags that may be absent (checked against transformers in the
    integration tests), and whether an absent/null head_dim means hidden_size // num_attention_heads."""

    cls: str
    keys: frozenset[str]
    flags: dict[str, bool]
    derived_head_dim: bool
    layers: Callable[[dict[str, Any], int, str], list[Item] | None]
    # tensors outside the layers beyond embed_tokens, norm.weight and lm_head.weight (e.g. LayerNorm biases)
    # (None from it: a value this module declines)
    tail: Callable[[dict[str, Any]], list[Item] | None] | None = None


def _lin(name: str, out: int, inp: int, bias: bool = False) -> list[Item]:
    return [(name + ".weight", out * inp)] + ([(name + ".bias", out)] if bias else [])


def _gqa(p: str, c: dict[str, Any], *, qkv_bias: bool, o_bias: bool, qk_norm: str | None = None) -> list[Item]:
    h, d, nq, nkv = c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"]
    a = p + "self_attn."
    t = (_lin(a + "q_proj", nq * d, h, qkv_bias) + _lin(a + "k_proj", nkv * d, h, qkv_bias)
         + _lin(a + "v_proj", nkv * d, h, qkv_bias) + _lin(a + "o_proj", h, nq * d, o_bias))
    if qk_norm:
        t += [(f"{a}q_{qk_norm}.weight", d), (f"{a}k_{qk_norm}.weight", d)]
    return t


def _mlp(p: str, h: int, inter: int, bias: bool = False, fused: bool = False) -> list[Item]:
    if fused:
        return _lin(p + "gate_up_proj", 2 * inter, h, bias) + _lin(p + "down_proj", h, inter, bias)
    return _lin(p + "gate_proj", inter, h, bias) + _lin(p + "up_proj", inter, h, bias) + _lin(p + "down_proj", h, inter, bias)


def _experts(p: str, e: int, h: int, inter: int) -> list[Item]:
    return [(p + "experts.gate_up_proj", e * 2 * inter * h), (p + "experts.down_proj", e * h * inter)]


def _norms(p: str, h: int) -> list[Item]:
    return [(p + "input_layernorm.weight", h), (p + "post_attention_layernorm.weight", h)]


def _dense(kind: str) -> Callable[[dict[str, Any], int, str], list[Item] | None]:
    def layer(c: dict[str, Any], i: int, p: str) -> list[Item]:
        h = c["hidden_size"]
        if kind == "qwen2":
            att = _gqa(p, c, qkv_bias=True, o_bias=False)
        elif kind == "glm":
            att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=False)
        elif kind == "qwen3":
            att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"], qk_norm="norm")
        elif kind == "mistral":
            att = _gqa(p, c, qkv_bias=False, o_bias=False)
        else:  # llama
            att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"])
        mlp = _mlp(p + "mlp.", h, c["intermediate_size"], bias=c.get("mlp_bias", False), fused=kind == "glm")
        return att + mlp + _norms(p, h)
    return layer


def _mixtral(c: dict[str, Any], i: int, p: str) -> list[Item]:
    h, e = c["hidden_size"], c["num_local_experts"]
    return (_gqa(p, c, qkv_bias=False, o_bias=False) + [(p + "mlp.gate.weight", e * h)]
            + _experts(p + "mlp.", e, h, c["intermediate_size"]) + _norms(p, h))


def _qwen_moe(v3: bool) -> Callable[[dict[str, Any], int, str], list[Item] | None]:
    def layer(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
        h, e = c["hidden_size"], c["num_experts"]
        att = (_gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"], qk_norm="norm") if v3
               else _gqa(p, c, qkv_bias=c["qkv_bias"], o_bias=False))
        only = c["mlp_only_layers"]
        if i not in only and e > 0 and (i + 1) % c["decoder_sparse_step"] == 0:
            mlp = _experts(p + "mlp.", e, h, c["moe_intermediate_size"]) + [(p + "mlp.gate.weight", e * h)]
            if not v3:
                mlp += _mlp(p + "mlp.shared_expert.", h, c["shared_expert_intermediate_size"])
                mlp += [(p + "mlp.shared_expert_gate.weight", h)]
        else:
            mlp = _mlp(p + "mlp.", h, c["intermediate_size"])
        return att + mlp + _norms(p, h)
    return layer


def _deepseek(v3: bool) -> Callable[[dict[str, Any], int, str], list[Item] | None]:
    def layer(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
        h, nq, bias = c["hidden_size"], c["num_attention_heads"], c["attention_bias"]
        qk = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]
        qr, kvr = c["q_lora_rank"], c["kv_lora_rank"]
        a = p + "self_attn."
        if qr is None:
            att = _lin(a + "q_proj", nq * qk, h)
        else:
            att = _lin(a + "q_a_proj", qr, h, bias) + [(a + "q_a_layernorm.weight", qr)] + _lin(a + "q_b_proj", nq * qk, qr)
        att += _lin(a + "kv_a_proj_with_mqa", kvr + c["qk_rope_head_dim"], h, bias) + [(a + "kv_a_layernorm.weight", kvr)]
        att += _lin(a + "kv_b_proj", nq * (c["qk_nope_head_dim"] + c["v_head_dim"]), kvr)
        att += _lin(a + "o_proj", h, nq * c["v_head_dim"], bias)
        if i >= c["first_k_dense_replace"]:
            e, m = c["n_routed_experts"], p + "mlp."
            mlp = _experts(m, e, h, c["moe_intermediate_size"]) + [(m + "gate.weight", e * h)]
            mlp += _mlp(m + "shared_experts.", h, c["moe_intermediate_size"] * c["n_shared_experts"],
                        bias=c.get("mlp_bias", False))
            if v3:
                mlp.append((m + "gate.e_score_correction_bias", e))  # a persistent buffer, stored by checkpoints
        else:
            mlp = _mlp(p + "mlp.", h, c["intermediate_size"], bias=c.get("mlp_bias", False))
        return att + mlp + _norms(p, h)
    return layer


def _glm4_moe(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """Glm4MoeDecoderLayer: GQA with q/k/v bias from attention_bias (o_proj never), q/k RMSNorm when use_qk_norm;
    a dense MLP before first_k_dense_replace, then routed experts + a shared MLP of n_shared_experts x
    moe_intermediate_size + the sigmoid router with its e_score_correction_bias buffer. transformers builds no
    MTP layer (num_nextn_predict_layers / num_mtp_layers only matter to generate(use_mtp=True))."""
    h = c["hidden_size"]
    att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=False, qk_norm="norm" if c["use_qk_norm"] else None)
    if i >= c["first_k_dense_replace"]:
        e, m = c["n_routed_experts"], p + "mlp."
        mlp = _experts(m, e, h, c["moe_intermediate_size"]) + [(m + "gate.weight", e * h)]
        mlp += _mlp(m + "shared_experts.", h, c["moe_intermediate_size"] * c["n_shared_experts"])
        mlp.append((m + "gate.e_score_correction_bias", e))  # a persistent buffer, stored by checkpoints
    else:
        mlp = _mlp(p + "mlp.", h, c["intermediate_size"])
    return att + mlp + _norms(p, h)


def _phimoe(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """PhimoeDecoderLayer: GQA with attention_bias on q/k/v/o, a linear router (mlp.router), fused experts of
    intermediate_size, and nn.LayerNorm (weight and bias) around it."""
    h, e = c["hidden_size"], c["num_local_experts"]
    b = c["attention_bias"]
    return (_gqa(p, c, qkv_bias=b, o_bias=b) + [(p + "mlp.router.weight", e * h)]
            + _experts(p + "mlp.", e, h, c["intermediate_size"])
            + [(p + "input_layernorm.weight", h), (p + "input_layernorm.bias", h),
               (p + "post_attention_layernorm.weight", h), (p + "post_attention_layernorm.bias", h)])


def _phimoe_tail(c: dict[str, Any]) -> list[Item]:
    # the final nn.LayerNorm's bias; lm_head's bias (lm_head_bias) is a parameter of its own, even when tied
    return [("model.norm.bias", c["hidden_size"])] + ([("lm_head.bias", c["vocab_size"])] if c["lm_head_bias"] else [])


def _ernie45_moe(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
    """Ernie4_5_MoeDecoderLayer: GQA with use_bias on q/k/v/o; an MoE block where (i + 1) % moe_layer_interval == 0
    and moe_layer_start_index <= i <= moe_layer_end_index (-1: the last layer), else a dense MLP (use_bias). The MoE
    block: a bias-free router (mlp.gate.weight) whose moe_statics.e_score_correction_bias (1 x experts) is an
    nn.Parameter (requires_grad False), not a buffer; fused experts of moe_intermediate_size; a shared MLP of
    moe_num_shared_experts x moe_intermediate_size (use_bias) when moe_num_shared_experts > 0."""
    if c["moe_layer_interval"] <= 0 or c["moe_num_experts"] <= 0:
        return None  # transformers divides by the interval; no experts is not an MoE model: left to transformers
    h, b = c["hidden_size"], c["use_bias"]
    end = c["num_hidden_layers"] - 1 if c["moe_layer_end_index"] == -1 else c["moe_layer_end_index"]
    if (i + 1) % c["moe_layer_interval"] == 0 and c["moe_layer_start_index"] <= i <= end:
        e, m = c["moe_num_experts"], p + "mlp."
        mlp = [(m + "gate.weight", e * h), (m + "gate.moe_statics.e_score_correction_bias", e)]
        mlp += _experts(m, e, h, c["moe_intermediate_size"])
        if c["moe_num_shared_experts"] > 0:
            mlp += _mlp(m + "shared_experts.", h, c["moe_intermediate_size"] * c["moe_num_shared_experts"], bias=b)
    else:
        mlp = _mlp(p + "mlp.", h, c["intermediate_size"], bias=b)
    return _gqa(p, c, qkv_bias=b, o_bias=b) + mlp + _norms(p, h)


def _ernie45_moe_tail(c: dict[str, Any]) -> list[Item]:
    # lm_head is nn.Linear(bias=use_bias); only its weight is tied to the embedding
    return [("lm_head.bias", c["vocab_size"])] if c["use_bias"] else []


def _gpt_oss(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """GptOssDecoderLayer: GQA with attention_bias on q/k/v/o and one attention sink per query head
    (self_attn.sinks); mlp.router with weight and bias; fused experts with biases (gate_up_proj is stored
    hidden x 2*intermediate, the elements are the same). MXFP4 quantization_config only changes the storage."""
    h, e, inter, b = c["hidden_size"], c["num_local_experts"], c["intermediate_size"], c["attention_bias"]
    m = p + "mlp."
    return (_gqa(p, c, qkv_bias=b, o_bias=b) + [(p + "self_attn.sinks", c["num_attention_heads"])]
            + [(m + "router.weight", e * h), (m + "router.bias", e)]
            + [(m + "experts.gate_up_proj", e * h * 2 * inter), (m + "experts.gate_up_proj_bias", e * 2 * inter),
               (m + "experts.down_proj", e * inter * h), (m + "experts.down_proj_bias", e * h)]
            + _norms(p, h))


def _hunyuan_moe(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
    """HunYuanMoEV1DecoderLayer: GQA (attention_bias on q/k/v/o) with query_layernorm / key_layernorm of head_dim
    (always built); every layer an MoE block: the router mlp.gate.wg (no bias), num_experts fused experts of
    intermediate_size, and one shared MLP (mlp.shared_mlp) of intermediate_size. transformers reads neither
    moe_intermediate_size, num_shared_expert, use_mixed_mlp_moe, use_qk_norm nor use_cla: those are accepted
    (see :func:`_hunyuan_fields_match`) only at the values that describe the model it builds."""
    h, e, inter, b = c["hidden_size"], c["num_experts"], c["intermediate_size"], c["attention_bias"]
    if e <= 0:
        return None
    a = p + "self_attn."
    att = _gqa(p, c, qkv_bias=b, o_bias=b) + [(a + "query_layernorm.weight", c["head_dim"]),
                                              (a + "key_layernorm.weight", c["head_dim"])]
    m = p + "mlp."
    mlp = [(m + "gate.wg.weight", e * h)] + _experts(m, e, h, inter) + _mlp(m + "shared_mlp.", h, inter)
    return att + mlp + _norms(p, h)


def _hunyuan_fields_match(config: dict[str, Any]) -> bool:
    """Tencent's fields that transformers' HunYuanMoEV1 does not read, at values that agree with what it builds
    (experts and the shared MLP of intermediate_size, one shared MLP, q/k norms, no cross-layer attention);
    moe_topk (experts per token) an int or a per-layer list of ints."""
    inter, n = config.get("intermediate_size"), config.get("num_hidden_layers")

    def values(key: str, default: Any) -> list[Any] | None:
        v = config.get(key, default)
        if isinstance(v, list):
            return v if len(v) == n else None  # one per layer (transformers indexes moe_topk by layer)
        return [v]

    def each(key: str, want: Any) -> bool:
        vs = values(key, want)
        return vs is not None and all(type(x) is type(want) and x == want for x in vs)

    k = values("moe_topk", 1)
    return (k is not None and all(_int(x) and x > 0 for x in k) and each("moe_intermediate_size", inter)
            and each("num_shared_expert", 1) and each("use_mixed_mlp_moe", True) and each("use_qk_norm", True)
            and each("use_cla", False))


_BASE = frozenset({"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"})
_GQA = _BASE | {"num_key_value_heads", "head_dim", "intermediate_size"}
_MLA = _BASE | {"intermediate_size", "moe_intermediate_size", "n_routed_experts", "n_shared_experts",
                "first_k_dense_replace", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                "v_head_dim", "attention_bias", "num_key_value_heads", "moe_layer_freq", "head_dim"}
FAMILIES: dict[str, Family] = {
    "llama": Family("LlamaForCausalLM", _GQA | {"attention_bias", "mlp_bias"},
                    {"attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False}, True, _dense("llama")),
    "mistral": Family("MistralForCausalLM", _GQA, {"tie_word_embeddings": False}, True, _dense("mistral")),
    "qwen2": Family("Qwen2ForCausalLM", _GQA, {"tie_word_embeddings": False}, True, _dense("qwen2")),
    "qwen3": Family("Qwen3ForCausalLM", _GQA | {"attention_bias"}, {"attention_bias": False, "tie_word_embeddings": False},
                    False, _dense("qwen3")),
    "glm": Family("GlmForCausalLM", _GQA | {"attention_bias"}, {"attention_bias": True, "tie_word_embeddings": False},
                  False, _dense("glm")),
    "mixtral": Family("MixtralForCausalLM", _GQA | {"num_local_experts"}, {"tie_word_embeddings": False}, True, _mixtral),
    "qwen2_moe": Family("Qwen2MoeForCausalLM",
                        _GQA | {"num_experts", "moe_intermediate_size", "shared_expert_intermediate_size",
                                "decoder_sparse_step", "mlp_only_layers", "qkv_bias"},
                        {"qkv_bias": True, "tie_word_embeddings": False}, True, _qwen_moe(False)),
    "qwen3_moe": Family("Qwen3MoeForCausalLM",
                        _GQA | {"num_experts", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers",
                                "attention_bias"},
                        {"attention_bias": False, "tie_word_embeddings": False}, True, _qwen_moe(True)),
    # PhimoeConfig has no head_dim field: the attention reads getattr(config, "head_dim", hidden // heads)
    "phimoe": Family("PhimoeForCausalLM", _GQA | {"num_local_experts", "attention_bias", "lm_head_bias"},
                     {"attention_bias": False, "lm_head_bias": False, "tie_word_embeddings": False}, True, _phimoe,
                     _phimoe_tail),
    # Glm4MoeConfig has no head_dim field: the attention reads getattr(config, "head_dim", hidden // heads)
    "glm4_moe": Family("Glm4MoeForCausalLM",
                       _GQA | {"attention_bias", "use_qk_norm", "moe_intermediate_size", "n_routed_experts",
                               "n_shared_experts", "first_k_dense_replace"},
                       {"attention_bias": False, "use_qk_norm": False, "tie_word_embeddings": False}, True, _glm4_moe),
    # Ernie4_5_MoeConfig has no head_dim field: the attention reads getattr(config, "head_dim", hidden // heads)
    "ernie4_5_moe": Family("Ernie4_5_MoeForCausalLM",
                           _GQA | {"use_bias", "moe_num_experts", "moe_intermediate_size", "moe_num_shared_experts",
                                   "moe_layer_start_index", "moe_layer_end_index", "moe_layer_interval"},
                           {"use_bias": False, "tie_word_embeddings": True}, True, _ernie45_moe, _ernie45_moe_tail),
    # HunYuanMoEV1Config.head_dim defaults to None, which the attention reads as is: a head_dim is required
    "hunyuan_v1_moe": Family("HunYuanMoEV1ForCausalLM", _GQA | {"attention_bias", "num_experts"},
                             {"attention_bias": False, "tie_word_embeddings": False}, False, _hunyuan_moe),
    # GptOssConfig.head_dim defaults to 64 (derived from hidden // heads only when given as null: declined here)
    "gpt_oss": Family("GptOssForCausalLM", _GQA | {"attention_bias", "num_local_experts"},
                      {"attention_bias": True, "tie_word_embeddings": False}, False, _gpt_oss),
    "deepseek_v2": Family("DeepseekV2ForCausalLM", _MLA | {"mlp_bias"},
                          {"attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False}, True, _deepseek(False)),
    "deepseek_v3": Family("DeepseekV3ForCausalLM", _MLA, {"attention_bias": False, "tie_word_embeddings": False}, True,
                          _deepseek(True)),
}
# model_type -> family, for vendors' names of a built-in architecture (Moonshot's Kimi-K2 config.json says
# model_type "kimi_k2" with architectures ["DeepseekV3ForCausalLM"])
# Tencent's "hunyuan" model_type (architectures HunYuanMoEV1ForCausalLM) is transformers' hunyuan_v1_moe; its
# config.json names the head width attention_head_dim, which params_config.count_analytic reads as head_dim with
# the same note the meta-device count gives
ALIASES = {"kimi_k2": "deepseek_v3", "hunyuan": "hunyuan_v1_moe"}
# per family: config keys checked by value (fields transformers does not read, accepted only where they agree with
# the model it builds)
_CHECKED: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], bool]]] = {
    "hunyuan_v1_moe": (frozenset({"moe_intermediate_size", "num_shared_expert", "use_mixed_mlp_moe", "use_qk_norm",
                                  "use_cla", "moe_topk"}), _hunyuan_fields_match),
}
# keys a family reads only as lists / optional ints (None allowed)
_OPTIONAL_INT = frozenset({"q_lora_rank", "head_dim"})
_LISTS = frozenset({"mlp_only_layers"})
_FLAGS = frozenset({"attention_bias", "mlp_bias", "qkv_bias", "tie_word_embeddings", "use_qk_norm", "lm_head_bias",
                    "use_bias"})


def _int(v: Any) -> bool:
    return type(v) is int


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
    lm = "model.language_model."
    items.append((lm + "embed_tokens.weight", t["vocab_size"] * h))
    for i in range(t["num_hidden_layers"]):
        p = f"{lm}layers.{i}."
        items += _gqa(p, c, qkv_bias=True, o_bias=False) + _mlp(p + "mlp.", h, t["intermediate_size"]) + _norms(p, h)
    items.append((lm + "norm.weight", h))
    if not tied:
        items.append(("lm_head.weight", t["vocab_size"] * h))
    return items


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
    lm = "model.language_model."
    items.append((lm + "embed_tokens.weight", t["vocab_size"] * h))
    for i in range(n):
        p = f"{lm}layers.{i}."
        items += _gqa(p, t, qkv_bias=t["attention_bias"], o_bias=t["attention_bias"], qk_norm="norm")
        items += _mlp(p + "mlp.", h, t["intermediate_size"])
        items += [(p + f"{x}_layernorm.weight", h) for x in ("input", "post_attention", "pre_feedforward", "post_feedforward")]
    items.append((lm + "norm.weight", h))
    if not top["tie_word_embeddings"]:
        items.append(("lm_head.weight", t["vocab_size"] * h))
    return items


# model_type -> (the class, its tensors) for architectures with sub-configs (vision tower, text_config)
MULTIMODAL: dict[str, tuple[str, Callable[[dict[str, Any]], list[Item] | None]]] = {
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration", _qwen2_5_vl),
    "gemma3": ("Gemma3ForConditionalGeneration", _gemma3),
}


def family_of(config: dict[str, Any]) -> tuple[str, Family, bool] | None:
    """(model_type the count uses, its family, whether it is an alias through ``architectures``), or None."""
    mt = config.get("model_type")
    archs = config.get("architectures")
    arch = archs[0] if isinstance(archs, list) and len(archs) == 1 and isinstance(archs[0], str) else None
    if archs is not None and arch is None:
        return None
    if isinstance(mt, str) and mt in FAMILIES:
        fam = FAMILIES[mt]
        return (mt, fam, False) if arch in (None, fam.cls) else None
    # a model_type transformers does not know whose architectures name a built-in class: the meta-device
    # count builds that class, and so may this count, for the aliases listed (and checked against transformers)
    target = ALIASES.get(mt) if isinstance(mt, str) else None
    if target is not None and arch == FAMILIES[target].cls:
        return target, FAMILIES[target], True
    return None


def analytic_items(config: dict[str, Any]) -> tuple[list[Item], int, str] | None:
    """(tensors as (name, elements), elements of persistent buffers among them, the implementation's class
    name) of the architecture ``config`` describes, or None when this module does not fully understand it.

    ``config`` must already have passed :func:`benchseal.bench.model.params_config.check_sizes`."""
    if not isinstance(config, dict):
        return None
    mt = config.get("model_type")
    mm = MULTIMODAL.get(mt) if isinstance(mt, str) else None
    if mm is not None:
        archs = config.get("architectures")
        if archs is not None and archs != [mm[0]]:
            return None
        found_mm = mm[1](config)
        return None if found_mm is None else (found_mm, 0, mm[0])
    if "text_config" in config or "vision_config" in config:
        return None
    found = family_of(config)
    if found is None:
        return None
    mt, fam, alias = found
    checked, fields_match = _CHECKED.get(mt, (frozenset(), None))
    if fields_match is not None and not fields_match(config):
        return None
    c: dict[str, Any] = {}
    for key, value in config.items():
        if key in fam.keys:
            c[key] = value
        elif key not in _NEUTRAL and key not in checked:
            return None  # a key this module does not know may change the architecture
    if config.get("model_type") != mt and not alias:
        return None
    for key, default in fam.flags.items():
        v = config.get(key, default)
        if type(v) is not bool:
            return None
        c[key] = v
    for key in fam.keys - _FLAGS:
        if key in _LISTS:
            v = c.get(key, [])
            if not isinstance(v, list) or not all(_int(x) for x in v):
                return None
            c[key] = set(v)
        elif key == "head_dim":
            v = c.get("head_dim")
            if "head_dim" in c and v is None and not mt.startswith("deepseek"):
                return None  # an explicit null: some implementations derive it, others fail; leave it to transformers
            if v is None and fam.derived_head_dim:
                h, nq = config.get("hidden_size"), config.get("num_attention_heads")
                if not (_int(h) and _int(nq) and nq > 0 and h % nq == 0):
                    return None
                c["head_dim"] = h // nq
            elif not _int(v) and not (mt.startswith("deepseek") and v is None):
                return None
        elif key == "moe_layer_freq":
            if c.get(key, 1) != 1:  # transformers ignores it (MoE from first_k_dense_replace on); decline instead
                return None
        elif key == "num_key_value_heads" and mt.startswith("deepseek"):
            if key in c and not _int(c[key]):
                return None  # MLA does not read it
        elif key in _OPTIONAL_INT:
            if key not in c or not (c[key] is None or _int(c[key])):
                return None
        elif key not in c or not _int(c[key]):
            return None  # a shape left to a default: let transformers decide
    if mt.startswith("deepseek") and not _int(config.get("num_experts_per_tok")):
        return None
    lt = config.get("layer_types")
    if lt is not None and not (isinstance(lt, list) and len(lt) == c["num_hidden_layers"]):
        return None  # transformers' config validation refuses layer_types that are not one per layer
    h, n, v = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(n):
        layer = fam.layers(c, i, f"model.layers.{i}.")
        if layer is None:
            return None
        items += layer
    items.append(("model.norm.weight", h))
    if not c["tie_word_embeddings"]:
        items.append(("lm_head.weight", v * h))
    if fam.tail is not None:
        tail = fam.tail(c)
        if tail is None:
            return None
        items += tail
    # the router bias is a persistent buffer in DeepSeek-V3 / GLM-4.5 (mlp.gate.e_score_correction_bias); ERNIE 4.5
    # holds it as a parameter (mlp.gate.moe_statics.e_score_correction_bias)
    buffers = sum(k for name, k in items if name.endswith(".gate.e_score_correction_bias"))
    return items, buffers, fam.cls
