"""Repeats and the steady-state window (docs/metrics.md, "Repeats and steady state"). Pure.

- ``--repeats N`` runs every load point N times in a row; repeat k > 1 of ``concurrency=4`` is the
  load point ``concurrency=4#k`` (field ``repeat``). :func:`repeat_spread` gives, per load point
  measured more than once, the run-to-run spread of its headline figures.
- The steady-state window of a load point is ``[first counted send, last counted send]``: warm-up
  requests are excluded (they are not counted), and after the last send nothing new arrives, so the
  load drains; requests that end inside the window count. :func:`steady_state` gives its throughputs.
"""

from __future__ import annotations

import statistics
from typing import Any, Iterable

SPREAD_FIGURES = ("ttft_ms.p50", "ttft_ms.p99", "tpot_ms.p50", "e2el_ms.p99", "request_throughput",
                  "output_token_throughput")


def repeat_id(load_point: str, k: int) -> str:
    return load_point if k <= 1 else f"{load_point}#{k}"


def base_id(load_point: str) -> str:
    return load_point.split("#", 1)[0]


def _get(lp: dict[str, Any], dotted: str) -> Any:
    v: Any = lp
    for part in dotted.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


def repeat_spread(load_points: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """{base load point: {figure: {n, min, max, mean, rel_spread}}} for every load point with more
    than one repeat; ``rel_spread = (max − min) / mean`` (None when the mean is 0)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for lp in load_points:
        groups.setdefault(base_id(str(lp.get("load_point"))), []).append(lp)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, lps in groups.items():
        if len(lps) < 2:
            continue
        figs: dict[str, dict[str, Any]] = {}
        for fig in SPREAD_FIGURES:
            vals = [float(v) for v in (_get(lp, fig) for lp in lps) if isinstance(v, (int, float))]
            if len(vals) < 2:
                continue
            mean = statistics.fmean(vals)
            figs[fig] = {"n": len(vals), "min": min(vals), "max": max(vals), "mean": mean,
                         "rel_spread": (max(vals) - min(vals)) / mean if mean else None}
        out[name] = figs
    return out


def steady_state(ok_sends: list[float], ok_ends: list[float], ok_out_tokens: list[float],
                 counted_sends: list[float]) -> dict[str, Any] | None:
    """Throughputs inside the steady-state window (module docstring) from the completed requests'
    send and end times and output tokens, and every counted request's send time."""
    if len(counted_sends) < 2:
        return None
    a, b = min(counted_sends), max(counted_sends)
    if b <= a:
        return None
    inside = [i for i, e in enumerate(ok_ends) if e is not None and a <= e <= b]
    span = b - a
    return {"window_s": [a, b], "completed": len(inside),
            "request_throughput": len(inside) / span,
            "output_token_throughput": sum(ok_out_tokens[i] for i in inside) / span}
