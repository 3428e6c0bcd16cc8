"""Metric definitions against hand-computed ground truth (no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from benchseal.bench.perf.metrics import recompute_perf_report, stats, summarize_load_point
from benchseal.schema import PerfReport, RequestRecord


def rec(i, send, chunks, end, out=None, status="ok", warmup=False, lp="concurrency=2", **kw):
    return RequestRecord(load_point=lp, request_id=i, send_s=send, first_token_s=chunks[0] if chunks else None,
                         end_s=end, chunk_s=chunks, output_tokens=out if out is not None else len(chunks),
                         prompt_tokens=kw.pop("prompt_tokens", 10), status=status, warmup=warmup, **kw)


RECORDS = [
    rec(0, 0.0, [0.5, 0.6, 0.7], 0.7, warmup=True),  # excluded
    rec(1, 1.0, [1.1, 1.3, 1.6], 1.6),  # ttft 100, e2el 600, tpot 250, itl 200 300
    rec(2, 1.2, [1.5, 1.6], 1.6),  # ttft 300, e2el 400, tpot 100, itl 100
    rec(3, 1.4, [1.45], 1.5, out=1),  # ttft 50, e2el 100, tpot undefined
    rec(4, 1.5, [], 2.0, out=0, status="error", error="http-500: boom"),
    rec(5, 1.6, [], 3.0, out=0, status="timeout", error="timeout: no complete response within 1 s"),
    rec(9, 0.0, [0.1, 0.2], 0.2, lp="other"),  # another load point
]


def test_latency_definitions_and_counts():
    s = summarize_load_point(RECORDS, load_point="concurrency=2", mode="concurrency", concurrency=2)
    assert (s.completed, s.failed, s.warmup_excluded) == (3, 2, 1)
    assert s.ttft_ms.n == 3 and s.ttft_ms.mean == pytest.approx((100 + 300 + 50) / 3)
    assert s.e2el_ms.p50 == pytest.approx(400)
    assert s.tpot_ms.n == 2 and s.tpot_ms.mean == pytest.approx((500 / 2 + 100 / 1) / 2)
    assert sorted(round(x) for x in [s.itl_ms.min, s.itl_ms.max]) == [100, 300] and s.itl_ms.n == 3
    assert s.itl_ms.mean == pytest.approx(200)
    # duration: first counted send (1.0) to last counted end (3.0)
    assert s.duration_s == pytest.approx(2.0)
    assert s.request_throughput == pytest.approx(3 / 2.0)
    assert s.output_token_throughput == pytest.approx((3 + 2 + 1) / 2.0)
    assert s.total_token_throughput == pytest.approx((6 + 30) / 2.0)
    assert s.errors == {"http-500": 1, "timeout": 1}
    assert s.goodput is None


def test_percentiles_and_stdev_match_numpy():
    rng = np.random.default_rng(1)
    vals = rng.exponential(10.0, size=101)
    st = stats(vals)
    for q, got in ((50, st.p50), (90, st.p90), (95, st.p95), (99, st.p99)):
        assert got == pytest.approx(np.percentile(vals, q))
    assert st.stdev == pytest.approx(np.std(vals))  # population stdev, as vLLM bench serve
    assert stats([]).n == 0 and stats([]).mean is None


def test_goodput_with_slo():
    s = summarize_load_point(RECORDS, load_point="concurrency=2", mode="concurrency", slo={"ttft_ms": 200, "tpot_ms": 200})
    # req1: ttft 100 ok, tpot 250 > 200 -> bad; req2: ttft 300 bad; req3: ttft 50, tpot undefined -> good
    assert s.goodput == pytest.approx(1 / 2.0)
    s2 = summarize_load_point(RECORDS, load_point="concurrency=2", mode="concurrency", slo={"e2el_ms": 500, "itl_ms": 250})
    # e2el: 600 bad, 400 ok, 100 ok; max itl: req2 100 ok, req3 none ok
    assert s2.goodput == pytest.approx(2 / 2.0)
    with pytest.raises(ValueError):
        summarize_load_point(RECORDS, load_point="concurrency=2", mode="concurrency", slo={"latency": 1})


def test_token_accounting_flags_disagreement_and_length():
    recs = [
        rec(0, 0, [0.1, 0.2], 0.2, out=2, output_tokens_server=2, output_tokens_client=2, max_tokens=2),
        rec(1, 0, [0.1, 0.2], 0.2, out=3, output_tokens_server=3, output_tokens_client=2, max_tokens=2,
            prompt_tokens_server=10, prompt_tokens_client=9),
        rec(2, 0, [0.1], 0.2, out=1, output_tokens_server=1, output_tokens_client=1, max_tokens=2),
    ]
    acc = summarize_load_point(recs, load_point="concurrency=2", mode="concurrency").token_accounting
    assert acc["output_compared"] == 3 and acc["output_mismatch"] == 1 and acc["output_mismatch_tokens"] == 1
    assert acc["prompt_mismatch"] == 1
    assert acc["length_long"] == 1 and acc["length_short"] == 1
    assert len(acc["flags"]) == 4


def test_empty_and_all_failed_load_points():
    s = summarize_load_point([], load_point="x", mode="rate", rate=2.0)
    assert s.completed == 0 and s.failed == 0 and s.duration_s == 0 and s.request_throughput == 0
    bad = [rec(0, 0.0, [], 0.5, out=0, status="error", error="connect: refused")]
    s = summarize_load_point(bad, load_point="concurrency=2", mode="concurrency", slo={"ttft_ms": 1})
    assert s.failed == 1 and s.ttft_ms.n == 0 and s.goodput == 0.0 and s.errors == {"connect": 1}


def test_schedule_lag_only_for_open_loop():
    recs = [rec(i, 0.0101 * i + 0.0003, [0.0101 * i + 0.01], 0.0101 * i + 0.01, lp="rate=100", scheduled_s=0.0101 * i)
            for i in range(5)]
    s = summarize_load_point(recs, load_point="rate=100", mode="rate", rate=100.0)
    assert s.schedule_lag_ms.n == 5 and s.schedule_lag_ms.mean == pytest.approx(0.3)
    assert summarize_load_point(RECORDS, load_point="concurrency=2", mode="concurrency").schedule_lag_ms is None


def test_recompute_report_round_trip_carries_utilisation():
    s = summarize_load_point(RECORDS, load_point="concurrency=2", mode="concurrency", concurrency=2,
                             started_at="2026-01-01T00:00:00+00:00", slo={"ttft_ms": 200})
    s = s.model_copy(update={"utilisation": {"mfu": 0.5}, "energy": {"energy_j": 3.0}})
    report = PerfReport(backend="openai", model="m", load_points=[s], status="complete")
    summary = report.model_dump(mode="json")
    again = recompute_perf_report(summary, RECORDS)
    assert again.model_dump(mode="json") == summary
    tampered = [r.model_copy(update={"end_s": 9.0}) if r.request_id == 2 else r for r in RECORDS]
    assert recompute_perf_report(summary, tampered).model_dump(mode="json") != summary
