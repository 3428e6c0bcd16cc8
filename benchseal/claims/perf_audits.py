"""Gate: a perf claim stands only on a run whose audits passed (docs/claims.md, docs/metrics.md
"Audits"). A failed audit makes every claim on a figure it touches INCONCLUSIVE, naming the audit
and its numbers; ``not-run`` audits gate nothing by themselves (their reason is in the report).
Pure; returns the reason instead of raising so it imports nothing from ``check``."""

from __future__ import annotations

from typing import Any, Mapping

from .paths import MetricPath, resolve

THROUGHPUT_KEYS = frozenset({"request_throughput", "output_token_throughput", "total_token_throughput", "goodput",
                             "steady_state"})


def perf_audit_reason(data: Mapping[str, Any], mp: MetricPath) -> str | None:
    """Why the claim on ``mp`` is INCONCLUSIVE because of a failed audit, or None."""
    if mp.root != "perf":
        return None
    keys = {s.key for s in mp.segments if s.key}
    if "audits" in keys:
        return None  # a claim about the audits themselves
    perf = data.get("perf")
    audits = perf.get("audits") if isinstance(perf, dict) else None
    failed: list[str] = []
    for a in audits if isinstance(audits, list) else []:
        if not isinstance(a, dict) or a.get("status") != "fail":
            continue
        touches = set(a.get("touches") or ["*"])
        if "*" in touches or touches & keys:
            failed.append(f"audit {a.get('name')!r} failed: {a.get('detail')}")
    failed += _client_bound(data, mp, keys)
    return "; ".join(failed) if failed else None


def _client_bound(data: Mapping[str, Any], mp: MetricPath, keys: set[str]) -> list[str]:
    """A throughput read from a load point that reached the client's own ceiling (bench.perf.certificate)."""
    if not keys & THROUGHPUT_KEYS:
        return []
    idx = next((i for i, s in enumerate(mp.segments) if s.key == "load_points"), None)
    if idx is None:
        return []
    res = resolve(MetricPath(text=mp.text, segments=mp.segments[: idx + 1], aggregations=()), data)
    if not res.found:
        return []
    points = res.value if isinstance(res.value, list) else [res.value]
    out = []
    for lp in points:
        if isinstance(lp, dict) and lp.get("client_bound"):
            ceil = lp.get("client_ceiling") or {}
            out.append(f"load point {lp.get('load_point')!r} is client-bound: it reached "
                       f"{100 * float(lp.get('client_bound_fraction') or 0):.0f}% of the client's own ceiling "
                       f"({float(ceil.get('request_throughput') or 0):.4g} req/s on a null server at concurrency "
                       f"{ceil.get('concurrency')})")
    return out
