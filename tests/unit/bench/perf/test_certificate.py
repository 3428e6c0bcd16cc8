"""The client-overhead certificate: the null server, the ceiling, the client-bound rule and its gate."""

from __future__ import annotations

import asyncio

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.certificate import CLIENT_BOUND_FRACTION, client_bound, measure_ceiling
from benchseal.claims import Program, check
from benchseal.schema import Claim


def test_ceiling_is_measured_against_the_null_server():
    be = OpenAIBackend(model="m", base_url="http://127.0.0.1:9", preflight=False)  # never contacted
    reqs = [GenRequest(request_id=i, prompt=f"p {i}", max_tokens=4) for i in range(8)]
    ceil = asyncio.run(measure_ceiling(be, reqs, 4, duration_s=0.3))
    assert ceil["status"] == "measured" and ceil["concurrency"] == 4 and ceil["requests"] > 4
    assert ceil["output_token_throughput"] == ceil["request_throughput"] * 4


def test_client_bound_rule():
    ceil = {"status": "measured", "request_throughput": 1000.0}
    assert client_bound(400.0, ceil) == (0.4, False)
    assert client_bound(1000.0 * CLIENT_BOUND_FRACTION, ceil) == (0.5, True)
    assert client_bound(10.0, {"status": "not-run", "reason": "x"}) == (None, None)


def _verdict(metric, bound):
    lp = {"load_point": "concurrency=64", "concurrency": 64, "completed": 500, "failed": 0, "ttft_ms": {"p99": 5.0},
          "output_token_throughput": 9000.0, "client_bound": bound, "client_bound_fraction": 0.9,
          "client_ceiling": {"status": "measured", "request_throughput": 700.0, "concurrency": 64}}
    claim = Claim(id="c", title_zh="t", title_en="t", clause_zh="c", clause_en="c", metric=metric, op=">=", threshold=100)
    prog = Program(id="t", name_zh="t", name_en="t", version="1", claims=[claim])
    return check(prog, {"run": {"status": "complete"}, "perf": {"load_points": [lp]}}).verdicts[0]


def test_a_client_bound_point_cannot_back_a_throughput_claim():
    v = _verdict("perf.load_points[*].output_token_throughput|max", True)
    assert v.status == "INCONCLUSIVE" and "client-bound: it reached 90% of the client's own ceiling" in v.reason
    assert _verdict("perf.load_points[*].output_token_throughput|max", False).status == "PASS"
    assert _verdict("perf.load_points[concurrency=64].ttft_ms.p99", True).status == "FAIL"  # latency: not gated
