"""The common machinery of the analytic count: the tensor-list helpers every family builds from (linear
layers, GQA attention, gated MLPs, fused experts, the two per-layer norms), the config keys that change no
tensor (:data:`_NEUTRAL`), and :class:`Family`, the description of one transformers implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    "experts_per_token", "initial_context_length", "swiglu_limit", "swiglu_alpha", "index_topk",
    "mtp_num_hidden_layers", "mtp_use_dedicated_embeddings",
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
    # integer shape keys that may be absent, with the default transformers' config class gives them (checked
    # against transformers in the integration tests, like ``flags``)
    defaults: dict[str, int] = field(default_factory=dict)


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


def _language_model(t: dict[str, Any], tied: bool, layer: Callable[[str, int], list[Item]]) -> list[Item]:
    """The text decoder of transformers' vision-language classes: ``model.language_model.embed_tokens``, one
    ``layer(prefix, i)`` per layer, the final norm, and ``lm_head`` unless tied to the embedding."""
    h, v, lm = t["hidden_size"], t["vocab_size"], "model.language_model."
    items: list[Item] = [(lm + "embed_tokens.weight", v * h)]
    for i in range(t["num_hidden_layers"]):
        items += layer(f"{lm}layers.{i}.", i)
    items.append((lm + "norm.weight", h))
    return items if tied else items + [("lm_head.weight", v * h)]


# keys a family reads only as lists / optional ints (None allowed)
_OPTIONAL_INT = frozenset({"q_lora_rank", "head_dim"})
_LISTS = frozenset({"mlp_only_layers"})
_FLAGS = frozenset({"attention_bias", "attention_out_bias", "mlp_bias", "qkv_bias", "tie_word_embeddings", "use_qk_norm", "lm_head_bias",
                    "use_bias"})


def _int(v: Any) -> bool:
    return type(v) is int

