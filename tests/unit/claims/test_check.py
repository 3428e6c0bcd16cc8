"""check(program, evidence): operators, margins, boundaries, INCONCLUSIVE rules, purity."""

from __future__ import annotations

import builtins
import copy
import io
import pathlib

import pytest

from benchseal.claims import Program, check, load_evidence, load_program
from benchseal.schema import Claim
from tests.helpers.bundle_factory import make_sample_bundle


RUN_OK = {"status": "complete", "stages": {s: {"status": "complete"} for s in ("hw", "model", "perf", "eval")}}


def _claim(metric: str, op: str, threshold=None, **kw) -> Claim:
    return Claim(id=kw.pop("id", "c"), title_zh="标题", title_en="title", clause_zh="条款", clause_en="clause",
                 metric=metric, op=op, threshold=threshold, **kw)


def _program(*claims: Claim, **kw) -> Program:
    return Program(id="t", name_zh="测试", name_en="test", version="1", claims=list(claims),
                   eval_suites=kw.pop("eval_suites", ["s"]), **kw)


def _one(claim: Claim, evidence: dict, **kw):
    return check(_program(claim, **kw), evidence).verdicts[0]


@pytest.mark.parametrize("op, observed, threshold, status, margin", [
    (">=", 10, 10, "PASS", 0.0),
    (">=", 9, 10, "FAIL", -1.0),
    (">", 10, 10, "FAIL", 0.0),
    (">", 11, 10, "PASS", 1.0),
    ("<=", 10, 10, "PASS", 0.0),
    ("<=", 12, 10, "FAIL", -2.0),
    ("<", 10, 10, "FAIL", 0.0),
    ("<", 7.5, 10, "PASS", 2.5),
    ("==", 3, 3, "PASS", 0.0),
    ("==", 4, 3, "FAIL", -1.0),
])
def test_numeric_operators_and_margin_sign(op, observed, threshold, status, margin):
    v = _one(_claim("model.x", op, threshold), {"run": RUN_OK, "model": {"x": observed}})
    assert (v.status, v.margin) == (status, margin)
    assert v.observed == observed and v.threshold == threshold


@pytest.mark.parametrize("observed, status", [(True, "PASS"), (False, "FAIL")])
def test_boolean_equality(observed, status):
    v = _one(_claim("model.flag", "==", True), {"run": RUN_OK, "model": {"flag": observed}})
    assert v.status == status and v.margin is None


def test_present():
    ev = {"run": RUN_OK, "model": {"x": 0}}
    assert _one(_claim("model.x", "present"), ev).status == "PASS"
    v = _one(_claim("model.y", "present"), ev)
    assert v.status == "INCONCLUSIVE" and "evidence missing" in v.reason


def test_bigint_strings_are_compared_as_ints():
    big = 2**60 + 1
    v = _one(_claim("model.params.total", ">", 2**60), {"run": RUN_OK, "model": {"params": {"total": str(big)}}})
    assert v.status == "PASS" and v.observed == str(big)  # written back as a string: >= 2**53


def _hunan_params(total: int) -> str:
    prog = load_program("hunan-2025")
    ev = {"run": RUN_OK, "model": {"params": {"total": str(total)}}}
    return next(v for v in check(prog, ev).verdicts if v.claim_id == "params-scale").status


def _songjiang_params(total: int) -> str:
    prog = load_program("songjiang-2025")
    ev = {"run": RUN_OK, "model": {"params": {"total": total}}}
    return next(v for v in check(prog, ev).verdicts if v.claim_id == "params-above-100b").status


def test_hunan_yishang_is_inclusive_at_exactly_800_million():
    assert _hunan_params(800_000_000) == "PASS"  # 8亿以上: 8亿 itself qualifies
    assert _hunan_params(799_999_999) == "FAIL"


def test_songjiang_chaoguo_is_strict_at_exactly_100_billion():
    assert _songjiang_params(100_000_000_000) == "FAIL"  # 超过千亿: 千亿 itself does not
    assert _songjiang_params(100_000_000_001) == "PASS"


# --- INCONCLUSIVE ----------------------------------------------------------------------------
def test_missing_run_json_is_inconclusive():
    v = _one(_claim("model.x", ">=", 1), {"model": {"x": 5}})
    assert v.status == "INCONCLUSIVE" and "run.json" in v.reason


def test_stage_not_complete_is_inconclusive_even_with_evidence():
    run = {"status": "partial", "stages": {"model": {"status": "complete"}, "eval": {"status": "interrupted", "error": "Ctrl-C"}}}
    ev = {"run": run, "model": {"x": 5}, "eval": {"s": {"claim_grade": True, "extra": {"y": 1}}}}
    assert _one(_claim("model.x", ">=", 1), ev).status == "PASS"
    v = _one(_claim("eval.s.extra.y", ">=", 1), ev)
    assert v.status == "INCONCLUSIVE" and "interrupted" in v.reason and "Ctrl-C" in v.reason


def test_partial_run_without_stage_record_is_inconclusive():
    v = _one(_claim("model.x", ">=", 1), {"run": {"status": "partial"}, "model": {"x": 5}})
    assert v.status == "INCONCLUSIVE" and "partial" in v.reason


def test_non_claim_grade_eval_is_inconclusive():
    ev = {"run": RUN_OK, "eval": {"s": {"claim_grade": False, "not_claim_grade_reasons": ["--limit 10 was used"],
                                        "results": [{"task": "a", "metric": "acc", "value": 0.9}]}}}
    v = _one(_claim("eval.s.results[task=a].value", ">=", 0.5), ev)
    assert v.status == "INCONCLUSIVE" and "--limit 10" in v.reason and v.observed == 0.9


def test_eval_on_another_model_is_inconclusive():
    ev = {"run": RUN_OK, "model": {"model_digest": "aa"},
          "eval": {"s": {"claim_grade": True, "model_digest": "bb", "extra": {"y": 1}}}}
    assert _one(_claim("eval.s.extra.y", "present"), ev).status == "INCONCLUSIVE"


def _perf(failed: int) -> dict:
    lp = lambda c, f: {"load_point": f"concurrency={c}", "concurrency": c, "completed": 100 - f, "failed": f,  # noqa: E731
                       "ttft_ms": {"p99": 50.0 * c}}
    return {"run": RUN_OK, "perf": {"load_points": [lp(1, 0), lp(4, failed)]}}


def test_failed_requests_above_limit_make_perf_claims_inconclusive():
    ttft_c1 = _claim("perf.load_points[concurrency=1].ttft_ms.p99", "<=", 1000)
    ttft_all = _claim("perf.load_points[*].ttft_ms.p99|max", "<=", 1000)
    assert _one(ttft_all, _perf(failed=1)).status == "PASS"  # 1% is at the default limit
    v = _one(ttft_all, _perf(failed=5))
    assert v.status == "INCONCLUSIVE" and "concurrency=4" in v.reason
    assert _one(ttft_c1, _perf(failed=5)).status == "PASS"  # only the load points the path reads count
    assert _one(ttft_all, _perf(failed=5), max_failed_fraction=0.1).status == "PASS"


def test_error_rate_claim_measures_failures_itself():
    claim = _claim("perf.load_points[*].error_rate|max", "<=", 0.01, max_failed_fraction=1.0)
    v = _one(claim, _perf(failed=5))
    assert v.status == "FAIL" and v.observed == 0.05


def test_fan_out_without_aggregation_is_inconclusive():
    v = _one(_claim("perf.load_points[*].ttft_ms.p99", "<=", 1000), _perf(0))
    assert v.status == "INCONCLUSIVE" and "aggregation" in v.reason


def test_non_numeric_observed_is_inconclusive():
    v = _one(_claim("model.x", ">=", 1), {"run": RUN_OK, "model": {"x": "n/a"}})
    assert v.status == "INCONCLUSIVE" and "not a number" in v.reason


# --- report-level -----------------------------------------------------------------------------
def test_passed_needs_every_required_claim_and_ignores_advisory():
    ev = {"run": RUN_OK, "model": {"x": 5}}
    ok = _claim("model.x", ">=", 1, id="a")
    adv = _claim("model.x", ">=", 10, id="b", severity="advisory")
    missing = _claim("model.nope", ">=", 1, id="c")
    assert check(_program(ok, adv), ev).passed is True
    rep = check(_program(ok, adv, missing), ev)
    assert rep.passed is False and rep.counts == {"PASS": 1, "FAIL": 1, "INCONCLUSIVE": 1}


def test_check_is_pure(sample_bundle, monkeypatch):
    prog = load_program("songjiang-2025")
    evidence = load_evidence(sample_bundle)
    before = copy.deepcopy(dict(evidence.data))
    from benchseal.claims.gates import preload

    preload()  # the shipped configuration the gates compare with is read once, like code

    def no_io(*a, **k):
        raise AssertionError("check() must not read files")

    monkeypatch.setattr(builtins, "open", no_io)
    monkeypatch.setattr(io, "open", no_io)
    monkeypatch.setattr(pathlib.Path, "read_text", no_io)
    monkeypatch.setattr(pathlib.Path, "read_bytes", no_io)
    first = check(prog, evidence)
    second = check(prog, evidence)
    monkeypatch.undo()
    assert first == second
    assert dict(evidence.data) == before  # evidence not mutated
    assert {v.status for v in first.verdicts} == {"PASS", "FAIL"}


def test_partial_sample_bundle(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", status="partial", program="songjiang-2025")
    rep = check(load_program("songjiang-2025"), load_evidence(bundle))
    by_id = {v.claim_id: v for v in rep.verdicts}
    assert by_id["domestic-leading"].status == "INCONCLUSIVE"
    assert by_id["params-above-100b"].status == "FAIL"  # model stage completed: still decidable
    assert rep.passed is False


def test_failed_requests_in_sample_bundle(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", failed_requests=3, program=None)
    rep = check(load_program("shenzhen-2025"), load_evidence(bundle))
    by_id = {v.claim_id: v for v in rep.verdicts}
    assert by_id["api-latency-ttft"].status == "INCONCLUSIVE"  # 3/24 failed > 1 %
    assert by_id["api-error-rate"].status == "FAIL" and by_id["api-error-rate"].observed == pytest.approx(3 / 24)
    assert by_id["token-usage"].status == "PASS"


def test_non_claim_grade_sample_bundle(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", claim_grade=False, program=None)
    rep = check(load_program("songjiang-2025"), load_evidence(bundle))
    assert {v.claim_id for v in rep.verdicts if v.status == "INCONCLUSIVE"} == {"domestic-leading", "ceval-score", "cmmlu-score"}
