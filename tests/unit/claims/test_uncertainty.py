"""A perf claim whose 95% interval contains its threshold, or whose sample is too small for the bound
that would decide it, is INCONCLUSIVE with the numbers."""

from __future__ import annotations

import pytest

from benchseal.claims import Program, check
from benchseal.schema import Claim

RUN_OK = {"status": "complete", "stages": {"perf": {"status": "complete"}}}


def _lp(c, p99, ci, n=1000, tput=100.0, tput_ci=(90.0, 110.0)):
    return {"load_point": f"concurrency={c}", "concurrency": c, "completed": n, "failed": 0,
            "ttft_ms": {"n": n, "p99": p99, "ci95": {"p99": list(ci)}},
            "output_token_throughput": tput, "throughput_ci95": {"output_token_throughput": list(tput_ci)}}


def _verdict(metric, op, threshold, *lps):
    claim = Claim(id="c", title_zh="t", title_en="t", clause_zh="c", clause_en="c", metric=metric, op=op, threshold=threshold)
    program = Program(id="t", name_zh="t", name_en="t", version="1", claims=[claim])
    return check(program, {"run": RUN_OK, "perf": {"load_points": list(lps)}}).verdicts[0]


P99 = "perf.load_points[concurrency=1].ttft_ms.p99"


@pytest.mark.parametrize("ci, status", [((40, 60), "PASS"), ((90, 110), "INCONCLUSIVE"), ((120, 150), "FAIL")])
def test_interval_decides_or_leaves_inconclusive(ci, status):
    v = _verdict(P99, "<=", 100, _lp(1, sum(ci) / 2, ci))
    assert v.status == status
    if status == "INCONCLUSIVE":
        assert "95% interval [90, 110]" in v.reason and "contains the threshold 100" in v.reason


def test_p99_of_eight_requests_cannot_pass_but_can_fail():
    v = _verdict(P99, "<=", 100, _lp(1, 28.0, (20.0, None), n=8))
    assert v.status == "INCONCLUSIVE" and "needs at least 368" in v.reason and "8 values" in v.reason
    assert _verdict(P99, "<=", 100, _lp(1, 354.0, (300.0, None), n=8)).status == "FAIL"  # even the low bound fails


def test_fan_out_with_max_aggregates_the_bounds():
    metric = "perf.load_points[*].output_token_throughput|max"
    a, b = _lp(1, 1, (0, 1), tput=100, tput_ci=(95, 105)), _lp(4, 1, (0, 1), tput=300, tput_ci=(280, 320))
    assert _verdict(metric, ">=", 250, a, b).status == "PASS"
    v = _verdict(metric, ">=", 310, a, b)
    assert v.status == "INCONCLUSIVE" and "[280, 320]" in v.reason


def test_summaries_without_intervals_are_not_gated():
    lp = {"load_point": "concurrency=1", "concurrency": 1, "completed": 8, "failed": 0, "ttft_ms": {"n": 8, "p99": 28.0}}
    assert _verdict(P99, "<=", 100, lp).status == "PASS"
