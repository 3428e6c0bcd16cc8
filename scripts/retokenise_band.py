"""How far the client tokenizer's count drifts from the true output length when a model emits token
sequences the tokenizer would not produce itself (a random tiny model): decode random token ids,
encode the text again, compare the counts. The numbers back the one-sided tokenizer rule of the
output-consistency audit (docs/metrics.md, "Audits").

    python scripts/retokenise_band.py
"""

from __future__ import annotations

import random
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    from transformers import AutoTokenizer

    from benchseal.testing.tiny import VLLM_CPU_SHAPE, build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "m"
        build_tiny_model(d, arch="llama", seed=0, **VLLM_CPU_SHAPE)
        tok = AutoTokenizer.from_pretrained(d)
        rng = random.Random(0)
        print(f"tokenizer vocabulary {tok.vocab_size}")
        for n in (8, 16, 64):
            diffs = []
            for _ in range(300):
                ids = [rng.randrange(tok.vocab_size) for _ in range(n)]
                diffs.append(len(tok.encode(tok.decode(ids, skip_special_tokens=True), add_special_tokens=False)) - n)
            print(f"{n} random tokens: re-tokenised count minus true count: min {min(diffs)}, median "
                  f"{statistics.median(diffs):g}, max {max(diffs)}; mean ratio {1 + statistics.mean(diffs) / n:.2f}")
        text = "The quick brown fox jumps over the lazy dog. " * 3
        ids = tok.encode(text, add_special_tokens=False)
        print(f"natural text: {len(ids)} tokens, re-tokenised {len(tok.encode(tok.decode(ids), add_special_tokens=False))}")


if __name__ == "__main__":
    main()
