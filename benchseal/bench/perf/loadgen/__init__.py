"""Load generation: closed-loop concurrency and open-loop (Poisson / gamma) arrivals.

The load generator decides *when* requests are sent; backends only measure. Its seams, one module each:

- :mod:`.arrivals`: the open-loop schedule (:func:`arrival_offsets`) and :class:`PreciseTimer`;
- :mod:`.supervision`: one load point in one event loop (:class:`LoadPointPlan`, the closed and open
  loops, the supervisor that stops a point and records what was in flight);
- :mod:`.workers`: several sending processes on this host;
- :mod:`.ray_workers`: senders as Ray actors over the nodes of an existing Ray cluster.
"""

from __future__ import annotations

import asyncio  # noqa: F401  (tests count the supervisor's asyncio.wait calls through this name)
from typing import Callable

from benchseal.bench.perf.loadgen.arrivals import PreciseTimer, arrival_offsets
from benchseal.bench.perf.loadgen.supervision import (CONNECTION_FAILURES, LoadPointPlan, LoadPointResult, _Run,
                                                      gc_paused, perf_counter, prepare_backend)
from benchseal.bench.perf.loadgen.workers import _run_workers
from benchseal.schema import RequestRecord

__all__ = ["CONNECTION_FAILURES", "LoadPointPlan", "LoadPointResult", "PreciseTimer", "arrival_offsets", "gc_paused",
           "prepare_backend", "run_load_point"]


async def run_load_point(backend, plan: LoadPointPlan, on_record: Callable[[RequestRecord], None], *,
                         pause_gc: bool = True, workers: int = 1, ray_address: str | None = None,
                         drain: asyncio.Event | None = None) -> LoadPointResult:
    """Send the load point's requests through ``backend.send``; every request sent yields exactly one
    record (passed to ``on_record`` as it completes). Returns early, ``interrupted``, when the server
    stops accepting connections; on cancellation (Ctrl-C) in-flight requests are recorded as
    ``cancelled`` before the cancellation propagates. Request bodies are prepared (``backend.prepare``)
    before ``t0``, and the garbage collector is paused during the point (:func:`gc_paused`).

    ``workers > 1`` sends from that many processes, each with its own event loop and its own copy
    of the backend (built from ``backend.clone_spec()``): request ``seq`` goes to process
    ``seq mod workers``, closed-loop concurrency (and the open-loop cap) is split between them, and
    open-loop arrivals follow the one schedule of ``plan.seed``. All clocks are the host's
    ``CLOCK_MONOTONIC`` (``perf_counter``), so records share this process's ``t0``.

    With ``ray_address`` the ``workers`` senders are Ray actors spread over the nodes of that existing
    cluster (:mod:`.ray_workers`, where the clocks and the merge are described).

    ``drain`` (one process only): once set, no further request is sent and the point ends when the
    requests in flight have completed, none cancelled (the audit load of bench.perf.audits.load)."""
    if not plan.requests:
        raise ValueError("the workload has no requests")
    if ray_address:
        from benchseal.bench.perf.loadgen.ray_workers import run_ray_workers

        return await run_ray_workers(backend, plan, on_record, max(1, workers), pause_gc, ray_address)
    if workers > 1:
        return await _run_workers(backend, plan, on_record, workers, pause_gc)
    prepare_backend(backend, plan.requests)
    run = _Run(backend, plan, on_record)
    run.drain = drain
    with gc_paused(pause_gc):
        run.result.t0 = perf_counter()
        if plan.rate is not None:
            await run.open_loop()
        else:
            await run.closed_loop()
    return run.result
