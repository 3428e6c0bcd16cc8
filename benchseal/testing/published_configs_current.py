"""Published configs of current checkpoint formats (issue 26): the configs benchseal counted wrong as a new user
would meet them. Same rule as :mod:`benchseal.testing.published_configs`: each entry names the public copy it
was read from (a repository and path, or the stored-source file id where the search names no repository) and
what, if anything, was left out or restored; architecture keys only; nothing invented.

The tensor listings of the same checkpoints (names, shapes, dtypes) live next to their tests in
``tests/unit/bench/model/test_params_current_formats.py``."""

from __future__ import annotations

import math

# moonshotai/Kimi-K2.5: the KimiK25Config that transformers 5.7.0 printed for the real checkpoint directory
# (".../model/moonshotai/Kimi-K2.5") in a public model-information report (Chinese, stored-source file id
# 62530201892), which also lists every stored tensor (name pattern, shape, dtype; 64 shards, 208,550 tensors)
# and sums them naively to 170,738,182,128. The routed experts are compressed-tensors pack-quantized INT4
# (int32 *.weight_packed holding eight values, *.weight_scale, *.weight_shape); attention, shared experts,
# dense MLP and lm_head stay bfloat16 (the "ignore" list). The printout shows quantization_config both at the
# top level and inside text_config; KIMI_K25 keeps only the text_config copy (the nesting issue 26 reports);
# KIMI_K25_TOP_QUANT has both, as printed. Left out: transformers' runtime keys of the printout (id2label,
# return_dict, use_cache, torchscript, ... and the top-level ignore_index). A second public copy, a flattened
# config in github.com/ai-dynamo/aiconfigurator src/aiconfigurator/model_configs/moonshotai--Kimi-K2.5_config.json
# (commit 821eb9a651450cef303fb858289bca98959fe4c2), agrees on every width, layer and expert count and on the
# vision tower (27 layers, width 1152, MLP 4304, patch 14, 64 x 64 position grid, 2 x 2 merge, patchmerger).
# Published (model card): 1T total parameters, 32B activated.
_K25_QUANT = {
    "config_groups": {"group_0": {
        "input_activations": None, "output_activations": None, "targets": ["Linear"],
        "weights": {"actorder": None, "block_structure": None, "dynamic": False, "group_size": 32, "num_bits": 4,
                    "observer": "minmax", "observer_kwargs": {}, "strategy": "group", "symmetric": True,
                    "type": "int"}}},
    "format": "pack-quantized",
    "ignore": ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*", "re:.*mlp\\.(gate|up|gate_up|down)_proj.*"],
    "kv_cache_scheme": None, "quant_method": "compressed-tensors", "quantization_status": "compressed",
}
KIMI_K25 = {
    "architectures": ["KimiK25ForConditionalGeneration"],
    "auto_map": {"AutoConfig": "configuration_kimi_k25.KimiK25Config",
                 "AutoModel": "modeling_kimi_k25.KimiK25ForConditionalGeneration",
                 "AutoModelForCausalLM": "modeling_kimi_k25.KimiK25ForConditionalGeneration"},
    "bos_token_id": 163584, "dtype": "bfloat16", "eos_token_id": 163585, "media_placeholder_token_id": 163605,
    "model_type": "kimi_k25", "pad_token_id": 163839,
    "text_config": {
        "architectures": ["DeepseekV3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "aux_loss_alpha": 0.001, "bos_token_id": 163584, "dtype": "bfloat16", "eos_token_id": 163585, "ep_size": 1,
        "first_k_dense_replace": 1, "hidden_act": "silu", "hidden_size": 7168, "initializer_range": 0.02,
        "intermediate_size": 18432, "kv_lora_rank": 512, "max_position_embeddings": 262144,
        "model_type": "deepseek_v3", "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 1,
        "n_routed_experts": 384, "n_shared_experts": 1, "norm_topk_prob": True, "num_attention_heads": 64,
        "num_experts_per_tok": 8, "num_hidden_layers": 61, "num_key_value_heads": 64, "num_nextn_predict_layers": 0,
        "pad_token_id": 163839, "pretraining_tp": 1, "q_lora_rank": 1536, "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64, "quantization_config": _K25_QUANT, "rms_norm_eps": 1e-05,
        "rope_parameters": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 64.0, "mscale": 1.0, "mscale_all_dim": 1.0,
                            "original_max_position_embeddings": 4096, "rope_theta": 50000.0, "rope_type": "yarn",
                            "type": "yarn"},
        "rope_theta": 50000.0, "routed_scaling_factor": 2.827, "scoring_func": "sigmoid", "seq_aux": True,
        "tie_word_embeddings": False, "topk_group": 1, "topk_method": "noaux_tc", "v_head_dim": 128,
        "vocab_size": 163840,
    },
    "tie_word_embeddings": False, "transformers_version": "5.7.0", "use_unified_vision_chunk": True,
    "video_placeholder": "<|kimi_k25_video_placeholder|>",
    "vision_config": {
        "init_pos_emb_height": 64, "init_pos_emb_time": 4, "init_pos_emb_width": 64, "merge_kernel_size": [2, 2],
        "merge_type": "sd2_tpool", "mm_hidden_size": 1152, "mm_projector_type": "patchmerger", "model_type": "",
        "patch_size": 14, "pos_emb_type": "divided_fixed", "projector_hidden_act": "gelu", "projector_ln_eps": 1e-05,
        "text_hidden_size": 7168, "video_attn_type": "spatial_temporal", "vt_hidden_size": 1152,
        "vt_intermediate_size": 4304, "vt_num_attention_heads": 16, "vt_num_hidden_layers": 27,
    },
}
KIMI_K25_TOP_QUANT = {**KIMI_K25, "quantization_config": _K25_QUANT}

# moonshotai/Kimi-Linear-48B-A3B (-Instruct / -Base): config.json as copied in a public Rust crate's test
# ("released_48b_config_parses_with_one_based_layer_map", stored-source file id 68953713753), every key as
# there. A second public copy (a conversion preflight test, id 60758563596) agrees on every width and count
# (hidden 2304, 27 layers, 32 heads, 256 experts of 1024, 8 per token, dense 9216, MLA ranks 512/128/64/128,
# first_k_dense_replace 1, full-attention layers 4, 8, ..., 27). The top-k is "num_experts_per_token",
# transformers' KimiLinearConfig attribute_map alias of num_experts_per_tok.
# Published (model card): 48B total parameters, 3B activated.
KIMI_LINEAR_48B_A3B = {
    "model_type": "kimi_linear", "hidden_act": "silu", "q_lora_rank": None, "mla_use_nope": True,
    "moe_router_activation_func": "sigmoid", "num_expert_group": 1, "topk_group": 1, "moe_layer_freq": 1,
    "tie_word_embeddings": False, "hidden_size": 2304, "num_hidden_layers": 27, "vocab_size": 163840,
    "rms_norm_eps": 1e-5, "num_attention_heads": 32, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64, "v_head_dim": 128, "num_experts": 256, "num_experts_per_token": 8,
    "num_shared_experts": 1, "moe_intermediate_size": 1024, "routed_scaling_factor": 2.446, "moe_renormalize": True,
    "first_k_dense_replace": 1, "intermediate_size": 9216, "eos_token_id": 163586,
    "linear_attn_config": {"full_attn_layers": [4, 8, 12, 16, 20, 24, 27], "head_dim": 128, "num_heads": 32,
                           "short_conv_kernel_size": 4},
}

# nvidia Nemotron 3 Nano 30B-A3B (Nemotron-H hybrid: Mamba-2, attention and MoE layers, tensors under
# "backbone.", backbone.embeddings.weight): the language-model config ("llm_config", "the 30B-A3B") of
# nvidia/Nemotron-3-Nano-Omni-30B-A3B-Reasoning-BF16, transcribed "verbatim from the BF16 checkpoint" in a public
# vLLM checkpoint-configuration reference (stored-source file id 59050332354, section 5). That transcription has
# "time_step_limit": [0.0, 1e30]; the published NVIDIA-Nemotron-3-Nano-30B-A3B configs write [0.0, Infinity]
# (huggingface/transformers pull request #42959: "https://huggingface.co/nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16
# where the config.json cannot be parsed by the Hub as it contains non-JSON values"; ome-projects/ome pull
# request #470 names "time_step_limit" in NVIDIA-Nemotron-3-Nano-30B-A3B-Base-BF16/config.json), restored here.
# Runtime-only keys of the transcription (use_cache, initializer_range, num_logits_to_keep) left out.
NEMOTRON3_NANO_30B_A3B = {
    "model_type": "nemotron_h", "hidden_size": 2688, "num_hidden_layers": 52, "vocab_size": 131072,
    "tie_word_embeddings": False, "hybrid_override_pattern": "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME",
    "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128, "rope_theta": 10000,
    "partial_rotary_factor": 1.0, "max_position_embeddings": 262144, "sliding_window": None,
    "mamba_num_heads": 64, "mamba_head_dim": 64, "n_groups": 8, "ssm_state_size": 128, "conv_kernel": 4,
    "expand": 2, "chunk_size": 128, "use_conv_bias": True, "mamba_proj_bias": False, "mamba_hidden_act": "silu",
    "time_step_min": 0.001, "time_step_max": 0.1, "time_step_floor": 0.0001, "time_step_limit": [0.0, math.inf],
    "n_routed_experts": 128, "num_experts_per_tok": 6, "moe_intermediate_size": 1856, "n_shared_experts": 1,
    "moe_shared_expert_intermediate_size": 3712, "norm_topk_prob": True, "routed_scaling_factor": 2.5,
    "n_group": 1, "topk_group": 1, "intermediate_size": 1856, "mlp_hidden_act": "relu2", "mlp_bias": False,
    "norm_eps": 1e-05, "layer_norm_epsilon": 1e-05, "residual_in_fp32": False, "rescale_prenorm_residual": True,
    "attention_bias": False, "attention_dropout": 0.0, "hidden_dropout": 0.0, "use_mamba_kernels": True,
    "use_bias": False, "bos_token_id": 1, "eos_token_id": 11, "pad_token_id": 0,
}

# Qwen/Qwen3.5-397B-A17B config.json, as copied in github.com/ai-dynamo/aiconfigurator
# src/aiconfigurator/model_configs/Qwen--Qwen3.5-397B-A17B_config.json (commit
# 87fe4b0c7ef0004cbd45263de0be8aa89be5ebad), every key as there. The checkpoint stores its multi-token-prediction
# module under the top-level prefix mtp.* (transformers' Qwen3_5MoeForConditionalGeneration drops "^mtp.*" on
# load). Published (model card): 397B total, 17B activated.
QWEN35_397B_A17B = {
    "architectures": ["Qwen3_5MoeForConditionalGeneration"], "image_token_id": 248056, "model_type": "qwen3_5_moe",
    "text_config": {
        "attention_bias": False, "attention_dropout": 0.0, "attn_output_gate": True, "dtype": "bfloat16",
        "eos_token_id": 248044, "full_attention_interval": 4, "head_dim": 256, "hidden_act": "silu",
        "hidden_size": 4096, "initializer_range": 0.02,
        "layer_types": ["linear_attention", "linear_attention", "linear_attention", "full_attention"] * 15,
        "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_num_key_heads": 16,
        "linear_num_value_heads": 64, "linear_value_head_dim": 128, "max_position_embeddings": 262144,
        "mlp_only_layers": [], "model_type": "qwen3_5_moe_text", "moe_intermediate_size": 1024,
        "mtp_num_hidden_layers": 1, "mtp_use_dedicated_embeddings": False, "num_attention_heads": 32,
        "num_experts": 512, "num_experts_per_tok": 10, "num_hidden_layers": 60, "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06, "router_aux_loss_coef": 0.001, "shared_expert_intermediate_size": 1024,
        "use_cache": True, "vocab_size": 248320,
    },
    "tie_word_embeddings": False, "transformers_version": "4.57.0.dev0", "video_token_id": 248057,
    "vision_config": {
        "depth": 27, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 1152, "in_channels": 3,
        "intermediate_size": 4304, "model_type": "qwen3_5_moe", "num_heads": 16, "num_position_embeddings": 2304,
        "out_hidden_size": 4096, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
    },
    "vision_end_token_id": 248054, "vision_start_token_id": 248053,
}

# MiniMaxAI/MiniMax-M2: config.json as copied into a public engine's compatibility test as "_official_config"
# (stored-source file id 54675701775; torch_dtype written there as torch.bfloat16, restored to the file's string).
# Two further public copies agree on every width, layer and expert count: a monitoring test's "_config" (id
# 66857997877: also rms_norm_eps 1e-6, attention_bias false, attn_type_list [1] x 62, max_position_embeddings
# 204800) and a Go engine's fixture (id 62596936354). transformers' MiniMaxM2Config reads none of rotary_dim
# (partial RoPE), use_qk_norm / qk_norm_type (it always builds per-layer q/k norms), use_routing_bias (it always
# builds the e_score_correction_bias buffer), shared_intermediate_size (no shared expert) or the MTP fields (not
# built). Published (model card): 230B total parameters, 10B activated.
MINIMAX_M2 = {
    "architectures": ["MiniMaxM2ForCausalLM"], "model_type": "minimax_m2", "vocab_size": 200064, "hidden_size": 3072,
    "intermediate_size": 1536, "num_hidden_layers": 62, "num_attention_heads": 48, "num_key_value_heads": 8,
    "head_dim": 128, "rotary_dim": 64, "num_local_experts": 256, "num_experts_per_tok": 8,
    "max_position_embeddings": 204800, "shared_intermediate_size": 0, "mtp_transformer_layers": 1,
    "num_mtp_modules": 3, "hidden_act": "silu", "qk_norm_type": "per_layer", "scoring_func": "sigmoid",
    "use_qk_norm": True, "use_routing_bias": True, "use_mtp": True, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "quantization_config": {"activation_scheme": "dynamic", "fmt": "float8_e4m3fn", "quant_method": "fp8",
                            "weight_block_size": [128, 128],
                            "modules_to_not_convert": ["gate", "e_score_correction_bias", "lm_head"]},
}

# MiniMaxAI/MiniMax-M1 (remote code: model_type minimax_m1, MiniMaxM1ForCausalLM): config.json as in the public copy
# of the model repository github.com/Mind-Vault-AI/MiniMax-M1 at commit e8e65adb296d73870baf3c32d963cd559e5abefe
# ("add README and model files", 2025-06-16, with modeling_minimax_m1.py and model.safetensors.index.json), every
# key as there; a second public copy (a parameter-counter test, stored-source file id 1570491832) agrees on every
# key. attn_type_list: seven lightning-attention layers (0) then one softmax layer (1), ten times.
# Published: model card "456 billion parameters with 45.9 billion parameters activated per token"; the index's
# metadata.total_size is 912,210,767,872 bytes (tests/unit/bench/model/test_analytic_remote.py).
MINIMAX_M1 = {
    "architectures": ["MiniMaxM1ForCausalLM"], "attention_dropout": 0.0, "attn_type_list": [0] * 7 + [1] + ([0] * 7 + [1]) * 9,
    "auto_map": {"AutoConfig": "configuration_minimax_m1.MiniMaxM1Config",
                 "AutoModelForCausalLM": "modeling_minimax_m1.MiniMaxM1ForCausalLM"},
    "bos_token_id": None, "eos_token_id": None, "head_dim": 128, "hidden_act": "silu", "hidden_size": 6144,
    "initializer_range": 0.02, "intermediate_size": 9216, "layernorm_full_attention_alpha": 3.5565588200778455,
    "layernorm_full_attention_beta": 1.0, "layernorm_linear_attention_alpha": 3.5565588200778455,
    "layernorm_linear_attention_beta": 1.0, "layernorm_mlp_alpha": 3.5565588200778455, "layernorm_mlp_beta": 1.0,
    "max_position_embeddings": 10240000, "model_type": "minimax_m1", "num_attention_heads": 64,
    "num_experts_per_tok": 2, "num_hidden_layers": 80, "num_key_value_heads": 8, "num_local_experts": 32,
    "output_router_logits": False, "postnorm": True, "rms_norm_eps": 1e-05, "rope_theta": 10000000, "rotary_dim": 64,
    "router_aux_loss_coef": 0.001, "router_jitter_noise": 0.0, "shared_intermediate_size": 0,
    "shared_moe_mode": "sigmoid", "sliding_window": None, "tie_word_embeddings": False,
    "transformers_version": "4.45.2", "use_cache": True, "vocab_size": 200064,
}


# internlm/internlm2-chat-7b (remote code: model_type internlm2, InternLM2ForCausalLM): config.json as in the public
# copy of the model repository github.com/NanSang2000/S1mpleAgent at commit 4275caa205dbb8ff83930e2c1ce6bc62ec49329c
# (its history is the model repository's: "initial commit internlm2-chat-7b model", ..., "update model weights"),
# every key as there. Published: model.safetensors.index.json metadata.total_size 15,475,417,088 bytes (bfloat16);
# card: "a 7 billion parameter base model and a chat model".
INTERNLM2_CHAT_7B = {"architectures": ["InternLM2ForCausalLM"],
 "attn_implementation": "eager",
 "auto_map": {"AutoConfig": "configuration_internlm2.InternLM2Config",
              "AutoModelForCausalLM": "modeling_internlm2.InternLM2ForCausalLM",
              "AutoModel": "modeling_internlm2.InternLM2ForCausalLM"},
 "bias": False,
 "bos_token_id": 1,
 "eos_token_id": 2,
 "hidden_act": "silu",
 "hidden_size": 4096,
 "initializer_range": 0.02,
 "intermediate_size": 14336,
 "max_position_embeddings": 32768,
 "model_type": "internlm2",
 "num_attention_heads": 32,
 "num_hidden_layers": 32,
 "num_key_value_heads": 8,
 "pad_token_id": 2,
 "rms_norm_eps": 1e-05,
 "rope_scaling": None,
 "rope_theta": 1000000,
 "tie_word_embeddings": False,
 "torch_dtype": "bfloat16",
 "transformers_version": "4.37.1",
 "use_cache": True,
 "vocab_size": 92544}

# baichuan-inc/Baichuan2-13B-Chat (remote code: model_type baichuan, BaichuanForCausalLM): config.json as in the public
# copy of the model repository github.com/jrd77/Baichuan2-13B-Chat at commit d022d7264467b2c3bc483e7a3a17105dedba50b8
# (config.json last changed in c21a0af62ff57121541fe983ce620bf3e8d70696, "Update config.json"), every key as there.
# Published: pytorch_model.bin.index.json metadata.total_size 27,793,336,320 bytes (bfloat16); card: 13B.
BAICHUAN2_13B_CHAT = {"_from_model_config": True,
 "architectures": ["BaichuanForCausalLM"],
 "auto_map": {"AutoConfig": "configuration_baichuan.BaichuanConfig",
              "AutoModelForCausalLM": "modeling_baichuan.BaichuanForCausalLM"},
 "tokenizer_class": "BaichuanTokenizer",
 "bos_token_id": 1,
 "eos_token_id": 2,
 "gradient_checkpointing": False,
 "hidden_act": "silu",
 "hidden_size": 5120,
 "initializer_range": 0.02,
 "intermediate_size": 13696,
 "model_max_length": 4096,
 "model_type": "baichuan",
 "num_attention_heads": 40,
 "num_hidden_layers": 40,
 "pad_token_id": 0,
 "rms_norm_eps": 1e-06,
 "tie_word_embeddings": False,
 "torch_dtype": "bfloat16",
 "transformers_version": "4.29.2",
 "use_cache": True,
 "vocab_size": 125696}
