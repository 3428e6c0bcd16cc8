"""Issue 12, third round: config-only counts (meta device) of GLM-4.5, GLM-4.5-Air and Qwen2.5-VL-7B-Instruct from
their published config.json values (benchseal/testing/published_configs.py names each public copy), against the
figures their cards publish; and a Qwen2.5-VL checkpoint as header-only safetensors with the published tensor names.
The GLM header-only checks (MTP layer, conventions, exact totals) are in tests/unit/bench/model/
test_params_published_round3.py; here the config count must give the very same numbers."""

from __future__ import annotations

import pytest

from benchseal.bench.model.files import resolve
from benchseal.bench.model.params import count_safetensors
from benchseal.bench.model.params_config import build_meta_model, count_from_config
from benchseal.testing import published_configs as P
from benchseal.testing.safetensors_files import write_sharded
from tests.unit.bench.model.test_params_published_round3 import AIR_ACTIVE, AIR_TOTAL, GLM45_ACTIVE, GLM45_TOTAL


@pytest.mark.parametrize("cfg, total, active, card_active", [
    (P.GLM45, GLM45_TOTAL, GLM45_ACTIVE, 32), (P.GLM45_AIR, AIR_TOTAL, AIR_ACTIVE, 12),
], ids=["glm-4.5", "glm-4.5-air"])
def test_glm45_config_count_equals_header_count(cfg, total, active, card_active):
    pc = count_from_config(cfg)
    assert pc.method == "config-meta"
    # transformers' Glm4MoeForCausalLM does not build the MTP layer (num_nextn_predict_layers): the config count is
    # the forward-pass model, the same rule the header count applies by leaving layer num_hidden_layers out
    assert (pc.total, pc.active) == (total, active)
    assert (pc.experts, pc.experts_per_token) == (cfg["n_routed_experts"], cfg["num_experts_per_tok"])
    assert round(pc.active_by_convention["no_embedding_or_head"] / 1e9) == card_active  # Zhipu's convention
    assert any("persistent buffers" in n for n in pc.notes)  # the router's e_score_correction_bias


def test_qwen25_vl_7b_config_count():
    pc = count_from_config(P.QWEN25_VL_7B)
    assert pc.total == 8_292_166_656
    assert round(pc.total / 1e7) == 829  # Hugging Face page 8.29B; a public verl log of the real checkpoint: "8.29B"
    # the language model is exactly Qwen2-7B's (7,615,616,512, its safetensors total); the vision tower with its
    # patch merger is the rest (Qwen counts every parameter, vision included, in the 8.29B)
    assert pc.active_by_convention["no_vision_audio"] == 7_615_616_512
    assert pc.breakdown["vision"] == 676_550_144
    assert pc.embedding == 2 * 152064 * 3584 and pc.active == pc.total  # untied, dense


def test_qwen25_vl_7b_checkpoint_headers(tmp_path):
    """Header-only checkpoint with the names the published Qwen2.5-VL-7B-Instruct safetensors use (transformers
    < 4.52 layout: language model under model.*, vision tower under visual.*). Shapes come from the meta model
    of the published config; transformers 5 names them model.language_model.* and model.visual.*, mapped back
    exactly as public loaders map the published checkpoint onto the new classes."""
    model, _ = build_meta_model(P.QWEN25_VL_7B, root=None, trust_remote_code=False)
    tensors = {}
    for name, p in model.named_parameters():
        if name.startswith("model.language_model."):
            name = "model." + name[len("model.language_model."):]
        elif name.startswith("model.visual."):
            name = name[len("model."):]
        tensors[name] = ("BF16", list(p.shape))
    assert "visual.patch_embed.proj.weight" in tensors and "visual.merger.mlp.0.weight" in tensors
    assert "model.embed_tokens.weight" in tensors and "lm_head.weight" in tensors
    names = list(tensors)
    half = len(names) // 2
    root = write_sharded(tmp_path / "qvl", [{k: tensors[k] for k in names[:half]},
                                           {k: tensors[k] for k in names[half:]}], P.QWEN25_VL_7B)
    pc = count_safetensors(resolve(root))
    assert pc.total == 8_292_166_656 and pc.breakdown["vision"] == 676_550_144
    assert pc.active_by_convention["no_vision_audio"] == 7_615_616_512
