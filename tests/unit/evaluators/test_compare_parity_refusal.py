"""Peer comparison (domestic-leading rule), parity (99% rule + per-sample agreement), refusal banks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchseal.errors import ExitCode
from benchseal.evaluators import compare, is_refusal, load_peers, load_rules, parity
from benchseal.evaluators.refusal import rates
from benchseal.io import iter_jsonl, read_json, write_json
from benchseal.schema import EvalResult


def _res(bench: str, value: float, shots: int, label: str = "base-ppl") -> EvalResult:
    return EvalResult(suite="s", task=bench.lower(), metric="acc", value=value, num_fewshot=shots,
                      benchmark=bench, headline=True, protocol_label=label)


def test_peer_tables_cite_sources():
    tables = load_peers()
    rows = [r for t in tables for r in t.rows]
    assert len(rows) >= 50 and {r.origin for r in rows} == {"domestic", "foreign"}
    assert all(r.source.startswith("https://") and 0 < r.score <= 100 for r in rows)
    ds = {(r.model, r.benchmark): r for r in rows if "DeepSeek-V3" in r.source}
    assert ds[("DeepSeek-V3-Base", "MMLU")].score == 87.1 and ds[("Qwen2.5-72B-Base", "CMMLU")].score == 89.5


def test_published_rows_without_fingerprint_are_context_only():
    """The shipped vendor rows were measured with the vendors' own prompts: none decides, and the
    comparison is INCONCLUSIVE instead of a bare >= on point estimates (a 0.4-point 'lead' is no lead)."""
    peers = load_peers()
    table = compare([_res("MMLU", 0.875, 5), _res("CMMLU", 0.80, 5), _res("GSM8K", 0.95, 4, "base-gen")], peers,
                    candidate_name="cand")
    lead = {v.benchmark: v for v in table.leading}
    assert lead["MMLU"].leading is None and lead["MMLU"].rows_used == []
    assert any("DeepSeek-V3-Base" in r and "no protocol fingerprint" in r for r in lead["MMLU"].rows_excluded)
    assert table.domestic_leading is None and table.decision is not None
    assert table.decision.summary == "led on 0 of 3, tied on 0, behind on 0, undecided on 3"
    assert all(not r.comparable for r in table.rows if r.origin != "candidate")
    cand = [r for r in table.rows if r.origin == "candidate"]
    assert [r.score for r in cand] == [87.5, 80.0, 95.0]


def test_refusal_rules_zh_en():
    rules = load_rules()
    assert is_refusal("I'm sorry, but I can't help with that request.", rules)
    assert is_refusal("抱歉，我无法提供这方面的帮助。", rules) == "zh-cannot"
    assert is_refusal("这违反相关法律法规，我必须拒绝。", rules)
    assert is_refusal("", rules) is None  # an empty reply is an error, not a refusal
    assert is_refusal("The capital of France is Paris.", rules) is None
    assert is_refusal("北京是中国的首都。", rules) is None
    assert is_refusal("x" * 400 + " I cannot help with that", rules) is None  # outside the window
    r = rates({"should_refuse": [True, True, False, True], "should_answer": [False, True, False, False, False]})
    assert [(x.metric, x.value, x.n) for x in r] == [("refusal_rate_should_refuse", 0.75, 4), ("over_refusal_rate", 0.2, 5)]




def test_openai_backend_never_records_the_key(tiny_llama: Path, monkeypatch: pytest.MonkeyPatch):
    from benchseal.errors import UsageError
    from benchseal.evaluators.backends import BackendOptions, api_root, build_lms

    assert api_root("http://h:8000") == api_root("http://h:8000/v1/") == api_root("http://h:8000/v1/completions") == "http://h:8000/v1"
    with pytest.raises(UsageError, match="--base-url"):
        build_lms("openai", BackendOptions(model="m"), {"generate"})
    with pytest.raises(UsageError, match="BENCHSEAL_TEST_KEY"):
        build_lms("openai", BackendOptions(model="m", base_url="http://127.0.0.1:9", api_key_env="BENCHSEAL_TEST_KEY"), {"generate"})
    monkeypatch.setenv("BENCHSEAL_TEST_KEY", "sk-secret-123")
    probed = []  # no server here: the prompt-logprobs probe is tested against servers in the integration tier
    monkeypatch.setattr("benchseal.evaluators.backends.probe_prompt_logprobs", lambda *a, **k: probed.append(a))
    lms = build_lms("openai", BackendOptions(model="m", base_url="http://127.0.0.1:9/v1", api_key_env="BENCHSEAL_TEST_KEY",
                                             tokenizer=str(tiny_llama)), {"generate", "loglikelihood"})
    assert lms["loglikelihood"].lm_eval_model == "local-completions"
    assert lms["generate"].lm_eval_model == "local-chat-completions" and lms["generate"].force_chat_template
    assert lms["loglikelihood"].recorded_args["base_url"] == "http://127.0.0.1:9/v1/completions"
    assert "sk-secret-123" not in json.dumps([x.recorded_args for x in lms.values()])
    assert lms["generate"].lm.header["Authorization"] == "Bearer sk-secret-123"
    assert probed == [("http://127.0.0.1:9/v1/completions", "m", {"Authorization": "Bearer sk-secret-123"})]


def test_parity_agreement_covers_every_subtask_of_a_group(tmp_path: Path):
    """MMLU-like groups: lm-eval writes one samples file per subtask; agreement counts them all."""
    from benchseal.schema import EvalReport

    def run(name: str, flip: bool) -> Path:
        d = tmp_path / name
        d.mkdir()
        res = EvalResult(suite="g", task="grp", metric="acc", value=0.5, num_fewshot=5, headline=True)
        write_json(d / "results.json", EvalReport(suite="g", backend="hf", model=name, claim_grade=True, results=[res]))
        write_json(d / "lm_eval_results.json", {"group_subtasks": {"grp": ["grp_a", "grp_b"]}, "higher_is_better": {}})
        for leaf in ("grp_a", "grp_b"):
            rows = [{"doc_id": i, "doc_hash": f"{leaf}{i}", "filter": "none",
                     "filtered_resps": [[-1.0, False], [-2.0, False]] if not (flip and leaf == "grp_b" and i == 0) else [[-2.0, False], [-1.0, False]]}
                    for i in range(3)]
            (d / f"samples_{leaf}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return d

    rep = parity(run("ref", False), run("cand", True))
    (t,) = rep.tasks
    assert t.compared == 6 and t.agree == 5 and t.agreement == pytest.approx(5 / 6)
