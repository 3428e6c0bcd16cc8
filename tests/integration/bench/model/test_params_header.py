"""Header counting: agreement with config-meta on saved tiny models, sharding, ties, MoE, MTP, quantisation. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import json
import shutil
import pytest
from benchseal.bench.model.inspect import inspect_model
from benchseal.bench.model.params import classify, count_params
from benchseal.testing.safetensors_files import write_sharded, write_st
from tests.unit.bench.model.test_params_header import H, I, V, _llama_tensors, _n, _quant_dir  # noqa: F401


@pytest.mark.parametrize("fixture", ["tiny_llama", "tiny_qwen2", "tiny_mixtral"])
def test_header_count_agrees_with_config_meta_and_torch(request, fixture):
    path = request.getfixturevalue(fixture)
    card = inspect_model(path, with_digests=False)
    header, meta = card.params_by_method["safetensors-header"], card.params_by_method["config-meta"]
    assert card.params.method == "safetensors-header"
    assert header.total == meta.total and header.active == meta.active and header.breakdown == meta.breakdown
    assert card.discrepancies == []
    assert card.config == json.loads((path / "config.json").read_text())
    # ground truth: the real model's own count (tied weights once)
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(path)
    assert header.total == sum(p.numel() for p in model.parameters())


def test_tiny_mixtral_active(tiny_mixtral):
    pc = count_params(tiny_mixtral)
    experts = 2 * 4 * 3 * H * I  # layers x experts x (w1, w2, w3)
    assert pc.breakdown["experts"] == experts
    assert pc.active == pc.total - experts + experts * 2 // 4
    assert (pc.experts, pc.experts_per_token) == (4, 2)


def test_tiny_qwen2_tied_counted_once(tiny_qwen2, tmp_path):
    pc = count_params(tiny_qwen2)
    assert "lm_head" not in pc.breakdown and pc.embedding == pc.breakdown["embedding"]
    assert any("tied" in n for n in pc.notes)
    # a checkpoint that stores the tied lm_head anyway is still counted once
    d = tmp_path / "q"
    shutil.copytree(tiny_qwen2, d)
    import safetensors.torch as st

    sd = st.load_file(d / "model.safetensors")
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"].clone()
    st.save_file(sd, d / "model.safetensors", metadata={"format": "pt"})
    pc2 = count_params(d)
    assert pc2.total == pc.total and pc2.excluded == {"lm_head_tied_to_embedding": V * H}
