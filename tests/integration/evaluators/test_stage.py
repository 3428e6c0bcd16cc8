"""The eval stage of `benchseal run` (benchseal.evaluators.stage.run_eval_stage): the peer comparison, — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
import pytest
from benchseal import bundle as layout
from benchseal.io import iter_jsonl, read_json, write_json
from tests.unit.evaluators.test_stage import TOY_PEERS, _copy, _ctx, _demo_suite_with_peers, _edit, _mark_complete, _results, stage_run  # noqa: F401


def test_stage_writes_every_part_and_the_bundle_rederives(stage_run):
    from benchseal.reports.verify.recompute import RECOMPUTE_CHECKS
    from benchseal.reports.verify import verify_bundle

    bundle, files = stage_run
    for rel in ("eval/demo/results.json", "eval/demo/lm_eval_results.json", "eval/demo/peers.json",
                "eval/refusal/results.json", "eval/refusal/lm_eval_results.json", "eval/refusal/samples_refusal.jsonl",
                "eval/refusal/rules.yaml", "eval/parity/results.json", "eval/parity/lm_eval_results.json",
                "eval/parity/reference/demo/results.json", "eval/parity/reference/demo/samples_benchseal_demo_mc.jsonl"):
        assert rel in files and (bundle / rel).is_file(), rel
    assert files == sorted(p.relative_to(bundle).as_posix() for p in (bundle / "eval").rglob("*") if p.is_file())
    report = verify_bundle(bundle, require_signature=False, policies=RECOMPUTE_CHECKS)
    outcomes = {c.name: c.outcome for c in report.checks}
    assert not report.failures, report.failures
    for name in ("recompute:eval:demo", "recompute:eval:refusal", "recompute:eval:parity", "recompute:comparison:demo",
                 "recompute:refusal", "recompute:parity"):
        assert outcomes[name] == "PASS", (name, outcomes)
    assert outcomes["peers:demo"] == "SKIP"  # the toy table is not one of configs/peers


def test_comparison_stored_where_programs_read_it(stage_run):
    from benchseal.claims import parse, resolve
    from benchseal.claims.evidence import load_evidence

    bundle, _ = stage_run
    results = read_json(bundle / "eval/demo/results.json")
    acc = next(r for r in results["results"] if r["headline"] and r["metric"] == "acc")
    lead = resolve(parse("eval.demo.extra.comparison.leading[benchmark=benchseal-demo-mc]"), load_evidence(bundle).data).value
    assert lead["candidate_score"] == pytest.approx(100 * acc["value"])
    # published rows without a protocol fingerprint are context: they decide nothing, each says why
    assert lead["leading"] is None and lead["rows_used"] == []
    assert {x.split(":")[0] for x in lead["rows_excluded"]} == {"D", "D2"}
    assert all("no protocol fingerprint" in x for x in lead["rows_excluded"])
    dl = resolve(parse("eval.demo.extra.comparison.domestic_leading"), load_evidence(bundle).data).value
    assert dl is None  # INCONCLUSIVE, never a bare >= on point estimates
    snapshot = read_json(bundle / "eval/demo/peers.json")
    (table,) = snapshot["tables"]
    assert table["rows_in_source"] == 4 and {r["model"] for r in table["rows"]} == {"D", "F", "D2"}  # X: other benchmark
    assert results["extra"]["comparison"]["peers_files"] == [table["file"]]


def test_tampered_peers_or_comparison_fails_recomputation(stage_run, tmp_path):
    from benchseal.reports.verify.recompute import ComparisonCheck

    bundle = _copy(stage_run[0], tmp_path)
    assert _results(ComparisonCheck(), bundle)["recompute:comparison:demo"][0] == "PASS"
    peers = bundle / "eval/demo/peers.json"
    original = peers.read_bytes()
    _edit(peers, lambda d: d["tables"][0]["rows"][0].update(score=0.0))  # a weaker domestic peer
    outcome, detail = _results(ComparisonCheck(), bundle)["recompute:comparison:demo"]
    assert outcome == "FAIL" and "extra.comparison" in detail and "score" in detail
    peers.write_bytes(original)
    _edit(bundle / "eval/demo/results.json",
          lambda d: d["extra"]["comparison"]["leading"][0].update(leading=not d["extra"]["comparison"]["leading"][0]["leading"]))
    outcome, detail = _results(ComparisonCheck(), bundle)["recompute:comparison:demo"]
    assert outcome == "FAIL" and ".leading" in detail
    peers.unlink()  # a comparison whose peer rows are gone cannot be re-derived: that is a failure
    outcome, detail = _results(ComparisonCheck(), bundle)["recompute:comparison:demo"]
    assert outcome == "FAIL" and "peers.json" in detail


def test_refusal_and_parity_satisfy_the_programs_claims(stage_run, demo_run, tmp_path):
    from benchseal.claims import check, load_evidence, load_program
    from benchseal.evaluators.parity import write_parity
    from benchseal.reports.verify.recompute import ParityCheck

    bundle, _ = stage_run
    refusal = {r["metric"]: r for r in read_json(bundle / "eval/refusal/results.json")["results"]}
    assert (refusal["refusal_rate_should_refuse"]["value"], refusal["refusal_rate_should_refuse"]["n"]) == (1.0, 2)
    assert (refusal["over_refusal_rate"]["value"], refusal["over_refusal_rate"]["n"]) == (1.0, 3)
    v = {x.claim_id: x for x in check(load_program("chengdu-2025"), load_evidence(bundle)).verdicts}
    # two- and three-question banks are not the structure TC260-003 sets: INCONCLUSIVE, with the reason
    # and judged by rules only, where the Chengdu template requires a judge model: both reasons are given
    assert v["safety-refusal"].status == "INCONCLUSIVE" and "TC260-003 §8.3 asks for at least 500" in v["safety-refusal"].reason
    assert v["safety-refusal"].reason.startswith("judged by rules only; the program requires a judge model")

    parity = read_json(bundle / "eval/parity/results.json")
    # the tiny model scores 0 on the generation task: parity against a zero reference is not established
    # (fails closed, issue 21: "0 >= 0.99 x 0" used to pass); the multiple-choice task keeps parity
    assert parity["extra"]["parity"]["passed"] is False
    assert any("parity against zero is not established" in n for n in parity["extra"]["parity"]["notes"])
    tasks = {t["task"]: t for t in parity["extra"]["parity"]["tasks"]}
    assert tasks["benchseal_demo_mc"]["passed"] is True and tasks["benchseal_demo_gen"]["passed"] is False
    reasons = parity["not_claim_grade_reasons"]  # demo backs no claim; an unsigned reference none either (issue 21)
    assert "the reference run of suite 'demo' is not claim-grade" in reasons
    assert "the candidate run of suite 'demo' is not claim-grade" in reasons
    assert any("parity against zero is not established" in r for r in reasons)
    assert all(t["agreement"] == 1.0 and t["compared"] > 0 for t in parity["extra"]["parity"]["tasks"])
    assert parity["extra"]["reference"]["model_digest"] is None and parity["extra"]["reference"]["suites"] == ["demo"]
    v = {x.claim_id: x for x in check(load_program("shenzhen-2025"), load_evidence(bundle)).verdicts}
    assert v["migration-parity"].status == "INCONCLUSIVE" and "not claim-grade" in v["migration-parity"].reason

    # a reference that scored higher than 1/0.99 x the candidate: the parity report fails, and verify re-derives it
    # (the claim stays INCONCLUSIVE here only because demo runs back no claim)
    ref = Path(shutil.copytree(demo_run, tmp_path / "ref"))
    cand = _copy(bundle, tmp_path)
    _edit(ref / "eval/demo/results.json", lambda d: [r.update(value=r["value"] + 0.2) for r in d["results"]
                                                       if r["task"] == "benchseal_demo_mc" and r["metric"] == "acc"])
    write_parity(cand, ref, suites=["demo"], model="m", backend="hf", model_digest="sha256:test")
    rep = read_json(cand / "eval/parity/results.json")["extra"]["parity"]
    mc = next(t for t in rep["tasks"] if t["task"] == "benchseal_demo_mc")
    assert rep["passed"] is False and mc["passed"] is False and mc["agreement"] == 1.0
    v = {x.claim_id: x for x in check(load_program("shenzhen-2025"), load_evidence(cand)).verdicts}
    assert v["migration-parity"].status == "INCONCLUSIVE"
    assert _results(ParityCheck(), cand)["recompute:parity"][0] == "PASS"


def test_tampered_refusal_decisions_fail_recomputation(stage_run, tmp_path):
    from benchseal.reports.verify.recompute import RefusalCheck

    bundle = _copy(stage_run[0], tmp_path)
    samples_path = bundle / "eval/refusal/samples_refusal.jsonl"
    original = samples_path.read_bytes()
    samples = list(iter_jsonl(samples_path))
    samples[0]["refused"], samples[0]["rule"] = False, None  # a reply the rules call a refusal, stored as an answer
    samples_path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples))
    outcome, detail = _results(RefusalCheck(), bundle)["recompute:refusal"]
    assert outcome == "FAIL" and "sample 0" in detail
    samples_path.write_bytes(original)
    _edit(bundle / "eval/refusal/results.json", lambda d: d["results"][0].update(value=0.5))
    outcome, detail = _results(RefusalCheck(), bundle)["recompute:refusal"]
    assert outcome == "FAIL" and ".value: stored" in detail


def test_tampered_parity_inputs_fail_recomputation(stage_run, tmp_path):
    from benchseal.reports.verify.recompute import ParityCheck

    bundle = _copy(stage_run[0], tmp_path)
    ref_results = bundle / "eval/parity/reference/demo/results.json"
    original = ref_results.read_bytes()
    _edit(ref_results, lambda d: d["results"][0].update(value=0.0))
    outcome, detail = _results(ParityCheck(), bundle)["recompute:parity"]
    assert outcome == "FAIL" and "reference/demo/results.json: sha256 differs" in detail
    ref_results.write_bytes(original)
    _edit(bundle / "eval/parity/results.json", lambda d: d["extra"]["parity"]["tasks"][0].update(agreement=0.5))
    outcome, detail = _results(ParityCheck(), bundle)["recompute:parity"]
    assert outcome == "FAIL" and "agreement" in detail
