"""Mistral's own checkpoint format: ``params.json`` (and ``consolidated.safetensors``) instead of Hugging Face's
``config.json``. Mistral publishes some models only so (e.g. mistralai/Devstral-Small-2507's mirror has params.json,
tekken.json and the shards but no config.json). A text-only dense params.json is read as the ``MistralForCausalLM``
config it describes, with vLLM's mapping (``vllm/transformers_utils/configs/mistral.py``,
``_remap_general_mistral_args``: dim -> hidden_size, n_layers -> num_hidden_layers, n_heads -> num_attention_heads,
n_kv_heads -> num_key_value_heads, hidden_dim -> intermediate_size, norm_eps -> rms_norm_eps, tied_embeddings ->
tie_word_embeddings, default false). Anything else in the file (MoE, vision or audio encoders, YaRN, quantisation,
Llama-4 scaling, ...) changes the architecture or its storage and is refused with one sentence, not guessed."""

from __future__ import annotations

from typing import Any

from benchseal.errors import ModelFormatError

# params.json key -> config.json key (vLLM's mapping); head_dim, vocab_size, rope_theta keep their names
_RENAME = {"dim": "hidden_size", "n_layers": "num_hidden_layers", "n_heads": "num_attention_heads",
           "n_kv_heads": "num_key_value_heads", "hidden_dim": "intermediate_size", "norm_eps": "rms_norm_eps",
           "tied_embeddings": "tie_word_embeddings", "head_dim": "head_dim", "vocab_size": "vocab_size",
           "rope_theta": "rope_theta", "max_position_embeddings": "max_position_embeddings",
           "max_seq_len": "max_position_embeddings", "sliding_window": "sliding_window"}
_REQUIRED = ("dim", "n_layers", "n_heads", "n_kv_heads", "hidden_dim", "vocab_size")


def is_mistral_params(data: Any) -> bool:
    """Whether ``data`` looks like Mistral's params.json (its own key names, no model_type / architectures)."""
    return (isinstance(data, dict) and not {"model_type", "architectures"} & set(data)
            and {"dim", "n_layers", "n_heads"} <= set(data))


def config_from_params(data: dict[str, Any], *, where: str) -> tuple[dict[str, Any], str]:
    """(the config.json dict a text-only dense params.json describes, a note saying so); ModelFormatError for a
    params.json with keys this reading does not cover."""
    extra = sorted(k for k in data if k not in _RENAME)
    if extra:
        raise ModelFormatError(
            f"Mistral-format params.json with {', '.join(extra)[:120]} is not read here (only text-only dense models: "
            f"{', '.join(sorted(_RENAME))})", where=where,
            hint="count the weights (consolidated.safetensors or the shards), or give the model's Hugging Face config.json")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ModelFormatError(f"Mistral-format params.json lacks {', '.join(missing)}", where=where,
                               hint="fix or re-download params.json")
    if "max_seq_len" in data and "max_position_embeddings" in data:
        raise ModelFormatError("Mistral-format params.json gives both max_seq_len and max_position_embeddings",
                               where=where, hint="fix params.json")
    cfg: dict[str, Any] = {"architectures": ["MistralForCausalLM"], "model_type": "mistral",
                           "tie_word_embeddings": False}
    cfg.update({_RENAME[k]: v for k, v in data.items()})
    note = ("config.json absent: Mistral's params.json read as the MistralForCausalLM config it describes (vLLM's "
            "mapping for --config-format mistral: dim, n_layers, n_heads, n_kv_heads, hidden_dim, norm_eps, "
            "tied_embeddings -> hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, "
            "intermediate_size, rms_norm_eps, tie_word_embeddings)")
    return cfg, note
