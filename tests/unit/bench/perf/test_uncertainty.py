"""Order-statistic intervals on percentiles, their minimum samples, and the Poisson interval on
throughput, against known values and a seeded coverage check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchseal.bench.perf.metrics import stats, summarize_load_point
from benchseal.bench.perf.uncertainty import min_sample, poisson_interval, quantile_ranks, throughput_intervals
from benchseal.schema import RequestRecord


def test_minimum_samples_per_percentile():
    assert [min_sample(q) for q in (0.5, 0.9, 0.95, 0.99)] == [6, 36, 72, 368]
    for q in (0.5, 0.9, 0.95, 0.99):
        n = min_sample(q)
        assert None not in quantile_ranks(n, q) and None in quantile_ranks(n - 1, q)


def test_ranks_match_the_normal_approximation_for_large_n():
    # n = 1000, median: 500 ± 1.96·√250 = 469…531 (+1 for the upper order statistic)
    assert quantile_ranks(1000, 0.5) == (469, 532)
    assert quantile_ranks(6, 0.5) == (1, 6)  # P(B = 0) = 1/64 < 0.025


def test_interval_covers_the_true_quantile_at_least_95_percent():
    rng = np.random.default_rng(7)
    n, q = 400, 0.99
    truth = -math.log(1 - q)  # exponential(1)
    l, u = quantile_ranks(n, q)
    samples = np.sort(rng.exponential(size=(3000, n)), axis=1)
    covered = (samples[:, l - 1] <= truth) & (truth <= samples[:, u - 1])
    assert covered.mean() >= 0.94  # ≥ 0.95 in expectation; 3,000 draws: sd 0.004


def test_poisson_interval_matches_the_exact_garwood_values():
    lo, hi = poisson_interval(100)  # exact: 81.364, 121.627 (chi-square quantiles)
    assert lo == pytest.approx(81.364, abs=0.02) and hi == pytest.approx(121.627, abs=0.02)
    assert poisson_interval(0)[0] == 0.0 and poisson_interval(0)[1] == pytest.approx(3.689, abs=0.03)
    t = throughput_intervals(100, 10.0, 1600.0, 3200.0)
    assert t["request_throughput"] == pytest.approx([lo / 10, hi / 10])
    assert t["output_token_throughput"] == pytest.approx([lo * 1.6, hi * 1.6])


def test_summary_carries_intervals_only_when_asked():
    recs = [RequestRecord(load_point="lp", request_id=i, send_s=0.0, first_token_s=0.01 * (i + 1), end_s=0.5,
                          chunk_s=[0.01 * (i + 1), 0.4], output_tokens=2, status="ok") for i in range(8)]
    s = summarize_load_point(recs, load_point="lp", mode="concurrency")
    assert s.ttft_ms.ci95["p50"] == [pytest.approx(10.0), pytest.approx(80.0)]  # ranks 1 and 8 of 8
    assert s.ttft_ms.ci95["p99"][1] is None and s.throughput_ci95["request_throughput"][0] > 0
    plain = summarize_load_point(recs, load_point="lp", mode="concurrency", intervals=False)
    assert plain.ttft_ms.ci95 is None and plain.throughput_ci95 is None and stats([1.0, 2.0]).ci95 is None


def test_a_load_point_where_every_request_failed_recomputes_identically():
    from benchseal.bench.perf.metrics import recompute_perf_report
    from benchseal.schema import PerfReport

    recs = [RequestRecord(load_point="lp", request_id=i, send_s=0.1 * i, end_s=0.1 * i + 0.01, status="error",
                          error="http-500: no", cause="http-status") for i in range(4)]
    s = summarize_load_point(recs, load_point="lp", mode="concurrency")
    assert s.steady_state is not None and s.steady_state["completed"] == 0 and s.throughput_ci95 is None
    summary = PerfReport(backend="x", model="m", load_points=[s]).model_dump(mode="json")
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary
