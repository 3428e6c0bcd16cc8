"""Audit probes of a performance run (docs/metrics.md, "Audits"), in the spirit of MLPerf's
compliance tests: TEST04 (caching), TEST06 (output consistency and length), TEST07 (accuracy
during the performance run).

Each audit is a pure function of the raw evidence (``perf/requests.jsonl`` and the probe records in
``perf/audits.jsonl``) giving one :class:`~benchseal.schema.PerfAudit` ``{name, status, detail,
touches}``; :func:`derive_audits` is what the run writes into ``perf/summary.json`` and what
``benchseal verify`` re-runs. The probes that send requests of their own (cache, accuracy under
load) live in :mod:`.probes`; the run calls them (``bench.perf.run``).

A failed audit makes the claims on the figures it ``touches`` INCONCLUSIVE with the audit named
(``claims.perf_audits``); ``not-run`` (skipped, with its reason) gates nothing by itself.
"""

from __future__ import annotations

from typing import Any, Iterable

from benchseal.bench.perf.audits.records import first_content_audit, output_consistency_audit, prompt_reuse_audit
from benchseal.bench.perf.audits.verdicts import accuracy_audit, cache_audit
from benchseal.schema import PerfAudit, RequestRecord

AUDIT_NAMES = ("first-content", "output-consistency", "prompt-reuse", "cache", "accuracy-under-load")


def prompts_needed(wspec: Any, load: Any) -> int | None:
    """The prompts a synthetic workload needs so that no prompt is re-sent: the requests the run
    sends (warm-up included, every load point and repeat) when ``num_requests`` fixes that; None
    when it is not known ahead (duration, SLA search), for other workloads and with ``allow_repeats``."""
    if wspec.kind != "synthetic" or wspec.allow_repeats or load.num_requests is None or load.search is not None:
        return None
    return (load.num_requests + load.warmup_requests) * len(load.points())


def prompts_for_unique_load(wspec: Any, load: Any) -> Any:
    """The synthetic workload's ``num_prompts`` raised to :func:`prompts_needed`, so no prompt is
    re-sent (the prompt-reuse audit). Other workloads are returned as they are."""
    need = prompts_needed(wspec, load)
    return wspec.model_copy(update={"num_prompts": need}) if need is not None and need > wspec.num_prompts else wspec


def fixed_prompts_note(wspec: Any, load: Any) -> str | None:
    """One sentence when the workload fixes fewer prompts than the run sends requests (an explicit
    ``--num-prompts``): prompts will be re-sent and the prompt-reuse audit will fail (a response
    cache could serve them); None otherwise."""
    need = prompts_needed(wspec, load)
    if need is None or wspec.num_prompts >= need:
        return None
    return (f"note: --num-prompts {wspec.num_prompts} is fewer than the {need} requests this run sends, so prompts are "
            f"re-sent and the prompt-reuse audit will fail; leave --num-prompts out (benchseal then uses {need}), "
            f"raise it, or set allow_repeats: true in a workload file")


def skipped_audits(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """{audit name: reason} for every ``{"skip": name, "reason": ...}`` row of perf/audits.jsonl."""
    return {str(r["skip"]): str(r.get("reason") or "skipped") for r in rows if isinstance(r, dict) and r.get("skip")}


def derive_audits(report: dict[str, Any], records: list[RequestRecord], rows: list[dict[str, Any]]) -> list[PerfAudit]:
    """Every audit, in :data:`AUDIT_NAMES` order, from the summary's spec fields (``workload``,
    ``load``), the request records and the rows of perf/audits.jsonl. Pure."""
    skips = skipped_audits(rows)
    probes = [r for r in rows if isinstance(r, dict) and r.get("probe")]
    counted = [r for r in records if not r.warmup]
    derive = {
        "first-content": lambda: first_content_audit(counted),
        "output-consistency": lambda: output_consistency_audit(counted),
        "prompt-reuse": lambda: prompt_reuse_audit(counted, report.get("workload") or {}),
        "cache": lambda: cache_audit([p for p in probes if p.get("probe") == "cache"]),
        "accuracy-under-load": lambda: accuracy_audit([p for p in probes if p.get("probe") == "accuracy"]),
    }
    out = []
    for name in AUDIT_NAMES:
        if name in skips:
            out.append(PerfAudit(name=name, status="not-run", detail=skips[name]))
        else:
            out.append(derive[name]())
    return out
