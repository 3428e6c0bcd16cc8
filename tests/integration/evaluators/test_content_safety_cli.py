"""`benchseal eval content-safety` end to end: the tiny model generates, a local OpenAI-compatible server
plays the judge, and the Chengdu program reads the result."""

from __future__ import annotations

import json
from pathlib import Path

from benchseal.claims import check_claim, evidence_from_dict, load_program
from benchseal.evaluators.content_safety import all_risks
from benchseal.io import iter_jsonl, read_json
from tests.helpers.judge_server import JudgeServer


def _bank(path: Path, n: int) -> Path:
    risks = all_risks()
    path.write_text("".join(json.dumps({"id": f"c{i}", "prompt": f"请回答第{i}个问题：{risks[i % 31]}",
                                        "category": risks[i % 31]}, ensure_ascii=False) + "\n" for i in range(n)))
    return path


def _verdict(bundle: Path):
    claim = load_program("chengdu-2025").claim("safety-content")
    data = {"run": {"status": "complete"}, "eval": {"content-safety": read_json(bundle / "eval/content-safety/results.json")}}
    return check_claim(claim, evidence_from_dict(data))


def test_judged_run_stores_every_item_and_a_small_bank_is_not_claim_grade(run_cli, tiny_llama: Path, tmp_path: Path):
    bank = _bank(tmp_path / "bank.jsonl", 62)
    with JudgeServer() as srv:
        code, out, err = run_cli("eval", "content-safety", "--model", tiny_llama, "--device", "cpu", "--out", tmp_path / "b",
                                 "--bank", bank, "--sample", "12", "--seed", "5", "--max-gen-toks", "4",
                                 "--judge-base-url", srv.url, "--judge-model", "judge-7b", "--json")
        asked = len(srv.requests)
    assert code == 0, err
    rep = json.loads(out)
    samples = list(iter_jsonl(tmp_path / "b/eval/content-safety/samples_content.jsonl"))
    assert len(samples) == 12 and rep["extra"]["sample_size"] == 12 and rep["extra"]["bank_size"] == 62
    for s in samples:  # every item: prompt, reply, decision, decider and the judge's raw answer (or why not)
        assert s["prompt"] and s["category"] in all_risks()
        if s["response"].strip():
            assert s["decider"] == "judge" and s["judge"]["raw"] == s["decision"].upper()
        else:
            assert s["decision"] == "error" and s["error"] == "empty reply" and s["judge"] is None
    assert asked == sum(1 for s in samples if s["response"].strip())
    decided = [s for s in samples if s["decision"] in ("safe", "unsafe")]
    if decided:
        res = rep["results"][0]
        assert res["metric"] == "content_pass_rate" and res["n"] == len(decided)
        assert res["value"] == sum(s["decision"] == "safe" for s in decided) / len(decided)
    assert rep["extra"]["judge"] == {"endpoint": srv.url + "/chat/completions", "model": "judge-7b",
                                     "prompt": rep["extra"]["judge"]["prompt"], "temperature": 0, "kind": "content"}
    assert rep["protocol"]["sample"] == 12 and rep["protocol"]["sample_seed"] == 5
    assert not rep["claim_grade"] and any("holds 62 questions" in r for r in rep["not_claim_grade_reasons"])
    v = _verdict(tmp_path / "b")
    assert v.status == "INCONCLUSIVE" and "TC260-003 §8.2 asks for at least 2000" in v.reason
    _verify_rederives_and_catches_tampering(tmp_path / "b")


def _verify_rederives_and_catches_tampering(bundle: Path) -> None:
    """verify's recompute:content-safety re-derives the stored result, and fails on an edited decision."""
    from benchseal.reports.verify.recompute import ContentSafetyCheck
    from tests.unit.evaluators.test_stage import _results

    outcome, detail = _results(ContentSafetyCheck(), bundle)["recompute:content-safety"]
    assert outcome == "PASS", detail
    path = bundle / "eval/content-safety/samples_content.jsonl"
    rows = list(iter_jsonl(path))
    judged = next(i for i, r in enumerate(rows) if r["decision"] in ("safe", "unsafe"))
    flipped = {"safe": "unsafe", "unsafe": "safe"}[rows[judged]["decision"]]
    rows[judged]["decision"] = flipped  # the judge said otherwise
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    outcome, detail = _results(ContentSafetyCheck(), bundle)["recompute:content-safety"]
    assert outcome == "FAIL" and f"sample {judged}" in detail
    rows[judged]["judge"]["decision"] = flipped  # ... and the judge record edited to match: the rate no longer does
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    outcome, detail = _results(ContentSafetyCheck(), bundle)["recompute:content-safety"]
    assert outcome == "FAIL", detail


def test_rules_only_run_is_inconclusive_under_chengdu(run_cli, tiny_llama: Path, tmp_path: Path):
    bank = _bank(tmp_path / "bank.jsonl", 31)
    code, out, err = run_cli("eval", "content-safety", "--model", tiny_llama, "--device", "cpu", "--out", tmp_path / "b",
                             "--bank", bank, "--sample", "6", "--max-gen-toks", "4")
    assert code == 0, err
    text = " ".join(out.split())  # the console wraps long lines
    assert "NOT claim-grade" in text and "rules cannot decide content safety" in text
    samples = list(iter_jsonl(tmp_path / "b/eval/content-safety/samples_content.jsonl"))
    assert {s["decision"] for s in samples} <= {"review", "error"} and all(s["decider"] is None for s in samples)
    v = _verdict(tmp_path / "b")
    assert v.status == "INCONCLUSIVE" and v.reason.startswith("judged by rules only; the program requires a judge model; and "
                                             "eval suite 'content-safety' is not claim-grade")
    assert "rules cannot decide content safety" in v.reason  # every reason at once


def test_judge_failing_mid_run_via_the_cli(run_cli, tiny_llama: Path, tmp_path: Path):
    bank = _bank(tmp_path / "bank.jsonl", 31)
    with JudgeServer(fail_after=2) as srv:
        code, out, err = run_cli("eval", "content-safety", "--model", tiny_llama, "--device", "cpu", "--out", tmp_path / "b",
                                 "--bank", bank, "--sample", "10", "--max-gen-toks", "4", "--max-judge-errors", "2",
                                 "--judge-base-url", srv.url, "--judge-model", "j", "--json")
    assert code == 0, err
    rep = json.loads(out)
    samples = list(iter_jsonl(tmp_path / "b/eval/content-safety/samples_content.jsonl"))
    assert len(samples) == 10  # every reply is kept
    judged = [s for s in samples if s["decider"] == "judge"]
    assert len(judged) <= 2 and rep["extra"]["counts"]["n"] == len(judged)
    if sum(1 for s in samples if s["response"].strip()) > 4:  # enough replies for two failures in a row
        assert rep["extra"]["judge_stopped"] and any("judging stopped" in r for r in rep["not_claim_grade_reasons"])
    assert not rep["claim_grade"] and _verdict(tmp_path / "b").status == "INCONCLUSIVE"


def test_bad_input_is_one_sentence(run_cli, tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1"}\n')
    code, _, err = run_cli("eval", "content-safety", "--model", tmp_path, "--out", tmp_path / "b", "--bank", bad)
    assert code == 2 and "no 'prompt'" in err and "Traceback" not in err
    code, _, err = run_cli("eval", "content-safety", "--model", tmp_path, "--out", tmp_path / "b", "--bank", bad,
                           "--judge-model", "j")
    assert code == 2 and "--judge-base-url and --judge-model go together" in err
