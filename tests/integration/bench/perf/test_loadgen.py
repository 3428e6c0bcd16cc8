"""Load generation: schedules, closed/open loop bookkeeping, warm-up, stopping rules (no timing asserts). — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import pytest
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.loadgen import LoadPointPlan, PreciseTimer, arrival_offsets, run_load_point
from benchseal.bench.perf.run import LoadSpec
from benchseal.schema import RequestRecord
from tests.unit.bench.perf.test_loadgen import FakeBackend, REQS, _run, _workers_run  # noqa: F401


def test_workers_closed_loop_send_every_request_once(test_server):
    res, out = _workers_run(test_server.url, LoadPointPlan(load_point="lp", requests=REQS, concurrency=4,
                                                           num_requests=30, warmup=2))
    assert not res.interrupted and len(out) == 32
    assert sorted(r.request_id for r in out) == list(range(32))
    assert all(r.status == "ok" and r.send_s >= 0 and r.end_s >= r.send_s for r in out)
    assert all(r.warmup == (r.request_id < 2) and r.prompt_id == REQS[r.request_id % 5].request_id for r in out)


def test_workers_open_loop_follow_one_schedule(test_server):
    res, out = _workers_run(test_server.url, LoadPointPlan(load_point="lp", requests=REQS, rate=400.0,
                                                           num_requests=40, seed=5), workers=3)
    assert len(out) == 40 and sorted(r.request_id for r in out) == list(range(40))
    expected = list(itertools.islice(arrival_offsets(400.0, 1.0, seed=5), 40))
    by_seq = {r.request_id: r.scheduled_s for r in out}
    assert [by_seq[i] for i in range(40)] == pytest.approx(expected, abs=1e-9)
    assert all(r.send_s >= r.scheduled_s for r in out)
