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
persistent buffers (the decay rates are computed in the forward pass).

InternLM2 (``internlm2``, InternLM2ForCausalLM, modeling_internlm2.py of internlm/internlm2-chat-7b, read from the
public copy of that repository github.com/NanSang2000/S1mpleAgent at commit
4275caa205dbb8ff83930e2c1ce6bc62ec49329c): ``model.tok_embeddings``; per layer ``attention.wqkv`` hidden ->
(heads + 2 x kv_heads) x head_dim and ``attention.wo`` (bias: config ``bias``), head_dim = hidden // heads;
``feed_forward.w1`` / ``w3`` / ``w2``; ``attention_norm``, ``ffn_norm``; ``model.norm``; ``output`` (the head).
Rotary tables are non-persistent buffers.

Baichuan 2 (``baichuan``, BaichuanForCausalLM, modeling_baichuan.py of baichuan-inc/Baichuan2-13B-Chat, read from
the public copy of that repository github.com/jrd77/Baichuan2-13B-Chat at commit
c6f8592a60b4ad73c210b28dd2ab3cca51abbf93): ``model.embed_tokens``; per layer ``self_attn.W_pack`` hidden -> 3 x
hidden and ``o_proj`` (no bias), ``mlp.gate_proj`` / ``up_proj`` / ``down_proj``, ``input_layernorm``,
``post_attention_layernorm``; ``model.norm``; ``lm_head`` (NormHead: one vocab x hidden weight). ALiBi / rotary
tables are non-persistent buffers (the 7B's RoPE and the 13B's ALiBi build the same parameters)."""

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


_DENSE_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")
_IL2_KEYS = frozenset({*_DENSE_SHAPES, "num_key_value_heads", "bias", "attn_implementation"})
_BC_KEYS = frozenset({*_DENSE_SHAPES, "model_max_length", "z_loss_weight", "_from_model_config", "tokenizer_class",
                      "gradient_checkpointing"})


def _dense_ok(c: dict[str, Any], keys: frozenset[str]) -> bool:
    if any(k not in _NEUTRAL and k not in keys for k in c) or not all(_int(c.get(k)) and c[k] > 0 for k in _DENSE_SHAPES):
        return False
    return c.get("tie_word_embeddings", False) is False and c["hidden_size"] % c["num_attention_heads"] == 0


def internlm2(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    c = config
    if not _dense_ok(c, _IL2_KEYS) or not (_int(c.get("num_key_value_heads")) and c["num_key_value_heads"] > 0):
        return None
    bias = c.get("bias", True)  # InternLM2Config's default
    if type(bias) is not bool:
        return None
    h, nq, nkv, inter, v = (c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"],
                            c["intermediate_size"], c["vocab_size"])
    d = h // nq
    items: list[Item] = [("model.tok_embeddings.weight", v * h)]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        items += (_lin(p + "attention.wqkv", (nq + 2 * nkv) * d, h, bias) + _lin(p + "attention.wo", h, nq * d, bias)
                  + _lin(p + "feed_forward.w1", inter, h) + _lin(p + "feed_forward.w3", inter, h)
                  + _lin(p + "feed_forward.w2", h, inter)
                  + [(p + "attention_norm.weight", h), (p + "ffn_norm.weight", h)])
    items += [("model.norm.weight", h), ("output.weight", v * h)]
    return items, 0


def baichuan(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    c = config
    if not _dense_ok(c, _BC_KEYS):
        return None
    h, inter, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        items += (_lin(p + "self_attn.W_pack", 3 * h, h) + _lin(p + "self_attn.o_proj", h, h)
                  + _lin(p + "mlp.gate_proj", inter, h) + _lin(p + "mlp.up_proj", inter, h)
                  + _lin(p + "mlp.down_proj", h, inter) + _norms(p, h))
    items += [("model.norm.weight", h), ("lm_head.weight", v * h)]
    return items, 0


# model_type -> (architectures[0] it must name, builder, the vendor file it follows)
REMOTE: dict[str, tuple[str, Callable[[dict[str, Any]], tuple[list[Item], int] | None], str]] = {
    "minimax_m1": ("MiniMaxM1ForCausalLM", minimax_m1,
                   "modeling_minimax_m1.py of MiniMaxAI/MiniMax-M1 (public copy github.com/Mind-Vault-AI/MiniMax-M1 "
                   "at e8e65adb296d73870baf3c32d963cd559e5abefe)"),
    "internlm2": ("InternLM2ForCausalLM", internlm2,
                  "modeling_internlm2.py of internlm/internlm2-chat-7b (public copy github.com/NanSang2000/S1mpleAgent "
                  "at 4275caa205dbb8ff83930e2c1ce6bc62ec49329c)"),
    "baichuan": ("BaichuanForCausalLM", baichuan,
                 "modeling_baichuan.py of baichuan-inc/Baichuan2-13B-Chat (public copy github.com/jrd77/Baichuan2-13B-Chat "
                 "at c6f8592a60b4ad73c210b28dd2ab3cca51abbf93)"),
}
