"""Question banks and replies as text: what is visible, what is one question, and the safety
profile (configs/profiles/tc260-003.yaml) a claim-grade bank is held to.

- :func:`is_blank`: a reply with no visible character is empty. Python's ``str.strip`` keeps the
  zero-width space (U+200B), the word joiner, the byte-order mark, Hangul fillers and the braille
  blank, so a reply of one zero-width space would count as an answer; here every character of
  Unicode category Cc, Cf, Cn, Co, Cs, Zs, Zl, Zp, Mn, Me and the known blank letters are invisible.
- :func:`duplicate_report`: exact duplicates after normalisation and near-duplicates by the Jaccard
  similarity of character 3-gram sets (MinHash candidates, then the exact Jaccard), clustered; a
  bank is sized by its distinct questions (one per cluster).
- :func:`safety_profile`: the shipped profile only (a user's config folder cannot lower it).
"""

from __future__ import annotations

import unicodedata
import zlib
from functools import lru_cache
from typing import Any, Iterable

from pydantic import Field

from benchseal.schema import Strict

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
# letters that render as nothing (Hangul fillers, braille blank, Mongolian vowel separator, …)
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")


def _invisible(ch: str) -> bool:
    return ch.isspace() or ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def visible(text: Any) -> str:
    """``text`` without its invisible characters ('' for None)."""
    return "".join(ch for ch in str(text or "") if not _invisible(ch))


def is_blank(text: Any) -> bool:
    """True when ``text`` shows nothing: empty, whitespace, or only invisible characters (U+200B …)."""
    return not any(not _invisible(ch) for ch in str(text or ""))


def normalise(text: Any) -> str:
    """The text two copies of one question share: NFKC, case-folded, only letters and digits kept
    (invisible characters, whitespace, punctuation and symbols dropped)."""
    t = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return "".join(ch for ch in t if unicodedata.category(ch)[0] in "LN")


# ------------------------------------------------------------------------------------------------
# the profile
# ------------------------------------------------------------------------------------------------
class RefusalProfile(Strict):
    min_bank: int = Field(ge=1)
    min_sample: int = Field(ge=1)
    categories: list[str]


class ContentProfile(Strict):
    min_bank: int = Field(ge=1)
    min_sample: int = Field(ge=1)
    risks: int = Field(ge=1)


class DuplicateRules(Strict):
    near_jaccard: float = Field(gt=0, le=1)
    shingle: int = Field(ge=1, le=8)
    max_duplicates: int = Field(ge=0)


class SafetyProfile(Strict):
    id: str
    version: str
    title_zh: str
    title_en: str
    source: str
    refusal: RefusalProfile
    content: ContentProfile
    duplicates: DuplicateRules

    def label(self) -> str:
        return f"{self.id} v{self.version}"


PROFILE = "tc260-003"


@lru_cache(maxsize=4)
def safety_profile(name: str = PROFILE) -> SafetyProfile:
    """The shipped safety profile ``name`` (configs/profiles/<name>.yaml inside the package; a file of
    the same name in a --config-dir folder is not read: the program fixes the profile)."""
    from benchseal.config import packaged_config_dir
    from benchseal.io import load_yaml_model

    return load_yaml_model(SafetyProfile, packaged_config_dir() / "profiles" / f"{name}.yaml")


# ------------------------------------------------------------------------------------------------
# duplicates
# ------------------------------------------------------------------------------------------------
def _shingles(norm: str, k: int) -> set[str]:
    if len(norm) <= k:
        return {norm} if norm else set()
    return {norm[i:i + k] for i in range(len(norm) - k + 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _minhash_candidates(sets: list[set[str]], *, bands: int = 16, rows: int = 4, seed: int = 1234) -> Iterable[tuple[int, int]]:
    """Pairs (i, j), i < j, that share a MinHash band (a superset of the pairs with high Jaccard)."""
    import numpy as np

    n_hash = bands * rows
    rng = np.random.default_rng(seed)
    prime = np.uint64((1 << 61) - 1)
    a = rng.integers(1, 1 << 31, size=n_hash, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, size=n_hash, dtype=np.uint64)
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for i, s in enumerate(sets):
        if not s:
            continue
        h = np.array([zlib.crc32(x.encode("utf-8")) for x in s], dtype=np.uint64)
        sig = ((h[:, None] * a[None, :] + b[None, :]) % prime).min(axis=0)
        for band in range(bands):
            buckets.setdefault((band, sig[band * rows:(band + 1) * rows].tobytes()), []).append(i)
    for members in buckets.values():
        first = members[0]
        for j in members[1:]:  # against the bucket's first member: clusters join through it
            yield first, j


def duplicate_report(texts: list[str], ids: list[str] | None = None, *, near_jaccard: float = 0.8,
                     shingle: int = 3) -> dict[str, Any]:
    """Exact and near-duplicate questions of a bank. Returns ``{"items", "distinct", "duplicates",
    "exact", "near", "examples"}``: ``distinct`` clusters, ``duplicates`` = items - distinct,
    ``exact`` of them equal after :func:`normalise`, ``near`` the rest, ``examples`` up to five
    clusters as lists of ids."""
    ids = ids if ids is not None else [str(i) for i in range(len(texts))]
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    norms = [normalise(t) for t in texts]
    first_of: dict[str, int] = {}
    exact = 0
    for i, nm in enumerate(norms):
        if nm in first_of:
            union(first_of[nm], i)
            exact += 1
        else:
            first_of[nm] = i
    reps = sorted(first_of.values())
    sets = [_shingles(norms[i], shingle) for i in reps]
    for x, y in _minhash_candidates(sets):
        if find(reps[x]) != find(reps[y]) and _jaccard(sets[x], sets[y]) >= near_jaccard:
            union(reps[x], reps[y])
    clusters: dict[int, list[int]] = {}
    for i in range(len(texts)):
        clusters.setdefault(find(i), []).append(i)
    distinct = len(clusters)
    dup = len(texts) - distinct
    examples = [[ids[i] for i in members[:5]] for members in sorted(clusters.values(), key=len, reverse=True) if len(members) > 1][:5]
    return {"items": len(texts), "distinct": distinct, "duplicates": dup, "exact": exact, "near": dup - exact,
            "examples": examples, "rule": {"near_jaccard": near_jaccard, "shingle": shingle}}


def bank_duplicates(items: list[dict[str, Any]], profile: SafetyProfile | None = None) -> dict[str, Any]:
    """:func:`duplicate_report` of a loaded bank (``prompt`` and ``id`` of each item) under the profile's rules."""
    rules = (profile or safety_profile()).duplicates
    return duplicate_report([str(it.get("prompt") or "") for it in items], [str(it.get("id")) for it in items],
                            near_jaccard=rules.near_jaccard, shingle=rules.shingle)


def duplicate_reason(bank: str, rep: dict[str, Any], profile: SafetyProfile | None = None) -> str | None:
    """The not-claim-grade reason for a bank's duplicates, or None when within the profile."""
    prof = profile or safety_profile()
    if rep["duplicates"] <= prof.duplicates.max_duplicates:
        return None
    shown = "; ".join("=".join(map(repr, ex)) for ex in rep["examples"][:3])
    return (f"duplicate-items: the {bank} bank holds {rep['duplicates']} duplicate question(s) ({rep['exact']} exact, "
            f"{rep['near']} near-duplicate at Jaccard >= {prof.duplicates.near_jaccard:g}): {rep['distinct']} distinct of "
            f"{rep['items']} ({prof.label()}); e.g. {shown}")
