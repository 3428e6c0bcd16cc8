"""--repeats: repeated load point ids, the run-to-run spread, and the steady-state window."""

from __future__ import annotations

import pytest

from benchseal.bench.perf.metrics import recompute_perf_report, summarize_load_point
from benchseal.bench.perf.repeats import repeat_spread, steady_state
from benchseal.bench.perf.run import LoadSpec
from benchseal.schema import PerfReport, RequestRecord


def test_repeated_points_keep_their_mode_and_level():
    pts = LoadSpec(concurrency=[1, 4], repeats=2).points()
    assert pts == [("concurrency=1", "concurrency", 1, None), ("concurrency=1#2", "concurrency", 1, None),
                   ("concurrency=4", "concurrency", 4, None), ("concurrency=4#2", "concurrency", 4, None)]


def test_spread_of_two_repeats():
    a = {"load_point": "concurrency=4", "ttft_ms": {"p99": 28.0}, "request_throughput": 10.0}
    b = {"load_point": "concurrency=4#2", "ttft_ms": {"p99": 354.0}, "request_throughput": 8.0}
    one = {"load_point": "concurrency=1", "ttft_ms": {"p99": 5.0}}
    spread = repeat_spread([a, b, one])
    assert set(spread) == {"concurrency=4"}
    p99 = spread["concurrency=4"]["ttft_ms.p99"]
    assert (p99["min"], p99["max"], p99["mean"]) == (28.0, 354.0, 191.0)
    assert p99["rel_spread"] == pytest.approx(326 / 191)


def test_steady_state_excludes_the_drain():
    # sends at 0, 1, 2, 3; ends at 1.5, 2.5, 3.5, 4.5: only the first two end inside [0, 3]
    s = steady_state([0, 1, 2, 3], [1.5, 2.5, 3.5, 4.5], [10, 10, 10, 10], [0, 1, 2, 3])
    assert s == {"window_s": [0, 3], "completed": 2, "request_throughput": 2 / 3, "output_token_throughput": 20 / 3}


def test_repeat_spread_is_rederived():
    recs = [RequestRecord(load_point=lp, request_id=i, send_s=0.1 * i, first_token_s=0.1 * i + 0.01 * (k + 1),
                          end_s=0.1 * i + 0.5, chunk_s=[0.1 * i + 0.01 * (k + 1)], output_tokens=1, status="ok")
            for k, lp in enumerate(("c", "c#2")) for i in range(6)]
    lps = [summarize_load_point(recs, load_point=lp, mode="concurrency", repeat=k + 1) for k, lp in enumerate(("c", "c#2"))]
    report = PerfReport(backend="x", model="m", load_points=lps,
                        repeat_spread=repeat_spread([lp.model_dump(mode="json") for lp in lps]))
    summary = report.model_dump(mode="json")
    assert summary["repeat_spread"]["c"]["ttft_ms.p50"]["max"] == pytest.approx(20.0)
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary
    summary["repeat_spread"]["c"]["ttft_ms.p50"]["max"] = 1.0
    assert recompute_perf_report(summary, recs).model_dump(mode="json") != summary
