"""Same-protocol comparisons: fingerprints, the paired test, the rule as program data, INCONCLUSIVE."""

from __future__ import annotations

import pytest

from benchseal.claims import check, load_program
from benchseal.evaluators import compare, load_peers
from benchseal.evaluators.fingerprint import differences, fingerprint
from benchseal.evaluators.paired import histogram, paired_test
from benchseal.evaluators.peers import MeasuredPeer, decide
from benchseal.schema import ComparisonRule, EvalReport, EvalResult

RAW = {  # the parts of lm-eval's results dict a fingerprint reads (as lm_eval_results.json stores them)
    "lm_eval_version": "0.4.13",
    "versions": {"arc_challenge": 1.0},
    "n-shot": {"arc_challenge": 25},
    "configs": {"arc_challenge": {"task": "arc_challenge", "dataset_path": "/data/x", "dataset_name": "ARC-Challenge",
                                  "test_split": "test", "doc_to_text": "Question: {{question}}\nAnswer:",
                                  "doc_to_choice": "{{choices.text}}", "output_type": "multiple_choice",
                                  "fewshot_config": {"sampler": "first_n"}, "metric_list": [{"metric": "acc_norm"}]}},
}
PROTO = {"apply_chat_template": False, "fewshot_as_multiturn": False, "data_manifest_sha256": "ab" * 32, "gen_kwargs": None}


def _fp(**over):
    raw = {**RAW, "configs": {"arc_challenge": {**RAW["configs"]["arc_challenge"], **over.pop("cfg", {})}}}
    return fingerprint(raw, "arc_challenge", metric="acc_norm", filt="none", protocol={**PROTO, **over})


def _arc(value: float, fp=None, n=1172) -> EvalResult:
    return EvalResult(suite="arc-challenge", task="arc_challenge", metric="acc_norm", value=value, stderr=0.013, n=n,
                      num_fewshot=25, benchmark="ARC-Challenge", headline=True, protocol_label="base-ppl",
                      fingerprint=fp or _fp())


def _items(n: int, right: int, offset: int = 0) -> dict[str, float]:
    return {f"arc_challenge/{i}/h{i}": float(offset <= i < offset + right) for i in range(n)}


SIGNED = {"verified": True, "keyid": "peer-key", "public_key_sha256": "5e" * 32}  # reports.verify.reference


def _peer(model: str, origin: str, value: float, items: dict[str, float], fp=None, claim_grade=True, signed=True) -> MeasuredPeer:
    rep = EvalReport(suite="arc-challenge", backend="hf", model=model, claim_grade=claim_grade,
                     not_claim_grade_reasons=[] if claim_grade else ["run with --limit 10"],
                     results=[_arc(value, fp)], extra={"identity": {"origin": origin, "origin_note": "test"}})
    return MeasuredPeer(report=rep, items={("arc_challenge", "acc_norm", "none"): items}, run_dir=f"eval/arc-challenge/peer_runs/{model}",
                        signature=dict(SIGNED) if signed else None)


def test_fingerprint_is_machine_independent_and_names_differences():
    a = _fp()
    assert a["task_version"] == "1.0" and a["num_fewshot"] == 25 and a["split"] == "test" and a["fewshot_sampler"] == "first_n"
    assert _fp(cfg={"dataset_path": "/elsewhere"}) == a  # the local data path is not part of the protocol
    assert _fp(cfg={"doc_to_text": "<function f at 0x7f00>"})["sha256"] == _fp(cfg={"doc_to_text": "<function f at 0x1234>"})["sha256"]
    b = _fp(cfg={"doc_to_text": "Q: {{question}}\nA) … Answer with the letter:"}, apply_chat_template=True)
    why = differences(a, b)
    assert any(w.startswith("prompt_template_sha256") for w in why) and any(w.startswith("apply_chat_template") for w in why)
    assert any(w.startswith("data_manifest_sha256") for w in differences(a, _fp(data_manifest_sha256="cd" * 32)))


def test_shipped_deepseek_rows_are_not_comparable_and_songjiang_is_inconclusive():
    """(a) DeepSeek-V3's ARC-Challenge rows (lettered multiple choice, DeepSeek's framework) next to lm-eval's
    arc_challenge (cloze, acc_norm): not comparable, and the domestic-leading claim is INCONCLUSIVE."""
    table = compare([_arc(0.953)], load_peers(), candidate_name="cand")
    ds = [r for r in table.rows if r.model.startswith("DeepSeek") and r.benchmark == "ARC-Challenge"]
    assert ds and all(not r.comparable and "no protocol fingerprint" in r.reason for r in ds)
    assert table.domestic_leading is None
    report = EvalReport(suite="songjiang-core", backend="hf", model="cand", claim_grade=True, results=[_arc(0.953)],
                        extra={"comparison": table.model_dump(mode="json")})
    evidence = {"run": {"status": "complete", "stages": {"eval": {"status": "complete"}}},
                "model": {"params": {"total": 200_000_000_000}}, "eval": {"songjiang-core": report.model_dump(mode="json")}}
    verdict = {v.claim_id: v for v in check(load_program("songjiang-2025"), evidence).verdicts}["domestic-leading"]
    assert verdict.status == "INCONCLUSIVE"
    assert "ARC-Challenge: 0 comparable domestic peer(s)" in verdict.reason and "DeepSeek-V3-Base (published)" in verdict.reason
    assert "led on 0 of 1" in verdict.reason
    # a program that lists more benchmarks than were run: every listed one must be decided
    listed = decide(table, ComparisonRule(benchmarks=["ARC-Challenge", "MMLU"]))
    assert listed.value is None and "MMLU: the candidate has no result for it" in listed.reasons


def test_paired_test_tie_lead_behind():
    """(b) 0.4 points on 500 shared items is a tie; a large gap is a lead (or behind) with its interval."""
    hist, only = histogram(_items(500, 302), _items(500, 300, offset=12))  # 12 items only the candidate, 10 only the peer
    assert only == 0 and sum(c for _, c in hist) == 500
    r = paired_test(hist)
    assert hist == [[-1.0, 10], [0.0, 478], [1.0, 12]]
    assert r.diff_pp == pytest.approx(0.4) and r.outcome == "tie" and r.ci_low_pp < 0 < r.ci_high_pp
    assert r == paired_test(hist)  # seeded: reproducible
    lead = paired_test(histogram(_items(500, 350), _items(500, 300))[0])
    assert lead.outcome == "lead" and lead.ci_low_pp > 0 and lead.diff_pp == pytest.approx(10.0)
    assert paired_test(histogram(_items(500, 300), _items(500, 350))[0]).outcome == "behind"
    mc = paired_test(histogram(_items(500, 350), _items(500, 300))[0], method="mcnemar")
    assert mc.outcome == "lead" and mc.p_value < 0.001
    assert paired_test(hist, method="mcnemar").outcome == "tie"
    assert paired_test([]) is None


def test_measured_peers_decide_under_the_rule():
    cand = {("arc_challenge", "acc_norm", "none"): _items(500, 350)}
    peers = [_peer("qwen-like", "domestic", 0.60, _items(500, 300)),
             _peer("llama-like", "foreign", 0.80, _items(500, 400)),
             _peer("other-proto", "domestic", 0.99, _items(500, 495), fp=_fp(apply_chat_template=True))]
    table = compare([_arc(0.70, n=500)], [], candidate_name="cand", candidate_items=cand, measured=peers)
    assert table.domestic_leading is True  # ahead of the one comparable domestic peer; the foreign one does not count
    pcs = {p.peer: p for p in table.paired}
    assert pcs["qwen-like"].result.outcome == "lead" and pcs["qwen-like"].n_shared == 500
    assert not pcs["other-proto"].comparable and "apply_chat_template" in pcs["other-proto"].reason
    assert table.decision.summary == "led on 1 of 1, tied on 0, behind on 0"
    # the rule is data: counting foreign peers too makes it a loss; a 15-point margin makes it a tie
    assert decide(table, ComparisonRule(peer_origin="any")).value is False
    tie = decide(table, ComparisonRule(margin_pp=15.0))
    assert tie.value is False and tie.summary == "led on 0 of 1, tied on 1, behind on 0"
    # a listed benchmark without a comparable peer: INCONCLUSIVE, never a silent PASS
    undecided = decide(table, ComparisonRule(benchmarks=["ARC-Challenge", "MMLU"]))
    assert undecided.value is None and any(r.startswith("MMLU") for r in undecided.reasons)
    # a peer that scored other items (a subset) does not count
    bad = compare([_arc(0.70, n=500)], [], candidate_name="cand", candidate_items=cand,
                  measured=[_peer("qwen-like", "domestic", 0.60, dict(list(_items(500, 300).items())[:400]))])
    assert bad.domestic_leading is None and "100 item(s) only one of them has" in bad.paired[0].reason


def test_published_row_with_equal_fingerprint_counts():
    from benchseal.evaluators.peers import PeerRow

    row = PeerRow(model="P", origin="domestic", benchmark="ARC-Challenge", metric="acc_norm", score=60.0, shots=25,
                  protocol="base-ppl", source="https://example.org/run", fingerprint=_fp())
    table = compare([_arc(0.70)], [row], candidate_name="cand")
    assert table.rows[1].comparable and table.paired[0].result.method == "unpaired" and table.domestic_leading is True
