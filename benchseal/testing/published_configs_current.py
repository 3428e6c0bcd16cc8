"""Published configs of current checkpoint formats (issue 26): the configs benchseal counted wrong as a new user
would meet them. Same rule as :mod:`benchseal.testing.published_configs`: each entry names the public copy it
was read from (a repository and path, or the stored-source file id where the search names no repository) and
what, if anything, was left out or restored; architecture keys only; nothing invented.

The tensor listings of the same checkpoints (names, shapes, dtypes) live next to their tests in
``tests/unit/bench/model/test_params_current_formats.py``."""

from __future__ import annotations

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
