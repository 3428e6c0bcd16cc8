"""Tiny configs of every family the FLOPs model supports (shared by the tests in this folder)."""

from __future__ import annotations

COMMON = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)

TINY: dict[str, dict] = {
    "llama": dict(model_type="llama", **COMMON),
    "qwen2": dict(model_type="qwen2", **COMMON),  # q/k/v biases: addmm, only the matmul is counted
    "qwen3": dict(model_type="qwen3", head_dim=24, **COMMON),  # head_dim != hidden/heads
    "mistral-swa": dict(model_type="mistral", sliding_window=8, **COMMON),
    "gemma2": dict(model_type="gemma2", head_dim=16, sliding_window=8, **COMMON),
    "mixtral": dict(model_type="mixtral", num_local_experts=4, num_experts_per_tok=2, **COMMON),
    "qwen2_moe": dict(model_type="qwen2_moe", num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                      shared_expert_intermediate_size=48, **COMMON),
    "qwen3_moe": dict(model_type="qwen3_moe", num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                      head_dim=16, **COMMON),
    "deepseek_v3": dict(
        model_type="deepseek_v3", vocab_size=256, hidden_size=64, intermediate_size=128, moe_intermediate_size=32,
        num_hidden_layers=3, first_k_dense_replace=1, n_routed_experts=8, num_experts_per_tok=2,
        n_shared_experts=1, n_group=2, topk_group=1, num_attention_heads=4, num_key_value_heads=4,
        q_lora_rank=32, kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
        max_position_embeddings=512,
    ),
}


def hf_config(name: str):
    """The transformers config object for a TINY entry."""
    import transformers

    kwargs = dict(TINY[name])
    return transformers.AutoConfig.for_model(kwargs.pop("model_type"), **kwargs)
