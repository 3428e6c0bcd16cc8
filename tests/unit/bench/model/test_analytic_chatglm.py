"""ChatGLM2 / ChatGLM3 / CodeGeeX2 / GLM-4 (remote code, model_type chatglm) counted from config.json without torch
and without running THUDM's code (benchseal/bench/model/analytic/chatglm.py), against ground truth nobody here tuned.

ChatGLM2-6B, ChatGLM3-6B, CodeGeeX2-6B: the published pytorch_model.bin.index.json of each, in the public copies of
the model repositories named in benchseal/testing/published_configs_glm.py: their tensor names (below as name
patterns with counts; the three are identical) and metadata.total_size, 12,487,168,064 bytes each, two bytes per
element (float16, float16, bfloat16 as the configs' torch_dtype says).

GLM-4-9B-Chat (no copy of its index found): the parameters of the vendor's ChatGLMForConditionalGeneration as
published in a public loading log ("9399951360 (100.00%) are trainable") and by chatglm.cpp ("9399951360 (9.4B)");
the names of the vendor module's state_dict as a public copy of the modeling file lists them (stored-source file
id 52404105217: "transformer.embedding.word_embeddings.weight", seven per layer, "transformer.output_layer.weight",
"transformer.rotary_pos_emb.inv_freq"; the final norm is the code's post_layer_norm); and transformers' own port of
the same checkpoint (GlmForCausalLM: its conversion script, huggingface/transformers
src/transformers/models/glm/convert_glm_weights_to_hf.py, renames the chatglm parameters onto it by prefix and
loads them strictly), counted by the analytic count that tests/integration/bench/model/test_analytic_parity.py
checks against transformers. Whether GLM-4's checkpoint stores inv_freq is not known here: it is not counted either
way."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from benchseal.bench.model.analytic import analytic_items
from benchseal.bench.model.params_config import count_analytic, count_from_config
from benchseal.testing import published_configs as P
from benchseal.testing import published_configs_glm as G

_L = "transformer.encoder.layers.#."
PER_LAYER = ("input_layernorm.weight", "self_attention.query_key_value.weight", "self_attention.query_key_value.bias",
             "self_attention.dense.weight", "post_attention_layernorm.weight", "mlp.dense_h_to_4h.weight",
             "mlp.dense_4h_to_h.weight")


def index_patterns(layers: int) -> dict[str, int]:
    """The weight_map of the published indexes, layer indices written as '#', with how often each occurs."""
    return {"transformer.embedding.word_embeddings.weight": 1, "transformer.encoder.final_layernorm.weight": 1,
            "transformer.output_layer.weight": 1, "transformer.rotary_pos_emb.inv_freq": 1,
            **{_L + n: layers for n in PER_LAYER}}


def patterns(cfg) -> Counter:
    return Counter(re.sub(r"\.\d+\.", ".#.", n) for n, _ in analytic_items(cfg)[0])


INDEX_TOTAL_SIZE = 12_487_168_064


@pytest.mark.parametrize("cfg", [G.CHATGLM2_6B, G.CHATGLM3_6B, G.CODEGEEX2_6B], ids=["chatglm2-6b", "chatglm3-6b",
                                                                                  "codegeex2-6b"])
def test_six_b_models_equal_their_published_index(cfg):
    assert patterns(cfg) == Counter(index_patterns(28)) and sum(patterns(cfg).values()) == 200
    pc = count_analytic(cfg)
    # the index stores every parameter and the 32-element inv_freq buffer, two bytes each
    assert pc.excluded == {"rotary_buffers": 32}
    assert 2 * (pc.total + pc.excluded["rotary_buffers"]) == INDEX_TOTAL_SIZE
    assert pc.total == 6_243_584_000 and int(pc.total / 1e9) == 6  # cards: 6B
    assert pc.breakdown["lm_head"] == pc.breakdown["embedding"] == 65024 * 4096  # transformer.output_layer, untied
    assert "other" not in pc.breakdown and pc.dtype == cfg["torch_dtype"]
    assert not any("persistent buffers" in n for n in pc.notes)  # the one buffer, inv_freq, is not counted
    assert "vendor's ChatGLMForConditionalGeneration" in pc.notes[0] and "no remote code run" in pc.notes[0]


def test_glm4_9b_chat_equals_the_published_count_and_transformers_port():
    pc = count_analytic(G.GLM4_9B_CHAT)
    assert pc.total == 9_399_951_360  # the vendor class's parameters, as published (module docstring)
    assert patterns(G.GLM4_9B_CHAT) == Counter(index_patterns(40))
    assert pc.excluded == {"rotary_buffers": 32}
    port = count_analytic(P.GLM4_9B)  # GlmForCausalLM: THUDM/glm-4-9b-chat-hf, "9.4B"
    assert (pc.total, pc.embedding, pc.active) == (port.total, port.embedding, port.active)
    assert pc.breakdown == port.breakdown and pc.active_by_convention == port.active_by_convention
    # Zhipu's convention (without the embedding and the output head): 8.16B
    assert round(pc.active_by_convention["no_embedding_or_head"] / 1e9, 2) == 8.16


def test_glm4_printout_spellings_are_accepted():
    """The ChatGLMConfig transformers printed for the same checkpoint (published_configs_glm): auto_map entries
    qualified with the hub repository, classifier_dropout null, vocab_size equal to padded_vocab_size."""
    printed = {**G.GLM4_9B_CHAT, "classifier_dropout": None, "vocab_size": 151552, "transformers_version": "4.43.4",
               "auto_map": {k: "THUDM/glm-4-9b-chat--" + v for k, v in G.GLM4_9B_CHAT["auto_map"].items()}}
    assert count_analytic(printed).total == count_analytic(G.GLM4_9B_CHAT).total
    saved = {**G.CHATGLM3_6B, "architectures": ["ChatGLMForConditionalGeneration"]}  # as save_pretrained writes it
    assert count_analytic(saved).total == 6_243_584_000


def test_branches_of_the_vendor_code():
    base, h, f, n = G.CHATGLM3_6B, 4096, 13696, 28
    total = count_analytic(base).total
    # LayerNorm (weight and bias) instead of RMSNorm: 2 per layer + the final one gain a bias
    assert count_analytic({**base, "rmsnorm": False}).total == total + (2 * n + 1) * h
    # add_bias_linear: dense, dense_h_to_4h and dense_4h_to_h gain biases (query_key_value already has one)
    assert count_analytic({**base, "add_bias_linear": True}).total == total + n * (h + 2 * f + h)
    # without multi-query attention, query_key_value is 3 x heads x kv_channels wide
    assert count_analytic({**base, "multi_query_attention": False}).total == total + n * (3 * h - (h + 2 * 2 * 128)) * (h + 1)
    assert count_analytic({**base, "add_qkv_bias": False}).total == total - n * (h + 2 * 2 * 128)
    no_final = count_analytic({**base, "post_layer_norm": False})
    assert no_final.total == total - h and "transformer.encoder.final_layernorm.weight" not in dict(
        analytic_items({**base, "post_layer_norm": False})[0])
    assert count_analytic({**base, "rope_ratio": 50, "seq_length": 32768}).total == total  # ChatGLM3-6B-32K's fields


@pytest.mark.parametrize("change", [
    {"quantization_bit": 4},  # THUDM/chatglm2-6b-int4's published value: the vendor packs the weights
    {"pre_seq_len": 128}, {"tie_word_embeddings": True}, {"vocab_size": 65000}, {"num_hidden_layers": 40},
    {"multi_query_group_num": None}, {"rmsnorm": "true"}, {"kv_channels": None}, {"some_new_width": 8},
    {"architectures": ["ChatGLMForSequenceClassification"]},
    {"auto_map": {**G.CHATGLM3_6B["auto_map"], "AutoModelForCausalLM": "modeling_chatglm.SomethingElse"}},
    {"quantization_bit": False}, {"prefix_projection": 1},
])
def test_declines_what_it_was_not_checked_on(change):
    assert count_analytic({**G.CHATGLM3_6B, **change}) is None  # then the vendor's code decides (--trust-remote-code)


def test_declines_a_flag_left_to_the_vendors_default_and_chatglm_v1():
    assert count_analytic({k: v for k, v in G.CHATGLM3_6B.items() if k != "add_qkv_bias"}) is None
    assert count_analytic(G.CHATGLM_6B_V1) is None  # ChatGLM-6B: another architecture (inner_hidden_size, 2D positions)


def test_config_only_count_runs_no_remote_code(tmp_path, run_cli):
    pc = count_from_config(G.GLM4_9B_CHAT)
    assert "vendor's ChatGLMForConditionalGeneration" in pc.notes[0] and not any("by building" in n for n in pc.notes)
    crossed = count_from_config(G.GLM4_9B_CHAT, meta=True)  # --cross-check without --trust-remote-code
    assert crossed.total == pc.total and any("cross-check: not made" in n for n in crossed.notes)
    (tmp_path / "config.json").write_text(json.dumps(G.CHATGLM3_6B))
    code, out, err = run_cli("params", tmp_path / "config.json")
    assert code == 0 and "6,243,584,000" in out and "Traceback" not in err


def test_header_count_of_the_same_layout_and_a_stray_prefix_encoder(tmp_path):
    """A header-only checkpoint with the tensor names and shapes of the vendor's modules (bf16, as GLM-4-9B-Chat's
    config says) counts what the config-only count says; a P-tuning prefix encoder stored beside it (its shape as
    PrefixEncoder builds it: pre_seq_len x num_layers * kv_channels * multi_query_group_num * 2), which a config
    without pre_seq_len never builds, is left out as not built."""
    from benchseal.bench.model.files import resolve
    from benchseal.bench.model.params import count_safetensors
    from benchseal.testing.safetensors_files import write_sharded

    c = G.GLM4_9B_CHAT
    h, f, v, kv, g, n = (c["hidden_size"], c["ffn_hidden_size"], c["padded_vocab_size"], c["kv_channels"],
                         c["multi_query_group_num"], c["num_layers"])
    qkv = c["num_attention_heads"] * kv + 2 * g * kv
    t = {"transformer.embedding.word_embeddings.weight": ("BF16", [v, h]),
         "transformer.rotary_pos_emb.inv_freq": ("BF16", [kv // 4]),
         "transformer.encoder.final_layernorm.weight": ("BF16", [h]), "transformer.output_layer.weight": ("BF16", [v, h])}
    for i in range(n):
        p = f"transformer.encoder.layers.{i}."
        t |= {p + "input_layernorm.weight": ("BF16", [h]), p + "post_attention_layernorm.weight": ("BF16", [h]),
              p + "self_attention.query_key_value.weight": ("BF16", [qkv, h]),
              p + "self_attention.query_key_value.bias": ("BF16", [qkv]), p + "self_attention.dense.weight": ("BF16", [h, h]),
              p + "mlp.dense_h_to_4h.weight": ("BF16", [2 * f, h]), p + "mlp.dense_4h_to_h.weight": ("BF16", [h, f])}
    assert sorted(t) == sorted(n for n, _ in analytic_items(c)[0])
    stray = {"transformer.prefix_encoder.embedding.weight": ("BF16", [128, n * kv * g * 2])}
    pc = count_safetensors(resolve(write_sharded(tmp_path / "glm4", [t, stray], c)))
    assert pc.total == count_analytic(c).total == 9_399_951_360
    assert pc.excluded == {"rotary_buffers": 32, "not_built_by_architecture": 128 * n * kv * g * 2}
