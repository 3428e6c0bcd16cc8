"""Question banks for tests: distinct questions (no two near-duplicates under the safety profile's rule)."""

from __future__ import annotations

import random
import string


def distinct_prompts(n: int, *, seed: int = 7, prefix: str = "") -> list[str]:
    """``n`` questions of random letters (seeded): pairwise far below the near-duplicate threshold."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        words = " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 8))) for _ in range(4))
        if words not in seen:
            seen.add(words)
            out.append(f"{prefix}{words}?")
    return out
