"""Architectures that only the vendor's own Python builds (``auto_map``, a model_type transformers does not
know): the tensors the vendor's modeling code creates, by arithmetic on config.json, so that a config-only count
needs neither torch nor --trust-remote-code. No vendor code is run or copied: each builder was written from the
vendor's published modeling file (named in :data:`REMOTE`) and is tested against ground truth nobody here tuned
(the published checkpoint index's ``metadata.total_size`` and the model card; tests/unit/bench/model/
test_analytic_remote.py says which for each).

MiniMax-M1 (``minimax_m1``, MiniMaxM1ForCausalLM, modeling_minimax_m1.py of MiniMaxAI/MiniMax-M1 as published
2025-06-16, read from the public copy github.com/Mind-Vault-AI/MiniMax-M1 at commit
e8e65adb296d73870baf3c32d963cd559e5abefe): per layer ``attn_type_list[i]`` 0 = lightning attention
(``self_attn.qkv_proj`` hidden -> 3 x heads x head_dim, ``output_gate``, ``norm`` over heads x head_dim,
``out_proj``) or 1 = softmax attention (q/k/v/o_proj, GQA); every layer a ``block_sparse_moe`` of
``num_local_experts`` experts (w1, w3: hidden -> intermediate; w2 back) and a bias-free ``gate``; a shared MLP and
its ``coefficient`` only when ``shared_intermediate_size`` > 0 (declined here: no published config has one);
``input_layernorm`` / ``post_attention_layernorm``; ``model.embed_tokens``, ``model.norm``, ``lm_head``. No
persistent buffers (the decay rates are computed in the forward pass)."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _int, _lin, _norms

_M1_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "head_dim", "num_local_experts")
# numerics the vendor's code reads that change no tensor
_M1_KEYS = frozenset({*_M1_SHAPES, "attn_type_list", "shared_intermediate_size", "shared_moe_mode", "postnorm",
                      "rotary_dim", "layernorm_full_attention_alpha", "layernorm_full_attention_beta",
                      "layernorm_linear_attention_alpha", "layernorm_linear_attention_beta", "layernorm_mlp_alpha",
                      "layernorm_mlp_beta"})


def minimax_m1(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    c = config
    if any(k not in _NEUTRAL and k not in _M1_KEYS for k in c) or not all(_int(c.get(k)) and c[k] > 0 for k in _M1_SHAPES):
        return None
    if c.get("shared_intermediate_size", 0) != 0 or c.get("tie_word_embeddings", False) is not False:
        return None
    n = c["num_hidden_layers"]
    kinds = c.get("attn_type_list")
    if not (isinstance(kinds, list) and len(kinds) == n and all(k in (0, 1) and type(k) is int for k in kinds)):
        return None
    h, d, nq, nkv, e, inter, v = (c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"],
                                  c["num_local_experts"], c["intermediate_size"], c["vocab_size"])
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(n):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        if kinds[i] == 0:
            items += (_lin(a + "qkv_proj", 3 * nq * d, h) + _lin(a + "output_gate", nq * d, h)
                      + [(a + "norm.weight", nq * d)] + _lin(a + "out_proj", h, nq * d))
        else:
            items += (_lin(a + "q_proj", nq * d, h) + _lin(a + "k_proj", nkv * d, h) + _lin(a + "v_proj", nkv * d, h)
                      + _lin(a + "o_proj", h, nq * d))
        m = p + "block_sparse_moe."
        items += _lin(m + "gate", e, h)
        for j in range(e):
            x = f"{m}experts.{j}."
            items += _lin(x + "w1", inter, h) + _lin(x + "w3", inter, h) + _lin(x + "w2", h, inter)
        items += _norms(p, h)
    items += [("model.norm.weight", h), ("lm_head.weight", v * h)]
    return items, 0


# model_type -> (architectures[0] it must name, builder, the vendor file it follows)
REMOTE: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[list[Item], int] | None], str]] = {
    "minimax_m1": ("MiniMaxM1ForCausalLM", minimax_m1,
                   "modeling_minimax_m1.py of MiniMaxAI/MiniMax-M1 (public copy github.com/Mind-Vault-AI/MiniMax-M1 "
                   "at e8e65adb296d73870baf3c32d963cd559e5abefe)"),
}
