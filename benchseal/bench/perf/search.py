"""SLA search (docs/metrics.md, "SLA search"): the highest load at which a server meets its SLOs.

A load point **meets the SLOs** when its failed fraction is at most ``max_failed`` and at least
``attainment`` of its completed requests meet every SLO of ``--slo`` (the goodput rule:
``goodput / request_throughput``). The search doubles the load from ``start`` until a point misses
(or ``limit`` is reached), then bisects between the highest point that met and the lowest that
missed until they are one step apart: 1 for concurrency, ``tolerance`` × the lower rate for rate.
Every probed point is a load point of the bundle; :func:`evaluate` (pure) re-derives the outcome
from the summaries, so verify checks it.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from benchseal.schema import Strict


class SearchSpec(Strict):
    mode: Literal["rate", "concurrency"]
    start: float = Field(1.0, gt=0)
    limit: float = Field(1024.0, gt=0)  # the highest load probed
    tolerance: float = Field(0.1, gt=0, lt=1)  # rate: relative step at which bisection stops
    attainment: float = Field(0.99, gt=0, le=1)  # share of completed requests that must meet every SLO
    max_failed: float = Field(0.01, ge=0, lt=1)


def level_id(mode: str, level: float) -> str:
    return f"concurrency={int(level)}" if mode == "concurrency" else f"rate={level:g}"


def meets(lp: dict[str, Any], spec: SearchSpec) -> tuple[bool, float, float]:
    """(meets, attainment, failed fraction) of one load point summary."""
    done, failed = int(lp.get("completed") or 0), int(lp.get("failed") or 0)
    failed_frac = failed / (done + failed) if done + failed else 1.0
    rt, good = lp.get("request_throughput") or 0.0, lp.get("goodput")
    att = (good / rt) if rt and good is not None else 0.0
    return done > 0 and failed_frac <= spec.max_failed and att >= spec.attainment - 1e-12, att, failed_frac


def next_level(spec: SearchSpec, history: list[tuple[float, bool]]) -> float | None:
    """The next load to probe after ``history`` ((level, met) in probe order), or None when done."""
    if not history:
        return _round(spec, spec.start)
    met = [lvl for lvl, ok in history if ok]
    missed = [lvl for lvl, ok in history if not ok]
    lo = max(met) if met else None
    hi = min([m for m in missed if lo is None or m > lo], default=None)
    if lo is None:
        return None  # the first load already misses: nothing lower is probed
    if hi is None:  # still doubling
        nxt = _round(spec, lo * 2)
        if lo >= spec.limit:
            return None
        return min(nxt, _round(spec, spec.limit))
    if spec.mode == "concurrency":
        if hi - lo <= 1:
            return None
        return float((int(lo) + int(hi)) // 2)
    if hi - lo <= spec.tolerance * lo:
        return None
    return _round(spec, (lo + hi) / 2)


def _round(spec: SearchSpec, level: float) -> float:
    if spec.mode == "concurrency":
        return float(max(1, int(math.floor(level))))
    return float(f"{level:.4g}")


def evaluate(spec: SearchSpec, load_points: list[dict[str, Any]]) -> dict[str, Any]:
    """The search's record from the probed load points' summaries (pure; verify re-runs it)."""
    probed, history = [], []
    for lp in load_points:
        level = lp.get("concurrency") if spec.mode == "concurrency" else lp.get("rate")
        if level is None:
            continue
        ok, att, ff = meets(lp, spec)
        probed.append({"load_point": lp.get("load_point"), "level": float(level), "meets": ok,
                       "attainment": att, "failed_fraction": ff})
        history.append((float(level), ok))
    met = [p["level"] for p in probed if p["meets"]]
    missed = [p["level"] for p in probed if not p["meets"]]
    best = max(met) if met else None
    above = min([m for m in missed if best is None or m > best], default=None)
    step = None if best is None or above is None else above - best
    if best is None:
        why = "no probed load met the SLOs"
    elif above is None:
        why = f"every probed load up to {best:g} met the SLOs (the search limit {spec.limit:g} was reached)"
    else:
        why = f"{level_id(spec.mode, best)} met the SLOs; {level_id(spec.mode, above)} did not"
    return {"spec": spec.model_dump(mode="json"), "probed": probed, "best": best, "next_missed": above,
            "resolution": step, "outcome": why}
