"""benchseal eval run: real lm-eval (hf backend) on the demo suite with the tiny llama model.

The central check: the numbers benchseal writes are identical to lm-eval's own simple_evaluate on
the same inputs (same rendered tasks, model, shots, seeds), and results.json is re-derivable from
lm_eval_results.json with the pure results_from_lm_eval.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchseal.evaluators import load_suite, results_from_lm_eval
from benchseal.io import iter_jsonl, read_json
from benchseal.schema import EvalReport



def test_numbers_identical_to_simple_evaluate(demo_dir: Path, tiny_llama: Path):
    import lm_eval
    from lm_eval.tasks import TaskManager

    report = EvalReport.model_validate(read_json(demo_dir / "results.json"))
    suite = load_suite("demo")
    p = suite.protocol
    tm = TaskManager(include_path=str(demo_dir / "tasks"), include_defaults=False)
    checked = 0
    for t in suite.tasks:  # lm-eval's own entry point, its own model construction, one task at a time
        raw = lm_eval.simple_evaluate(
            model="hf", model_args={"pretrained": str(tiny_llama)}, tasks=[t.task], num_fewshot=t.num_fewshot,
            batch_size=1, device="cpu", log_samples=True, apply_chat_template=False, fewshot_as_multiturn=False,
            task_manager=tm, random_seed=p.seed, numpy_random_seed=p.seed, torch_random_seed=p.seed,
            fewshot_random_seed=p.seed, bootstrap_iters=p.bootstrap_iters,
        )
        res = raw["results"][t.task]
        ours = [r for r in report.results if r.task == t.task]
        assert {f"{r.metric},{r.filter}" for r in ours} == {k for k in res if "," in k and "_stderr" not in k}
        for r in ours:
            assert r.value == res[f"{r.metric},{r.filter}"]
            assert r.stderr == res[f"{r.metric}_stderr,{r.filter}"]
            assert r.n == raw["n-samples"][t.task]["effective"]
            checked += 1
        # per-sample: the same prompts, targets and responses
        theirs = {(s["doc_id"], s["filter"]): s for s in raw["samples"][t.task]}
        mine = list(iter_jsonl(demo_dir / f"samples_{t.task}.jsonl"))
        assert len(mine) == len(theirs) > 0
        for s in mine:
            o = theirs[(s["doc_id"], s["filter"])]
            assert (s["doc_hash"], s["prompt_hash"], s["target_hash"]) == (o["doc_hash"], o["prompt_hash"], o["target_hash"])
            assert json.dumps(s["filtered_resps"]) == json.dumps(o["filtered_resps"], default=float)
    assert checked == 3  # acc, acc_norm (mc) and exact_match (gen)


def test_results_rederived_from_raw(demo_dir: Path):
    report = EvalReport.model_validate(read_json(demo_dir / "results.json"))
    raw = read_json(demo_dir / "lm_eval_results.json")
    again = results_from_lm_eval(raw, suite=report.suite, limit=None, protocol=report.protocol)
    assert again == report.results
    # the function is pure and really reads the raw numbers
    raw["results"]["benchseal_demo_mc"]["acc,none"] = 0.75
    changed = results_from_lm_eval(raw, suite=report.suite, limit=None, protocol=report.protocol)
    assert [r.value for r in changed if r.metric == "acc"] == [0.75]


def test_bundle_contents(demo_dir: Path):
    import lm_eval  # noqa: F401  (version check below)
    from importlib.metadata import version

    report = EvalReport.model_validate(read_json(demo_dir / "results.json"))
    assert not report.claim_grade  # the demo suite demonstrates the pipeline and backs no claim
    assert report.not_claim_grade_reasons == ["suite 'demo' is a demo suite: it demonstrates the pipeline and backs no claim"]
    assert all(r.fingerprint and r.fingerprint["data_manifest_sha256"] == report.data_manifest_sha256 for r in report.results if r.headline)
    assert report.lm_eval_version == version("lm_eval") == "0.4.13"
    assert report.model_digest == "sha256:test"
    manifest = read_json(demo_dir / "manifest.json")
    assert report.data_manifest_sha256 == manifest["sha256"]
    assert set(manifest["datasets"]) == {"demo_mc", "demo_gen"}
    heads = {r.task: r for r in report.results if r.headline}
    assert heads["benchseal_demo_mc"].metric == "acc" and heads["benchseal_demo_mc"].num_fewshot == 2
    assert heads["benchseal_demo_gen"].metric == "exact_match" and heads["benchseal_demo_gen"].num_fewshot == 1
    assert heads["benchseal_demo_mc"].n == 16 and heads["benchseal_demo_gen"].n == 12
    assert all(r.task_version == "1.0" and r.protocol_label in ("base-ppl", "base-gen") for r in heads.values())
    assert report.protocol["fewshot_as_multiturn"] is False and report.protocol["seed"] == 1234
    for task in heads:
        first = next(iter_jsonl(demo_dir / f"samples_{task}.jsonl"))
        assert {"doc_hash", "prompt_hash", "target_hash", "resps", "filtered_resps"} <= set(first)
    raw = read_json(demo_dir / "lm_eval_results.json")
    assert "samples" not in raw and raw["versions"] == {"benchseal_demo_mc": 1.0, "benchseal_demo_gen": 1.0}
    rendered = (demo_dir / "tasks" / "local-tasks_demo" / "demo_mc.yaml").read_text()
    assert "${BENCHSEAL_DATA_DIR}" not in rendered and "demo_mc/test.jsonl" in rendered


def test_limit_marks_not_claim_grade(run_cli, tiny_llama: Path, tmp_path: Path):
    code, out, err = run_cli("eval", "run", "demo", "--model", tiny_llama, "--device", "cpu",
                             "--out", tmp_path, "--limit", "3", "--json")
    assert code == 0, err
    report = EvalReport.model_validate(json.loads(out))  # stdout is only JSON
    assert not report.claim_grade
    assert any("--limit 3" in r for r in report.not_claim_grade_reasons)
    assert {r.n for r in report.results} == {3} and {r.limit for r in report.results} == {3.0}
    assert (tmp_path / "eval" / "demo" / "results.json").is_file()
    # the comparison travels with the results: the shipped tables have no demo rows, so nothing decides
    snapshot = read_json(tmp_path / "eval" / "demo" / "peers.json")
    from benchseal.config import config_files

    shipped = {f"configs/peers/{p.name}" for p in config_files("peers")}  # the base tables (chat/ is not read by default)
    assert {"configs/peers/deepseek-v3-base.yaml", "configs/peers/qwen3-base.yaml"} <= shipped
    assert {t["file"] for t in snapshot["tables"]} == shipped
    assert all(t["rows"] == [] and t["rows_in_source"] > 0 for t in snapshot["tables"])
    assert report.extra["comparison"]["domestic_leading"] is None
    assert {r["origin"] for r in report.extra["comparison"]["rows"]} == {"candidate"}
