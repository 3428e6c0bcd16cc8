"""Issue 26, held-out check (round 4): the families made analytic in this round (analytic/dense.py, analytic/vl.py)
equal transformers' meta-device build on their published configs (benchseal/testing/published_configs_round4.py)
and on a few variants that reach their other branches; what they do not understand, they decline."""

from __future__ import annotations

import pytest

from benchseal.bench.model.params_config import count_analytic, count_meta
from benchseal.testing import published_configs_round4 as R

_DROP = object()
NEW_FAMILIES = ["SMOLLM3_3B", "SEED_OSS_36B", "HY_MT2_7B", "GEMMA2_9B", "QWEN3_VL_4B", "MISTRAL_SMALL_32_24B", "GLM45V",
                "QWEN3_VL_30B_A3B"]


def _v(base: dict, change: dict, sub: str | None = None) -> dict:
    if sub:
        return {**base, sub: {k: v for k, v in {**base[sub], **change}.items() if v is not _DROP}}
    return {k: v for k, v in {**base, **change}.items() if v is not _DROP}


def _same(cfg: dict) -> None:
    a = count_analytic(cfg)
    assert a is not None, cfg
    assert a.model_dump(exclude={"notes"}) == count_meta(cfg).model_dump(exclude={"notes"})


@pytest.mark.parametrize("name", NEW_FAMILIES)
def test_published_config_equals_meta(name):
    _same(getattr(R, name))


_VARIANTS = [
    _v(R.SEED_OSS_36B, {"num_hidden_layers": 2, "attention_out_bias": True, "mlp_bias": True, "tie_word_embeddings": True}),
    _v(R.GEMMA2_9B, {"num_hidden_layers": 3, "attention_bias": True, "tie_word_embeddings": _DROP}),
    _v(R.SMOLLM3_3B, {"num_hidden_layers": 4, "no_rope_layers": _DROP, "layer_types": _DROP, "attention_bias": True,
                      "mlp_bias": True, "tie_word_embeddings": False}),
    _v(R.HY_MT2_7B, {"num_hidden_layers": 2, "attention_bias": True, "tie_word_embeddings": False}),
    _v(R.QWEN3_VL_4B, {"tie_word_embeddings": False}, "text_config") | {"tie_word_embeddings": False},
    _v(R.MISTRAL_SMALL_32_24B, {"vision_feature_layer": [-1, -2], "multimodal_projector_bias": True,
                                "tie_word_embeddings": False, "spatial_merge_size": 1}),
    _v(R.GLM45V, {"num_hidden_layers": 3, "first_k_dense_replace": 2, "n_shared_experts": 2}, "text_config"),
    _v(R.QWEN3_VL_30B_A3B, {"num_hidden_layers": 4, "decoder_sparse_step": 2, "mlp_only_layers": [3]}, "text_config"),
    # tie stated nowhere: the text model's default (Qwen3VLMoeTextConfig: true) on both counts
    _v(_v(R.QWEN3_VL_30B_A3B, {"num_hidden_layers": 2}, "text_config"), {"tie_word_embeddings": _DROP}),
]


@pytest.mark.parametrize("i", range(len(_VARIANTS)))
def test_variants_equal_meta(i):
    _same(_VARIANTS[i])


@pytest.mark.parametrize("cfg", [
    _v(R.HY_MT2_7B, {"use_cla": True}),  # cross-layer attention shares K/V projections: not what transformers builds
    _v(R.HY_MT2_7B, {"attention_head_dim": 64}),  # disagrees with head_dim
    _v(R.SMOLLM3_3B, {"no_rope_layers": [1, 0]}),  # not one per layer: transformers indexes it by layer
    _v(R.GLM45V, {"use_qk_norm": True}, "text_config"),  # transformers builds no q/k norm whatever this says
    _v(R.QWEN3_VL_4B, {"tie_word_embeddings": False}, "text_config"),  # disagrees with the top-level flag
])
def test_what_is_not_understood_is_declined(cfg):
    assert count_analytic(cfg) is None


def test_unstated_tie_table_is_transformers_class_defaults():
    """analytic/vl.UNSTATED_TIE holds (the composite config class's tie_word_embeddings default, its text model
    class's) for each analytic family the rule applies to; they must be transformers' and differ."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from benchseal.bench.model.analytic.vl import UNSTATED_TIE

    text_type = {"mistral3": "mistral", "qwen3_vl_moe": "qwen3_vl_moe_text"}
    for model_type, (composite, text) in UNSTATED_TIE.items():
        assert CONFIG_MAPPING[model_type].tie_word_embeddings is composite
        assert CONFIG_MAPPING[text_type[model_type]].tie_word_embeddings is text and composite != text


def test_meta_count_reads_an_unstated_tie_as_the_text_model_does():
    # Mistral-Small-3.2's file states no tie: transformers 5's Mistral3Config would tie lm_head (default true) and drop
    # the 671M-element head that the published checkpoints store; both counts read MistralConfig's false instead
    m = count_meta(R.MISTRAL_SMALL_32_24B)
    assert m.breakdown["lm_head"] == 131072 * 5120
    assert any("stated neither at the top level nor in text_config" in n for n in m.notes)
    assert "lm_head" not in count_meta({**R.MISTRAL_SMALL_32_24B, "tie_word_embeddings": True}).breakdown
