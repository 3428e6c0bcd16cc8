"""The table of families the analytic count knows: model_type -> :class:`Family` (class, shape keys,
flag defaults, layer builder), the vendor aliases, and the keys checked by value."""

from __future__ import annotations

from typing import Any, Callable

from benchseal.bench.model.analytic.common import Family
from benchseal.bench.model.analytic.dense import (
    GEMMA2_CHECKED, HUNYUAN_DENSE_CHECKED, _gemma2, _hunyuan_dense, _seed_oss, _smollm3, gemma2_fields_match,
    hunyuan_dense_fields_match, smollm3_fields_match,
)
from benchseal.bench.model.analytic.gqa import _dense, _mixtral, _qwen3_next, _qwen_moe, qwen3_next_fields_match
from benchseal.bench.model.analytic.moe import (
    _deepseek, _deepseek_dsa, _ernie45_moe, _ernie45_moe_tail, _glm4_moe, _gpt_oss, _hunyuan_fields_match, _hunyuan_moe,
    _phimoe, _phimoe_tail,
)

_BASE = frozenset({"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"})
_GQA = _BASE | {"num_key_value_heads", "head_dim", "intermediate_size"}
_MLA = _BASE | {"intermediate_size", "moe_intermediate_size", "n_routed_experts", "n_shared_experts",
                "first_k_dense_replace", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                "v_head_dim", "attention_bias", "num_key_value_heads", "moe_layer_freq", "head_dim"}
FAMILIES: dict[str, Family] = {
    "llama": Family("LlamaForCausalLM", _GQA | {"attention_bias", "mlp_bias"},
                    {"attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False}, True, _dense("llama")),
    "mistral": Family("MistralForCausalLM", _GQA, {"tie_word_embeddings": False}, True, _dense("mistral")),
    "qwen2": Family("Qwen2ForCausalLM", _GQA, {"tie_word_embeddings": False}, True, _dense("qwen2")),
    "qwen3": Family("Qwen3ForCausalLM", _GQA | {"attention_bias"}, {"attention_bias": False, "tie_word_embeddings": False},
                    False, _dense("qwen3")),
    "glm": Family("GlmForCausalLM", _GQA | {"attention_bias"}, {"attention_bias": True, "tie_word_embeddings": False},
                  False, _dense("glm")),
    "mixtral": Family("MixtralForCausalLM", _GQA | {"num_local_experts"}, {"tie_word_embeddings": False}, True, _mixtral),
    "qwen2_moe": Family("Qwen2MoeForCausalLM",
                        _GQA | {"num_experts", "moe_intermediate_size", "shared_expert_intermediate_size",
                                "decoder_sparse_step", "mlp_only_layers", "qkv_bias"},
                        {"qkv_bias": True, "tie_word_embeddings": False}, True, _qwen_moe(False),
                        defaults={"decoder_sparse_step": 1}),
    "qwen3_moe": Family("Qwen3MoeForCausalLM",
                        _GQA | {"num_experts", "moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers",
                                "attention_bias"},
                        {"attention_bias": False, "tie_word_embeddings": False}, True, _qwen_moe(True),
                        defaults={"decoder_sparse_step": 1}),
    # PhimoeConfig has no head_dim field: the attention reads getattr(config, "head_dim", hidden // heads)
    "phimoe": Family("PhimoeForCausalLM", _GQA | {"num_local_experts", "attention_bias", "lm_head_bias"},
                     {"attention_bias": False, "lm_head_bias": False, "tie_word_embeddings": False}, True, _phimoe,
                     _phimoe_tail),
    # Glm4MoeConfig has no head_dim field: the attention reads getattr(config, "head_dim", hidden // heads)
    "glm4_moe": Family("Glm4MoeForCausalLM",
                       _GQA | {"attention_bias", "use_qk_norm", "moe_intermediate_size", "n_routed_experts",
                               "n_shared_experts", "first_k_dense_replace"},
                       {"attention_bias": False, "use_qk_norm": False, "tie_word_embeddings": False}, True, _glm4_moe),
    # Ernie4_5_MoeConfig has no head_dim field: the attention reads getattr(config, "head_dim", hidden // heads)
    "ernie4_5_moe": Family("Ernie4_5_MoeForCausalLM",
                           _GQA | {"use_bias", "moe_num_experts", "moe_intermediate_size", "moe_num_shared_experts",
                                   "moe_layer_start_index", "moe_layer_end_index", "moe_layer_interval"},
                           {"use_bias": False, "tie_word_embeddings": True}, True, _ernie45_moe, _ernie45_moe_tail),
    # HunYuanMoEV1Config.head_dim defaults to None, which the attention reads as is: a head_dim is required
    "hunyuan_v1_moe": Family("HunYuanMoEV1ForCausalLM", _GQA | {"attention_bias", "num_experts"},
                             {"attention_bias": False, "tie_word_embeddings": False}, False, _hunyuan_moe),
    # GptOssConfig.head_dim defaults to 64 (derived from hidden // heads only when given as null: declined here)
    "gpt_oss": Family("GptOssForCausalLM", _GQA | {"attention_bias", "num_local_experts"},
                      {"attention_bias": True, "tie_word_embeddings": False}, False, _gpt_oss),
    "deepseek_v2": Family("DeepseekV2ForCausalLM", _MLA | {"mlp_bias"},
                          {"attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False}, True, _deepseek(False)),
    "deepseek_v3": Family("DeepseekV3ForCausalLM", _MLA, {"attention_bias": False, "tie_word_embeddings": False}, True,
                          _deepseek(True)),
    # DeepSeek-V3's layer plus the DSA indexer; index_n_heads / index_head_dim default as transformers' configs do
    # (their MLPs are bias-free whatever mlp_bias says: a config that sets it is declined)
    "deepseek_v32": Family("DeepseekV32ForCausalLM", _MLA | {"index_n_heads", "index_head_dim"},
                           {"attention_bias": False, "tie_word_embeddings": False}, True,
                           _deepseek_dsa, defaults={"index_n_heads": 64, "index_head_dim": 128}),
    "glm_moe_dsa": Family("GlmMoeDsaForCausalLM", _MLA | {"index_n_heads", "index_head_dim"},
                          {"attention_bias": False, "tie_word_embeddings": False}, True,
                          _deepseek_dsa, defaults={"index_n_heads": 32, "index_head_dim": 128}),
    # Qwen3-Next: Gated DeltaNet and gated full attention (layer_types, or one full layer every
    # full_attention_interval), Qwen2-MoE-style MLP; the MTP module (mtp_num_hidden_layers) is not built
    "qwen3_next": Family("Qwen3NextForCausalLM",
                         _GQA | {"attention_bias", "num_experts", "moe_intermediate_size", "shared_expert_intermediate_size",
                                 "decoder_sparse_step", "mlp_only_layers", "linear_conv_kernel_dim", "linear_key_head_dim",
                                 "linear_value_head_dim", "linear_num_key_heads", "linear_num_value_heads",
                                 "full_attention_interval", "layer_types"},
                         {"attention_bias": False, "tie_word_embeddings": False}, False, _qwen3_next,
                         defaults={"intermediate_size": 5632, "decoder_sparse_step": 1, "full_attention_interval": 4}),
    # GLM-4.7-Flash: DeepSeek-V3's MLA + MoE layer under Zhipu's class (Glm4MoeLiteConfig has no mlp_bias)
    "glm4_moe_lite": Family("Glm4MoeLiteForCausalLM", _MLA, {"attention_bias": False, "tie_word_embeddings": False}, True,
                            _deepseek(True)),
    # round 4 (held-out check): dense families, analytic/dense.py. SmolLM3Config has no head_dim field (the attention
    # reads getattr(config, "head_dim", hidden // heads)); Seed-OSS defaults head_dim to 128 and Hunyuan dense to None
    # (which the attention cannot use): both need it given; Gemma2Config defaults it to 256 (required here too)
    "smollm3": Family("SmolLM3ForCausalLM", _GQA | {"attention_bias", "mlp_bias"},
                      {"attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True}, True, _smollm3),
    "seed_oss": Family("SeedOssForCausalLM", _GQA | {"attention_bias", "attention_out_bias", "mlp_bias"},
                       {"attention_bias": True, "attention_out_bias": False, "mlp_bias": False,
                        "tie_word_embeddings": False}, False, _seed_oss),
    "hunyuan_v1_dense": Family("HunYuanDenseV1ForCausalLM", _GQA | {"attention_bias"},
                               {"attention_bias": False, "tie_word_embeddings": False}, False, _hunyuan_dense),
    "gemma2": Family("Gemma2ForCausalLM", _GQA | {"attention_bias"}, {"attention_bias": False, "tie_word_embeddings": True},
                     False, _gemma2),
}
# the families with DeepSeek's multi-head latent attention (head_dim and num_key_value_heads not read)
MLA_TYPES = frozenset({"deepseek_v2", "deepseek_v3", "deepseek_v32", "glm_moe_dsa", "glm4_moe_lite"})
# model_type -> family, for vendors' names of a built-in architecture (Moonshot's Kimi-K2 config.json says
# model_type "kimi_k2" with architectures ["DeepseekV3ForCausalLM"])
# Tencent's "hunyuan" model_type (architectures HunYuanMoEV1ForCausalLM) is transformers' hunyuan_v1_moe; its
# config.json names the head width attention_head_dim, which params_config.count_analytic reads as head_dim with
# the same note the meta-device count gives
ALIASES = {"kimi_k2": "deepseek_v3", "hunyuan": "hunyuan_v1_moe"}
# per family: config keys checked by value (fields transformers does not read, accepted only where they agree with
# the model it builds)
_CHECKED: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], bool]]] = {
    "qwen3_next": (frozenset(), qwen3_next_fields_match),
    # Glm4MoeLite builds layer 0 dense and every other layer MoE (its mlp_layer_types default) whatever
    # first_k_dense_replace says: accepted only at 1, the value that describes that model
    "glm4_moe_lite": (frozenset(), lambda c: c.get("first_k_dense_replace") == 1),
    "hunyuan_v1_moe": (frozenset({"moe_intermediate_size", "num_shared_expert", "use_mixed_mlp_moe", "use_qk_norm",
                                  "use_cla", "moe_topk"}), _hunyuan_fields_match),
    "smollm3": (frozenset({"no_rope_layers", "no_rope_layer_interval"}), smollm3_fields_match),
    "seed_oss": (frozenset({"residual_dropout"}), lambda c: True),
    "hunyuan_v1_dense": (HUNYUAN_DENSE_CHECKED, hunyuan_dense_fields_match),
    "gemma2": (GEMMA2_CHECKED, gemma2_fields_match),
}
