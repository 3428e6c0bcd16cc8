"""Gate: a perf claim stands only on a run whose audits passed (docs/claims.md, docs/metrics.md
"Audits"). A failed audit makes every claim on a figure it touches INCONCLUSIVE, naming the audit
and its numbers; ``not-run`` audits gate nothing by themselves (their reason is in the report).
Pure; returns the reason instead of raising so it imports nothing from ``check``."""

from __future__ import annotations

from typing import Any, Mapping

from .paths import MetricPath


def perf_audit_reason(data: Mapping[str, Any], mp: MetricPath) -> str | None:
    """Why the claim on ``mp`` is INCONCLUSIVE because of a failed audit, or None."""
    if mp.root != "perf":
        return None
    keys = {s.key for s in mp.segments if s.key}
    if "audits" in keys:
        return None  # a claim about the audits themselves
    perf = data.get("perf")
    audits = perf.get("audits") if isinstance(perf, dict) else None
    if not isinstance(audits, list):
        return None
    failed = []
    for a in audits:
        if not isinstance(a, dict) or a.get("status") != "fail":
            continue
        touches = set(a.get("touches") or ["*"])
        if "*" in touches or touches & keys:
            failed.append(f"audit {a.get('name')!r} failed: {a.get('detail')}")
    return "; ".join(failed) if failed else None
