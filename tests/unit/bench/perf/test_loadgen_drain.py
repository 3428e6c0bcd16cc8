"""The tail of a closed-loop load point: once some workers have finished, the load generator must
wait for the others without spinning the event loop (no timing asserts: the supervisor's waits are
counted).

Before the fix, ``_supervise`` called ``asyncio.wait(FIRST_COMPLETED)`` again on a list that held
an already finished worker, which returns at once: the event loop spun at 100 % CPU (holding the
GIL) until the last request ended. On an H200 that slowed the ``hf`` backend's generate thread
16-fold in the tail of the concurrency=4 point (TPOT 386.8 ms against 23.6 ms at concurrency 1)."""

from __future__ import annotations

import asyncio

from benchseal.bench.perf import loadgen
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.loadgen import LoadPointPlan, run_load_point
from benchseal.schema import RequestRecord


class _OneSlowBackend:
    """Every request answers at once except ``slow_id``, which takes ``slow_s``."""

    name = "fake"
    endpoint = None

    def __init__(self, slow_id: int, slow_s: float) -> None:
        self.slow_id, self.slow_s = slow_id, slow_s

    async def send(self, request, *, load_point, t0, timeout_s):
        import time

        sent = time.perf_counter() - t0
        if request.request_id == self.slow_id:
            await asyncio.sleep(self.slow_s)
        end = time.perf_counter() - t0
        return RequestRecord(load_point=load_point, request_id=request.request_id, send_s=sent, first_token_s=end,
                             end_s=end, chunk_s=[end], output_tokens=1, status="ok")


def _count_waits(monkeypatch) -> list[int]:
    calls = [0]
    real_wait = asyncio.wait

    async def counting_wait(*args, **kwargs):
        calls[0] += 1
        return await real_wait(*args, **kwargs)

    monkeypatch.setattr(loadgen.asyncio, "wait", counting_wait)
    return calls


def test_closed_loop_tail_does_not_spin(monkeypatch):
    calls = _count_waits(monkeypatch)
    reqs = [GenRequest(request_id=i, prompt=f"p{i}", max_tokens=1) for i in range(4)]
    # concurrency 4, 4 requests: three workers finish at once, the fourth is busy for 0.3 s
    plan = LoadPointPlan(load_point="lp", requests=reqs, concurrency=4, num_requests=4)
    out: list[RequestRecord] = []
    res = asyncio.run(run_load_point(_OneSlowBackend(slow_id=0, slow_s=0.3), plan, out.append, pause_gc=False))
    assert len(res.records) == 4 and all(r.status == "ok" for r in res.records)
    # one wake-up per finished worker (and one spare): a spinning supervisor wakes thousands of times
    assert calls[0] <= 4 + 1, f"the supervisor woke {calls[0]} times while one request was in flight"


def test_open_loop_tail_does_not_spin(monkeypatch):
    calls = _count_waits(monkeypatch)
    reqs = [GenRequest(request_id=i, prompt=f"p{i}", max_tokens=1) for i in range(3)]
    plan = LoadPointPlan(load_point="lp", requests=reqs, rate=float("inf"), num_requests=3)
    res = asyncio.run(run_load_point(_OneSlowBackend(slow_id=2, slow_s=0.3), plan, lambda r: None, pause_gc=False))
    assert len(res.records) == 3
    assert calls[0] <= 2, f"the supervisor woke {calls[0]} times while one request was in flight"
