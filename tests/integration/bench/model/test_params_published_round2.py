"""Issue 12, second round: config-only counts of published config.json files (benchseal/testing/
published_configs.py, each with the public copy it was read from) against the figures the vendors'
model cards publish, at the rounding each card uses."""

from __future__ import annotations

from benchseal.bench.model.params_config import count_from_config
from benchseal.testing import published_configs as P


def test_deepseek_v2_236b_21b_active():
    pc = count_from_config(P.DEEPSEEK_V2)
    assert pc.total == 235_741_434_880
    assert round(pc.total / 1e9) == 236  # card: 236B total parameters
    assert (pc.experts, pc.experts_per_token) == (160, 6)
    # card: 21B activated per token; DeepSeek leaves out the input embedding (20.85B), every parameter gives 21.38B:
    # both round to the card's figure
    assert round(pc.active_by_convention["no_input_embedding"] / 1e9) == 21
    assert round(pc.active / 1e9) == 21
    assert pc.breakdown["shared_experts"] == 59 * 2 * 3 * 5120 * 1536  # 2 shared experts in the 59 MoE layers
    assert pc.breakdown["mlp"] == 3 * 5120 * 12288  # first_k_dense_replace=1: one dense layer


def test_qwen3_235b_a22b():
    pc = count_from_config(P.QWEN3_235B_A22B)
    assert pc.total == 235_093_634_560
    assert round(pc.total / 1e9) == 235  # card: 235B total
    assert round(pc.non_embedding / 1e9) == 234  # card: 234B non-embedding
    assert round(pc.active / 1e9) == 22  # card: 22B activated (Qwen counts every parameter)
    assert (pc.experts, pc.experts_per_token) == (128, 8)
    assert "mlp" not in pc.breakdown and "shared_experts" not in pc.breakdown  # every layer MoE, no shared expert


def test_ernie45_21b_a3b_card_truncates():
    pc = count_from_config(P.ERNIE45_21B_A3B)
    assert pc.total == 21_825_437_888
    # card: "21B" total, "3B" activated: Baidu truncates (21.83B, 3.35B), it does not round
    assert int(pc.total / 1e9) == 21 and int(pc.active / 1e9) == 3
    assert (pc.experts, pc.experts_per_token) == (64, 6)
    assert pc.breakdown["mlp"] == 3 * 2560 * 12288  # layer 0 is dense (moe_layer_start_index=1)
    assert pc.breakdown["shared_experts"] == 27 * 3 * 2560 * 2 * 1536  # 2 shared experts as one MLP, 27 MoE layers
    assert "lm_head" not in pc.breakdown  # tie_word_embeddings: one matrix, counted once


def test_phi35_moe_42b_6_6b_active():
    pc = count_from_config(P.PHI35_MOE)
    assert pc.total == 41_872_793_600
    assert round(pc.total / 1e9) == 42  # card: 42B total
    assert round(pc.active / 1e9, 1) == 6.6  # card: 6.6B active parameters with 2 of 16 experts
    assert (pc.experts, pc.experts_per_token) == (16, 2)


def test_gemma3_4b_report_table():
    pc = count_from_config(P.GEMMA3_4B)
    assert pc.total == 4_300_079_472
    assert round(pc.total / 1e8) == 43  # Hugging Face page: 4.3B
    h, v = 2560, 1152
    projector = v * h + v  # multi_modal_projector: input projection and its soft-emb norm
    assert round((pc.breakdown["vision"] - projector) / 1e6) == 417  # report Table 1: 417M vision encoder
    assert round((pc.non_embedding - pc.breakdown["vision"]) / 1e6) == 3209  # report: 3,209M non-embedding
    # tied embeddings: one 262,208 x 2,560 matrix (671.3M) is what the checkpoint stores and what benchseal counts.
    # The report's 675M "embedding" row is a different grouping (docs/model-inspection.md): the 262,144-token text
    # vocabulary (the config's 64 rows from 262,144 on are the image token and padding) plus the image-input
    # embedding, i.e. the projector and SigLIP's patch-embedding convolution. Of the 16 groupings tried (vocabulary
    # 262,144/262,208; projector, patch conv, position table in or out) it is the only one that also gives the
    # 12B and 27B rows (1,012M, 1,416M); the arithmetic is in the doc.
    assert pc.embedding == 262_208 * h and "lm_head" not in pc.breakdown
    patch_conv = 3 * 14 * 14 * v + v
    assert round((pc.embedding - 64 * h + projector + patch_conv) / 1e6) == 675
    for hidden, row in ((3840, 1012), (5376, 1416)):  # Gemma 3 12B and 27B: same SigLIP tower and vocabulary
        assert round((262_144 * hidden + v * hidden + v + patch_conv) / 1e6) == row
    assert pc.active_by_convention["no_vision_audio"] == pc.total - pc.breakdown["vision"]
