"""`benchseal flops` on malformed configs (the held-out fuzz residuals of issue 28): one sentence, exit 2,
no traceback and no figure."""

from __future__ import annotations

import json

import pytest

from benchseal.errors import ExitCode
from tests.helpers.flops_configs import TINY

GEMMA3 = dict(TINY["gemma2"], model_type="gemma3_text", sliding_window_pattern=6)

CASES = {
    "layer_types-string": (dict(TINY["llama"], layer_types="full_attention"), "layer_types"),
    "layer_types-int": (dict(TINY["llama"], layer_types=3), "layer_types"),
    "layer_types-dict": (dict(TINY["llama"], layer_types={"0": "full_attention"}), "layer_types"),
    "layer_types-nested": (dict(TINY["llama"], layer_types=[["full_attention"]] * TINY["llama"]["num_hidden_layers"]), "layer_types"),
    "sliding_window-string": (dict(TINY["mistral-swa"], sliding_window="4096"), "sliding_window"),
    "sliding_window-zero": (dict(TINY["mistral-swa"], sliding_window=0), "sliding_window"),
    "sliding_window-negative": (dict(TINY["mistral-swa"], sliding_window=-8), "sliding_window"),
    "sliding_window-zero-gemma2": (dict(TINY["gemma2"], sliding_window=0), "sliding_window"),
    "sliding_window-zero-layer_types": (dict(TINY["llama"], sliding_window=0,
                                             layer_types=["sliding_attention"] * TINY["llama"]["num_hidden_layers"]), "sliding_window"),
    "gemma3-pattern-zero": (dict(GEMMA3, sliding_window_pattern=0), "sliding_window_pattern"),
    "decoder_sparse_step-zero": (dict(TINY["qwen2_moe"], decoder_sparse_step=0), "decoder_sparse_step"),
    "moe_layer_freq-zero": (dict(TINY["deepseek_v3"], moe_layer_freq=0), "moe_layer_freq"),
    "mlp_only_layers-int": (dict(TINY["qwen3_moe"], mlp_only_layers=1), "mlp_only_layers"),
    "mlp_only_layers-strings": (dict(TINY["qwen3_moe"], mlp_only_layers=["1"]), "mlp_only_layers"),
    "top_k-above-experts": (dict(TINY["mixtral"], num_experts_per_tok=5), "num_experts_per_tok"),
    "top_k-zero": (dict(TINY["qwen3_moe"], num_experts_per_tok=0), "num_experts_per_tok"),
    "experts-zero-mixtral": (dict(TINY["mixtral"], num_local_experts=0), "0 experts"),
    "experts-zero-deepseek": (dict(TINY["deepseek_v3"], n_routed_experts=0), "0 experts"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_config_is_one_sentence(run_cli, tmp_path, name):
    cfg, word = CASES[name]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code, out, err = run_cli("flops", tmp_path, "--prompt-len", "16", "--output-len", "4", "--json")
    assert code == ExitCode.BAD_INPUT, (out, err)
    assert out == "" and "Traceback" not in err and word in err
    assert len(err.strip().splitlines()) == 1


def test_the_good_variants_still_count(run_cli, tmp_path):
    """The same keys with sound values: a figure, exit 0 (qwen MoE with 0 experts is dense, as in transformers)."""
    for cfg in (GEMMA3, dict(TINY["qwen3_moe"], mlp_only_layers=[0]), dict(TINY["qwen2_moe"], num_experts=0),
                dict(TINY["mixtral"], num_experts_per_tok=4)):
        (tmp_path / "config.json").write_text(json.dumps(cfg))
        code, out, err = run_cli("flops", tmp_path, "--prompt-len", "16", "--output-len", "4", "--json")
        assert code == 0, err
        assert json.loads(out)["decode_flops_per_token"] > 0
