"""Issue 26 with transformers: the config-only counts of the published configs of
benchseal/testing/published_configs_current.py on the meta device (the class resolved through every auto
mapping, the MoE top-k under transformers' own spellings), and the tables benchseal keeps from transformers
(ignore-on-load patterns, MoE field names) checked against the installed transformers."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from benchseal.bench.model import analytic
from benchseal.bench.model.params_config import count_analytic, count_from_config, count_meta
from benchseal.bench.model.rules import E_KEYS, K_KEYS
from benchseal.bench.model.unused import IGNORE_ON_LOAD
from benchseal.testing import published_configs_current as C

from tests.unit.bench.model.test_params_current_formats import (
    K25_TOTAL, K25_VISION_TOTAL, NEMOTRON_ACTIVE, NEMOTRON_TOTAL,
)


@pytest.fixture(scope="module")
def kimi_k25():
    return count_meta(C.KIMI_K25)


def _same(a, m) -> None:
    assert a is not None
    assert a.model_dump(exclude={"notes"}) == m.model_dump(exclude={"notes"})


def test_kimi_k25_analytic_equals_meta(kimi_k25):
    """The 1T config counted without torch (analytic/kimi.py) equals transformers' meta-device build, every field."""
    a = count_analytic(C.KIMI_K25)
    _same(a, kimi_k25)
    _same(count_analytic(C.KIMI_K25_TOP_QUANT), kimi_k25)
    assert any("counted analytically" in n and "Kimi_K25ForConditionalGeneration" in n for n in a.notes)


_K25_TEXT, _K25_VISION = C.KIMI_K25["text_config"], C.KIMI_K25["vision_config"]
K25_VARIANTS = [
    {"text_config": {**_K25_TEXT, "num_hidden_layers": 3}},
    # transformers' own vision keys (the vendor's left out), small widths, a 3 x 1 merge, its projection width
    {"text_config": {**_K25_TEXT, "num_hidden_layers": 2, "model_type": "kimi_k2"}, "projection_hidden_size": 64,
     "vision_config": {"model_type": "kimi_k25_vision", "hidden_size": 64, "num_attention_heads": 4,
                       "intermediate_size": 96, "num_hidden_layers": 2, "patch_size": 7, "pos_emb_height": 8,
                       "pos_emb_width": 6, "merge_kernel_size": [3, 1]}},
    {"architectures": ["Kimi_K25ForConditionalGeneration"], "text_config": {**_K25_TEXT, "num_hidden_layers": 2},
     "vision_config": {"model_type": ""}},
]
K25_DECLINED = [
    {"vision_config": {**_K25_VISION, "vt_hidden_size": 1024}},  # a width transformers would not build
    {"vision_config": {**_K25_VISION, "vt_num_hidden_layers": 32}},
    {"tie_word_embeddings": True},
    {"text_config": {**_K25_TEXT, "model_type": "qwen3"}},
    {"vision_config": {**_K25_VISION, "mm_projector_type": "mlp"}},
    {"vision_config": {**_K25_VISION, "some_new_field": 1}},
    {"architectures": ["KimiK25Model"]},
    {"text_config": _K25_TEXT, "vision_config": None},
]


@pytest.mark.parametrize("i", range(len(K25_VARIANTS)))
def test_kimi_k25_variants_match(i):
    cfg = {**C.KIMI_K25, **K25_VARIANTS[i]}
    _same(count_analytic(cfg), count_meta(cfg))


@pytest.mark.parametrize("i", range(len(K25_DECLINED)))
def test_kimi_k25_variants_declined(i):
    assert count_analytic({**C.KIMI_K25, **K25_DECLINED[i]}) is None


def test_kimi_k25_defaults_are_transformers_defaults():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    vc = CONFIG_MAPPING["kimi_k25_vision"]()
    assert {k: getattr(vc, k) for k in analytic.KIMI_K25_VISION_DEFAULTS} == analytic.KIMI_K25_VISION_DEFAULTS
    top = CONFIG_MAPPING["kimi_k25"]()
    assert {k: getattr(top, k) for k in analytic.KIMI_K25_DEFAULTS} == analytic.KIMI_K25_DEFAULTS


def test_kimi_k25_config_only_counts_the_output_head(kimi_k25):
    """architectures says KimiK25ForConditionalGeneration, transformers registers Kimi_K25ForConditionalGeneration
    in the image-text-to-text mapping only: the class with the head is found, not the headless base model."""
    pc = kimi_k25
    assert pc.total == K25_TOTAL and pc.breakdown["lm_head"] == 163840 * 7168
    assert pc.breakdown["vision"] == K25_VISION_TOTAL
    assert pc.quantization == "compressed-tensors"  # read from text_config
    assert any("Kimi_K25ForConditionalGeneration" in n for n in pc.notes)


def test_kimi_linear_active_is_not_total():
    """Kimi-Linear-48B-A3B names its top-k num_experts_per_token (KimiLinearConfig's attribute_map alias): the
    active count uses it (card: 48B total, 3B activated)."""
    pc = count_from_config(C.KIMI_LINEAR_48B_A3B)
    assert (pc.experts, pc.experts_per_token) == (256, 8)
    assert round(pc.total / 1e9) == 49 and pc.active < pc.total / 10
    assert round((pc.active - pc.embedding) / 1e9, 1) == 2.7  # card: 3B activated (rounded), embeddings left out
    assert not any("active is reported as total" in n for n in pc.notes)


def test_nemotron_config_only_equals_its_checkpoint():
    pc = count_from_config(C.NEMOTRON3_NANO_30B_A3B)
    assert (pc.total, pc.active) == (NEMOTRON_TOTAL, NEMOTRON_ACTIVE)
    assert pc.breakdown["embedding"] == 131072 * 2688  # model.embeddings.weight


def test_the_ignore_patterns_are_transformers_own():
    import transformers

    for name, patterns in IGNORE_ON_LOAD.items():
        cls = getattr(transformers, name)
        assert tuple(sorted(cls._keys_to_ignore_on_load_unexpected)) == patterns, name


def test_every_generative_class_with_ignore_patterns_is_in_the_table():
    """Read from transformers' source files (no import of ~300 modeling modules): every model class of the
    causal-LM / image-text-to-text / multimodal-LM mappings that declares _keys_to_ignore_on_load_unexpected
    at class level is in IGNORE_ON_LOAD."""
    from transformers.models.auto import modeling_auto as ma

    root = Path(importlib.util.find_spec("transformers").origin).parent / "models"
    wanted = set()
    for mapping in ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
                    "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES"):
        for v in getattr(ma, mapping).values():
            wanted |= {v} if isinstance(v, str) else set(v)
    declared = set()
    for f in root.glob("*/modeling_*.py"):
        text = f.read_text(encoding="utf-8")
        for m in re.finditer(r"^class (\w+)\(.*?(?=^class |\Z)", text, re.S | re.M):
            if m.group(1) in wanted and re.search(r"^    _keys_to_ignore_on_load_unexpected = [\[{(]\s*\S", m.group(0), re.M):
                declared.add(m.group(1))
    assert declared and declared <= set(IGNORE_ON_LOAD), sorted(declared - set(IGNORE_ON_LOAD))


def test_every_transformers_spelling_of_experts_and_top_k_is_read():
    """From transformers' configuration sources: every attribute_map alias of num_experts_per_tok and of the
    expert count, and every top-k field a config class declares, is among the names the counting rules read."""
    root = Path(importlib.util.find_spec("transformers").origin).parent / "models"
    k_names, e_names = set(), set()
    for f in root.glob("*/configuration_*.py"):
        text = f.read_text(encoding="utf-8")
        k_names |= set(re.findall(r'"num_experts_per_tok":\s*"(\w+)"', text))
        for canon in ("num_local_experts", "num_experts", "n_routed_experts"):
            e_names |= set(re.findall(rf'"{canon}":\s*"(\w+)"', text))
        k_names |= set(re.findall(r"^    ((?:num_)?experts_per_tok(?:en)?|(?:moe_)?top_?k(?:_experts)?|moe_k)\s*:", text, re.M))
        e_names |= set(re.findall(r"^    ((?:num_|n_|moe_num_)(?:local_|routed_)?experts)\s*:", text, re.M))
    assert {"num_experts_per_token", "top_k_experts"} <= k_names  # Kimi-Linear, Gemma 4
    assert k_names <= set(K_KEYS), sorted(k_names - set(K_KEYS))
    assert e_names <= set(E_KEYS), sorted(e_names - set(E_KEYS))


# --- Qwen3.5-MoE counted without torch (analytic/qwen35.py) ------------------------------------------------------
_Q35_TEXT, _Q35_VISION = C.QWEN35_397B_A17B["text_config"], C.QWEN35_397B_A17B["vision_config"]


def _q35(text: dict | None = None, vision: dict | None = None, **top) -> dict:
    return {**C.QWEN35_397B_A17B, "text_config": {**_Q35_TEXT, **(text or {})},
            "vision_config": {**_Q35_VISION, **(vision or {})}, **top}


Q35_VARIANTS = [
    {},  # the published config (397B; card: 397B total, 17B activated)
    {"text": {"num_hidden_layers": 3, "layer_types": ["linear_attention", "full_attention", "linear_attention"],
              "attention_bias": True, "head_dim": 128}, "vision": {"depth": 2, "spatial_merge_size": 1}},
    {"text": {"num_hidden_layers": 5, "layer_types": None, "full_attention_interval": 2, "linear_num_value_heads": 16},
     "vision": {"depth": 1, "patch_size": 14, "temporal_patch_size": 1, "num_position_embeddings": 1024}},
]
Q35_DECLINED = [
    {"text": {"mlp_only_layers": [0]}},  # transformers builds MoE on every layer: not this model
    {"text": {"attn_output_gate": False}},  # transformers' attention is always gated
    {"text": {"layer_types": ["full_attention"] * 59}},
    {"vision": {"patch_size": [16, 16]}},
    {"vision": {"deepstack_visual_indexes": [8, 16]}},
    {"tie_word_embeddings": True},
    {"text": {"some_new_field": 1}},
]


def _drop_none(cfg: dict) -> dict:
    return {**cfg, "text_config": {k: v for k, v in cfg["text_config"].items() if v is not None}}


@pytest.mark.parametrize("i", range(len(Q35_VARIANTS)))
def test_qwen35_analytic_equals_meta(i):
    v = Q35_VARIANTS[i]
    cfg = _drop_none(_q35(v.get("text"), v.get("vision")))
    a = count_analytic(cfg)
    _same(a, count_meta(cfg))
    if i == 0:
        assert a.total == 396_802_360_816 and round(a.active / 1e9) == 18  # card: 397B / 17B (truncated)


@pytest.mark.parametrize("i", range(len(Q35_DECLINED)))
def test_qwen35_variants_declined(i):
    v = Q35_DECLINED[i]
    assert count_analytic(_q35(v.get("text"), v.get("vision"), **{k: x for k, x in v.items() if k not in ("text", "vision")})) is None


def test_qwen35_defaults_are_transformers_defaults():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    t, v = CONFIG_MAPPING["qwen3_5_moe_text"](), CONFIG_MAPPING["qwen3_5_moe_vision"]()
    assert {k: getattr(t, k) for k in analytic.QWEN35_TEXT_DEFAULTS} == analytic.QWEN35_TEXT_DEFAULTS
    assert {k: getattr(v, k) for k in analytic.QWEN35_VISION_DEFAULTS} == analytic.QWEN35_VISION_DEFAULTS


# --- Nemotron-H counted without torch (analytic/nemotron.py) -----------------------------------------------------
NH_VARIANTS = [
    {},  # the published config (with its Infinity)
    {"hybrid_override_pattern": "M-E*M", "num_hidden_layers": 5, "use_conv_bias": False, "use_bias": True,
     "mlp_bias": True, "moe_latent_size": 512},
    {"hybrid_override_pattern": None, "layers_block_type": ["moe", "linear_attention", "full_attention"],
     "num_hidden_layers": 3, "n_groups": 4, "mamba_num_heads": 32, "head_dim": 64, "num_key_value_heads": 4},
]
NH_DECLINED = [
    {"layers_block_type": ["moe"] * 52},  # both spellings: which one transformers reads is left to it
    {"num_hidden_layers": 50},  # disagrees with the pattern's 52 layers
    {"num_nextn_predict_layers": 1},
    {"n_shared_experts": 2},  # transformers builds one shared MLP whatever it says
    {"mamba_proj_bias": True},
    {"hybrid_override_pattern": "MEX"},
    {"some_new_field": 1},
    {"moe_latent_size": 0},
]


def _nh(change: dict) -> dict:
    return {k: v for k, v in {**C.NEMOTRON3_NANO_30B_A3B, **change}.items() if v is not None}


@pytest.mark.parametrize("i", range(len(NH_VARIANTS)))
def test_nemotron_h_analytic_equals_meta(i):
    cfg = _nh(NH_VARIANTS[i])
    _same(count_analytic(cfg), count_meta(cfg))


@pytest.mark.parametrize("i", range(len(NH_DECLINED)))
def test_nemotron_h_variants_declined(i):
    assert count_analytic(_nh(NH_DECLINED[i])) is None


def test_nemotron_h_flags_are_transformers_defaults():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    cfg = CONFIG_MAPPING["nemotron_h"]()
    assert {k: getattr(cfg, k) for k in analytic.NEMOTRON_H_FLAGS} == analytic.NEMOTRON_H_FLAGS
