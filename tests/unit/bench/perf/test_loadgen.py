"""Load generation: schedules, closed/open loop bookkeeping, warm-up, stopping rules (no timing asserts)."""

from __future__ import annotations

import asyncio
import itertools
import statistics

import pytest

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.loadgen import LoadPointPlan, PreciseTimer, arrival_offsets, run_load_point
from benchseal.bench.perf.run import LoadSpec
from benchseal.schema import RequestRecord


class FakeBackend:
    """Records how many requests are in flight; fails with a connection error when told to."""

    name = "fake"
    endpoint = None

    def __init__(self, delay_s: float = 0.001, fail_from: int | None = None) -> None:
        self.delay_s, self.fail_from = delay_s, fail_from
        self.inflight = self.max_inflight = self.calls = 0

    async def send(self, request, *, load_point, t0, timeout_s):
        import time

        self.calls += 1
        self.inflight += 1
        self.max_inflight = max(self.max_inflight, self.inflight)
        sent = time.perf_counter() - t0
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.inflight -= 1
        if self.fail_from is not None and self.calls > self.fail_from:
            return RequestRecord(load_point=load_point, request_id=request.request_id, send_s=sent,
                                 end_s=time.perf_counter() - t0, status="error", error="connect: refused")
        end = time.perf_counter() - t0
        return RequestRecord(load_point=load_point, request_id=request.request_id, send_s=sent, first_token_s=end,
                             end_s=end, chunk_s=[end], output_tokens=1, status="ok")


REQS = [GenRequest(request_id=100 + i, prompt=f"p{i}", max_tokens=4) for i in range(5)]


def _run(backend, **kw):
    out = []
    res = asyncio.run(run_load_point(backend, LoadPointPlan(load_point="lp", requests=REQS, **kw), out.append))
    return res, out


def test_gamma_schedule_mean_rate_and_burstiness():
    def gaps(b):
        offs = list(itertools.islice(arrival_offsets(50.0, b, seed=3), 20001))
        return [b - a for a, b in zip(offs, offs[1:])]

    for b in (1.0, 0.25, 4.0):
        g = gaps(b)
        assert statistics.fmean(g) == pytest.approx(1 / 50.0, rel=0.05)
        cv = statistics.pstdev(g) / statistics.fmean(g)
        assert cv == pytest.approx(1 / b**0.5, rel=0.08)  # gamma: CV = 1/sqrt(shape)
    assert list(itertools.islice(arrival_offsets(float("inf")), 3)) == [0.0, 0.0, 0.0]
    assert list(itertools.islice(arrival_offsets(5.0, seed=1), 5)) == list(itertools.islice(arrival_offsets(5.0, seed=1), 5))


def test_closed_loop_concurrency_warmup_and_counts():
    be = FakeBackend()
    res, out = _run(be, concurrency=3, num_requests=12, warmup=2)
    assert len(out) == 14 and be.max_inflight == 3
    assert sorted(r.request_id for r in out) == list(range(14))
    assert sum(r.warmup for r in out) == 2 and all(r.warmup == (r.request_id < 2) for r in out)
    assert all(r.prompt_id == REQS[r.request_id % 5].request_id for r in out)
    assert all(r.scheduled_s is None for r in out) and not res.interrupted


def test_default_sends_each_prompt_once_and_duration_bounds():
    _, out = _run(FakeBackend(), concurrency=2)
    assert sorted(r.prompt_id for r in out) == [r.request_id for r in REQS]
    _, out = _run(FakeBackend(delay_s=0.005), concurrency=2, duration_s=0.1)
    assert 4 <= len(out) <= 2 * 0.1 / 0.005 + 4


def test_open_loop_records_schedule_and_cap():
    be = FakeBackend(delay_s=0.02)
    _, out = _run(be, rate=float("inf"), num_requests=10, concurrency=4)
    assert len(out) == 10 and be.max_inflight == 4
    assert all(r.scheduled_s is not None and r.send_s >= r.scheduled_s for r in out)


def test_connection_failures_stop_the_load_point():
    be = FakeBackend(fail_from=3)
    res, out = _run(be, concurrency=2, num_requests=1000)
    assert res.interrupted and "connection failures" in res.reason
    assert len(out) < 50 and sum(r.status == "ok" for r in out) <= 3
    assert sum(r.status == "error" for r in out) >= 3
    assert len({r.request_id for r in out}) == len(out)  # every request sent has exactly one record


def test_cancellation_records_in_flight_requests():
    async def main(out):
        task = asyncio.ensure_future(run_load_point(FakeBackend(delay_s=10), LoadPointPlan(
            load_point="lp", requests=REQS, concurrency=3, num_requests=10), out.append))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    out: list[RequestRecord] = []
    asyncio.run(main(out))
    assert len(out) == 3 and all(r.status == "cancelled" for r in out)


def test_precise_timer_fires_in_time_order():
    async def main():
        timer = PreciseTimer()
        import time

        now = time.perf_counter()
        fired = []
        for d in (0.004, 0.001, 0.003, 0.002, 0.0):
            timer.call_at(now + d, fired.append, d)
        await timer.sleep_until(now + 0.006)
        return fired

    assert asyncio.run(main()) == [0.0, 0.001, 0.002, 0.003, 0.004]


def test_load_spec_points_and_validation():
    assert [p[0] for p in LoadSpec().points()] == ["concurrency=1"]
    assert [p[0] for p in LoadSpec(concurrency=[1, 4], rates=[2.5, "inf"]).points()] == [
        "concurrency=1", "concurrency=4", "rate=2.5", "rate=inf"]
    for bad in ({"concurrency": [0]}, {"rates": [-1]}, {"slo": {"ttft": 1}}, {"burstiness": 0}):
        with pytest.raises(ValueError):
            LoadSpec(**bad)


def test_precise_timer_keeps_serving_the_loop_while_waiting():
    """I/O that arrives while the timer is in its precise (spinning) phase is served before the timer
    fires. The windows are wide (the spin phase is 400 ms) so a loaded host cannot fail it: the
    order of events is asserted, not their timing."""
    async def main():
        import time

        timer = PreciseTimer(margin_s=0.4)
        loop = asyncio.get_running_loop()
        r, w = __import__("socket").socketpair()
        events = []
        loop.add_reader(r.fileno(), lambda: events.append(("io", r.recv(10))))
        now = time.perf_counter()
        timer.call_at(now + 0.45, lambda: events.append(("timer", 1)))
        loop.call_later(0.1, w.send, b"x")  # arrives inside the timer's spin phase (0.05 s .. 0.45 s)
        await timer.sleep_until(now + 0.5)
        loop.remove_reader(r.fileno())
        r.close()
        w.close()
        return events

    assert asyncio.run(main()) == [("io", b"x"), ("timer", 1)]


def test_workers_need_a_backend_that_can_be_cloned():
    with pytest.raises(ValueError, match="several processes"):
        asyncio.run(run_load_point(FakeBackend(), LoadPointPlan(load_point="lp", requests=REQS, concurrency=2,
                                                                num_requests=4), lambda r: None, workers=2))


def _workers_run(url, plan, workers=2):
    from benchseal.bench.perf.backends.openai import OpenAIBackend

    out: list[RequestRecord] = []

    async def main():
        be = OpenAIBackend(model="test-model", base_url=url, preflight=False)
        await be.start()
        try:
            return await run_load_point(be, plan, out.append, workers=workers)
        finally:
            await be.close()

    return asyncio.run(main()), out




