"""Dense decoder families met in the round-4 held-out check (issue 26): SmolLM3, Seed-OSS, Hunyuan dense
(Hunyuan-7B / Hunyuan-MT) and Gemma 2. Each is Llama's layer with one difference, written here as transformers'
implementation builds it (transformers 5.x ``modeling_<type>.py``); the fields each reads only at one value are
checked by :func:`fields_match` functions (registered in :mod:`.families`' ``_CHECKED``)."""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import Item, _gqa, _int, _mlp, _norms


def _smollm3(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """SmolLM3DecoderLayer: Llama's (q/k/v/o bias = attention_bias, gate/up/down bias = mlp_bias); the NoPE layers
    (no_rope_layers) change no tensor."""
    h = c["hidden_size"]
    return (_gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"])
            + _mlp(p + "mlp.", h, c["intermediate_size"], bias=c["mlp_bias"]) + _norms(p, h))


def smollm3_fields_match(config: dict[str, Any]) -> bool:
    """no_rope_layers one 0/1 per layer when given (SmolLM3Attention indexes it by layer), else a positive
    no_rope_layer_interval (the config derives the list from it)."""
    n = config.get("num_hidden_layers")
    nrl, every = config.get("no_rope_layers"), config.get("no_rope_layer_interval", 4)
    if nrl is not None:
        return isinstance(nrl, list) and len(nrl) == n and all(x in (0, 1) and type(x) is int for x in nrl)
    return _int(every) and every > 0


def _seed_oss(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """SeedOssDecoderLayer: q/k/v bias = attention_bias, o_proj bias = attention_out_bias, MLP bias = mlp_bias."""
    h = c["hidden_size"]
    att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_out_bias"])
    return att + _mlp(p + "mlp.", h, c["intermediate_size"], bias=c["mlp_bias"]) + _norms(p, h)


def _hunyuan_dense(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """HunYuanDenseV1DecoderLayer: GQA (attention_bias on q/k/v/o), query_layernorm / key_layernorm of head_dim
    (always built), a bias-free gated MLP."""
    h, d = c["hidden_size"], c["head_dim"]
    a = p + "self_attn."
    att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"])
    att += [(a + "query_layernorm.weight", d), (a + "key_layernorm.weight", d)]
    return att + _mlp(p + "mlp.", h, c["intermediate_size"]) + _norms(p, h)


# Tencent's fields that HunYuanDenseV1 does not read: token ids and bookkeeping of their training code (no tensor)
_HUNYUAN_DENSE_BOOKKEEPING = frozenset({"im_start_id", "im_end_id", "im_newline_id", "mask_init_id", "pad_id",
                                        "sep_token_id", "text_start_id", "text_end_id", "eod_token_id", "org_vocab_size",
                                        "pool_type", "class_num", "dense_list", "cla_share_factor"})
# ... and those accepted only at the value that describes the model transformers builds
_HUNYUAN_DENSE_AT = {"use_qk_norm": True, "use_cla": False, "mlp_bias": False, "add_classification_head": False,
                     "norm_type": "rms", "use_rotary_pos_emb": True}
HUNYUAN_DENSE_CHECKED = _HUNYUAN_DENSE_BOOKKEEPING | set(_HUNYUAN_DENSE_AT) | {"attention_head_dim"}


def hunyuan_dense_fields_match(config: dict[str, Any]) -> bool:
    """q/k norms always built (use_qk_norm true), no cross-layer attention (use_cla false: its shared K/V would change
    the tensors), a bias-free MLP, no classification head, RMSNorm, RoPE; attention_head_dim, when given, the
    head_dim transformers reads."""
    for key, want in _HUNYUAN_DENSE_AT.items():
        if key in config and (type(config[key]) is not type(want) or config[key] != want):
            return False
    return "attention_head_dim" not in config or config["attention_head_dim"] == config.get("head_dim")


def _gemma2(c: dict[str, Any], i: int, p: str) -> list[Item]:
    """Gemma2DecoderLayer: GQA (attention_bias on q/k/v/o), a bias-free gated MLP and four RMSNorms (input,
    post_attention, pre_feedforward, post_feedforward). The embedding's scale is a non-persistent buffer."""
    h = c["hidden_size"]
    att = _gqa(p, c, qkv_bias=c["attention_bias"], o_bias=c["attention_bias"])
    norms = [(p + f"{x}_layernorm.weight", h) for x in ("input", "post_attention", "pre_feedforward", "post_feedforward")]
    return att + _mlp(p + "mlp.", h, c["intermediate_size"]) + norms


# Gemma 2's numerics and attention behaviour (soft-capping, the query scale, sliding window), no tensor
GEMMA2_CHECKED = frozenset({"attn_logit_softcapping", "final_logit_softcapping", "query_pre_attn_scalar",
                            "hidden_activation", "cache_implementation", "sliding_window_size"})


def gemma2_fields_match(config: dict[str, Any]) -> bool:
    """layer_types, when given, one of the two kinds per layer (transformers' validation)."""
    lt = config.get("layer_types")
    return lt is None or (isinstance(lt, list) and all(x in ("sliding_attention", "full_attention") for x in lt))



def internlm3_as_llama(config: dict[str, Any]) -> dict[str, Any] | None:
    """InternLM3: transformers builds ``LlamaForCausalLM`` for model_type internlm3 (its causal-LM mapping), from
    InternLM3Config, whose attribute_map reads the published ``qkv_bias`` as attention_bias (q/k/v/o in Llama) and
    ``bias`` as mlp_bias, and which refuses the two unequal. The same config as the llama family reads it, or None
    (architectures other than InternLM3's / Llama's, both spellings of one flag, or a head_dim left to
    InternLM3Config's default of 128, which Llama would derive instead)."""
    archs = config.get("architectures", ["InternLM3ForCausalLM"])
    if archs not in (["InternLM3ForCausalLM"], ["LlamaForCausalLM"]) or not _int(config.get("head_dim")):
        return None
    cfg = {k: v for k, v in config.items() if k not in ("qkv_bias", "bias", "architectures", "model_type")}
    for theirs, ours in (("qkv_bias", "attention_bias"), ("bias", "mlp_bias")):
        if theirs in config:
            if ours in config:
                return None
            cfg[ours] = config[theirs]
    if cfg.get("attention_bias", False) != cfg.get("mlp_bias", False):
        return None  # InternLM3Config refuses this
    return {**cfg, "model_type": "llama", "architectures": ["LlamaForCausalLM"]}
