"""Remote-code architectures counted from config.json without torch and without running vendor code
(benchseal/bench/model/analytic/remote.py), against ground truth nobody here tuned.

MiniMax-M1 (minimax_m1): the published checkpoint index (model.safetensors.index.json of MiniMaxAI/MiniMax-M1, in
the public copy github.com/Mind-Vault-AI/MiniMax-M1 at e8e65adb296d73870baf3c32d963cd559e5abefe): its 8,243 tensor
names (below as name patterns with counts) and its metadata.total_size, 912,210,767,872 bytes; and the model card's
"456 billion parameters with 45.9 billion parameters activated per token".

InternLM2 (internlm2): internlm/internlm2-chat-7b's model.safetensors.index.json (public copy of the repository
github.com/NanSang2000/S1mpleAgent at 4275caa205dbb8ff83930e2c1ce6bc62ec49329c): total_size 15,475,417,088 bytes,
bfloat16 (config torch_dtype), and its tensor names; card: "7 billion parameter".

Baichuan 2 (baichuan): baichuan-inc/Baichuan2-13B-Chat's pytorch_model.bin.index.json (public copy
github.com/jrd77/Baichuan2-13B-Chat at d022d7264467b2c3bc483e7a3a17105dedba50b8): total_size 27,793,336,320
bytes, bfloat16 (config torch_dtype), and its tensor names; card: 13B."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from benchseal.bench.model.analytic import analytic_items
from benchseal.bench.model.params_config import count_analytic, count_from_config
from benchseal.testing import published_configs_current as C

# the weight_map of the published index, layer and expert indices written as '#', with how often each occurs
M1_INDEX_PATTERNS = {
    "lm_head.weight": 1, "model.embed_tokens.weight": 1, "model.norm.weight": 1,
    "model.layers.#.block_sparse_moe.experts.#.w1.weight": 2560,
    "model.layers.#.block_sparse_moe.experts.#.w2.weight": 2560,
    "model.layers.#.block_sparse_moe.experts.#.w3.weight": 2560,
    "model.layers.#.block_sparse_moe.gate.weight": 80, "model.layers.#.input_layernorm.weight": 80,
    "model.layers.#.post_attention_layernorm.weight": 80, "model.layers.#.self_attn.k_proj.weight": 10,
    "model.layers.#.self_attn.norm.weight": 70, "model.layers.#.self_attn.o_proj.weight": 10,
    "model.layers.#.self_attn.out_proj.weight": 70, "model.layers.#.self_attn.output_gate.weight": 70,
    "model.layers.#.self_attn.q_proj.weight": 10, "model.layers.#.self_attn.qkv_proj.weight": 70,
    "model.layers.#.self_attn.v_proj.weight": 10,
}
M1_TOTAL_SIZE = 912_210_767_872


def test_minimax_m1_names_are_the_published_index():
    items = analytic_items(C.MINIMAX_M1)[0]
    assert Counter(re.sub(r"\.\d+\.", ".#.", n) for n, _ in items) == Counter(M1_INDEX_PATTERNS)
    assert sum(M1_INDEX_PATTERNS.values()) == 8243 == len(items)


def test_minimax_m1_equals_the_published_total_size():
    """config.json names no dtype; the checkpoint is bfloat16 (2 bytes) except the 80 router gates, whose
    15,728,640 elements take 4 bytes: 2 x 456,089,655,296 + 2 x 15,728,640 = 912,210,767,872 exactly (a gate in
    bfloat16 would leave 31,457,280 bytes unexplained; no other split of the tensors into 2- and 4-byte groups
    is needed)."""
    pc = count_analytic(C.MINIMAX_M1)
    gates = pc.breakdown["router"]
    assert gates == 80 * 32 * 6144
    assert 2 * pc.total + 2 * gates == M1_TOTAL_SIZE
    assert pc.total == 456_089_655_296 and round(pc.total / 1e9) == 456  # card: 456B


def test_minimax_m1_active_is_the_cards_without_embedding_and_head():
    pc = count_analytic(C.MINIMAX_M1)
    assert (pc.experts, pc.experts_per_token) == (32, 2)
    assert round(pc.active_by_convention["no_embedding_or_head"] / 1e9, 1) == 45.9  # card: 45.9B activated
    assert round(pc.active / 1e9, 1) == 48.4  # with the embedding and the output head (1.23B each)


def test_minimax_m1_says_whose_code_and_runs_none():
    pc = count_from_config(C.MINIMAX_M1)
    assert "vendor's MiniMaxM1ForCausalLM" in pc.notes[0] and "e8e65adb296d73870baf3c32d963cd559e5abefe" in pc.notes[0]
    assert not any("native" in n for n in pc.notes)
    crossed = count_from_config(C.MINIMAX_M1, meta=True)  # --cross-check without --trust-remote-code
    assert crossed.total == pc.total and any("cross-check: not made" in n for n in crossed.notes)


@pytest.mark.parametrize("change", [
    {"shared_intermediate_size": 9216}, {"attn_type_list": [0] * 79}, {"attn_type_list": [2] * 80},
    {"tie_word_embeddings": True}, {"some_new_width": 8}, {"head_dim": None}, {"architectures": ["MiniMaxM1Model"]},
])
def test_minimax_m1_declines_what_it_was_not_checked_on(change):
    assert count_analytic({**C.MINIMAX_M1, **change}) is None  # then the vendor's code decides (--trust-remote-code)


# the weight maps of the two published indexes, as name patterns with counts
IL2_INDEX_PATTERNS = {
    "model.tok_embeddings.weight": 1, "model.norm.weight": 1, "output.weight": 1,
    **{f"model.layers.#.{n}.weight": 32 for n in ("attention.wo", "attention.wqkv", "attention_norm", "feed_forward.w1",
                                                   "feed_forward.w2", "feed_forward.w3", "ffn_norm")},
}
BC_INDEX_PATTERNS = {
    "model.embed_tokens.weight": 1, "model.norm.weight": 1, "lm_head.weight": 1,
    **{f"model.layers.#.{n}.weight": 40 for n in ("input_layernorm", "mlp.down_proj", "mlp.gate_proj", "mlp.up_proj",
                                                   "post_attention_layernorm", "self_attn.W_pack", "self_attn.o_proj")},
}


@pytest.mark.parametrize("cfg,patterns,total_size,card_b", [
    (C.INTERNLM2_CHAT_7B, IL2_INDEX_PATTERNS, 15_475_417_088, 7),
    (C.BAICHUAN2_13B_CHAT, BC_INDEX_PATTERNS, 27_793_336_320, 13),
], ids=["internlm2-chat-7b", "baichuan2-13b-chat"])
def test_dense_remote_code_models_equal_their_published_index(cfg, patterns, total_size, card_b):
    assert cfg["torch_dtype"] == "bfloat16"  # 2 bytes per parameter, every tensor
    items = analytic_items(cfg)[0]
    assert Counter(re.sub(r"\.\d+\.", ".#.", n) for n, _ in items) == Counter(patterns)
    pc = count_analytic(cfg)
    assert 2 * pc.total == total_size
    assert int(pc.total / 1e9) == card_b  # the cards' 7B and 13B (7.74B, 13.90B)
    assert pc.breakdown["lm_head"] == pc.breakdown["embedding"] > 0  # output / lm_head found, not tied
    assert "vendor's" in pc.notes[0] and "no remote code run" in pc.notes[0]


@pytest.mark.parametrize("cfg,change", [
    (C.INTERNLM2_CHAT_7B, {"bias": "no"}), (C.INTERNLM2_CHAT_7B, {"num_key_value_heads": None}),
    (C.INTERNLM2_CHAT_7B, {"tie_word_embeddings": True}), (C.INTERNLM2_CHAT_7B, {"some_new_width": 8}),
    (C.INTERNLM2_CHAT_7B, {"architectures": ["InternLM2ForRewardModel"]}),
    (C.BAICHUAN2_13B_CHAT, {"hidden_size": 5121}), (C.BAICHUAN2_13B_CHAT, {"num_key_value_heads": 8}),
    (C.BAICHUAN2_13B_CHAT, {"architectures": ["BaiChuanForCausalLM"]}),
])
def test_dense_remote_code_declines_what_it_was_not_checked_on(cfg, change):
    assert count_analytic({**cfg, **change}) is None


def test_internlm2_bias_default_is_the_vendors():
    """InternLM2Config's bias defaults to True (configuration_internlm2.py of the same copy): without the key, the
    projections carry biases."""
    cfg = {k: v for k, v in C.INTERNLM2_CHAT_7B.items() if k != "bias"}
    assert count_analytic(cfg).total == count_analytic(C.INTERNLM2_CHAT_7B).total + 32 * (6144 + 4096)


# Step 3 (step3_text). No copy of stepfun-ai/step3's config.json or model.safetensors.index.json was found in any
# indexed public source, so this is NOT the published config: it is Step3TextConfig() with its defaults, as written
# in SGLang's python/sglang/srt/configs/step3_vl.py (sgl-project/sglang at ce5a97ee514ec3e599d15e44b6d358f6c7883dec;
# vLLM ships the same class), field for field, nothing added. The model card (huggingface.co/stepfun-ai/step3,
# github.com/stepfun-ai/Step3) states independently: 61 layers of which 5 dense, hidden 7168, low-rank query 2048,
# 64 query heads of 256, 48 experts, 3 per token, 1 shared expert, context 65536, and "Total Parameters (LLM) 316B",
# "Activated Params per Token 38B", "Total Parameters (VLM) 321B". The widths the card does not state
# (intermediate_size, moe_intermediate_size, share_expert_dim, vocab_size) are checked only through the totals.
STEP3_TEXT_DEFAULTS = {
    "architectures": ["Step3TextForCausalLM"], "model_type": "step3_text",
    "hidden_size": 7168, "intermediate_size": 18432, "num_attention_heads": 64, "num_attention_groups": 1,
    "num_hidden_layers": 61, "max_seq_len": 65536, "vocab_size": 128815, "rms_norm_eps": 1e-5,
    "moe_intermediate_size": 5120, "moe_num_experts": 48, "moe_top_k": 3, "rope_theta": 500000, "rope_scaling": None,
    "max_position_embedding": 65536, "share_expert_dim": 5120, "share_q_dim": 2048, "head_dim": 256,
    "norm_expert_weight": False, "moe_layers_enum": list(range(4, 60)),
}


def test_step3_text_card_layout_and_totals():
    cfg = STEP3_TEXT_DEFAULTS
    assert 61 - len(cfg["moe_layers_enum"]) == 5  # card: 61 layers, 5 dense
    items = analytic_items(cfg)[0]
    pats = Counter(re.sub(r"\.\d+\.", ".#.", n) for n, _ in items)
    assert pats["model.layers.#.mlp.up_proj.weight"] == 5 and pats["model.layers.#.share_expert.up_proj.weight"] == 56
    assert pats["model.layers.#.moe.gate_proj.weight"] == 56 and pats["model.layers.#.self_attn.wq.weight"] == 61
    pc = count_analytic(cfg)
    assert pc.total == 316_294_538_240 and round(pc.total / 1e9) == 316  # card: "Total Parameters (LLM) 316B"
    assert (pc.experts, pc.experts_per_token) == (48, 3)
    assert pc.breakdown["experts"] == 56 * 3 * 48 * 5120 * 7168 and pc.breakdown["router"] == 56 * 48 * 7168
    assert pc.breakdown["shared_experts"] == 56 * 3 * 5120 * 7168 and pc.breakdown.get("other", 0) == 0
    # card: "Activated Params per Token 38B": 38.84B with the embedding and head (headline), 36.99B without them
    assert int(pc.active / 1e9) == 38 and round(pc.active_by_convention["no_embedding_or_head"] / 1e9) == 37
    assert "vendor's Step3TextForCausalLM" in pc.notes[0] and "no remote code run" in pc.notes[0]


def test_step3_moe_layers_enum_as_the_vendor_code_reads_it():
    """modeling_step3.py parses moe_layers_enum as a comma-separated string; SGLang's / vLLM's default is a tuple."""
    as_text = {**STEP3_TEXT_DEFAULTS, "moe_layers_enum": ",".join(map(str, range(4, 60)))}
    assert count_analytic(as_text).total == count_analytic(STEP3_TEXT_DEFAULTS).total
    absent = {k: v for k, v in STEP3_TEXT_DEFAULTS.items() if k != "moe_layers_enum"}
    assert count_analytic(absent).total == count_analytic(STEP3_TEXT_DEFAULTS).total + 4 * 3 * 7168 * (
        48 * 5120 + 5120 - 18432) + 4 * 48 * 7168  # all but layer 0 routed (the vendor's default)


@pytest.mark.parametrize("change", [
    {"num_attention_groups": 8}, {"moe_layers_enum": "4,5,61"}, {"moe_layers_enum": "4,4"}, {"moe_layers_enum": 4},
    {"tie_word_embeddings": True}, {"some_new_width": 8}, {"share_q_dim": None}, {"moe_top_k": 49},
    {"architectures": ["Step3VLForConditionalGeneration"]}, {"model_type": "step3_vl"},
])
def test_step3_declines_what_it_was_not_checked_on(change):
    """step3_vl (the published checkpoint's type) is declined: its vision encoder and projector are not counted here."""
    assert count_analytic({**STEP3_TEXT_DEFAULTS, **change}) is None
