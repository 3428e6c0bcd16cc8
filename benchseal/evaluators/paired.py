"""The paired test between two models that answered the same items (docs/evaluation.md).

Per item i both runs have a score (0/1 for accuracy and exact match); the difference
``d_i = candidate_i - peer_i`` is what is tested. The data the test needs is the histogram of the
differences (for 0/1 scores: how many items only the candidate got right, only the peer, or
both/neither), which is stored in the bundle so a verifier, and a claim with its own rule,
re-run the test without the per-sample files.

- ``paired_bootstrap`` (default): resample the n items with replacement ``resamples`` times (a
  multinomial draw over the histogram, numpy's PCG64 with a fixed seed, so it is reproducible) and
  take the percentile interval of the mean difference at ``confidence``.
- ``mcnemar`` (0/1 scores only): exact two-sided binomial test on the discordant items; the
  interval is the Wald interval of the paired difference.

Outcome: ``lead`` when the interval's lower end is above ``+margin``, ``behind`` when its upper end
is below ``-margin``, otherwise ``tie``. Differences are reported in percentage points.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Literal

from pydantic import Field

from benchseal.schema import Strict

Outcome = Literal["lead", "tie", "behind"]


class PairedResult(Strict):
    method: Literal["paired_bootstrap", "mcnemar", "unpaired"]
    confidence: float
    margin_pp: float
    n: int  # items both runs scored
    diff_pp: float  # mean(candidate - peer), percentage points
    ci_low_pp: float
    ci_high_pp: float
    p_value: float | None = None  # mcnemar only
    outcome: Outcome
    resamples: int | None = None
    seed: int | None = None


def histogram(cand: dict[Any, float], peer: dict[Any, float]) -> tuple[list[list[float]], int]:
    """PURE: per-item scores of both runs (keyed by item) -> ([[difference, count], …], items only one run has)."""
    shared = [k for k in cand if k in peer]
    counts: dict[float, int] = {}
    for k in shared:
        d = round(float(cand[k]) - float(peer[k]), 12)
        counts[d] = counts.get(d, 0) + 1
    only = len(set(cand) ^ set(peer))
    return [[d, c] for d, c in sorted(counts.items())], only


def _outcome(lo: float, hi: float, margin: float) -> Outcome:
    if lo > margin:
        return "lead"
    if hi < -margin:
        return "behind"
    return "tie"


def paired_test(hist: list[list[float]], *, method: str = "paired_bootstrap", confidence: float = 0.95,
                margin_pp: float = 0.0, resamples: int = 10000, seed: int = 1234) -> PairedResult | None:
    """PURE: the paired test on a difference histogram; None when no item is shared."""
    values = [float(d) for d, _ in hist]
    counts = [int(c) for _, c in hist]
    n = sum(counts)
    if n == 0:
        return None
    mean = sum(v * c for v, c in zip(values, counts)) / n
    if method == "mcnemar":
        if not set(values) <= {-1.0, 0.0, 1.0}:
            raise ValueError("McNemar's test needs 0/1 scores; use paired_bootstrap")
        b = counts[values.index(1.0)] if 1.0 in values else 0
        c = counts[values.index(-1.0)] if -1.0 in values else 0
        p = _binom_two_sided(b, b + c)
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        se = math.sqrt(max((b + c) - (b - c) ** 2 / n, 0.0)) / n
        lo, hi = mean - z * se, mean + z * se
        return PairedResult(method="mcnemar", confidence=confidence, margin_pp=margin_pp, n=n, diff_pp=round(100 * mean, 6),
                            ci_low_pp=round(100 * lo, 6), ci_high_pp=round(100 * hi, 6), p_value=p,
                            outcome="tie" if p >= 1 - confidence else _outcome(100 * lo, 100 * hi, margin_pp))
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    draws = rng.multinomial(n, np.asarray(counts, dtype=float) / n, size=resamples)
    means = draws @ np.asarray(values, dtype=float) / n
    alpha = 1 - confidence
    lo, hi = (float(x) for x in np.quantile(means, [alpha / 2, 1 - alpha / 2]))
    return PairedResult(method="paired_bootstrap", confidence=confidence, margin_pp=margin_pp, n=n, diff_pp=round(100 * mean, 6),
                        ci_low_pp=round(100 * lo, 6), ci_high_pp=round(100 * hi, 6), outcome=_outcome(100 * lo, 100 * hi, margin_pp),
                        resamples=resamples, seed=seed)


def _binom_two_sided(k: int, n: int) -> float:
    """Exact two-sided binomial p-value of k successes in n trials at p = 1/2."""
    if n == 0:
        return 1.0
    probs = [math.comb(n, i) / 2**n for i in range(n + 1)]
    pk = probs[k]
    return min(1.0, sum(p for p in probs if p <= pk * (1 + 1e-12)))


class ItemScores(Strict):
    """Per-item scores of one (task, metric, filter) of one run, keyed "leaf/doc_id/doc_hash"."""

    task: str
    metric: str
    filter: str
    scores: dict[str, float] = Field(default_factory=dict)


def read_item_scores(folder: Any, raw: dict[str, Any], task: str, metric: str, filt: str) -> dict[str, float]:
    """Per-item scores of ``task`` (every leaf task of a group) from ``folder/samples_<leaf>.jsonl``.

    Keys are ``<leaf>/<doc_id>/<doc_hash>`` so that items match only when both runs saw the same document."""
    from pathlib import Path

    from benchseal.evaluators.fingerprint import leaves
    from benchseal.io import iter_jsonl

    out: dict[str, float] = {}
    for leaf in leaves(raw, task):
        f = Path(folder) / f"samples_{leaf}.jsonl"
        if not f.is_file():
            continue
        for s in iter_jsonl(f):
            if not isinstance(s, dict) or s.get("filter", "none") != filt:
                continue
            v = s.get(metric)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            out[f"{leaf}/{s.get('doc_id')}/{s.get('doc_hash')}"] = float(v)
    return out
