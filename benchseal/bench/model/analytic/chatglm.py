"""ChatGLM2 / ChatGLM3 / CodeGeeX2 / GLM-4 (remote code, ``model_type: chatglm``): the tensors the vendor's
ChatGLMForConditionalGeneration creates, by arithmetic on config.json. No vendor code is run or copied; the builder
was written from THUDM's published modeling_chatglm.py, read in public copies of the model repositories (their git
history is the Hugging Face repositories'):

- THUDM/chatglm2-6b: github.com/syjjhl/chatglm2-6b at 8fd7fba285f7171d3ae7ea3b35c53b6340501ed1;
- THUDM/chatglm3-6b: github.com/czk1997/chatglm3-copy at 456aa875cf1f46623006edaa23103774ea9c0eae;
- THUDM/codegeex2-6b: github.com/Lionelpang/codegeex2-6b at 3cb3f8fa305c8188c6c997d0be2ccc4b87ba6f7f;
- THUDM/glm-4-9b-chat: no copy of the repository itself was found; its modeling_chatglm.py was read in an indexed
  public copy that names no repository (stored-source file id 52404105217, a copy with local additions that leave
  the modules below unchanged).

The three named files build the same modules (diffed here); GLM-4's file drops the P-tuning prefix encoder and the
INT4 ``quantize`` path and adds ``rope_ratio`` (a RoPE base multiplier, no tensor):

``transformer.embedding.word_embeddings`` (padded_vocab_size x hidden); ``transformer.rotary_pos_emb.inv_freq``, a
*persistent* buffer (``register_buffer`` without persistent=False; the published indexes list it) of
``len(range(0, kv_channels // 2, 2))`` elements; per layer (``transformer.encoder.layers.N.``) ``input_layernorm``,
``self_attention.query_key_value`` hidden -> kv_channels x heads (+ 2 x kv_channels x multi_query_group_num with
multi_query_attention, else x 3), with a bias when ``add_bias_linear or add_qkv_bias``; ``self_attention.dense``
kv_channels x heads -> hidden (bias: ``add_bias_linear``); ``post_attention_layernorm``; ``mlp.dense_h_to_4h``
hidden -> 2 x ffn_hidden_size (SwiGLU's two halves) and ``mlp.dense_4h_to_h`` back (bias: ``add_bias_linear``); the
norms are RMSNorm (one weight) with ``rmsnorm``, else torch's LayerNorm (weight and bias);
``transformer.encoder.final_layernorm`` only with ``post_layer_norm``; ``transformer.output_layer`` (hidden ->
padded_vocab_size, no bias, never tied: the classes define no output embeddings to tie).

Declined (None, so the meta-device build with --trust-remote-code decides): ChatGLM-6B v1 (``inner_hidden_size``,
``position_encoding_2d``, no ``padded_vocab_size``: another architecture), ``quantization_bit`` other than 0 (the
vendor's INT4/INT8 packing replaces the linear weights), ``pre_seq_len`` set (the P-tuning prefix encoder), tied
embeddings, a flag left to the vendor's default, ``vocab_size`` / ``num_hidden_layers`` differing from
``padded_vocab_size`` / ``num_layers`` (the code reads only the latter), any key not listed below."""

from __future__ import annotations

from typing import Any

from benchseal.bench.model.analytic.common import _NEUTRAL, Item, _int, _lin

_SHAPES = ("num_layers", "padded_vocab_size", "hidden_size", "ffn_hidden_size", "kv_channels", "num_attention_heads")
_FLAGS = ("add_bias_linear", "add_qkv_bias", "multi_query_attention", "rmsnorm", "post_layer_norm")
# read by the vendor's code without changing any tensor: numerics, dropout, the RoPE cache length and base, fusion
# switches; classifier_dropout only by ChatGLMForSequenceClassification; prefix_projection only with pre_seq_len
_NUMERIC = frozenset({"apply_query_key_layer_scaling", "apply_residual_connection_post_layernorm",
                      "attention_softmax_in_fp32", "bias_dropout_fusion", "fp32_residual_connection", "hidden_dropout",
                      "layernorm_epsilon", "original_rope", "rope_ratio", "seq_length", "classifier_dropout",
                      "prefix_projection"})
# in the first published ChatGLM2-6B config.json and in CodeGeeX2-6B's; read by none of the modeling files
_UNREAD = frozenset({"interleaved_qkv", "rotary_percent"})
# checked one by one below
_CHECKED = frozenset({"multi_query_group_num", "quantization_bit", "pre_seq_len", "vocab_size", "num_hidden_layers"})
_KEYS = frozenset({*_SHAPES, *_FLAGS, *_NUMERIC, *_UNREAD, *_CHECKED})
_ARCHS = (["ChatGLMModel"], ["ChatGLMForConditionalGeneration"])  # the published files name ChatGLMModel
_CLASS = "modeling_chatglm.ChatGLMForConditionalGeneration"


def _auto_map_ok(auto_map: Any) -> bool:
    """auto_map absent, or its causal-LM / base entries name the vendor's ChatGLMForConditionalGeneration (written
    plain or with the hub's ``owner/repo--`` prefix)."""
    if auto_map is None:
        return True
    if not isinstance(auto_map, dict):
        return False
    return all(isinstance(auto_map[k], str) and auto_map[k].split("--")[-1] == _CLASS
               for k in ("AutoModelForCausalLM", "AutoModel") if k in auto_map)


def chatglm(config: dict[str, Any]) -> tuple[list[Item], int] | None:
    """(tensors, elements of persistent buffers among them) of the vendor's ChatGLMForConditionalGeneration, or None."""
    c = config
    if any(k not in _NEUTRAL and k not in _KEYS for k in c) or not all(_int(c.get(k)) and c[k] > 0 for k in _SHAPES):
        return None
    if not all(type(c.get(k)) is bool for k in _FLAGS) or type(c.get("prefix_projection", False)) is not bool:
        return None
    if c.get("architectures", _ARCHS[0]) not in _ARCHS or not _auto_map_ok(c.get("auto_map")):
        return None
    if c.get("tie_word_embeddings", False) is not False or c.get("pre_seq_len") is not None:
        return None
    if c.get("quantization_bit", 0) != 0 or type(c.get("quantization_bit", 0)) is not int:
        return None
    if c.get("vocab_size", c["padded_vocab_size"]) != c["padded_vocab_size"]:
        return None
    if c.get("num_hidden_layers", c["num_layers"]) != c["num_layers"]:
        return None
    groups = c.get("multi_query_group_num")
    if c["multi_query_attention"] and not (_int(groups) and groups > 0):
        return None
    h, v, f, kv, nq = (c["hidden_size"], c["padded_vocab_size"], c["ffn_hidden_size"], c["kv_channels"],
                       c["num_attention_heads"])
    bias = c["add_bias_linear"]
    proj = kv * nq
    qkv = proj + 2 * kv * groups if c["multi_query_attention"] else 3 * proj

    def norm(name: str) -> list[Item]:
        return [(name + ".weight", h)] if c["rmsnorm"] else [(name + ".weight", h), (name + ".bias", h)]

    inv_freq = len(range(0, kv // 2, 2))  # RotaryEmbedding(kv_channels // 2): arange(0, dim, 2)
    items: list[Item] = [("transformer.embedding.word_embeddings.weight", v * h),
                         ("transformer.rotary_pos_emb.inv_freq", inv_freq)]
    for i in range(c["num_layers"]):
        p = f"transformer.encoder.layers.{i}."
        items += (norm(p + "input_layernorm")
                  + _lin(p + "self_attention.query_key_value", qkv, h, bias or c["add_qkv_bias"])
                  + _lin(p + "self_attention.dense", h, proj, bias)
                  + norm(p + "post_attention_layernorm")
                  + _lin(p + "mlp.dense_h_to_4h", 2 * f, h, bias) + _lin(p + "mlp.dense_4h_to_h", h, f, bias))
    if c["post_layer_norm"]:
        items += norm("transformer.encoder.final_layernorm")
    items.append(("transformer.output_layer.weight", v * h))
    return items, inv_freq
