"""Unit tests of the FLOPs model: closed forms, published parameter counts, Kaplan et al. 2020."""

from __future__ import annotations

import pytest

from benchseal.bench.utilisation.flops import FlopsModel, normalize_dtype
from benchseal.errors import ConfigError, UsageError

from tests.helpers.flops_configs import TINY


LLAMA2_7B = dict(model_type="llama", vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                 num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32)
MIXTRAL_8X7B = dict(model_type="mixtral", vocab_size=32000, hidden_size=4096, intermediate_size=14336,
                    num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                    num_local_experts=8, num_experts_per_tok=2, sliding_window=None)
DEEPSEEK_V3 = dict(model_type="deepseek_v3", vocab_size=129280, hidden_size=7168, intermediate_size=18432,
                   moe_intermediate_size=2048, num_hidden_layers=61, first_k_dense_replace=3,
                   n_routed_experts=256, num_experts_per_tok=8, n_shared_experts=1, num_attention_heads=128,
                   num_key_value_heads=128, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                   qk_rope_head_dim=64, v_head_dim=128, num_nextn_predict_layers=1)


def test_llama2_7b_params_match_published_total():
    fm = FlopsModel.from_config(LLAMA2_7B)
    embedding, norms = 32000 * 4096, (2 * 32 + 1) * 4096
    assert fm.active_params + fm.lm_head_params + embedding + norms == 6_738_415_616  # HF safetensors total


def test_published_active_params_of_moe_models():
    mix = FlopsModel.from_config(MIXTRAL_8X7B)
    active = mix.active_params + mix.lm_head_params + 32000 * 4096  # + embedding
    assert 12.8e9 < active < 13.0e9  # Mistral AI: 12.9B active of 46.7B
    ds = FlopsModel.from_config(DEEPSEEK_V3)
    active = ds.active_params + ds.lm_head_params + 129280 * 7168
    assert 36.5e9 < active < 38e9  # DeepSeek-V3 report: 37B activated (MTP module excluded)
    assert ds.describe()["moe_layers"] == 58 and ds.attention == "mla"


def test_kaplan_2020_dense_formula():
    """Kaplan et al. 2020, Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn per token (lm_head and
    embedding excluded). Our causal count averages the attention of QK^T and AV over positions
    1..n, which is 2 n_layer (n+1) d_attn per token: the difference is exactly 2 n_layer d_attn."""
    d, layers, ff, n = 2048, 24, 5632, 2048
    cfg = dict(model_type="llama", vocab_size=50000, hidden_size=d, intermediate_size=ff,
               num_hidden_layers=layers, num_attention_heads=16, num_key_value_heads=16)
    fm = FlopsModel.from_config(cfg)
    non_embedding = layers * (4 * d * d + 3 * d * ff)  # N: attention 4 d^2 (MHA), gated MLP 3 d d_ff
    kaplan = 2 * non_embedding + 2 * layers * n * d
    ours = (fm.prefill_flops(n) - fm.lm_head_flops()) / n
    assert ours - kaplan == pytest.approx(2 * layers * d, rel=1e-12)
    assert abs(ours - kaplan) / kaplan < 1e-4
    # the last position of the window attends to all n keys: twice Kaplan's (position-averaged)
    # attention term, plus the de-embed (lm_head) 2 d n_vocab that Kaplan lists separately
    assert fm.decode_flops_per_token(n - 1) == 2 * non_embedding + 4 * layers * n * d + 2 * d * 50000


def test_request_is_prefill_plus_decode_steps():
    fm = FlopsModel.from_config(TINY["gemma2"])
    p, o = 11, 9
    by_step = fm.prefill_flops(p) + sum(fm.decode_flops_per_token(p + j) for j in range(o - 1))
    assert fm.request_flops(p, o) == pytest.approx(by_step, rel=1e-12)
    assert fm.request_flops(p, 1) == fm.prefill_flops(p)
    assert fm.prefill_flops_per_token(p) * p == pytest.approx(fm.prefill_flops(p))


def test_sliding_window_saturates_and_follows_layer_pattern():
    swa = FlopsModel.from_config(TINY["mistral-swa"])  # window 8 on every layer
    assert swa.decode_flops_per_token(7) == swa.decode_flops_per_token(100)
    assert swa.decode_flops_per_token(6) < swa.decode_flops_per_token(7)
    gemma2 = FlopsModel.from_config({**TINY["gemma2"], "num_hidden_layers": 4})
    assert [layer.window for layer in gemma2.layers] == [8, None, 8, None]
    explicit = FlopsModel.from_config({**TINY["llama"], "sliding_window": 4,
                                       "layer_types": ["full_attention", "sliding_attention"]})
    assert [layer.window for layer in explicit.layers] == [None, 4]
    qwen = FlopsModel.from_config({**TINY["qwen2"], "sliding_window": 4, "use_sliding_window": False})
    assert all(layer.window is None for layer in qwen.layers)
    gemma3 = FlopsModel.from_config({"model_type": "gemma3", "text_config": {
        **TINY["gemma2"], "model_type": "gemma3_text", "num_hidden_layers": 6, "sliding_window_pattern": 3}})
    assert [layer.window for layer in gemma3.layers] == [8, 8, None, 8, 8, None]


def test_bytes_gqa_mla_and_moe():
    fm = FlopsModel.from_config(TINY["llama"])  # 2 layers, 2 KV heads of 16
    assert fm.kv_cache_bytes_per_token(2) == 2 * 2 * (2 * 2 * 16)
    assert fm.kv_cache_bytes_read(10, 2, steps=3) == fm.kv_cache_bytes_per_token(2) * (11 + 12 + 13)
    assert fm.weight_bytes(2) == 2 * (fm.active_params + fm.lm_head_params)
    ds = FlopsModel.from_config(DEEPSEEK_V3)
    assert ds.kv_cache_bytes_per_token(1) == 61 * (512 + 64)  # compressed latent + rope key
    one, many = ds.weight_bytes(1, batch=1), ds.weight_bytes(1, batch=4096)
    assert one == ds.active_params + ds.lm_head_params
    assert many > 15 * one  # a large batch touches nearly all 256 experts
    absorbed = FlopsModel.from_config(DEEPSEEK_V3, mla="absorbed")
    assert absorbed.linear_flops_per_token() == ds.linear_flops_per_token()
    assert absorbed.attention_flops(1, 1000) > ds.attention_flops(1, 1000)


def test_qwen2_moe_shared_expert_and_sparse_step():
    cfg = {**TINY["qwen2_moe"], "num_hidden_layers": 4, "decoder_sparse_step": 2, "mlp_only_layers": [3]}
    fm = FlopsModel.from_config(cfg)
    assert [layer.num_experts for layer in fm.layers] == [0, 4, 0, 0]
    moe = fm.layers[1]
    assert moe.dense_mlp_params == 64 * 4 + 3 * 64 * 48 + 64  # router + shared expert + its gate
    assert moe.expert_params == 3 * 64 * 32


@pytest.mark.parametrize("cfg, exc, text", [
    ({"model_type": "mamba", "hidden_size": 8}, UsageError, "mamba"),
    ({"hidden_size": 8}, UsageError, "(missing)"),
    ({"model_type": "llama", "hidden_size": 64}, ConfigError, "num_hidden_layers"),
    ({**TINY["llama"], "layer_types": ["full_attention", "linear_attention"]}, UsageError, "linear_attention"),
])
def test_bad_configs_name_the_problem(cfg, exc, text):
    with pytest.raises(exc) as info:
        FlopsModel.from_config(cfg)
    assert text in info.value.message


def test_normalize_dtype():
    assert normalize_dtype("torch.bfloat16") == "bf16"
    assert normalize_dtype("float16") == "fp16"
    assert normalize_dtype("FP8") == "fp8"
    assert normalize_dtype("auto") is None
