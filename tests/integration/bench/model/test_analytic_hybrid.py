"""The torch-free count of MiniMax-M2, Llama 4 and Kimi-Linear (benchseal/bench/model/analytic/hybrid.py) equals
transformers' meta-device build, every field, on the published configs and on variants that exercise each rule
(Llama-4-Scout itself is in test_analytic_parity.py's registry)."""

from __future__ import annotations

import copy

import pytest

from benchseal.bench.model import analytic
from benchseal.bench.model.params_config import count_analytic, count_from_config, count_meta
from benchseal.testing import published_configs as P
from benchseal.testing import published_configs_current as C

from tests.unit.bench.model.test_analytic_hybrid import _kimi_linear_with_kda


def _same(cfg: dict) -> None:
    a = count_analytic(cfg)
    assert a is not None
    assert a.model_dump(exclude={"notes"}) == count_meta(cfg).model_dump(exclude={"notes"})


def _llama4(text: dict | None = None, **top) -> dict:
    cfg = copy.deepcopy(P.LLAMA4_SCOUT)
    cfg["text_config"].update(text or {})
    cfg["text_config"] = {k: v for k, v in cfg["text_config"].items() if v is not None}
    return {**cfg, **top}


def _kl(change: dict | None = None, linear: dict | None = None) -> dict:
    cfg = _kimi_linear_with_kda()
    cfg.update(change or {})
    cfg["linear_attn_config"].update(linear or {})
    return {k: v for k, v in cfg.items() if v is not None}


CASES = {
    "minimax_m2": C.MINIMAX_M2,
    "minimax_m2 without the vendor fields": {k: v for k, v in C.MINIMAX_M2.items() if k not in (
        "rotary_dim", "shared_intermediate_size", "qk_norm_type", "use_qk_norm", "use_routing_bias", "use_mtp")},
    "llama4 interleaved (moe_layers from interleave_moe_layer_step 2)": _llama4({"moe_layers": None,
                                                                                "interleave_moe_layer_step": 2}),
    "llama4 tied": _llama4(tie_word_embeddings=True),
    "llama4 attention bias": _llama4({"attention_bias": True}),
    "kimi_linear (both layer lists)": _kimi_linear_with_kda(),
    "kimi_linear default layout": _kl(linear={"full_attn_layers": None, "kda_layers": None}) | {
        "linear_attn_config": {"head_dim": 128, "num_heads": 32, "short_conv_kernel_size": 4}},
    "kimi_linear narrower KDA, two dense layers": _kl({"first_k_dense_replace": 2}, {"head_dim": 64, "num_heads": 16,
                                                                                     "short_conv_kernel_size": 3}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_analytic_equals_meta(name):
    _same(CASES[name])


def test_kimi_linear_published_copy_falls_back_to_the_meta_count():
    assert count_analytic(C.KIMI_LINEAR_48B_A3B) is None
    assert count_from_config(C.KIMI_LINEAR_48B_A3B).model_dump() == count_meta(C.KIMI_LINEAR_48B_A3B).model_dump()


def test_kimi_linear_defaults_are_transformers_defaults():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    cfg = CONFIG_MAPPING["kimi_linear"]()
    for key, default in analytic.KIMI_LINEAR_DEFAULTS.items():
        got = cfg.mlp_layer_types.index("sparse") if key == "first_k_dense_replace" else getattr(cfg, key)
        assert got == default, key


def test_minimax_m1_equals_transformers_port_of_the_architecture():
    """transformers' native MiniMax (MiniMaxForCausalLM, its port of MiniMax-Text-01 / M1) built on the meta device
    from the same published config, with attn_type_list given as its layer_types: the same parameters, layer by
    layer (its experts are fused, so names differ below the layer), apart from the decay tables it keeps as
    persistent buffers (slope_rate, query/key/diagonal_decay: computed from the config, not weights)."""
    import re
    from collections import Counter

    import torch
    from transformers import MiniMaxConfig, MiniMaxForCausalLM

    from benchseal.bench.model.analytic import analytic_items

    cfg = {k: v for k, v in C.MINIMAX_M1.items() if k not in ("auto_map", "architectures", "model_type")}
    cfg["layer_types"] = ["linear_attention" if t == 0 else "full_attention" for t in cfg.pop("attn_type_list")]
    with torch.device("meta"):
        model = MiniMaxForCausalLM(MiniMaxConfig(**cfg))
    theirs, ours = Counter(), Counter()
    for n, p in model.named_parameters():
        theirs[re.match(r"(model\.layers\.\d+\.|)", n).group(1) or n] += p.numel()
    for n, k in analytic_items(C.MINIMAX_M1)[0]:
        ours[re.match(r"(model\.layers\.\d+\.|)", n).group(1) or n] += k
    assert theirs == ours
