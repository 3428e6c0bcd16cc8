"""Stated uncertainty of the perf summary (docs/metrics.md, "Uncertainty"). Pure, numpy only.

- **Percentiles**: the distribution-free order-statistic interval. For a sample of ``n`` sorted
  values ``x(1) ≤ … ≤ x(n)`` and the quantile ``q``, the number of values below the true quantile is
  ``B ~ Binomial(n, q)``; the interval is ``[x(l), x(u)]`` with ``l`` the largest rank such that
  ``P(B ≤ l − 1) ≤ α/2`` and ``u`` the smallest rank such that ``P(B ≥ u) ≤ α/2``, so it covers the
  true quantile with probability at least ``1 − α`` (Hahn & Meeker, *Statistical Intervals*, §5.2;
  the same construction as MLPerf's early-stopping bound on a percentile). When no such rank exists
  the bound is None: the sample is too small for that percentile (:func:`min_sample`).
- **Mean**: ``mean ± z · sd / √n`` (normal approximation).
- **Throughput**: the count of completed requests in the load point's duration treated as a
  Poisson count, with Byar's approximation of the exact (Garwood) interval; token throughputs scale
  the request interval by the tokens per completed request.
"""

from __future__ import annotations

import math
from typing import Sequence

CONFIDENCE = 0.95
Z = 1.959963984540054  # two-sided 95% normal quantile
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def min_sample(q: float, confidence: float = CONFIDENCE) -> int:
    """The smallest n for which both bounds of the interval on quantile ``q`` exist:
    ``(1 − q)^n ≤ α/2`` and ``q^n ≤ α/2``. p50: 6, p90: 36, p95: 72, p99: 368 at 95%."""
    a2 = (1 - confidence) / 2
    return int(math.ceil(math.log(a2) / math.log(max(q, 1 - q)) - 1e-12))


def _binom_cdf(n: int, q: float):
    """P(B ≤ k) for k = 0..n (numpy array), computed in log space."""
    import numpy as np

    k = np.arange(n, dtype="float64")
    steps = np.log((n - k) / (k + 1)) + math.log(q / (1 - q))
    logpmf = np.concatenate(([n * math.log(1 - q)], n * math.log(1 - q) + np.cumsum(steps)))
    m = logpmf.max()
    pmf = np.exp(logpmf - m)
    cdf = np.cumsum(pmf) / pmf.sum()
    return cdf


def quantile_ranks(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int | None, int | None]:
    """1-based ranks (l, u) of the order-statistic interval on quantile ``q`` (see module docstring)."""
    if n <= 0:
        return None, None
    import numpy as np

    a2 = (1 - confidence) / 2
    cdf = _binom_cdf(n, q)[:n]  # cdf[j] = P(B ≤ j), j = 0..n−1 (non-decreasing)
    n_low = int(np.searchsorted(cdf, a2, side="right"))  # ranks k with P(B ≤ k − 1) ≤ α/2 are 1..n_low
    l = n_low if n_low >= 1 else None
    j = int(np.searchsorted(cdf, 1 - a2, side="left"))  # the first j with P(B ≤ j) ≥ 1 − α/2
    u = j + 1 if j < n else None  # P(B ≥ u) = 1 − P(B ≤ u − 1) ≤ α/2
    return l, u


def quantile_interval(sorted_values: Sequence[float], q: float, confidence: float = CONFIDENCE) -> list[float | None]:
    l, u = quantile_ranks(len(sorted_values), q, confidence)
    return [None if l is None else float(sorted_values[l - 1]), None if u is None else float(sorted_values[u - 1])]


def stats_intervals(values: Sequence[float], mean: float, stdev: float) -> dict[str, list[float | None]]:
    """95% intervals on every percentile of ``Stats`` and on the mean."""
    v = sorted(values)
    n = len(v)
    out = {name: quantile_interval(v, q) for name, q in PERCENTILES.items()}
    if n >= 2:
        sd = stdev * math.sqrt(n / (n - 1))  # the sample sd (Stats.stdev is the population one)
        half = Z * sd / math.sqrt(n)
        out["mean"] = [mean - half, mean + half]
    else:
        out["mean"] = [None, None]
    return out


def poisson_interval(count: int, z: float = Z) -> tuple[float, float]:
    """Byar's approximation of the exact 95% Poisson interval on a count."""
    if count <= 0:
        lo = 0.0
    else:
        lo = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    c1 = count + 1
    hi = c1 * (1 - 1 / (9 * c1) + z / (3 * math.sqrt(c1))) ** 3
    return max(0.0, lo), hi


def throughput_intervals(completed: int, duration_s: float, output_tokens: float,
                         total_tokens: float) -> dict[str, list[float]] | None:
    """95% intervals on request, output-token and total-token throughput of one load point."""
    if duration_s <= 0 or completed <= 0:
        return None
    lo, hi = poisson_interval(completed)
    per_out, per_tot = output_tokens / completed, total_tokens / completed
    return {"request_throughput": [lo / duration_s, hi / duration_s],
            "output_token_throughput": [lo * per_out / duration_s, hi * per_out / duration_s],
            "total_token_throughput": [lo * per_tot / duration_s, hi * per_tot / duration_s]}
