"""Published config.json files of THUDM's remote-code ChatGLM family (``model_type: chatglm``), for the analytic
count of :mod:`benchseal.bench.model.analytic.chatglm` (issue 26). Same rule as
:mod:`benchseal.testing.published_configs`: each entry names the public copy it was read from and what, if
anything, was left out; every key as there; nothing invented. The three public model-repository copies carry the
Hugging Face repositories' own git history (their commit messages and dates are THUDM's), so the commits named
are those of the files as THUDM published them.

Ground truth for the tests (tests/unit/bench/model/test_analytic_chatglm.py): the checkpoint indexes
(pytorch_model.bin.index.json) in the same copies, and, for GLM-4-9B-Chat, whose repository no public copy was
found of, published parameter counts of the vendor's class."""

from __future__ import annotations

_AUTO_MAP = {"AutoConfig": "configuration_chatglm.ChatGLMConfig",
             "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
             "AutoModelForCausalLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
             "AutoModelForSeq2SeqLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
             "AutoModelForSequenceClassification": "modeling_chatglm.ChatGLMForSequenceClassification"}

# THUDM/chatglm2-6b: config.json in github.com/syjjhl/chatglm2-6b at 8fd7fba285f7171d3ae7ea3b35c53b6340501ed1
# (last changed in 7c4804810cdcef59e2a8d23e983963c28b74a1e5, "Add classifier"). Its pytorch_model.bin.index.json
# (last changed in 90387f43bc1d74bf86dd9ceb6ea4f4e4fba8f913): metadata.total_size 12,487,168,064 bytes, float16.
CHATGLM2_6B = {
    "_name_or_path": "THUDM/chatglm2-6b", "model_type": "chatglm", "architectures": ["ChatGLMModel"],
    "auto_map": _AUTO_MAP,
    "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
    "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "attention_softmax_in_fp32": True,
    "bias_dropout_fusion": True, "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0,
    "hidden_size": 4096, "kv_channels": 128, "layernorm_epsilon": 1e-05, "multi_query_attention": True,
    "multi_query_group_num": 2, "num_attention_heads": 32, "num_layers": 28, "original_rope": True,
    "padded_vocab_size": 65024, "post_layer_norm": True, "rmsnorm": True, "seq_length": 32768, "use_cache": True,
    "torch_dtype": "float16", "transformers_version": "4.27.1", "tie_word_embeddings": False, "eos_token_id": 2,
    "pad_token_id": 0,
}

# THUDM/chatglm3-6b: config.json in github.com/czk1997/chatglm3-copy at 456aa875cf1f46623006edaa23103774ea9c0eae
# (last changed in 5777b27a2842f583812102999d86e26e3a26774c, "Update config": seq_length 32768 -> 8192). Its
# pytorch_model.bin.index.json (21ff72fb08ca14af74ecf41b6b180547af090172): total_size 12,487,168,064 bytes, float16.
CHATGLM3_6B = {
    "_name_or_path": "THUDM/chatglm3-6b", "model_type": "chatglm", "architectures": ["ChatGLMModel"],
    "auto_map": _AUTO_MAP,
    "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
    "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "attention_softmax_in_fp32": True,
    "bias_dropout_fusion": True, "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0,
    "hidden_size": 4096, "kv_channels": 128, "layernorm_epsilon": 1e-05, "multi_query_attention": True,
    "multi_query_group_num": 2, "num_attention_heads": 32, "num_layers": 28, "original_rope": True,
    "padded_vocab_size": 65024, "post_layer_norm": True, "rmsnorm": True, "seq_length": 8192, "use_cache": True,
    "torch_dtype": "float16", "transformers_version": "4.30.2", "tie_word_embeddings": False, "eos_token_id": 2,
    "pad_token_id": 0,
}

# THUDM/codegeex2-6b: config.json in github.com/Lionelpang/codegeex2-6b at 3cb3f8fa305c8188c6c997d0be2ccc4b87ba6f7f
# (last changed in ee1e7db429e587645bd3f0f4c3f5d8e6e843f2f6). interleaved_qkv and rotary_percent are read by no
# published modeling_chatglm.py (nor by this repository's). Its pytorch_model.bin.index.json
# (711c7bf95f20d638494d51c8b7d997b65986668e): total_size 12,487,168,064 bytes, bfloat16.
CODEGEEX2_6B = {
    "_name_or_path": "THUDM/codegeex2-6b", "model_type": "chatglm", "architectures": ["ChatGLMModel"],
    "auto_map": {k: v for k, v in _AUTO_MAP.items() if k != "AutoModelForSequenceClassification"},
    "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
    "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "attention_softmax_in_fp32": True,
    "bias_dropout_fusion": True, "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0,
    "hidden_size": 4096, "interleaved_qkv": False, "kv_channels": 128, "layernorm_epsilon": 1e-05,
    "multi_query_attention": True, "multi_query_group_num": 2, "num_attention_heads": 32, "num_layers": 28,
    "original_rope": True, "padded_vocab_size": 65024, "post_layer_norm": True, "rmsnorm": True, "rotary_percent": 0.5,
    "seq_length": 8192, "use_cache": True, "torch_dtype": "bfloat16", "transformers_version": "4.30.2",
    "tie_word_embeddings": False, "eos_token_id": 2,
}

# THUDM/glm-4-9b-chat: config.json as copied, verbatim, into a public web app's model-config drawer (stored-source
# file id 38727392009; "_name_or_path": "THUDM/glm4-9b-chat", transformers 4.30.2). A second public copy, the
# ChatGLMConfig that transformers 4.43.4 printed when loading THUDM/glm-4-9b-chat at snapshot
# f6e0743b285dd808084530f070ad08e504386750 in a LLaMA-Factory log (stored-source file id 8873357857), agrees on
# every key and value below except transformers_version and the hub-qualified auto_map, and adds the printout's
# classifier_dropout null and vocab_size 151552. Published: the vendor's ChatGLMForConditionalGeneration "has ...
# 9399951360 (100.00%) are trainable" parameters (a public loading log, stored-source file id 29151670186);
# chatglm.cpp's banner "served by GLM-4, with 9399951360 (9.4B) parameters" (stored-source file id 42305816254).
GLM4_9B_CHAT = {
    "_name_or_path": "THUDM/glm4-9b-chat", "model_type": "chatglm", "architectures": ["ChatGLMModel"],
    "auto_map": _AUTO_MAP,
    "add_bias_linear": False, "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
    "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0, "attention_softmax_in_fp32": True,
    "bias_dropout_fusion": True, "ffn_hidden_size": 13696, "fp32_residual_connection": False, "hidden_dropout": 0.0,
    "hidden_size": 4096, "kv_channels": 128, "layernorm_epsilon": 1.5625e-07, "multi_query_attention": True,
    "multi_query_group_num": 2, "num_attention_heads": 32, "num_hidden_layers": 40, "num_layers": 40,
    "rope_ratio": 500, "original_rope": True, "padded_vocab_size": 151552, "post_layer_norm": True, "rmsnorm": True,
    "seq_length": 131072, "use_cache": True, "torch_dtype": "bfloat16", "transformers_version": "4.30.2",
    "tie_word_embeddings": False, "eos_token_id": [151329, 151336, 151338], "pad_token_id": 151329,
}

# THUDM/chatglm-6b (the first ChatGLM: another architecture, GLU-less, 2D positions): config.json in
# github.com/greensheng/chatglm-6b at fba708ac259c583bc3d4e9b67bc99337c13198a1, every key as there. Declined.
CHATGLM_6B_V1 = {
    "_name_or_path": "THUDM/chatglm-6b", "architectures": ["ChatGLMModel"],
    "auto_map": {"AutoConfig": "configuration_chatglm.ChatGLMConfig",
                 "AutoModel": "modeling_chatglm.ChatGLMForConditionalGeneration",
                 "AutoModelForSeq2SeqLM": "modeling_chatglm.ChatGLMForConditionalGeneration",
                 "AutoModelForSequenceClassification": "modeling_chatglm.ChatGLMForSequenceClassification"},
    "bos_token_id": 130004, "eos_token_id": 130005, "mask_token_id": 130000, "gmask_token_id": 130001,
    "pad_token_id": 3, "hidden_size": 4096, "inner_hidden_size": 16384, "layernorm_epsilon": 1e-05,
    "max_sequence_length": 2048, "model_type": "chatglm", "num_attention_heads": 32, "num_layers": 28,
    "position_encoding_2d": True, "torch_dtype": "float16", "transformers_version": "4.23.1", "use_cache": True,
    "vocab_size": 130528,
}
