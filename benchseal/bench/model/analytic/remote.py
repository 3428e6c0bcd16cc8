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
tables are non-persistent buffers (the 7B's RoPE and the 13B's ALiBi build the same parameters).

Step 3's text model (``step3_text``, Step3TextForCausalLM; the language part of StepFun's ``step3_vl``): the tensors
of vLLM's Step3TextForCausalLM (vllm/model_executor/models/step3_text.py of vllm-project/vllm at commit
d29a69a5f9eac41579524a0c22bcd68dd15b9ba7, whose load_weights names the checkpoint's tensors), which are those
``Step3Model`` builds in StepFun's remote code modeling_step3.py (read from an indexed public copy whose repository
the index does not name; no copy of stepfun-ai/step3 itself was found): ``model.embed_tokens``; per layer
``self_attn`` with ``q_proj`` hidden -> ``share_q_dim``, ``inter_norm`` over ``share_q_dim``, ``wq`` ``share_q_dim``
-> heads x ``head_dim``, one key/value head (``k_proj``,
``v_proj`` hidden -> ``head_dim``; both codes fix it at 1, so ``num_attention_groups`` must be 1),
``o_proj``; layers listed in ``moe_layers_enum`` (all but the first when absent) carry ``moe.gate`` (hidden ->
``moe_num_experts``) and ``moe.gate_proj`` / ``up_proj`` / ``down_proj`` stacked over the experts, beside
``share_expert`` (an MLP ``share_expert_dim`` wide); the others an ``mlp`` ``intermediate_size`` wide;
``input_layernorm`` / ``post_attention_layernorm``; ``model.norm``; ``lm_head`` (untied). The published checkpoint
is the vision-language ``step3_vl``: its vision encoder and projector are NOT counted here (``step3_vl`` is
declined, so it goes to the meta-device build with --trust-remote-code).

ChatGLM2 / ChatGLM3 / CodeGeeX2 / GLM-4 (``chatglm``, ChatGLMForConditionalGeneration; the published configs name
ChatGLMModel): its own module, :mod:`benchseal.bench.model.analytic.chatglm`, which names the files and commits read."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.chatglm import chatglm
from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _gqa, _int, _lin, _mlp, _norms

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
    h, d, nq, e, inter, v = (c["hidden_size"], c["head_dim"], c["num_attention_heads"], c["num_local_experts"],
                             c["intermediate_size"], c["vocab_size"])
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(n):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        if kinds[i] == 0:
            items += (_lin(a + "qkv_proj", 3 * nq * d, h) + _lin(a + "output_gate", nq * d, h)
                      + [(a + "norm.weight", nq * d)] + _lin(a + "out_proj", h, nq * d))
        else:
            items += _gqa(p, c, qkv_bias=False, o_bias=False)
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
                  + _mlp(p + "mlp.", h, inter) + _norms(p, h))
    items += [("model.norm.weight", h), ("lm_head.weight", v * h)]
    return items, 0


_S3_SHAPES = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "head_dim",
              "share_q_dim", "moe_num_experts", "moe_top_k", "moe_intermediate_size", "share_expert_dim")
_S3_KEYS = frozenset({*_S3_SHAPES, "num_attention_groups", "moe_layers_enum", "max_seq_len", "max_position_embedding",
                      "norm_expert_weight"})


def step3_text(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    c = config
    if any(k not in _NEUTRAL and k not in _S3_KEYS for k in c) or not all(_int(c.get(k)) and c[k] > 0 for k in _S3_SHAPES):
        return None
    if c.get("tie_word_embeddings", False) is not False or c.get("num_attention_groups", 1) != 1:
        return None  # the vendor's attention has one key/value head whatever the config says
    n, h, v = c["num_hidden_layers"], c["hidden_size"], c["vocab_size"]
    enum = c.get("moe_layers_enum")
    if enum is None:
        moe_layers = set(range(1, n))
    else:
        parts = enum.split(",") if isinstance(enum, str) else enum
        if not isinstance(parts, (list, tuple)) or not all(
                (isinstance(x, str) and x.strip().isdigit()) or (type(x) is int and x >= 0) for x in parts):
            return None
        moe_layers = {int(x) for x in parts}
        if len(moe_layers) != len(parts) or max(moe_layers, default=0) >= n:
            return None
    nq, d, qd, e, mi = c["num_attention_heads"], c["head_dim"], c["share_q_dim"], c["moe_num_experts"], c["moe_intermediate_size"]
    if c["moe_top_k"] > e:
        return None
    items: list[Item] = [("model.embed_tokens.weight", v * h)]
    for i in range(n):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        items += (_lin(a + "q_proj", qd, h) + _lin(a + "k_proj", d, h) + _lin(a + "v_proj", d, h)
                  + _lin(a + "o_proj", h, nq * d) + [(a + "inter_norm.weight", qd)] + _lin(a + "wq", nq * d, qd))
        if i in moe_layers:
            m = p + "moe."
            items += _lin(m + "gate", e, h) + [(m + "gate_proj.weight", e * mi * h), (m + "up_proj.weight", e * mi * h),
                                               (m + "down_proj.weight", e * h * mi)]
            w, f = c["share_expert_dim"], p + "share_expert."
        else:
            w, f = c["intermediate_size"], p + "mlp."
        items += _mlp(f, h, w) + _norms(p, h)
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
    "step3_text": ("Step3TextForCausalLM", step3_text,
                   "vLLM's vllm/model_executor/models/step3_text.py (vllm-project/vllm at "
                   "d29a69a5f9eac41579524a0c22bcd68dd15b9ba7; the tensors of Step3Model in StepFun's modeling_step3.py)"),
    # published configs name ChatGLMModel; __init__ accepts that spelling (auto_map builds this class)
    "chatglm": ("ChatGLMForConditionalGeneration", chatglm,
                "THUDM's modeling_chatglm.py (ChatGLM2-6B, ChatGLM3-6B, CodeGeeX2-6B, GLM-4-9B-Chat; the public copies "
                "and commits are named in benchseal/bench/model/analytic/chatglm.py)"),
}
