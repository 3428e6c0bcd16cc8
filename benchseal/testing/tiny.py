"""Tiny-model factory: a small BPE tokenizer trained on local text and random-weight models of
several architectures, saved as safetensors with ``save_pretrained``.

Used by the tests and by ``benchseal demo``. Everything is local (no hub access) and deterministic
for a seed: rebuilding with the same arguments gives byte-identical files.

    from benchseal.testing.tiny import build_tiny_model
    path = build_tiny_model("/tmp/tiny-llama", arch="llama", seed=0)
    path = build_tiny_model("/tmp/tiny-llama-vllm", arch="llama", seed=0, **VLLM_CPU_SHAPE)

The default models have head_dim 16 (hidden 64, 4 heads). vLLM's CPU attention rejects that
("Unsupported CPU attention configuration: head_dim=16"), so :data:`VLLM_CPU_SHAPE` gives a Llama with
head_dim 64 that the CPU build of vLLM serves: hidden 128, 2 heads, 1 KV head, intermediate 256,
2 layers, bf16 weights.
"""

from __future__ import annotations

import json
import os
import random
from importlib import resources
from pathlib import Path

from benchseal.errors import UsageError, require

ARCHITECTURES = ("llama", "qwen2", "mixtral")
# head_dim 64 (128 / 2 heads): the smallest shape vLLM's CPU attention accepts; intermediate = 2 x hidden = 256
VLLM_CPU_SHAPE = {"hidden_size": 128, "heads": 2, "kv_heads": 1, "layers": 2, "dtype": "bfloat16"}
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def corpus_lines(seed: int = 0, n_synthetic: int = 400) -> list[str]:
    """The shipped corpus plus deterministic recombinations of its sentences (more merges)."""
    text = resources.files("benchseal.testing").joinpath("data/corpus.txt").read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    rng = random.Random(seed)
    words = " ".join(lines).split()
    synth = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 16))) for _ in range(n_synthetic)]
    return lines + synth


def build_tokenizer(out_dir: str | os.PathLike, *, vocab_size: int = 512, seed: int = 0):
    """Train a byte-level BPE tokenizer on the local corpus and save it as a PreTrainedTokenizerFast."""
    require("transformers", "hf", "building the tiny test model")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus_lines(seed), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<pad>",
        padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    # transformers 5 writes "TokenizersBackend", which transformers 4 cannot load.
    cfg_path = out / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return fast


def make_config(arch: str, vocab_size: int, *, hidden_size: int = 64, layers: int = 2, heads: int = 4, kv_heads: int = 2):
    """A small transformers config of the given family (head_dim = hidden_size / heads)."""
    if heads < 1 or kv_heads < 1 or hidden_size % heads or heads % kv_heads:
        raise UsageError(f"tiny model: hidden size {hidden_size} must divide into {heads} heads, and heads into {kv_heads} KV heads")
    import transformers

    common = dict(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=2048,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=3,
    )
    if arch == "llama":
        return transformers.LlamaConfig(tie_word_embeddings=False, **common)
    if arch == "qwen2":
        return transformers.Qwen2Config(tie_word_embeddings=True, **common)
    if arch == "mixtral":
        return transformers.MixtralConfig(
            tie_word_embeddings=False, num_local_experts=4, num_experts_per_tok=2, **common
        )
    raise UsageError(f"unknown tiny architecture '{arch}'", hint=f"choose one of {', '.join(ARCHITECTURES)}")


def build_tiny_model(
    out_dir: str | os.PathLike,
    *,
    arch: str = "llama",
    seed: int = 0,
    hidden_size: int = 64,
    layers: int = 2,
    vocab_size: int = 512,
    dtype: str = "float32",
    heads: int = 4,
    kv_heads: int = 2,
) -> Path:
    """Build and save a random-weight model (and its tokenizer) of family ``arch`` into ``out_dir``.

    ``heads``/``kv_heads`` set the attention heads (head_dim = hidden_size / heads); pass
    ``**VLLM_CPU_SHAPE`` for a model vLLM's CPU build serves.
    """
    if arch not in ARCHITECTURES:
        raise UsageError(f"unknown tiny architecture '{arch}'", hint=f"choose one of {', '.join(ARCHITECTURES)}")
    torch = require("torch", "hf", "building the tiny test model")
    transformers = require("transformers", "hf", "building the tiny test model")
    out = Path(out_dir)
    tokenizer = build_tokenizer(out, vocab_size=vocab_size, seed=seed)
    config = make_config(arch, len(tokenizer), hidden_size=hidden_size, layers=layers, heads=heads, kv_heads=kv_heads)
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.save_pretrained(out, safe_serialization=True)
    return out
