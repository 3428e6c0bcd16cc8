"""A failed audit makes the perf claims on the figures it touches INCONCLUSIVE, naming the audit."""

from __future__ import annotations

from benchseal.claims import Program, check
from benchseal.schema import Claim

RUN_OK = {"status": "complete", "stages": {"perf": {"status": "complete"}}}


def _claim(metric: str, op: str = "<=", threshold=1000) -> Claim:
    return Claim(id="c", title_zh="标题", title_en="title", clause_zh="条款", clause_en="clause",
                 metric=metric, op=op, threshold=threshold)


def _verdict(metric: str, audits: list[dict] | None, op: str = "<=", threshold=1000):
    lp = {"load_point": "concurrency=1", "concurrency": 1, "completed": 100, "failed": 0,
          "ttft_ms": {"p99": 50.0}, "output_token_throughput": 900.0}
    perf = {"load_points": [lp]} if audits is None else {"load_points": [lp], "audits": audits}
    program = Program(id="t", name_zh="测试", name_en="test", version="1", claims=[_claim(metric, op, threshold)])
    return check(program, {"run": RUN_OK, "perf": perf}).verdicts[0]


TTFT = "perf.load_points[concurrency=1].ttft_ms.p99"
TPUT = "perf.load_points[concurrency=1].output_token_throughput"


def test_no_audits_or_passing_audits_gate_nothing():
    assert _verdict(TTFT, None).status == "PASS"
    passing = [{"name": "cache", "status": "pass", "detail": "ok", "touches": ["*"]},
               {"name": "accuracy-under-load", "status": "not-run", "detail": "skipped", "touches": []}]
    assert _verdict(TTFT, passing).status == "PASS"


def test_a_failed_audit_names_itself_on_the_claims_it_touches():
    fc = [{"name": "first-content", "status": "fail", "detail": "TTFT measures a blank chunk",
           "touches": ["ttft_ms", "tpot_ms", "itl_ms"]}]
    v = _verdict(TTFT, fc)
    assert v.status == "INCONCLUSIVE" and v.reason == "audit 'first-content' failed: TTFT measures a blank chunk"
    assert _verdict(TPUT, fc, ">=", 100).status == "PASS"  # throughput is not touched by first content
    cache = [{"name": "cache", "status": "fail", "detail": "response cache", "touches": ["*"]}]
    v = _verdict(TPUT, cache, ">=", 100)
    assert v.status == "INCONCLUSIVE" and "audit 'cache' failed: response cache" in v.reason


def test_a_claim_about_the_audits_themselves_is_not_gated():
    cache = [{"name": "cache", "status": "fail", "detail": "response cache", "touches": ["*"]}]
    v = _verdict("perf.audits[name=cache].status", cache, "==", "pass")
    assert v.status == "FAIL"
