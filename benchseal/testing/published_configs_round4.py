"""Held-out check, round 4 (issue 26, "held-out checks on published models no one here has seen"): published
configs of current models this project had not tested, as a new user would meet them. Same rule as
:mod:`benchseal.testing.published_configs`: each entry names the public copy it was read from (a repository, path
and commit, or the stored-source file id where the search names no repository), what was left out or restored,
and the published figure it is checked against; nothing invented. Per-layer lists are written as the expressions
that reproduce the published lists.

Ground truth, best first: a checkpoint index's ``metadata.total_size`` (bytes) divided by the bytes per parameter,
a published tensor listing's sum, the shard file sizes, else the model card's figure."""

from __future__ import annotations

# HuggingFaceTB/SmolLM3-3B config.json, verbatim: github.com/fetchwiki/HuggingFaceTB-SmolLM3-3B config.json
# (commit 24f7882f92998ee0e691d105ade637afc3e5171f; a mirror of huggingface.co/HuggingFaceTB/SmolLM3-3B). Its
# model_files.json (same commit) lists the two bf16 shards: 4,966,315,264 + 1,183,919,744 bytes, i.e. 2 bytes per
# parameter plus each file's 8-byte length and JSON header. Published (model card): 3B (3.08B).
SMOLLM3_3B = {
    "architectures": ["SmolLM3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 128000,
    "eos_token_id": 128012, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
    "intermediate_size": 11008, "layer_types": ["full_attention"] * 36, "max_position_embeddings": 65536,
    "max_window_layers": 28, "mlp_bias": False, "model_type": "smollm3", "no_rope_layer_interval": 4,
    "no_rope_layers": [1, 1, 1, 0] * 9, "num_attention_heads": 16, "num_hidden_layers": 36, "num_key_value_heads": 4,
    "pad_token_id": 128004, "pretraining_tp": 2, "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 5000000.0,
    "sliding_window": None, "torch_dtype": "bfloat16", "transformers_version": "4.54.0.dev0", "use_cache": False,
    "use_sliding_window": False, "vocab_size": 128256,
}
SMOLLM3_3B_SHARD_BYTES = 4_966_315_264 + 1_183_919_744

# ByteDance-Seed/Seed-OSS-36B-Instruct: a trimmed copy of its config.json in a public Rust test ("A trimmed
# Seed-OSS-36B-Instruct-4bit config ... Mirrors the real checkpoint's config.json", stored-source file id
# 54501653118), without the MLX conversion's "quantization" block. Corroborated: a Swift test's configJSON (id
# 55089675296; same widths, heads, head_dim 128, vocab, untied) and MindSpeed-LLM's Seed-OSS-36B entry (id
# 65742008784; 64 layers, 5120, 80 heads, 8 KV heads, FFN 27648, vocab 155136). No architectures key in the copies;
# none is added. Published (model card): 36B.
SEED_OSS_36B = {
    "model_type": "seed_oss", "attention_bias": True, "attention_out_bias": False, "head_dim": 128, "hidden_size": 5120,
    "intermediate_size": 27648, "max_position_embeddings": 524288, "mlp_bias": False, "num_attention_heads": 80,
    "num_hidden_layers": 64, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": {"rope_type": "default"},
    "rope_theta": 10000000.0, "tie_word_embeddings": False, "vocab_size": 155136,
}

# tencent/Hy-MT2-7B (Hunyuan-MT, the 7B dense Hunyuan architecture): its config.json as printed by `cat` in a public
# agent log (stored-source file id 54881451550, transformers_version 4.57.6), every key. Corroborated by
# PromptEnhancer-7B's config (the same Hunyuan-7B architecture) in a public estimator (id 61714793975) and a recipe
# test's HF_HY_MT2_7B (id 65893726871): same widths, head_dim 128, tied, use_qk_norm. Note both attention_head_dim and
# head_dim (128) and several keys transformers' HunYuanDenseV1Config does not declare (cla_share_factor, dense_list,
# pool_type, ...). Published: 7B (the Hunyuan-7B family).
HY_MT2_7B = {
    "add_classification_head": False, "architectures": ["HunYuanDenseV1ForCausalLM"], "attention_bias": False,
    "attention_dropout": 0.1, "attention_head_dim": 128, "bos_token_id": 127958, "cla_share_factor": 2, "class_num": 0,
    "dense_list": [4096, 0], "torch_dtype": "bfloat16", "eos_token_id": 127960, "head_dim": 128, "hidden_act": "silu",
    "hidden_size": 4096, "im_end_id": 5, "im_newline_id": 11, "im_start_id": 4, "initializer_range": 0.02,
    "intermediate_size": 14336, "mask_init_id": 12, "max_position_embeddings": 262144, "mlp_bias": False,
    "model_type": "hunyuan_v1_dense", "norm_type": "rms", "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "org_vocab_size": 128167, "pad_id": 127961, "pad_token_id": 127961, "pool_type": "last",
    "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"alpha": 1000.0, "beta_fast": 32, "beta_slow": 1, "factor": 1.0, "mscale": 1.0,
                     "mscale_all_dim": 1.0, "type": "dynamic"},
    "rope_theta": 10000.0, "sep_token_id": 127962, "text_end_id": 7, "text_start_id": 6, "tie_word_embeddings": True,
    "transformers_version": "4.57.6", "use_cache": True, "use_cla": False, "use_qk_norm": True,
    "use_rotary_pos_emb": True, "vocab_size": 128167,
}

# internlm/internlm3-8b-instruct: the "realConfigJSON" of a public Swift test (stored-source file id 55463440875),
# every key it has (the published file also has auto_map and token ids, not in that copy). Corroborated by a Rust
# test's copy of mlx-community/internlm3-8b-instruct-4bit's config (id 61273165626): same widths, 48 layers, 2 KV
# heads, vocab 128512, dynamic rope factor 6, untied. Published (model card): 8B.
INTERNLM3_8B = {
    "architectures": ["InternLM3ForCausalLM"], "bias": False, "head_dim": 128, "hidden_size": 4096,
    "intermediate_size": 10240, "max_position_embeddings": 32768, "model_type": "internlm3", "num_attention_heads": 32,
    "num_hidden_layers": 48, "num_key_value_heads": 2, "qkv_bias": False, "rms_norm_eps": 0.00001,
    "rope_scaling": {"factor": 6.0, "rope_type": "dynamic"}, "rope_theta": 50000000, "tie_word_embeddings": False,
    "vocab_size": 128512,
}

# google/gemma-2-9b config.json, verbatim in a public model-zoo script (stored-source file id 7768956847,
# "gemma_2_9b", transformers_version 4.42.0.dev0); transformers' printout of the same file (id 45489134318,
# "_name_or_path": "google/gemma-2-9b", 4.45.2) agrees on every key but torch_dtype. Published: 9B (Gemma 2 report).
GEMMA2_9B = {
    "architectures": ["Gemma2ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1,
    "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16, "num_hidden_layers": 42,
    "num_key_value_heads": 8, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06,
    "rope_theta": 10000.0, "sliding_window": 4096, "sliding_window_size": 4096, "torch_dtype": "float32",
    "transformers_version": "4.42.0.dev0", "use_cache": True, "vocab_size": 256000,
}

# google/medgemma-27b-it (the Gemma 3 27B architecture, text + SigLIP vision): config.json verbatim from
# github.com/Ibtasam-98/medgemma-27b-it (commit 248890241658b01897602b12d3b9fc920ecb4676), whose
# model.safetensors.index.json (same commit) gives metadata.total_size 54,864,813,280 bytes (all bfloat16:
# 27,432,406,640 parameters; its "total_parameters" 28,842,036,848 counts the tied 262,208 x 5,376 embedding twice).
# Published: Gemma 3 report, 27B: 417M vision, 1,416M embedding, 25,600M non-embedding.
_G3_27B_LAYERS = (["sliding_attention"] * 5 + ["full_attention"]) * 10 + ["sliding_attention"] * 2
MEDGEMMA_27B_IT = {
    "architectures": ["Gemma3ForConditionalGeneration"], "boi_token_index": 255999, "eoi_token_index": 256000,
    "eos_token_id": [1, 106], "image_token_index": 262144, "initializer_range": 0.02, "mm_tokens_per_image": 256,
    "model_type": "gemma3",
    "text_config": {
        "attention_bias": False, "attention_dropout": 0.0, "attn_logit_softcapping": None,
        "final_logit_softcapping": None, "head_dim": 128, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 5376,
        "initializer_range": 0.02, "intermediate_size": 21504, "layer_types": _G3_27B_LAYERS,
        "max_position_embeddings": 131072, "model_type": "gemma3_text", "num_attention_heads": 32,
        "num_hidden_layers": 62, "num_key_value_heads": 16, "query_pre_attn_scalar": 168, "rms_norm_eps": 1e-06,
        "rope_local_base_freq": 10000, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "rope_theta": 1000000,
        "sliding_window": 1024, "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": 262208,
    },
    "torch_dtype": "bfloat16", "transformers_version": "4.54.0.dev0",
    "vision_config": {
        "attention_dropout": 0.0, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 1152, "image_size": 896,
        "intermediate_size": 4304, "layer_norm_eps": 1e-06, "model_type": "siglip_vision_model", "num_attention_heads": 16,
        "num_channels": 3, "num_hidden_layers": 27, "patch_size": 14, "torch_dtype": "bfloat16", "vision_use_head": False,
    },
}
MEDGEMMA_27B_IT_TOTAL_SIZE = 54_864_813_280

# mistralai/Mistral-Small-3.2-24B-Instruct-2506 (model_type mistral3: Pixtral vision tower + Mistral text model):
# the config.json a public FLUX.2 text-encoder loader embeds verbatim ("M3_CONFIG_JSON", transformers_version
# 4.57.1; stored-source file id 5155030191; the loader's tokenizer is Mistral-Small-3.1-24B-Instruct-2503, same
# architecture). Its text model has the widths of mistralai/Devstral-Small-2507 below (Mistral-Small-3.1's text
# model), whose index gives the text model's exact count. Published (model card): 24B.
MISTRAL_SMALL_32_24B = {
    "architectures": ["Mistral3ForConditionalGeneration"], "dtype": "bfloat16", "image_token_index": 10,
    "model_type": "mistral3", "multimodal_projector_bias": False, "projector_hidden_act": "gelu", "spatial_merge_size": 2,
    "text_config": {
        "attention_dropout": 0.0, "dtype": "bfloat16", "head_dim": 128, "hidden_act": "silu", "hidden_size": 5120,
        "initializer_range": 0.02, "intermediate_size": 32768, "max_position_embeddings": 131072, "model_type": "mistral",
        "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
        "rope_theta": 1000000000.0, "sliding_window": None, "use_cache": True, "vocab_size": 131072,
    },
    "transformers_version": "4.57.1",
    "vision_config": {
        "attention_dropout": 0.0, "dtype": "bfloat16", "head_dim": 64, "hidden_act": "silu", "hidden_size": 1024,
        "image_size": 1540, "initializer_range": 0.02, "intermediate_size": 4096, "model_type": "pixtral",
        "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 24, "patch_size": 14, "rope_theta": 10000.0,
    },
    "vision_feature_layer": -1,
}

# mistralai/Devstral-Small-2507: github.com/fetchwiki/mistralai-Devstral-Small-2507 (commit
# bc3721c07bf4218d98ed05ea1cff91918ef2b17f, a mirror of the hub repository) has Mistral's own params.json (below,
# verbatim) and model.safetensors.index.json with metadata total_parameters 23,572,403,200 and total_size
# 47,144,806,400 bytes (bf16), but no config.json (its model_files.json names MistralForCausalLM / mistral).
# Published: 24B.
DEVSTRAL_SMALL_2507_PARAMS = {
    "dim": 5120, "n_layers": 40, "head_dim": 128, "hidden_dim": 32768, "n_heads": 32, "n_kv_heads": 8,
    "rope_theta": 1000000000.0, "norm_eps": 1e-05, "vocab_size": 131072,
}
DEVSTRAL_SMALL_2507_TOTAL_SIZE = 47_144_806_400

# Qwen/Qwen3-VL-4B-Instruct: the config a public Wan/DiffSynth encoder builds Qwen3VLModel from ("instantiated from
# an explicit config"; stored-source file id 2019652574, transformers_version 4.57.0.dev0), every key. Corroborated
# by a Rust test's hf_4b_json (id 62663972414): same text widths, tied, vision depth 24, width 1024, 2304 position
# embeddings, out 2560, deepstack [5, 11, 17]. Published (model card): 4B.
QWEN3_VL_4B = {
    "architectures": ["Qwen3VLForConditionalGeneration"], "image_token_id": 151655, "model_type": "qwen3_vl",
    "text_config": {
        "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 151643, "dtype": "bfloat16",
        "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 2560, "initializer_range": 0.02,
        "intermediate_size": 9728, "max_position_embeddings": 262144, "model_type": "qwen3_vl_text",
        "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
        "rope_scaling": {"mrope_interleaved": True, "mrope_section": [24, 20, 20], "rope_type": "default"},
        "rope_theta": 5000000, "tie_word_embeddings": True, "use_cache": True, "vocab_size": 151936,
    },
    "tie_word_embeddings": True, "transformers_version": "4.57.0.dev0", "video_token_id": 151656,
    "vision_config": {
        "deepstack_visual_indexes": [5, 11, 17], "depth": 24, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 1024,
        "in_channels": 3, "initializer_range": 0.02, "intermediate_size": 4096, "model_type": "qwen3_vl", "num_heads": 16,
        "num_position_embeddings": 2304, "out_hidden_size": 2560, "patch_size": 16, "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    },
    "vision_end_token_id": 151653, "vision_start_token_id": 151652,
}

# Qwen/Qwen3-Coder-480B-A35B-Instruct: the architecture values of a public model registry's entry ("name":
# "Qwen/Qwen3-Coder-480B-A35B-Instruct"; stored-source file id 54993165207; its "architecture" key is the registry's
# spelling of architectures). Corroborated by an MLX expert-offload profile of the same model (id 52563305460:
# hidden 6144, 62 layers, 160 experts, 8 per token, expert matrices 6144 x 2560). tie_word_embeddings is not in the
# copy (Qwen3MoeConfig's default, false, applies). Published (model card): 480B total, 35B activated.
QWEN3_CODER_480B_A35B = {
    "architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 6144, "intermediate_size": 8192,
    "moe_intermediate_size": 2560, "num_hidden_layers": 62, "num_attention_heads": 96, "num_key_value_heads": 8,
    "num_experts": 160, "num_experts_per_tok": 8, "vocab_size": 151936, "max_position_embeddings": 262144,
    "head_dim": 128, "torch_dtype": "bfloat16",
}

# Qwen/Qwen2.5-72B-Instruct: the hub config metadata of a public model registry's example entry (stored-source file
# id 67101837756, "Qwen/Qwen2.5-72B-Instruct-AWQ": the AWQ repository keeps the original config's architecture). A
# second copy (id 3250851890, "Qwen/Qwen2.5-72B": 80 layers, 64 heads, 8 KV heads, 8192, 29568, vocab 152064)
# agrees and quotes the card: 72.7B total, 70.0B non-embedding.
QWEN25_72B = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "num_hidden_layers": 80, "hidden_size": 8192,
    "intermediate_size": 29568, "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 128,
    "max_position_embeddings": 131072, "vocab_size": 152064, "torch_dtype": "bfloat16", "rope_theta": 1000000.0,
    "rope_scaling": {"type": "yarn", "factor": 4.0}, "tie_word_embeddings": False,
}

# zai-org/GLM-4.5V: the Glm4vMoeConfig that transformers 5.7.0 printed for the real checkpoint directory
# (".../opensource/GLM-4.5V") in a public model-information report (Chinese; stored-source file id 62538297598),
# every key; the same report prints the module tree and lists every stored tensor (46 shards, 18,106 tensors:
# language model with per-expert weights, q/k/v biases, F32 router e_score_correction_bias; vision tower with
# downsample conv, merger MLP and LayerNorm) and sums them to 107,710,933,120 parameters.
# Published: 106B total (GLM-4.5-Air base), 12B active; the sum above is the checkpoint's.
GLM45V = {
    "architectures": ["Glm4vMoeForConditionalGeneration"], "dtype": "bfloat16", "image_end_token_id": 151340,
    "image_start_token_id": 151339, "image_token_id": 151363, "model_type": "glm4v_moe",
    "text_config": {
        "attention_bias": True, "attention_dropout": 0.0, "bos_token_id": None, "dtype": "bfloat16",
        "eos_token_id": [151329, 151336, 151338], "first_k_dense_replace": 1, "head_dim": 128, "hidden_act": "silu",
        "hidden_size": 4096, "image_end_token_id": 151340, "image_start_token_id": 151339, "image_token_id": 151363,
        "initializer_range": 0.02, "intermediate_size": 10944, "max_position_embeddings": 65536,
        "model_type": "glm4v_moe_text", "moe_intermediate_size": 1408, "n_group": 1, "n_routed_experts": 128,
        "n_shared_experts": 1, "norm_topk_prob": True, "num_attention_heads": 96, "num_experts_per_tok": 8,
        "num_hidden_layers": 46, "num_key_value_heads": 8, "pad_token_id": 151329, "partial_rotary_factor": 0.5,
        "rms_norm_eps": 1e-05,
        "rope_parameters": {"mrope_section": [8, 12, 12], "partial_rotary_factor": 0.5, "rope_theta": 10000.0,
                            "rope_type": "default"},
        "routed_scaling_factor": 1.0, "router_aux_loss_coef": 0.0001, "tie_word_embeddings": False, "topk_group": 1,
        "use_cache": True, "use_qk_norm": False, "vocab_size": 151552,
    },
    "tie_word_embeddings": False, "transformers_version": "5.7.0", "video_end_token_id": 151342,
    "video_start_token_id": 151341, "video_token_id": 151364,
    "vision_config": {
        "attention_bias": False, "attention_dropout": 0.0, "depth": 24, "hidden_act": "silu", "hidden_size": 1536,
        "image_size": 336, "in_channels": 3, "initializer_range": 0.02, "intermediate_size": 10944,
        "model_type": "glm4v_moe_vision", "num_heads": 12, "out_hidden_size": 4096, "patch_size": 14,
        "rms_norm_eps": 1e-05, "spatial_merge_size": 2, "temporal_patch_size": 2,
    },
}
GLM45V_LISTED_TOTAL = 107_710_933_120

# meta-llama/Llama-4-Maverick-17B-128E-Instruct: TensorRT-LLM's LLAMA_4_MAVERICK_TWO_LAYER_CONFIG ("This is Llama4
# Maverick config but with only 2 layers"; stored-source file id 115210306, transformers_version 4.51.0.dev0), with
# its three marked test edits undone: text num_hidden_layers back to 48 ("Reduced to 2 layers from 48 layers"), the
# added no_rope_layer_interval removed ("Added so that both RoPE and no-RoPE layers are present"), and the vision
# num_hidden_layers, overridden to 0 there, set to 34, Llama-4-Scout's (published_configs.LLAMA4_SCOUT: every other
# vision key of the two copies is equal). "_attn_implementation_autoset" (a runtime attribute) is left out.
# Published (model card): 400B total, 17B active (Meta leaves out the vision encoder).
LLAMA4_MAVERICK = {
    "architectures": ["Llama4ForConditionalGeneration"], "boi_token_index": 200080, "eoi_token_index": 200081,
    "image_token_index": 200092, "model_type": "llama4",
    "text_config": {
        "attention_bias": False, "attention_chunk_size": 8192, "attention_dropout": 0.0, "bos_token_id": 200000,
        "eos_token_id": [200001, 200007, 200008], "for_llm_compressor": False, "head_dim": 128, "hidden_act": "silu",
        "hidden_size": 5120, "initializer_range": 0.02, "interleave_moe_layer_step": 2, "intermediate_size": 8192,
        "intermediate_size_mlp": 16384, "max_position_embeddings": 1048576, "model_type": "llama4_text",
        "num_attention_heads": 40, "num_experts_per_tok": 1, "num_hidden_layers": 48, "num_key_value_heads": 8,
        "num_local_experts": 128, "output_router_logits": False, "pad_token_id": 200018, "rms_norm_eps": 1e-05,
        "rope_scaling": None, "rope_theta": 500000.0, "router_aux_loss_coef": 0.001, "router_jitter_noise": 0.0,
        "torch_dtype": "bfloat16", "use_cache": True, "use_qk_norm": False, "vocab_size": 202048,
    },
    "torch_dtype": "bfloat16", "transformers_version": "4.51.0.dev0",
    "vision_config": {
        "attention_dropout": 0.0, "hidden_act": "gelu", "hidden_size": 1408, "image_size": 336, "initializer_range": 0.02,
        "intermediate_size": 5632, "model_type": "llama4_vision_model", "multi_modal_projector_bias": False,
        "norm_eps": 1e-05, "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 34, "patch_size": 14,
        "pixel_shuffle_ratio": 0.5, "projector_dropout": 0.0, "projector_input_dim": 4096, "projector_output_dim": 4096,
        "rope_theta": 10000, "vision_feature_layer": -1, "vision_feature_select_strategy": "default",
        "vision_output_dim": 4096,
    },
}

# Qwen/Qwen3-VL-30B-A3B-Instruct: "an inline copy of the REAL Qwen/Qwen3-VL-30B-A3B-Instruct/config.json structure
# (only the fields from_hf reads), transcribed byte-for-byte from the fetched file at commit 1fc78ad" in a public Rust
# test (stored-source file id 62478544309). Corroborated by a Swift test's realShapeConfigurationJSON (id 63372958554:
# the same text widths, 48 layers, 128 experts of 768, 8 per token, decoder_sparse_step 1, mlp_only_layers [],
# untied). Published (model card): 30B total (name "30B-A3B"), 3B activated.
QWEN3_VL_30B_A3B = {
    "architectures": ["Qwen3VLMoeForConditionalGeneration"], "image_token_id": 151655, "model_type": "qwen3_vl_moe",
    "text_config": {
        "attention_bias": False, "decoder_sparse_step": 1, "head_dim": 128, "hidden_size": 2048,
        "intermediate_size": 6144, "max_position_embeddings": 262144, "mlp_only_layers": [],
        "model_type": "qwen3_vl_moe_text", "moe_intermediate_size": 768, "norm_topk_prob": True,
        "num_attention_heads": 32, "num_experts": 128, "num_experts_per_tok": 8, "num_hidden_layers": 48,
        "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
        "rope_scaling": {"mrope_interleaved": True, "mrope_section": [24, 20, 20], "rope_type": "default"},
        "rope_theta": 5000000, "vocab_size": 151936,
    },
    "tie_word_embeddings": False, "video_token_id": 151656,
    "vision_config": {
        "deepstack_visual_indexes": [8, 16, 24], "depth": 27, "hidden_act": "gelu_pytorch_tanh", "hidden_size": 1152,
        "in_channels": 3, "intermediate_size": 4304, "model_type": "qwen3_vl_moe", "num_heads": 16,
        "num_position_embeddings": 2304, "out_hidden_size": 2048, "patch_size": 16, "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    },
    "vision_end_token_id": 151653, "vision_start_token_id": 151652,
}
