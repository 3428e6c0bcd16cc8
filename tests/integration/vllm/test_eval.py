"""``benchseal eval run demo`` through vLLM: ``--backend openai`` against the session's vLLM server (the
multiple-choice task scored from prompt logprobs of ``/v1/completions``) and ``--backend vllm`` (lm-eval's
vllm model on the offline engine, in the vLLM environment). Both score the multiple-choice and the
generation task; they agree with each other and with lm-eval run directly (no benchseal in between)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.vllm import ENGINE_ARGS, SERVED_NAME, VLLM_ENV

REPO = Path(__file__).resolve().parents[3]
MC, GEN = "benchseal_demo_mc", "benchseal_demo_gen"


def _samples(eval_dir: Path, task: str) -> dict[int, dict]:
    return {s["doc_id"]: s for s in map(json.loads, (eval_dir / f"samples_{task}.jsonl").read_text().splitlines())}


def _headline(report: dict) -> dict[str, dict]:
    return {r["task"]: r for r in report["results"] if r["headline"]}


@pytest.fixture(scope="module")
def openai_eval(vllm_server, tiny_llama_vllm, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-openai")
    res = subprocess.run([sys.executable, "-m", "benchseal", "eval", "run", "demo", "--backend", "openai",
                          "--base-url", vllm_server.base_url + "/v1", "--model", SERVED_NAME, "--tokenizer", str(tiny_llama_vllm),
                          "--out", str(out), "--json"], capture_output=True, text=True, timeout=900,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout), out / "eval" / "demo"


@pytest.fixture(scope="module")
def vllm_eval(run_in_vllm_env, tiny_llama_vllm, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval-vllm")
    res = run_in_vllm_env("-m", "benchseal", "eval", "run", "demo", "--backend", "vllm", "--model", tiny_llama_vllm,
                          *ENGINE_ARGS, "--out", out, "--json")
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout), out / "eval" / "demo"


def test_both_backends_score_both_tasks_and_agree(openai_eval, vllm_eval):
    (rep_o, dir_o), (rep_v, dir_v) = openai_eval, vllm_eval
    ho, hv = _headline(rep_o), _headline(rep_v)
    assert set(ho) == set(hv) == {MC, GEN}
    assert ho[MC]["n"] == hv[MC]["n"] == 16 and ho[GEN]["n"] == hv[GEN]["n"] == 12
    args_o = rep_o["protocol"]["tasks"]
    assert args_o[MC]["lm_eval_model"] == "local-completions" and rep_v["protocol"]["tasks"][MC]["lm_eval_model"] == "vllm"
    # multiple choice: the same loglikelihood per choice, from the server's prompt logprobs and from the engine
    so, sv = _samples(dir_o, MC), _samples(dir_v, MC)
    assert so.keys() == sv.keys() and len(so) == 16
    for doc, s in so.items():
        lo = [ll for ll, _ in s["filtered_resps"]]
        lv = [ll for ll, _ in sv[doc]["filtered_resps"]]
        assert lo == pytest.approx(lv, abs=1e-3), doc
        assert all(ll < 0 for ll in lo)
    assert ho[MC]["value"] == hv[MC]["value"]


def test_engine_generations_match_the_server(vllm_server, vllm_eval):
    """The generation task through the engine (plain prompts, greedy) gives the same text as the server's
    ``/v1/completions`` for the same prompts and stop strings."""
    _, dir_v = vllm_eval
    for doc, s in _samples(dir_v, GEN).items():
        prompt, kw = s["arguments"][0]
        body = {"model": SERVED_NAME, "prompt": prompt, "max_tokens": kw["max_gen_toks"], "temperature": 0.0,
                "stop": kw["until"], "seed": 1234}
        req = urllib.request.Request(vllm_server.base_url + "/v1/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        text = json.loads(urllib.request.urlopen(req, timeout=120).read())["choices"][0]["text"]
        assert text == s["resps"][0][0], doc


def test_lm_eval_directly_agrees_with_the_openai_backend(vllm_server, tiny_llama_vllm, openai_eval):
    """lm-eval's own local-completions / local-chat-completions models on the tasks benchseal rendered give
    the same per-sample responses as ``benchseal eval run --backend openai``."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    rep_o, dir_o = openai_eval
    tm = TaskManager(include_path=str(dir_o / "tasks"), include_defaults=False)
    common = {"model": SERVED_NAME, "num_concurrent": 1, "max_retries": 3, "seed": 1234}
    direct = {}
    for task, model, args, shots, chat in (
        (MC, "local-completions", {"base_url": vllm_server.base_url + "/v1/completions", "tokenizer_backend": "huggingface",
                                   "tokenizer": str(tiny_llama_vllm)}, 2, False),
        (GEN, "local-chat-completions", {"base_url": vllm_server.base_url + "/v1/chat/completions"}, 1, True),
    ):
        res = lm_eval.simple_evaluate(model=model, model_args={**common, **args}, tasks=[task], num_fewshot=shots,
                                      task_manager=tm, log_samples=True, apply_chat_template=chat, fewshot_as_multiturn=False,
                                      random_seed=1234, numpy_random_seed=1234, torch_random_seed=1234,
                                      fewshot_random_seed=1234, bootstrap_iters=0)
        direct[task] = ({s["doc_id"]: s for s in res["samples"][task]}, res["results"][task])
    for task, metric in ((MC, "acc,none"), (GEN, "exact_match,first-number")):
        samples, results = direct[task]
        ours = _samples(dir_o, task)
        assert samples.keys() == ours.keys()
        for doc, s in samples.items():
            assert json.loads(json.dumps(s["arguments"])) == ours[doc]["arguments"], (task, doc)  # the same prompts
            assert json.loads(json.dumps(s["filtered_resps"])) == ours[doc]["filtered_resps"], (task, doc)
        assert results[metric] == _headline(rep_o)[task]["value"]
