"""The load the accuracy probes run under (docs/metrics.md, "Audits"): the measured load point's plan
sent again right after that load point's closing /metrics scrape, so the probe requests fall outside
every load point's server-metrics window (the server's counters then reconcile with the measured
requests alone). In MLPerf's terms this is TEST07's separate run in performance mode.

The probes start once the load is running (its first completed request) and go one at a time; the
load (closed loop, or open loop at a finite rate) keeps sending until the last probe has its answer,
then stops sending and ends when its requests in flight have completed (none is cancelled, so the
server has counted all of them before the next load point's opening scrape). An all-at-once load
(rate inf) sends the measured point's number of requests and may end first; the probes after its
end are not ``during_load`` and the audit counts only those that overlapped. Its requests are not measured: they
go to no summary and no ``perf/requests.jsonl``; one ``{"probe": "accuracy-load", ...}`` row in
``perf/audits.jsonl`` says how many were sent and completed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections import Counter
from typing import Any

from benchseal.schema import RequestRecord

LOAD_POINT_PREFIX = "audit:accuracy-load"
UNTIL_STOPPED = 10**9  # requests of an audit load that ends when the probes are answered


async def accuracy_under_audit_load(probes: Any, backend: Any, plan: Any, *, after: str, offset: int = 0) -> int:
    """Send ``plan`` again (warm-up 0, its prompts rotated by ``offset`` so they continue where the
    measured ones stopped) with the accuracy probes going through the same backend while it runs;
    returns how many load requests were sent. ``after``: the measured load point it follows."""
    from benchseal.bench.perf.loadgen import run_load_point

    reqs = list(plan.requests)
    if reqs:
        k = offset % len(reqs)
        reqs = reqs[k:] + reqs[:k]
    # closed loop or a finite rate: keep sending until the probes are answered (then ``stop``); all at
    # once (rate inf): the measured point's own number of requests, never an unbounded burst
    bounded = plan.rate is not None and math.isinf(plan.rate)
    audit_plan = dataclasses.replace(plan, load_point=f"{LOAD_POINT_PREFIX}:{after}", requests=reqs, warmup=0,
                                     num_requests=plan.num_requests if bounded else UNTIL_STOPPED, duration_s=
                                     plan.duration_s if bounded else None)
    started, done, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    seen: Counter[str] = Counter()

    errors: list[str] = []

    def on_record(rec: RequestRecord) -> None:
        seen[rec.status] += 1
        if rec.status != "ok" and rec.error:
            errors.append(rec.error[:200])
        started.set()

    async def load() -> None:
        try:
            await run_load_point(backend, audit_plan, on_record, drain=stop)
        finally:
            done.set()

    task = asyncio.ensure_future(load())
    try:
        await probes.accuracy_under_load(started, done)
        stopped_early = not done.is_set()
        stop.set()
        await task
    except BaseException:
        task.cancel()
        raise
    sent = sum(seen.values())
    probes.emit({"probe": "accuracy-load", "after": after, "sent": sent, "ok": seen.get("ok", 0),
                 "status": dict(seen), "errors": errors[:3], "stopped_after_probes": stopped_early})
    return sent
