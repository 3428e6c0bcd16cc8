"""Gate: a perf claim on a latency percentile, a mean or a throughput is decided only when its 95%
interval (``Stats.ci95``, ``LoadPointSummary.throughput_ci95``; bench.perf.uncertainty) lies on one
side of the threshold (docs/claims.md, docs/metrics.md "Uncertainty").

A bound the sample is too small for (None) counts as unbounded: a p99 of 8 requests has no upper
bound, so "p99 ≤ T" is INCONCLUSIVE however low the estimate, while "p99 ≤ T" with even the lower
bound above T is a FAIL. Over a fan-out (``[*]…|max``) the interval is the aggregation applied to the
lower bounds and to the upper bounds (the aggregations used on numbers are monotone). Summaries
written without intervals are not gated here. Pure; returns the reason instead of raising."""

from __future__ import annotations

import math
from typing import Any, Mapping

from .paths import AGGREGATIONS, MetricPath, is_number, resolve

STAT_KEYS = frozenset({"p50", "p90", "p95", "p99", "mean"})
THROUGHPUT_KEYS = frozenset({"request_throughput", "output_token_throughput", "total_token_throughput"})
MONOTONE = frozenset({"max", "min", "mean", "median", "sum", "first", "last"})
NUMERIC_OPS = frozenset({">=", ">", "<=", "<"})
_QUANTILE = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def _fmt(x: float) -> str:
    return "unbounded" if not math.isfinite(x) else f"{x:.6g}"


def interval_reason(data: Mapping[str, Any], mp: MetricPath, op: str, threshold: Any) -> str | None:
    """Why the claim is INCONCLUSIVE for its uncertainty, or None (decided, or no interval stated)."""
    if mp.root != "perf" or op not in NUMERIC_OPS or not is_number(threshold) or len(mp.segments) < 2:
        return None
    last = mp.segments[-1]
    if last.selectors or last.key not in STAT_KEYS | THROUGHPUT_KEYS:
        return None
    if any(a not in MONOTONE for a in mp.aggregations):
        return None
    parent = MetricPath(text=mp.text, segments=mp.segments[:-1], aggregations=())
    res = resolve(parent, data)
    if not res.found:
        return None
    containers = res.value if res.many or isinstance(res.value, list) else [res.value]
    lows, highs, small = [], [], []
    for c in containers:
        if not isinstance(c, dict):
            return None
        table = c.get("throughput_ci95") if last.key in THROUGHPUT_KEYS else c.get("ci95")
        if not isinstance(table, dict):
            return None  # a summary written without intervals (or no value to bound)
        ci = table.get(last.key) or [None, None]
        lo, hi = ci
        lows.append(-math.inf if lo is None else float(lo))
        highs.append(math.inf if hi is None else float(hi))
        if (lo is None or hi is None) and last.key in _QUANTILE:
            from benchseal.bench.perf.uncertainty import min_sample

            small.append(f"{c.get('n', 0)} values (a two-sided 95% interval on {last.key} needs at least "
                         f"{min_sample(_QUANTILE[last.key])})")
    lo, hi = lows, highs
    for agg in mp.aggregations:
        lo, hi = [AGGREGATIONS[agg](lo)], [AGGREGATIONS[agg](hi)]
    low, high = (lo[0], hi[0]) if len(lo) == 1 else (min(lo), max(hi))
    t = float(threshold)
    straddles = low <= t <= high if op in (">=", "<=") else low < t < high or low == t == high
    if not straddles and not (op in ("<", ">") and (low == t or high == t)):
        return None
    msg = f"the 95% interval [{_fmt(low)}, {_fmt(high)}] of {mp.text} contains the threshold {threshold:g}"
    if small:
        msg += "; sample too small: " + "; ".join(sorted(set(small)))
    return msg
