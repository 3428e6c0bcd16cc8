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
    "original_max_position_embeddings",
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
    "deepseek_v2": Family("DeepseekV2ForCausalLM", _MLA | {"mlp_bias"},
                          {"attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False}, True, _deepseek(False)),
    "deepseek_v3": Family("DeepseekV3ForCausalLM", _MLA, {"attention_bias": False, "tie_word_embeddings": False}, True,
                          _deepseek(True)),
}
# model_type -> family, for vendors' names of a built-in architecture (Moonshot's Kimi-K2 config.json says
# model_type "kimi_k2" with architectures ["DeepseekV3ForCausalLM"])
ALIASES = {"kimi_k2": "deepseek_v3"}
# keys a family reads only as lists / optional ints (None allowed)
_OPTIONAL_INT = frozenset({"q_lora_rank", "head_dim"})
_LISTS = frozenset({"mlp_only_layers"})
_FLAGS = frozenset({"attention_bias", "mlp_bias", "qkv_bias", "tie_word_embeddings"})


def _int(v: Any) -> bool:
    return type(v) is int


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
    if not isinstance(config, dict) or "text_config" in config or "vision_config" in config:
        return None
    found = family_of(config)
    if found is None:
        return None
    mt, fam, alias = found
    c: dict[str, Any] = {}
    for key, value in config.items():
        if key in fam.keys:
            c[key] = value
        elif key not in _NEUTRAL:
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
    buffers = sum(k for name, k in items if name.endswith("e_score_correction_bias"))
    return items, buffers, fam.cls
