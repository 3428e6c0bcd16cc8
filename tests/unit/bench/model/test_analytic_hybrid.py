"""The torch-free config-only count of MiniMax-M2, Llama 4 and Kimi-Linear (benchseal/bench/model/analytic/hybrid.py)
against the vendors' published figures; tests/integration/bench/model/test_analytic_hybrid.py checks the same
configs equal to transformers' meta-device build."""

from __future__ import annotations

import copy

import pytest

from benchseal.bench.model.params_config import count_analytic, count_from_config
from benchseal.testing import published_configs as P
from benchseal.testing import published_configs_current as C


def test_minimax_m2_card_figures():
    """MiniMax-M2 model card: 230B total, 10B activated. Counted without torch."""
    pc = count_analytic(C.MINIMAX_M2)
    assert pc is not None and any("counted analytically" in n and "MiniMaxM2ForCausalLM" in n for n in pc.notes)
    assert pc.total == 228_689_764_864 and round(pc.total / 1e9, -1) == 230
    assert (pc.experts, pc.experts_per_token) == (256, 8)
    # 11.03B with the embedding and the output head; MiniMax's 10B leaves both out (9.80B)
    assert round(pc.active_by_convention["no_embedding_or_head"] / 1e9) == 10
    assert pc.quantization == "fp8"


def test_llama4_scout_is_analytic_and_exact():
    """Llama-4-Scout: the hub's safetensors count 108,641,793,536 (see test_params_issue12), now without torch."""
    pc = count_from_config(P.LLAMA4_SCOUT)
    assert any("counted analytically" in n and "Llama4ForConditionalGeneration" in n for n in pc.notes)
    assert pc.total == 108_641_793_536
    assert round(pc.active_by_convention["no_vision_audio"] / 1e9) == 17


def _kimi_linear_with_kda() -> dict:
    cfg = copy.deepcopy(C.KIMI_LINEAR_48B_A3B)
    full = cfg["linear_attn_config"]["full_attn_layers"]
    cfg["linear_attn_config"]["kda_layers"] = [i for i in range(1, 28) if i not in full]
    return cfg


def test_kimi_linear_with_both_layer_lists_is_analytic():
    pc = count_analytic(_kimi_linear_with_kda())
    assert pc is not None and round(pc.total / 1e9) == 49
    assert round((pc.active - pc.embedding) / 1e9, 1) == 2.7  # card: 48B total, 3B activated


def test_kimi_linear_full_layers_alone_are_declined():
    """The public copy lists full_attn_layers but no kda_layers: transformers then ignores the list and builds its
    default layout (a full layer every 4th from layer 4, 0-based), which is not the one Moonshot declares
    (1-based 4, 8, ..., 24, 27). The analytic count declines rather than mirror that; the meta-device count decides."""
    assert count_analytic(C.KIMI_LINEAR_48B_A3B) is None


@pytest.mark.parametrize("change", [
    {"shared_intermediate_size": 1536}, {"use_qk_norm": False}, {"qk_norm_type": "per_head"},
    {"use_routing_bias": False}, {"attn_type_list": [0] + [1] * 61}, {"attention_bias": True},
    {"tie_word_embeddings": True}, {"head_dim": None}, {"some_new_width": 8}, {"architectures": ["MiniMaxM2Model"]},
])
def test_minimax_m2_vendor_fields_transformers_does_not_build_are_declined(change):
    assert count_analytic({**C.MINIMAX_M2, **change}) is None


@pytest.mark.parametrize("where,change", [
    ("vision_config", {"multi_modal_projector_bias": True}), ("text_config", {"intermediate_size_mlp": None}),
    ("text_config", {"moe_layers": [48]}), ("text_config", {"some_new_width": 8}), ("vision_config", {"depth": 3}),
])
def test_llama4_unknown_or_unbuilt_fields_are_declined(where, change):
    cfg = copy.deepcopy(P.LLAMA4_SCOUT)
    cfg[where] = {**cfg[where], **change}
    assert count_analytic(cfg) is None
