"""MoE families with their own router, expert and attention layouts: DeepSeek-V2/V3 (MLA), GLM-4.5,
Phi-3.5-MoE, ERNIE 4.5, gpt-oss, Hunyuan-A13B."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import Item, _experts, _gqa, _int, _lin, _mlp, _norms


def _indexer(c: dict[str, Any], p: str) -> list[Item] | None:
    """The DSA lightning indexer of DeepSeek-V3.2 / GLM-5 (self_attn.indexer): wq_b from the q LoRA rank to
    index_n_heads x index_head_dim, wk from hidden to index_head_dim, a LayerNorm (weight and bias) of
    index_head_dim, and weights_proj from hidden to index_n_heads."""
    qr, nh, hd, h = c["q_lora_rank"], c["index_n_heads"], c["index_head_dim"], c["hidden_size"]
    if qr is None:
        return None  # wq_b reads the q LoRA rank
    a = p + "self_attn.indexer."
    return (_lin(a + "wq_b", nh * hd, qr) + _lin(a + "wk", hd, h) + [(a + "k_norm.weight", hd), (a + "k_norm.bias", hd)]
            + _lin(a + "weights_proj", nh, h))


def _deepseek_dsa(c: dict[str, Any], i: int, p: str) -> list[Item] | None:
    """DeepseekV32DecoderLayer / GlmMoeDsaDecoderLayer: DeepSeek-V3's layer plus the indexer."""
    base, idx = _deepseek(True)(c, i, p), _indexer(c, p)
    return None if base is None or idx is None else base + idx


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

